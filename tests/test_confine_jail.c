/* test_confine_jail.c - the jail of cvmm run --jail (vmm/confine/jail.c),
 * set up in a forked child: its own mount namespace, a root holding only
 * the files and devices given (bind mounts, device nodes owned by the
 * uid), read-only where asked, uid/gid 64000, no capabilities,
 * no_new_privs (asserted from the child's /proc/PID/status by the parent),
 * and the PID namespace of confine_jail_enter (the guest's process is the
 * namespace's init; the launcher ends with its status). Needs root (it is,
 * here and in CI); skipped without CAP_SYS_ADMIN. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cap-ng.h>
#include <cmocka.h>

#include "common/common.h"
#include "vmm/confine/confine.h"

static char tmp[64], kernel[128], disk[128], outside[128], statedir[128];

static int setup(void **state)
{
	(void)state;
	strcpy(tmp, "/tmp/cvmm-jail-test.XXXXXX");
	assert_non_null(mkdtemp(tmp));
	snprintf(kernel, sizeof(kernel), "%s/bzImage", tmp);
	snprintf(disk, sizeof(disk), "%s/disk.img", tmp);
	snprintf(outside, sizeof(outside), "%s/secret", tmp);
	assert_int_equal(file_write(kernel, (const uint8_t *)"KERNEL", 6), 0);
	assert_int_equal(file_write(disk, (const uint8_t *)"DISK0000", 8), 0);
	assert_int_equal(file_write(outside, (const uint8_t *)"not for the guest", 17), 0);
	assert_int_equal(chown(disk, 64000, 64000), 0);
	/* a directory bound in (the sim platforms' key store) */
	snprintf(statedir, sizeof(statedir), "%s/state", tmp);
	assert_int_equal(mkdir(statedir, 0700), 0);
	char key[160];
	snprintf(key, sizeof(key), "%s/key", statedir);
	assert_int_equal(file_write(key, (const uint8_t *)"KEY", 3), 0);
	assert_int_equal(chown(statedir, 64000, 64000), 0);
	assert_int_equal(chown(key, 64000, 64000), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd);
}

static bool privileged(void)
{
	capng_get_caps_process();
	return capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN) && geteuid() == 0;
}

static void unit_jail(struct confine_jail *j, const char *root)
{
	memset(j, 0, sizeof(*j));
	j->dir = root;
	j->uid = 64000;
	j->gid = 64000;
	j->new_net = true;
	assert_string_equal(confine_jail_add_file(j, kernel, "kernel", false, false), "/kernel");
	assert_string_equal(confine_jail_add_file(j, disk, "disk0", true, false), "/disk0");
	assert_string_equal(confine_jail_add_file(j, statedir, "state", true, false), "/state");
	assert_int_equal(confine_jail_add_dev(j, "/dev/null"), 0);
}

/* What the jailed child checks from inside; exit code = first failure. */
static int inside(void)
{
	char buf[16] = { 0 };
	int fd;

	if (getuid() != 64000 || geteuid() != 64000 || getgid() != 64000 || getegid() != 64000)
		return 10;
	if (getgroups(0, NULL) != 0)
		return 11;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 12;
	capng_get_caps_process();
	if (capng_have_capabilities(CAPNG_SELECT_BOTH) != CAPNG_NONE)
		return 13;
	if ((fd = open("/kernel", O_RDONLY)) < 0 || read(fd, buf, 6) != 6 || strcmp(buf, "KERNEL"))
		return 14;
	close(fd);
	if (open("/kernel", O_WRONLY) >= 0 || (errno != EROFS && errno != EACCES))
		return 15; /* read-only bind */
	if ((fd = open("/disk0", O_RDWR)) < 0 || pwrite(fd, "JAILED", 6, 0) != 6)
		return 16;
	close(fd);
	if (access(outside, F_OK) == 0 || access("/etc/passwd", F_OK) == 0 || access("/proc/self", F_OK) == 0)
		return 17; /* nothing else of the host is there */
	if ((fd = open("/dev/null", O_WRONLY)) < 0)
		return 18;
	close(fd);
	if (open("/newfile", O_CREAT | O_WRONLY, 0600) >= 0)
		return 19;
	if ((fd = open("/state/key", O_RDONLY)) < 0 || read(fd, buf, 3) != 3 || memcmp(buf, "KEY", 3))
		return 21;
	close(fd);
	if (mkdir("/d", 0700) == 0)
		return 20;
	/* in its user namespace only 64000 exists: becoming root there fails */
	if (setuid(0) == 0 || setresuid(0, 0, 0) == 0)
		return 22;
	return 0;
}

static void test_setup_in_child(void **state)
{
	char root[96], path[128], line[256], self_ns[64] = "", child_ns[64] = "";
	char self_userns[64] = "", child_userns[64] = "";
	unsigned m[3];
	struct confine_jail j;
	int p[2], q[2], st;
	bool seen_uid = false, seen_cap = false, seen_nnp = false;
	pid_t pid;
	FILE *f;

	(void)state;
	if (!privileged())
		skip();
	snprintf(root, sizeof(root), "%s/root", tmp);
	unit_jail(&j, root);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c = 0;
		close(p[0]);
		close(q[1]);
		if (confine_jail_setup(&j)) {
			fprintf(stderr, "jail: %s\n", err_msg());
			_exit(2);
		}
		int r = inside();
		if (write(p[1], "x", 1) != 1 || read(q[0], &c, 1) < 0)
			_exit(3);
		_exit(r);
	}
	close(p[1]);
	close(q[0]);
	char c;
	assert_int_equal(read(p[0], &c, 1), 1);
	/* the parent's view of the jailed child */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Uid:", 4))
			seen_uid = !strcmp(line, "Uid:\t64000\t64000\t64000\t64000\n");
		if (!strncmp(line, "CapEff:", 7))
			seen_cap = !strcmp(line, "CapEff:\t0000000000000000\n");
		if (!strncmp(line, "NoNewPrivs:", 11))
			seen_nnp = !strcmp(line, "NoNewPrivs:\t1\n");
	}
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	assert_true(readlink(path, child_ns, sizeof(child_ns) - 1) > 0);
	assert_true(readlink("/proc/self/ns/mnt", self_ns, sizeof(self_ns) - 1) > 0);
	/* a user namespace of its own that maps only 64000, to itself */
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	assert_true(readlink(path, child_userns, sizeof(child_userns) - 1) > 0);
	assert_true(readlink("/proc/self/ns/user", self_userns, sizeof(self_userns) - 1) > 0);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(sscanf(line, "%u %u %u", &m[0], &m[1], &m[2]), 3);
	assert_null(fgets(line, sizeof(line), f)); /* one line only */
	fclose(f);
	assert_true(m[0] == 64000 && m[1] == 64000 && m[2] == 1);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_int_equal(sscanf(line, "%u %u %u", &m[0], &m[1], &m[2]), 3);
	assert_true(m[0] == 64000 && m[1] == 64000 && m[2] == 1);
	close(q[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(seen_uid);
	assert_true(seen_cap);
	assert_true(seen_nnp);
	assert_string_not_equal(child_ns, self_ns);
	assert_string_not_equal(child_userns, self_userns);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("jailed child: status 0x%x (exit code = the failed check in inside())", st);
	/* the disk write went through the bind mount; the host sees no jail mounts */
	uint8_t *b;
	size_t n;
	assert_int_equal(file_read(disk, 64, &b, &n), 0);
	assert_memory_equal(b, "JAILED", 6);
	free(b);
	snprintf(path, sizeof(path), "%s/kernel", root);
	assert_int_equal(access(path, F_OK), -1);
}

/* confine_jail_enter: a launcher (here a forked test child) and the jailed
 * guest process, init of its own PID namespace; the launcher ends with the
 * jailed process's exit status. */
static void test_enter_pid_namespace(void **state)
{
	char root[96];
	struct confine_jail j;
	int st;
	pid_t pid;

	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	skip(); /* the launcher's seccomp filter has no room for the sanitizer runtime's calls */
#endif
	if (!privileged())
		skip();
	snprintf(root, sizeof(root), "%s/root2", tmp);
	unit_jail(&j, root);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		bool in_child = false;
		int rc = confine_jail_enter(&j, &in_child);
		if (!in_child)
			_exit(90); /* not reached: the launcher _exits with the child's status */
		if (rc)
			_exit(91);
		_exit(getpid() == 1 && getuid() == 64000 ? 42 : 92);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 42);
}

static void test_parse_user(void **state)
{
	uid_t u;
	gid_t g;

	(void)state;
	assert_int_equal(confine_jail_parse_user("64000:64001", &u, &g), 0);
	assert_int_equal(u, 64000);
	assert_int_equal(g, 64001);
	assert_int_equal(confine_jail_parse_user("0:0", &u, &g), -EINVAL);
	assert_int_equal(confine_jail_parse_user("64000", &u, &g), -EINVAL);
	assert_int_equal(confine_jail_parse_user("a:b", &u, &g), -EINVAL);
	assert_int_equal(confine_jail_parse_user("64000:", &u, &g), -EINVAL);
}

static void test_cgroup_values(void **state)
{
	char b[32];

	(void)state;
	assert_int_equal(confine_cgroup_cpu_max(2, b, sizeof(b)), 0);
	assert_string_equal(b, "200000 100000");
	assert_int_equal(confine_cgroup_cpu_max(0, b, sizeof(b)), 0);
	assert_string_equal(b, "max 100000");
}

/* cgroup limits asked for where there is no cgroup v2: refused before
 * anything is set up (tests/nested/batch checks real leaves and limits). */
static void test_cgroup_limits_need_cgroup2(void **state)
{
	struct confine_jail j;
	bool in_child = true;

	(void)state;
	unit_jail(&j, "/nonexistent-jail-root");
	j.cgroup_root = tmp; /* a plain directory */
	j.mem_max = 1 << 30;
	assert_int_equal(confine_jail_enter(&j, &in_child), -ENOTSUP);
	assert_false(in_child);
	assert_non_null(strstr(err_msg(), "no cgroup v2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_user),
		cmocka_unit_test(test_cgroup_values),
		cmocka_unit_test(test_cgroup_limits_need_cgroup2),
		cmocka_unit_test(test_setup_in_child),
		cmocka_unit_test(test_enter_pid_namespace),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
