/* Unit tests: host TPM 2.0 through tpm2-tss against a real software TPM.
 * The test starts its own swtpm on free loopback ports with a private state
 * directory (never a mock); it skips only when swtpm is not installed.
 * extend -> quote -> verify round trip; wrong nonce, tampered log, tampered
 * quote, wrong AK and uncovered PCRs are rejected with the reason. */
#include <arpa/inet.h>
#include <dirent.h>
#include <libgen.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/common.h"
#include "cli_run.h"
#include "measured-boot/measured_boot.h"


static struct {
	bool have_swtpm;
	pid_t pid;
	char dir[64];
	char tcti[96];
	char log[128], quote[128], sig[128], ak[128];
	uint8_t nonce[16];
} T;

static bool find_in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[512];

	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
		if (access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

static int bind_port(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons((uint16_t)port) };
	socklen_t sl = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 0);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) || getsockname(s, (struct sockaddr *)&sa, &sl)) {
		close(s);
		return -1;
	}
	return s;
}

/* Two free consecutive loopback ports: the swtpm TCTI finds the control
 * channel at port + 1. */
static void free_ports(int *a, int *b)
{
	for (int tries = 0; tries < 100; tries++) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		int s1 = bind_port(0), s2, port;

		assert_true(s1 >= 0);
		assert_int_equal(getsockname(s1, (struct sockaddr *)&sa, &sl), 0);
		port = ntohs(sa.sin_port);
		s2 = port < 65535 ? bind_port(port + 1) : -1;
		close(s1);
		if (s2 >= 0) {
			close(s2);
			*a = port;
			*b = port + 1;
			return;
		}
	}
	fail_msg("no two consecutive free loopback ports");
}

static bool port_open(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons((uint16_t)port) };
	int s = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0;

	if (s >= 0)
		close(s);
	return ok;
}

static bool start_swtpm(void)
{
	int port, ctrl;
	char server[96], ctrl_s[96], state[96];

	free_ports(&port, &ctrl);
	snprintf(server, sizeof(server), "type=tcp,port=%d,bindaddr=127.0.0.1", port);
	snprintf(ctrl_s, sizeof(ctrl_s), "type=tcp,port=%d,bindaddr=127.0.0.1", ctrl);
	snprintf(state, sizeof(state), "dir=%s", T.dir);
	T.pid = fork();
	assert_true(T.pid >= 0);
	if (T.pid == 0) {
		int null = open("/dev/null", O_RDWR);

		/* never outlive the test, even if it crashes */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(null, 0), dup2(null, 1);
		execlp("swtpm", "swtpm", "socket", "--tpm2", "--server", server, "--ctrl", ctrl_s, "--tpmstate", state,
		       "--flags", "not-need-init,startup-clear", (char *)NULL);
		_exit(127);
	}
	/* readiness, not a time limit on the code under test */
	for (int i = 0; i < 400; i++) {
		int st;

		if (waitpid(T.pid, &st, WNOHANG) == T.pid) {
			T.pid = 0;
			return false;
		}
		if (port_open(port)) {
			snprintf(T.tcti, sizeof(T.tcti), "swtpm:host=127.0.0.1,port=%d", port);
			return true;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 25 * 1000 * 1000 }, NULL);
	}
	return false;
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int setup(void **state)
{
	(void)state;
	T.have_swtpm = find_in_path("swtpm");
	if (!T.have_swtpm)
		return 0;
	strcpy(T.dir, "/tmp/cvmm_test_tpm_XXXXXX");
	if (!mkdtemp(T.dir))
		return -1;
	snprintf(T.log, sizeof(T.log), "%s/launch.log", T.dir);
	snprintf(T.quote, sizeof(T.quote), "%s/quote.bin", T.dir);
	snprintf(T.sig, sizeof(T.sig), "%s/sig.bin", T.dir);
	snprintf(T.ak, sizeof(T.ak), "%s/ak.pem", T.dir);
	for (size_t i = 0; i < sizeof(T.nonce); i++)
		T.nonce[i] = (uint8_t)(0xA0 + i);
	for (int tries = 0; tries < 3; tries++)
		if (start_swtpm())
			return 0;
	fprintf(stderr, "test_tpm: swtpm is installed but did not start\n");
	return -1;
}

static int teardown(void **state)
{
	(void)state;
	if (T.pid > 0) {
		kill(T.pid, SIGTERM);
		waitpid(T.pid, NULL, 0);
	}
	if (T.dir[0])
		rm_tree(T.dir);
	return 0;
}

#define NEED_SWTPM()                                                                                              \
	do {                                                                                                      \
		if (!T.have_swtpm) {                                                                              \
			fprintf(stderr, "swtpm not installed: skipped\n");                                      \
			skip();                                                                                   \
		}                                                                                                 \
	} while (0)

static void write_quote(const struct mb_quote *q, const char *quote, const char *ak)
{
	assert_int_equal(file_write(quote, q->quote, q->quote_len), 0);
	assert_int_equal(file_write(ak, q->ak_pem, q->ak_pem_len), 0);
}

static void test_roundtrip(void **state)
{
	const uint8_t plan1[48] = { 0x11, 0x22 }, plan2[32] = { 0x33 };
	struct mb_quote q;
	char detail[256];

	(void)state;
	NEED_SWTPM();
	assert_int_equal(mb_tpm_record_launch(T.tcti, 15, plan1, sizeof(plan1), "tenant-a guest 1", T.log), 0);
	assert_int_equal(mb_tpm_record_launch(T.tcti, 15, plan2, sizeof(plan2), "tenant-b guest 7", T.log), 0);
	assert_int_equal(mb_tpm_quote(T.tcti, 1u << 15, T.nonce, sizeof(T.nonce), &q), 0);
	assert_non_null(strstr(q.ak_pem, "BEGIN PUBLIC KEY"));
	assert_true(q.sig_len > 0 && q.sig_len < q.quote_len);
	/* the quote file ends with the same TPMT_SIGNATURE as the sig file */
	assert_memory_equal(q.quote + q.quote_len - q.sig_len, q.sig, q.sig_len);
	write_quote(&q, T.quote, T.ak);
	mb_quote_free(&q);
	assert_int_equal(mb_tpm_quote_check(T.quote, T.log, T.ak, T.nonce, sizeof(T.nonce), detail, sizeof(detail)),
			 0);
	assert_non_null(strstr(detail, "verified"));
}

static void test_wrong_nonce(void **state)
{
	uint8_t other[16];
	char detail[256];

	(void)state;
	NEED_SWTPM();
	memcpy(other, T.nonce, sizeof(other));
	other[15] ^= 1;
	assert_int_equal(mb_tpm_quote_check(T.quote, T.log, T.ak, other, sizeof(other), detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "nonce mismatch"));
	assert_int_equal(mb_tpm_quote_check(T.quote, T.log, T.ak, T.nonce, 8, detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "nonce"));
}

static void flip(const char *src, const char *dst, long off, size_t *len_out)
{
	uint8_t *b;
	size_t len;

	assert_int_equal(file_read(src, 1 << 20, &b, &len), 0);
	if (off < 0)
		off += (long)len;
	assert_true(off >= 0 && (size_t)off < len);
	b[off] ^= 0x01;
	assert_int_equal(file_write(dst, b, len), 0);
	if (len_out)
		*len_out = len;
	free(b);
}

static void test_tampered_log(void **state)
{
	char bad[160], detail[256];
	uint8_t *b;
	size_t len;

	(void)state;
	NEED_SWTPM();
	snprintf(bad, sizeof(bad), "%s/bad.log", T.dir);
	/* last byte = description of the last launch: data no longer matches its digest */
	flip(T.log, bad, -1, NULL);
	assert_int_equal(mb_tpm_quote_check(T.quote, bad, T.ak, T.nonce, sizeof(T.nonce), detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "does not match its data"));
	/* a digest byte of the first launch event (header 65 + 12 + 2) */
	flip(T.log, bad, 65 + 14, NULL);
	assert_int_equal(mb_tpm_quote_check(T.quote, bad, T.ak, T.nonce, sizeof(T.nonce), detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "event #1"));
	assert_non_null(strstr(detail, "does not match its data"));
	/* the PCR index of the first event (15 -> 14): the replay differs */
	flip(T.log, bad, 65, NULL);
	assert_int_equal(mb_tpm_quote_check(T.quote, bad, T.ak, T.nonce, sizeof(T.nonce), detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "PCR digest does not match"));
	/* a dropped event */
	assert_int_equal(file_read(T.log, 1 << 20, &b, &len), 0);
	assert_int_equal(file_write(bad, b, 65 + 50 + 10 + 48 + 16), 0); /* header + first event */
	free(b);
	assert_int_equal(mb_tpm_quote_check(T.quote, bad, T.ak, T.nonce, sizeof(T.nonce), detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "PCR digest does not match"));
	/* a truncated log cannot be parsed: error, not a verdict */
	assert_int_equal(file_write(bad, "\3\0\0\0", 4), 0);
	err_clear();
	assert_true(mb_tpm_quote_check(T.quote, bad, T.ak, T.nonce, sizeof(T.nonce), detail, sizeof(detail)) < 0);
	assert_non_null(strstr(err_msg(), "truncated"));
}

static void test_tampered_quote(void **state)
{
	char bad[160], other_ak[160], detail[256];
	EVP_PKEY *k;
	FILE *f;

	(void)state;
	NEED_SWTPM();
	snprintf(bad, sizeof(bad), "%s/bad_quote.bin", T.dir);
	/* a byte inside TPMS_ATTEST (after the 2-byte size) */
	for (long off = 2; off < 60; off += 9) {
		flip(T.quote, bad, off, NULL);
		assert_int_equal(mb_tpm_quote_check(bad, T.log, T.ak, T.nonce, sizeof(T.nonce), detail, sizeof(detail)),
				 1);
		assert_non_null(strstr(detail, "signature does not verify"));
	}
	/* a byte of the signature's S value */
	flip(T.quote, bad, -3, NULL);
	assert_int_equal(mb_tpm_quote_check(bad, T.log, T.ak, T.nonce, sizeof(T.nonce), detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "signature"));
	/* the size field: no longer a TPM2B_ATTEST + TPMT_SIGNATURE */
	flip(T.quote, bad, 1, NULL);
	err_clear();
	assert_true(mb_tpm_quote_check(bad, T.log, T.ak, T.nonce, sizeof(T.nonce), detail, sizeof(detail)) < 0);
	assert_non_null(strstr(err_msg(), "TPM2B_ATTEST"));
	/* the signature file alone is not a quote file */
	assert_true(mb_tpm_quote_check(T.sig, T.log, T.ak, T.nonce, sizeof(T.nonce), detail, sizeof(detail)) < 0);
	/* another key */
	snprintf(other_ak, sizeof(other_ak), "%s/other_ak.pem", T.dir);
	k = EVP_EC_gen("P-256");
	assert_non_null(k);
	f = fopen(other_ak, "w");
	assert_non_null(f);
	assert_true(PEM_write_PUBKEY(f, k));
	fclose(f);
	EVP_PKEY_free(k);
	assert_int_equal(mb_tpm_quote_check(T.quote, T.log, other_ak, T.nonce, sizeof(T.nonce), detail,
					    sizeof(detail)), 1);
	assert_non_null(strstr(detail, "signature does not verify"));
}

/* A log must be fully covered by the quote, and the AK is stable. */
static void test_coverage(void **state)
{
	char log2[160], q2[160], ak2[160], detail[256];
	const uint8_t plan[32] = { 0x44 };
	struct mb_quote q;
	uint8_t *a, *b;
	size_t al, bl;

	(void)state;
	NEED_SWTPM();
	snprintf(log2, sizeof(log2), "%s/launch2.log", T.dir);
	snprintf(q2, sizeof(q2), "%s/quote2.bin", T.dir);
	snprintf(ak2, sizeof(ak2), "%s/ak2.pem", T.dir);
	assert_int_equal(file_read(T.log, 1 << 20, &a, &al), 0);
	assert_int_equal(file_write(log2, a, al), 0);
	free(a);
	assert_int_equal(mb_tpm_record_launch(T.tcti, 16, plan, sizeof(plan), "pcr16 launch", log2), 0);
	/* quote of PCR 15 only: its value matches, but the log also extends 16 */
	assert_int_equal(mb_tpm_quote(T.tcti, 1u << 15, T.nonce, sizeof(T.nonce), &q), 0);
	write_quote(&q, q2, ak2);
	mb_quote_free(&q);
	assert_int_equal(mb_tpm_quote_check(q2, log2, ak2, T.nonce, sizeof(T.nonce), detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "extends pcr16"));
	/* quote of 15 and 16 */
	assert_int_equal(mb_tpm_quote(T.tcti, (1u << 15) | (1u << 16), T.nonce, sizeof(T.nonce), &q), 0);
	write_quote(&q, q2, ak2);
	mb_quote_free(&q);
	assert_int_equal(mb_tpm_quote_check(q2, log2, ak2, T.nonce, sizeof(T.nonce), detail, sizeof(detail)), 0);
	/* the AK is a primary key: the same key every time */
	assert_int_equal(file_read(T.ak, 1 << 16, &a, &al), 0);
	assert_int_equal(file_read(ak2, 1 << 16, &b, &bl), 0);
	assert_int_equal(al, bl);
	assert_memory_equal(a, b, al);
	free(a), free(b);
}

static void test_unreachable_tpm(void **state)
{
	char log[160];
	const uint8_t plan[32] = { 1 };
	struct mb_quote q;
	int port, unused;

	(void)state;
	NEED_SWTPM();
	free_ports(&port, &unused); /* nothing listens there */
	snprintf(log, sizeof(log), "%s/never.log", T.dir);
	char tcti[96];
	snprintf(tcti, sizeof(tcti), "swtpm:host=127.0.0.1,port=%d", port);
	err_clear();
	assert_true(mb_tpm_record_launch(tcti, 15, plan, sizeof(plan), "x", log) < 0);
	assert_non_null(strstr(err_msg(), "TPM"));
	assert_int_equal(access(log, F_OK), -1); /* nothing written when the extend failed */
	assert_true(mb_tpm_quote(tcti, 1u << 15, T.nonce, 4, &q) < 0);
	/* a bad PCR or an oversized nonce fail before touching the TPM */
	assert_true(mb_tpm_record_launch(T.tcti, 24, plan, sizeof(plan), "x", log) < 0);
	assert_true(mb_tpm_quote(T.tcti, 1u << 15, (const uint8_t[65]){ 0 }, 65, &q) < 0);
	assert_int_equal(access(log, F_OK), -1);
}

/* `cvmm tpm extend|quote` in-process, on PCR 14 so the main log stays valid. */
static void test_cli(void **state)
{
	char log[160], q[160], s[160], ak[160], detail[256];
	char *ext[] = { "tpm", "extend", "--tcti", T.tcti, "--digest", "00112233445566778899aabbccddeeff", "--desc",
			"cli launch", "--log", log, "--pcr", "14" };
	char *quote[] = { "tpm", "quote", "--tcti", T.tcti, "--nonce", "c0ffee", "--pcrs", "14", "--out-quote", q,
			  "--out-sig", s, "--out-ak-pub", ak };
	char *missing[] = { "tpm", "quote", "--tcti", T.tcti, "--nonce", "c0ffee" };
	char *bad_pcr[] = { "tpm", "extend", "--tcti", T.tcti, "--digest", "00", "--desc", "x", "--log", log,
			    "--pcr", "99" };
	char *bad_hex[] = { "tpm", "quote", "--tcti", T.tcti, "--nonce", "xyz", "--out-quote", q, "--out-ak-pub", ak };

	(void)state;
	NEED_SWTPM();
	snprintf(log, sizeof(log), "%s/cli.log", T.dir);
	snprintf(q, sizeof(q), "%s/cli_quote.bin", T.dir);
	snprintf(s, sizeof(s), "%s/cli_sig.bin", T.dir);
	snprintf(ak, sizeof(ak), "%s/cli_ak.pem", T.dir);
	assert_int_equal(mb_cli_tpm(ARRAY_SIZE(ext), ext), 0);
	assert_int_equal(mb_cli_tpm(ARRAY_SIZE(quote), quote), 0);
	assert_int_equal(access(s, F_OK), 0);
	assert_int_equal(mb_tpm_quote_check(q, log, ak, (const uint8_t[]){ 0xc0, 0xff, 0xee }, 3, detail,
					    sizeof(detail)), 0);
	assert_int_equal(mb_cli_tpm(ARRAY_SIZE(missing), missing), 2);
	assert_int_equal(mb_cli_tpm(ARRAY_SIZE(bad_pcr), bad_pcr), 2);
	assert_int_equal(mb_cli_tpm(ARRAY_SIZE(bad_hex), bad_hex), 2);
	assert_int_equal(mb_cli_tpm(2, (char *[]){ "tpm", "frobnicate" }), 2);
}

/* Run the cvmm binary; returns the exit code; *out and *err are malloc'ed. */
static int run_cvmm(const char *const *args, char **out, char **err)
{
	struct cli_result r;

	cli_run(&r, args);
	*out = r.out;
	*err = r.err;
	return r.code;
}

/* The whole flow through the binary: cvmm tpm extend / quote, cvmm eventlog
 * replay, and cvmm verify with an SNP fixture report plus the host quote. */
static void test_cvmm_binary(void **state)
{
	char log[160], q[160], s[160], ak[160], bad[160], *out, *err;
	const char *ext[] = { "tpm", "extend", "--tcti", T.tcti, "--digest", "abcdef0123456789", "--desc",
			      "e2e tenant", "--log", log, "--pcr", "13", NULL };
	const char *quote[] = { "tpm", "quote", "--tcti", T.tcti, "--nonce", "", "--pcrs", "13", "--out-quote", q,
				"--out-sig", s, "--out-ak-pub", ak, NULL };
	const char *replay[] = { "eventlog", "replay", log, "--json", NULL };
	const char *verify[] = { "verify", "--report", "tests/fixtures/evidence/snp/milan-virtee/report.bin", "--certs",
				 "tests/fixtures/evidence/snp/milan-virtee", "--json", "--tpm-quote", q, "--tpm-log",
				 log, "--ak-pub", ak, NULL };
	const char *verify_bad[] = { "verify", "--report", "tests/fixtures/evidence/snp/milan-virtee/report.bin",
				     "--certs", "tests/fixtures/evidence/snp/milan-virtee", "--json", "--tpm-quote", q,
				     "--tpm-log", bad, "--ak-pub", ak, NULL };
	char dead_tcti[96], never[160];
	const char *dead[] = { "tpm", "quote", "--tcti", dead_tcti, "--nonce", "00", "--out-quote", never,
			       "--out-ak-pub", never, NULL };
	int port, unused;

	(void)state;
	NEED_SWTPM();
	snprintf(log, sizeof(log), "%s/e2e.log", T.dir);
	snprintf(q, sizeof(q), "%s/e2e_quote.bin", T.dir);
	snprintf(s, sizeof(s), "%s/e2e_sig.bin", T.dir);
	snprintf(ak, sizeof(ak), "%s/e2e_ak.pem", T.dir);
	snprintf(bad, sizeof(bad), "%s/e2e_bad.log", T.dir);
	snprintf(never, sizeof(never), "%s/never.bin", T.dir);

	assert_int_equal(run_cvmm(ext, &out, &err), 0);
	assert_non_null(strstr(out, "pcr13"));
	free(out), free(err);
	assert_int_equal(run_cvmm(quote, &out, &err), 0);
	free(out), free(err);
	assert_int_equal(run_cvmm(replay, &out, &err), 0);
	assert_non_null(strstr(out, "\"pcr13\""));
	assert_non_null(strstr(out, "\"events\": 2"));
	free(out), free(err);

	assert_int_equal(run_cvmm(verify, &out, &err), 0);
	assert_non_null(strstr(out, "tpm_quote"));
	assert_non_null(strstr(out, "TPM quote verified"));
	free(out), free(err);
	flip(log, bad, -1, NULL); /* last byte of the description */
	assert_int_equal(run_cvmm(verify_bad, &out, &err), 1);
	assert_non_null(strstr(out, "does not match its data"));
	free(out), free(err);

	/* unreachable TPM: exit 2, one line, no output file */
	free_ports(&port, &unused);
	snprintf(dead_tcti, sizeof(dead_tcti), "swtpm:host=127.0.0.1,port=%d", port);
	assert_int_equal(run_cvmm(dead, &out, &err), 2);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "cvmm tpm: TPM: cannot open TCTI"));
	assert_int_equal(strchr(err, '\n') - err + 1, (long)strlen(err));
	assert_int_equal(access(never, F_OK), -1);
	free(out), free(err);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),	cmocka_unit_test(test_wrong_nonce),
		cmocka_unit_test(test_tampered_log),	cmocka_unit_test(test_tampered_quote),
		cmocka_unit_test(test_coverage),	cmocka_unit_test(test_unreachable_tpm),
		cmocka_unit_test(test_cli),		cmocka_unit_test(test_cvmm_binary),
	};
	(void)argc;
	if (cli_locate(argv[0]))
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
