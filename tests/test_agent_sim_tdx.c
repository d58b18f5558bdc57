/* test_agent_sim_tdx.c - cvmm-agent against the sim-tdx TDX module over Unix
 * sockets: the built agent (serve --provider sim) talks to a real sim-tdx
 * channel (tdx/sim_channel.c), finds out from its PLATFORM_RSP that it is a
 * TDX platform, and answers an evidence request with platform "tdx",
 * provider "sim-tdx", a TD quote whose REPORTDATA binds the nonce and the
 * agent's key, and no certificate table; the quote verifies with allow_sim
 * (affirming, simulated). `cvmm-agent rtmr-extend` extends RTMR3 and the
 * next quote carries the value it printed. `cvmm attest` through the HTTPS
 * endpoint (att_endpoint_start, the agent behind it): --allow-sim and the
 * MRTD as --expect-measurement -> affirming (tdx), the device manifest
 * matched against MRCONFIGID, the secret stored by the agent; without
 * --allow-sim or with another MRTD -> exit 1 and no secret. The binary is
 * $CVMM_AGENT, else the cvmm-agent of the test's build directory. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "attestation/attestation.h"
#include "attestation/base64.h"
#include "attestation/endpoint.h"
#include "attestation/proto/proto.h"
#include "attestation/tdx_quote.h"
#include "common/common.h"
#include "measured-boot/measured_boot.h"
#include "tdx/tdx.h"

static char agent_bin[4096];
static struct {
	char dir[256], agent_addr[300], sim_addr[300], secrets[300], err[300];
	struct tdx_sim *s;
	struct tdx_sim_channel *ch;
	pid_t pid;
	uint8_t manifest[24];
	char mrtd_hex[97];
} E;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char store[300];
	uint8_t mrtd[48], cfg[48];

	(void)state;
	snprintf(E.dir, sizeof(E.dir), "%s/cvmm-agent-tdx.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(E.dir));
	snprintf(E.agent_addr, sizeof(E.agent_addr), "unix:%s/agent.sock", E.dir);
	snprintf(E.sim_addr, sizeof(E.sim_addr), "unix:%s/sim.sock", E.dir);
	snprintf(E.secrets, sizeof(E.secrets), "%s/secrets", E.dir);
	snprintf(E.err, sizeof(E.err), "%s/agent.err", E.dir);
	snprintf(store, sizeof(store), "%s/store", E.dir);
	for (int i = 0; i < 48; i++)
		mrtd[i] = (uint8_t)(0xc0 + i);
	hex_encode(mrtd, 48, E.mrtd_hex);
	/* MRCONFIGID = SHA-384 of the device manifest, as cvmm run records it */
	memset(E.manifest, 0x6d, sizeof(E.manifest));
	assert_true(EVP_Digest(E.manifest, sizeof(E.manifest), cfg, NULL, EVP_sha384(), NULL));
	assert_int_equal(tdx_sim_open(store, &E.s), 0);
	assert_int_equal(tdx_sim_launch(E.s, mrtd, cfg), 0);
	assert_int_equal(tdx_sim_channel_start(E.s, E.sim_addr, 0, &E.ch), 0);
	E.pid = fork();
	assert_true(E.pid >= 0);
	if (!E.pid) {
		int fd = open(E.err, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execl(agent_bin, agent_bin, "serve", "--listen", E.agent_addr, "--provider", "sim", "--sim-channel",
		      E.sim_addr, "--secret-dir", E.secrets, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		int st, c = att_sock_connect(E.agent_addr, 1000);

		if (c >= 0) {
			close(c);
			break;
		}
		assert_int_equal(waitpid(E.pid, &st, WNOHANG), 0);
		usleep(10000);
	}
	return 0;
}

static int group_teardown(void **state)
{
	int st;

	(void)state;
	kill(E.pid, SIGTERM);
	waitpid(E.pid, &st, 0);
	tdx_sim_channel_stop(E.ch);
	tdx_sim_close(E.s);
	nftw(E.dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Evidence for nonce: checked, the quote's RTMR3 copied out. */
static void evidence(const uint8_t *nonce, size_t len, uint8_t rtmr3[48])
{
	struct att_msg q = { .type = ATT_MSG_EVIDENCE_REQ, .nonce = nonce, .nonce_len = len }, r;
	struct bytebuf f = { 0 };
	struct att_options o = { .allow_sim = true };
	struct att_result res;
	struct tdx_quote tq;
	uint8_t want[64];

	assert_int_equal(att_agent_call(E.agent_addr, 10000, &q, &f, &r), 0);
	assert_int_equal(r.type, ATT_MSG_EVIDENCE_RSP);
	assert_int_equal(r.platform_len, 3);
	assert_memory_equal(r.platform, "tdx", 3);
	assert_int_equal(r.provider_len, 7);
	assert_memory_equal(r.provider, "sim-tdx", 7);
	assert_null(r.cert_table);
	assert_int_equal(tdx_quote_parse(r.report, r.report_len, "quote", &tq), 0);
	assert_int_equal(att_bind_report_data(nonce, len, r.pubkey, r.pubkey_len, want), 0);
	assert_memory_equal(tq.body + TDX_B_REPORT_DATA, want, 64);
	assert_int_equal(tq.body[TDX_B_MRTD], 0xc0);
	memcpy(rtmr3, tq.body + TDX_B_RTMR0 + 144, 48);
	/* the CCEL comes along and replays to the quote's RTMRs */
	{
		uint8_t rtmr[4][48];
		char detail[200];

		assert_non_null(r.event_log);
		memcpy(rtmr, tq.body + TDX_B_RTMR0, sizeof(rtmr));
		assert_int_equal(mb_ccel_check_rtmrs(r.event_log, r.event_log_len, (const uint8_t(*)[48])rtmr, detail,
						     sizeof(detail)), 0);
	}
	assert_int_equal(att_result_init(&res, "tdx"), 0);
	assert_int_equal(att_tdx_verify(r.report, r.report_len, &o, &res), 0);
	assert_int_equal(att_result_status(&res), ATT_AFFIRMING);
	assert_true(res.simulated);
	att_result_free(&res);
	bb_free(&f);
}

static void test_tdx_evidence(void **state)
{
	uint8_t nonce[32], rtmr3[48], zero[48] = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(i * 7);
	evidence(nonce, sizeof(nonce), rtmr3);
	assert_memory_equal(rtmr3, zero, 48);
}

/* Run cvmm-agent rtmr-extend with args; its stdout (first line) into out. */
static int run_extend(const char *const *args, char *out, size_t n)
{
	int p[2], st;
	pid_t pid;
	ssize_t got;
	size_t len = 0;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		const char *argv[16] = { agent_bin, "rtmr-extend", "--sim-channel", E.sim_addr };
		int k = 4;

		for (int i = 0; args[i] && k < 15; i++)
			argv[k++] = args[i];
		argv[k] = NULL;
		dup2(p[1], 1);
		close(p[0]);
		execv(agent_bin, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	while (len + 1 < n && (got = read(p[0], out + len, n - 1 - len)) > 0)
		len += (size_t)got;
	out[len] = 0;
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_rtmr_extend(void **state)
{
	static const char *const good[] = { "--index", "3", "--data", "cvmm-test", NULL };
	static const char *const rtmr0[] = { "--index", "0", "--data", "x", NULL };
	uint8_t nonce[16] = { 1 }, rtmr3[48], zero[48] = { 0 }, d[48], want[48], printed[48];
	char out[256];

	(void)state;
	assert_int_equal(run_extend(good, out, sizeof(out)), 0);
	out[96] = 0;
	assert_int_equal(hex_decode_exact(out, printed, 48, "stdout"), 0);
	assert_true(EVP_Digest("cvmm-test", 9, d, NULL, EVP_sha384(), NULL));
	assert_int_equal(tdx_rtmr_fold(zero, d, want), 0);
	assert_memory_equal(printed, want, 48);
	evidence(nonce, sizeof(nonce), rtmr3);
	assert_memory_equal(rtmr3, want, 48);
	/* RTMR0 is refused by the agent itself (usage error) */
	assert_int_equal(run_extend(rtmr0, out, sizeof(out)), 2);
}

/* ---- cvmm attest through the endpoint ---- */

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* cvmm attest URL args... with stdout into out_path; its exit status. */
static int attest(const char *out_path, const char *url, const char *const *args)
{
	char *argv[32] = { "attest", (char *)url };
	int argc = 2, saved, fd, code;

	for (int i = 0; args[i] && argc < 31; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	fflush(stdout);
	saved = dup(1);
	fd = open(out_path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	dup2(fd, 1);
	close(fd);
	code = att_cli_attest(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	return code;
}

static char *slurp(const char *path)
{
	uint8_t *p;
	size_t n;
	char *s;

	assert_int_equal(file_read(path, 1 << 20, &p, &n), 0);
	s = calloc(1, n + 1);
	assert_non_null(s);
	memcpy(s, p, n);
	free(p);
	return s;
}

/* Copy the bundle with one byte of the last event's digest flipped (the
 * host lying about an RTMR event); nonce_hex gets the bundle's nonce. */
static void tamper_event_log(const char *in, const char *out, char *nonce_hex)
{
	json_t *o = json_load_file(in, 0, NULL);
	const char *b64 = json_string_value(json_object_get(o, "event_log"));
	uint8_t *log;
	size_t n;
	char *enc;

	assert_non_null(b64);
	snprintf(nonce_hex, 2 * ATT_NONCE_MAX + 1, "%s", json_string_value(json_object_get(o, "nonce")));
	assert_int_equal(att_b64_decode(b64, strlen(b64), 1 << 20, "event_log", &log, &n), 0);
	/* the last record ends with u32 event size and the event bytes ("cvmm-test"); its digest is before */
	assert_true(n > 9 + 4 + 48);
	log[n - 9 - 4 - 1] ^= 1;
	assert_int_equal(att_b64_encode(log, n, &enc), 0);
	json_object_set_new(o, "event_log", json_string(enc));
	assert_int_equal(json_dump_file(o, out, 0), 0);
	free(enc);
	free(log);
	json_decref(o);
}

static void test_attest_flow(void **state)
{
	struct att_endpoint_cfg cfg = { .listen = "127.0.0.1:0", .agent_addr = E.agent_addr, .manifest = E.manifest,
					.manifest_len = sizeof(E.manifest) };
	struct att_ep_tls t;
	struct att_endpoint *ep;
	char cert[400], key[400], secret[400], out[400], fp[65], url[64], stored[400], other[97];
	char bundle[400], tampered[400], nonce_hex[2 * ATT_NONCE_MAX + 1];
	char *o;

	(void)state;
	assert_int_equal(att_ep_tls_self_signed("127.0.0.1", &t), 0);
	snprintf(cert, sizeof(cert), "%s/cert.pem", E.dir);
	snprintf(key, sizeof(key), "%s/key.pem", E.dir);
	snprintf(secret, sizeof(secret), "%s/secret.bin", E.dir);
	snprintf(out, sizeof(out), "%s/attest.out", E.dir);
	snprintf(stored, sizeof(stored), "%s/tdx-key", E.secrets);
	snprintf(bundle, sizeof(bundle), "%s/bundle.json", E.dir);
	snprintf(tampered, sizeof(tampered), "%s/tampered.json", E.dir);
	write_text(cert, t.cert_pem);
	write_text(key, t.key_pem);
	write_text(secret, "the TD's disk key");
	hex_encode(t.fingerprint, 32, fp);
	att_ep_tls_free(&t);
	cfg.tls_cert = cert;
	cfg.tls_key = key;
	assert_int_equal(att_endpoint_start(&cfg, &ep), 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", att_endpoint_port(ep));
	snprintf(other, sizeof(other), "%s", E.mrtd_hex);
	other[0] = other[0] == '0' ? '1' : '0';
	{
		const char *const nosim[] = { "--tls-fingerprint", fp, "--expect-measurement", E.mrtd_hex, "--secret",
					      secret, "--secret-name", "tdx-key", NULL };
		const char *const wrong[] = { "--tls-fingerprint", fp, "--allow-sim", "--expect-measurement", other,
					      "--secret", secret, "--secret-name", "tdx-key", NULL };
		const char *const good[] = { "--tls-fingerprint", fp, "--allow-sim", "--expect-measurement", E.mrtd_hex,
					     "--secret", secret, "--secret-name", "tdx-key", NULL };

		assert_int_equal(attest(out, url, nosim), 1);
		assert_int_equal(access(stored, F_OK), -1);
		assert_int_equal(attest(out, url, wrong), 1);
		o = slurp(out);
		assert_non_null(strstr(o, "contraindicated"));
		free(o);
		assert_int_equal(access(stored, F_OK), -1);
		const char *const save[] = { "--tls-fingerprint", fp, "--allow-sim", "--expect-measurement", E.mrtd_hex,
					     "--save-bundle", bundle, NULL };

		/* a saved bundle: its event log verifies; tampered, it does not */
		assert_int_equal(attest(out, url, save), 0);
		o = slurp(out);
		assert_non_null(strstr(o, "tdx.event_log"));
		free(o);
		tamper_event_log(bundle, tampered, nonce_hex);
		{
			const char *const replay[] = { "--bundle", bundle, "--nonce", nonce_hex, "--allow-sim",
						       "--expect-measurement", E.mrtd_hex, NULL };
			const char *const bad[] = { "--bundle", tampered, "--nonce", nonce_hex, "--allow-sim",
						    "--expect-measurement", E.mrtd_hex, NULL };

			assert_int_equal(attest(out, replay[0], replay + 1), 0);
			assert_int_equal(attest(out, bad[0], bad + 1), 1);
			o = slurp(out);
			assert_non_null(strstr(o, "FAIL tdx.event_log"));
			free(o);
		}
		assert_int_equal(attest(out, url, good), 0);
		o = slurp(out);
		assert_non_null(strstr(o, "affirming (tdx)"));
		assert_non_null(strstr(o, "not rooted in Intel hardware"));
		assert_non_null(strstr(o, "equals MRCONFIGID"));
		assert_non_null(strstr(o, "released"));
		free(o);
	}
	o = slurp(stored);
	assert_string_equal(o, "the TD's disk key");
	free(o);
	att_endpoint_stop(ep);
}

int main(int argc, char **argv)
{
	const char *env = getenv("CVMM_AGENT");
	char self[4096];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdx_evidence),
		cmocka_unit_test(test_rtmr_extend),
		cmocka_unit_test(test_attest_flow),
	};

	(void)argc;
	if (env && *env) {
		snprintf(agent_bin, sizeof(agent_bin), "%s", env);
	} else {
		snprintf(self, sizeof(self), "%s", argv[0]);
		snprintf(agent_bin, sizeof(agent_bin), "%s/../cvmm-agent", dirname(self));
	}
	if (access(agent_bin, X_OK)) {
		fprintf(stderr, "%s: %s is not executable (set CVMM_AGENT)\n", argv[0], agent_bin);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
