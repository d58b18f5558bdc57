/* fetch_tdx.c - `cvmm fetch-certs --quote`: the collateral that verifies an
 * Intel TDX quote, from Intel's Provisioning Certification Service (PCS v4).
 *
 * The PCK certificate chain travels inside the quote (certification data
 * type 6 -> 5); the verifier's quote parser (tdx_quote.c) finds it, so
 * fetch-certs accepts exactly the quotes `cvmm verify` can read.
 * The PCK certificate names the FMSPC (Intel SGX PCK Certificate and CRL
 * Profile: SGX extension 1.2.840.113741.1.13.1, FMSPC .4) and, by its issuer,
 * which PCK CRL (platform or processor CA) applies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attestation/attestation.h"
#include "attestation/fetch_internal.h"
#include "attestation/tdx_quote.h"
#include "common/common.h"

int att_fetch_tdx_pck_chain(const uint8_t *quote, size_t len, const char *what, const uint8_t **pem,
			    size_t *pem_len)
{
	struct tdx_quote q;
	int ret = tdx_quote_parse(quote, len, what, &q);

	if (ret)
		return ret;
	if (!q.pck_chain_len)
		return err_set(EINVAL, "%s: the PCK certificate chain is empty", what);
	*pem = q.pck_chain;
	*pem_len = q.pck_chain_len;
	return 0;
}

/* Which PCK CRL: the PCK certificate's issuer CN (PCK Certificate and CRL
 * Profile: "Intel SGX PCK Platform CA" or "Intel SGX PCK Processor CA"). */
static int tdx_pck_ca(X509 *pck, const char *what, const char **ca)
{
	X509_NAME *issuer = X509_get_issuer_name(pck);
	int idx = X509_NAME_get_index_by_NID(issuer, NID_commonName, -1);
	const ASN1_STRING *cn;

	if (idx >= 0) {
		cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(issuer, idx));
		if (cn->length == 25 && !memcmp(cn->data, "Intel SGX PCK Platform CA", 25)) {
			*ca = "platform";
			return 0;
		}
		if (cn->length == 26 && !memcmp(cn->data, "Intel SGX PCK Processor CA", 26)) {
			*ca = "processor";
			return 0;
		}
	}
	return err_set(EINVAL, "%s: the PCK certificate's issuer is neither Intel SGX PCK Platform CA nor Processor CA",
		       what);
}

/* Count the PEM certificates in text; 0 when none parse. */
static size_t pem_cert_count(const char *text, size_t len, X509 **first)
{
	BIO *in = BIO_new_mem_buf(text, (int)len);
	size_t n = 0;
	X509 *x;

	if (first)
		*first = NULL;
	while (in && (x = PEM_read_bio_X509(in, NULL, NULL, NULL))) {
		if (first && !n)
			*first = x;
		else
			X509_free(x);
		n++;
	}
	BIO_free(in);
	ERR_clear_error(); /* the read loop ends on "no start line" */
	return n;
}

/* A signed PCS JSON document: keep the exact bytes (the signature covers the
 * text of the inner object), but check that it is the document asked for
 * and that its issuer chain header holds certificates. */
struct tdx_json_want {
	const char *header, *member, *fmspc_hex;
};

static int tdx_check_json(const struct att_fetch_resp *resp, const char *url, void *arg)
{
	const struct tdx_json_want *w = arg;
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)resp->body, resp->len, 0, &jerr), *inner;
	int ret = 0;

	inner = doc ? json_object_get(doc, w->member) : NULL;
	if (!doc)
		ret = err_set(EINVAL, "%s: response is not JSON: %s (line %d)", url, jerr.text, jerr.line);
	else if (!json_is_object(inner))
		ret = err_set(EINVAL, "%s: response has no \"%s\" object", url, w->member);
	else if (w->fmspc_hex) {
		const char *f = json_string_value(json_object_get(inner, "fmspc"));

		if (!f || strcasecmp(f, w->fmspc_hex))
			ret = err_set(EINVAL, "%s: TCB info is for FMSPC %s, not the quote's %s", url, f ? f : "(none)",
				      w->fmspc_hex);
	}
	json_decref(doc);
	if (!ret && !pem_cert_count(resp->header, strlen(resp->header), NULL))
		ret = err_set(EINVAL, "%s: the %s header holds no PEM certificate", url, w->header);
	return ret;
}

static int tdx_fetch_json(struct att_fetch_ctx *c, const char *url, const struct tdx_json_want *w, const char *name,
			  const char *chain_name, struct att_fetch_out *o)
{
	struct att_fetch_resp resp;
	int ret = att_fetch_get(c, url, w->header, true, tdx_check_json, (void *)w, &resp);

	if (ret)
		return ret;
	ret = att_fetch_out_add_copy(o, chain_name, resp.header, strlen(resp.header));
	if (!ret)
		ret = att_fetch_out_take(o, name, &resp);
	att_fetch_resp_free(&resp);
	return ret;
}

/* A CRL as DER. PCS v4 serves PEM unless asked for DER; both are accepted
 * (converted with OpenSSL), anything else is refused. *der is
 * OPENSSL_malloc'ed. */
static int tdx_crl_der(const struct att_fetch_resp *resp, const char *url, unsigned char **der, int *dlen)
{
	const unsigned char *p = resp->body;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)resp->len);

	if (crl && p != resp->body + resp->len) {
		X509_CRL_free(crl);
		crl = NULL;
	}
	if (!crl && resp->len > 10 && !memcmp(resp->body, "-----BEGIN", 10)) {
		BIO *in = BIO_new_mem_buf(resp->body, (int)resp->len);

		crl = in ? PEM_read_bio_X509_CRL(in, NULL, NULL, NULL) : NULL;
		BIO_free(in);
	}
	*der = NULL;
	*dlen = crl ? i2d_X509_CRL(crl, der) : -1;
	X509_CRL_free(crl);
	if (*dlen <= 0)
		return err_set(EINVAL, "%s: response is not an X.509 CRL (DER or PEM)", url);
	return 0;
}

static int tdx_check_crl(const struct att_fetch_resp *resp, const char *url, void *arg)
{
	unsigned char *der;
	int dlen, ret = tdx_crl_der(resp, url, &der, &dlen);

	(void)arg;
	OPENSSL_free(der);
	return ret;
}

static int tdx_fetch_crl(struct att_fetch_ctx *c, const char *url, const char *name, struct att_fetch_out *o)
{
	struct att_fetch_resp resp;
	unsigned char *der = NULL;
	int dlen, ret = att_fetch_get(c, url, NULL, true, tdx_check_crl, NULL, &resp);

	if (ret)
		return ret;
	/* DER as served is kept byte for byte; PEM is re-encoded. */
	if (resp.len > 10 && !memcmp(resp.body, "-----BEGIN", 10)) {
		ret = tdx_crl_der(&resp, url, &der, &dlen);
		if (!ret)
			ret = att_fetch_out_add_copy(o, name, der, (size_t)dlen);
		OPENSSL_free(der);
	} else {
		ret = att_fetch_out_take(o, name, &resp);
	}
	att_fetch_resp_free(&resp);
	return ret;
}

int att_fetch_tdx(struct att_fetch_ctx *c, const uint8_t *quote, size_t len, const char *what,
		  const struct att_fetch_tdx_args *a, struct att_fetch_out *o)
{
	const uint8_t *pem = NULL;
	size_t pem_len = 0;
	X509 *pck = NULL;
	struct tdx_pck_ext ext;
	char fmspc_hex[13], url[1024];
	const char *ca = NULL;
	int ret = att_fetch_tdx_pck_chain(quote, len, what, &pem, &pem_len);

	if (ret)
		return ret;
	if (!pem_cert_count((const char *)pem, pem_len, &pck))
		return err_set(EINVAL, "%s: the quote's PCK certificate chain holds no PEM certificate", what);
	/* The FMSPC, read by the verifier's parser of the SGX extensions. */
	if ((ret = tdx_pck_ext_parse(pck, &ext))) {
		ret = err_wrap(EINVAL, "%s", what);
		goto out;
	}
	if ((ret = tdx_pck_ca(pck, what, &ca)))
		goto out;
	hex_encode(ext.fmspc, sizeof(ext.fmspc), fmspc_hex);
	if ((ret = att_fetch_out_add_copy(o, "pck_chain.pem", pem, pem_len)))
		goto out;

	snprintf(url, sizeof(url), "%s/tdx/certification/v4/tcb?fmspc=%s", a->pcs_url, fmspc_hex);
	ret = tdx_fetch_json(c, url, &(struct tdx_json_want){ "TCB-Info-Issuer-Chain", "tcbInfo", fmspc_hex },
			     "tcbinfo.json", "tcb_signing_chain.pem", o);
	if (ret)
		goto out;
	snprintf(url, sizeof(url), "%s/tdx/certification/v4/qe/identity", a->pcs_url);
	ret = tdx_fetch_json(c, url, &(struct tdx_json_want){ "SGX-Enclave-Identity-Issuer-Chain", "enclaveIdentity", NULL },
			     "qe_identity.json", "qe_identity_chain.pem", o);
	if (ret)
		goto out;
	snprintf(url, sizeof(url), "%s/sgx/certification/v4/pckcrl?ca=%s&encoding=der", a->pcs_url, ca);
	if ((ret = tdx_fetch_crl(c, url, "pckcrl.der", o)))
		goto out;
	snprintf(url, sizeof(url), "%s/IntelSGXRootCA.der", a->certs_url);
	ret = tdx_fetch_crl(c, url, "rootcrl.der", o);
out:
	X509_free(pck);
	return ret;
}
