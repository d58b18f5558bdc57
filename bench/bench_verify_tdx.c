/* bench_verify_tdx: TDX quote verifications per second (full att_tdx_verify
 * of a real quote, PCK chain cached after the first call) divided by the
 * rate of two plain OpenSSL ECDSA P-256 verifies (the two signatures a quote
 * needs at minimum: attestation key over the quote, PCK key over the QE
 * report), measured in the same process. Time is this thread's CPU time
 * and rounds alternate between the two, the best round of each counting, so
 * that other load on a shared machine does not skew the ratio.
 * Goal: ratio >= 0.7. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "attestation/attestation.h"
#include "bench/bench.h"
#include "common/common.h"

#define QUOTE "tests/fixtures/evidence/tdx/v4-azure/quote.bin"
#define ROUNDS 5
#define ITERS 200

struct plain {
	EVP_PKEY *key;
	uint8_t sig[80];
	size_t sig_len;
	uint8_t msg[632];
	size_t msg_len;
};

static void plain_make(struct plain *p, size_t msg_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	p->key = EVP_EC_gen("P-256");
	p->msg_len = msg_len;
	for (size_t i = 0; i < msg_len; i++)
		p->msg[i] = (uint8_t)(i * 7);
	p->sig_len = sizeof(p->sig);
	if (!p->key || !md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, p->key) != 1 ||
	    EVP_DigestSign(md, p->sig, &p->sig_len, p->msg, msg_len) != 1) {
		fprintf(stderr, "bench_verify_tdx: key setup failed\n");
		exit(2);
	}
	EVP_MD_CTX_free(md);
}

static int plain_verify(const struct plain *p)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, p->key) == 1 &&
		 EVP_DigestVerify(md, p->sig, p->sig_len, p->msg, p->msg_len) == 1;

	EVP_MD_CTX_free(md);
	return ok;
}

static int tdx_verify_once(const uint8_t *q, size_t len, const struct att_options *o)
{
	struct att_result r;
	int ok;

	if (att_result_init(&r, "tdx"))
		return 0;
	ok = att_tdx_verify(q, len, o, &r) == 0 && att_result_status(&r) == ATT_AFFIRMING;
	att_result_free(&r);
	return ok;
}

int main(void)
{
	struct att_options o = { 0 };
	struct plain a, b;
	double best_tdx = 1e9, best_plain = 1e9, t;
	uint8_t *q;
	size_t len;

	if (file_read(QUOTE, 1 << 20, &q, &len)) {
		fprintf(stderr, "bench_verify_tdx: %s\n", err_msg());
		return 2;
	}
	plain_make(&a, 632); /* header + body */
	plain_make(&b, 384); /* QE report */
	if (!tdx_verify_once(q, len, &o) || !plain_verify(&a) || !plain_verify(&b)) {
		fprintf(stderr, "bench_verify_tdx: warm-up verification failed\n");
		return 2;
	}
	for (int round = 0; round < ROUNDS; round++) {
		t = bench_cpu();
		for (int i = 0; i < ITERS; i++)
			if (!tdx_verify_once(q, len, &o))
				return 2;
		t = bench_cpu() - t;
		bench_keep_min(&best_tdx, t);
		t = bench_cpu();
		for (int i = 0; i < ITERS; i++)
			if (!plain_verify(&a) || !plain_verify(&b))
				return 2;
		t = bench_cpu() - t;
		bench_keep_min(&best_plain, t);
	}
	printf("verify/tdx = %.2f (goal >= 0.7): %.0f quotes/s, %.0f plain P-256 verify pairs/s\n",
	       best_plain / best_tdx, ITERS / best_tdx, ITERS / best_plain);
	EVP_PKEY_free(a.key);
	EVP_PKEY_free(b.key);
	free(q);
	return 0;
}
