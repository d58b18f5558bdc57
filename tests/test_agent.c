/* test_agent.c - cvmm-agent report against a fake configfs-tsm tree.
 *
 * The tree is a temp directory given with --tsm-root; each test creates the
 * report entry itself (provider, generation, inblob, outblob, ...) and
 * passes --tsm-entry so the agent neither mkdirs nor rmdirs it. The binary
 * is $CVMM_AGENT, else the cvmm-agent of the test's build directory
 * (build/tests/x -> build/cvmm-agent; build/asan/tests/x -> the ASan one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>

#include "attestation/attestation.h"
#include "tests/cli_run.h"
/* agent_snp_unwrap: attestation/agent/snp_rsp.c, linked in by the Makefile
 * (agent sources are not in libcvmm.a). */
#include "attestation/agent/agent.h"
#include "attestation/snp_report.h" /* SNP_REPORT_SIZE */

#define NONCE_HEX "00c0ffee11223344"
/* outblob with NUL and newline bytes: stdout output must be byte-exact */
static const uint8_t OUTBLOB[] = { 0x02, 0x00, 0x00, 0x00, 0x0a, 0xff, 0x00, 'r', 'e', 'p', 0x0d, 0x0a };
static const char AUXBLOB[] = "certificate table";

struct tree {
	char root[64];  /* --tsm-root */
	char entry[128]; /* root/report/e */
	char out[128];   /* a file outside the tree for --out */
	char certs[128];
};

static void put(const char *dir, const char *name, const void *p, size_t n)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

static uint8_t *get(const char *dir, const char *name, size_t *len)
{
	char path[256];
	uint8_t *p = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(file_read(path, 1 << 20, &p, len), 0);
	return p;
}

/* DIR/NAME holds exactly want_len bytes equal to want. */
static void expect_file(const char *dir, const char *name, const void *want, size_t want_len)
{
	size_t n;
	uint8_t *p = get(dir, name, &n);

	assert_int_equal(n, want_len);
	if (want_len)
		assert_memory_equal(p, want, want_len);
	free(p);
}

static bool exists(const char *path)
{
	return !access(path, F_OK);
}

/* A working sev_guest-like entry; tests then break one thing. */
static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char report[96];

	assert_non_null(t);
	snprintf(t->root, sizeof(t->root), "/tmp/cvmm-agent-test.XXXXXX");
	assert_non_null(mkdtemp(t->root));
	snprintf(report, sizeof(report), "%s/report", t->root);
	assert_int_equal(mkdir(report, 0700), 0);
	snprintf(t->entry, sizeof(t->entry), "%s/e", report);
	assert_int_equal(mkdir(t->entry, 0700), 0);
	snprintf(t->out, sizeof(t->out), "%s/evidence.bin", t->root);
	snprintf(t->certs, sizeof(t->certs), "%s/certs.bin", t->root);
	put(t->entry, "provider", "sev_guest\n", 10);
	put(t->entry, "generation", "7\n", 2);
	put(t->entry, "inblob", "", 0);
	put(t->entry, "privlevel", "", 0);
	put(t->entry, "outblob", OUTBLOB, sizeof(OUTBLOB));
	put(t->entry, "auxblob", AUXBLOB, strlen(AUXBLOB));
	*state = t;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;

	nftw(t->root, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(t);
	return 0;
}

/* The expected inblob, computed by the verifier's own binding. */
static void expected_report_data(uint8_t rd[64])
{
	uint8_t nonce[8];

	assert_int_equal(hex_decode_exact(NONCE_HEX, nonce, sizeof(nonce), "nonce"), 0);
	assert_int_equal(att_nonce_report_data(nonce, sizeof(nonce), rd), 0);
}

static void test_help(void **state)
{
	struct cli_result r;

	(void)state;
	cli_run(&r, (const char *const[]){ "--help", NULL });
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "report"));
	cli_free(&r);
	cli_run(&r, (const char *const[]){ "report", "--help", NULL });
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "--nonce HEX"));
	assert_non_null(strstr(r.out, "--tsm-root"));
	cli_free(&r);
	cli_run(&r, (const char *const[]){ NULL });
	assert_int_equal(r.code, 2);
	assert_int_equal(r.out_len, 0);
	cli_free(&r);
	cli_run(&r, (const char *const[]){ "bogus", NULL });
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err, "unknown command 'bogus'"));
	cli_free(&r);
	cli_run(&r, (const char *const[]){ "report", NULL });
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err, "cvmm-agent report: --nonce HEX is required"));
	cli_free(&r);
}

static void test_configfs_report(void **state)
{
	struct tree *t = *state;
	struct cli_result r;
	uint8_t rd[64];

	cli_run(&r, (const char *const[]){ "report", "--nonce", NONCE_HEX, "--tsm-root", t->root, "--tsm-entry", "e",
					   "--privlevel", "2", "--out", t->out, "--certs-out", t->certs, NULL });
	assert_int_equal(r.code, 0);
	assert_int_equal(r.out_len, 0);
	assert_int_equal(r.err_len, 0);
	expected_report_data(rd);
	expect_file(t->entry, "inblob", rd, 64);
	expect_file(t->entry, "privlevel", "2\n", 2);
	expect_file(t->root, "evidence.bin", OUTBLOB, sizeof(OUTBLOB));
	expect_file(t->root, "certs.bin", AUXBLOB, strlen(AUXBLOB));
	assert_true(exists(t->entry)); /* --tsm-entry: the agent does not rmdir */
	cli_free(&r);
}

static void test_configfs_stdout(void **state)
{
	struct tree *t = *state;
	struct cli_result r;
	uint8_t rd[64];

	/* auto picks configfs when ROOT/report exists; no --privlevel: the
	 * privlevel attribute is left alone */
	cli_run(&r, (const char *const[]){ "report", "--nonce", NONCE_HEX, "--tsm-root", t->root, "--tsm-entry", "e",
					   NULL });
	assert_int_equal(r.code, 0);
	assert_int_equal(r.out_len, sizeof(OUTBLOB));
	assert_memory_equal(r.out, OUTBLOB, sizeof(OUTBLOB));
	expected_report_data(rd);
	expect_file(t->entry, "inblob", rd, 64);
	expect_file(t->entry, "privlevel", NULL, 0);
	cli_free(&r);
}

/* Expect exit 2, the message fragment on stderr, nothing on stdout and no
 * output files. */
static void expect_fail(struct tree *t, const char *const *args, const char *msg)
{
	struct cli_result r;

	cli_run(&r, args);
	assert_int_equal(r.code, 2);
	assert_int_equal(r.out_len, 0);
	assert_non_null(strstr(r.err, "cvmm-agent report: "));
	if (!strstr(r.err, msg))
		fail_msg("stderr '%s' lacks '%s'", r.err, msg);
	assert_non_null(strchr(r.err, '\n'));
	assert_ptr_equal(strchr(r.err, '\n'), r.err + r.err_len - 1); /* one line */
	assert_false(exists(t->out));
	assert_false(exists(t->certs));
	cli_free(&r);
}

/* generation moves by more than our one write: another writer raced us.
 * generation is a FIFO fed by a child: "7" for the first read, then, once
 * the agent has written inblob, "9" for the second. */
static void test_generation_race(void **state)
{
	struct tree *t = *state;
	char gen[256], inblob[256];
	pid_t w;

	snprintf(gen, sizeof(gen), "%s/generation", t->entry);
	snprintf(inblob, sizeof(inblob), "%s/inblob", t->entry);
	assert_int_equal(unlink(gen), 0);
	assert_int_equal(mkfifo(gen, 0600), 0);
	w = fork();
	assert_true(w >= 0);
	if (w == 0) {
		struct stat st;
		int fd = open(gen, O_WRONLY);

		if (fd < 0 || write(fd, "7\n", 2) != 2)
			_exit(1);
		close(fd);
		while (stat(inblob, &st) || st.st_size != 64)
			usleep(1000);
		fd = open(gen, O_WRONLY);
		if (fd < 0 || write(fd, "9\n", 2) != 2)
			_exit(1);
		close(fd);
		_exit(0);
	}
	expect_fail(t,
		    (const char *const[]){ "report", "--nonce", NONCE_HEX, "--tsm-root", t->root, "--tsm-entry", "e",
					   "--out", t->out, NULL },
		    "generation went from 7 to 9 across our 1 write(s)");
	kill(w, SIGKILL);
	assert_int_equal(waitpid(w, NULL, 0), w);
}

static void test_generation_garbage(void **state)
{
	struct tree *t = *state;

	put(t->entry, "generation", "seven\n", 6);
	expect_fail(t,
		    (const char *const[]){ "report", "--nonce", NONCE_HEX, "--tsm-root", t->root, "--tsm-entry", "e",
					   "--out", t->out, NULL },
		    "/report/e/generation");
}

static void test_missing_provider(void **state)
{
	struct tree *t = *state;
	char path[256];

	snprintf(path, sizeof(path), "%s/provider", t->entry);
	assert_int_equal(unlink(path), 0);
	expect_fail(t,
		    (const char *const[]){ "report", "--nonce", NONCE_HEX, "--tsm-root", t->root, "--tsm-entry", "e",
					   "--out", t->out, NULL },
		    "/report/e/provider: No such file or directory");
}

static void test_bad_nonce(void **state)
{
	struct tree *t = *state;

	expect_fail(t,
		    (const char *const[]){ "report", "--nonce", "00zz", "--tsm-root", t->root, "--tsm-entry", "e",
					   "--out", t->out, NULL },
		    "--nonce: not a hex digit");
	expect_fail(t,
		    (const char *const[]){ "report", "--nonce", "abc", "--tsm-root", t->root, "--tsm-entry", "e",
					   "--out", t->out, NULL },
		    "--nonce: odd number of hex digits");
	expect_fail(t,
		    (const char *const[]){ "report", "--nonce", "", "--tsm-root", t->root, "--tsm-entry", "e", NULL },
		    "--nonce: empty");
	expect_file(t->entry, "inblob", NULL, 0); /* nothing was asked of the "hardware" */
}

static void test_bad_options(void **state)
{
	struct tree *t = *state;

	expect_fail(t,
		    (const char *const[]){ "report", "--nonce", NONCE_HEX, "--tsm-root", t->root, "--tsm-entry", "e",
					   "--privlevel", "4", NULL },
		    "--privlevel");
	expect_fail(t, (const char *const[]){ "report", "--nonce", NONCE_HEX, "--provider", "tpm", NULL },
		    "--provider: 'tpm' is not");
	expect_fail(t,
		    (const char *const[]){ "report", "--nonce", NONCE_HEX, "--tsm-root", t->root, "--tsm-entry", "../x",
					   NULL },
		    "--tsm-entry: '../x' is not an entry name");
}

static void test_empty_outblob_and_auxblob(void **state)
{
	struct tree *t = *state;

	put(t->entry, "auxblob", "", 0);
	expect_fail(t,
		    (const char *const[]){ "report", "--nonce", NONCE_HEX, "--tsm-root", t->root, "--tsm-entry", "e",
					   "--out", t->out, "--certs-out", t->certs, NULL },
		    "/report/e/auxblob: empty");
	put(t->entry, "outblob", "", 0);
	expect_fail(t,
		    (const char *const[]){ "report", "--nonce", NONCE_HEX, "--tsm-root", t->root, "--tsm-entry", "e",
					   "--out", t->out, NULL },
		    "/report/e/outblob: empty");
}

/* Without --tsm-entry the agent makes its own entry and removes it again,
 * also on failure (a plain directory has no attributes). */
static void test_own_entry_removed(void **state)
{
	struct tree *t = *state;
	char report[128];
	struct cli_result r;
	DIR *d;
	struct dirent *de;
	int entries = 0;

	cli_run(&r, (const char *const[]){ "report", "--nonce", NONCE_HEX, "--provider", "configfs", "--tsm-root",
					   t->root, "--out", t->out, NULL });
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err, "/report/cvmm-agent-"));
	assert_non_null(strstr(r.err, "/provider: No such file or directory"));
	assert_false(exists(t->out));
	cli_free(&r);
	snprintf(report, sizeof(report), "%s/report", t->root);
	d = opendir(report);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			assert_string_equal(de->d_name, "e");
			entries++;
		}
	closedir(d);
	assert_int_equal(entries, 1);
}

static void test_no_provider_present(void **state)
{
	struct tree *t = *state;
	char missing[128];

	snprintf(missing, sizeof(missing), "%s/nothing", t->root);
	expect_fail(t, (const char *const[]){ "report", "--nonce", NONCE_HEX, "--provider", "configfs", "--tsm-root",
					      missing, NULL },
		    "/nothing/report is missing");
	if (!exists("/dev/sev-guest") && !exists("/dev/tdx_guest")) {
		expect_fail(t, (const char *const[]){ "report", "--nonce", NONCE_HEX, "--tsm-root", missing, NULL },
			    "no attestation provider");
		expect_fail(t, (const char *const[]){ "report", "--nonce", NONCE_HEX, "--provider", "sev-guest", NULL },
			    "/dev/sev-guest: No such file or directory");
		expect_fail(t, (const char *const[]){ "report", "--nonce", NONCE_HEX, "--provider", "tdx-guest", NULL },
			    "/dev/tdx_guest: No such file or directory");
	}
	expect_fail(t,
		    (const char *const[]){ "report", "--nonce", NONCE_HEX, "--provider", "tdx-guest", "--privlevel", "1",
					   NULL },
		    "SNP only");
}

/* MSG_REPORT_RSP from /dev/sev-guest: header, then the report. */
static void test_snp_unwrap(void **state)
{
	static uint8_t rsp[4000];
	struct bytebuf b = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(rsp); i++)
		rsp[i] = (uint8_t)i;
	put_le32(rsp, 0);
	put_le32(rsp + 4, SNP_REPORT_SIZE);
	assert_int_equal(agent_snp_unwrap("rsp", rsp, sizeof(rsp), &b), 0);
	assert_int_equal(b.len, SNP_REPORT_SIZE);
	assert_memory_equal(b.data, rsp + 0x20, SNP_REPORT_SIZE);
	bb_free(&b);
	/* exactly long enough, then one byte short */
	assert_int_equal(agent_snp_unwrap("rsp", rsp, 0x20 + SNP_REPORT_SIZE, &b), 0);
	bb_free(&b);
	assert_int_equal(agent_snp_unwrap("rsp", rsp, 0x20 + SNP_REPORT_SIZE - 1, &b), -EIO);
	assert_non_null(strstr(err_msg(), "MSG_REPORT_RSP.REPORT"));
	assert_int_equal(b.len, 0);
	assert_int_equal(agent_snp_unwrap("rsp", rsp, 7, &b), -EIO);
	assert_non_null(strstr(err_msg(), "MSG_REPORT_RSP.REPORT_SIZE"));
	put_le32(rsp, 0x16);
	assert_int_equal(agent_snp_unwrap("rsp", rsp, sizeof(rsp), &b), -EIO);
	assert_string_equal(err_msg(), "rsp: MSG_REPORT_RSP.STATUS 0x16 (firmware refused the request)");
	put_le32(rsp, 0);
	put_le32(rsp + 4, 4000);
	assert_int_equal(agent_snp_unwrap("rsp", rsp, sizeof(rsp), &b), -EIO);
	assert_string_equal(err_msg(), "rsp: MSG_REPORT_RSP.REPORT_SIZE 4000, expected 1184");
	assert_int_equal(b.len, 0);
}

int main(int argc, char **argv)
{
	const char *env = getenv("CVMM_AGENT");
	char self[4096];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_snp_unwrap),
		cmocka_unit_test_setup_teardown(test_configfs_report, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_configfs_stdout, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_generation_race, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_generation_garbage, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_missing_provider, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_bad_nonce, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_bad_options, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_empty_outblob_and_auxblob, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_own_entry_removed, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_no_provider_present, tree_setup, tree_teardown),
	};

	(void)argc;
	if (env && *env) {
		snprintf(cli_path, sizeof(cli_path), "%s", env);
	} else {
		snprintf(self, sizeof(self), "%s", argv[0]);
		snprintf(cli_path, sizeof(cli_path), "%s/../cvmm-agent", dirname(self));
	}
	if (access(cli_path, X_OK)) {
		fprintf(stderr, "%s: %s is not executable (set CVMM_AGENT)\n", argv[0], cli_path);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
