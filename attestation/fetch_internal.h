/* fetch_internal.h - shared by attestation/fetch_*.c only (cvmm fetch-certs):
 * the HTTPS client with its cache, and the set of output files that is
 * written only once everything has been fetched and checked. */
#ifndef CVMM_ATT_FETCH_INTERNAL_H
#define CVMM_ATT_FETCH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATT_FETCH_MAX_BODY (8u << 20) /* largest response accepted (CRLs are the big ones) */

struct att_fetch_ctx {
	const char *cache_dir; /* NULL: no cache */
	const char *ca_bundle; /* NULL: the system's trust store */
	long timeout;          /* seconds, whole transfer */
	bool offline;          /* only the cache, never the network */
	void *curl;            /* CURL *, created on the first network request */
	unsigned requests;     /* network requests made (for tests and the summary) */
	unsigned cache_hits;
};

/* Mutable collateral (CRLs, TCB info, QE identity) is re-fetched once its
 * cache entry is older than this; certificates are immutable per URL. */
#define ATT_FETCH_MUTABLE_TTL (24 * 3600)

struct att_fetch_resp {
	uint8_t *body; /* malloc'ed, NUL-terminated after len */
	size_t len;
	char *header;  /* URL-decoded value of the requested header, or NULL */
};

/* Checks a response before it is used or cached: 0 or a negative errno with
 * the error set. A response that fails is never cached. */
typedef int (*att_fetch_check_fn)(const struct att_fetch_resp *r, const char *url, void *arg);

/* GET url over HTTPS (TLS verification always on), or from the cache.
 * want_header: response header whose value is needed (cached with the body).
 * A non-2xx status is an error naming the URL and the status. check (with
 * arg) runs on every response, cached or fresh. */
int att_fetch_get(struct att_fetch_ctx *c, const char *url, const char *want_header, bool is_mutable,
		  att_fetch_check_fn check, void *arg, struct att_fetch_resp *out);
void att_fetch_resp_free(struct att_fetch_resp *r);
void att_fetch_ctx_free(struct att_fetch_ctx *c);

/* Output files, kept in memory until the whole set is ready. */
struct att_fetch_file {
	char name[32];
	uint8_t *data;
	size_t len;
};
struct att_fetch_out {
	struct att_fetch_file files[8];
	size_t n;
};
/* Take ownership of data (malloc'ed). */
int att_fetch_out_add(struct att_fetch_out *o, const char *name, uint8_t *data, size_t len);
int att_fetch_out_add_copy(struct att_fetch_out *o, const char *name, const void *data, size_t len);
/* Move r's body into o (r->body is NULL afterwards, whatever the result). */
int att_fetch_out_take(struct att_fetch_out *o, const char *name, struct att_fetch_resp *r);
void att_fetch_out_free(struct att_fetch_out *o);

/* Per platform: fetch everything into o. */
struct att_fetch_snp_args {
	const char *kds_url; /* base, no trailing slash */
	const char *product; /* --product or NULL */
};
int att_fetch_snp(struct att_fetch_ctx *c, const uint8_t *report, size_t len, const char *what,
		  const struct att_fetch_snp_args *a, struct att_fetch_out *o);
struct att_fetch_tdx_args {
	const char *pcs_url;   /* Intel PCS API base */
	const char *certs_url; /* Intel certificates site (root CA CRL) */
};
int att_fetch_tdx(struct att_fetch_ctx *c, const uint8_t *quote, size_t len, const char *what,
		  const struct att_fetch_tdx_args *a, struct att_fetch_out *o);

#endif
