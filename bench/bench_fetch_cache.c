/* Benchmark: `cvmm fetch-certs --offline` answered from a warm cache (the
 * path a busy verifier takes for every report of a known platform) against
 * the bare file I/O it cannot avoid: reading the same cache files and writing
 * the same outputs with file_read/file_write. The difference is the cost of
 * parsing the report, hashing URLs, and checking every certificate and CRL
 * before use. Both are measured here, best of several rounds.
 *
 * The cache is filled by hand in its documented layout (docs/fetch-certs.md:
 * one file per URL named by SHA-256 of the URL), for the milan-virtee report
 * and the default KDS URL; any DER CRL stands in for AMD's. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "attestation/attestation.h"
#include "bench/bench.h"
#include "common/common.h"

#define SNP "tests/fixtures/evidence/snp/milan-virtee/"
#define ROUNDS 7
#define RUNS 20

static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *d;

	if (file_read(path, 1 << 20, &d, len))
		bench_die("bench_fetch_cache", path);
	return d;
}

struct entry {
	char url[512];
	char path[640];
	uint8_t *data;
	size_t len;
};

static void put(struct entry *e, const char *cache, const char *url, uint8_t *data, size_t len)
{
	uint8_t md[32];
	char hex[65];

	snprintf(e->url, sizeof(e->url), "%s", url);
	EVP_Digest(url, strlen(url), md, NULL, EVP_sha256(), NULL);
	hex_encode(md, sizeof(md), hex);
	snprintf(e->path, sizeof(e->path), "%s/%s", cache, hex);
	e->data = data;
	e->len = len;
	if (file_write(e->path, data, len))
		bench_die("bench_fetch_cache", e->path);
}

int main(void)
{
	char dir[] = "/tmp/cvmm-bench-fetch-XXXXXX", cache[64], out[64], base_out[64], url[512], hexid[129], cmd[128];
	struct entry ent[3];
	size_t len, l2, rlen;
	uint8_t *ask, *ark, *chain, *report, *data;
	double best_cli = 1e9, best_io = 1e9;
	int saved, devnull;

	if (!mkdtemp(dir))
		return 1;
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(base_out, sizeof(base_out), "%s/base", dir);
	if (mkdir(cache, 0700) || mkdir(base_out, 0755))
		return 1;

	ask = slurp(SNP "ask.pem", &len);
	ark = slurp(SNP "ark.pem", &l2);
	chain = malloc(len + l2);
	memcpy(chain, ask, len);
	memcpy(chain + len, ark, l2);
	put(&ent[0], cache, "https://kdsintf.amd.com/vcek/v1/Milan/cert_chain", chain, len + l2);
	report = slurp(SNP "report.bin", &rlen);
	hex_encode(report + 0x1a0, 64, hexid);
	/* REPORTED_TCB of this report: bootloader 3, TEE 0, SNP 8, microcode 115. */
	snprintf(url, sizeof(url), "https://kdsintf.amd.com/vcek/v1/Milan/%s?blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115",
		 hexid);
	data = slurp(SNP "vcek.der", &len);
	put(&ent[1], cache, url, data, len);
	data = slurp("tests/fixtures/evidence/tdx/v4-spr-gotdxguest/collateral/rootcrl.der", &len);
	put(&ent[2], cache, "https://kdsintf.amd.com/vcek/v1/Milan/crl", data, len);

	/* The CLI lists what it wrote on stdout: keep the bench output clean. */
	fflush(stdout);
	saved = dup(1);
	devnull = open("/dev/null", O_WRONLY);
	for (int round = 0; round < ROUNDS; round++) {
		char *argv[] = { "fetch-certs", "--report", SNP "report.bin", "--product", "Milan", "--out", out,
				 "--cache", cache, "--offline", NULL };
		double t;

		dup2(devnull, 1);
		t = bench_wall();
		for (int i = 0; i < RUNS; i++)
			if (att_cli_fetch_certs(10, argv))
				bench_die("bench_fetch_cache", "fetch-certs --offline");
		fflush(stdout);
		t = bench_wall() - t;
		dup2(saved, 1);
		bench_keep_min(&best_cli, t);

		/* Baseline: the same reads and writes, nothing checked. */
		t = bench_wall();
		for (int i = 0; i < RUNS; i++) {
			uint8_t *d, *rep;
			size_t n, rn;
			char p[128];

			rep = slurp(SNP "report.bin", &rn);
			free(rep);
			for (int k = 0; k < 3; k++) {
				d = slurp(ent[k].path, &n);
				snprintf(p, sizeof(p), "%s/f%d", base_out, k);
				if (file_write(p, d, n))
					bench_die("bench_fetch_cache", p);
				free(d);
			}
			/* fetch-certs writes 4 files (the chain becomes ask.pem + ark.pem) */
			snprintf(p, sizeof(p), "%s/f3", base_out);
			if (file_write(p, ark, l2))
				bench_die("bench_fetch_cache", p);
		}
		t = bench_wall() - t;
		bench_keep_min(&best_io, t);
	}
	close(devnull);
	close(saved);
	printf("fetch-certs/cache-hit: %.2f ms per run, file I/O alone %.2f ms\n", best_cli * 1e3 / RUNS,
	       best_io * 1e3 / RUNS);
	printf("fetch-certs/offline-vs-io = %.2f (goal <= 2.0)\n", best_cli / best_io);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		return 1;
	free(ask);
	free(ark);
	free(report); /* chain is ent[0].data */
	for (int k = 0; k < 3; k++)
		free(ent[k].data);
	return 0;
}
