/* snp_certs.c - small helpers over OpenSSL for the AMD certificates: PEM or
 * DER input, subject/issuer common names, and the VCEK/VLEK extensions (AMD
 * KDS interface spec #57230, "VCEK Certificate Extensions"): productName
 * 1.3.6.1.4.1.3704.1.2, SPLs 1.3.6.1.4.1.3704.1.3.x, hwID .1.4. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attestation/snp_report.h"
#include "common/common.h"

bool snp_is_pem(const uint8_t *p, size_t n)
{
	while (n && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++, n--;
	return n >= 10 && !memcmp(p, "-----BEGIN", 10);
}

/* Certificates in PEM (one or more) or DER (one). */
int snp_parse_certs(const char *path, const uint8_t *p, size_t n, STACK_OF(X509) *out)
{
	if (snp_is_pem(p, n)) {
		BIO *b = BIO_new_mem_buf(p, (int)n);
		X509 *x;
		int count = 0;

		if (!b)
			return err_set(ENOMEM, "%s: out of memory", path);
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
			if (!sk_X509_push(out, x)) {
				X509_free(x);
				break;
			}
			count++;
		}
		BIO_free(b);
		if (!count)
			return err_set(EINVAL, "%s: no PEM certificate could be parsed", path);
		return 0;
	} else {
		const unsigned char *q = p;
		X509 *x = d2i_X509(NULL, &q, (long)n);

		if (!x || q != p + n) {
			X509_free(x);
			return err_set(EINVAL, "%s: not a DER or PEM X.509 certificate", path);
		}
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			return err_set(ENOMEM, "%s: out of memory", path);
		}
		return 0;
	}
}

int snp_parse_cert(const char *path, const uint8_t *p, size_t n, X509 **out)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	int ret;

	if (!sk)
		return err_set(ENOMEM, "%s: out of memory", path);
	ret = snp_parse_certs(path, p, n, sk);
	if (!ret)
		*out = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	return ret;
}

/* The first common name of @name, or "" when there is none, it does not fit,
 * or it holds an embedded NUL (a name that would read differently as a C
 * string is treated as no name). */
static void name_cn(X509_NAME *name, char *out, size_t n)
{
	int i = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
	const ASN1_STRING *s;
	int len;

	out[0] = 0;
	if (i < 0 || !(s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i))))
		return;
	len = ASN1_STRING_length(s);
	if (len < 0 || (size_t)len >= n)
		return;
	memcpy(out, ASN1_STRING_get0_data(s), (size_t)len);
	out[len] = 0;
	if (strlen(out) != (size_t)len)
		out[0] = 0;
}

void snp_subject_cn(X509 *x, char *out, size_t n)
{
	name_cn(X509_get_subject_name(x), out, n);
}

static void snp_issuer_cn(X509 *x, char *out, size_t n)
{
	name_cn(X509_get_issuer_name(x), out, n);
}

/* ---- VCEK extensions (KDS spec, "VCEK Certificate Extensions") ---- */

const ASN1_OCTET_STRING *snp_ext_data(X509 *x, const char *oid)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	int i = obj ? X509_get_ext_by_OBJ(x, obj, -1) : -1;

	ASN1_OBJECT_free(obj);
	return i < 0 ? NULL : X509_EXTENSION_get_data(X509_get_ext(x, i));
}

enum snp_product snp_vek_product(X509 *vek)
{
	const ASN1_OCTET_STRING *d = snp_ext_data(vek, "1.3.6.1.4.1.3704.1.2");
	char cn[128];
	enum snp_product p = SNP_PRODUCT_UNKNOWN;

	snp_issuer_cn(vek, cn, sizeof(cn)); /* "SEV-Milan", "SEV-VLEK-Genoa" */
	p = snp_product_from_name(cn);
	if (p == SNP_PRODUCT_UNKNOWN && d) {
		const unsigned char *q = ASN1_STRING_get0_data(d);
		ASN1_IA5STRING *s = d2i_ASN1_IA5STRING(NULL, &q, ASN1_STRING_length(d));
		char name[64] = "";

		if (s && ASN1_STRING_length(s) > 0 && (size_t)ASN1_STRING_length(s) < sizeof(name))
			memcpy(name, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
		ASN1_IA5STRING_free(s);
		p = snp_product_from_name(name);
	}
	return p;
}

/* An SPL extension is a DER INTEGER; -1 when absent or malformed. */
int snp_ext_spl(X509 *x, const char *oid)
{
	const ASN1_OCTET_STRING *d = snp_ext_data(x, oid);
	const unsigned char *q;
	ASN1_INTEGER *i;
	int64_t v = -1;

	if (!d)
		return -1;
	q = ASN1_STRING_get0_data(d);
	i = d2i_ASN1_INTEGER(NULL, &q, ASN1_STRING_length(d));
	if (!i || !ASN1_INTEGER_get_int64(&v, i) || v < 0 || v > 255)
		v = -1;
	ASN1_INTEGER_free(i);
	return (int)v;
}

/* ---- the KDS certificate profile (AMD KDS interface spec #57230; VCEK /
 * VLEK specs): what AMD issues, checked field by field for AMD-rooted
 * chains. Every certificate: X.509 v3, signed RSASSA-PSS with SHA-384,
 * MGF1-SHA-384 and a 48-byte salt; subject OU=Engineering, C=US,
 * L=Santa Clara, ST=CA, O=Advanced Micro Devices and the CN of its role;
 * ARK/ASK/ASVK an RSA-4096 key, VCEK/VLEK an EC P-384 key. */
static bool name_entry_is(X509_NAME *name, int nid, const char *want)
{
	char got[128];
	int n = X509_NAME_get_text_by_NID(name, nid, got, sizeof(got));

	return n >= 0 && (size_t)n == strlen(want) && !strcmp(got, want);
}

bool snp_kds_profile_ok(X509 *x, const char *role, enum snp_product prod, char *detail, size_t n)
{
	static const struct {
		int nid;
		const char *value;
	} fixed[] = {
		{ NID_organizationalUnitName, "Engineering" }, { NID_countryName, "US" },
		{ NID_localityName, "Santa Clara" },	       { NID_stateOrProvinceName, "CA" },
		{ NID_organizationName, "Advanced Micro Devices" },
	};
	const X509_ALGOR *alg;
	const ASN1_OBJECT *obj;
	const void *pval;
	int ptype;
	RSA_PSS_PARAMS *pss = NULL;
	X509_ALGOR *mgf_md = NULL;
	EVP_PKEY *key = X509_get0_pubkey(x);
	X509_NAME *subj = X509_get_subject_name(x);
	char cn[64];
	bool leaf = !strcmp(role, "vcek") || !strcmp(role, "vlek");
	bool ok = false;

	if (!strcmp(role, "ark"))
		snprintf(cn, sizeof(cn), "ARK-%s", snp_product_name(prod));
	else if (!strcmp(role, "ask"))
		snprintf(cn, sizeof(cn), "SEV-%s", snp_product_name(prod));
	else if (!strcmp(role, "asvk"))
		snprintf(cn, sizeof(cn), "SEV-VLEK-%s", snp_product_name(prod));
	else
		snprintf(cn, sizeof(cn), "%s", !strcmp(role, "vlek") ? "SEV-VLEK" : "SEV-VCEK");
	if (X509_get_version(x) != X509_VERSION_3) {
		snprintf(detail, n, "%s: not an X.509 v3 certificate", role);
		return false;
	}
	X509_get0_signature(NULL, &alg, x);
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	if (OBJ_obj2nid(obj) != NID_rsassaPss || ptype != V_ASN1_SEQUENCE) {
		snprintf(detail, n, "%s: not signed with RSASSA-PSS", role);
		return false;
	}
	pss = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_PSS_PARAMS), alg->parameter);
	if (!pss || !pss->hashAlgorithm || OBJ_obj2nid(pss->hashAlgorithm->algorithm) != NID_sha384 ||
	    !pss->maskGenAlgorithm || OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) != NID_mgf1 ||
	    !pss->maskGenAlgorithm->parameter || pss->maskGenAlgorithm->parameter->type != V_ASN1_SEQUENCE ||
	    !(mgf_md = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR), pss->maskGenAlgorithm->parameter)) ||
	    OBJ_obj2nid(mgf_md->algorithm) != NID_sha384 || !pss->saltLength ||
	    ASN1_INTEGER_get(pss->saltLength) != 48) {
		snprintf(detail, n, "%s: RSASSA-PSS parameters are not SHA-384, MGF1-SHA-384, salt 48", role);
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		if (!name_entry_is(subj, fixed[i].nid, fixed[i].value)) {
			snprintf(detail, n, "%s: subject %s is not '%s'", role, OBJ_nid2sn(fixed[i].nid), fixed[i].value);
			goto out;
		}
	if (!name_entry_is(subj, NID_commonName, cn)) {
		snprintf(detail, n, "%s: subject CN is not '%s'", role, cn);
		goto out;
	}
	if (leaf ? !(EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_bits(key) == 384)
		 : !(EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) == 4096)) {
		snprintf(detail, n, "%s: the key is not %s", role, leaf ? "EC P-384" : "RSA-4096");
		goto out;
	}
	snprintf(detail, n, "%s: as KDS issues it", role);
	ok = true;
out:
	RSA_PSS_PARAMS_free(pss);
	X509_ALGOR_free(mgf_md);
	return ok;
}
