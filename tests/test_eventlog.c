/* Unit tests: measured-boot event logs - parse and replay every fixture under
 * tests/fixtures/eventlog/ to its expected registers, malformed logs, the
 * StartupLocality rule, JSON output, cvmm's launch log, the CCEL check. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "common/common.h"
#include "measured-boot/measured_boot.h"

static const char *cases[] = {
	"ccel-cos113-gce", "ccel-grub", "ccel-ovmf", "tpm-arch-linux", "tpm-gce-ubuntu-2104", "tpm-sd-boot-fedora37",
};

static void load(const char *path, uint8_t **buf, size_t *len)
{
	assert_int_equal(file_read(path, MB_LOG_MAX, buf, len), 0);
}

static void load_case(const char *name, const char *file, uint8_t **buf, size_t *len)
{
	char path[256];

	snprintf(path, sizeof(path), "tests/fixtures/eventlog/%s/%s", name, file);
	load(path, buf, len);
}

/* Compare a replay with expected.json: same registers, same values, same count. */
static void check_against_expected(const char *name, const struct mb_replay *rp, enum mb_log_kind kind)
{
	json_error_t jerr;
	char path[256];
	json_t *exp, *regs, *banks;
	const char *reg, *alg;
	unsigned nregs = 0;

	snprintf(path, sizeof(path), "tests/fixtures/eventlog/%s/expected.json", name);
	exp = json_load_file(path, 0, &jerr);
	assert_non_null(exp);
	assert_int_equal(kind, !strcmp(json_string_value(json_object_get(exp, "kind")), "ccel") ? MB_LOG_CCEL
												: MB_LOG_TPM);
	assert_int_equal(rp->kind, kind);
	assert_int_equal(rp->nevents, json_integer_value(json_object_get(exp, "events")));
	regs = json_object_get(exp, "registers");
	json_object_foreach(regs, reg, banks) {
		unsigned idx;
		json_t *hex;
		bool ccel = !strncmp(reg, "rtmr", 4);

		idx = (unsigned)atoi(reg + (ccel ? 4 : 3));
		assert_true(rp->touched & (1u << idx));
		nregs++;
		json_object_foreach(banks, alg, hex) {
			char got[2 * MB_MAX_DIGEST + 1];
			const uint8_t *v = NULL;

			for (uint32_t b = 0; b < rp->nbanks; b++)
				if (!strcmp(mb_alg_name(rp->banks[b].alg), alg))
					v = mb_replay_reg(rp, rp->banks[b].alg, idx);
			assert_non_null(v);
			hex_encode(v, strlen(json_string_value(hex)) / 2, got);
			if (strcmp(got, json_string_value(hex)))
				fail_msg("%s %s %s: got %s expected %s", name, reg, alg, got, json_string_value(hex));
		}
	}
	assert_int_equal(__builtin_popcount(rp->touched), nregs);
	json_decref(exp);
}

static void test_fixtures_replay(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mb_log log;
		struct mb_replay *rp = malloc(sizeof(*rp));
		uint8_t *buf;
		size_t len;

		load_case(cases[i], "log.bin", &buf, &len);
		assert_int_equal(mb_log_parse(buf, len, cases[i], MB_LOG_AUTO, &log), 0);
		assert_int_equal(mb_replay(&log, rp), 0);
		check_against_expected(cases[i], rp, !strncmp(cases[i], "ccel", 4) ? MB_LOG_CCEL : MB_LOG_TPM);
		mb_log_free(&log);
		free(rp);
		free(buf);
	}
}

/* Run the CLI in-process with stdout captured into a file; returns the exit code. */
static int run_cli(int (*fn)(int, char **), char **argv, int argc, char **out)
{
	char tmpl[] = "/tmp/test_eventlog_out_XXXXXX";
	int fd = mkstemp(tmpl), saved = dup(1), rc;
	uint8_t *data;
	size_t len;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stdout);
	dup2(fd, 1);
	rc = fn(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(fd);
	assert_int_equal(file_read(tmpl, 1 << 26, &data, &len), 0);
	unlink(tmpl);
	*out = (char *)data;
	return rc;
}

static void test_cli_replay_json(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char path[256], exp_path[256], *out;
		char *argv[] = { "eventlog", "replay", path, "--json" };
		json_t *got, *exp;
		json_error_t jerr;

		snprintf(path, sizeof(path), "tests/fixtures/eventlog/%s/log.bin", cases[i]);
		snprintf(exp_path, sizeof(exp_path), "tests/fixtures/eventlog/%s/expected.json", cases[i]);
		assert_int_equal(run_cli(mb_cli_eventlog, argv, 4, &out), 0);
		got = json_loads(out, 0, &jerr);
		exp = json_load_file(exp_path, 0, &jerr);
		assert_non_null(got);
		assert_true(json_equal(json_object_get(got, "registers"), json_object_get(exp, "registers")));
		assert_true(json_equal(json_object_get(got, "events"), json_object_get(exp, "events")));
		assert_int_equal(json_object_size(got), 2);
		json_decref(got);
		json_decref(exp);
		free(out);
	}
}

static void test_cli_show(void **state)
{
	char *out, *argv[] = { "eventlog", "show", "tests/fixtures/eventlog/ccel-grub/log.bin", "--json" };
	char *argv_text[] = { "eventlog", "show", "tests/fixtures/eventlog/tpm-arch-linux/log.bin" };
	json_error_t jerr;
	json_t *got, *ev;
	size_t i;
	bool saw_action = false;

	(void)state;
	assert_int_equal(run_cli(mb_cli_eventlog, argv, 4, &out), 0);
	got = json_loads(out, 0, &jerr);
	assert_non_null(got);
	assert_string_equal(json_string_value(json_object_get(got, "kind")), "ccel");
	assert_int_equal(json_array_size(json_object_get(got, "events")), 38);
	ev = json_array_get(json_object_get(got, "events"), 0);
	assert_string_equal(json_string_value(json_object_get(ev, "type")), "EV_NO_ACTION");
	assert_string_equal(json_string_value(json_object_get(json_object_get(ev, "data"), "signature")),
			    "Spec ID Event03");
	json_array_foreach(json_object_get(got, "events"), i, ev) {
		const char *t = json_string_value(json_object_get(json_object_get(ev, "data"), "text"));

		if (t && !strcmp(t, "Exit Boot Services Invocation")) {
			assert_string_equal(json_string_value(json_object_get(ev, "type")), "EV_EFI_ACTION");
			assert_string_equal(json_string_value(json_object_get(ev, "register")), "rtmr1");
			assert_true(json_is_true(json_object_get(ev, "digest_matches_data")));
			saw_action = true;
		}
	}
	assert_true(saw_action);
	json_decref(got);
	free(out);

	/* every fixture decodes to valid JSON with one entry per event */
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		char path[256], *o, *av[] = { "eventlog", "show", path, "--json" };
		json_t *j;

		snprintf(path, sizeof(path), "tests/fixtures/eventlog/%s/log.bin", cases[c]);
		assert_int_equal(run_cli(mb_cli_eventlog, av, 4, &o), 0);
		j = json_loads(o, 0, &jerr);
		assert_non_null(j);
		json_array_foreach(json_object_get(j, "events"), i, ev) {
			assert_int_equal(json_integer_value(json_object_get(ev, "number")), i);
			assert_true(json_object_get(ev, "data") || json_object_get(ev, "data_hex"));
		}
		assert_true(json_array_size(json_object_get(j, "events")) > 20);
		json_decref(j);
		free(o);
	}
	assert_int_equal(run_cli(mb_cli_eventlog, argv_text, 3, &out), 0);
	assert_non_null(strstr(out, "#3 pcr7 EV_EFI_VARIABLE_DRIVER_CONFIG"));
	assert_non_null(strstr(out, "\"name\":\"SecureBoot\""));
	assert_non_null(strstr(out, "#8 pcr7 EV_SEPARATOR"));
	free(out);
}

static void test_cli_kind_flags(void **state)
{
	char *out, *argv[] = { "eventlog", "replay", "tests/fixtures/eventlog/ccel-ovmf/log.bin", "--tpm" };
	char *bad[] = { "eventlog", "replay", "tests/fixtures/eventlog/ccel-ovmf/log.bin", "--tpm", "--ccel" };

	(void)state;
	/* forced TPM: the MR indexes are read as PCR 1..4 */
	assert_int_equal(run_cli(mb_cli_eventlog, argv, 4, &out), 0);
	assert_non_null(strstr(out, "pcr1 "));
	assert_null(strstr(out, "rtmr"));
	free(out);
	assert_int_equal(run_cli(mb_cli_eventlog, bad, 5, &out), 2);
	assert_string_equal(out, "");
	free(out);
}

/* ---- malformed logs: one-line error, exit 2, nothing on stdout ---- */
struct mutation {
	const char *name, *expect;
	void (*apply)(uint8_t *buf, size_t *len, const struct mb_log *good);
};

static void m_truncate(uint8_t *b, size_t *len, const struct mb_log *g)
{
	(void)b, (void)g;
	*len -= 10;
}
static void m_truncate_header(uint8_t *b, size_t *len, const struct mb_log *g)
{
	(void)b, (void)g;
	*len = 20;
}
static void m_spec_size(uint8_t *b, size_t *len, const struct mb_log *g)
{
	(void)len, (void)g;
	put_le16(b + 32 + 30, 31); /* digestSize of the first algorithm */
}
static void m_spec_alg(uint8_t *b, size_t *len, const struct mb_log *g)
{
	(void)len, (void)g;
	put_le16(b + 32 + 28, 0x0099);
}
static void m_spec_nalgs(uint8_t *b, size_t *len, const struct mb_log *g)
{
	(void)len, (void)g;
	put_le32(b + 32 + 24, 1000);
}
static void m_count(uint8_t *b, size_t *len, const struct mb_log *g)
{
	(void)len;
	put_le32(b + g->events[3].offset + 8, 2);
}
static void m_event_alg(uint8_t *b, size_t *len, const struct mb_log *g)
{
	(void)len;
	put_le16(b + g->events[3].offset + 12, 0x0099);
}
static void m_event_size(uint8_t *b, size_t *len, const struct mb_log *g)
{
	(void)len;
	put_le32(b + g->events[3].offset + 14 + 32, 0xFFFFFFFF);
}
static void m_event_size2(uint8_t *b, size_t *len, const struct mb_log *g)
{
	(void)len;
	put_le32(b + g->events[3].offset + 14 + 32, 0x7FFFFFF0);
}
static void m_header_size(uint8_t *b, size_t *len, const struct mb_log *g)
{
	(void)len, (void)g;
	put_le32(b + 28, 10); /* eventDataSize of the Spec ID event */
}
static void m_not_log(uint8_t *b, size_t *len, const struct mb_log *g)
{
	(void)g;
	memset(b, 0x41, *len);
}
static void m_empty(uint8_t *b, size_t *len, const struct mb_log *g)
{
	(void)b, (void)g;
	*len = 0;
}
static void m_stray(uint8_t *b, size_t *len, const struct mb_log *g)
{
	(void)g;
	b[*len] = 0x07; /* file_read leaves room for one more byte */
	*len += 1;
}

static const struct mutation mutations[] = {
	{ "truncated", "exceeds", m_truncate },
	{ "truncated header", "truncated", m_truncate_header },
	{ "bad digest size", "digest size 31", m_spec_size },
	{ "unknown algorithm in Spec ID", "unknown algorithm 0x0099", m_spec_alg },
	{ "too many algorithms", "numberOfAlgorithms 1000", m_spec_nalgs },
	{ "digest count mismatch", "digest count 2 exceeds the 1 algorithms", m_count },
	{ "unknown algorithm in event", "unknown algorithm 0x0099", m_event_alg },
	{ "event size overflow", "eventSize 4294967295 exceeds", m_event_size },
	{ "event size too large", "eventSize 2147483632 exceeds", m_event_size2 },
	{ "Spec ID event size", "eventDataSize 10 is too small", m_header_size },
	{ "not a log", "not a TCG event log", m_not_log },
	{ "empty", "empty file", m_empty },
	{ "stray bytes", "stray bytes", m_stray },
};

static void test_malformed(void **state)
{
	uint8_t *good, *bad;
	size_t len;
	struct mb_log glog, log;

	(void)state;
	load_case("tpm-sd-boot-fedora37", "log.bin", &good, &len);
	assert_int_equal(mb_log_parse(good, len, "good", MB_LOG_AUTO, &glog), 0);
	assert_int_equal(glog.nalgs, 1); /* the offsets below assume the SHA-256 bank only */
	for (size_t i = 0; i < ARRAY_SIZE(mutations); i++) {
		size_t blen = len;
		char path[] = "/tmp/test_eventlog_bad_XXXXXX", *out;
		char *argv[] = { "eventlog", "replay", path };
		int fd;

		bad = malloc(len + 1);
		memcpy(bad, good, len);
		mutations[i].apply(bad, &blen, &glog);
		err_clear();
		assert_true(mb_log_parse(bad, blen, "bad.bin", MB_LOG_AUTO, &log) < 0);
		if (!strstr(err_msg(), mutations[i].expect))
			fail_msg("%s: error '%s' does not say '%s'", mutations[i].name, err_msg(), mutations[i].expect);
		assert_null(strchr(err_msg(), '\n'));
		/* the CLI: exit 2, nothing on stdout */
		fd = mkstemp(path);
		assert_true(fd >= 0 && write(fd, bad, blen) == (ssize_t)blen);
		close(fd);
		assert_int_equal(run_cli(mb_cli_eventlog, argv, 3, &out), 2);
		assert_string_equal(out, "");
		free(out);
		unlink(path);
		free(bad);
	}
	mb_log_free(&glog);
	free(good);
}

/* Build a crypto-agile log by hand: Spec ID header with the given banks. */
static void put_header(struct bytebuf *b, const uint16_t *algs, unsigned n)
{
	uint8_t h[32 + 29 + 4 * 8];
	size_t dsize = 29 + 4 * n;

	memset(h, 0, sizeof(h));
	put_le32(h + 4, MB_EV_NO_ACTION);
	put_le32(h + 28, (uint32_t)dsize);
	memcpy(h + 32, "Spec ID Event03", 16);
	h[32 + 21] = 2;
	h[32 + 23] = 2;
	put_le32(h + 32 + 24, n);
	for (unsigned i = 0; i < n; i++) {
		put_le16(h + 32 + 28 + 4 * i, algs[i]);
		put_le16(h + 32 + 30 + 4 * i, mb_alg_size(algs[i]));
	}
	assert_int_equal(bb_append(b, h, 32 + dsize), 0);
}

static void put_event(struct bytebuf *b, uint32_t index, uint32_t type, const uint16_t *algs, unsigned n,
		      const uint8_t *fill, const void *data, uint32_t dlen)
{
	uint8_t w[12];

	put_le32(w, index);
	put_le32(w + 4, type);
	put_le32(w + 8, n);
	assert_int_equal(bb_append(b, w, 12), 0);
	for (unsigned i = 0; i < n; i++) {
		uint8_t a[2], d[MB_MAX_DIGEST];

		put_le16(a, algs[i]);
		memset(d, fill[i], sizeof(d));
		assert_int_equal(bb_append(b, a, 2), 0);
		assert_int_equal(bb_append(b, d, mb_alg_size(algs[i])), 0);
	}
	put_le32(w, dlen);
	assert_int_equal(bb_append(b, w, 4), 0);
	assert_int_equal(bb_append(b, data, dlen), 0);
}

static void extend(const EVP_MD *md, uint8_t *reg, size_t n, uint8_t fill)
{
	uint8_t buf[2 * MB_MAX_DIGEST];

	memcpy(buf, reg, n);
	memset(buf + n, fill, n);
	assert_true(EVP_Digest(buf, 2 * n, reg, NULL, md, NULL));
}

static void test_startup_locality(void **state)
{
	static const uint16_t algs[] = { MB_ALG_SHA1, MB_ALG_SHA256 };
	static const uint8_t loc[17] = "StartupLocality\0\3";
	const uint8_t fill[] = { 0x11, 0x22 }, fill2[] = { 0x33, 0x44 };
	struct bytebuf b = { 0 };
	struct mb_log log;
	struct mb_replay *rp = malloc(sizeof(*rp));
	uint8_t e1[20] = { 0 }, e256[32] = { 0 }, p5[32] = { 0 };

	(void)state;
	put_header(&b, algs, 2);
	put_event(&b, 0, MB_EV_NO_ACTION, algs, 2, (const uint8_t[]){ 0, 0 }, loc, sizeof(loc));
	put_event(&b, 0, MB_EV_S_CRTM_VERSION, algs, 2, fill, "v\0", 2);
	put_event(&b, 5, MB_EV_SEPARATOR, algs, 2, fill2, "\0\0\0\0", 4);
	/* an EV_NO_ACTION in PCR 5 is not extended */
	put_event(&b, 5, MB_EV_NO_ACTION, algs, 2, fill, "x", 1);
	assert_int_equal(mb_log_parse(b.data, b.len, "synthetic", MB_LOG_AUTO, &log), 0);
	assert_int_equal(log.kind, MB_LOG_TPM);
	assert_true(log.has_locality);
	assert_int_equal(log.startup_locality, 3);
	assert_int_equal(mb_replay(&log, rp), 0);
	assert_int_equal(rp->nevents, 5);
	assert_int_equal(rp->touched, (1u << 0) | (1u << 5));
	e1[19] = 3, e256[31] = 3; /* PFP 10.4.5.3: PCR0 starts at the locality */
	extend(EVP_sha1(), e1, 20, 0x11);
	extend(EVP_sha256(), e256, 32, 0x22);
	extend(EVP_sha256(), p5, 32, 0x44);
	assert_memory_equal(mb_replay_reg(rp, MB_ALG_SHA1, 0), e1, 20);
	assert_memory_equal(mb_replay_reg(rp, MB_ALG_SHA256, 0), e256, 32);
	assert_memory_equal(mb_replay_reg(rp, MB_ALG_SHA256, 5), p5, 32);
	assert_null(mb_replay_reg(rp, MB_ALG_SHA384, 0));
	mb_log_free(&log);

	/* CCEL: an MR index outside 1..4 is refused at replay */
	bb_free(&b);
	put_header(&b, (const uint16_t[]){ MB_ALG_SHA384 }, 1);
	put_event(&b, 7, MB_EV_SEPARATOR, (const uint16_t[]){ MB_ALG_SHA384 }, 1, fill, "\0\0\0\0", 4);
	assert_int_equal(mb_log_parse(b.data, b.len, "ccel", MB_LOG_AUTO, &log), 0);
	assert_int_equal(log.kind, MB_LOG_CCEL);
	assert_int_equal(mb_replay(&log, rp), -EINVAL);
	assert_non_null(strstr(err_msg(), "MR index 7"));
	mb_log_free(&log);
	/* 0xFF fill after the last event ends a CCEL; the same bytes mid-record do not */
	for (int i = 0; i < 100; i++)
		bb_append(&b, "\xff", 1);
	assert_int_equal(mb_log_parse(b.data, b.len, "ccel", MB_LOG_AUTO, &log), 0);
	assert_int_equal(log.nevents, 2);
	mb_log_free(&log);
	bb_free(&b);
	free(rp);
}

/* Logs tpm2_eventlog also reads: SHA-1-only (no Spec ID event), events with
 * a subset of the banks, an H-CRTM event; and CCEL detection by MR index. */
static void test_log_variants(void **state)
{
	static const uint16_t algs[] = { MB_ALG_SHA1, MB_ALG_SHA256, MB_ALG_SHA384 };
	const uint8_t fill[] = { 0x11, 0x22, 0x33 };
	struct bytebuf b = { 0 };
	struct mb_log log;
	struct mb_replay *rp = malloc(sizeof(*rp));
	uint8_t p0[20] = { 0 }, p4[32] = { 0 }, rec[32];
	char *json;

	(void)state;
	/* legacy: TCG_PCClientPCREvent records only */
	for (int i = 0; i < 2; i++) {
		memset(rec, 0, sizeof(rec));
		put_le32(rec, 0);
		put_le32(rec + 4, i ? MB_EV_SEPARATOR : MB_EV_S_CRTM_VERSION);
		memset(rec + 8, 0x11 * (i + 1), 20);
		put_le32(rec + 28, 0);
		assert_int_equal(bb_append(&b, rec, 32), 0);
	}
	assert_int_equal(mb_log_parse(b.data, b.len, "sha1.log", MB_LOG_AUTO, &log), 0);
	assert_true(log.legacy);
	assert_int_equal(log.kind, MB_LOG_TPM);
	assert_int_equal(mb_replay(&log, rp), 0);
	assert_int_equal(rp->nevents, 2);
	extend(EVP_sha1(), p0, 20, 0x11);
	extend(EVP_sha1(), p0, 20, 0x22);
	assert_memory_equal(mb_replay_reg(rp, MB_ALG_SHA1, 0), p0, 20);
	mb_log_free(&log);
	bb_free(&b);

	/* three banks in the header, an event with only SHA-1 + SHA-256, an H-CRTM event */
	put_header(&b, algs, 3);
	put_event(&b, 0, 0x80000010, algs, 3, fill, "HCRTM", 5);
	put_event(&b, 4, MB_EV_SEPARATOR, algs, 2, fill, "\0\0\0\0", 4);
	assert_int_equal(mb_log_parse(b.data, b.len, "subset.log", MB_LOG_AUTO, &log), 0);
	assert_true(log.has_hcrtm);
	assert_int_equal(mb_replay(&log, rp), 0);
	memset(p0, 0, sizeof(p0));
	p0[19] = 4; /* H-CRTM: PCR0 starts at 4 (TPM 2.0 Part 1 34.3) */
	extend(EVP_sha1(), p0, 20, 0x11);
	assert_memory_equal(mb_replay_reg(rp, MB_ALG_SHA1, 0), p0, 20);
	extend(EVP_sha256(), p4, 32, 0x22);
	assert_memory_equal(mb_replay_reg(rp, MB_ALG_SHA256, 4), p4, 32);
	/* pcr4 lists only the banks it was extended in */
	json = mb_replay_json(rp);
	assert_non_null(strstr(json, "\"pcr4\": {\n      \"sha1\""));
	assert_null(strstr(strstr(json, "\"pcr4\""), "sha384"));
	free(json);
	mb_log_free(&log);
	bb_free(&b);

	/* Spec ID event in MR index 1 (TDVF): a CCEL whatever the bank */
	put_header(&b, (const uint16_t[]){ 0x0012 }, 1);
	put_le32(b.data, 1);
	put_event(&b, 2, MB_EV_SEPARATOR, (const uint16_t[]){ 0x0012 }, 1, fill, "\0\0\0\0", 4);
	assert_int_equal(mb_log_parse(b.data, b.len, "csv.log", MB_LOG_AUTO, &log), 0);
	assert_int_equal(log.kind, MB_LOG_CCEL);
	mb_log_free(&log);
	assert_int_equal(mb_log_parse(b.data, b.len, "csv.log", MB_LOG_TPM, &log), 0);
	assert_int_equal(log.kind, MB_LOG_TPM);
	mb_log_free(&log);
	bb_free(&b);
	free(rp);
}

static void test_ccel_check(void **state)
{
	uint8_t *buf, rtmr[4][48];
	size_t len;
	char detail[512];

	(void)state;
	load_case("ccel-grub", "log.bin", &buf, &len);
	memset(rtmr, 0, sizeof(rtmr));
	assert_int_equal(hex_decode_exact("cec0a104f691f60da2387fea3c2de00c4ac035e2bb479ff02edcce69039d9e9907f0b3e550"
					  "31da3dc7038f423adebd79", rtmr[0], 48, "r0"), 0);
	assert_int_equal(hex_decode_exact("6c289e0c62182d41ebe97bdbc9872d10998a08eaa86adcdc684001a363207ee72942c7522c"
					  "df00a4bbc3d784bed7b670", rtmr[1], 48, "r1"), 0);
	assert_int_equal(hex_decode_exact("08919d017ba0e52cd6d966351c7de16fe76c1d3d3d3da4554239e4c7d16cb8b82a94e7eaea"
					  "3a0e6e18eb690b999fd31e", rtmr[2], 48, "r2"), 0);
	assert_int_equal(mb_ccel_check_rtmrs(buf, len, (const uint8_t(*)[48])rtmr, detail, sizeof(detail)), 0);
	rtmr[1][5] ^= 1;
	assert_int_equal(mb_ccel_check_rtmrs(buf, len, (const uint8_t(*)[48])rtmr, detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "rtmr1"));
	rtmr[1][5] ^= 1;
	rtmr[3][0] = 1; /* RTMR3 is untouched by the log: must be zero */
	assert_int_equal(mb_ccel_check_rtmrs(buf, len, (const uint8_t(*)[48])rtmr, detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "rtmr3"));
	assert_true(mb_ccel_check_rtmrs(buf, 100, (const uint8_t(*)[48])rtmr, detail, sizeof(detail)) < 0);
	free(buf);
}

static void test_launch_log(void **state)
{
	const uint8_t d1[48] = { 1, 2, 3 }, d2[32] = { 9 };
	uint8_t *ev1, *ev2, *log1, *log2, pcr[32] = { 0 }, h[32], buf[64];
	size_t l1, l2, n1, n2;
	struct mb_log log;
	struct mb_replay *rp = malloc(sizeof(*rp));
	uint8_t *fixture;
	size_t flen;
	char *json;

	(void)state;
	assert_int_equal(mb_launch_event_data(d1, sizeof(d1), "tenant-a plan", &ev1, &l1), 0);
	assert_int_equal(mb_launch_event_data(d2, sizeof(d2), "", &ev2, &l2), 0);
	assert_int_equal(mb_log_append_launch(NULL, 0, "launch.log", 15, ev1, l1, &log1, &n1), 0);
	assert_int_equal(mb_log_append_launch(log1, n1, "launch.log", 15, ev2, l2, &log2, &n2), 0);
	free(log1);
	assert_int_equal(mb_log_parse(log2, n2, "launch.log", MB_LOG_AUTO, &log), 0);
	assert_int_equal(log.nevents, 3);
	assert_int_equal(log.events[1].type, MB_EV_EVENT_TAG);
	assert_int_equal(log.events[2].index, 15);
	assert_int_equal(mb_replay(&log, rp), 0);
	assert_int_equal(rp->touched, 1u << 15);
	/* PCR15 = H(H(0 || H(ev1)) || H(ev2)) */
	assert_true(EVP_Digest(ev1, l1, h, NULL, EVP_sha256(), NULL));
	memcpy(buf, pcr, 32), memcpy(buf + 32, h, 32);
	assert_true(EVP_Digest(buf, 64, pcr, NULL, EVP_sha256(), NULL));
	assert_true(EVP_Digest(ev2, l2, h, NULL, EVP_sha256(), NULL));
	memcpy(buf, pcr, 32), memcpy(buf + 32, h, 32);
	assert_true(EVP_Digest(buf, 64, pcr, NULL, EVP_sha256(), NULL));
	assert_memory_equal(mb_replay_reg(rp, MB_ALG_SHA256, 15), pcr, 32);
	assert_int_equal(mb_launch_log_count(&log, d1, sizeof(d1)), 1);
	assert_int_equal(mb_launch_log_count(&log, d2, sizeof(d2)), 1);
	assert_int_equal(mb_launch_log_count(&log, d1, 32), 0); /* same prefix, other length */
	json = mb_log_json(&log);
	assert_non_null(strstr(json, "\"description\": \"tenant-a plan\""));
	assert_non_null(strstr(json, "\"plan_digest\": \"010203000000"));
	assert_non_null(strstr(json, "\"digest_matches_data\": true"));
	free(json);
	mb_log_free(&log);
	/* a foreign log (several banks) is not appended to */
	load_case("tpm-arch-linux", "log.bin", &fixture, &flen);
	assert_true(mb_log_append_launch(fixture, flen, "arch.log", 15, ev1, l1, &log1 /* unused */, &n1) < 0);
	assert_non_null(strstr(err_msg(), "not a cvmm launch log"));
	free(fixture);
	assert_true(mb_launch_event_data(d1, 0, "x", &ev1, &l1) < 0);
	assert_true(mb_log_append_launch(NULL, 0, "x", 24, ev2, l2, &log1, &n1) < 0);
	free(ev1), free(ev2), free(log2), free(rp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures_replay), cmocka_unit_test(test_cli_replay_json),
		cmocka_unit_test(test_cli_show),	cmocka_unit_test(test_cli_kind_flags),
		cmocka_unit_test(test_malformed),	cmocka_unit_test(test_startup_locality),
		cmocka_unit_test(test_ccel_check),	cmocka_unit_test(test_launch_log),
		cmocka_unit_test(test_log_variants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
