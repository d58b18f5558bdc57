/* attest_http.c - `cvmm attest`'s HTTPS client (libcurl over OpenSSL,
 * TLS 1.3 minimum). The server is authenticated one of three ways: a CA
 * file (--cacert, normal chain and hostname checks), a pinned SHA-256
 * fingerprint of the leaf certificate's DER (--tls-fingerprint: the
 * endpoint's self-signed certificate; hostname check off), or the system
 * CAs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "attestation/endpoint.h"
#include "common/common.h"

struct sink {
	struct bytebuf *b;
	bool too_large;
};

static size_t body_write(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	if (s->b->len + size * n > ATT_BUNDLE_MAX) {
		s->too_large = true;
		return 0;
	}
	return bb_append(s->b, p, size * n) ? 0 : size * n;
}

/* Replaces OpenSSL's chain verification: accept exactly the pinned leaf. */
static int pin_verify(X509_STORE_CTX *ctx, void *arg)
{
	const uint8_t *pin = arg;
	X509 *leaf = X509_STORE_CTX_get0_cert(ctx);
	uint8_t md[32];
	unsigned int n = 0;

	if (leaf && X509_digest(leaf, EVP_sha256(), md, &n) == 1 && n == 32 && !CRYPTO_memcmp(md, pin, 32))
		return 1;
	X509_STORE_CTX_set_error(ctx, X509_V_ERR_CERT_REJECTED);
	return 0;
}

static CURLcode ssl_ctx_pin(CURL *curl, void *ssl_ctx, void *arg)
{
	(void)curl;
	SSL_CTX_set_cert_verify_callback(ssl_ctx, pin_verify, arg);
	return CURLE_OK;
}

int att_https_post(const struct att_https *h, const char *url, const char *body, struct bytebuf *rsp, long *status)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	struct sink sink = { .b = rsp };
	CURLcode rc;
	CURL *curl;
	int ret = 0;

	rsp->len = 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return err_set(EIO, "libcurl initialisation failed");
	if (!(curl = curl_easy_init()) || !(hdrs = curl_slist_append(NULL, "Content-Type: application/json"))) {
		ret = err_set(ENOMEM, "out of memory");
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, h->pin ? 0L : 2L);
	if (h->cacert)
		curl_easy_setopt(curl, CURLOPT_CAINFO, h->cacert);
	if (h->pin) {
		/* the pin replaces chain verification: no CA store is loaded
		 * (a host without ca-certificates still attests) */
		curl_easy_setopt(curl, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_pin);
		curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, (void *)h->pin);
		curl_easy_setopt(curl, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	}
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, h->timeout_s);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, h->timeout_s);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "cvmm-attest");
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
	rc = curl_easy_perform(curl);
	if (sink.too_large)
		ret = err_set(EFBIG, "%s: answer larger than %u bytes", url, ATT_BUNDLE_MAX);
	else if (rc != CURLE_OK)
		ret = err_set(EIO, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
out:
	curl_slist_free_all(hdrs);
	if (curl)
		curl_easy_cleanup(curl);
	curl_global_cleanup();
	return ret;
}
