/* tdx_pck.c - the PCK certificate chain carried in a TDX quote (certification
 * data type 5, PEM, leaf first: PCK -> PCK Platform/Processor CA -> Intel SGX
 * Root CA) and the SGX extensions of the PCK leaf.
 *
 * SGX extensions (Intel SGX PCK Certificate and CRL Profile, 1.3.5):
 *   1.2.840.113741.1.13.1     SEQUENCE OF SEQUENCE { OID, value }
 *     .1 PPID OCTET STRING(16)     .2 TCB SEQUENCE OF { OID .2.1-.2.16
 *     INTEGER (component SVNs), .2.17 INTEGER (PCESVN), .2.18 OCTET STRING
 *     (CPUSVN) }                   .3 PCE-ID OCTET STRING(2)
 *     .4 FMSPC OCTET STRING(6)     .5 SGX type ENUMERATED ...
 * Decoded with OpenSSL's generic ASN.1 (ASN1_SEQUENCE_ANY), not by hand. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "attestation/tdx_quote.h"
#include "common/common.h"

#define SGX_EXT_OID "1.2.840.113741.1.13.1"

int tdx_pck_chain_load(const uint8_t *pem, size_t len, STACK_OF(X509) **chain)
{
	BIO *b;
	X509 *x;

	*chain = NULL;
	if (len > 1u << 20)
		return err_set(EINVAL, "quote: PCK certificate chain: %zu bytes is too large", len);
	b = BIO_new_mem_buf(pem, (int)len);
	*chain = sk_X509_new_null();
	if (!b || !*chain) {
		BIO_free(b);
		sk_X509_free(*chain);
		*chain = NULL;
		return err_set(ENOMEM, "quote: PCK certificate chain: out of memory");
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		if (!sk_X509_push(*chain, x)) {
			X509_free(x);
			break;
		}
	}
	ERR_clear_error(); /* the loop ends at the first non-certificate */
	BIO_free(b);
	if (sk_X509_num(*chain) < 2) {
		sk_X509_pop_free(*chain, X509_free);
		*chain = NULL;
		return err_set(EINVAL, "quote: PCK certificate chain: expected at least 2 PEM certificates");
	}
	return 0;
}

/* The dotted OID of an element { OID, value } of the SGX extension. */
static int elem_oid(const ASN1_TYPE *t, char *oid, size_t n, ASN1_SEQUENCE_ANY **kv)
{
	const unsigned char *p;
	ASN1_TYPE *o;

	*kv = NULL;
	if (t->type != V_ASN1_SEQUENCE)
		return -1;
	p = t->value.sequence->data;
	*kv = d2i_ASN1_SEQUENCE_ANY(NULL, &p, t->value.sequence->length);
	if (!*kv || sk_ASN1_TYPE_num(*kv) != 2)
		return -1;
	o = sk_ASN1_TYPE_value(*kv, 0);
	if (o->type != V_ASN1_OBJECT || OBJ_obj2txt(oid, (int)n, o->value.object, 1) <= 0)
		return -1;
	return 0;
}

static int octets(const ASN1_TYPE *v, uint8_t *out, size_t n)
{
	if (v->type != V_ASN1_OCTET_STRING || (size_t)v->value.octet_string->length != n)
		return -1;
	memcpy(out, v->value.octet_string->data, n);
	return 0;
}

static int small_int(const ASN1_TYPE *v, uint64_t max, uint64_t *out)
{
	int64_t x;

	if (v->type == V_ASN1_ENUMERATED ? !ASN1_ENUMERATED_get_int64(&x, v->value.enumerated)
	    : v->type != V_ASN1_INTEGER || !ASN1_INTEGER_get_int64(&x, v->value.integer))
		return -1;
	if (x < 0 || (uint64_t)x > max)
		return -1;
	*out = (uint64_t)x;
	return 0;
}

static int parse_tcb(const ASN1_TYPE *v, struct tdx_pck_ext *e, unsigned *seen)
{
	ASN1_SEQUENCE_ANY *tcb, *kv;
	const unsigned char *p;
	char oid[80];
	int ret = -1;

	if (v->type != V_ASN1_SEQUENCE)
		return -1;
	p = v->value.sequence->data;
	tcb = d2i_ASN1_SEQUENCE_ANY(NULL, &p, v->value.sequence->length);
	if (!tcb)
		return -1;
	for (int i = 0; i < sk_ASN1_TYPE_num(tcb); i++) {
		ASN1_TYPE *val;
		unsigned idx;
		uint64_t x;
		char tail;

		if (elem_oid(sk_ASN1_TYPE_value(tcb, i), oid, sizeof(oid), &kv) ||
		    sscanf(oid, SGX_EXT_OID ".2.%u%c", &idx, &tail) != 1) {
			sk_ASN1_TYPE_pop_free(kv, ASN1_TYPE_free);
			goto out;
		}
		val = sk_ASN1_TYPE_value(kv, 1);
		if (idx >= 1 && idx <= 16) {
			if (small_int(val, 255, &x))
				idx = 0;
			else
				e->comp_svn[idx - 1] = (uint8_t)x, *seen |= 1u << (idx - 1);
		} else if (idx == 17) {
			if (small_int(val, 65535, &x))
				idx = 0;
			else
				e->pcesvn = (uint16_t)x, *seen |= 1u << 16;
		} else if (idx == 18) {
			if (octets(val, e->cpusvn, 16))
				idx = 0;
			else
				*seen |= 1u << 17;
		}
		sk_ASN1_TYPE_pop_free(kv, ASN1_TYPE_free);
		if (idx == 0)
			goto out;
	}
	ret = 0;
out:
	sk_ASN1_TYPE_pop_free(tcb, ASN1_TYPE_free);
	return ret;
}

/* .7 configuration: SEQUENCE OF { OID .7.1 dynamicPlatform, .7.2
 * cachedKeys, .7.3 SMTEnabled; BOOLEAN }. */
static int parse_config(const ASN1_TYPE *v, struct tdx_pck_ext *e)
{
	ASN1_SEQUENCE_ANY *cfg, *kv;
	const unsigned char *p;
	char oid[80];
	int ret = -1;

	if (v->type != V_ASN1_SEQUENCE)
		return -1;
	p = v->value.sequence->data;
	if (!(cfg = d2i_ASN1_SEQUENCE_ANY(NULL, &p, v->value.sequence->length)))
		return -1;
	for (int i = 0; i < sk_ASN1_TYPE_num(cfg); i++) {
		ASN1_TYPE *val;
		unsigned idx;
		char tail;
		int bad = 0;

		if (elem_oid(sk_ASN1_TYPE_value(cfg, i), oid, sizeof(oid), &kv) ||
		    sscanf(oid, SGX_EXT_OID ".7.%u%c", &idx, &tail) != 1) {
			sk_ASN1_TYPE_pop_free(kv, ASN1_TYPE_free);
			goto out;
		}
		val = sk_ASN1_TYPE_value(kv, 1);
		if (idx >= 1 && idx <= 3) {
			if (val->type != V_ASN1_BOOLEAN)
				bad = 1;
			else if (idx == 1)
				e->dynamic_platform = val->value.boolean != 0;
			else if (idx == 2)
				e->cached_keys = val->value.boolean != 0;
			else
				e->smt_enabled = val->value.boolean != 0;
		}
		sk_ASN1_TYPE_pop_free(kv, ASN1_TYPE_free);
		if (bad)
			goto out;
	}
	ret = 0;
out:
	sk_ASN1_TYPE_pop_free(cfg, ASN1_TYPE_free);
	return ret;
}

int tdx_pck_ext_parse(X509 *pck, struct tdx_pck_ext *e)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(SGX_EXT_OID, 1);
	ASN1_SEQUENCE_ANY *seq = NULL, *kv;
	const ASN1_OCTET_STRING *d;
	const unsigned char *p;
	unsigned seen = 0, tcb_seen = 0;
	char oid[80];
	int pos, ret = -EINVAL;

	memset(e, 0, sizeof(*e));
	e->sgx_type = e->dynamic_platform = e->cached_keys = e->smt_enabled = -1;
	pos = obj ? X509_get_ext_by_OBJ(pck, obj, -1) : -1;
	ASN1_OBJECT_free(obj);
	if (pos < 0)
		return err_set(EINVAL, "PCK certificate: no SGX extensions (OID " SGX_EXT_OID ")");
	d = X509_EXTENSION_get_data(X509_get_ext(pck, pos));
	p = d->data;
	seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, d->length);
	if (!seq)
		goto bad;
	for (int i = 0; i < sk_ASN1_TYPE_num(seq); i++) {
		ASN1_TYPE *val;
		int bad = 0;

		if (elem_oid(sk_ASN1_TYPE_value(seq, i), oid, sizeof(oid), &kv)) {
			sk_ASN1_TYPE_pop_free(kv, ASN1_TYPE_free);
			goto bad;
		}
		val = sk_ASN1_TYPE_value(kv, 1);
		if (!strcmp(oid, SGX_EXT_OID ".2"))
			bad = parse_tcb(val, e, &tcb_seen), seen |= 1;
		else if (!strcmp(oid, SGX_EXT_OID ".3"))
			bad = octets(val, e->pceid, 2), seen |= 2;
		else if (!strcmp(oid, SGX_EXT_OID ".4"))
			bad = octets(val, e->fmspc, 6), seen |= 4;
		else if (!strcmp(oid, SGX_EXT_OID ".5")) {
			uint64_t t;

			bad = small_int(val, 255, &t);
			e->sgx_type = bad ? -1 : (int)t;
		} else if (!strcmp(oid, SGX_EXT_OID ".6")) {
			bad = octets(val, e->instance_id, 16);
			e->has_instance_id = !bad;
		} else if (!strcmp(oid, SGX_EXT_OID ".7"))
			bad = parse_config(val, e);
		sk_ASN1_TYPE_pop_free(kv, ASN1_TYPE_free);
		if (bad)
			goto bad;
	}
	if (seen != 7 || tcb_seen != 0x3ffff)
		goto bad;
	ret = 0;
bad:
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	if (ret)
		err_set(EINVAL, "PCK certificate: SGX extensions: malformed or missing TCB/PCE-ID/FMSPC");
	return ret;
}

/* A CRL past its nextUpdate still lists what it revoked: judge revocation
 * with it and let the caller report the staleness as advisory, like expired
 * TCB info (a relying party offline from PCS should not be locked out).
 * Likewise, judged "now" (no explicit evaluation time), a certificate that
 * has expired since still proves the quote authentic: the caller reports it
 * as advisory (DCAP's collateral expiration status). */
struct verify_flags {
	bool *crl_stale;
	bool *expired;       /* NULL: expiry is an error (explicit --at) */
};

static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	int e = X509_STORE_CTX_get_error(ctx);
	struct verify_flags *f = X509_STORE_CTX_get_app_data(ctx);

	if (!ok && f->crl_stale && (e == X509_V_ERR_CRL_HAS_EXPIRED || e == X509_V_ERR_CRL_NOT_YET_VALID)) {
		*f->crl_stale = true;
		return 1;
	}
	if (!ok && f->expired && e == X509_V_ERR_CERT_HAS_EXPIRED) {
		*f->expired = true;
		return 1;
	}
	return ok;
}

int tdx_pck_chain_verify(STACK_OF(X509) *chain, X509 *root, STACK_OF(X509_CRL) *crls, time_t at, char *detail,
			 size_t dlen, bool *crl_stale, bool *expired)
{
	struct verify_flags flags = { .crl_stale = crl_stale, .expired = at ? NULL : expired };
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int n = sk_X509_num(chain), ret = -ENOMEM;

	if (!store || !ctx || !untrusted)
		goto out;
	/* The anchor is ours, never the quote's copy: its last certificate
	 * must carry the built-in root key, or the chain is foreign. */
	if (n < 2 || EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(chain, n - 1)), X509_get0_pubkey(root)) != 1) {
		snprintf(detail, dlen, "chain does not end at the trusted root (Intel SGX Root CA)");
		ret = 0;
		goto out;
	}
	for (int i = 1; i < n - 1; i++)
		if (!sk_X509_push(untrusted, sk_X509_value(chain, i)))
			goto out;
	if (!X509_STORE_add_cert(store, root) ||
	    !X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), untrusted))
		goto out;
	if (at)
		X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), at);
	X509_STORE_CTX_set_app_data(ctx, &flags);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	if (crls) {
		/* Both Intel CRLs given: every certificate below the root is
		 * checked (root CRL covers the intermediate, PCK CRL the leaf);
		 * the PCK CRL alone covers the leaf. */
		X509_STORE_CTX_set0_crls(ctx, crls);
		X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx),
					    X509_V_FLAG_CRL_CHECK |
						    (sk_X509_CRL_num(crls) > 1 ? X509_V_FLAG_CRL_CHECK_ALL : 0));
	}
	if (X509_verify_cert(ctx) == 1) {
		snprintf(detail, dlen, "%d certificates, ends at the trusted root%s", n,
			 !crls ? "" : sk_X509_CRL_num(crls) > 1 ? ", not revoked (PCK CRL, root CRL)"
							       : ", PCK not revoked (PCK CRL)");
		ret = 1;
	} else {
		int e = X509_STORE_CTX_get_error(ctx);

		snprintf(detail, dlen, "certificate %d: %s", X509_STORE_CTX_get_error_depth(ctx),
			 X509_verify_cert_error_string(e));
		ret = 0;
	}
	ERR_clear_error();
out:
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	if (ret < 0)
		err_set(ENOMEM, "PCK chain: out of memory");
	return ret;
}

X509_CRL *tdx_crl_load(const char *path)
{
	uint8_t *data;
	size_t len;
	const unsigned char *p;
	X509_CRL *crl;
	BIO *b;

	if (file_read(path, 16u << 20, &data, &len))
		return NULL;
	p = data;
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	if (!crl && (b = BIO_new_mem_buf(data, (int)len))) {
		crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	ERR_clear_error();
	free(data);
	if (!crl)
		err_set(EINVAL, "%s: not a DER or PEM CRL", path);
	return crl;
}

/* The certificate profile Intel issues (SGX PCK Certificate and CRL Profile;
 * PCS TCB signing chain): X.509 v3, ecdsa-with-SHA256, an EC P-256 key,
 * subject O=Intel Corporation, L=Santa Clara, ST=CA, C=US and the CN of its
 * role ("pck": Intel SGX PCK Certificate; "pck_ca": Intel SGX PCK Platform
 * CA or Processor CA; "tcb_signing": Intel SGX TCB Signing). */
static bool name_is(X509_NAME *name, int nid, const char *want)
{
	char got[128];
	int n = X509_NAME_get_text_by_NID(name, nid, got, sizeof(got));

	return n >= 0 && (size_t)n == strlen(want) && !strcmp(got, want);
}

bool tdx_intel_profile_ok(X509 *x, const char *role, char *detail, size_t n)
{
	static const struct {
		int nid;
		const char *value;
	} fixed[] = {
		{ NID_organizationName, "Intel Corporation" }, { NID_localityName, "Santa Clara" },
		{ NID_stateOrProvinceName, "CA" },	       { NID_countryName, "US" },
	};
	X509_NAME *subj = X509_get_subject_name(x);
	EVP_PKEY *key = X509_get0_pubkey(x);
	char curve[32] = "";
	bool cn_ok;

	if (X509_get_version(x) != X509_VERSION_3) {
		snprintf(detail, n, "%s: not an X.509 v3 certificate", role);
		return false;
	}
	if (X509_get_signature_nid(x) != NID_ecdsa_with_SHA256) {
		snprintf(detail, n, "%s: not signed with ecdsa-with-SHA256", role);
		return false;
	}
	if (!key || !EVP_PKEY_is_a(key, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof(curve), NULL) || strcmp(curve, "prime256v1")) {
		snprintf(detail, n, "%s: the key is not EC P-256", role);
		return false;
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (!name_is(subj, fixed[i].nid, fixed[i].value)) {
			snprintf(detail, n, "%s: subject %s is not '%s'", role, OBJ_nid2sn(fixed[i].nid), fixed[i].value);
			return false;
		}
	if (!strcmp(role, "pck"))
		cn_ok = name_is(subj, NID_commonName, "Intel SGX PCK Certificate");
	else if (!strcmp(role, "pck_ca"))
		cn_ok = name_is(subj, NID_commonName, "Intel SGX PCK Platform CA") ||
			name_is(subj, NID_commonName, "Intel SGX PCK Processor CA");
	else
		cn_ok = name_is(subj, NID_commonName, "Intel SGX TCB Signing");
	if (!cn_ok) {
		snprintf(detail, n, "%s: subject CN is not Intel's for this role", role);
		return false;
	}
	snprintf(detail, n, "%s: as Intel issues it", role);
	return true;
}
