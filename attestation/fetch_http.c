/* fetch_http.c - HTTPS GET with libcurl (TLS verification always on) and a
 * cache directory keyed by the SHA-256 of the URL, for `cvmm fetch-certs`.
 *
 * A cache entry is <sha256(url)> (the body) and, when the caller needs a
 * response header (Intel PCS sends issuer chains in headers), <hash>.hdr
 * with its URL-decoded value. The header file is written first and each
 * file atomically, so a present body always has its header beside it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "attestation/fetch_internal.h"
#include "common/common.h"

void att_fetch_resp_free(struct att_fetch_resp *r)
{
	free(r->body);
	free(r->header);
	memset(r, 0, sizeof(*r));
}

void att_fetch_ctx_free(struct att_fetch_ctx *c)
{
	if (c->curl) {
		curl_easy_cleanup(c->curl);
		curl_global_cleanup(); /* reference counted: pairs with net_get's init */
	}
	c->curl = NULL;
}

/* ---- cache ---- */

static int cache_path(const struct att_fetch_ctx *c, const char *url, const char *suffix, char *out, size_t n)
{
	uint8_t md[32];
	char hex[65];

	if (!EVP_Digest(url, strlen(url), md, NULL, EVP_sha256(), NULL))
		return err_set(EIO, "%s: SHA-256 failed", url);
	hex_encode(md, sizeof(md), hex);
	if ((size_t)snprintf(out, n, "%s/%s%s", c->cache_dir, hex, suffix) >= n)
		return err_set(ENAMETOOLONG, "%s: cache path too long", c->cache_dir);
	return 0;
}

/* 1: hit (out filled), 0: miss, <0: error. */
static int cache_lookup(const struct att_fetch_ctx *c, const char *url, const char *want_header, bool is_mutable,
			struct att_fetch_resp *out)
{
	char path[4096], hpath[4096];
	struct stat st;
	size_t hlen;
	int ret;

	if (!c->cache_dir)
		return 0;
	if ((ret = cache_path(c, url, "", path, sizeof(path))) ||
	    (ret = cache_path(c, url, ".hdr", hpath, sizeof(hpath))))
		return ret;
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return 0;
	if (want_header && stat(hpath, &st))
		return 0;
	/* Offline, a stale entry is still the best there is. */
	if (is_mutable && !c->offline && time(NULL) - st.st_mtime > ATT_FETCH_MUTABLE_TTL)
		return 0;
	if ((ret = file_read(path, ATT_FETCH_MAX_BODY, &out->body, &out->len)))
		return ret;
	if (want_header &&
	    (ret = file_read(hpath, ATT_FETCH_MAX_BODY, (uint8_t **)&out->header, &hlen))) {
		att_fetch_resp_free(out);
		return ret;
	}
	return 1;
}

static int cache_store(const struct att_fetch_ctx *c, const char *url, const struct att_fetch_resp *r)
{
	char path[4096];
	int ret;

	if (!c->cache_dir)
		return 0;
	if (r->header) {
		if ((ret = cache_path(c, url, ".hdr", path, sizeof(path))) ||
		    (ret = file_write(path, r->header, strlen(r->header))))
			return ret;
	}
	if ((ret = cache_path(c, url, "", path, sizeof(path))))
		return ret;
	return file_write(path, r->body, r->len);
}

/* ---- network ---- */

struct body_sink {
	struct bytebuf buf;
	bool too_big;
};

static size_t body_write(char *p, size_t size, size_t nmemb, void *opaque)
{
	struct body_sink *s = opaque;
	size_t n = size * nmemb;

	if (s->buf.len + n > ATT_FETCH_MAX_BODY) {
		s->too_big = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (bb_append(&s->buf, p, n))
		return 0;
	return n;
}

static int net_get(struct att_fetch_ctx *c, const char *url, const char *want_header, struct att_fetch_resp *out)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct body_sink sink = { 0 };
	struct curl_header *h = NULL;
	long status = 0;
	CURLcode rc;
	CURL *curl;
	int ret = 0;

	if (!c->curl) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			return err_set(EIO, "libcurl initialisation failed");
		c->curl = curl_easy_init();
		if (!c->curl) {
			curl_global_cleanup();
			return err_set(ENOMEM, "libcurl: cannot create a handle");
		}
	}
	curl = c->curl;
	curl_easy_reset(curl);
	/* HTTPS only, peer and host name verified (the defaults, set anyway so
	 * that no environment can turn them off). */
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->ca_bundle)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_bundle);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, c->timeout);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, c->timeout);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ATT_FETCH_MAX_BODY);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "cvmm-fetch-certs");
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);

	c->requests++;
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		if (sink.too_big)
			ret = err_set(EFBIG, "GET %s: response larger than %u bytes", url, ATT_FETCH_MAX_BODY);
		else
			ret = err_set(EIO, "GET %s: %s%s%s", url, curl_easy_strerror(rc), errbuf[0] ? ": " : "",
				      errbuf);
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		ret = err_set(status == 404 ? ENOENT : EIO, "GET %s: HTTP status %ld", url, status);
		goto out;
	}
	if (want_header) {
		char *dec;

		if (curl_easy_header(curl, want_header, 0, CURLH_HEADER, -1, &h) != CURLHE_OK) {
			ret = err_set(EPROTO, "GET %s: response has no %s header", url, want_header);
			goto out;
		}
		/* PCS sends the issuer chain PEM URL-encoded (RFC 3986). */
		dec = curl_easy_unescape(curl, h->value, 0, NULL);
		if (!dec) {
			ret = err_set(ENOMEM, "GET %s: cannot decode the %s header", url, want_header);
			goto out;
		}
		out->header = strdup(dec);
		curl_free(dec);
		if (!out->header) {
			ret = err_set(ENOMEM, "out of memory");
			goto out;
		}
	}
	if (bb_append(&sink.buf, "", 1)) { /* NUL after the body for text users */
		ret = err_set(ENOMEM, "out of memory");
		goto out;
	}
	out->body = sink.buf.data;
	out->len = sink.buf.len - 1;
	sink.buf.data = NULL;
out:
	bb_free(&sink.buf);
	if (ret)
		att_fetch_resp_free(out);
	return ret;
}

int att_fetch_get(struct att_fetch_ctx *c, const char *url, const char *want_header, bool is_mutable,
		  att_fetch_check_fn check, void *arg, struct att_fetch_resp *out)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = cache_lookup(c, url, want_header, is_mutable, out);
	if (ret < 0)
		return ret;
	if (ret == 1) {
		/* The cache directory is no more trusted than the network: a
		 * bad entry is fetched again (offline, it is an error). */
		if (!check || !(ret = check(out, url, arg))) {
			c->cache_hits++;
			return 0;
		}
		att_fetch_resp_free(out);
		if (c->offline)
			return err_wrap(-ret, "cache entry");
	}
	if (c->offline)
		return err_set(ENOENT, "%s: not in the cache %s (--offline)", url, c->cache_dir ? c->cache_dir : "(none)");
	ret = net_get(c, url, want_header, out);
	if (!ret && check)
		ret = check(out, url, arg);
	if (ret) {
		att_fetch_resp_free(out);
		return ret;
	}
	/* A cache that cannot be written is an error, not a silent slowdown:
	 * a cache was asked for (default or --cache); --no-cache opts out. */
	ret = cache_store(c, url, out);
	if (ret) {
		att_fetch_resp_free(out);
		return err_wrap(-ret, "cache");
	}
	return 0;
}

/* ---- output set ---- */

int att_fetch_out_add(struct att_fetch_out *o, const char *name, uint8_t *data, size_t len)
{
	struct att_fetch_file *f;

	if (o->n == ARRAY_SIZE(o->files)) {
		free(data);
		return err_set(ENOSPC, "%s: too many output files", name);
	}
	f = &o->files[o->n++];
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->data = data;
	f->len = len;
	return 0;
}

int att_fetch_out_add_copy(struct att_fetch_out *o, const char *name, const void *data, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	if (!p)
		return err_set(ENOMEM, "%s: out of memory", name);
	memcpy(p, data, len);
	return att_fetch_out_add(o, name, p, len);
}

int att_fetch_out_take(struct att_fetch_out *o, const char *name, struct att_fetch_resp *r)
{
	uint8_t *body = r->body;

	r->body = NULL;
	return att_fetch_out_add(o, name, body, r->len);
}

void att_fetch_out_free(struct att_fetch_out *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->files[i].data);
	o->n = 0;
}
