/* fetch_snp.c - `cvmm fetch-certs --report`: the VCEK (or the VLEK chain),
 * ASK, ARK and CRL of an SEV-SNP report from the AMD Key Distribution Server.
 *
 * The report is read by the verifier's parser (snp_report.c); only the
 * fields that name the certificates are used (AMD SEV-SNP ABI spec 56860,
 * "Attestation Report": signing-key flags, REPORTED_TCB, CPUID_FAM_ID /
 * CPUID_MOD_ID (report version 3 and later), CHIP_ID). URL layout: AMD "Versioned Chip Endorsement Key (VCEK)
 * Certificate and KDS Interface Specification" 57230. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attestation/attestation.h"
#include "attestation/fetch_internal.h"
#include "attestation/snp_report.h"
#include "common/common.h"

/* Product from CPUID family/model (ABI spec: CPUID_FAM_ID, CPUID_MOD_ID are
 * the extended family and model; AMD processor naming: family 19h models
 * 00h-0Fh Milan, 10h-1Fh and A0h-AFh Genoa; family 1Ah Turin). */
static const char *snp_product_from_cpuid(uint8_t family, uint8_t model)
{
	if (family == 0x19 && model <= 0x0f)
		return "Milan";
	if (family == 0x19 && ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf)))
		return "Genoa";
	if (family == 0x1a)
		return "Turin";
	return NULL;
}

/* The report is parsed by the verifier's parser (snp_report.c); fetch-certs
 * only needs the signer, the chip and the TCB. */
int att_fetch_snp_id(const uint8_t *report, size_t len, const char *what, struct att_fetch_snp_id *id)
{
	struct snp_report rep;
	enum snp_signer signer;
	int ret;

	memset(id, 0, sizeof(*id));
	if ((ret = snp_report_parse(report, len, what, &rep)))
		return ret;
	id->version = rep.version;
	/* FLAGS bit 1 MASK_CHIP_ID, bits 4:2 SIGNING_KEY (0 VCEK, 1 VLEK, 7 none). */
	id->chip_id_masked = rep.flags & 2;
	signer = snp_report_signer(&rep);
	if (signer != SNP_SIGNER_VCEK && signer != SNP_SIGNER_VLEK)
		return err_set(EINVAL, "%s: SIGNING_KEY %u: the report is not signed by a VCEK or VLEK", what,
			       (unsigned)signer);
	id->vlek = signer == SNP_SIGNER_VLEK;
	id->reported_tcb = rep.reported_tcb;
	memcpy(id->chip_id, rep.chip_id, sizeof(id->chip_id));
	if (rep.version >= 3)
		id->product = snp_product_from_cpuid(rep.cpuid_fam_id, rep.cpuid_mod_id);
	return 0;
}

/* --product: exactly a product name, in any case. */
static const char *product_arg(const char *s)
{
	for (enum snp_product p = SNP_PRODUCT_MILAN; p <= SNP_PRODUCT_TURIN; p++)
		if (!strcasecmp(s, snp_product_name(p)))
			return snp_product_name(p);
	return NULL;
}

/* The SPL query of the VCEK URL, from the TCB_VERSION components as the
 * verifier decodes them (snp_tcb_decode: Turin adds FMC). */
static void snp_spl_query(const char *product, uint64_t tcb, char *out, size_t n)
{
	struct snp_tcb t;

	snp_tcb_decode(tcb, strcmp(product, "Turin") ? SNP_PRODUCT_MILAN : SNP_PRODUCT_TURIN, &t);
	if (t.has_fmc)
		snprintf(out, n, "fmcSPL=%02u&blSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u", t.fmc, t.bootloader,
			 t.tee, t.snp, t.microcode);
	else
		snprintf(out, n, "blSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u", t.bootloader, t.tee, t.snp,
			 t.microcode);
}

/* The KDS cert_chain is two PEM certificates: the intermediate (ASK or
 * ASVK) then the root (ARK). Parse both and check who issued whom by name,
 * so a swapped or foreign chain is caught here; signatures are verify's job. */
static int snp_split_chain(const struct att_fetch_resp *resp, const char *url, const char *inter_name,
			   struct att_fetch_out *o, X509 **inter_out)
{
	BIO *in = BIO_new_mem_buf(resp->body, (int)resp->len);
	X509 *certs[3] = { NULL, NULL, NULL };
	size_t n = 0;
	int ret = 0;

	if (!in)
		return err_set(ENOMEM, "%s: out of memory", url);
	while (n < 3) {
		X509 *x = PEM_read_bio_X509(in, NULL, NULL, NULL);

		if (!x)
			break;
		certs[n++] = x;
	}
	BIO_free(in);
	ERR_clear_error(); /* the read loop ends on "no start line" */
	if (n != 2) {
		ret = err_set(EINVAL, "%s: expected 2 PEM certificates (%s, ARK), found %s", url, inter_name,
			      n > 2 ? "more" : n == 1 ? "1" : "none");
		goto out;
	}
	if (X509_check_issued(certs[1], certs[1]) != X509_V_OK ||
	    X509_check_issued(certs[1], certs[0]) != X509_V_OK) {
		ret = err_set(EINVAL, "%s: the second certificate (ARK) is not self-issued or did not issue the first (%s)",
			      url, inter_name);
		goto out;
	}
	for (size_t i = 0; i < 2 && !ret && o; i++) {
		BIO *mem = BIO_new(BIO_s_mem());
		char name[32];
		char *p;
		long plen;

		snprintf(name, sizeof(name), "%s.pem", i ? "ark" : inter_name);
		if (!mem || !PEM_write_bio_X509(mem, certs[i])) {
			BIO_free(mem);
			ret = err_set(ENOMEM, "%s: cannot encode %s", url, name);
			break;
		}
		plen = BIO_get_mem_data(mem, &p);
		ret = att_fetch_out_add_copy(o, name, p, (size_t)plen);
		BIO_free(mem);
	}
	if (!ret && inter_out) {
		*inter_out = certs[0];
		certs[0] = NULL;
	}
out:
	for (size_t i = 0; i < n; i++)
		X509_free(certs[i]);
	return ret;
}

static int snp_check_chain(const struct att_fetch_resp *resp, const char *url, void *inter_name)
{
	return snp_split_chain(resp, url, inter_name, NULL, NULL);
}

static int snp_check_crl(const struct att_fetch_resp *resp, const char *url, void *arg)
{
	const unsigned char *p = resp->body;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)resp->len);

	(void)arg;
	if (!crl || p != resp->body + resp->len) {
		X509_CRL_free(crl);
		return err_set(EINVAL, "%s: response is not one DER X.509 CRL", url);
	}
	X509_CRL_free(crl);
	return 0;
}

/* VCEK: one DER certificate for this chip and TCB, issued by the ASK. */
static int snp_check_vcek(const struct att_fetch_resp *resp, const char *url, void *ask)
{
	const unsigned char *p = resp->body;
	X509 *vcek = d2i_X509(NULL, &p, (long)resp->len);
	int ret = 0;

	if (!vcek || p != resp->body + resp->len)
		ret = err_set(EINVAL, "%s: response is not one DER X.509 certificate", url);
	else if (X509_check_issued(ask, vcek) != X509_V_OK)
		ret = err_set(EINVAL, "%s: the VCEK was not issued by the ASK of the cert_chain", url);
	X509_free(vcek);
	return ret;
}

/* Fetch url (checked by check) and add its body to o as name. */
static int snp_fetch_file(struct att_fetch_ctx *c, const char *url, bool is_mutable, att_fetch_check_fn check,
			  void *arg, const char *name, struct att_fetch_out *o)
{
	struct att_fetch_resp resp;
	int ret = att_fetch_get(c, url, NULL, is_mutable, check, arg, &resp);

	if (ret)
		return ret;
	ret = att_fetch_out_take(o, name, &resp);
	att_fetch_resp_free(&resp);
	return ret;
}

int att_fetch_snp(struct att_fetch_ctx *c, const uint8_t *report, size_t len, const char *what,
		  const struct att_fetch_snp_args *a, struct att_fetch_out *o)
{
	struct att_fetch_snp_id id;
	struct att_fetch_resp resp = { 0 };
	const char *product, *key;
	char url[1024], query[128], hwid[129];
	X509 *inter = NULL;
	int ret = att_fetch_snp_id(report, len, what, &id);

	if (ret)
		return ret;
	product = id.product;
	if (a->product) {
		product = product_arg(a->product);
		if (!product)
			return err_set(EINVAL, "--product %s: expected Milan, Genoa or Turin", a->product);
		if (id.product && strcmp(product, id.product))
			return err_set(EINVAL, "--product %s: the report's CPUID says %s", product, id.product);
	}
	if (!product)
		return err_set(EINVAL, "%s: report version %u does not name the processor (CPUID fields are in "
				       "version 3 and later): pass --product Milan|Genoa|Turin",
			       what, id.version);
	key = id.vlek ? "vlek" : "vcek";

	/* Chain first: the VCEK is checked against the ASK. */
	snprintf(url, sizeof(url), "%s/%s/v1/%s/cert_chain", a->kds_url, key, product);
	ret = att_fetch_get(c, url, NULL, false, snp_check_chain, (void *)(id.vlek ? "asvk" : "ask"), &resp);
	if (!ret)
		ret = snp_split_chain(&resp, url, id.vlek ? "asvk" : "ask", o, &inter);
	att_fetch_resp_free(&resp);
	if (ret)
		goto out;

	/* A VLEK is provisioned to the host by the cloud provider, not served
	 * per chip by the KDS: only its chain and CRL can be fetched. */
	if (!id.vlek) {
		if (id.chip_id_masked) {
			ret = err_set(EINVAL, "%s: MASK_CHIP_ID is set, CHIP_ID is zero: the VCEK cannot be looked up",
				      what);
			goto out;
		}
		/* Turin's hardware ID is the first 8 bytes of CHIP_ID (KDS spec). */
		hex_encode(id.chip_id, strcmp(product, "Turin") ? 64 : 8, hwid);
		snp_spl_query(product, id.reported_tcb, query, sizeof(query));
		snprintf(url, sizeof(url), "%s/vcek/v1/%s/%s?%s", a->kds_url, product, hwid, query);
		ret = snp_fetch_file(c, url, false, snp_check_vcek, inter, "vcek.der", o);
		if (ret)
			goto out;
	}

	snprintf(url, sizeof(url), "%s/%s/v1/%s/crl", a->kds_url, key, product);
	ret = snp_fetch_file(c, url, true, snp_check_crl, NULL, "crl.der", o);
out:
	X509_free(inter);
	return ret;
}
