/* Benchmark: event log replay (parse every record with the bounds-checked
 * reader, then extend every bank) against the hashing a replay cannot avoid:
 * for every event and bank one SHA-256 / SHA-384 over (register || digest),
 * done here directly with OpenSSL on the same values, without parsing.
 * The log is synthetic, in the shape of a firmware + boot loader log: the
 * SHA-256 and SHA-384 banks, 64-byte event data, PCRs 0..7. Best of ROUNDS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "bench/bench.h"
#include "common/common.h"
#include "measured-boot/measured_boot.h"

#define EVENTS 20000
#define ROUNDS 15
#define DATA 64

static void build_log(struct bytebuf *b)
{
	uint8_t h[32 + 37], rec[12 + 2 + 32 + 2 + 48 + 4 + DATA];

	/* Spec ID header: SHA-256 and SHA-384 banks (PFP 10.4.5.1) */
	memset(h, 0, sizeof(h));
	put_le32(h + 4, MB_EV_NO_ACTION);
	put_le32(h + 28, 37);
	memcpy(h + 32, "Spec ID Event03", 16);
	h[32 + 21] = 2;
	h[32 + 23] = 2;
	put_le32(h + 32 + 24, 2);
	put_le16(h + 32 + 28, MB_ALG_SHA256);
	put_le16(h + 32 + 30, 32);
	put_le16(h + 32 + 32, MB_ALG_SHA384);
	put_le16(h + 32 + 34, 48);
	if (bb_append(b, h, sizeof(h)))
		bench_die("bench_eventlog", "out of memory");
	for (uint32_t i = 0; i < EVENTS; i++) {
		uint8_t *p = rec;

		put_le32(p, i % 8), p += 4;
		put_le32(p, 0x80000003), p += 4; /* EV_EFI_BOOT_SERVICES_APPLICATION */
		put_le32(p, 2), p += 4;
		put_le16(p, MB_ALG_SHA256), p += 2;
		memset(p, (int)(i * 7), 32), p += 32;
		put_le16(p, MB_ALG_SHA384), p += 2;
		memset(p, (int)(i * 13), 48), p += 48;
		put_le32(p, DATA), p += 4;
		memset(p, (int)i, DATA);
		if (bb_append(b, rec, sizeof(rec)))
			bench_die("bench_eventlog", "out of memory");
	}
}

/* The hashing alone: same digests, same registers, no parsing. */
static void hash_only(const struct mb_log *log, uint8_t regs[2][8][48])
{
	EVP_MD *md[2] = { EVP_MD_fetch(NULL, "SHA256", NULL), EVP_MD_fetch(NULL, "SHA384", NULL) };
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	memset(regs, 0, 2 * 8 * 48);
	for (size_t i = 1; i < log->nevents; i++) {
		const struct mb_event *ev = &log->events[i];

		for (int b = 0; b < 2; b++) {
			uint8_t *v = regs[b][ev->index];

			EVP_DigestInit_ex2(ctx, md[b], NULL);
			EVP_DigestUpdate(ctx, v, ev->digests[b].size);
			EVP_DigestUpdate(ctx, ev->digests[b].bytes, ev->digests[b].size);
			EVP_DigestFinal_ex(ctx, v, NULL);
		}
	}
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md[0]);
	EVP_MD_free(md[1]);
}

int main(void)
{
	struct bytebuf b = { 0 };
	struct mb_log log, ref;
	struct mb_replay *rp = malloc(sizeof(*rp));
	static uint8_t regs[2][8][48];
	double best_replay = 1e9, best_hash = 1e9, ratio;

	build_log(&b);
	/* the digests the baseline hashes come from one parse done outside the clock */
	if (mb_log_parse(b.data, b.len, "bench", MB_LOG_AUTO, &ref))
		bench_die("bench_eventlog", "parse");
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = bench_wall(), t1;

		if (mb_log_parse(b.data, b.len, "bench", MB_LOG_AUTO, &log) || mb_replay(&log, rp))
			bench_die("bench_eventlog", "replay");
		t1 = bench_wall();
		mb_log_free(&log);
		bench_keep_min(&best_replay, t1 - t0);
		t0 = bench_wall();
		hash_only(&ref, regs);
		t1 = bench_wall();
		bench_keep_min(&best_hash, t1 - t0);
	}
	/* both computed the same registers */
	for (unsigned p = 0; p < 8; p++)
		if (memcmp(mb_replay_reg(rp, MB_ALG_SHA256, p), regs[0][p], 32) ||
		    memcmp(mb_replay_reg(rp, MB_ALG_SHA384, p), regs[1][p], 48)) {
			fprintf(stderr, "bench_eventlog: replay and baseline disagree on pcr%u\n", p);
			return 1;
		}
	ratio = best_replay / best_hash;
	printf("eventlog replay: %d events (sha256+sha384) in %.2f ms = %.0f events/s; hashing alone %.2f ms\n",
	       EVENTS, best_replay * 1e3, EVENTS / best_replay, best_hash * 1e3);
	printf("replay/hash = %.2f (goal <= 1.5)\n", ratio);
	mb_log_free(&ref);
	bb_free(&b);
	free(rp);
	return 0;
}
