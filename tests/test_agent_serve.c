/* test_agent_serve.c - cvmm-agent serve end to end over Unix sockets: the
 * built agent (--provider sim) against a fake sim secure processor thread
 * in this test that answers CVSP requests with a fixed fake report carrying
 * the requested report_data. Checks the binding, secret storage (0600,
 * atomic, symlinks replaced), the one-secret-per-nonce rule, refusals of
 * secrets for another key, and that garbage gets an ERROR while the agent
 * keeps serving. The binary is $CVMM_AGENT, else the cvmm-agent of the
 * test's build directory (build/tests/x -> build/cvmm-agent). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attestation/proto/proto.h"

#define REPORT_LEN 1184
#define FAKE_CERTS "FAKE-CERT-TABLE"

static char agent_bin[4096];

struct env {
	char dir[256];
	char agent_addr[300], sim_addr[300], secrets[300], err[300];
	int sim_fd;
	pthread_t sim;
	pid_t pid;
	uint8_t pub[ATT_PUBKEY_LEN]; /* from the agent's start line */
};

static struct env E;
static const char *agent_addr = E.agent_addr; /* the agent the helpers talk to */

/* ---- the fake sim secure processor ---- */
static bool read_all(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

static void sim_answer(int c)
{
	uint8_t req[12 + 96], rsp[12 + 0x20 + REPORT_LEN + 4 + sizeof(FAKE_CERTS) - 1];
	uint16_t type;
	size_t len;

	if (!read_all(c, req, sizeof(req)) || le32(req) != 0x50535643u || le16(req + 4) != 1)
		return;
	type = le16(req + 6);
	if (type != 1 && type != 2)
		return;
	memset(rsp, 0, sizeof(rsp));
	len = 0x20 + REPORT_LEN + (type == 2 ? 4 + strlen(FAKE_CERTS) : 0);
	put_le32(rsp, 0x50535643u);
	put_le16(rsp + 4, 1);
	put_le16(rsp + 6, (uint16_t)(0x80 | type));
	put_le32(rsp + 8, (uint32_t)len);
	put_le32(rsp + 12, 0);          /* STATUS */
	put_le32(rsp + 16, REPORT_LEN); /* REPORT_SIZE */
	memset(rsp + 12 + 0x20, 0xa5, REPORT_LEN);
	put_le32(rsp + 12 + 0x20, 3);                   /* report version */
	memcpy(rsp + 12 + 0x20 + 0x50, req + 12, 64);   /* REPORT_DATA */
	if (type == 2) {
		put_le32(rsp + 12 + 0x20 + REPORT_LEN, (uint32_t)strlen(FAKE_CERTS));
		memcpy(rsp + 12 + 0x20 + REPORT_LEN + 4, FAKE_CERTS, strlen(FAKE_CERTS));
	}
	if (write(c, rsp, 12 + len) != (ssize_t)(12 + len))
		return;
}

static void *sim_thread(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(E.sim_fd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			return NULL; /* shut down */
		}
		sim_answer(c);
		close(c);
	}
}

/* ---- running the agent ---- */
static pid_t start_agent(const char *addr, bool once)
{
	char listen[320], sim[320];
	pid_t pid;
	int fd;

	snprintf(listen, sizeof(listen), "%s", addr);
	snprintf(sim, sizeof(sim), "%s", E.sim_addr);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		fd = open(E.err, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execl(agent_bin, agent_bin, "serve", "--listen", listen, "--provider", "sim", "--sim-channel", sim,
		      "--secret-dir", E.secrets, once ? "--once" : NULL, (char *)NULL);
		_exit(127);
	}
	/* Until it accepts: no time limit, but it must stay alive. */
	for (;;) {
		int st, c = att_sock_connect(addr, 1000);

		if (c >= 0) {
			close(c);
			return pid;
		}
		assert_int_equal(waitpid(pid, &st, WNOHANG), 0);
		usleep(10000);
	}
}

/* The agent's stderr so far (NUL-terminated, malloc'ed). */
static char *agent_err(void)
{
	FILE *f = fopen(E.err, "r");
	char *buf = calloc(1, 1 << 16);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char *err, *key;

	(void)state;
	snprintf(E.dir, sizeof(E.dir), "%s/cvmm-serve-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(E.dir));
	snprintf(E.agent_addr, sizeof(E.agent_addr), "unix:%s/agent.sock", E.dir);
	snprintf(E.sim_addr, sizeof(E.sim_addr), "unix:%s/sim.sock", E.dir);
	snprintf(E.secrets, sizeof(E.secrets), "%s/secrets", E.dir);
	snprintf(E.err, sizeof(E.err), "%s/agent.err", E.dir);
	E.sim_fd = att_sock_listen(E.sim_addr);
	assert_true(E.sim_fd >= 0);
	assert_int_equal(pthread_create(&E.sim, NULL, sim_thread, NULL), 0);
	E.pid = start_agent(E.agent_addr, false);
	err = agent_err();
	key = strstr(err, "cvmm-agent: serving on ");
	assert_non_null(key);
	key = strstr(key, ", public key ");
	assert_non_null(key);
	key += strlen(", public key ");
	key[2 * ATT_PUBKEY_LEN] = 0;
	assert_int_equal(hex_decode_exact(key, E.pub, sizeof(E.pub), "public key"), 0);
	free(err);
	return 0;
}

static int group_teardown(void **state)
{
	int st;

	(void)state;
	kill(E.pid, SIGTERM);
	waitpid(E.pid, &st, 0);
	shutdown(E.sim_fd, SHUT_RDWR);
	pthread_join(E.sim, NULL);
	close(E.sim_fd);
	nftw(E.dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- helpers ---- */
static void fill_nonce(uint8_t *n, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		n[i] = (uint8_t)(seed * 31 + i);
}

/* Attest with nonce; checks the binding and returns the agent's key. */
static void attest(const uint8_t *nonce, size_t len, uint8_t pub[ATT_PUBKEY_LEN])
{
	struct att_msg q = { .type = ATT_MSG_EVIDENCE_REQ, .nonce = nonce, .nonce_len = len }, r;
	struct bytebuf f = { 0 };
	uint8_t want[64];

	assert_int_equal(att_agent_call(agent_addr, 10000, &q, &f, &r), 0);
	assert_int_equal(r.type, ATT_MSG_EVIDENCE_RSP);
	assert_int_equal(r.platform_len, 3);
	assert_memory_equal(r.platform, "snp", 3);
	assert_int_equal(r.provider_len, 3);
	assert_memory_equal(r.provider, "sim", 3);
	assert_int_equal(r.report_len, REPORT_LEN);
	assert_int_equal(r.pubkey_len, ATT_PUBKEY_LEN);
	assert_int_equal(att_bind_report_data(nonce, len, r.pubkey, r.pubkey_len, want), 0);
	assert_memory_equal(r.report + 0x50, want, 64);
	assert_int_equal(r.cert_table_len, strlen(FAKE_CERTS));
	assert_memory_equal(r.cert_table, FAKE_CERTS, strlen(FAKE_CERTS));
	memcpy(pub, r.pubkey, ATT_PUBKEY_LEN);
	bb_free(&f);
}

/* Send a secret wrapped to pub; returns att_agent_call's result and copies
 * an ERROR's message into msg. */
static int send_secret(const uint8_t pub[ATT_PUBKEY_LEN], const uint8_t *nonce, size_t len, const char *name,
		       const char *secret, char msg[300])
{
	struct att_wrapped w = { 0 };
	struct att_msg q = { .type = ATT_MSG_SECRET_REQ }, r;
	struct bytebuf f = { 0 };
	int ret;

	assert_int_equal(att_secret_wrap(pub, nonce, len, name, (const uint8_t *)secret, strlen(secret), &w), 0);
	q.nonce = nonce;
	q.nonce_len = len;
	q.name = (const uint8_t *)name;
	q.name_len = strlen(name);
	q.eph_pubkey = w.eph_pubkey;
	q.eph_pubkey_len = ATT_PUBKEY_LEN;
	q.ciphertext = w.ciphertext.data;
	q.ciphertext_len = w.ciphertext.len;
	ret = att_agent_call(agent_addr, 10000, &q, &f, &r);
	msg[0] = 0;
	if (ret == -EREMOTEIO) {
		assert_int_equal(r.type, ATT_MSG_ERROR);
		snprintf(msg, 300, "%.*s", (int)r.message_len, (const char *)r.message);
	}
	if (!ret)
		assert_int_equal(r.type, ATT_MSG_SECRET_RSP);
	bb_free(&f);
	bb_free(&w.ciphertext);
	return ret;
}

static void expect_secret_file(const char *name, const char *want)
{
	char path[400];
	struct stat st;
	uint8_t *p = NULL;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", E.secrets, name);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(file_read(path, 1 << 20, &p, &n), 0);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(p, want, n);
	free(p);
}

/* ---- tests ---- */
static void test_evidence_binding(void **state)
{
	uint8_t nonce[32], pub[ATT_PUBKEY_LEN], nonce64[64];

	(void)state;
	fill_nonce(nonce, sizeof(nonce), 1);
	attest(nonce, sizeof(nonce), pub);
	assert_memory_equal(pub, E.pub, ATT_PUBKEY_LEN); /* the key it announced */
	fill_nonce(nonce64, sizeof(nonce64), 2);
	attest(nonce64, sizeof(nonce64), pub);
	assert_memory_equal(pub, E.pub, ATT_PUBKEY_LEN);
}

static void test_secret_stored_once(void **state)
{
	uint8_t nonce[16], pub[ATT_PUBKEY_LEN];
	char msg[300], *err, path[400];
	struct stat st;

	(void)state;
	fill_nonce(nonce, sizeof(nonce), 3);
	attest(nonce, sizeof(nonce), pub);
	assert_int_equal(send_secret(pub, nonce, sizeof(nonce), "disk-key", "s3cret\n", msg), 0);
	expect_secret_file("disk-key", "s3cret\n");
	assert_int_equal(stat(E.secrets, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	err = agent_err();
	assert_non_null(strstr(err, "cvmm-agent: stored secret disk-key (7 bytes)\n"));
	free(err);
	/* the same request again: the nonce is used up */
	assert_int_equal(send_secret(pub, nonce, sizeof(nonce), "disk-key", "other", msg), -EREMOTEIO);
	assert_non_null(strstr(msg, "nonce not issued or already used"));
	expect_secret_file("disk-key", "s3cret\n");
	/* a nonce the agent never answered */
	fill_nonce(nonce, sizeof(nonce), 4);
	assert_int_equal(send_secret(pub, nonce, sizeof(nonce), "x", "y", msg), -EREMOTEIO);
	assert_non_null(strstr(msg, "nonce not issued or already used"));
	snprintf(path, sizeof(path), "%s/x", E.secrets);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_secret_for_another_key(void **state)
{
	uint8_t nonce[24], pub[ATT_PUBKEY_LEN], other_priv[32], other_pub[ATT_PUBKEY_LEN];
	char msg[300], path[400];

	(void)state;
	fill_nonce(nonce, sizeof(nonce), 5);
	attest(nonce, sizeof(nonce), pub);
	assert_int_equal(att_x25519_keygen(other_priv, other_pub), 0);
	assert_int_equal(send_secret(other_pub, nonce, sizeof(nonce), "stolen", "nope", msg), -EREMOTEIO);
	assert_non_null(strstr(msg, "secret stolen refused"));
	assert_non_null(strstr(msg, "does not decrypt"));
	snprintf(path, sizeof(path), "%s/stolen", E.secrets);
	assert_int_equal(access(path, F_OK), -1);
	/* that attempt used the nonce up */
	assert_int_equal(send_secret(pub, nonce, sizeof(nonce), "stolen", "nope", msg), -EREMOTEIO);
	assert_non_null(strstr(msg, "nonce not issued or already used"));
	assert_int_equal(access(path, F_OK), -1);
}

static void test_symlink_replaced(void **state)
{
	uint8_t nonce[16], pub[ATT_PUBKEY_LEN];
	char msg[300], link[400], target[400];
	uint8_t *p = NULL;
	size_t n;

	(void)state;
	snprintf(target, sizeof(target), "%s/target", E.dir);
	assert_int_equal(file_write(target, "keep", 4), 0);
	assert_int_equal(mkdir(E.secrets, 0700) == 0 || errno == EEXIST, 1);
	snprintf(link, sizeof(link), "%s/linked", E.secrets);
	assert_int_equal(symlink(target, link), 0);
	fill_nonce(nonce, sizeof(nonce), 6);
	attest(nonce, sizeof(nonce), pub);
	assert_int_equal(send_secret(pub, nonce, sizeof(nonce), "linked", "fresh", msg), 0);
	expect_secret_file("linked", "fresh"); /* a regular file now */
	assert_int_equal(file_read(target, 100, &p, &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(p, "keep", 4);
	free(p);
}

static void test_garbage_then_serving(void **state)
{
	static const uint8_t garbage[] = "GET / HTTP/1.1\r\n\r\n";
	struct bytebuf f = { 0 }, out = { 0 };
	struct att_msg m;
	uint8_t nonce[16], pub[ATT_PUBKEY_LEN];
	int fd;

	(void)state;
	/* not a frame at all: ERROR, then the agent hangs up */
	fd = att_sock_connect(E.agent_addr, 10000);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, garbage, sizeof(garbage) - 1), (ssize_t)sizeof(garbage) - 1);
	assert_int_equal(att_sock_recv(fd, 10000, "agent", &f), 0);
	assert_int_equal(att_msg_decode(f.data, f.len, "agent", &m), 0);
	assert_int_equal(m.type, ATT_MSG_ERROR);
	assert_true(m.message_len > 0);
	assert_int_equal(att_sock_recv(fd, 10000, "agent", &f), -ENODATA);
	close(fd);

	/* well framed but invalid (name "../x", a response type): ERROR each,
	 * and the same connection still answers a good request */
	fd = att_sock_connect(E.agent_addr, 10000);
	assert_true(fd >= 0);
	fill_nonce(nonce, sizeof(nonce), 7);
	m = (struct att_msg){ .type = ATT_MSG_SECRET_REQ, .nonce = nonce, .nonce_len = 16,
			      .name = (const uint8_t *)"../x", .name_len = 4, .eph_pubkey = E.pub,
			      .eph_pubkey_len = 32, .ciphertext = nonce, .ciphertext_len = 16 };
	assert_int_equal(att_msg_encode(&m, &out), 0);
	assert_int_equal(att_sock_send(fd, &out), 0);
	assert_int_equal(att_sock_recv(fd, 10000, "agent", &f), 0);
	assert_int_equal(att_msg_decode(f.data, f.len, "agent", &m), 0);
	assert_int_equal(m.type, ATT_MSG_ERROR);
	assert_non_null(memmem(m.message, m.message_len, "NAME", 4));
	out.len = 0;
	m = (struct att_msg){ .type = ATT_MSG_SECRET_RSP };
	assert_int_equal(att_msg_encode(&m, &out), 0);
	assert_int_equal(att_sock_send(fd, &out), 0);
	assert_int_equal(att_sock_recv(fd, 10000, "agent", &f), 0);
	assert_int_equal(att_msg_decode(f.data, f.len, "agent", &m), 0);
	assert_int_equal(m.type, ATT_MSG_ERROR);
	out.len = 0;
	m = (struct att_msg){ .type = ATT_MSG_EVIDENCE_REQ, .nonce = nonce, .nonce_len = 16 };
	assert_int_equal(att_msg_encode(&m, &out), 0);
	assert_int_equal(att_sock_send(fd, &out), 0);
	assert_int_equal(att_sock_recv(fd, 10000, "agent", &f), 0);
	assert_int_equal(att_msg_decode(f.data, f.len, "agent", &m), 0);
	assert_int_equal(m.type, ATT_MSG_EVIDENCE_RSP);
	close(fd);
	bb_free(&out);
	bb_free(&f);

	/* a fresh connection works too */
	fill_nonce(nonce, sizeof(nonce), 8);
	attest(nonce, sizeof(nonce), pub);
}

static void test_once(void **state)
{
	char addr[320], msg[300];
	uint8_t nonce[16], pub[ATT_PUBKEY_LEN];
	pid_t pid;
	int st;

	(void)state;
	snprintf(addr, sizeof(addr), "unix:%s/once.sock", E.dir);
	pid = start_agent(addr, true);
	agent_addr = addr;
	fill_nonce(nonce, sizeof(nonce), 9);
	attest(nonce, sizeof(nonce), pub);
	assert_int_equal(send_secret(pub, nonce, sizeof(nonce), "once-key", "1", msg), 0);
	agent_addr = E.agent_addr;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	expect_secret_file("once-key", "1");
}

int main(int argc, char **argv)
{
	const char *env = getenv("CVMM_AGENT");
	char self[4096];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evidence_binding),     cmocka_unit_test(test_secret_stored_once),
		cmocka_unit_test(test_secret_for_another_key), cmocka_unit_test(test_symlink_replaced),
		cmocka_unit_test(test_garbage_then_serving), cmocka_unit_test(test_once),
	};

	(void)argc;
	if (env && *env) {
		snprintf(agent_bin, sizeof(agent_bin), "%s", env);
	} else {
		snprintf(self, sizeof(self), "%s", argv[0]);
		snprintf(agent_bin, sizeof(agent_bin), "%s/../cvmm-agent", dirname(self));
	}
	if (access(agent_bin, X_OK)) {
		fprintf(stderr, "%s: %s is not executable (set CVMM_AGENT)\n", argv[0], agent_bin);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
