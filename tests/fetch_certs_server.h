/* fetch_certs_server.h - shared by the `cvmm fetch-certs` tests: a test
 * PKI made with OpenSSL, an in-process HTTPS server (libmicrohttpd, TLS, on
 * 127.0.0.1 with an ephemeral port) serving the evidence fixtures under the
 * AMD KDS and Intel PCS URL layouts, plus some misbehaving servers under
 * path prefixes, and helpers to run the CLI and compare files.
 * Test code only; each test program includes it once. */
#ifndef CVMM_TESTS_FETCH_CERTS_SERVER_H
#define CVMM_TESTS_FETCH_CERTS_SERVER_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attestation/attestation.h"
#include "common/common.h"

/* Not every test program uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"

#define SNP_DIR "tests/fixtures/evidence/snp/"
#define TDX_DIR "tests/fixtures/evidence/tdx/v4-spr-gotdxguest/"

/* ---------------- test PKI ---------------- */

struct pki {
	EVP_PKEY *ca_key, *srv_key;
	X509 *ca, *srv;
	char *ca_pem, *srv_pem, *srv_key_pem; /* NUL-terminated */
	uint8_t *crl_der;                     /* a CRL signed by the test CA (stands in for AMD's) */
	int crl_len;
};

static char *pem_of(int (*wr)(BIO *, void *), void *obj)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s;
	long n;

	assert_non_null(b);
	assert_true(wr(b, obj));
	n = BIO_get_mem_data(b, &p);
	s = strndup(p, (size_t)n);
	BIO_free(b);
	return s;
}
static int wr_x509(BIO *b, void *x) { return PEM_write_bio_X509(b, x); }
static int wr_key(BIO *b, void *k) { return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL); }

static X509 *make_cert(EVP_PKEY *key, EVP_PKEY *signer, X509 *issuer, const char *cn, bool ca)
{
	X509 *x = X509_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(x));
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (ca) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
	}
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, signer, EVP_sha256()) > 0);
	return x;
}

static void pki_make(struct pki *k)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	uint8_t *der = NULL;

	k->ca_key = EVP_EC_gen("P-256");
	k->srv_key = EVP_EC_gen("P-256");
	assert_non_null(k->ca_key);
	assert_non_null(k->srv_key);
	k->ca = make_cert(k->ca_key, k->ca_key, NULL, "cvmm test CA", true);
	k->srv = make_cert(k->srv_key, k->ca_key, k->ca, "127.0.0.1", false);
	k->ca_pem = pem_of(wr_x509, k->ca);
	k->srv_pem = pem_of(wr_x509, k->srv);
	k->srv_key_pem = pem_of(wr_key, k->srv_key);

	assert_non_null(crl);
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(k->ca));
	X509_gmtime_adj(t, 0);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, 3600L * 24);
	X509_CRL_set1_nextUpdate(crl, t);
	assert_true(X509_CRL_sign(crl, k->ca_key, EVP_sha256()) > 0);
	k->crl_len = i2d_X509_CRL(crl, &der);
	assert_true(k->crl_len > 0);
	k->crl_der = der;
	X509_CRL_free(crl);
	ASN1_TIME_free(t);
}

static void pki_free(struct pki *k)
{
	EVP_PKEY_free(k->ca_key);
	EVP_PKEY_free(k->srv_key);
	X509_free(k->ca);
	X509_free(k->srv);
	free(k->ca_pem);
	free(k->srv_pem);
	free(k->srv_key_pem);
	OPENSSL_free(k->crl_der);
}

/* ---------------- the HTTPS server ---------------- */

struct route {
	const char *path;
	const char *args[5][2]; /* query arguments that must be present with these values */
	uint8_t *body;
	size_t len;
	const char *header, *header_value;
};

struct server {
	struct MHD_Daemon *d;
	unsigned short port;
	char base[64];
	struct route routes[32];
	size_t n;
	int requests; /* atomically updated by the server thread */
};

/* noinline: keeps GCC 12 from a false -Wdangling-pointer on the returned buffer */
__attribute__((noinline)) static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *d;

	assert_int_equal(file_read(path, 1 << 20, &d, len), 0);
	return d;
}

static struct route *add_route(struct server *s, const char *path, uint8_t *body, size_t len)
{
	struct route *r = &s->routes[s->n++];

	assert_true(s->n <= ARRAY_SIZE(s->routes));
	memset(r, 0, sizeof(*r));
	r->path = path;
	r->body = body;
	r->len = len;
	return r;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	struct server *s = cls;
	struct MHD_Response *resp;
	const struct route *hit = NULL;
	enum MHD_Result ret;

	(void)version, (void)upload, (void)upload_len, (void)con_cls;
	__atomic_add_fetch(&s->requests, 1, __ATOMIC_SEQ_CST);
	for (size_t i = 0; i < s->n && !hit && !strcmp(method, "GET"); i++) {
		const struct route *r = &s->routes[i];
		bool ok = !strcmp(url, r->path);

		for (size_t a = 0; ok && a < 5 && r->args[a][0]; a++) {
			const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, r->args[a][0]);

			ok = v && !strcmp(v, r->args[a][1]);
		}
		if (ok)
			hit = r;
	}
	if (!hit) {
		resp = MHD_create_response_from_buffer(9, (void *)"not found", MHD_RESPMEM_PERSISTENT);
		ret = MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, resp);
	} else {
		resp = MHD_create_response_from_buffer(hit->len, hit->body, MHD_RESPMEM_PERSISTENT);
		if (hit->header)
			MHD_add_response_header(resp, hit->header, hit->header_value);
		ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	}
	MHD_destroy_response(resp);
	return ret;
}

static void server_start(struct server *s, const struct pki *k)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	const union MHD_DaemonInfo *info;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				handle, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_HTTPS_MEM_KEY,
				k->srv_key_pem, MHD_OPTION_HTTPS_MEM_CERT, k->srv_pem, MHD_OPTION_END);
	assert_non_null(s->d);
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	s->port = info->port;
	assert_true(s->port != 0);
	snprintf(s->base, sizeof(s->base), "https://127.0.0.1:%u", s->port);
}

static int server_requests(struct server *s)
{
	return __atomic_load_n(&s->requests, __ATOMIC_SEQ_CST);
}

/* ---------------- fixture state ---------------- */

struct env {
	struct pki pki;
	struct server srv;
	char tmp[64], ca_file[128];
	char *chain_header; /* URL-encoded test CA PEM, as PCS sends issuer chains */
	uint8_t *owned[32];
	size_t n_owned;
};

static uint8_t *own(struct env *e, uint8_t *p)
{
	assert_true(e->n_owned < ARRAY_SIZE(e->owned));
	e->owned[e->n_owned++] = p;
	return p;
}

/* A KDS cert_chain body: the two PEM files one after the other (owned by e). */
static uint8_t *own_chain(struct env *e, const char *first, const char *second, size_t *len)
{
	size_t l1, l2;
	uint8_t *a = slurp(first, &l1), *b = slurp(second, &l2), *chain = own(e, malloc(l1 + l2));

	memcpy(chain, a, l1);
	memcpy(chain + l1, b, l2);
	free(a);
	free(b);
	*len = l1 + l2;
	return chain;
}

/* The KDS routes of one product for milan-virtee's chip: its VCEK at
 * vcek_path, served only with the query arguments spl (up to 5 name/value
 * pairs, a NULL name ends them), the ASK+ARK cert_chain and a CRL. */
static void add_kds_vcek(struct env *e, const char *product, const char *vcek_path, const char *const spl[][2])
{
	char path[64];
	size_t len;
	uint8_t *data = own(e, slurp(SNP_DIR "milan-virtee/vcek.der", &len));
	struct route *r = add_route(&e->srv, vcek_path, data, len);

	for (size_t i = 0; i < 5 && spl[i][0]; i++)
		r->args[i][0] = spl[i][0], r->args[i][1] = spl[i][1];
	/* routes keep the path pointer: the env owns these copies */
	data = own_chain(e, SNP_DIR "milan-virtee/ask.pem", SNP_DIR "milan-virtee/ark.pem", &len);
	snprintf(path, sizeof(path), "/vcek/v1/%s/cert_chain", product);
	add_route(&e->srv, (char *)own(e, (uint8_t *)strdup(path)), data, len);
	snprintf(path, sizeof(path), "/vcek/v1/%s/crl", product);
	add_route(&e->srv, (char *)own(e, (uint8_t *)strdup(path)), e->pki.crl_der, (size_t)e->pki.crl_len);
}

/* Chip ID from the fixture's meta.json, so the expected URL does not come
 * from the code under test. */
static char *meta_chip_id(const char *dir)
{
	char path[256];
	json_t *m;
	char *s;

	snprintf(path, sizeof(path), "%s/meta.json", dir);
	m = json_load_file(path, 0, NULL);
	assert_non_null(m);
	s = strdup(json_string_value(json_object_get(json_object_get(m, "claims"), "chip_id")));
	json_decref(m);
	assert_non_null(s);
	return s;
}

/* Turin: a copy of milan-virtee's report made version 3 with CPUID family
 * 1Ah. Turin's TCB_VERSION bytes 03 00 00 00 00 00 08 73 read FMC 3, BL 0,
 * TEE 0, SNP 0, microcode 115, and its hardware ID is CHIP_ID[0..8). */
static void setup_turin(struct env *e)
{
	static char vcek_path[64];
	size_t len;
	uint8_t *rep;
	char path[128], *chip;

	rep = slurp(SNP_DIR "milan-virtee/report.bin", &len);
	put_le32(rep, 3);
	rep[0x188] = 0x1a;
	rep[0x189] = 0x02;
	snprintf(path, sizeof(path), "%s/turin.bin", e->tmp);
	assert_int_equal(file_write(path, rep, len), 0);
	free(rep);
	chip = meta_chip_id(SNP_DIR "milan-virtee");
	snprintf(vcek_path, sizeof(vcek_path), "/vcek/v1/Turin/%.16s", chip);
	free(chip);
	add_kds_vcek(e, "Turin", vcek_path,
		     (const char *const[][2]){ { "fmcSPL", "03" }, { "blSPL", "00" }, { "teeSPL", "00" },
					       { "snpSPL", "00" }, { "ucodeSPL", "115" } });
}

/* Servers that misbehave, each under its own base path prefix. */
static void setup_hostile(struct env *e)
{
	static char garbage_vcek[256];
	struct route *r;
	size_t len;
	uint8_t *a, *b, *chain;
	char *chip, *hit;

	/* /swap: ARK then ASK. */
	chain = own_chain(e, SNP_DIR "milan-virtee/ark.pem", SNP_DIR "milan-virtee/ask.pem", &len);
	add_route(&e->srv, "/swap/vcek/v1/Milan/cert_chain", chain, len);
	/* /garbage: a good chain, then a VCEK that is not DER. */
	chain = own_chain(e, SNP_DIR "milan-virtee/ask.pem", SNP_DIR "milan-virtee/ark.pem", &len);
	add_route(&e->srv, "/garbage/vcek/v1/Milan/cert_chain", chain, len);
	chip = meta_chip_id(SNP_DIR "milan-virtee");
	snprintf(garbage_vcek, sizeof(garbage_vcek), "/garbage/vcek/v1/Milan/%s", chip);
	free(chip);
	add_route(&e->srv, garbage_vcek, (uint8_t *)"<html>rate limited</html>", 25);

	/* /nohdr: TCB info without its issuer chain header. */
	a = own(e, slurp(TDX_DIR "collateral/tcbinfo.json", &len));
	add_route(&e->srv, "/nohdr/tdx/certification/v4/tcb", a, len);
	/* /otherfmspc: TCB info of another platform. */
	a = own(e, slurp(TDX_DIR "collateral/tcbinfo.json", &len));
	hit = strstr((char *)a, "50806f000000");
	assert_non_null(hit);
	memcpy(hit, "00906ed50000", 12);
	r = add_route(&e->srv, "/otherfmspc/tdx/certification/v4/tcb", a, len);
	r->header = "TCB-Info-Issuer-Chain", r->header_value = e->chain_header;

	/* /pem: the PCK CRL in PEM (PCS v4's default encoding), rest as usual. */
	a = own(e, slurp(TDX_DIR "collateral/tcbinfo.json", &len));
	r = add_route(&e->srv, "/pem/tdx/certification/v4/tcb", a, len);
	r->header = "TCB-Info-Issuer-Chain", r->header_value = e->chain_header;
	a = own(e, slurp(TDX_DIR "collateral/qe_identity.json", &len));
	r = add_route(&e->srv, "/pem/tdx/certification/v4/qe/identity", a, len);
	r->header = "SGX-Enclave-Identity-Issuer-Chain", r->header_value = e->chain_header;
	{
		const unsigned char *p;
		X509_CRL *crl;
		BIO *bio = BIO_new(BIO_s_mem());
		char *mem;
		long n;

		a = slurp(TDX_DIR "collateral/pckcrl.der", &len);
		p = a;
		crl = d2i_X509_CRL(NULL, &p, (long)len);
		assert_non_null(crl);
		assert_true(PEM_write_bio_X509_CRL(bio, crl));
		n = BIO_get_mem_data(bio, &mem);
		b = own(e, malloc((size_t)n));
		memcpy(b, mem, (size_t)n);
		add_route(&e->srv, "/pem/sgx/certification/v4/pckcrl", b, (size_t)n);
		BIO_free(bio);
		X509_CRL_free(crl);
		free(a);
	}
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct route *r;
	size_t len;
	uint8_t *a, *chain;
	static char vcek_path[256];
	char *chip, *enc;
	CURL *curl;

	if (!e)
		return -1;
	pki_make(&e->pki);
	snprintf(e->tmp, sizeof(e->tmp), "/tmp/cvmm-test-fetch-XXXXXX");
	assert_non_null(mkdtemp(e->tmp));
	snprintf(e->ca_file, sizeof(e->ca_file), "%s/ca.pem", e->tmp);
	assert_int_equal(file_write(e->ca_file, e->pki.ca_pem, strlen(e->pki.ca_pem)), 0);

	/* AMD KDS, Milan, VCEK of milan-virtee: REPORTED_TCB bytes 03 00 .. 08 73
	 * -> blSPL 3, teeSPL 0, snpSPL 8, ucodeSPL 0x73 = 115. */
	chip = meta_chip_id(SNP_DIR "milan-virtee");
	snprintf(vcek_path, sizeof(vcek_path), "/vcek/v1/Milan/%s", chip);
	free(chip);
	add_kds_vcek(e, "Milan", vcek_path,
		     (const char *const[][2]){ { "blSPL", "03" }, { "teeSPL", "00" }, { "snpSPL", "08" },
					       { "ucodeSPL", "115" }, { NULL, NULL } });
	/* VLEK chain: ASVK then ARK. */
	chain = own_chain(e, SNP_DIR "milan-vlek-trustee/asvk.pem", SNP_DIR "milan-vlek-trustee/ark.pem", &len);
	add_route(&e->srv, "/vlek/v1/Milan/cert_chain", chain, len);
	add_route(&e->srv, "/vlek/v1/Milan/crl", e->pki.crl_der, (size_t)e->pki.crl_len);

	/* Intel PCS; the FMSPC is the one of the fixture's TCB info. */
	curl = curl_easy_init();
	enc = curl_easy_escape(curl, e->pki.ca_pem, 0);
	e->chain_header = strdup(enc);
	curl_free(enc);
	curl_easy_cleanup(curl);
	a = own(e, slurp(TDX_DIR "collateral/tcbinfo.json", &len));
	r = add_route(&e->srv, "/tdx/certification/v4/tcb", a, len);
	r->args[0][0] = "fmspc", r->args[0][1] = "50806f000000";
	r->header = "TCB-Info-Issuer-Chain", r->header_value = e->chain_header;
	a = own(e, slurp(TDX_DIR "collateral/qe_identity.json", &len));
	r = add_route(&e->srv, "/tdx/certification/v4/qe/identity", a, len);
	r->header = "SGX-Enclave-Identity-Issuer-Chain", r->header_value = e->chain_header;
	a = own(e, slurp(TDX_DIR "collateral/pckcrl.der", &len));
	r = add_route(&e->srv, "/sgx/certification/v4/pckcrl", a, len);
	r->args[0][0] = "ca", r->args[0][1] = "platform";
	a = own(e, slurp(TDX_DIR "collateral/rootcrl.der", &len));
	add_route(&e->srv, "/IntelSGXRootCA.der", a, len);
	/* v5 quote (another platform, FMSPC 90c06f000000) and its TCB info;
	 * a processor-CA PCK would ask for the other CRL. */
	a = own(e, slurp("tests/fixtures/evidence/tdx/v5-gotdxguest/collateral/tcbinfo.json", &len));
	r = add_route(&e->srv, "/tdx/certification/v4/tcb", a, len);
	r->args[0][0] = "fmspc", r->args[0][1] = "90c06f000000";
	r->header = "TCB-Info-Issuer-Chain", r->header_value = e->chain_header;
	a = own(e, slurp(TDX_DIR "collateral/pckcrl.der", &len));
	r = add_route(&e->srv, "/sgx/certification/v4/pckcrl", a, len);
	r->args[0][0] = "ca", r->args[0][1] = "processor";
	setup_turin(e);
	setup_hostile(e);

	server_start(&e->srv, &e->pki);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];

	MHD_stop_daemon(e->srv.d);
	for (size_t i = 0; i < e->n_owned; i++)
		free(e->owned[i]);
	free(e->chain_header);
	pki_free(&e->pki);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->tmp);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

/* ---------------- helpers ---------------- */

/* Run the CLI with a NULL-terminated argument list. */
static int cli(const char *first, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)"fetch-certs";
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *)) {
		assert_true(argc < 31);
		argv[argc++] = (char *)a;
	}
	va_end(ap);
	argv[argc] = NULL;
	return att_cli_fetch_certs(argc, argv);
}

static void path_in(const struct env *e, const char *sub, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", e->tmp, sub);
}

static void assert_same_file(const char *got, const char *want)
{
	size_t gl, wl;
	uint8_t *g = slurp(got, &gl), *w = slurp(want, &wl);

	assert_int_equal(gl, wl);
	assert_memory_equal(g, w, wl);
	free(g);
	free(w);
}

static void assert_file_bytes(const char *got, const void *want, size_t wl)
{
	size_t gl;
	uint8_t *g = slurp(got, &gl);

	assert_int_equal(gl, wl);
	assert_memory_equal(g, want, wl);
	free(g);
}

static bool exists(const char *dir, const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static bool dir_empty_or_missing(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s' 2>/dev/null)\"", dir);
	return system(cmd) == 0;
}

/* ---------------- tests ---------------- */

static void check_vcek_out(const struct env *e, const char *out)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/vcek.der", out);
	assert_same_file(p, SNP_DIR "milan-virtee/vcek.der");
	snprintf(p, sizeof(p), "%s/ask.pem", out);
	assert_same_file(p, SNP_DIR "milan-virtee/ask.pem");
	snprintf(p, sizeof(p), "%s/ark.pem", out);
	assert_same_file(p, SNP_DIR "milan-virtee/ark.pem");
	snprintf(p, sizeof(p), "%s/crl.der", out);
	assert_file_bytes(p, e->pki.crl_der, (size_t)e->pki.crl_len);
}

#endif
