/* selinux.c - sVirt for cvmm (confine.h): MCS pair allocation, the labels,
 * labelling the guest's files with the originals kept in a trusted.* xattr,
 * and putting them back. libselinux is reached through
 * confine_selinux_ops so the labelling path is tested on hosts where
 * SELinux is disabled (tests/test_confine_selinux.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <selinux/selinux.h>

#include "common/common.h"
#include "vmm/confine/confine.h"

static int real_getfilecon(const char *path, char **con)
{
	return getfilecon(path, con);
}

static int real_setfilecon(const char *path, const char *con)
{
	return setfilecon(path, con);
}

static int real_setexeccon(const char *con)
{
	return setexeccon(con);
}

static const struct confine_selinux_ops real_ops = {
	.is_enabled = is_selinux_enabled,
	.getenforce = security_getenforce,
	.getfilecon = real_getfilecon,
	.setfilecon = real_setfilecon,
	.freecon = freecon,
	.setexeccon = real_setexeccon,
};
const struct confine_selinux_ops *confine_selinux_ops = &real_ops;

int confine_selinux_parse(const char *s, enum confine_selinux_mode *mode)
{
	if (!strcmp(s, "permissive"))
		*mode = CONFINE_SELINUX_PERMISSIVE;
	else if (!strcmp(s, "off"))
		*mode = CONFINE_SELINUX_OFF;
	else if (!strcmp(s, "enforcing-required"))
		*mode = CONFINE_SELINUX_ENFORCING_REQUIRED;
	else
		return err_set(EINVAL, "--selinux=%s: expected off, permissive or enforcing-required", s);
	return 0;
}

static uint32_t get_random(void)
{
	uint32_t v = 0;
	while (getrandom(&v, sizeof(v), 0) != sizeof(v))
		;
	return v;
}

int confine_mcs_alloc(const char *dir, uint32_t (*rnd)(void), struct confine_mcs *m)
{
	char path[512];

	if (!rnd)
		rnd = get_random;
	m->lock_fd = -1;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return err_set(errno, "sVirt: %s: %s", dir, strerror(errno));
	/* random draws; a pair whose lock someone holds is taken */
	for (unsigned tries = 0; tries < 100000; tries++) {
		unsigned a = rnd() % CONFINE_MCS_MAX, b = rnd() % CONFINE_MCS_MAX;
		int fd;

		if (a == b)
			continue;
		m->c1 = a < b ? a : b;
		m->c2 = a < b ? b : a;
		snprintf(path, sizeof(path), "%s/c%u.c%u", dir, m->c1, m->c2);
		if ((fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600)) < 0)
			return err_set(errno, "sVirt: %s: %s", path, strerror(errno));
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			m->lock_fd = fd;
			return 0;
		}
		close(fd);
	}
	return err_set(EAGAIN, "sVirt: no free MCS category pair in %s", dir);
}

void confine_mcs_release(const char *dir, struct confine_mcs *m)
{
	char path[512];

	if (m->lock_fd < 0)
		return;
	snprintf(path, sizeof(path), "%s/c%u.c%u", dir, m->c1, m->c2);
	unlink(path); /* while still locked: nobody else holds this file */
	close(m->lock_fd);
	m->lock_fd = -1;
}

int confine_svirt_labels(const struct confine_mcs *m, char *proc, char *image, char *content, size_t len)
{
	if (m->c1 >= m->c2 || m->c2 >= CONFINE_MCS_MAX)
		return err_set(EINVAL, "sVirt: bad category pair c%u,c%u", m->c1, m->c2);
	if ((size_t)snprintf(proc, len, "system_u:system_r:svirt_t:s0:c%u,c%u", m->c1, m->c2) >= len ||
	    (size_t)snprintf(image, len, "system_u:object_r:svirt_image_t:s0:c%u,c%u", m->c1, m->c2) >= len ||
	    (size_t)snprintf(content, len, "system_u:object_r:virt_content_t:s0") >= len)
		return err_set(ENOSPC, "sVirt: label buffer too small");
	return 0;
}

int confine_selinux_label_file(const char *path, const char *con)
{
	char kept[256];
	char *orig = NULL;

	/* a label kept already is the original (a crashed run left it) */
	if (getxattr(path, CONFINE_SELINUX_XATTR, kept, sizeof(kept)) < 0) {
		if (errno != ENODATA)
			return err_set(errno, "sVirt: %s: %s: %s", path, CONFINE_SELINUX_XATTR, strerror(errno));
		if (confine_selinux_ops->getfilecon(path, &orig) < 0 || !orig)
			return err_set(errno ? errno : EIO, "sVirt: %s: cannot read its label", path);
		int r = setxattr(path, CONFINE_SELINUX_XATTR, orig, strlen(orig) + 1, XATTR_CREATE);
		int e = errno;
		confine_selinux_ops->freecon(orig);
		if (r)
			return err_set(e, "sVirt: %s: keeping its label: %s", path, strerror(e));
	}
	if (confine_selinux_ops->setfilecon(path, con) < 0)
		return err_set(errno ? errno : EIO, "sVirt: %s: cannot label %s", path, con);
	return 0;
}

int confine_selinux_restore_file(const char *path)
{
	char kept[256];
	ssize_t n = getxattr(path, CONFINE_SELINUX_XATTR, kept, sizeof(kept) - 1);

	if (n < 0)
		return errno == ENODATA ? 0 : err_set(errno, "sVirt: %s: %s", path, strerror(errno));
	kept[n] = 0;
	if (confine_selinux_ops->setfilecon(path, kept) < 0)
		return err_set(errno ? errno : EIO, "sVirt: %s: cannot restore %s", path, kept);
	if (removexattr(path, CONFINE_SELINUX_XATTR))
		return err_set(errno, "sVirt: %s: %s", path, strerror(errno));
	return 0;
}

int confine_svirt_start(struct confine_svirt *s)
{
	const char *dir = s->mcs_dir ? s->mcs_dir : "/run/cvmm/mcs";
	int rc;

	s->active = false;
	s->mcs.lock_fd = -1;
	if (s->mode == CONFINE_SELINUX_OFF)
		return 0;
	if (confine_selinux_ops->is_enabled() <= 0) {
		if (s->mode == CONFINE_SELINUX_ENFORCING_REQUIRED)
			return err_set(ENOTSUP, "--selinux=enforcing-required: SELinux is disabled on this host");
		s->selinux_off = true;
		return 0;
	}
	if (s->mode == CONFINE_SELINUX_ENFORCING_REQUIRED && confine_selinux_ops->getenforce() != 1)
		return err_set(EPERM, "--selinux=enforcing-required: SELinux is permissive on this host");
	if (!s->mcs_dir && mkdir("/run/cvmm", 0755) && errno != EEXIST)
		return err_set(errno, "sVirt: /run/cvmm: %s", strerror(errno));
	if ((rc = confine_mcs_alloc(dir, NULL, &s->mcs)) ||
	    (rc = confine_svirt_labels(&s->mcs, s->proc, s->image, s->content, sizeof(s->proc))))
		return rc;
	for (unsigned i = 0; i < s->nfiles; i++) {
		rc = confine_selinux_label_file(s->file[i], s->writable[i] ? s->image : s->content);
		if (rc && s->mode == CONFINE_SELINUX_ENFORCING_REQUIRED)
			goto undo;
		if (rc)
			fprintf(stderr, "cvmm run: warning: %s\n", err_msg());
	}
	if (confine_selinux_ops->setexeccon(s->proc) < 0) {
		rc = err_set(errno ? errno : EIO, "sVirt: cannot set the exec context %s", s->proc);
		if (s->mode == CONFINE_SELINUX_ENFORCING_REQUIRED)
			goto undo;
		fprintf(stderr, "cvmm run: warning: %s\n", err_msg());
	}
	s->active = true;
	fprintf(stderr, "cvmm run: sVirt: %s, images %s\n", s->proc, s->image);
	return 0;
undo:
	for (unsigned i = 0; i < s->nfiles; i++)
		confine_selinux_restore_file(s->file[i]);
	confine_mcs_release(dir, &s->mcs);
	return rc;
}

void confine_svirt_end(struct confine_svirt *s)
{
	if (!s->active)
		return;
	for (unsigned i = 0; i < s->nfiles; i++)
		if (confine_selinux_restore_file(s->file[i]))
			fprintf(stderr, "cvmm run: warning: %s\n", err_msg());
	confine_mcs_release(s->mcs_dir ? s->mcs_dir : "/run/cvmm/mcs", &s->mcs);
	s->active = false;
}

static volatile pid_t supervised_pid;

static void forward(int sig)
{
	if (supervised_pid > 0)
		kill(supervised_pid, sig);
}

int confine_svirt_supervise(struct confine_svirt *s, pid_t pid)
{
	struct sigaction sa = { .sa_handler = forward };
	int st = 0;

	supervised_pid = pid;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	/* the guest's process is gone, however it ended: the labels go back */
	confine_svirt_end(s);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int confine_svirt_exec(struct confine_svirt *s, char **argv)
{
	char env[64];
	pid_t pid;
	int fl;

	if (!s->active)
		return 0;
	snprintf(env, sizeof(env), "%u,%u,%d", s->mcs.c1, s->mcs.c2, s->mcs.lock_fd);
	/* the lock goes with the guest's process too */
	if ((fl = fcntl(s->mcs.lock_fd, F_GETFD)) < 0 || fcntl(s->mcs.lock_fd, F_SETFD, fl & ~FD_CLOEXEC) ||
	    setenv("CVMM_SVIRT", env, 1))
		return err_set(errno, "sVirt: passing the pair on: %s", strerror(errno));
	fflush(NULL);
	if ((pid = fork()) < 0)
		return err_set(errno, "sVirt: fork: %s", strerror(errno));
	if (pid == 0) {
		execv("/proc/self/exe", argv);
		fprintf(stderr, "cvmm run: sVirt: executing cvmm in %s: %s\n", s->proc, strerror(errno));
		_exit(2);
	}
	/* This process stays as the launcher: it puts the labels back when the
	 * VMM ends, also when it crashed. */
	unsetenv("CVMM_SVIRT");
	int status = confine_svirt_supervise(s, pid);
	fflush(NULL);
	_exit(status);
}

bool confine_svirt_resume(struct confine_svirt *s)
{
	const char *e = getenv("CVMM_SVIRT");
	unsigned c1, c2;
	int fd;

	if (!e || sscanf(e, "%u,%u,%d", &c1, &c2, &fd) != 3 || fd < 0)
		return false;
	unsetenv("CVMM_SVIRT");
	s->mcs = (struct confine_mcs){ .c1 = c1, .c2 = c2, .lock_fd = fd };
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	confine_svirt_labels(&s->mcs, s->proc, s->image, s->content, sizeof(s->proc));
	/* the launcher restores and releases: nothing to do at the end here */
	s->active = false;
	return true;
}
