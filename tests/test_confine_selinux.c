/* test_confine_selinux.c - sVirt (vmm/confine/selinux.c) on a host where
 * SELinux is disabled: the MCS pair allocation (unique among running
 * guests, c1 < c2, c0.c1023), the label strings, and the labelling path
 * through a recording double of libselinux (confine_selinux_ops) with the
 * original labels kept in the real trusted.cvmm.selinux xattr, restored at
 * the end and after a crashed run. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/common.h"
#include "vmm/confine/confine.h"

/* ---- the double: labels in a small table, every call recorded ---- */
#define FAKE_MAX 16
static struct {
	char path[160], con[128];
} fake_label[FAKE_MAX];
static unsigned fake_n;
static char calls[4096];
static int fake_enabled = 1, fake_enforce = 1;
static char execcon[128];

static char *fake_lookup(const char *path)
{
	for (unsigned i = 0; i < fake_n; i++)
		if (!strcmp(fake_label[i].path, path))
			return fake_label[i].con;
	return NULL;
}

static int f_enabled(void) { return fake_enabled; }
static int f_getenforce(void) { return fake_enforce; }
static int f_getfilecon(const char *path, char **con)
{
	const char *c = fake_lookup(path);
	strcat(calls, "get ");
	*con = strdup(c ? c : "system_u:object_r:user_home_t:s0");
	return (int)strlen(*con) + 1;
}
static int f_setfilecon(const char *path, const char *con)
{
	char *c = fake_lookup(path);
	strcat(calls, "set ");
	if (!c) {
		snprintf(fake_label[fake_n].path, sizeof(fake_label[0].path), "%s", path);
		c = fake_label[fake_n++].con;
	}
	snprintf(c, sizeof(fake_label[0].con), "%s", con);
	return 0;
}
static void f_freecon(char *con) { free(con); }
static int f_setexeccon(const char *con)
{
	strcat(calls, "exec ");
	snprintf(execcon, sizeof(execcon), "%s", con);
	return 0;
}
static const struct confine_selinux_ops fake_ops = {
	f_enabled, f_getenforce, f_getfilecon, f_setfilecon, f_freecon, f_setexeccon,
};

static char tmp[64], img[128], kern[128], mcsdir[128];

static bool xattr_ok(void)
{
	return setxattr(img, "trusted.cvmm.probe", "x", 1, 0) == 0 && removexattr(img, "trusted.cvmm.probe") == 0;
}

static int setup(void **state)
{
	(void)state;
	strcpy(tmp, "/tmp/cvmm-selinux-test.XXXXXX");
	assert_non_null(mkdtemp(tmp));
	snprintf(img, sizeof(img), "%s/disk.img", tmp);
	snprintf(kern, sizeof(kern), "%s/bzImage", tmp);
	snprintf(mcsdir, sizeof(mcsdir), "%s/mcs", tmp);
	assert_int_equal(file_write(img, (const uint8_t *)"disk", 4), 0);
	assert_int_equal(file_write(kern, (const uint8_t *)"kernel", 6), 0);
	confine_selinux_ops = &fake_ops;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd);
}

static void reset_fake(void)
{
	fake_n = 0;
	calls[0] = 0;
	execcon[0] = 0;
	fake_enabled = fake_enforce = 1;
}

static void test_labels(void **state)
{
	struct confine_mcs m = { .c1 = 3, .c2 = 700 };
	char p[128], i[128], c[128];

	(void)state;
	assert_int_equal(confine_svirt_labels(&m, p, i, c, sizeof(p)), 0);
	assert_string_equal(p, "system_u:system_r:svirt_t:s0:c3,c700");
	assert_string_equal(i, "system_u:object_r:svirt_image_t:s0:c3,c700");
	assert_string_equal(c, "system_u:object_r:virt_content_t:s0");
	m = (struct confine_mcs){ .c1 = 5, .c2 = 5 };
	assert_int_equal(confine_svirt_labels(&m, p, i, c, sizeof(p)), -EINVAL);
	m = (struct confine_mcs){ .c1 = 5, .c2 = 1024 };
	assert_int_equal(confine_svirt_labels(&m, p, i, c, sizeof(p)), -EINVAL);
}

/* 200 guests at once: every pair distinct, c1 < c2 <= 1023. */
static void test_mcs_unique(void **state)
{
	static struct confine_mcs m[200];

	(void)state;
	for (unsigned i = 0; i < 200; i++) {
		assert_int_equal(confine_mcs_alloc(mcsdir, NULL, &m[i]), 0);
		assert_true(m[i].c1 < m[i].c2);
		assert_true(m[i].c2 < CONFINE_MCS_MAX);
		for (unsigned j = 0; j < i; j++)
			assert_false(m[i].c1 == m[j].c1 && m[i].c2 == m[j].c2);
	}
	for (unsigned i = 0; i < 200; i++)
		confine_mcs_release(mcsdir, &m[i]);
}

/* A held pair is skipped; once released it is free again. */
static const uint32_t seq[] = { 10, 20, 20, 10, 7, 7, 30, 40, 10, 20 };
static unsigned seq_i;
static uint32_t seq_rnd(void) { return seq[seq_i++ % (sizeof(seq) / sizeof(seq[0]))]; }

static void test_mcs_held_pair_skipped(void **state)
{
	struct confine_mcs a, b, c;

	(void)state;
	seq_i = 0;
	assert_int_equal(confine_mcs_alloc(mcsdir, seq_rnd, &a), 0);
	assert_int_equal(a.c1, 10);
	assert_int_equal(a.c2, 20);
	/* next draws: (20,10) is the same pair, held; (7,7) is not a pair; (30,40) */
	assert_int_equal(confine_mcs_alloc(mcsdir, seq_rnd, &b), 0);
	assert_int_equal(b.c1, 30);
	assert_int_equal(b.c2, 40);
	confine_mcs_release(mcsdir, &a);
	assert_int_equal(confine_mcs_alloc(mcsdir, seq_rnd, &c), 0); /* (10,20) again */
	assert_int_equal(c.c1, 10);
	assert_int_equal(c.c2, 20);
	confine_mcs_release(mcsdir, &b);
	confine_mcs_release(mcsdir, &c);
}

static void test_label_and_restore(void **state)
{
	char kept[128];
	ssize_t n;

	(void)state;
	if (!xattr_ok())
		skip();
	reset_fake();
	f_setfilecon(img, "system_u:object_r:user_home_t:s0");
	assert_int_equal(confine_selinux_label_file(img, "system_u:object_r:svirt_image_t:s0:c1,c2"), 0);
	assert_string_equal(fake_lookup(img), "system_u:object_r:svirt_image_t:s0:c1,c2");
	n = getxattr(img, CONFINE_SELINUX_XATTR, kept, sizeof(kept));
	assert_true(n > 0);
	assert_string_equal(kept, "system_u:object_r:user_home_t:s0");
	assert_int_equal(confine_selinux_restore_file(img), 0);
	assert_string_equal(fake_lookup(img), "system_u:object_r:user_home_t:s0");
	assert_true(getxattr(img, CONFINE_SELINUX_XATTR, kept, sizeof(kept)) < 0 && errno == ENODATA);
	/* nothing kept: nothing to restore */
	assert_int_equal(confine_selinux_restore_file(img), 0);
}

/* A run that crashed left its label and the kept original: the next run
 * keeps the first original, and its restore brings that one back. */
static void test_restore_after_crash(void **state)
{
	(void)state;
	if (!xattr_ok())
		skip();
	reset_fake();
	f_setfilecon(img, "system_u:object_r:user_home_t:s0");
	assert_int_equal(confine_selinux_label_file(img, "system_u:object_r:svirt_image_t:s0:c1,c2"), 0);
	/* (crash: no restore) */
	assert_int_equal(confine_selinux_label_file(img, "system_u:object_r:svirt_image_t:s0:c8,c9"), 0);
	assert_string_equal(fake_lookup(img), "system_u:object_r:svirt_image_t:s0:c8,c9");
	assert_int_equal(confine_selinux_restore_file(img), 0);
	assert_string_equal(fake_lookup(img), "system_u:object_r:user_home_t:s0");
}

static void test_svirt_run(void **state)
{
	struct confine_svirt s = { .mode = CONFINE_SELINUX_PERMISSIVE, .mcs_dir = mcsdir };
	char lock[256];

	(void)state;
	if (!xattr_ok())
		skip();
	reset_fake();
	s.file[0] = img;
	s.writable[0] = true;
	s.file[1] = kern;
	s.nfiles = 2;
	assert_int_equal(confine_svirt_start(&s), 0);
	assert_true(s.active);
	char want[128];
	snprintf(want, sizeof(want), "system_u:object_r:svirt_image_t:s0:c%u,c%u", s.mcs.c1, s.mcs.c2);
	assert_string_equal(fake_lookup(img), want);
	assert_string_equal(fake_lookup(kern), "system_u:object_r:virt_content_t:s0");
	snprintf(want, sizeof(want), "system_u:system_r:svirt_t:s0:c%u,c%u", s.mcs.c1, s.mcs.c2);
	assert_string_equal(execcon, want);
	snprintf(lock, sizeof(lock), "%s/c%u.c%u", mcsdir, s.mcs.c1, s.mcs.c2);
	assert_int_equal(access(lock, F_OK), 0);
	confine_svirt_end(&s);
	assert_string_equal(fake_lookup(img), "system_u:object_r:user_home_t:s0");
	assert_string_equal(fake_lookup(kern), "system_u:object_r:user_home_t:s0");
	assert_int_equal(access(lock, F_OK), -1);
}

/* The VMM crashed (SIGKILL): the launcher still puts the labels back and
 * frees the pair, and ends with 128 + 9. */
static void test_supervise_after_crash(void **state)
{
	struct confine_svirt s = { .mode = CONFINE_SELINUX_PERMISSIVE, .mcs_dir = mcsdir };
	char lock[256];
	pid_t pid;

	(void)state;
	if (!xattr_ok())
		skip();
	reset_fake();
	s.file[0] = img;
	s.writable[0] = true;
	s.nfiles = 1;
	assert_int_equal(confine_svirt_start(&s), 0);
	assert_true(s.active);
	assert_non_null(strstr(fake_lookup(img), "svirt_image_t"));
	snprintf(lock, sizeof(lock), "%s/c%u.c%u", mcsdir, s.mcs.c1, s.mcs.c2);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		raise(SIGKILL);
		_exit(0);
	}
	assert_int_equal(confine_svirt_supervise(&s, pid), 128 + SIGKILL);
	assert_string_equal(fake_lookup(img), "system_u:object_r:user_home_t:s0");
	assert_int_equal(access(lock, F_OK), -1);
	assert_false(s.active);
}

/* SELinux disabled: permissive says so and labels nothing; enforcing-
 * required refuses; off does not look. Permissive SELinux with
 * enforcing-required: refused. */
static void test_modes(void **state)
{
	struct confine_svirt s = { .mcs_dir = mcsdir };
	enum confine_selinux_mode m;

	(void)state;
	reset_fake();
	fake_enabled = 0;
	s.mode = CONFINE_SELINUX_PERMISSIVE;
	assert_int_equal(confine_svirt_start(&s), 0);
	assert_false(s.active);
	assert_string_equal(calls, "");
	s.mode = CONFINE_SELINUX_ENFORCING_REQUIRED;
	assert_int_equal(confine_svirt_start(&s), -ENOTSUP);
	assert_non_null(strstr(err_msg(), "SELinux is disabled"));
	fake_enabled = 1;
	fake_enforce = 0;
	assert_int_equal(confine_svirt_start(&s), -EPERM);
	s.mode = CONFINE_SELINUX_OFF;
	assert_int_equal(confine_svirt_start(&s), 0);
	assert_false(s.active);
	assert_int_equal(confine_selinux_parse("enforcing-required", &m), 0);
	assert_int_equal(m, CONFINE_SELINUX_ENFORCING_REQUIRED);
	assert_int_equal(confine_selinux_parse("enforcing", &m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_mcs_unique),
		cmocka_unit_test(test_mcs_held_pair_skipped),
		cmocka_unit_test(test_label_and_restore),
		cmocka_unit_test(test_restore_after_crash),
		cmocka_unit_test(test_svirt_run),
		cmocka_unit_test(test_supervise_after_crash),
		cmocka_unit_test(test_modes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
