/* snp_verify.c - verify an SEV-SNP attestation report like a relying party:
 * parse, chain (snp_chain.c), bind the VCEK/VLEK to the report (hwID, SPLs),
 * check the report signature, then the policy (policy_snp.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "attestation/snp_report.h"
#include "common/common.h"

/* SIGNATURE (ABI spec Table 133 "ECDSA P-384 with SHA-384 Signature"): R and
 * S little-endian, each in 72 bytes, over bytes 0x0-0x29F of the report. */
static bool report_sig_ok(EVP_PKEY *pub, const struct snp_report *rep, char *detail, size_t n)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br = BN_lebin2bn(rep->sig_r, SNP_SIG_COMPONENT, NULL);
	BIGNUM *bs = BN_lebin2bn(rep->sig_s, SNP_SIG_COMPONENT, NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	int derlen = -1;
	bool ok = false;

	if (!pub || !EVP_PKEY_is_a(pub, "EC") || EVP_PKEY_get_bits(pub) != 384) {
		snprintf(detail, n, "the endorsement key is not an ECDSA P-384 key");
		goto out;
	}
	if (!sig || !br || !bs || !ctx || !ECDSA_SIG_set0(sig, br, bs)) {
		snprintf(detail, n, "out of memory");
		goto out;
	}
	br = bs = NULL;
	derlen = i2d_ECDSA_SIG(sig, &der);
	ok = derlen > 0 && EVP_DigestVerifyInit(ctx, NULL, EVP_sha384(), NULL, pub) == 1 &&
	     EVP_DigestVerify(ctx, der, (size_t)derlen, rep->raw, SNP_REPORT_SIGNED_LEN) == 1;
	snprintf(detail, n, "%s", ok ? "ECDSA P-384/SHA-384 signature verifies with the endorsement key"
				     : "ECDSA signature does not verify with the endorsement key");
out:
	OPENSSL_free(der);
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
	return ok;
}

int att_snp_verify(const uint8_t *report, size_t len, const struct att_options *o, struct att_result *r)
{
	const json_t *snp = o->policy ? json_object_get(o->policy, "snp") : NULL;
	struct att_options opt = *o;
	struct snp_report rep;
	struct snp_chain *chain = NULL;
	enum snp_product prod;
	enum snp_signer signer;
	X509 *vek = NULL;
	char detail[160];
	int ret;

	if ((ret = snp_policy_validate(snp)) || (ret = snp_report_parse(report, len, "report", &rep)))
		return ret;
	r->platform = "snp";
	r->strict = att_policy_bool(o->policy, "strict");
	if (o->policy && json_is_true(json_object_get(o->policy, "allow_sim")))
		opt.allow_sim = true;
	prod = snp_report_product(&rep);
	signer = snp_report_signer(&rep);

	if (rep.signature_algo != 1)
		att_check(r, ATT_AUTH, "report_signature", false,
			  "SIGNATURE_ALGO %u is not 1 (ECDSA P-384 with SHA-384)", rep.signature_algo);
	else if (signer != SNP_SIGNER_VCEK && signer != SNP_SIGNER_VLEK)
		att_check(r, ATT_AUTH, "report_signature", false, "SIGNING_KEY %u: the report is not signed by a "
			  "VCEK or VLEK", signer);
	else {
		if ((ret = snp_chain_get(&opt, signer, prod, r, &chain, &vek, &prod)))
			return ret;
		if (vek) {
			snp_chain_check_binding(chain, signer, &rep, prod, r);
			bool ok = report_sig_ok(X509_get0_pubkey(vek), &rep, detail, sizeof(detail));
			att_check(r, ATT_AUTH, "report_signature", ok, "%s", detail);
		} else {
			att_check(r, ATT_AUTH, "report_signature", false,
				  "not checked: no trusted endorsement key");
		}
		snp_chain_put(chain);
	}
	snp_report_claims(&rep, prod, r);
	snp_policy_check(snp, &rep, prod, r);
	return 0;
}
