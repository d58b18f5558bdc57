/* Unit tests: `cvmm fetch-certs` fetching from an in-process HTTPS server
 * that serves the evidence fixtures under the AMD KDS and Intel PCS URL
 * layouts (tests/fetch_certs_server.h): the files written, the cache, the
 * URL layouts per product, and the evidence readers on hostile input.
 * Error paths: test_fetch_certs_errors.c. */
#include "tests/fetch_certs_server.h"

static void test_snp_vcek_then_cache(void **state)
{
	struct env *e = *state;
	char out1[256], out2[256], out3[256], cache[256];
	int before;

	path_in(e, "snp-out1", out1, sizeof(out1));
	path_in(e, "snp-out2", out2, sizeof(out2));
	path_in(e, "snp-out3", out3, sizeof(out3));
	path_in(e, "snp-cache", cache, sizeof(cache));
	before = server_requests(&e->srv);
	assert_int_equal(cli("--report", SNP_DIR "milan-virtee/report.bin", "--product", "milan", "--out", out1,
			     "--cache", cache, "--kds-url", e->srv.base, "--ca-bundle", e->ca_file, NULL),
			 0);
	assert_int_equal(server_requests(&e->srv) - before, 3); /* chain, VCEK, CRL */
	check_vcek_out(e, out1);

	/* Second run: everything from the cache, no request at all. */
	before = server_requests(&e->srv);
	assert_int_equal(cli("--report", SNP_DIR "milan-virtee/report.bin", "--product", "Milan", "--out", out2,
			     "--cache", cache, "--kds-url", e->srv.base, "--ca-bundle", e->ca_file, NULL),
			 0);
	assert_int_equal(server_requests(&e->srv) - before, 0);
	check_vcek_out(e, out2);

	/* --offline with the cache: same files, and no network. */
	assert_int_equal(cli("--report", SNP_DIR "milan-virtee/report.bin", "--product", "Milan", "--out", out3,
			     "--cache", cache, "--offline", "--kds-url", e->srv.base, NULL),
			 0);
	assert_int_equal(server_requests(&e->srv) - before, 0);
	check_vcek_out(e, out3);
}

/* A v3 report names its product by CPUID; a VLEK report fetches the VLEK
 * chain (ASVK, ARK) and CRL but no per-chip certificate. */
static void test_snp_vlek_product_from_cpuid(void **state)
{
	struct env *e = *state;
	char out[256], cache[256], p[512];

	path_in(e, "vlek-out", out, sizeof(out));
	path_in(e, "vlek-cache", cache, sizeof(cache));
	assert_int_equal(cli("--report", SNP_DIR "milan-vlek-trustee/report.bin", "--out", out, "--cache", cache,
			     "--kds-url", e->srv.base, "--ca-bundle", e->ca_file, NULL),
			 0);
	snprintf(p, sizeof(p), "%s/asvk.pem", out);
	assert_same_file(p, SNP_DIR "milan-vlek-trustee/asvk.pem");
	snprintf(p, sizeof(p), "%s/ark.pem", out);
	assert_same_file(p, SNP_DIR "milan-vlek-trustee/ark.pem");
	snprintf(p, sizeof(p), "%s/crl.der", out);
	assert_file_bytes(p, e->pki.crl_der, (size_t)e->pki.crl_len);
	assert_false(exists(out, "vcek.der"));
	assert_false(exists(out, "ask.pem"));

	/* The report's CPUID says Milan: another product is refused. */
	assert_int_equal(cli("--report", SNP_DIR "milan-vlek-trustee/report.bin", "--product", "Genoa", "--out", out,
			     "--cache", cache, "--kds-url", e->srv.base, "--ca-bundle", e->ca_file, NULL),
			 2);
	assert_non_null(strstr(err_msg(), "CPUID says Milan"));
}

static void test_tdx_collateral_then_cache(void **state)
{
	struct env *e = *state;
	char out[256], out2[256], cache[256], p[512];
	const uint8_t *pem;
	uint8_t *quote;
	size_t qlen, pem_len;
	int before;

	path_in(e, "tdx-out", out, sizeof(out));
	path_in(e, "tdx-out2", out2, sizeof(out2));
	path_in(e, "tdx-cache", cache, sizeof(cache));
	before = server_requests(&e->srv);
	assert_int_equal(cli("--quote", TDX_DIR "quote.bin", "--out", out, "--cache", cache, "--pcs-url", e->srv.base,
			     "--certs-url", e->srv.base, "--ca-bundle", e->ca_file, NULL),
			 0);
	assert_int_equal(server_requests(&e->srv) - before, 4);
	for (int pass = 0; pass < 2; pass++) {
		const char *dir = pass ? out2 : out;

		snprintf(p, sizeof(p), "%s/tcbinfo.json", dir);
		assert_same_file(p, TDX_DIR "collateral/tcbinfo.json");
		snprintf(p, sizeof(p), "%s/qe_identity.json", dir);
		assert_same_file(p, TDX_DIR "collateral/qe_identity.json");
		snprintf(p, sizeof(p), "%s/pckcrl.der", dir);
		assert_same_file(p, TDX_DIR "collateral/pckcrl.der");
		snprintf(p, sizeof(p), "%s/rootcrl.der", dir);
		assert_same_file(p, TDX_DIR "collateral/rootcrl.der");
		/* The header's URL-encoded PEM, decoded. */
		snprintf(p, sizeof(p), "%s/tcb_signing_chain.pem", dir);
		assert_file_bytes(p, e->pki.ca_pem, strlen(e->pki.ca_pem));
		snprintf(p, sizeof(p), "%s/qe_identity_chain.pem", dir);
		assert_file_bytes(p, e->pki.ca_pem, strlen(e->pki.ca_pem));
		/* pck_chain.pem: the 3 certificates of the quote (meta.json: length 3). */
		snprintf(p, sizeof(p), "%s/pck_chain.pem", dir);
		{
			size_t l;
			uint8_t *d = slurp(p, &l);
			int n = 0;

			for (char *s = (char *)d; (s = strstr(s, "-----BEGIN CERTIFICATE-----")); s++)
				n++;
			assert_int_equal(n, 3);
			free(d);
		}
		if (!pass) {
			before = server_requests(&e->srv);
			assert_int_equal(cli("--quote", TDX_DIR "quote.bin", "--out", out2, "--cache", cache,
					     "--pcs-url", e->srv.base, "--certs-url", e->srv.base, "--ca-bundle",
					     e->ca_file, NULL),
					 0);
			assert_int_equal(server_requests(&e->srv) - before, 0);
		}
	}
	/* The PEM written is exactly the quote's certification data. */
	quote = slurp(TDX_DIR "quote.bin", &qlen);
	assert_int_equal(att_fetch_tdx_pck_chain(quote, qlen, "quote.bin", &pem, &pem_len), 0);
	snprintf(p, sizeof(p), "%s/pck_chain.pem", out);
	assert_file_bytes(p, pem, pem_len);
	free(quote);
}

static void test_snp_turin_url(void **state)
{
	struct env *e = *state;
	char out[256], cache[256], rep[256], p[512];

	path_in(e, "turin-out", out, sizeof(out));
	path_in(e, "turin-cache", cache, sizeof(cache));
	path_in(e, "turin.bin", rep, sizeof(rep));
	assert_int_equal(cli("--report", rep, "--out", out, "--cache", cache, "--kds-url", e->srv.base, "--ca-bundle",
			     e->ca_file, NULL),
			 0);
	snprintf(p, sizeof(p), "%s/vcek.der", out);
	assert_same_file(p, SNP_DIR "milan-virtee/vcek.der");
}

/* A v5 quote (body descriptor before the TD report) of another platform. */
static void test_tdx_v5_quote(void **state)
{
	struct env *e = *state;
	char out[256], cache[256], p[512];

	path_in(e, "v5-out", out, sizeof(out));
	path_in(e, "v5-cache", cache, sizeof(cache));
	assert_int_equal(cli("--quote", "tests/fixtures/evidence/tdx/v5-gotdxguest/quote.bin", "--out", out, "--cache",
			     cache, "--pcs-url", e->srv.base, "--certs-url", e->srv.base, "--ca-bundle", e->ca_file,
			     NULL),
			 0);
	snprintf(p, sizeof(p), "%s/tcbinfo.json", out);
	assert_same_file(p, "tests/fixtures/evidence/tdx/v5-gotdxguest/collateral/tcbinfo.json");
	assert_true(exists(out, "pck_chain.pem") && exists(out, "qe_identity.json") && exists(out, "pckcrl.der") &&
		    exists(out, "rootcrl.der") && exists(out, "tcb_signing_chain.pem"));
}

/* CRLs and TCB info change: their cache entries expire after a day, while
 * certificates (immutable per URL) stay. */
static void test_cache_expiry_of_mutable(void **state)
{
	struct env *e = *state;
	char out[256], cache[256], cmd[600];
	int before;

	path_in(e, "ttl-out", out, sizeof(out));
	path_in(e, "ttl-cache", cache, sizeof(cache));
	assert_int_equal(cli("--report", SNP_DIR "milan-virtee/report.bin", "--product", "Milan", "--out", out,
			     "--cache", cache, "--kds-url", e->srv.base, "--ca-bundle", e->ca_file, NULL),
			 0);
	snprintf(cmd, sizeof(cmd), "touch -d '2 days ago' '%s'/*", cache);
	assert_int_equal(system(cmd), 0);
	before = server_requests(&e->srv);
	assert_int_equal(cli("--report", SNP_DIR "milan-virtee/report.bin", "--product", "Milan", "--out", out,
			     "--cache", cache, "--kds-url", e->srv.base, "--ca-bundle", e->ca_file, NULL),
			 0);
	assert_int_equal(server_requests(&e->srv) - before, 1); /* the CRL only */
	check_vcek_out(e, out);
	/* A corrupt entry (here the VCEK's, keyed by SHA-256 of its URL) is
	 * checked like a response, and fetched again. */
	{
		char url[512], hex[65], *chip = meta_chip_id(SNP_DIR "milan-virtee");
		uint8_t md[32];

		snprintf(url, sizeof(url), "%s/vcek/v1/Milan/%s?blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115", e->srv.base,
			 chip);
		free(chip);
		assert_true(EVP_Digest(url, strlen(url), md, NULL, EVP_sha256(), NULL));
		hex_encode(md, sizeof(md), hex);
		snprintf(url, sizeof(url), "%s/%s", cache, hex);
		assert_true(access(url, F_OK) == 0);
		assert_int_equal(file_write(url, "junk", 4), 0);
		before = server_requests(&e->srv);
		assert_int_equal(cli("--report", SNP_DIR "milan-virtee/report.bin", "--product", "Milan", "--out", out,
				     "--cache", cache, "--kds-url", e->srv.base, "--ca-bundle", e->ca_file, NULL),
				 0);
		assert_int_equal(server_requests(&e->srv) - before, 1);
		check_vcek_out(e, out);
	}
	/* Offline, an expired entry is still used. */
	assert_int_equal(system(cmd), 0);
	before = server_requests(&e->srv);
	assert_int_equal(cli("--report", SNP_DIR "milan-virtee/report.bin", "--product", "Milan", "--out", out,
			     "--cache", cache, "--offline", "--kds-url", e->srv.base, NULL),
			 0);
	assert_int_equal(server_requests(&e->srv) - before, 0);
}

/* Hostile input: every truncation of the real evidence is refused cleanly. */
static void test_parsers_truncated(void **state)
{
	struct att_fetch_snp_id id;
	const uint8_t *pem;
	size_t len, pem_len;
	uint8_t *rep, *q;

	(void)state;
	rep = slurp(SNP_DIR "milan-virtee/report.bin", &len);
	assert_int_equal(att_fetch_snp_id(rep, len, "report.bin", &id), 0);
	assert_int_equal(id.version, 2);
	assert_false(id.vlek);
	assert_null(id.product);
	assert_int_equal(id.reported_tcb, 0x7308000000000003ull);
	for (size_t n = 0; n < len; n += 7)
		assert_int_equal(att_fetch_snp_id(rep, n, "report.bin", &id), -EINVAL);
	free(rep);
	rep = slurp(SNP_DIR "milan-vlek-trustee/report.bin", &len);
	assert_int_equal(att_fetch_snp_id(rep, len, "report.bin", &id), 0);
	assert_true(id.vlek);
	assert_string_equal(id.product, "Milan");
	rep[0x189] = 0x11;
	assert_int_equal(att_fetch_snp_id(rep, len, "report.bin", &id), 0);
	assert_string_equal(id.product, "Genoa");
	rep[0x189] = 0xa1;
	assert_int_equal(att_fetch_snp_id(rep, len, "report.bin", &id), 0);
	assert_string_equal(id.product, "Genoa");
	rep[0x189] = 0x30;
	assert_int_equal(att_fetch_snp_id(rep, len, "report.bin", &id), 0);
	assert_null(id.product);
	rep[0x188] = 0x1a;
	assert_int_equal(att_fetch_snp_id(rep, len, "report.bin", &id), 0);
	assert_string_equal(id.product, "Turin");
	rep[0x48] |= 7 << 2; /* SIGNING_KEY 7: no key */
	assert_int_equal(att_fetch_snp_id(rep, len, "report.bin", &id), -EINVAL);
	assert_non_null(strstr(err_msg(), "SIGNING_KEY"));
	free(rep);

	q = slurp(TDX_DIR "quote.bin", &len);
	assert_int_equal(att_fetch_tdx_pck_chain(q, len, "quote.bin", &pem, &pem_len), 0);
	assert_true(pem_len > 27 && !memcmp(pem, "-----BEGIN CERTIFICATE-----", 27));
	for (size_t n = 0; n < len; n += 3) {
		int ret = att_fetch_tdx_pck_chain(q, n, "quote.bin", &pem, &pem_len);

		/* Cutting only trailing NULs / the very end of the PEM may
		 * still parse the headers; what matters is staying in bounds. */
		assert_true(ret == -EINVAL || (ret == 0 && pem + pem_len <= q + n));
	}
	put_le32(q + 48 + 584, 0xffffffffu); /* signature_data_len past the end */
	assert_int_equal(att_fetch_tdx_pck_chain(q, len, "quote.bin", &pem, &pem_len), -EINVAL);
	assert_non_null(strstr(err_msg(), "signature data"));
	free(q);

	q = slurp("tests/fixtures/evidence/tdx/v5-gotdxguest/quote.bin", &len);
	assert_int_equal(att_fetch_tdx_pck_chain(q, len, "quote.bin", &pem, &pem_len), 0);
	assert_true(pem_len > 27 && !memcmp(pem, "-----BEGIN CERTIFICATE-----", 27));
	assert_true(pem[pem_len - 1] != 0);
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsers_truncated),
		cmocka_unit_test_setup_teardown(test_snp_vcek_then_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snp_vlek_product_from_cpuid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tdx_collateral_then_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snp_turin_url, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tdx_v5_quote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_expiry_of_mutable, setup, teardown),
	};

	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		fprintf(stderr, "libmicrohttpd was built without TLS\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
