/* test_endpoint.c - the host attestation endpoint (attestation/endpoint*.c)
 * on 127.0.0.1 with an ephemeral port and a fake agent on a Unix socket
 * (fake_agent.h), driven with libcurl and OpenSSL: routes, the bundle,
 * every kind of bad request (the endpoint keeps serving), the agent down or
 * refusing, TLS 1.3 only, and the printed certificate fingerprint. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "attestation/base64.h"
#include "attestation/endpoint.h"
#include "tests/fake_agent.h"

#define REPORT "tests/fixtures/evidence/snp/milan-virtee/report.bin"

struct env {
	char dir[64];
	struct fake_agent fa;
	struct att_endpoint *ep;
	unsigned port;
	char printed[512]; /* what the last att_endpoint_start wrote to stderr */
	char printed_main[512]; /* ... for the endpoint of setup() */
	uint8_t *report;
	size_t report_len;
	uint8_t manifest[40];
};

/* Start an endpoint for agent (NULL: the fake agent), capturing stderr. */
static int start_endpoint_timeout(struct env *e, const char *agent, unsigned timeout_ms, struct att_endpoint **ep,
				  unsigned *port)
{
	char path[128];
	json_t *launch = json_pack("{s:s, s:i}", "platform", "sim-snp", "vcpus", 2);
	struct att_endpoint_cfg cfg = { .listen = "127.0.0.1:0", .agent_addr = agent ? agent : e->fa.addr,
					.launch = launch, .manifest = e->manifest,
					.manifest_len = sizeof(e->manifest), .agent_timeout_ms = timeout_ms };
	int saved, fd, ret;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/stderr", e->dir);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
	dup2(fd, 2);
	ret = att_endpoint_start(&cfg, ep);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, e->printed, sizeof(e->printed) - 1, 0);
	e->printed[n > 0 ? n : 0] = 0;
	close(fd);
	json_decref(launch);
	if (!ret)
		*port = att_endpoint_port(*ep);
	return ret;
}

static int start_endpoint(struct env *e, const char *agent, struct att_endpoint **ep, unsigned *port)
{
	return start_endpoint_timeout(e, agent, 2000, ep, port);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	strcpy(e->dir, "/tmp/cvmm-endpoint-test.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	assert_int_equal(file_read(REPORT, 1 << 20, &e->report, &e->report_len), 0);
	memset(e->manifest, 0xd0, sizeof(e->manifest));
	e->fa.report = e->report;
	e->fa.report_len = e->report_len;
	assert_int_equal(fake_agent_start(&e->fa, e->dir), 0);
	assert_int_equal(start_endpoint(e, NULL, &e->ep, &e->port), 0);
	assert_true(e->port > 0);
	memcpy(e->printed_main, e->printed, sizeof(e->printed));
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];

	att_endpoint_stop(e->ep);
	fake_agent_stop(&e->fa);
	free(e->report);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
	return bb_append(arg, p, size * n) ? 0 : size * n;
}

/* One request (certificate not verified: this tests the server); returns
 * the HTTP status, 0 when the transfer failed. out gets the body. */
static long http(unsigned port, const char *method, const char *path, const char *body, size_t len,
		 struct bytebuf *out)
{
	char url[128];
	long status = 0;
	CURL *c = curl_easy_init();

	out->len = 0;
	snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	bb_append(out, "", 1); /* NUL-terminate for the string checks */
	out->len--;
	return status;
}

static long post(unsigned port, const char *path, const char *body, struct bytebuf *out)
{
	return http(port, "POST", path, body, strlen(body), out);
}

/* The "error" member of a JSON answer must contain want. */
static void assert_error(const struct bytebuf *b, const char *want)
{
	json_t *o = json_loadb((const char *)b->data, b->len, 0, NULL);
	const char *msg = json_string_value(json_object_get(o, "error"));

	if (!msg || !strstr(msg, want))
		fail_msg("error '%s' does not contain '%s'", msg ? msg : (const char *)b->data, want);
	json_decref(o);
}

static void test_health(void **state)
{
	struct env *e = *state;
	struct bytebuf b = { 0 };

	assert_int_equal(http(e->port, "GET", "/v1/health", NULL, 0, &b), 200);
	assert_string_equal((const char *)b.data, "{\"status\":\"ok\"}");
	bb_free(&b);
}

static void test_evidence_bundle(void **state)
{
	struct env *e = *state;
	static const char nonce_hex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
	struct bytebuf b = { 0 };
	struct att_bundle bun;
	uint8_t nonce[32];

	assert_int_equal(hex_decode_exact(nonce_hex, nonce, 32, "nonce"), 0);
	assert_int_equal(post(e->port, "/v1/evidence", "{\"nonce\": \"000102030405060708090a0b0c0d0e0f"
							"101112131415161718191a1b1c1d1e1f\"}", &b), 200);
	assert_int_equal(att_bundle_parse((const char *)b.data, b.len, &bun), 0);
	assert_string_equal(bun.platform, "snp");
	assert_string_equal(bun.provider, "fake");
	assert_int_equal(bun.nonce_len, 32);
	assert_memory_equal(bun.nonce, nonce, 32);
	assert_int_equal(bun.report_len, e->report_len);
	assert_memory_equal(bun.report, e->report, e->report_len);
	assert_memory_equal(bun.agent_pubkey, e->fa.pub, 32);
	assert_null(bun.cert_table);
	assert_int_equal(bun.manifest_len, sizeof(e->manifest));
	assert_memory_equal(bun.manifest, e->manifest, sizeof(e->manifest));
	assert_string_equal(json_string_value(json_object_get(bun.launch, "platform")), "sim-snp");
	att_bundle_free(&bun);
	bb_free(&b);
}

static void test_bad_requests_then_serving(void **state)
{
	struct env *e = *state;
	static const struct {
		const char *body, *error;
	} bad[] = {
		{ "{\"nonce\": \"zz0102030405060708090a0b0c0d0e0f\"}", "not a hex digit" },
		{ "{\"nonce\": \"000102030405060708090a0b0c0d0e\"}", "15 bytes, at least 16" },
		{ "{\"nonce\": \"" "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
		  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" "00\"}", "65 bytes of hex" },
		{ "{}", "missing \"nonce\"" },
		{ "{\"nonce\": 5}", "expected a string" },
		{ "nonce=00", "not JSON" },
		{ "[1]", "not a JSON object" },
		{ "{\"nonce\": \"000102030405060708090a0b0c0d0e0f\", \"x\": 1}", "unknown key" },
		{ "", "not JSON" },
	};
	struct bytebuf b = { 0 };
	unsigned before = e->fa.evidence_reqs;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(post(e->port, "/v1/evidence", bad[i].body, &b), 400);
		assert_error(&b, bad[i].error);
	}
	assert_int_equal(e->fa.evidence_reqs, before); /* nothing bad reached the agent */
	assert_int_equal(http(e->port, "GET", "/v1/health", NULL, 0, &b), 200);
	assert_int_equal(post(e->port, "/v1/evidence", "{\"nonce\": \"000102030405060708090a0b0c0d0e0f\"}", &b), 200);
	bb_free(&b);
}

static void test_too_large_and_routes(void **state)
{
	struct env *e = *state;
	size_t n = ATT_EP_BODY_MAX + 1000;
	char *big = malloc(n);
	struct bytebuf b = { 0 };

	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	assert_int_equal(http(e->port, "POST", "/v1/evidence", big, n, &b), 413);
	assert_error(&b, "too large");
	free(big);
	/* far over the limit: refused at once (413, or the connection is
	 * closed while the client still sends), and the endpoint serves on */
	n = 8 * ATT_EP_BODY_MAX;
	big = calloc(1, n);
	long st = http(e->port, "POST", "/v1/evidence", big, n, &b);
	assert_true(st == 413 || st == 0);
	free(big);
	assert_int_equal(http(e->port, "GET", "/v1/health", NULL, 0, &b), 200);
	assert_int_equal(http(e->port, "GET", "/v1/nothing", NULL, 0, &b), 404);
	assert_error(&b, "no such path");
	assert_int_equal(http(e->port, "GET", "/v1/evidence", NULL, 0, &b), 405);
	assert_error(&b, "takes POST");
	assert_int_equal(post(e->port, "/v1/health", "{}", &b), 405);
	assert_int_equal(http(e->port, "GET", "/v1/health", NULL, 0, &b), 200);
	bb_free(&b);
}

static void test_agent_down(void **state)
{
	struct env *e = *state;
	struct att_endpoint *ep;
	unsigned port;
	char addr[128];
	struct bytebuf b = { 0 };

	snprintf(addr, sizeof(addr), "unix:%s/nobody.sock", e->dir);
	assert_int_equal(start_endpoint(e, addr, &ep, &port), 0);
	assert_int_equal(post(port, "/v1/evidence", "{\"nonce\": \"000102030405060708090a0b0c0d0e0f\"}", &b), 502);
	assert_error(&b, "agent unreachable");
	assert_int_equal(http(port, "GET", "/v1/health", NULL, 0, &b), 200);
	att_endpoint_stop(ep);
	bb_free(&b);
}

/* An agent slower than the endpoint's agent timeout: 504. */
static void test_agent_timeout(void **state)
{
	struct env *e = *state;
	struct att_endpoint *ep;
	unsigned port;
	struct bytebuf b = { 0 };

	assert_int_equal(start_endpoint_timeout(e, NULL, 200, &ep, &port), 0);
	e->fa.delay_ms = 700;
	assert_int_equal(post(port, "/v1/evidence", "{\"nonce\": \"000102030405060708090a0b0c0d0e0f\"}", &b), 504);
	e->fa.delay_ms = 0;
	assert_error(&b, "agent timed out");
	usleep(800 * 1000); /* the one-thread fake agent finishes the late answer */
	assert_int_equal(post(port, "/v1/evidence", "{\"nonce\": \"000102030405060708090a0b0c0d0e0f\"}", &b), 200);
	att_endpoint_stop(ep);
	bb_free(&b);
}

/* A secret wrapped for the nonce of an evidence request reaches the agent;
 * a replay of the same request is refused (403), as is one for another key. */
static void test_secret_relayed(void **state)
{
	struct env *e = *state;
	static const char nonce_hex[] = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";
	static const uint8_t secret[] = "disk key 0123456789";
	uint8_t nonce[16], other_priv[32], other_pub[32];
	struct att_wrapped w = { 0 };
	struct bytebuf b = { 0 };
	char body[1024], req[256], *ct, kh[65];

	assert_int_equal(hex_decode_exact(nonce_hex, nonce, 16, "nonce"), 0);
	snprintf(req, sizeof(req), "{\"nonce\": \"%s\"}", nonce_hex);
	assert_int_equal(post(e->port, "/v1/evidence", req, &b), 200);
	assert_int_equal(att_secret_wrap(e->fa.pub, nonce, 16, "disk.key", secret, sizeof(secret), &w), 0);
	assert_int_equal(att_b64_encode(w.ciphertext.data, w.ciphertext.len, &ct), 0);
	hex_encode(w.eph_pubkey, 32, kh);
	snprintf(body, sizeof(body),
		 "{\"nonce\": \"%s\", \"name\": \"disk.key\", \"ephemeral_pubkey\": \"%s\", \"ciphertext\": \"%s\"}",
		 nonce_hex, kh, ct);
	assert_int_equal(post(e->port, "/v1/secret", body, &b), 200);
	assert_string_equal((const char *)b.data, "{\"status\":\"stored\"}");
	assert_int_equal(e->fa.secrets, 1);
	assert_string_equal(e->fa.secret_name, "disk.key");
	assert_int_equal(e->fa.secret.len, sizeof(secret));
	assert_memory_equal(e->fa.secret.data, secret, sizeof(secret));
	/* the same again: the nonce is used up */
	assert_int_equal(post(e->port, "/v1/secret", body, &b), 403);
	assert_error(&b, "agent: no evidence was given for this nonce");
	free(ct);
	bb_free(&w.ciphertext);

	/* wrapped to another key */
	assert_int_equal(post(e->port, "/v1/evidence", req, &b), 200);
	assert_int_equal(att_x25519_keygen(other_priv, other_pub), 0);
	assert_int_equal(att_secret_wrap(other_pub, nonce, 16, "disk.key", secret, sizeof(secret), &w), 0);
	assert_int_equal(att_b64_encode(w.ciphertext.data, w.ciphertext.len, &ct), 0);
	hex_encode(w.eph_pubkey, 32, kh);
	snprintf(body, sizeof(body),
		 "{\"nonce\": \"%s\", \"name\": \"disk.key\", \"ephemeral_pubkey\": \"%s\", \"ciphertext\": \"%s\"}",
		 nonce_hex, kh, ct);
	assert_int_equal(post(e->port, "/v1/secret", body, &b), 403);
	assert_error(&b, "not for this agent's key");
	assert_int_equal(e->fa.secrets, 1);
	free(ct);
	bb_free(&w.ciphertext);

	/* malformed secret requests never reach the agent */
	assert_int_equal(post(e->port, "/v1/secret", "{\"nonce\": \"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\", \"name\": "
				"\"../etc/passwd\", \"ephemeral_pubkey\": \"00\", \"ciphertext\": \"\"}", &b), 400);
	assert_error(&b, "\"name\"");
	snprintf(body, sizeof(body), "{\"nonce\": \"%s\", \"name\": \"k\", \"ephemeral_pubkey\": \"%s\", "
		 "\"ciphertext\": \"@@@@\"}", nonce_hex, kh);
	assert_int_equal(post(e->port, "/v1/secret", body, &b), 400);
	assert_error(&b, "\"ciphertext\": not base64");
	bb_free(&b);
}

/* TLS handshake with OpenSSL, protocol at most max; the served certificate's
 * SHA-256 into fp. Returns whether the handshake succeeded. */
static bool tls_handshake(unsigned port, int max, uint8_t fp[32])
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	BIO *bio;
	SSL *ssl = NULL;
	X509 *cert;
	char host[32];
	bool ok;

	SSL_CTX_set_max_proto_version(ctx, max);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	bio = BIO_new_ssl_connect(ctx);
	snprintf(host, sizeof(host), "127.0.0.1:%u", port);
	BIO_set_conn_hostname(bio, host);
	ok = BIO_do_connect(bio) == 1 && BIO_do_handshake(bio) == 1;
	if (ok) {
		unsigned int n = 0;

		BIO_get_ssl(bio, &ssl);
		cert = SSL_get1_peer_certificate(ssl);
		assert_non_null(cert);
		assert_int_equal(X509_digest(cert, EVP_sha256(), fp, &n), 1);
		assert_int_equal(SSL_version(ssl), TLS1_3_VERSION);
		X509_free(cert);
	}
	BIO_free_all(bio);
	SSL_CTX_free(ctx);
	return ok;
}

static void test_tls13_only_and_fingerprint(void **state)
{
	struct env *e = *state;
	uint8_t fp[32], printed[32];
	char want[200], *p;

	assert_false(tls_handshake(e->port, TLS1_2_VERSION, fp));
	assert_true(tls_handshake(e->port, 0, fp));
	snprintf(want, sizeof(want), "attestation endpoint: https://127.0.0.1:%u (self-signed certificate, "
		 "SHA-256 fingerprint ", e->port);
	p = strstr(e->printed_main, want);
	assert_non_null(p);
	p += strlen(want);
	assert_int_equal(strlen(p), 64 + 2); /* hex, ")\n" */
	assert_string_equal(p + 64, ")\n");
	p[64] = 0;
	assert_int_equal(hex_decode_exact(p, printed, 32, "fingerprint"), 0);
	assert_memory_equal(printed, fp, 32);
	/* the server still serves after the refused handshake */
	struct bytebuf b = { 0 };
	assert_int_equal(http(e->port, "GET", "/v1/health", NULL, 0, &b), 200);
	bb_free(&b);
}

/* cvmm attest's client: the pinned fingerprint is accepted, another one and
 * the system CAs (a self-signed certificate) are not. */
static void test_client_pinning(void **state)
{
	struct env *e = *state;
	uint8_t fp[32], wrong[32];
	char url[128];
	struct att_https h = { .timeout_s = 10 };
	struct bytebuf b = { 0 };
	long status = 0;

	assert_true(tls_handshake(e->port, 0, fp));
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/v1/evidence", e->port);
	h.pin = fp;
	assert_int_equal(att_https_post(&h, url, "{\"nonce\": \"000102030405060708090a0b0c0d0e0f\"}", &b, &status), 0);
	assert_int_equal(status, 200);
	memcpy(wrong, fp, 32);
	wrong[31] ^= 1;
	h.pin = wrong;
	assert_int_equal(att_https_post(&h, url, "{}", &b, &status), -EIO);
	h.pin = NULL;
	assert_int_equal(att_https_post(&h, url, "{}", &b, &status), -EIO);
	bb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_evidence_bundle),
		cmocka_unit_test(test_bad_requests_then_serving),
		cmocka_unit_test(test_too_large_and_routes),
		cmocka_unit_test(test_agent_down),
		cmocka_unit_test(test_agent_timeout),
		cmocka_unit_test(test_secret_relayed),
		cmocka_unit_test(test_tls13_only_and_fingerprint),
		cmocka_unit_test(test_client_pinning),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	int ret = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return ret;
}
