/* endpoint.c - the host attestation endpoint (docs/attestation.md): HTTPS
 * (libmicrohttpd with GnuTLS, TLS 1.3 only) that relays a relying party's
 * nonce to the guest agent and the agent's evidence back, and a wrapped
 * secret the other way. It holds no secret and judges nothing: the host is
 * untrusted, the nonce and the agent key bound into the report are what
 * the relying party relies on.
 *   GET  /v1/health    200 {"status": "ok"}
 *   POST /v1/evidence  {"nonce": hex} -> 200 the bundle (endpoint.h)
 *   POST /v1/secret    {"nonce", "name", "ephemeral_pubkey", "ciphertext"} -> 200 {"status": "stored"}
 * Errors are {"error": "..."}: 400 bad request body, 403 refused by the
 * agent, 404 unknown path, 405 wrong method, 413 body over ATT_EP_BODY_MAX,
 * 502 agent unreachable or a bad answer, 504 agent timeout. One thread per
 * connection, at most max_concurrent connections, idle ones cut after
 * ATT_EP_TIMEOUT_S. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "attestation/endpoint.h"
#include "common/common.h"

#define TLS13_ONLY "NORMAL:-VERS-ALL:+VERS-TLS1.3"
#define DRAIN_MAX (4 * ATT_EP_BODY_MAX)

struct att_endpoint {
	struct MHD_Daemon *d;
	struct att_ep_tls tls;
	char *agent_addr;
	json_t *launch;
	uint8_t *manifest;
	size_t manifest_len;
	int agent_timeout_ms;
	unsigned port;
};

enum route { R_HEALTH, R_EVIDENCE, R_SECRET };

/* Per-request state: the body collected so far. */
struct request {
	enum route route;
	struct bytebuf body;
	bool too_large;
	size_t dropped; /* bytes read past ATT_EP_BODY_MAX */
};

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	struct MHD_Response *rsp;
	enum MHD_Result ret;

	json_decref(o);
	if (!s)
		return MHD_NO;
	rsp = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
	if (!rsp) {
		free(s);
		return MHD_NO;
	}
	MHD_add_response_header(rsp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	ret = MHD_queue_response(c, status, rsp);
	MHD_destroy_response(rsp);
	return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return reply_json(c, status, json_pack("{s:s}", "error", msg));
}

/* The agent exchange (att_agent_call: -EREMOTEIO for an ERROR answer,
 * -ETIMEDOUT when the agent did not answer in time); on failure answers
 * the client and returns false. */
static bool agent_call(struct att_endpoint *ep, struct MHD_Connection *c, const struct att_msg *req,
		       enum att_msg_type want, unsigned refused_status, struct bytebuf *frame, struct att_msg *rsp,
		       enum MHD_Result *res)
{
	char msg[400];
	int ret;

	memset(rsp, 0, sizeof(*rsp));
	ret = att_agent_call(ep->agent_addr, ep->agent_timeout_ms, req, frame, rsp);
	if (ret == -EREMOTEIO && rsp->type == ATT_MSG_ERROR && rsp->message) {
		snprintf(msg, sizeof(msg), "agent: %.*s", (int)rsp->message_len, (const char *)rsp->message);
		*res = reply_error(c, refused_status, msg);
	} else if (ret == -ETIMEDOUT || ret == -EAGAIN) {
		snprintf(msg, sizeof(msg), "agent timed out: %s", err_msg());
		*res = reply_error(c, MHD_HTTP_GATEWAY_TIMEOUT, msg);
	} else if (ret || rsp->type != want) {
		snprintf(msg, sizeof(msg), "agent unreachable or bad answer: %s",
			 ret ? err_msg() : "unexpected message type");
		*res = reply_error(c, MHD_HTTP_BAD_GATEWAY, msg);
	} else {
		return true;
	}
	return false;
}

static enum MHD_Result do_evidence(struct att_endpoint *ep, struct MHD_Connection *c, const struct request *rq)
{
	uint8_t nonce[ATT_NONCE_MAX];
	size_t nonce_len;
	struct att_msg req = { .type = ATT_MSG_EVIDENCE_REQ }, rsp;
	struct bytebuf frame = { 0 };
	enum MHD_Result res;
	json_t *bundle;

	if (att_ep_parse_evidence_req((const char *)rq->body.data, rq->body.len, nonce, &nonce_len))
		return reply_error(c, MHD_HTTP_BAD_REQUEST, err_msg());
	req.nonce = nonce;
	req.nonce_len = nonce_len;
	if (agent_call(ep, c, &req, ATT_MSG_EVIDENCE_RSP, MHD_HTTP_BAD_GATEWAY, &frame, &rsp, &res)) {
		bundle = att_ep_bundle(&rsp, nonce, nonce_len, ep->launch, ep->manifest, ep->manifest_len);
		res = bundle ? reply_json(c, MHD_HTTP_OK, bundle)
			     : reply_error(c, MHD_HTTP_BAD_GATEWAY, "agent: evidence that cannot be put in a bundle");
	}
	bb_free(&frame);
	return res;
}

static enum MHD_Result do_secret(struct att_endpoint *ep, struct MHD_Connection *c, const struct request *rq)
{
	struct att_ep_secret_req sr;
	struct att_msg req, rsp;
	struct bytebuf frame = { 0 };
	enum MHD_Result res;

	if (att_ep_parse_secret_req((const char *)rq->body.data, rq->body.len, &sr))
		return reply_error(c, MHD_HTTP_BAD_REQUEST, err_msg());
	att_ep_secret_msg(&sr, &req);
	if (agent_call(ep, c, &req, ATT_MSG_SECRET_RSP, MHD_HTTP_FORBIDDEN, &frame, &rsp, &res))
		res = reply_json(c, MHD_HTTP_OK, json_pack("{s:s}", "status", "stored"));
	bb_free(&frame);
	att_ep_secret_req_free(&sr);
	return res;
}

/* First call for a request: route it, or answer at once (404, 405, 413). */
static enum MHD_Result begin(struct MHD_Connection *c, const char *url, const char *method, void **con_cls)
{
	static const struct {
		const char *path, *method;
		enum route route;
	} routes[] = {
		{ "/v1/health", "GET", R_HEALTH },
		{ "/v1/evidence", "POST", R_EVIDENCE },
		{ "/v1/secret", "POST", R_SECRET },
	};
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct request *rq;
	char msg[96];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(routes) && strcmp(url, routes[i].path); i++)
		;
	if (i == ARRAY_SIZE(routes))
		return reply_error(c, MHD_HTTP_NOT_FOUND, "no such path (try /v1/health, /v1/evidence, /v1/secret)");
	if (strcmp(method, routes[i].method)) {
		snprintf(msg, sizeof(msg), "%s takes %s", routes[i].path, routes[i].method);
		return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, msg);
	}
	/* A body somewhat over the limit is read and dropped so that the
	 * client, still sending, gets the 413 rather than a reset; a huge one
	 * is refused at once. */
	if (cl && strtoull(cl, NULL, 10) > DRAIN_MAX)
		return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
	if (!(rq = calloc(1, sizeof(*rq))))
		return MHD_NO;
	rq->route = routes[i].route;
	*con_cls = rq;
	return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct att_endpoint *ep = cls;
	struct request *rq = *con_cls;

	(void)version;
	if (!rq)
		return begin(c, url, method, con_cls);
	if (*upload_size) {
		if (rq->too_large || rq->body.len + *upload_size > ATT_EP_BODY_MAX) {
			rq->too_large = true;
			bb_free(&rq->body);
			rq->dropped += *upload_size;
			if (rq->dropped > DRAIN_MAX)
				return MHD_NO; /* close the connection */
		} else if (bb_append(&rq->body, upload, *upload_size)) {
			return MHD_NO;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->too_large)
		return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
	switch (rq->route) {
	case R_HEALTH:
		return reply_json(c, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
	case R_EVIDENCE:
		return do_evidence(ep, c, rq);
	case R_SECRET:
		return do_secret(ep, c, rq);
	}
	return MHD_NO;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	(void)cls, (void)c, (void)toe;
	if (rq) {
		bb_free(&rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* "ADDR:PORT" or "[IPv6]:PORT" into *ai (freeaddrinfo it); host gets ADDR. */
static int parse_listen(const char *listen, char *host, size_t host_size, struct addrinfo **ai)
{
	const struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
					.ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	const char *colon, *h = listen;
	size_t hl;
	uint64_t port;
	int ret;

	if (*listen == '[') {
		const char *end = strchr(listen, ']');

		if (!end || end[1] != ':')
			return err_set(EINVAL, "listen address '%s': expected [IPv6]:PORT", listen);
		h = listen + 1;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		if (!(colon = strrchr(listen, ':')))
			return err_set(EINVAL, "listen address '%s': expected ADDR:PORT", listen);
		hl = (size_t)(colon - listen);
	}
	if (!hl || hl >= host_size)
		return err_set(EINVAL, "listen address '%s': bad host", listen);
	if (parse_u64(colon + 1, 65535, &port, "listen port"))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = 0;
	if ((ret = getaddrinfo(host, colon + 1, &hints, ai)))
		return err_set(EINVAL, "listen address '%s': %s", listen, gai_strerror(ret));
	return 0;
}

static int setup(struct att_endpoint *ep, const struct att_endpoint_cfg *cfg, const char *host)
{
	int ret;

	ep->agent_timeout_ms = (int)(cfg->agent_timeout_ms ? cfg->agent_timeout_ms : ATT_EP_AGENT_TIMEOUT_MS);
	if (!cfg->agent_addr || !(ep->agent_addr = strdup(cfg->agent_addr)))
		return err_set(EINVAL, "attestation endpoint: no agent address");
	if (cfg->manifest) {
		if (!(ep->manifest = malloc(cfg->manifest_len ? cfg->manifest_len : 1)))
			return err_set(ENOMEM, "out of memory");
		memcpy(ep->manifest, cfg->manifest, cfg->manifest_len);
		ep->manifest_len = cfg->manifest_len;
	}
	if (cfg->launch)
		ep->launch = json_incref(cfg->launch);
	if (!cfg->tls_cert != !cfg->tls_key)
		return err_set(EINVAL, "attestation endpoint: give both the TLS certificate and key, or neither");
	ret = cfg->tls_cert ? att_ep_tls_load(cfg->tls_cert, cfg->tls_key, &ep->tls)
			    : att_ep_tls_self_signed(host, &ep->tls);
	return ret;
}

int (*att_endpoint_before_threads)(void);

int att_endpoint_start(const struct att_endpoint_cfg *cfg, struct att_endpoint **out)
{
	struct att_endpoint *ep = calloc(1, sizeof(*ep));
	struct addrinfo *ai = NULL;
	const union MHD_DaemonInfo *info;
	char host[256], fp[65];
	int ret;

	*out = NULL;
	if (!ep)
		return err_set(ENOMEM, "out of memory");
	if ((ret = parse_listen(cfg->listen ? cfg->listen : "", host, sizeof(host), &ai)) ||
	    (ret = setup(ep, cfg, host)))
		goto fail;
	if (att_endpoint_before_threads && (ret = att_endpoint_before_threads()))
		goto fail;
	ep->d = MHD_start_daemon(MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
					 (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				 0, NULL, NULL, handle, ep, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				 MHD_OPTION_HTTPS_MEM_CERT, ep->tls.cert_pem, MHD_OPTION_HTTPS_MEM_KEY, ep->tls.key_pem,
				 MHD_OPTION_HTTPS_PRIORITIES, TLS13_ONLY, MHD_OPTION_CONNECTION_LIMIT,
				 cfg->max_concurrent ? cfg->max_concurrent : 16u, MHD_OPTION_CONNECTION_TIMEOUT,
				 ATT_EP_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	if (!ep->d) {
		ret = err_set(EADDRNOTAVAIL, "attestation endpoint: cannot listen on %s (address in use or TLS setup failed)",
			      cfg->listen);
		goto fail;
	}
	info = MHD_get_daemon_info(ep->d, MHD_DAEMON_INFO_BIND_PORT);
	ep->port = info ? info->port : 0;
	freeaddrinfo(ai);
	hex_encode(ep->tls.fingerprint, 32, fp);
	if (ep->tls.self_signed)
		fprintf(stderr, "attestation endpoint: https://%s%s%s:%u (self-signed certificate, SHA-256 fingerprint %s)\n",
			strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", ep->port, fp);
	else
		fprintf(stderr, "attestation endpoint: https://%s%s%s:%u\n", strchr(host, ':') ? "[" : "", host,
			strchr(host, ':') ? "]" : "", ep->port);
	*out = ep;
	return 0;
fail:
	if (ai)
		freeaddrinfo(ai);
	att_endpoint_stop(ep);
	return ret;
}

void att_endpoint_stop(struct att_endpoint *ep)
{
	if (!ep)
		return;
	if (ep->d)
		MHD_stop_daemon(ep->d);
	att_ep_tls_free(&ep->tls);
	free(ep->agent_addr);
	json_decref(ep->launch);
	free(ep->manifest);
	free(ep);
}

unsigned att_endpoint_port(const struct att_endpoint *ep)
{
	return ep->port;
}
