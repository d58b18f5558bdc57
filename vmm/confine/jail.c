/* jail.c - cvmm run --jail [DIR] --user UID:GID (confine.h): what
 * Firecracker's jailer does for its VMM, inside cvmm itself. The order
 * matters: the cgroup leaf and the PID namespace first (in the launcher),
 * then in the child: private mounts, the tmpfs root with bind mounts and
 * device nodes, pivot_root, rlimits, ids and capabilities (libcap-ng:
 * setgroups, setresgid, setresuid, bounding set cleared), no_new_privs,
 * a user namespace mapping only those ids, Landlock. The seccomp filters come later, per thread (seccomp.c), once
 * the VM is set up. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cap-ng.h>
#include <linux/landlock.h>
#include <seccomp.h>

#include "common/common.h"
#include "vmm/confine/confine.h"

#define CGROUP2_MAGIC 0x63677270

const char *confine_jail_add_file(struct confine_jail *j, const char *src, const char *name, bool rw, bool create)
{
	struct confine_jail_file *f;

	if (!src || j->nfiles == CONFINE_JAIL_MAX_FILES)
		return NULL;
	f = &j->file[j->nfiles++];
	f->src = src;
	snprintf(f->name, sizeof(f->name), "/%s", name);
	f->rw = rw;
	f->create = create;
	return f->name;
}

int confine_jail_add_dev(struct confine_jail *j, const char *dev)
{
	if (j->ndevs == CONFINE_JAIL_MAX_DEVS)
		return err_set(ENOSPC, "--jail: too many devices");
	j->dev[j->ndevs++] = dev;
	return 0;
}

int confine_jail_parse_user(const char *s, uid_t *uid, gid_t *gid)
{
	unsigned long u, g;
	char *end;

	errno = 0;
	u = strtoul(s, &end, 10);
	if (end == s || *end != ':' || errno)
		return err_set(EINVAL, "--user %s: expected UID:GID", s);
	s = end + 1;
	g = strtoul(s, &end, 10);
	if (end == s || *end || errno)
		return err_set(EINVAL, "--user %s: expected UID:GID", s);
	if (u == 0 || g == 0 || u >= UINT32_MAX || g >= UINT32_MAX)
		return err_set(EINVAL, "--user: uid and gid must be unprivileged (not 0)");
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

int confine_cgroup_cpu_max(unsigned cpus, char *buf, size_t len)
{
	if (!cpus)
		return snprintf(buf, len, "max 100000") < (int)len ? 0 : -ENOSPC;
	return snprintf(buf, len, "%llu 100000", (unsigned long long)cpus * 100000ull) < (int)len ? 0 : -ENOSPC;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	int e = n < 0 ? -errno : 0;
	close(fd);
	return e;
}

/* ---- cgroup v2 leaf (in the launcher, before the PID namespace) ----
 * The launcher drops to the guest's uid and stays in its leaf until it
 * ends, so it cannot remove the leaf itself: each jailed launch removes
 * the leaves of launchers that have ended (their PID is gone and the leaf
 * is empty; rmdir of a populated cgroup fails with EBUSY, so a live guest's
 * leaf is never touched). */
static void sweep_leaves(const char *parent)
{
	DIR *d = opendir(parent);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end, path[512];
		long pid;

		if (strncmp(e->d_name, "cvmm-", 5))
			continue;
		errno = 0;
		pid = strtol(e->d_name + 5, &end, 10);
		if (*end || errno || pid <= 0 || pid == getpid() || !(kill((pid_t)pid, 0) && errno == ESRCH))
			continue;
		snprintf(path, sizeof(path), "%.250s/%.250s", parent, e->d_name);
		(void)rmdir(path);
	}
	closedir(d);
}

static int cgroup_leaf(struct confine_jail *j)
{
	const char *root = j->cgroup_root ? j->cgroup_root : "/sys/fs/cgroup";
	bool want = j->mem_max || j->pids_max || j->cpus;
	char parent[256], path[288], f[320], val[64];
	struct statfs sf;
	int e;

	j->cgroup[0] = 0;
	if (statfs(root, &sf) || sf.f_type != CGROUP2_MAGIC) {
		if (want)
			return err_set(ENOTSUP, "--jail: cgroup limits asked for, but no cgroup v2 at %s", root);
		return 0; /* docs/security.md: the leaf is made where cgroup2 is mounted */
	}
	if (strlen(root) > 200)
		return err_set(ENAMETOOLONG, "--jail: cgroup root %s: path too long", root);
	snprintf(parent, sizeof(parent), "%.200s/cvmm", root);
	if (mkdir(parent, 0755) && errno != EEXIST)
		return err_set(errno, "--jail: %s: %s", parent, strerror(errno));
	/* controllers for the leaves; one missing matters only if its limit is asked for */
	for (int i = 0; i < 2; i++) {
		static const char *const ctl[] = { "+memory", "+pids", "+cpu" };

		if (i == 0)
			snprintf(f, sizeof(f), "%.200s/cgroup.subtree_control", root);
		else
			snprintf(f, sizeof(f), "%s/cgroup.subtree_control", parent);
		for (size_t k = 0; k < ARRAY_SIZE(ctl); k++)
			(void)write_str(f, ctl[k]); /* one at a time: a missing one does not stop the others */
	}
	sweep_leaves(parent);
	snprintf(path, sizeof(path), "%s/cvmm-%d", parent, (int)getpid());
	if (mkdir(path, 0755) && errno != EEXIST)
		return err_set(errno, "--jail: %s: %s", path, strerror(errno));
	snprintf(j->cgroup, sizeof(j->cgroup), "%s", path);
	struct {
		const char *file;
		bool on;
	} lim[3] = { { "memory.max", j->mem_max != 0 }, { "pids.max", j->pids_max != 0 }, { "cpu.max", j->cpus != 0 } };
	for (int i = 0; i < 3; i++) {
		if (!lim[i].on)
			continue;
		if (i == 0)
			snprintf(val, sizeof(val), "%llu", (unsigned long long)j->mem_max);
		else if (i == 1)
			snprintf(val, sizeof(val), "%llu", (unsigned long long)j->pids_max);
		else
			confine_cgroup_cpu_max(j->cpus, val, sizeof(val));
		snprintf(f, sizeof(f), "%s/%s", path, lim[i].file);
		if ((e = write_str(f, val)))
			return err_set(-e, "--jail: %s = %s: %s", f, val, strerror(-e));
	}
	snprintf(val, sizeof(val), "%d", (int)getpid());
	snprintf(f, sizeof(f), "%s/cgroup.procs", path);
	if ((e = write_str(f, val)))
		return err_set(-e, "--jail: joining %s: %s", path, strerror(-e));
	return 0;
}

/* ---- the root ---- */
static int make_node(const char *root, const char *dev, uid_t uid, gid_t gid)
{
	char path[PATH_MAX], dir[PATH_MAX];
	struct stat st;

	if (stat(dev, &st) || !S_ISCHR(st.st_mode))
		return err_set(ENODEV, "--jail: %s: not a character device", dev);
	snprintf(path, sizeof(path), "%s%s", root, dev);
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + strlen(root) + 1; (p = strchr(p, '/')); *p++ = '/') {
		*p = 0;
		if (mkdir(dir, 0755) && errno != EEXIST)
			return err_set(errno, "--jail: %s: %s", dir, strerror(errno));
	}
	if (mknod(path, S_IFCHR | 0600, st.st_rdev) || chown(path, uid, gid))
		return err_set(errno, "--jail: device node %s: %s", path, strerror(errno));
	return 0;
}

static int bind_file(const char *root, const struct confine_jail_file *f, uid_t uid, gid_t gid)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	if (f->create && access(f->src, F_OK)) {
		if ((fd = open(f->src, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)) < 0)
			return err_set(errno, "--jail: %s: %s", f->src, strerror(errno));
		if (fchown(fd, uid, gid)) {
			/* an output left root's: the write fails later with a clear error */
		}
		close(fd);
	}
	snprintf(path, sizeof(path), "%s%s", root, f->name);
	if (!stat(f->src, &st) && S_ISDIR(st.st_mode)) {
		/* a directory (the sim platforms' key store) */
		if (mkdir(path, 0700))
			return err_set(errno, "--jail: %s: %s", path, strerror(errno));
	} else if ((fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)) < 0) {
		return err_set(errno, "--jail: %s: %s", path, strerror(errno));
	} else {
		close(fd);
	}
	if (mount(f->src, path, NULL, MS_BIND, NULL))
		return err_set(errno, "--jail: bind %s: %s", f->src, strerror(errno));
	if (!f->rw && mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL))
		return err_set(errno, "--jail: read-only %s: %s", f->src, strerror(errno));
	return 0;
}

static int build_root(struct confine_jail *j)
{
	const char *root = j->root;

	if (mkdir(root, 0755) && errno != EEXIST)
		return err_set(errno, "--jail %s: %s", root, strerror(errno));
	if (mount("cvmm-jail", root, "tmpfs", MS_NOSUID, "mode=0755,size=64k"))
		return err_set(errno, "--jail %s: tmpfs: %s", root, strerror(errno));
	for (unsigned i = 0; i < j->nfiles; i++) {
		int rc = bind_file(root, &j->file[i], j->uid, j->gid);
		if (rc)
			return rc;
	}
	for (unsigned i = 0; i < j->ndevs; i++) {
		int rc = make_node(root, j->dev[i], j->uid, j->gid);
		if (rc)
			return rc;
	}
	/* nothing more goes in: the root itself read-only */
	if (mount(NULL, root, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID, "mode=0755,size=64k"))
		return err_set(errno, "--jail %s: read-only root: %s", root, strerror(errno));
	return 0;
}

static int pivot(const char *root)
{
	if (chdir(root))
		return err_set(errno, "--jail: %s: %s", root, strerror(errno));
	if (syscall(SYS_pivot_root, ".", ".")) {
		/* The initramfs root cannot be pivoted (EINVAL): move the jail
		 * root over / in this mount namespace and chroot into it. */
		if (errno != EINVAL || mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".") || chdir("/"))
			return err_set(errno, "--jail: pivot_root %s: %s", root, strerror(errno));
		return 0;
	}
	if (umount2(".", MNT_DETACH) || chdir("/"))
		return err_set(errno, "--jail: detaching the old root: %s", strerror(errno));
	return 0;
}

static int limits(const struct confine_jail *j)
{
	const struct {
		int res;
		uint64_t v;
		const char *name;
	} r[] = {
		{ RLIMIT_NOFILE, j->nofile ? j->nofile : 1024, "NOFILE" },
		{ RLIMIT_NPROC, j->nproc ? j->nproc : 256, "NPROC" },
		{ RLIMIT_FSIZE, j->fsize ? j->fsize : RLIM_INFINITY, "FSIZE" },
		{ RLIMIT_CORE, 0, "CORE" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
		struct rlimit l = { r[i].v, r[i].v };
		if (setrlimit(r[i].res, &l))
			return err_set(errno, "--jail: RLIMIT_%s: %s", r[i].name, strerror(errno));
	}
	return 0;
}

static int drop_ids(uid_t uid, gid_t gid)
{
	capng_clear(CAPNG_SELECT_BOTH);
	/* setgroups(0), setresgid, setresuid; no capability kept; bounding set cleared */
	if (capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING))
		return err_set(EPERM, "--user %u:%u: cannot change ids and drop capabilities", (unsigned)uid,
			       (unsigned)gid);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return err_set(errno, "--jail: clearing ambient capabilities: %s", strerror(errno));
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		return err_set(EPERM, "--jail: capabilities left after dropping them");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return err_set(errno, "--jail: no_new_privs: %s", strerror(errno));
	return 0;
}

/* A user namespace of its own, entered last (the mounts and device nodes
 * need the host's root): the process, already at UID:GID with no
 * capabilities, unshares one and maps only its own ids into it, the way an
 * unprivileged process may (setgroups denied first). It gains a full
 * capability set in the new namespace, which is dropped again at once.
 * Inside, ids other than its own appear as the overflow id; the host's
 * root is not mapped at all. /proc is no longer in the jail: the maps are
 * written through a /proc/self directory opened before pivot_root (the
 * detached procfs stays usable through it). */
static int write_at(int dirfd, const char *name, const char *s)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int e;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	e = n == (ssize_t)strlen(s) ? 0 : n < 0 ? -errno : -EIO;
	close(fd);
	return e;
}

static int enter_userns(int procfd, uid_t uid, gid_t gid)
{
	char map[64];
	int e;

	if (unshare(CLONE_NEWUSER))
		return err_set(errno, "--jail: new user namespace: %s (unprivileged user namespaces disabled? "
				      "sysctl user.max_user_namespaces)", strerror(errno));
	/* after the id change the process is not dumpable and its /proc files
	 * are root's: dumpable just long enough to write its own maps */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		return err_set(errno, "--jail: dumpable: %s", strerror(errno));
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if (!(e = write_at(procfd, "uid_map", map)) && !(e = write_at(procfd, "setgroups", "deny"))) {
		snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
		e = write_at(procfd, "gid_map", map);
	}
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (e)
		return err_set(-e, "--jail: user namespace id maps: %s", strerror(-e));
	/* the new namespace's capabilities, bounding set and ambient set: gone */
	capng_clear(CAPNG_SELECT_BOTH);
	capng_clear(CAPNG_SELECT_BOUNDS);
	if (capng_apply(CAPNG_SELECT_BOTH) || capng_apply(CAPNG_SELECT_BOUNDS))
		return err_set(EPERM, "--jail: dropping the user namespace's capabilities failed");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return err_set(errno, "--jail: clearing ambient capabilities: %s", strerror(errno));
	capng_get_caps_process();
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		return err_set(EPERM, "--jail: capabilities left in the user namespace");
	return 0;
}

/* Landlock: from here on only the jail root's files, read/write, no
 * creating, removing, linking or executing anything. */
static bool landlock(void)
{
	struct landlock_ruleset_attr attr = { .handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1 };
	struct landlock_path_beneath_attr pb = {
		.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_DIR,
	};
	int rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	bool ok = false;

	if (rfd < 0)
		return false; /* not in this kernel (or not enabled) */
	pb.parent_fd = open("/", O_PATH | O_CLOEXEC);
	if (pb.parent_fd >= 0 && !syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) &&
	    !syscall(SYS_landlock_restrict_self, rfd, 0))
		ok = true;
	if (pb.parent_fd >= 0)
		close(pb.parent_fd);
	close(rfd);
	return ok;
}

static void default_root(struct confine_jail *j)
{
	if (j->dir)
		snprintf(j->root, sizeof(j->root), "%s", j->dir);
	else
		snprintf(j->root, sizeof(j->root), "/run/cvmm/jail/cvmm-%d", (int)getpid());
}

int confine_jail_setup(struct confine_jail *j)
{
	int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | (j->new_net ? CLONE_NEWNET : 0);
	int rc;

	if (!j->root[0])
		default_root(j);
	if (unshare(flags))
		return err_set(errno, "--jail: new namespaces: %s", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return err_set(errno, "--jail: private mounts: %s", strerror(errno));
	if (sethostname("cvmm", 4)) {
		/* cosmetic */
	}
	int procfd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		return err_set(errno, "--jail: /proc/self: %s", strerror(errno));
	if ((rc = build_root(j)) || (rc = pivot(j->root)) || (rc = limits(j)) || (rc = drop_ids(j->uid, j->gid)) ||
	    (rc = enter_userns(procfd, j->uid, j->gid))) {
		close(procfd);
		return rc;
	}
	close(procfd);
	j->landlock = landlock();
	return 0;
}

/* ---- the launcher: waits for the guest's process, nothing else ---- */
static volatile pid_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

static void init_signal(int sig)
{
	(void)sig; /* the namespace's init drops signals it has no handler for */
}

static int launcher_filter(void)
{
	static const char *const calls[] = { "wait4", "kill", "rt_sigreturn", "write", "exit_group", "exit" };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = ctx ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < ARRAY_SIZE(calls); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name(calls[i]), 0);
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc ? err_set(-rc, "--jail: the launcher's seccomp filter: %s", strerror(-rc)) : 0;
}

int confine_jail_enter(struct confine_jail *j, bool *in_child)
{
	int sync[2], rc;
	char ok = 0;
	pid_t pid;

	*in_child = false;
	default_root(j);
	if (!j->dir && mkdir("/run/cvmm", 0755) && errno != EEXIST)
		return err_set(errno, "--jail: /run/cvmm: %s", strerror(errno));
	if (!j->dir && mkdir("/run/cvmm/jail", 0755) && errno != EEXIST)
		return err_set(errno, "--jail: /run/cvmm/jail: %s", strerror(errno));
	if ((rc = cgroup_leaf(j)))
		return rc;
	/* the launcher leaves the host's mount namespace too */
	if (unshare(CLONE_NEWPID | CLONE_NEWNS))
		return err_set(errno, "--jail: new PID and mount namespaces: %s", strerror(errno));
	if (pipe2(sync, O_CLOEXEC))
		return err_set(errno, "--jail: pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return err_set(errno, "--jail: fork: %s", strerror(errno));
	if (pid == 0) {
		close(sync[0]);
		struct sigaction sa = { .sa_handler = init_signal };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		rc = confine_jail_setup(j);
		ok = rc ? 0 : 1;
		if (write(sync[1], &ok, 1) != 1) {
			/* the launcher is gone: PDEATHSIG ends us */
		}
		close(sync[1]);
		*in_child = true;
		return rc;
	}
	close(sync[1]);
	child_pid = pid;
	if (read(sync[0], &ok, 1) != 1)
		ok = 0;
	close(sync[0]);
	if (!j->dir)
		rmdir(j->root); /* the child's mount of it lives on in its namespace */
	struct sigaction sa = { .sa_handler = forward };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* The launcher too: same ids, no capabilities, a user namespace of its
	 * own, only waiting. */
	int procfd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ok && (rc = drop_ids(j->uid, j->gid)) == 0)
		rc = enter_userns(procfd, j->uid, j->gid);
	if (procfd >= 0)
		close(procfd);
	if (ok && !rc)
		rc = launcher_filter();
	if (ok && rc) {
		fprintf(stderr, "cvmm run: %s\n", err_msg());
		kill(pid, SIGKILL);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}
