/* snp_chain.c - the AMD key chain behind an SNP report: ARK (self-signed
 * root) -> ASK -> VCEK, or ARK -> ASVK -> VLEK (AMD "Versioned Chip/Loaded
 * Endorsement Key" specs, KDS interface spec #57230). Certificates come from
 * the --certs directory (snpguest's file names) or the extended report's
 * certificate table (snp_cert_table.c), and fall back to the
 * built-in roots of the product (amd_roots.c), so a user needs only the
 * VCEK. The expensive part (parsing, RSA-PSS signatures, CRLs) is cached by
 * the certificate bytes: repeated verifications with the same chain then
 * cost only the report's ECDSA signature. Checks that depend on the call
 * (validity at --at, trust of non-AMD roots or a pinned --root, the
 * report's product) are recorded on every call. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attestation/snp_report.h"
#include "common/common.h"

#define CERT_FILE_MAX (1 << 20)
#define CACHE_SLOTS 8

enum slot { SLOT_VEK, SLOT_INTER, SLOT_ARK, SLOT_BUNDLE, SLOT_CRL, SLOT_COUNT };

struct snp_chain {
	uint8_t key[32];
	int refs;
	bool cached;
	X509 *ark, *inter, *vek;
	STACK_OF(X509_CRL) *crls;
	enum snp_product product;
	bool ark_from_builtin, inter_from_builtin;
	bool ark_is_amd;
	bool ark_sig_ok, inter_sig_ok, vek_sig_ok;
	bool kds_ok;           /* AMD chains: every certificate has the KDS profile */
	char kds_detail[160];
	char inter_err[160], vek_err[160];
	/* CRL outcome: the first problem found, or empty. */
	bool crl_ok;
	char crl_detail[256];
	time_t crl_next_update; /* earliest nextUpdate (0 = none) */
	/* VCEK/VLEK extensions, decoded once: SPLs (-1 = absent) in the order
	 * of spl_oids, hwID (hwid_len 0 = absent or malformed). */
	int spl[5];
	uint8_t hwid[64];
	size_t hwid_len;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snp_chain *cache[CACHE_SLOTS];
static unsigned cache_next;

static void chain_free(struct snp_chain *c)
{
	if (!c)
		return;
	X509_free(c->ark);
	X509_free(c->inter);
	X509_free(c->vek);
	sk_X509_CRL_pop_free(c->crls, X509_CRL_free);
	free(c);
}

void snp_chain_put(struct snp_chain *c)
{
	bool free_it;

	if (!c)
		return;
	pthread_mutex_lock(&cache_lock);
	free_it = --c->refs == 0 && !c->cached;
	pthread_mutex_unlock(&cache_lock);
	if (free_it)
		chain_free(c);
}

/* ---- reading the directory ---- */

struct certfiles {
	char path[SLOT_COUNT][4096];
	uint8_t *data[SLOT_COUNT];
	size_t len[SLOT_COUNT];
};

static void certfiles_free(struct certfiles *f)
{
	for (int i = 0; i < SLOT_COUNT; i++)
		free(f->data[i]);
}

/* Read the first of the names that exists in dir into slot. A file that
 * exists but cannot be read is an input error (negative errno). */
static int read_first(const char *dir, const char *const *names, struct certfiles *f, enum slot s)
{
	for (; *names; names++) {
		snprintf(f->path[s], sizeof(f->path[s]), "%s/%s", dir, *names);
		if (access(f->path[s], F_OK))
			continue;
		return file_read(f->path[s], CERT_FILE_MAX, &f->data[s], &f->len[s]);
	}
	f->path[s][0] = 0;
	return 0;
}

static int read_dir(const char *dir, enum snp_signer signer, struct certfiles *f)
{
	static const char *const vcek[] = { "vcek.der", "vcek.pem", "vcek.crt", "vcek.cert", NULL };
	static const char *const vlek[] = { "vlek.der", "vlek.pem", "vlek.crt", "vlek.cert", NULL };
	static const char *const ask[] = { "ask.pem", "ask.der", "ask.crt", "ask.cert", NULL };
	static const char *const asvk[] = { "asvk.pem", "asvk.der", "asvk.crt", "asvk.cert", NULL };
	static const char *const ark[] = { "ark.pem", "ark.der", "ark.crt", "ark.cert", NULL };
	static const char *const bundle[] = { "cert_chain.pem", "cert_chain", NULL };
	static const char *const crl[] = { "crl.der", "crl.pem", "crl", NULL };
	int ret;

	if ((ret = read_first(dir, signer == SNP_SIGNER_VLEK ? vlek : vcek, f, SLOT_VEK)) ||
	    (ret = read_first(dir, signer == SNP_SIGNER_VLEK ? asvk : ask, f, SLOT_INTER)) ||
	    (ret = read_first(dir, ark, f, SLOT_ARK)) || (ret = read_first(dir, bundle, f, SLOT_BUNDLE)) ||
	    (ret = read_first(dir, crl, f, SLOT_CRL)))
		return ret;
	return 0;
}

static int copy_slot(struct certfiles *f, enum slot s, const char *name, const uint8_t *p, size_t n)
{
	if (!p)
		return 0;
	if (!(f->data[s] = malloc(n + 1)))
		return err_set(ENOMEM, "out of memory");
	memcpy(f->data[s], p, n);
	f->data[s][n] = 0;
	f->len[s] = n;
	snprintf(f->path[s], sizeof(f->path[s]), "certificate table %s entry", name);
	return 0;
}

/* The chain from the extended report's certificate table (o->cert_table);
 * records what the table held. */
static int read_table(const struct att_options *o, enum snp_signer signer, struct certfiles *f, struct att_result *r)
{
	struct snp_cert_table t;
	int ret;

	if ((ret = snp_cert_table_parse(o->cert_table, o->cert_table_len, "certificate table", &t)))
		return ret;
	att_check(r, ATT_AUTH, "cert_table", true, "%zu entries%s%s%s%s%s%s%s", t.entries, t.vcek.p ? ", VCEK" : "",
		  t.vlek.p ? ", VLEK" : "", t.ask.p ? ", ASK" : "", t.ark.p ? ", ARK" : "",
		  t.unknown ? "; unknown GUIDs (ignored): " : "", t.unknown ? t.unknown_guids : "",
		  t.unknown > 0 && strlen(t.unknown_guids) + 40 > sizeof(t.unknown_guids) ? " ..." : "");
	if (signer == SNP_SIGNER_VLEK)
		ret = copy_slot(f, SLOT_VEK, "VLEK", t.vlek.p, t.vlek.len);
	else
		ret = copy_slot(f, SLOT_VEK, "VCEK", t.vcek.p, t.vcek.len);
	if (!ret)
		ret = copy_slot(f, SLOT_INTER, "ASK", t.ask.p, t.ask.len);
	if (!ret)
		ret = copy_slot(f, SLOT_ARK, "ARK", t.ark.p, t.ark.len);
	return ret;
}

static const struct {
	const char *oid, *name;
} spl_oids[] = { { "1.3.6.1.4.1.3704.1.3.1", "bootloader" },
		 { "1.3.6.1.4.1.3704.1.3.2", "tee" },
		 { "1.3.6.1.4.1.3704.1.3.3", "snp" },
		 { "1.3.6.1.4.1.3704.1.3.8", "microcode" },
		 { "1.3.6.1.4.1.3704.1.3.9", "fmc" } };

/* hwID (1.3.6.1.4.1.3704.1.4) names the chip a VCEK was derived for. AMD
 * first stored the 64 raw bytes as the extension value, later a DER OCTET
 * STRING; Turin VCEKs carry 8 bytes (the first 8 of CHIP_ID). */
static void decode_vek_extensions(struct snp_chain *c)
{
	const ASN1_OCTET_STRING *d = snp_ext_data(c->vek, "1.3.6.1.4.1.3704.1.4");
	ASN1_OCTET_STRING *os = NULL;
	const uint8_t *hw = NULL;
	size_t hwlen = 0;

	for (size_t i = 0; i < ARRAY_SIZE(spl_oids); i++)
		c->spl[i] = snp_ext_spl(c->vek, spl_oids[i].oid);
	if (d) {
		hw = ASN1_STRING_get0_data(d);
		hwlen = (size_t)ASN1_STRING_length(d);
		if (hwlen != 64 && hwlen != 8) {
			const unsigned char *q = hw;

			os = d2i_ASN1_OCTET_STRING(NULL, &q, (long)hwlen);
			hw = os ? ASN1_STRING_get0_data(os) : NULL;
			hwlen = os ? (size_t)ASN1_STRING_length(os) : 0;
		}
	}
	if (hw && (hwlen == 64 || hwlen == 8)) {
		memcpy(c->hwid, hw, hwlen);
		c->hwid_len = hwlen;
	}
	ASN1_OCTET_STRING_free(os);
}

void snp_chain_check_binding(const struct snp_chain *c, enum snp_signer signer, const struct snp_report *rep,
			     enum snp_product prod, struct att_result *r)
{
	static const uint8_t zero[64];
	struct snp_tcb t;
	char bad[256] = "";
	size_t n = 0;

	if (signer == SNP_SIGNER_VLEK)
		att_check(r, ATT_AUTH, "vek_chip_id", true, "VLEK: not chip-specific, no hwID to compare");
	else if (!c->hwid_len)
		att_check(r, ATT_AUTH, "vek_chip_id", false, "VCEK has no valid hwID extension");
	else if (!memcmp(rep->chip_id, zero, 64))
		att_check(r, ATT_AUTH, "vek_chip_id", true,
			  "CHIP_ID is masked (all zero) in the report: hwID not compared");
	else
		att_check(r, ATT_AUTH, "vek_chip_id", !memcmp(c->hwid, rep->chip_id, c->hwid_len), "%s",
			  memcmp(c->hwid, rep->chip_id, c->hwid_len) ? "VCEK hwID differs from the report's CHIP_ID"
								     : "VCEK hwID equals CHIP_ID");

	/* The VCEK/VLEK is derived for one TCB: its SPL extensions must equal
	 * REPORTED_TCB (FMC on Turin only). */
	snp_tcb_decode(rep->reported_tcb, prod, &t);
	const int want[] = { t.bootloader, t.tee, t.snp, t.microcode, t.fmc };
	for (size_t i = 0; i < ARRAY_SIZE(spl_oids); i++) {
		if (i == 4 && !t.has_fmc)
			continue;
		if (c->spl[i] != want[i] && n < sizeof(bad))
			n += (size_t)snprintf(bad + n, sizeof(bad) - n, "%s%s: certificate %d, report %d",
					      n ? "; " : "", spl_oids[i].name, c->spl[i], want[i]);
	}
	if (n)
		att_check(r, ATT_AUTH, "vek_tcb", false, "%s SPL extensions differ from REPORTED_TCB: %s",
			  signer == SNP_SIGNER_VLEK ? "VLEK" : "VCEK", bad);
	else
		att_check(r, ATT_AUTH, "vek_tcb", true, "%s SPL extensions equal REPORTED_TCB",
			  signer == SNP_SIGNER_VLEK ? "VLEK" : "VCEK");
}

/* ---- building and verifying the chain (cached) ---- */

static bool sig_ok(X509 *child, X509 *parent, char *err, size_t n)
{
	EVP_PKEY *pub = X509_get0_pubkey(parent);

	if (X509_NAME_cmp(X509_get_issuer_name(child), X509_get_subject_name(parent))) {
		snprintf(err, n, "issuer name does not match the subject of its parent");
		return false;
	}
	if (!pub || X509_verify(child, pub) != 1) {
		snprintf(err, n, "signature does not verify with the parent's key");
		return false;
	}
	return true;
}

static X509 *builtin_ref(enum snp_product p, const char *which)
{
	X509 *x = snp_builtin_cert(p, which);

	if (x)
		X509_up_ref(x);
	return x;
}

static bool equals_builtin_ark(X509 *ark)
{
	static const enum snp_product all[] = { SNP_PRODUCT_MILAN, SNP_PRODUCT_GENOA, SNP_PRODUCT_TURIN };

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		X509 *b = snp_builtin_cert(all[i], "ark");

		if (b && !X509_cmp(b, ark))
			return true;
	}
	return false;
}

static time_t asn1_to_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

static int check_crls(struct snp_chain *c, const char *path, const uint8_t *p, size_t n)
{
	X509 *certs[2] = { c->inter, c->vek };
	X509 *issuers[2] = { c->ark, c->inter };

	c->crls = sk_X509_CRL_new_null();
	if (!c->crls)
		return err_set(ENOMEM, "out of memory");
	if (snp_is_pem(p, n)) {
		BIO *b = BIO_new_mem_buf(p, (int)n);
		X509_CRL *crl;

		while (b && (crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)))
			if (!sk_X509_CRL_push(c->crls, crl))
				X509_CRL_free(crl);
		BIO_free(b);
	} else {
		const unsigned char *q = p;
		X509_CRL *crl = d2i_X509_CRL(NULL, &q, (long)n);

		if (crl && !sk_X509_CRL_push(c->crls, crl))
			X509_CRL_free(crl);
	}
	if (!sk_X509_CRL_num(c->crls))
		return err_set(EINVAL, "%s: not a DER or PEM certificate revocation list", path);

	c->crl_ok = true;
	snprintf(c->crl_detail, sizeof(c->crl_detail), "%d CRL(s) checked: signed by the chain, nothing revoked",
		 sk_X509_CRL_num(c->crls));
	for (int i = 0; i < sk_X509_CRL_num(c->crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(c->crls, i);
		X509 *issuer = NULL;
		time_t next;

		/* AMD's KDS CRL is issued by the ARK and revokes ASKs/ASVKs; a
		 * CRL from the ASK would revoke VCEKs. */
		for (int k = 0; k < 2; k++)
			if (!X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuers[k])))
				issuer = issuers[k];
		if (!issuer || X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1) {
			c->crl_ok = false;
			snprintf(c->crl_detail, sizeof(c->crl_detail), "%.150s: CRL #%d is not signed by the %s", path,
				 i + 1, issuer ? "certificate named as its issuer" : "ARK or ASK of this chain");
			return 0;
		}
		next = asn1_to_time(X509_CRL_get0_nextUpdate(crl));
		if (next && (!c->crl_next_update || next < c->crl_next_update))
			c->crl_next_update = next;
		for (int k = 0; k < 2; k++) {
			X509_REVOKED *rev = NULL;
			char cn[128];

			if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(certs[k])))
				continue;
			if (X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(certs[k])) == 1) {
				snp_subject_cn(certs[k], cn, sizeof(cn));
				c->crl_ok = false;
				snprintf(c->crl_detail, sizeof(c->crl_detail), "certificate '%.80s' is revoked by %.100s",
					 cn, path);
				return 0;
			}
		}
	}
	return 0;
}

static int chain_build(const struct certfiles *f, enum snp_signer signer, enum snp_product report_prod,
		       struct snp_chain *c)
{
	const char *inter_name = signer == SNP_SIGNER_VLEK ? "asvk" : "ask";
	STACK_OF(X509) *bundle = NULL;
	int ret;

	if ((ret = snp_parse_cert(f->path[SLOT_VEK], f->data[SLOT_VEK], f->len[SLOT_VEK], &c->vek)))
		return ret;
	if (f->data[SLOT_INTER] &&
	    (ret = snp_parse_cert(f->path[SLOT_INTER], f->data[SLOT_INTER], f->len[SLOT_INTER], &c->inter)))
		return ret;
	if (f->data[SLOT_ARK] && (ret = snp_parse_cert(f->path[SLOT_ARK], f->data[SLOT_ARK], f->len[SLOT_ARK], &c->ark)))
		return ret;
	/* cert_chain.pem as KDS serves it (ASK then ARK): sort by role. */
	if (f->data[SLOT_BUNDLE]) {
		if (!(bundle = sk_X509_new_null()))
			return err_set(ENOMEM, "out of memory");
		ret = snp_parse_certs(f->path[SLOT_BUNDLE], f->data[SLOT_BUNDLE], f->len[SLOT_BUNDLE], bundle);
		for (int i = 0; !ret && i < sk_X509_num(bundle); i++) {
			X509 *x = sk_X509_value(bundle, i);
			bool self = !X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x));

			if (self && !c->ark && X509_up_ref(x))
				c->ark = x;
			else if (!self && !c->inter &&
				 !X509_NAME_cmp(X509_get_issuer_name(c->vek), X509_get_subject_name(x)) &&
				 X509_up_ref(x))
				c->inter = x;
		}
		sk_X509_pop_free(bundle, X509_free);
		if (ret)
			return ret;
	}

	decode_vek_extensions(c);
	c->product = snp_vek_product(c->vek);
	if (c->product == SNP_PRODUCT_UNKNOWN)
		c->product = report_prod;
	if (!c->inter) {
		c->inter = builtin_ref(c->product, inter_name);
		c->inter_from_builtin = c->inter != NULL;
	}
	if (!c->ark) {
		c->ark = builtin_ref(c->product, "ark");
		c->ark_from_builtin = c->ark != NULL;
	}
	if (!c->inter || !c->ark)
		return 0; /* recorded as failed checks by the caller */

	c->ark_is_amd = equals_builtin_ark(c->ark);
	c->ark_sig_ok = !X509_NAME_cmp(X509_get_subject_name(c->ark), X509_get_issuer_name(c->ark)) &&
			X509_verify(c->ark, X509_get0_pubkey(c->ark)) == 1;
	c->inter_sig_ok = sig_ok(c->inter, c->ark, c->inter_err, sizeof(c->inter_err));
	c->vek_sig_ok = sig_ok(c->vek, c->inter, c->vek_err, sizeof(c->vek_err));
	if (c->ark_is_amd)
		c->kds_ok = snp_kds_profile_ok(c->ark, "ark", c->product, c->kds_detail, sizeof(c->kds_detail)) &&
			    snp_kds_profile_ok(c->inter, inter_name, c->product, c->kds_detail, sizeof(c->kds_detail)) &&
			    snp_kds_profile_ok(c->vek, signer == SNP_SIGNER_VLEK ? "vlek" : "vcek", c->product,
					       c->kds_detail, sizeof(c->kds_detail));
	if (c->kds_ok)
		snprintf(c->kds_detail, sizeof(c->kds_detail), "ARK, %s and %s have the AMD KDS profile (v3, "
			 "RSASSA-PSS SHA-384/MGF1-SHA-384/salt 48, AMD subject, key types)", inter_name,
			 signer == SNP_SIGNER_VLEK ? "VLEK" : "VCEK");
	if (f->data[SLOT_CRL])
		return check_crls(c, f->path[SLOT_CRL], f->data[SLOT_CRL], f->len[SLOT_CRL]);
	return 0;
}

static void cache_key(const struct certfiles *f, enum snp_signer signer, enum snp_product report_prod,
		      uint8_t key[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n;
	uint8_t hdr[16];

	memset(key, 0, 32);
	if (!ctx)
		return;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	put_le32(hdr, signer);
	put_le32(hdr + 4, report_prod);
	EVP_DigestUpdate(ctx, hdr, 8);
	for (int i = 0; i < SLOT_COUNT; i++) {
		put_le32(hdr, (uint32_t)i);
		put_le64(hdr + 4, f->data[i] ? f->len[i] : UINT64_MAX);
		EVP_DigestUpdate(ctx, hdr, 12);
		if (f->data[i])
			EVP_DigestUpdate(ctx, f->data[i], f->len[i]);
	}
	EVP_DigestFinal_ex(ctx, key, &n);
	EVP_MD_CTX_free(ctx);
}

static struct snp_chain *cache_lookup(const uint8_t key[32])
{
	struct snp_chain *found = NULL;

	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (cache[i] && !memcmp(cache[i]->key, key, 32)) {
			found = cache[i];
			found->refs++;
			break;
		}
	pthread_mutex_unlock(&cache_lock);
	return found;
}

static void cache_insert(struct snp_chain *c)
{
	pthread_mutex_lock(&cache_lock);
	for (int tries = 0; tries < CACHE_SLOTS; tries++) {
		unsigned i = cache_next++ % CACHE_SLOTS;
		struct snp_chain *old = cache[i];

		if (old && old->refs)
			continue;
		cache[i] = c;
		c->cached = true;
		chain_free(old);
		break;
	}
	pthread_mutex_unlock(&cache_lock);
}

/* ---- recording the checks of one verification ---- */

/* Certificates must be valid at the evaluation time. An SNP report carries no
 * time of its own: with an explicit --at the relying party states when the
 * evidence must have been valid, so expiry then is a failure. Judged "now"
 * (no --at), a chain that was valid but has since expired still proves the
 * report authentic (like DCAP's collateral expiration status): the expiry is
 * reported as a warning, and a policy can reject it. Not-yet-valid is
 * always a failure. */
static void check_validity(struct att_result *r, struct snp_chain *c, time_t at, bool at_explicit,
			   const json_t *allow_expired)
{
	bool only_expired = true;
	X509 *certs[3] = { c->ark, c->inter, c->vek };
	char detail[400] = "";
	size_t n = 0;
	bool ok = true;

	for (int i = 0; i < 3; i++) {
		char cn[128];
		int before = X509_cmp_time(X509_get0_notBefore(certs[i]), &at);
		int after = X509_cmp_time(X509_get0_notAfter(certs[i]), &at);

		snp_subject_cn(certs[i], cn, sizeof(cn));
		if (n >= sizeof(detail))
			n = sizeof(detail) - 1;
		if (before == 0 || after == 0) {
			ok = only_expired = false;
			n += (size_t)snprintf(detail + n, sizeof(detail) - n, "%s'%s' has an invalid validity time",
					      n ? "; " : "", cn);
		} else if (before > 0) {
			ok = only_expired = false;
			n += (size_t)snprintf(detail + n, sizeof(detail) - n, "%s'%s' is not valid yet", n ? "; " : "",
					      cn);
		} else if (after < 0) {
			ok = false;
			n += (size_t)snprintf(detail + n, sizeof(detail) - n, "%s'%s' has expired", n ? "; " : "",
					      cn);
		}
		if (n >= sizeof(detail) - 1)
			break;
	}
	if (ok)
		att_check(r, ATT_AUTH, "cert_validity", true, "%s",
			  "ARK, intermediate and endorsement key certificates are valid at the evaluation time");
	else if (!only_expired || at_explicit)
		att_check(r, ATT_AUTH, "cert_validity", false, "%s", detail);
	else if (json_is_true(allow_expired)) /* the policy accepts a chain that has expired since */
		att_check(r, ATT_POLICY, "cert_validity", true, "%.400s; accepted by snp.allow_expired_certs", detail);
	else
		att_check(r, allow_expired ? ATT_POLICY : ATT_ADVISORY, "cert_validity", false, "%s", detail);
}

int snp_chain_get(const struct att_options *o, enum snp_signer signer, enum snp_product report_prod,
		  struct att_result *r, struct snp_chain **chain, X509 **vek, enum snp_product *prod)
{
	const char *vname = signer == SNP_SIGNER_VLEK ? "vlek" : "vcek";
	const char *iname = signer == SNP_SIGNER_VLEK ? "asvk" : "ask";
	const char *src = o->certs_dir ? o->certs_dir : "the certificate table";
	struct certfiles f = { 0 };
	struct snp_chain *c;
	X509 *pinned = NULL;
	uint8_t key[32];
	time_t at = o->at ? o->at : time(NULL);
	char cn[128];
	int ret;

	*chain = NULL;
	*vek = NULL;
	*prod = report_prod;
	if (o->root_pem && (ret = snp_parse_cert("--root", (const uint8_t *)o->root_pem, o->root_pem_len, &pinned)))
		return ret;
	if (!o->certs_dir && !o->cert_table) {
		att_check(r, ATT_AUTH, "vek_present", false,
			  "no certificate directory (--certs DIR) or table (--cert-table FILE): the %s is needed to "
			  "check the report signature (cvmm fetch-certs gets it)",
			  vname);
		goto out;
	}
	if ((ret = o->certs_dir ? read_dir(o->certs_dir, signer, &f) : read_table(o, signer, &f, r)))
		goto out;
	if (!f.data[SLOT_VEK]) {
		if (o->certs_dir)
			att_check(r, ATT_AUTH, "vek_present", false, "%s: no %s.der or %s.pem", src, vname, vname);
		else
			att_check(r, ATT_AUTH, "vek_present", false, "the certificate table has no %s entry",
				  signer == SNP_SIGNER_VLEK ? "VLEK" : "VCEK");
		goto out;
	}
	att_check(r, ATT_AUTH, "vek_present", true, "%s", f.path[SLOT_VEK]);
	/* A pinned root stands in for a missing ARK (and is compared below). */
	if (pinned && !f.data[SLOT_ARK]) {
		if ((ret = copy_slot(&f, SLOT_ARK, "--root", (const uint8_t *)o->root_pem, o->root_pem_len)))
			goto out;
		snprintf(f.path[SLOT_ARK], sizeof(f.path[SLOT_ARK]), "--root");
	}

	cache_key(&f, signer, report_prod, key);
	c = cache_lookup(key);
	if (!c) {
		if (!(c = calloc(1, sizeof(*c)))) {
			ret = err_set(ENOMEM, "out of memory");
			goto out;
		}
		memcpy(c->key, key, 32);
		c->refs = 1;
		if ((ret = chain_build(&f, signer, report_prod, c))) {
			chain_free(c);
			goto out;
		}
		cache_insert(c);
	}
	*prod = c->product;

	if (report_prod != SNP_PRODUCT_UNKNOWN && c->product != report_prod)
		att_check(r, ATT_AUTH, "product", false, "report CPUID says %s, the certificates are for %s",
			  snp_product_name(report_prod), snp_product_name(c->product));
	else if (c->product != SNP_PRODUCT_UNKNOWN)
		att_check(r, ATT_AUTH, "product", true, "%s", snp_product_name(c->product));
	else if (c->ark && c->inter && !c->ark_is_amd && !c->ark_from_builtin)
		/* A complete non-AMD chain (a simulated platform): nothing built in
		 * is chosen by product; the root's trust is judged below. */
		att_check(r, ATT_AUTH, "product", true, "not an AMD product: complete chain given in %s", src);
	else
		att_check(r, ATT_AUTH, "product", false,
			  "cannot tell the AMD product from the report or the certificates");
	if (!c->ark || !c->inter) {
		att_check(r, ATT_AUTH, "ark", false, "no %s%s%s for product %s in %s and none built in",
			  c->ark ? "" : "ARK", !c->ark && !c->inter ? "/" : "", c->inter ? "" : iname,
			  snp_product_name(c->product), src);
		snp_chain_put(c);
		goto out;
	}

	snp_subject_cn(c->ark, cn, sizeof(cn));
	if (!c->ark_sig_ok)
		att_check(r, ATT_AUTH, "ark", false, "root '%s' is not a valid self-signed certificate", cn);
	else if (pinned && X509_cmp(pinned, c->ark))
		att_check(r, ATT_AUTH, "ark", false, "root '%s' is not the pinned root (--root)", cn);
	else if (pinned)
		att_check(r, ATT_AUTH, "ark", true, "'%s' is the pinned root (--root)%s", cn,
			  c->ark_is_amd ? ", a built-in AMD root" : ": not an AMD root, evidence from a simulated platform");
	else if (c->ark_is_amd)
		att_check(r, ATT_AUTH, "ark", true, "%s: the built-in AMD root%s", cn,
			  c->ark_from_builtin ? "" : " (equal to the one given)");
	else if (o->allow_sim)
		att_check(r, ATT_AUTH, "ark", true,
			  "root '%s' is not an AMD root: evidence from a simulated platform, trusted because of "
			  "--allow-sim", cn);
	else
		att_check(r, ATT_AUTH, "ark", false,
			  "root '%s' is not a built-in AMD ARK (a simulated platform's root needs --allow-sim)", cn);

	snp_subject_cn(c->inter, cn, sizeof(cn));
	att_check(r, ATT_AUTH, iname, c->inter_sig_ok, "'%s'%s %s", cn, c->inter_from_builtin ? " (built-in)" : "",
		  c->inter_sig_ok ? "is signed by the ARK" : c->inter_err);
	snp_subject_cn(c->vek, cn, sizeof(cn));
	att_check(r, ATT_AUTH, vname, c->vek_sig_ok, "'%s' %s", cn,
		  c->vek_sig_ok ? (signer == SNP_SIGNER_VLEK ? "is signed by the ASVK" : "is signed by the ASK")
				: c->vek_err);
	if (c->ark_sig_ok && !c->ark_is_amd && (pinned ? !X509_cmp(pinned, c->ark) : o->allow_sim)) {
		r->simulated = true;
		if (r->claims)
			json_object_set_new(r->claims, "simulated", json_true());
	}
	if (c->ark_is_amd && c->ark_sig_ok)
		att_check(r, ATT_AUTH, "kds_profile", c->kds_ok, "%s", c->kds_detail);
	check_validity(r, c, at, o->at != 0, json_object_get(json_object_get(o->policy, "snp"), "allow_expired_certs"));
	if (c->crls) {
		att_check(r, ATT_AUTH, "crl", c->crl_ok, "%s", c->crl_detail);
		if (c->crl_ok && c->crl_next_update)
			att_check_fresh(r, o->policy, "crl_current", at, c->crl_next_update, "the CRL");
	} else if (att_policy_bool(o->policy, "require_crl")) {
		att_check(r, ATT_POLICY, "crl", false, "no CRL (crl.der/crl.pem in --certs): the policy sets require_crl");
	} else {
		/* recorded so that "no revocation check" is visible */
		att_check(r, ATT_ADVISORY, "crl", true, "not checked: no CRL given (the policy's require_crl makes this "
			  "a failure)");
	}
	*chain = c;
	*vek = c->vek;
out:
	X509_free(pinned);
	certfiles_free(&f);
	return ret;
}
