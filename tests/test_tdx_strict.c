/* test_tdx_strict.c - the fail-closed TDX policy (docs/verify.md "Strict
 * verification"): require_crl, collateral_grace_period, tdx.allow_expired_certs,
 * "strict", and the TCB signing certificate judged against the root CRL.
 * The real fixtures (v4-spr-gotdxguest with PCS collateral, v5-gotdxguest
 * with TCB info only) where they exercise a rule; the re-signed quote and
 * the test PKI of test_tdx_quote_chain.c (reused here, its main renamed)
 * where only a test root can sign (a revoked TCB signing certificate). */
#define main test_tdx_quote_chain_main
#include "tests/test_tdx_quote_chain.c"
#undef main

#define FIX "tests/fixtures/evidence/tdx/"

static uint8_t *fixture(const char *name, size_t *len)
{
	char path[160];
	uint8_t *q;

	snprintf(path, sizeof(path), FIX "%s/quote.bin", name);
	assert_int_equal(file_read(path, 1 << 20, &q, len), 0);
	return q;
}

static int verify_intel(const uint8_t *q, size_t len, const struct att_options *o, struct att_result *r)
{
	assert_int_equal(att_result_init(r, "tdx"), 0);
	return att_tdx_verify(q, len, o, r);
}

/* require_crl: v5-gotdxguest's collateral has no CRLs, v4-spr-gotdxguest's has both. */
static void test_require_crl(void **state)
{
	struct att_options o = { .collateral_dir = FIX "v5-gotdxguest/collateral", .at = 1770000000 };
	struct att_result r;
	size_t len;
	uint8_t *q = fixture("v5-gotdxguest", &len);

	(void)state;
	/* without the key: a missing CRL is advisory (a warning), not a refusal */
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.crl"));
	assert_false(r.policy_failed);
	att_result_free(&r);
	/* with it: fatal */
	o.policy = json_pack("{s:b}", "require_crl", 1);
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.crl"));
	assert_non_null(strstr(result_detail(&r, "tdx.crl"), "require_crl"));
	assert_true(r.policy_failed);
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);
	/* ... and without any collateral directory */
	o.collateral_dir = NULL;
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.crl"));
	assert_true(r.policy_failed);
	att_result_free(&r);
	free(q);

	/* both CRLs present: require_crl is met, nothing fails for it */
	q = fixture("v4-spr-gotdxguest", &len);
	o.collateral_dir = FIX "v4-spr-gotdxguest/collateral";
	o.at = 1687100000;
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.pck_chain"));
	assert_non_null(strstr(result_detail(&r, "tdx.pck_chain"), "root CRL"));
	assert_false(r.policy_failed);
	att_result_free(&r);
	json_decref(o.policy);
	free(q);
}

/* collateral_grace_period: at 2023-11-14 the fixture's TCB info, QE
 * identity and CRLs are months past nextUpdate. */
static void test_grace_period(void **state)
{
	struct att_options o = { .collateral_dir = FIX "v4-spr-gotdxguest/collateral", .at = 1700000000 };
	struct att_result r;
	size_t len;
	uint8_t *q = fixture("v4-spr-gotdxguest", &len);

	(void)state;
	o.policy = json_pack("{s:i}", "collateral_grace_period", 0);
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.tcb_info.fresh"));
	assert_false(result_check_ok(&r, "tdx.qe_identity.fresh"));
	assert_false(result_check_ok(&r, "tdx.crl.fresh"));
	assert_non_null(strstr(result_detail(&r, "tdx.tcb_info.fresh"), "collateral_grace_period 0 s"));
	assert_true(r.policy_failed);
	att_result_free(&r);
	json_decref(o.policy);

	/* a year of grace accepts them (as policy checks that pass) */
	o.policy = json_pack("{s:i}", "collateral_grace_period", 86400 * 365);
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.tcb_info.fresh"));
	assert_true(result_check_ok(&r, "tdx.qe_identity.fresh"));
	assert_true(result_check_ok(&r, "tdx.crl.fresh"));
	assert_false(r.policy_failed);
	att_result_free(&r);
	json_decref(o.policy);

	/* inside the validity: grace 0 passes */
	o.at = 1687100000;
	o.policy = json_pack("{s:i}", "collateral_grace_period", 0);
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.tcb_info.fresh"));
	assert_true(result_check_ok(&r, "tdx.crl.fresh"));
	att_result_free(&r);
	json_decref(o.policy);
	free(q);
}

/* strict: the fixture's NotSupported TCB status is a warning, a refusal
 * under strict, accepted again by accepted_tcb_status. */
static void test_strict(void **state)
{
	struct att_options o = { .collateral_dir = FIX "v4-spr-gotdxguest/collateral", .at = 1687100000 };
	struct att_result r;
	size_t len;
	uint8_t *q = fixture("v4-spr-gotdxguest", &len);

	(void)state;
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_WARNING);
	att_result_free(&r);
	o.policy = json_pack("{s:b}", "strict", 1);
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	assert_non_null(strstr(result_detail(&r, "tdx.tcb_status"), "[strict: refused]"));
	att_result_free(&r);
	json_decref(o.policy);
	/* the fixture lacks the signing chains (tdx.*.signature not checked):
	 * a strict relying party must accept that explicitly -> still refused */
	o.policy = json_pack("{s:b, s:{s:[s]}}", "strict", 1, "tdx", "accepted_tcb_status", "NotSupported");
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.tcb_status"));
	assert_false(result_check_ok(&r, "tdx.tcb_info.signature"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);
	json_decref(o.policy);
	free(q);
}

/* The TCB signing certificate is checked against the root CRL; and
 * tdx.allow_expired_certs. */
static void test_tcb_signer_revoked(void **state)
{
	struct att_options o = { .at = AT_2023_06_18, .collateral_dir = P.dir };
	struct att_result r;
	size_t len;
	uint8_t *q = resign_quote(&len);
	char *ti = member_text("tcbinfo.json", "tcbInfo");
	struct bytebuf chain = { 0 };
	char path[128];

	(void)state;
	rm_dir_files();
	write_crl("pckcrl.der", P.ca, P.ca_key, NULL);
	write_crl("rootcrl.der", P.root, P.root_key, NULL);
	pem_append(&chain, P.tcb);
	pem_append(&chain, P.root);
	snprintf(path, sizeof(path), "%s/tcb_signing_chain.pem", P.dir);
	assert_int_equal(file_write(path, chain.data, chain.len), 0);
	bb_free(&chain);
	write_signed("tcbinfo.json", "tcbInfo", ti);
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.tcb_info.signing_chain"));
	assert_non_null(strstr(result_detail(&r, "tdx.tcb_info.signing_chain"), "rootcrl.der"));
	assert_true(result_check_ok(&r, "tdx.tcb_info.signature"));
	att_result_free(&r);

	/* the root CRL revokes the TCB signing certificate */
	write_crl("rootcrl.der", P.root, P.root_key, P.tcb);
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.tcb_info.signing_chain"));
	assert_true(r.auth_failed);
	att_result_free(&r);
	rm_dir_files();
	free(ti);
	free(q);

	/* tdx.allow_expired_certs: the real PCK chain judged now (not --at) is
	 * valid today; the key only changes what an expiry would mean, so check
	 * it is accepted and typed */
	q = fixture("v4-spr-gotdxguest", &len);
	o = (struct att_options){ .policy = json_pack("{s:{s:b}}", "tdx", "allow_expired_certs", 0) };
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.cert_validity"));
	att_result_free(&r);
	json_decref(o.policy);
	o.policy = json_pack("{s:{s:s}}", "tdx", "allow_expired_certs", "yes");
	assert_int_equal(att_result_init(&r, "tdx"), 0);
	assert_int_equal(att_tdx_verify(q, len, &o, &r), -EINVAL);
	assert_non_null(strstr(err_msg(), "tdx.allow_expired_certs"));
	att_result_free(&r);
	json_decref(o.policy);
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_require_crl),
		cmocka_unit_test(test_grace_period),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_tcb_signer_revoked),
	};
	(void)test_tdx_quote_chain_main;
	return cmocka_run_group_tests(tests, setup, teardown);
}
