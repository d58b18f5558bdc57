/* intel_root.c - the Intel SGX Root CA, the trust anchor of every PCK
 * certificate chain (Intel SGX PCK Certificate and CRL Profile; the same
 * certificate Intel publishes at certificates.trustedservices.intel.com and
 * that ends the PCK chain of every real quote). Public data. Verification
 * REQUIRES a quote's chain to end at this key; the copy inside the quote is
 * never trusted on its own. */
#include <pthread.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attestation/tdx_quote.h"

/* CN=Intel SGX Root CA, O=Intel Corporation, L=Santa Clara, ST=CA, C=US;
 * valid 2018-05-21 to 2049-12-31; SHA-256 fingerprint
 * 44:A0:19:6B:2B:99:F8:89:B8:E1:49:E9:5B:80:7A:35:0E:74:24:96:43:99:E8:85:A7:CB:B8:CC:FA:B6:74:D3 */
static const char intel_sgx_root_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw\n"
	"aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv\n"
	"cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ\n"
	"BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG\n"
	"A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0\n"
	"aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT\n"
	"AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7\n"
	"1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB\n"
	"uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ\n"
	"MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50\n"
	"ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV\n"
	"Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI\n"
	"KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg\n"
	"AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=\n"
	"-----END CERTIFICATE-----\n"
	;

/* Decoding a certificate costs more than verifying a quote's signatures:
 * decode the root once per process and hand out references. */
static X509 *root;
static pthread_once_t root_once = PTHREAD_ONCE_INIT;

static void root_load(void)
{
	BIO *b = BIO_new_mem_buf(intel_sgx_root_pem, (int)sizeof(intel_sgx_root_pem) - 1);

	root = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
}

X509 *att_intel_sgx_root(void)
{
	pthread_once(&root_once, root_load);
	if (!root || !X509_up_ref(root))
		return NULL;
	return root;
}
