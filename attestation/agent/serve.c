/* serve.c - cvmm-agent serve: the guest end of the attestation flow
 * (design.md "Attestation flow and trust model", docs/agent.md). One X25519
 * key pair per run; EVIDENCE_REQ gets evidence whose report_data binds the
 * nonce and the public key; SECRET_REQ is accepted once per issued nonce,
 * unwrapped with the private key and stored 0600. Every byte received comes
 * through the untrusted host: bad requests get an ERROR frame, never an exit. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "attestation/agent/serve.h"
#include "attestation/proto/proto.h"

#define ISSUED_MAX 64 /* nonces answered and not yet used for a secret */

struct issued {
	uint8_t nonce[ATT_NONCE_MAX];
	size_t len; /* 0: free slot */
	uint64_t seq;
};

struct server {
	const struct agent_serve_opts *o;
	uint8_t priv[32], pub[ATT_PUBKEY_LEN];
	struct issued issued[ISSUED_MAX];
	uint64_t seq;
	bool stored; /* a secret was stored (--once) */
};

static struct issued *issued_find(struct server *s, const uint8_t *nonce, size_t len)
{
	for (size_t i = 0; i < ISSUED_MAX; i++)
		if (s->issued[i].len == len && !memcmp(s->issued[i].nonce, nonce, len))
			return &s->issued[i];
	return NULL;
}

/* Remember a nonce; when full, the oldest one is dropped. */
static void issued_add(struct server *s, const uint8_t *nonce, size_t len)
{
	struct issued *slot = issued_find(s, nonce, len);

	if (!slot) {
		slot = &s->issued[0];
		for (size_t i = 0; i < ISSUED_MAX && slot->len; i++)
			if (!s->issued[i].len || s->issued[i].seq < slot->seq)
				slot = &s->issued[i];
	}
	memcpy(slot->nonce, nonce, len);
	slot->len = len;
	slot->seq = ++s->seq;
}

static int reply_error(int fd, const char *msg)
{
	char text[257];
	struct att_msg m = { .type = ATT_MSG_ERROR };
	struct bytebuf b = { 0 };
	size_t n = 0;
	int ret;

	for (; msg[n] && n < sizeof(text) - 1; n++)
		text[n] = msg[n] >= 0x20 && msg[n] <= 0x7e ? msg[n] : '?';
	m.message = (const uint8_t *)text;
	m.message_len = n;
	ret = att_msg_encode(&m, &b);
	if (!ret)
		ret = att_sock_send(fd, &b);
	bb_free(&b);
	return ret;
}

static int evidence(struct server *s, const struct att_msg *q, struct bytebuf *out)
{
	struct agent_req req = { .tsm_root = s->o->tsm_root, .want_certs = true };
	struct agent_evidence ev = { 0 };
	struct att_msg m = { .type = ATT_MSG_EVIDENCE_RSP };
	const char *platform = NULL;
	char label[80] = "";
	int ret;

	if ((ret = att_bind_report_data(q->nonce, q->nonce_len, s->pub, sizeof(s->pub), req.report_data)))
		return ret;
	ret = agent_provider_report(s->o->provider, s->o->sim_channel, &req, &ev, &platform, label);
	if (ret == -ENOENT) {
		/* No certificate table here (TDX, or a host that supplies
		 * none): the evidence alone. */
		agent_evidence_free(&ev);
		req.want_certs = false;
		ret = agent_provider_report(s->o->provider, s->o->sim_channel, &req, &ev, &platform, label);
	}
	if (ret) {
		agent_evidence_free(&ev);
		return ret;
	}
	m.platform = (const uint8_t *)platform;
	m.platform_len = strlen(platform);
	m.provider = (const uint8_t *)label;
	m.provider_len = strlen(label);
	m.report = ev.report.data;
	m.report_len = ev.report.len;
	if (ev.certs.len) {
		m.cert_table = ev.certs.data;
		m.cert_table_len = ev.certs.len;
	}
	if (ev.event_log.len) { /* sim-tdx: the CCEL of the RTMRs */
		m.event_log = ev.event_log.data;
		m.event_log_len = ev.event_log.len;
	}
	m.pubkey = s->pub;
	m.pubkey_len = sizeof(s->pub);
	ret = att_msg_encode(&m, out);
	agent_evidence_free(&ev);
	if (!ret)
		issued_add(s, q->nonce, q->nonce_len);
	return ret;
}

/* DIR/NAME, atomically, 0600 (file_write_mode: temp file created O_EXCL
 * 0600 in DIR, fsync, rename over whatever DIR/NAME was — a symlink there
 * is replaced, not followed — fsync DIR). */
static int store(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	char path[4096];
	int e;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return err_set(ENAMETOOLONG, "%s: path too long", dir);
	if ((e = file_mkdir_p(dir, 0700)))
		return e;
	return file_write_mode(path, p, len, 0600);
}

static int secret(struct server *s, const struct att_msg *q, struct bytebuf *out)
{
	struct issued *slot = issued_find(s, q->nonce, q->nonce_len);
	struct att_msg m = { .type = ATT_MSG_SECRET_RSP };
	struct bytebuf plain = { 0 };
	char name[ATT_SECRET_NAME_MAX + 1];
	int ret;

	if (!slot)
		return err_set(EPERM, "nonce not issued or already used");
	/* One secret per attestation, whatever becomes of this one. */
	slot->len = 0;
	memcpy(name, q->name, q->name_len);
	name[q->name_len] = 0;
	ret = att_secret_unwrap(s->priv, q->nonce, q->nonce_len, name, q->eph_pubkey, q->ciphertext,
				q->ciphertext_len, &plain);
	if (ret)
		return err_wrap(-ret, "secret %s refused", name);
	ret = store(s->o->secret_dir, name, plain.data, plain.len);
	if (!ret) {
		fprintf(stderr, "cvmm-agent: stored secret %s (%zu bytes)\n", name, plain.len);
		s->stored = true;
		ret = att_msg_encode(&m, out);
	}
	if (plain.data)
		OPENSSL_cleanse(plain.data, plain.cap);
	bb_free(&plain);
	return ret;
}

/* Requests on one connection until the peer closes, stalls or breaks the
 * framing. */
static void serve_conn(struct server *s, int fd)
{
	struct bytebuf in = { 0 }, out = { 0 };

	for (;;) {
		struct att_msg q;
		int ret = att_sock_recv(fd, AGENT_CONN_TIMEOUT_MS, "request", &in);

		if (ret == -ENODATA)
			break;
		if (ret) {
			/* The stream is out of step: say why and hang up. */
			fprintf(stderr, "cvmm-agent: dropping connection: %s\n", err_msg());
			reply_error(fd, err_msg());
			break;
		}
		out.len = 0;
		ret = att_msg_decode(in.data, in.len, "request", &q);
		if (!ret && q.type == ATT_MSG_EVIDENCE_REQ)
			ret = evidence(s, &q, &out);
		else if (!ret && q.type == ATT_MSG_SECRET_REQ)
			ret = secret(s, &q, &out);
		else if (!ret)
			ret = err_set(EPROTO, "request: message type %u is not a request", q.type);
		if (ret) {
			fprintf(stderr, "cvmm-agent: refused: %s\n", err_msg());
			if (reply_error(fd, err_msg()))
				break;
			continue;
		}
		if (att_sock_send(fd, &out))
			break;
		if (s->o->once && s->stored)
			break;
	}
	bb_free(&in);
	bb_free(&out);
}

int agent_serve(const struct agent_serve_opts *o)
{
	struct server *s = calloc(1, sizeof(*s));
	struct timeval tv = { .tv_sec = AGENT_CONN_TIMEOUT_MS / 1000 };
	char hex[2 * ATT_PUBKEY_LEN + 1];
	int lfd, ret;

	if (!s)
		return err_set(ENOMEM, "out of memory");
	s->o = o;
	signal(SIGPIPE, SIG_IGN);
	if ((ret = att_x25519_keygen(s->priv, s->pub)))
		goto out;
	lfd = att_sock_listen(o->listen);
	if (lfd < 0) {
		ret = lfd;
		goto out;
	}
	hex_encode(s->pub, sizeof(s->pub), hex);
	fprintf(stderr, "cvmm-agent: serving on %s, public key %s\n", o->listen, hex);
	while (!(o->once && s->stored)) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				fprintf(stderr, "cvmm-agent: accept: %s\n", strerror(errno));
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
				sleep(1);
			continue;
		}
		setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		serve_conn(s, c);
		close(c);
	}
	close(lfd);
	ret = 0;
out:
	OPENSSL_cleanse(s->priv, sizeof(s->priv));
	free(s);
	return ret;
}
