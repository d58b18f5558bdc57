/* fake_agent.h - a stand-in for cvmm-agent serve in one thread of a test:
 * listens on unix:DIR/agent.sock and speaks the agent wire protocol
 * (attestation/proto/proto.h). EVIDENCE_REQ is answered with a canned
 * report, or with a fresh report signed by an in-process sim secure
 * processor for report_data = att_bind_report_data(nonce, its key) (lie:
 * for another key than the one it sends); SECRET_REQ is unwrapped with its
 * private key for a nonce it answered and not yet used, else an ERROR.
 * Header-only: each test is one program. */
#ifndef CVMM_TESTS_FAKE_AGENT_H
#define CVMM_TESTS_FAKE_AGENT_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attestation/proto/proto.h"
#include "common/common.h"
#include "sev/sev.h"

#define FAKE_NONCES 16

struct fake_agent {
	char addr[300];
	int lfd;
	pthread_t th;
	volatile int stop;
	uint8_t priv[32], pub[ATT_PUBKEY_LEN];
	const uint8_t *report; /* canned; or sim */
	size_t report_len;
	struct snp_sim *sim;
	uint8_t *cert_table;
	size_t cert_table_len;
	bool lie;
	unsigned delay_ms; /* wait this long before answering */
	pthread_mutex_t lock;
	uint8_t nonces[FAKE_NONCES][ATT_NONCE_MAX];
	size_t nonce_lens[FAKE_NONCES];
	unsigned n_nonces;
	/* what arrived */
	unsigned evidence_reqs, secrets;
	char secret_name[ATT_SECRET_NAME_MAX + 1];
	struct bytebuf secret;
};

static void fake_reply_error(struct fake_agent *fa, const char *msg, struct att_msg *rsp)
{
	(void)fa;
	memset(rsp, 0, sizeof(*rsp));
	rsp->type = ATT_MSG_ERROR;
	rsp->message = (const uint8_t *)msg;
	rsp->message_len = strlen(msg);
}

/* Consume nonce if it was answered; true if so. */
static bool fake_take_nonce(struct fake_agent *fa, const uint8_t *n, size_t len)
{
	for (unsigned i = 0; i < fa->n_nonces && i < FAKE_NONCES; i++)
		if (fa->nonce_lens[i] == len && !memcmp(fa->nonces[i], n, len)) {
			fa->nonce_lens[i] = 0;
			return true;
		}
	return false;
}

static void fake_serve_one(struct fake_agent *fa, int fd)
{
	struct bytebuf in = { 0 }, out = { 0 }, secret = { 0 };
	struct att_msg req, rsp;
	uint8_t report[0x4A0], rd[64], other[32];

	if (att_sock_recv(fd, 2000, "endpoint", &in) || att_msg_decode(in.data, in.len, "endpoint", &req))
		goto out;
	pthread_mutex_lock(&fa->lock);
	if (req.type == ATT_MSG_EVIDENCE_REQ) {
		memset(&rsp, 0, sizeof(rsp));
		rsp.type = ATT_MSG_EVIDENCE_RSP;
		rsp.platform = (const uint8_t *)"snp";
		rsp.platform_len = 3;
		rsp.provider = (const uint8_t *)(fa->sim ? "sim" : "fake");
		rsp.provider_len = fa->sim ? 3 : 4;
		rsp.pubkey = fa->pub;
		rsp.pubkey_len = ATT_PUBKEY_LEN;
		rsp.cert_table = fa->cert_table;
		rsp.cert_table_len = fa->cert_table_len;
		if (fa->sim) {
			memcpy(other, fa->pub, 32);
			other[0] ^= fa->lie;
			if (att_bind_report_data(req.nonce, req.nonce_len, other, 32, rd) ||
			    snp_sim_report(fa->sim, rd, 0, report)) {
				fake_reply_error(fa, "sim report failed", &rsp);
			} else {
				rsp.report = report;
				rsp.report_len = sizeof(report);
			}
		} else {
			rsp.report = fa->report;
			rsp.report_len = fa->report_len;
		}
		unsigned i = fa->n_nonces++ % FAKE_NONCES;
		memcpy(fa->nonces[i], req.nonce, req.nonce_len);
		fa->nonce_lens[i] = req.nonce_len;
		fa->evidence_reqs++;
	} else if (req.type == ATT_MSG_SECRET_REQ) {
		char name[ATT_SECRET_NAME_MAX + 1];

		memcpy(name, req.name, req.name_len);
		name[req.name_len] = 0;
		if (!fake_take_nonce(fa, req.nonce, req.nonce_len))
			fake_reply_error(fa, "no evidence was given for this nonce, or it was used", &rsp);
		else if (att_secret_unwrap(fa->priv, req.nonce, req.nonce_len, name, req.eph_pubkey, req.ciphertext,
					   req.ciphertext_len, &secret))
			fake_reply_error(fa, "the secret is not for this agent's key", &rsp);
		else {
			memset(&rsp, 0, sizeof(rsp));
			rsp.type = ATT_MSG_SECRET_RSP;
			snprintf(fa->secret_name, sizeof(fa->secret_name), "%s", name);
			bb_free(&fa->secret);
			fa->secret = secret;
			memset(&secret, 0, sizeof(secret));
			fa->secrets++;
		}
	} else {
		fake_reply_error(fa, "unexpected message", &rsp);
	}
	if (fa->delay_ms)
		usleep(fa->delay_ms * 1000);
	if (!att_msg_encode(&rsp, &out))
		att_sock_send(fd, &out);
	pthread_mutex_unlock(&fa->lock);
out:
	bb_free(&in);
	bb_free(&out);
	bb_free(&secret);
}

static void *fake_agent_main(void *arg)
{
	struct fake_agent *fa = arg;

	while (!fa->stop) {
		struct pollfd p = { .fd = fa->lfd, .events = POLLIN };
		int fd;

		if (poll(&p, 1, 20) <= 0)
			continue;
		if ((fd = accept(fa->lfd, NULL, NULL)) < 0)
			continue;
		fake_serve_one(fa, fd);
		close(fd);
	}
	return NULL;
}

/* Listen on unix:dir/agent.sock and serve on a thread. */
static int fake_agent_start(struct fake_agent *fa, const char *dir)
{
	int ret;

	snprintf(fa->addr, sizeof(fa->addr), "unix:%s/agent.sock", dir);
	pthread_mutex_init(&fa->lock, NULL);
	if ((ret = att_x25519_keygen(fa->priv, fa->pub)))
		return ret;
	if ((fa->lfd = att_sock_listen(fa->addr)) < 0)
		return fa->lfd;
	return pthread_create(&fa->th, NULL, fake_agent_main, fa) ? -EAGAIN : 0;
}

static void fake_agent_stop(struct fake_agent *fa)
{
	fa->stop = 1;
	pthread_join(fa->th, NULL);
	close(fa->lfd);
	bb_free(&fa->secret);
	pthread_mutex_destroy(&fa->lock);
}

#endif
