/* Unit tests: `cvmm fetch-certs` error paths against the in-process HTTPS
 * server of tests/fetch_certs_server.h: HTTP 404, an untrusted TLS
 * certificate, offline cache misses, usage errors, and servers that answer
 * with the wrong thing. Each must exit 2 with one message naming the URL
 * or field, and write nothing. */
#include "tests/fetch_certs_server.h"

static void test_http_404(void **state)
{
	struct env *e = *state;
	char out[256], cache[256];

	path_in(e, "404-out", out, sizeof(out));
	path_in(e, "404-cache", cache, sizeof(cache));
	/* A v2 report names no product; the server serves no Genoa. */
	assert_int_equal(cli("--report", SNP_DIR "milan-virtee/report.bin", "--product", "Genoa", "--out", out,
			     "--cache", cache, "--kds-url", e->srv.base, "--ca-bundle", e->ca_file, NULL),
			 2);
	assert_non_null(strstr(err_msg(), "/vcek/v1/Genoa/cert_chain"));
	assert_non_null(strstr(err_msg(), "HTTP status 404"));
	assert_true(dir_empty_or_missing(out));
	assert_true(dir_empty_or_missing(cache)); /* errors are not cached */
}

static void test_tls_untrusted(void **state)
{
	struct env *e = *state;
	char out[256], cache[256];
	int before = server_requests(&e->srv);

	path_in(e, "tls-out", out, sizeof(out));
	path_in(e, "tls-cache", cache, sizeof(cache));
	/* No --ca-bundle: the test CA is not in the system store. */
	assert_int_equal(cli("--report", SNP_DIR "milan-virtee/report.bin", "--product", "Milan", "--out", out,
			     "--cache", cache, "--kds-url", e->srv.base, NULL),
			 2);
	assert_non_null(strstr(err_msg(), e->srv.base));
	assert_true(strstr(err_msg(), "certificate") || strstr(err_msg(), "SSL"));
	assert_int_equal(server_requests(&e->srv) - before, 0); /* no HTTP request got through */
	assert_true(dir_empty_or_missing(out));
}

static void test_offline_miss_and_usage(void **state)
{
	struct env *e = *state;
	char out[256], cache[256];

	path_in(e, "off-out", out, sizeof(out));
	path_in(e, "off-cache", cache, sizeof(cache));
	assert_int_equal(cli("--report", SNP_DIR "milan-virtee/report.bin", "--product", "Milan", "--out", out,
			     "--cache", cache, "--offline", "--kds-url", e->srv.base, NULL),
			 2);
	assert_non_null(strstr(err_msg(), "not in the cache"));
	assert_true(dir_empty_or_missing(out));

	assert_int_equal(cli("--out", out, NULL), 2);
	assert_non_null(strstr(err_msg(), "exactly one of"));
	assert_int_equal(cli("--report", "a", "--quote", "b", "--out", out, NULL), 2);
	assert_int_equal(cli("--report", SNP_DIR "milan-virtee/report.bin", NULL), 2);
	assert_non_null(strstr(err_msg(), "--out"));
	assert_int_equal(cli("--report", SNP_DIR "milan-virtee/report.bin", "--out", out, "--kds-url",
			     "http://127.0.0.1", NULL),
			 2);
	assert_non_null(strstr(err_msg(), "https://"));
	assert_int_equal(cli("--bogus", NULL), 2);
	assert_int_equal(cli("--timeout", "0", "--out", out, NULL), 2);
	assert_non_null(strstr(err_msg(), "--timeout"));
	assert_int_equal(cli("--help", NULL), 0);
	/* v2 report without --product: told what to pass. */
	assert_int_equal(cli("--report", SNP_DIR "milan-virtee/report.bin", "--out", out, "--cache", cache, NULL), 2);
	assert_non_null(strstr(err_msg(), "--product"));
	/* Wrong evidence kind. */
	assert_int_equal(cli("--quote", SNP_DIR "milan-virtee/report.bin", "--out", out, "--cache", cache, NULL), 2);
	assert_non_null(strstr(err_msg(), "header.version"));
}

static void test_hostile_responses(void **state)
{
	struct env *e = *state;
	char out[256], cache[256], base[128], p[512];

	path_in(e, "bad-out", out, sizeof(out));
	path_in(e, "bad-cache", cache, sizeof(cache));

	snprintf(base, sizeof(base), "%s/swap/", e->srv.base); /* trailing '/' is trimmed */
	assert_int_equal(cli("--report", SNP_DIR "milan-virtee/report.bin", "--product", "Milan", "--out", out,
			     "--cache", cache, "--kds-url", base, "--ca-bundle", e->ca_file, NULL),
			 2);
	assert_non_null(strstr(err_msg(), "(ARK) is not self-issued or did not issue"));
	assert_true(dir_empty_or_missing(out));

	snprintf(base, sizeof(base), "%s/garbage", e->srv.base);
	assert_int_equal(cli("--report", SNP_DIR "milan-virtee/report.bin", "--product", "Milan", "--out", out,
			     "--cache", cache, "--kds-url", base, "--ca-bundle", e->ca_file, NULL),
			 2);
	assert_non_null(strstr(err_msg(), "not one DER X.509 certificate"));
	assert_non_null(strstr(err_msg(), "/garbage/vcek/v1/Milan/"));
	assert_true(dir_empty_or_missing(out));
	/* What failed its check was not cached; what passed was. */
	assert_int_equal(cli("--report", SNP_DIR "milan-virtee/report.bin", "--product", "Milan", "--out", out,
			     "--cache", cache, "--offline", "--kds-url", base, NULL),
			 2);
	assert_non_null(strstr(err_msg(), "/garbage/vcek/v1/Milan/"));
	assert_non_null(strstr(err_msg(), "not in the cache"));

	snprintf(base, sizeof(base), "%s/nohdr", e->srv.base);
	assert_int_equal(cli("--quote", TDX_DIR "quote.bin", "--out", out, "--cache", cache, "--pcs-url", base,
			     "--certs-url", e->srv.base, "--ca-bundle", e->ca_file, NULL),
			 2);
	assert_non_null(strstr(err_msg(), "no TCB-Info-Issuer-Chain header"));

	snprintf(base, sizeof(base), "%s/otherfmspc", e->srv.base);
	assert_int_equal(cli("--quote", TDX_DIR "quote.bin", "--out", out, "--cache", cache, "--pcs-url", base,
			     "--certs-url", e->srv.base, "--ca-bundle", e->ca_file, NULL),
			 2);
	assert_non_null(strstr(err_msg(), "FMSPC 00906ed50000, not the quote's 50806f000000"));
	assert_true(dir_empty_or_missing(out));

	/* A PEM CRL is accepted and written as DER. */
	snprintf(base, sizeof(base), "%s/pem", e->srv.base);
	assert_int_equal(cli("--quote", TDX_DIR "quote.bin", "--out", out, "--cache", cache, "--pcs-url", base,
			     "--certs-url", e->srv.base, "--ca-bundle", e->ca_file, NULL),
			 0);
	snprintf(p, sizeof(p), "%s/pckcrl.der", out);
	assert_same_file(p, TDX_DIR "collateral/pckcrl.der");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_http_404, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_untrusted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offline_miss_and_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_responses, setup, teardown),
	};

	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		fprintf(stderr, "libmicrohttpd was built without TLS\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
