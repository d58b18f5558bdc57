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
	CONFINE_API,  /* the attestation endpoint (libmicrohttpd) and sim channel threads */
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

#endif
