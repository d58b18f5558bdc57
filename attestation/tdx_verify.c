/* tdx_verify.c - verify an Intel TDX quote like a relying party (Intel DCAP
 * quote verification flow, TDX DCAP Quoting Library API "Quote Format"):
 *   1. the attestation key's ECDSA P-256 signature over header||body;
 *   2. the QE report binds that key: REPORTDATA = SHA-256(attestation key ||
 *      QE auth data) || 32 zero bytes;
 *   3. the QE report is signed by the PCK key (leaf of the PEM chain);
 *   4. the PCK chain ends at the trusted root (the built-in Intel SGX Root
 *      CA), with the PCK/root CRLs when the collateral directory has them;
 *   5. with collateral: TCB status from TCB info + QE identity
 *      (tdx_collateral.c);
 *   6. the policy's "tdx" requirements (tdx_policy.c).
 * Every check is recorded in the result, failed or not. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attestation/tdx_quote.h"
#include "common/common.h"

/* A relying party sees the same PCK chain over and over (one per platform):
 * remember the last chain that verified without CRLs, keyed by the digest of
 * root and chain, and valid for the intersection of the certificates'
 * validity periods. With CRLs the chain is always verified afresh. */
static struct {
	pthread_mutex_t lock;
	bool valid;
	uint8_t key[32];
	time_t not_before, not_after;
	EVP_PKEY *leaf_key;
	struct tdx_pck_ext ext;
	int ext_ret;
	char detail[256];
	bool profile_ok;
	char profile[160];
} chain_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

struct chain_state {
	EVP_PKEY *leaf_key; /* reference held */
	struct tdx_pck_ext ext;
	int ext_ret;        /* 0 = extensions parsed */
	bool chain_ok;
	bool profile_ok;    /* PCK and PCK CA have Intel's profile */
	char profile[160];
};

static int chain_digest(X509 *root, const struct tdx_quote *q, uint8_t out[32])
{
	uint8_t *der = NULL;
	int n = i2d_X509(root, &der);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = n > 0 && md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) && EVP_DigestUpdate(md, der, (size_t)n) &&
		 EVP_DigestUpdate(md, q->pck_chain, q->pck_chain_len) && EVP_DigestFinal_ex(md, out, NULL);

	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	return ok ? 0 : err_set(ENOMEM, "PCK chain digest failed");
}

static void validity(STACK_OF(X509) *chain, X509 *root, time_t *nb, time_t *na)
{
	*nb = 0;
	*na = (time_t)INT64_MAX;
	for (int i = 0; i <= sk_X509_num(chain); i++) {
		X509 *x = i < sk_X509_num(chain) ? sk_X509_value(chain, i) : root;
		struct tm tm;

		if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) && timegm(&tm) > *nb)
			*nb = timegm(&tm);
		if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) && timegm(&tm) < *na)
			*na = timegm(&tm);
	}
}

static STACK_OF(X509_CRL) *load_crls(const char *dir, bool require, struct att_result *r, int *err)
{
	enum att_class cls = require ? ATT_POLICY : ATT_ADVISORY;
	static const char *const files[] = { "pckcrl.der", "rootcrl.der" };
	STACK_OF(X509_CRL) *crls;
	char path[4096];

	*err = 0;
	if (!dir) {
		if (require)
			att_check(r, ATT_POLICY, "tdx.crl", false, "no collateral directory: the policy sets require_crl");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, files[0]);
	if (access(path, F_OK)) {
		att_check(r, cls, "tdx.crl", false, "not checked: no pckcrl.der in %s%s", dir,
			  require ? " (the policy sets require_crl)" : "");
		return NULL;
	}
	crls = sk_X509_CRL_new_null();
	for (size_t i = 0; crls && i < ARRAY_SIZE(files); i++) {
		X509_CRL *c;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (i > 0 && access(path, F_OK)) {
			att_check(r, cls, "tdx.crl", false, "root CRL not checked: no rootcrl.der in %s%s", dir,
				  require ? " (the policy sets require_crl)" : "");
			break;
		}
		if (!(c = tdx_crl_load(path))) {
			*err = -EINVAL;
			break;
		}
		if (!sk_X509_CRL_push(crls, c)) {
			X509_CRL_free(c);
			*err = err_set(ENOMEM, "CRL: out of memory");
			break;
		}
	}
	if (*err) {
		sk_X509_CRL_pop_free(crls, X509_CRL_free);
		return NULL;
	}
	return crls;
}

/* Steps 4 and the PCK extensions; fills st. Negative errno only for I/O,
 * malformed collateral files or memory. */
static int check_chain(const struct tdx_quote *q, const struct att_options *o, X509 *root, struct chain_state *st,
		       struct att_result *r)
{
	STACK_OF(X509) *chain = NULL;
	STACK_OF(X509_CRL) *crls;
	char detail[256];
	uint8_t key[32];
	time_t at = o->at ? o->at : time(NULL);
	bool stale = false, expired = false;
	int ret;

	crls = load_crls(o->collateral_dir, att_policy_bool(o->policy, "require_crl"), r, &ret);
	if (ret)
		return ret;
	if ((ret = chain_digest(root, q, key)))
		goto out;
	if (!crls) {
		pthread_mutex_lock(&chain_cache.lock);
		if (chain_cache.valid && !memcmp(chain_cache.key, key, 32) && at >= chain_cache.not_before &&
		    at <= chain_cache.not_after) {
			st->leaf_key = chain_cache.leaf_key;
			EVP_PKEY_up_ref(st->leaf_key);
			st->ext = chain_cache.ext;
			st->ext_ret = chain_cache.ext_ret;
			st->profile_ok = chain_cache.profile_ok;
			snprintf(st->profile, sizeof(st->profile), "%s", chain_cache.profile);
			st->chain_ok = true;
			att_check(r, ATT_AUTH, "tdx.pck_chain", true, "%s", chain_cache.detail);
			att_check(r, ATT_ADVISORY, "tdx.cert_validity", true,
				  "PCK chain certificates are within their validity period");
		}
		pthread_mutex_unlock(&chain_cache.lock);
		if (st->chain_ok)
			goto out;
	}
	if (tdx_pck_chain_load(q->pck_chain, q->pck_chain_len, &chain)) {
		att_check(r, ATT_AUTH, "tdx.pck_chain", false, "%s", err_msg());
		ret = 0;
		goto out;
	}
	st->leaf_key = X509_get_pubkey(sk_X509_value(chain, 0));
	st->ext_ret = tdx_pck_ext_parse(sk_X509_value(chain, 0), &st->ext);
	st->profile_ok = tdx_intel_profile_ok(sk_X509_value(chain, 0), "pck", st->profile, sizeof(st->profile)) &&
			 tdx_intel_profile_ok(sk_X509_value(chain, 1), "pck_ca", st->profile, sizeof(st->profile));
	if (st->profile_ok)
		snprintf(st->profile, sizeof(st->profile), "PCK and PCK CA certificates as Intel issues them (v3, "
			 "ecdsa-with-SHA256, EC P-256, Intel subject)");
	ret = tdx_pck_chain_verify(chain, root, crls, o->at, detail, sizeof(detail), &stale, &expired);
	if (ret < 0)
		goto out;
	st->chain_ok = att_check(r, ATT_AUTH, "tdx.pck_chain", ret == 1, "%s", detail);
	if (st->chain_ok) {
		const json_t *ae = json_object_get(json_object_get(o->policy, "tdx"), "allow_expired_certs");

		if (expired && json_is_true(ae))
			att_check(r, ATT_POLICY, "tdx.cert_validity", true,
				  "a certificate of the PCK chain has expired since; accepted by tdx.allow_expired_certs");
		else
			att_check(r, ae ? ATT_POLICY : ATT_ADVISORY, "tdx.cert_validity", !expired, "%s",
				  expired ? "a certificate of the PCK chain has expired since (use --at to judge strictly)"
					  : "PCK chain certificates are within their validity period");
	}
	if (crls) {
		time_t next = 0;
		bool not_yet = false;

		for (int i = 0; i < sk_X509_CRL_num(crls); i++) {
			const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(sk_X509_CRL_value(crls, i));
			struct tm tm;

			if (X509_cmp_time(X509_CRL_get0_lastUpdate(sk_X509_CRL_value(crls, i)), &at) > 0)
				not_yet = true;
			if (nu && ASN1_TIME_to_tm(nu, &tm) && (!next || timegm(&tm) < next))
				next = timegm(&tm);
		}
		if (not_yet || !next)
			att_check(r, ATT_ADVISORY, "tdx.crl.fresh", !stale, "PCK/root CRLs %s at the evaluation time",
				  stale ? "past nextUpdate (or not yet valid)" : "current");
		else
			att_check_fresh(r, o->policy, "tdx.crl.fresh", at, next, "PCK/root CRLs");
	}
	else if (st->chain_ok && st->leaf_key) {
		pthread_mutex_lock(&chain_cache.lock);
		EVP_PKEY_free(chain_cache.leaf_key);
		memcpy(chain_cache.key, key, 32);
		validity(chain, root, &chain_cache.not_before, &chain_cache.not_after);
		chain_cache.leaf_key = st->leaf_key;
		EVP_PKEY_up_ref(st->leaf_key);
		chain_cache.ext = st->ext;
		chain_cache.ext_ret = st->ext_ret;
		chain_cache.profile_ok = st->profile_ok;
		snprintf(chain_cache.profile, sizeof(chain_cache.profile), "%s", st->profile);
		snprintf(chain_cache.detail, sizeof(chain_cache.detail), "%s", detail);
		chain_cache.valid = true;
		pthread_mutex_unlock(&chain_cache.lock);
	}
	ret = 0;
out:
	sk_X509_pop_free(chain, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return ret;
}

static bool qe_binding_ok(const struct tdx_quote *q)
{
	static const uint8_t zero[32];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t h[32];
	bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) && EVP_DigestUpdate(md, q->att_key, 64) &&
		  EVP_DigestUpdate(md, q->qe_auth, q->qe_auth_len) && EVP_DigestFinal_ex(md, h, NULL);

	EVP_MD_CTX_free(md);
	return ok && !memcmp(q->qe_report + SGX_R_REPORT_DATA, h, 32) &&
	       !memcmp(q->qe_report + SGX_R_REPORT_DATA + 32, zero, 32);
}

bool tdx_root_is_intel(X509 *root)
{
	X509 *intel = att_intel_sgx_root();
	bool is = intel && EVP_PKEY_eq(X509_get0_pubkey(root), X509_get0_pubkey(intel)) == 1;

	X509_free(intel);
	return is;
}

int tdx_verify_with_root(const uint8_t *quote, size_t len, const struct att_options *o, X509 *root,
			 struct att_result *r)
{
	const json_t *tdx = o->policy ? json_object_get(o->policy, "tdx") : NULL;
	const json_t *accepted = tdx ? json_object_get(tdx, "accepted_tcb_status") : NULL;
	struct chain_state st = { .ext_ret = -EINVAL };
	struct tdx_quote q;
	char fmspc[13];
	int ret;

	if ((ret = tdx_quote_parse(quote, len, "quote", &q)))
		return ret;
	r->platform = "tdx";
	r->strict = att_policy_bool(o->policy, "strict");
	tdx_claims(&q, r);
	if ((ret = tdx_policy_check(&q, tdx, r)))
		return ret;

	ret = tdx_ecdsa_p256_verify_raw(q.att_key, q.sig, q.signed_data, q.signed_len);
	if (ret < 0)
		return ret;
	att_check(r, ATT_AUTH, "tdx.quote_signature", ret == 1,
		  "ECDSA P-256 signature of the attestation key over header and body (%zu bytes)", q.signed_len);
	att_check(r, ATT_AUTH, "tdx.qe_report_data", qe_binding_ok(&q),
		  "QE report data = SHA-256(attestation key || QE auth data (%u bytes)) || zeros", q.qe_auth_len);

	if ((ret = check_chain(&q, o, root, &st, r)))
		goto out;
	if (st.chain_ok && tdx_root_is_intel(root))
		att_check(r, ATT_AUTH, "tdx.pck_profile", st.profile_ok, "%s", st.profile);
	ret = st.leaf_key ? tdx_ecdsa_verify_pkey(st.leaf_key, q.qe_report_sig, q.qe_report, TDX_QE_REPORT_LEN) : 0;
	if (ret < 0)
		goto out;
	att_check(r, ATT_AUTH, "tdx.qe_report_signature", ret == 1, "QE report signed by the PCK key");
	ret = 0;
	if (!att_check(r, ATT_AUTH, "tdx.pck_extensions", st.ext_ret == 0, "%s",
		       st.ext_ret ? "PCK certificate: SGX extensions malformed or missing" : "FMSPC, PCE-ID, TCB"))
		goto out;
	hex_encode(st.ext.fmspc, 6, fmspc);
	json_object_set_new(r->claims, "fmspc", json_string(fmspc));
	tdx_pck_claims(&st.ext, r);
	if ((ret = tdx_pck_policy(&st.ext, tdx, r)))
		goto out;

	if (o->collateral_dir && !st.chain_ok) {
		/* TCB levels of a platform we cannot authenticate mean nothing */
		att_check(r, ATT_AUTH, "tdx.tcb_status", false, "not evaluated: the PCK chain is not trusted");
	} else if (o->collateral_dir) {
		ret = tdx_collateral_check(o->collateral_dir, &q, &st.ext, root, o->at ? o->at : time(NULL), o->policy,
					   r);
	} else {
		/* Visible but not a warning: without collateral the quote's
		 * authenticity is still fully established. A policy that names
		 * accepted statuses cannot be met without it, though. */
		static const char *const needs[] = { "min_tcb_evaluation_data_number", "min_tcb_date",
						     "rejected_advisory_ids" };

		for (size_t i = 0; i < ARRAY_SIZE(needs); i++)
			if (json_object_get(tdx, needs[i]))
				att_check(r, ATT_POLICY, "tdx.collateral", false,
					  "the policy sets %s: it needs --collateral (TCB info)", needs[i]);
		if (accepted)
			att_check(r, ATT_POLICY, "tdx.tcb_status", false,
				  "unknown without collateral, and the policy sets accepted_tcb_status");
		else
			att_check(r, ATT_ADVISORY, "tdx.tcb_status", true,
				  "not evaluated: no collateral (tcbinfo.json, qe_identity.json, CRLs)");
	}
out:
	EVP_PKEY_free(st.leaf_key);
	return ret;
}

/* --allow-sim: a simulated platform (sim-tdx) signs quotes under its own
 * self-signed root. Trust the chain's own last certificate then, if it is
 * self-signed and not the Intel root, and say loudly that it is not Intel's.
 * Returns a new reference or NULL (use the Intel root). */
static X509 *sim_root(const uint8_t *quote, size_t len, X509 *intel)
{
	STACK_OF(X509) *chain = NULL;
	struct tdx_quote q;
	X509 *last, *ret = NULL;

	if (tdx_quote_parse(quote, len, "quote", &q) || tdx_pck_chain_load(q.pck_chain, q.pck_chain_len, &chain)) {
		err_clear();
		return NULL;
	}
	last = sk_X509_value(chain, sk_X509_num(chain) - 1);
	if (EVP_PKEY_eq(X509_get0_pubkey(last), X509_get0_pubkey(intel)) != 1 &&
	    X509_check_issued(last, last) == X509_V_OK && X509_verify(last, X509_get0_pubkey(last)) == 1 &&
	    X509_up_ref(last))
		ret = last;
	ERR_clear_error();
	sk_X509_pop_free(chain, X509_free);
	return ret;
}

static void mark_simulated(struct att_result *r)
{
	r->simulated = true;
	if (r->claims)
		json_object_set_new(r->claims, "simulated", json_true());
}

int att_tdx_verify(const uint8_t *quote, size_t len, const struct att_options *o, struct att_result *r)
{
	X509 *root = att_intel_sgx_root(), *sim = NULL;
	bool allow_sim = o->allow_sim || (o->policy && json_is_true(json_object_get(o->policy, "allow_sim")));
	char cn[128] = "?";
	int ret;

	if (!root)
		return err_set(ENOMEM, "built-in Intel SGX Root CA: cannot be loaded");
	if (allow_sim && (sim = sim_root(quote, len, root))) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(sim), NID_commonName, cn, sizeof(cn));
		/* As for SNP's "ark": allow_sim is the relying party accepting a
		 * simulated platform (sim-tdx); the result says so ("simulated"). */
		att_check(r, ATT_AUTH, "tdx.root", true,
			  "root '%s' is not the Intel SGX Root CA: evidence from a simulated platform, trusted because "
			  "of --allow-sim", cn);
	}
	ret = tdx_verify_with_root(quote, len, o, sim ? sim : root, r);
	if (!ret && sim)
		mark_simulated(r);
	X509_free(sim);
	X509_free(root);
	return ret;
}

int att_tdx_verify_with_root(const uint8_t *quote, size_t len, const struct att_options *o, const char *root_pem,
			     size_t root_pem_len, struct att_result *r)
{
	BIO *b = root_pem_len < INT32_MAX ? BIO_new_mem_buf(root_pem, (int)root_pem_len) : NULL;
	X509 *root = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	int ret;

	BIO_free(b);
	if (!root)
		return err_set(EINVAL, "trusted root: not a PEM certificate");
	ret = tdx_verify_with_root(quote, len, o, root, r);
	if (!ret) {
		/* a pinned root that is not Intel's: a simulated platform's (sim-tdx) */
		X509 *intel = att_intel_sgx_root();

		if (intel && EVP_PKEY_eq(X509_get0_pubkey(intel), X509_get0_pubkey(root)) != 1)
			mark_simulated(r);
		X509_free(intel);
	}
	X509_free(root);
	return ret;
}
