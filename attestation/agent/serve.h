/* serve.h - cvmm-agent serve (docs/agent.md): the attestation server the
 * host's endpoint talks to over vsock, the provider choice it shares with
 * nothing else, and the sim secure processor's client. Agent-only. */
#ifndef CVMM_AGENT_SERVE_H
#define CVMM_AGENT_SERVE_H

#include <stdbool.h>

#include "attestation/agent/agent.h"

#define AGENT_SECRET_DIR "/run/cvmm/secrets"
#define AGENT_CONN_TIMEOUT_MS 10000 /* per read/write on a connection */

/* Evidence from the sim secure processor at addr over the sim channel
 * (sim.c): REPORT_REQ, or EXT_REPORT_REQ with req->want_certs. */
int agent_sim_report(const char *addr, const struct agent_req *req, struct agent_evidence *ev);

/* sim-tdx (sim_tdx.c): one request message on a new connection to addr,
 * the whole response (header + payload, malloc'ed) and its type. */
int agent_sim_call(const char *addr, const struct bytebuf *req, const char *what, uint8_t **rsp, size_t *rsp_len,
		   uint16_t *type);
/* A TD quote for req->report_data (ev->provider "sim-tdx", ev->event_log
 * the CCEL); no certificate table (the PCK chain is inside the quote). */
int agent_sim_tdx_quote(const char *addr, const struct agent_req *req, struct agent_evidence *ev);
/* Extend RTMR index (2 or 3) with digest, logging event; rtmr gets the new value. */
int agent_sim_tdx_extend(const char *addr, uint32_t index, const uint8_t digest[48], const uint8_t *event,
			 size_t event_len, uint8_t rtmr[48]);

/* Evidence from provider ("auto", "configfs", "sev-guest", "tdx-guest",
 * "sim"; provider.c). auto: configfs-tsm, /dev/sev-guest, /dev/tdx_guest,
 * then the sim channel (sim_channel NULL: not tried). *platform is "snp" or
 * "tdx"; label receives the wire PROVIDER name ("configfs-tsm:sev_guest",
 * "sev-guest", "tdx-guest", "sim"). */
int agent_provider_report(const char *provider, const char *sim_channel, const struct agent_req *req,
			  struct agent_evidence *ev, const char **platform, char label[80]);
bool agent_provider_name_ok(const char *provider);

struct agent_serve_opts {
	const char *listen;      /* "vsock:CID:PORT" or "unix:PATH" */
	const char *secret_dir;  /* where secrets are stored, 0600 */
	const char *provider;    /* as agent_provider_report */
	const char *sim_channel; /* NULL when unknown */
	const char *tsm_root;
	bool once; /* return 0 after the first stored secret */
};

/* Listen and serve connections one at a time; returns only with --once (0)
 * or on a startup error (-errno). */
int agent_serve(const struct agent_serve_opts *o);

#endif
