/* confine.h - cvmm confining itself (docs/security.md): one seccomp
 * allow-list per thread role, installed by each thread after set-up and
 * before the guest runs; the jail (namespaces, pivot_root, uid/gid, no
 * capabilities, rlimits, cgroup); SELinux/sVirt labels. */
#ifndef CVMM_VMM_CONFINE_H
#define CVMM_VMM_CONFINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---------------- seccomp (seccomp.c) ---------------- */
enum confine_role {
	CONFINE_VCPU, /* vCPU threads: KVM_RUN and the device exits they handle */
	CONFINE_VMM,  /* the main thread and the device event loop */
	CONFINE_API,  /* libmicrohttpd's (attestation endpoint, API socket) and sim channel threads */
	CONFINE_NROLES,
};

enum confine_seccomp_mode {
	CONFINE_SECCOMP_KILL, /* default: anything off the list kills the process */
	CONFINE_SECCOMP_LOG,  /* development: off-list calls are logged (audit) and allowed */
	CONFINE_SECCOMP_OFF,  /* no filter (with a warning) */
};

/* A role's allow-list, kept as data (seccomp.c). */
struct confine_ioctl {
	const char *name;
	uint32_t req;
};
struct confine_errno {
	const char *name;
	int err; /* answered with -err: neither allowed nor fatal */
};
struct confine_list {
	const char *role;
	const char *const *syscalls;  /* allowed (ioctl and prctl with argument checks) */
	size_t nsyscalls;
	const struct confine_ioctl *ioctls; /* ioctl: allowed request numbers (32-bit masked compare) */
	size_t nioctls;
	const struct confine_errno *errnos;
	size_t nerrnos;
	unsigned budget;              /* most syscalls the role may allow */
};
const struct confine_list *confine_seccomp_list(enum confine_role role);

/* "kill" (default), "log" or "off". */
int confine_seccomp_parse(const char *s, enum confine_seccomp_mode *mode);
const char *confine_seccomp_mode_name(enum confine_seccomp_mode mode);

/* Install role's filter on the calling thread only (threads it creates
 * later inherit it). Sets no_new_privs on the thread. */
int confine_seccomp_install(enum confine_role role, enum confine_seccomp_mode mode);

/* The process-wide mode used by confine_thread() (vmm_run sets it). */
void confine_seccomp_set_mode(enum confine_seccomp_mode mode);
enum confine_seccomp_mode confine_seccomp_get_mode(void);
/* Install role's filter on the calling thread with the process-wide mode;
 * on failure print one line and end the process (fail closed). For the
 * threads that have nobody to report to (event loop, sim channel). */
void confine_thread(enum confine_role role);

/* All roles as JSON: {"vcpu": {"syscalls": [...], "ioctls": ["0xae80", ...]}, ...} */
int confine_seccomp_dump(FILE *f);
/* `cvmm seccomp dump` */
int confine_cli_seccomp(int argc, char **argv);

/* ---------------- the jail (jail.c) ----------------
 * cvmm run --jail [DIR] --user UID:GID: a new mount, PID, IPC, UTS, cgroup
 * (and network, unless the guest has a tap or the attestation endpoint)
 * namespace; a tmpfs root at DIR holding only the guest's files (bind
 * mounts) and device nodes (made there, owned by the uid); pivot_root into
 * it; rlimits; a cgroup v2 leaf with limits; setgroups/setresgid/setresuid
 * to the unprivileged ids with every capability and the bounding set
 * dropped (libcap-ng); no_new_privs; then a user namespace of its own
 * that maps only UID and GID (its capabilities there dropped too);
 * Landlock where the kernel has it. */
#include <sys/types.h>

#define CONFINE_JAIL_MAX_FILES 16
#define CONFINE_JAIL_MAX_DEVS 4
struct confine_jail_file {
	const char *src;   /* host path */
	char name[32];     /* path inside the jail ("/kernel") */
	bool rw;
	bool create;       /* made (empty) on the host if missing, e.g. an output */
};
struct confine_jail {
	const char *dir;          /* jail root; NULL: /run/cvmm/jail/cvmm-PID (removed at exit) */
	uid_t uid;
	gid_t gid;
	bool new_net;             /* a network namespace of its own */
	struct confine_jail_file file[CONFINE_JAIL_MAX_FILES];
	unsigned nfiles;
	const char *dev[CONFINE_JAIL_MAX_DEVS]; /* "/dev/kvm", ... */
	unsigned ndevs;
	/* rlimits */
	uint64_t nofile, nproc, fsize;
	/* cgroup v2 (0: no limit); the leaf is made only where cgroup2 is mounted */
	const char *cgroup_root;  /* default /sys/fs/cgroup */
	uint64_t mem_max, pids_max;
	unsigned cpus;            /* cpu.max quota in CPUs */
	/* results */
	char root[256];           /* the jail root used */
	char cgroup[288];         /* the leaf, empty when none */
	bool landlock;            /* Landlock ruleset in force */
};
/* Add a file (name inside the jail is given); returns the inside path. */
const char *confine_jail_add_file(struct confine_jail *j, const char *src, const char *name, bool rw, bool create);
int confine_jail_add_dev(struct confine_jail *j, const char *dev);
/* "UID:GID" (numbers, not 0) */
int confine_jail_parse_user(const char *s, uid_t *uid, gid_t *gid);
/* The cgroup v2 limits as written to the leaf's files, for checks. */
int confine_cgroup_cpu_max(unsigned cpus, char *buf, size_t len);

/* In the calling process: namespaces (not PID), the root, pivot_root,
 * rlimits, ids, capabilities, no_new_privs, user namespace, Landlock. Used by
 * confine_jail_enter in its child; tested on its own in a child. */
int confine_jail_setup(struct confine_jail *j);

/* The whole jail: cgroup leaf, PID namespace (a fork: the child is the
 * namespace's init and goes on to run the guest, *in_child true); the
 * parent drops to the same ids, confines itself (seccomp "launcher"),
 * forwards SIGTERM/SIGINT/SIGHUP and ends with the child's status. */
int confine_jail_enter(struct confine_jail *j, bool *in_child);

/* ---------------- SELinux / sVirt (selinux.c) ----------------
 * As libvirt's sVirt does for QEMU: each guest gets a random MCS category
 * pair c1 < c2 in c0.c1023 that no other running cvmm guest holds; the VMM
 * runs as svirt_t:s0:c1,c2, its images are svirt_image_t:s0:c1,c2 and its
 * read-only boot files virt_content_t:s0; the original labels are kept in
 * the trusted.cvmm.selinux xattr and put back at exit (or at the next
 * launch that finds them, after a crash). */
enum confine_selinux_mode {
	CONFINE_SELINUX_PERMISSIVE, /* default: label where SELinux is on, say so where it is off */
	CONFINE_SELINUX_OFF,
	CONFINE_SELINUX_ENFORCING_REQUIRED, /* refuse to run unless SELinux is enforcing and labelling works */
};
int confine_selinux_parse(const char *s, enum confine_selinux_mode *mode);

#define CONFINE_MCS_MAX 1024 /* categories c0..c1023 */
#define CONFINE_SELINUX_XATTR "trusted.cvmm.selinux"
struct confine_mcs {
	unsigned c1, c2;
	int lock_fd; /* flock'd file DIR/c1.c2 while the guest runs */
};
/* A pair not held by a running guest (its lock file in dir is flock'd);
 * rnd: random 32-bit numbers (NULL: getrandom). */
int confine_mcs_alloc(const char *dir, uint32_t (*rnd)(void), struct confine_mcs *m);
void confine_mcs_release(const char *dir, struct confine_mcs *m);
/* "system_u:system_r:svirt_t:s0:c1,c2" and the image and content labels */
int confine_svirt_labels(const struct confine_mcs *m, char *proc, char *image, char *content, size_t len);

/* libselinux as called here; tests put a recording double in its place */
struct confine_selinux_ops {
	int (*is_enabled)(void);
	int (*getenforce)(void);
	int (*getfilecon)(const char *path, char **con);
	int (*setfilecon)(const char *path, const char *con);
	void (*freecon)(char *con);
	int (*setexeccon)(const char *con);
};
extern const struct confine_selinux_ops *confine_selinux_ops;
/* Label path, first keeping its label in the xattr (unless one is kept
 * already: a crashed run's); restore puts it back and drops the xattr. */
int confine_selinux_label_file(const char *path, const char *con);
int confine_selinux_restore_file(const char *path);

#define CONFINE_SVIRT_MAX_FILES 16
struct confine_svirt {
	enum confine_selinux_mode mode;
	const char *mcs_dir;            /* default /run/cvmm/mcs */
	const char *file[CONFINE_SVIRT_MAX_FILES];
	bool writable[CONFINE_SVIRT_MAX_FILES]; /* images: svirt_image_t; else virt_content_t */
	unsigned nfiles;
	/* results */
	bool active;                    /* labels applied */
	bool selinux_off;               /* SELinux disabled: said once the guest runs */
	struct confine_mcs mcs;
	char proc[128], image[128], content[128];
};
/* Check the mode against the host (SELinux off: ->selinux_off, reported by
 * cvmm run once the guest is launched, so that an input error stays one
 * line), allocate the pair, label the files, set the exec context. */
int confine_svirt_start(struct confine_svirt *s);
void confine_svirt_end(struct confine_svirt *s);
/* Labels applied: run cvmm again (argv: the whole command line) in a
 * child, in the exec context, passing the pair and its lock in CVMM_SVIRT;
 * this process stays as the launcher: confine_svirt_supervise, then it
 * ends with the child's status. Returns only on failure. */
int confine_svirt_exec(struct confine_svirt *s, char **argv);
/* Forward SIGTERM/SIGINT/SIGHUP to pid, wait for it, put the labels back
 * and release the pair however it ended (a crash too); its exit status
 * (128 + signal when killed). */
int confine_svirt_supervise(struct confine_svirt *s, pid_t pid);
/* In the process confine_svirt_exec started: take over the pair's labels
 * (for messages; the launcher restores); false when not started that way. */
bool confine_svirt_resume(struct confine_svirt *s);

#endif
