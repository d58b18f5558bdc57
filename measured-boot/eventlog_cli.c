/* eventlog_cli.c - `cvmm eventlog show|replay FILE [--json] [--tpm|--ccel]`.
 * Output is built completely before anything is printed, so an error never
 * leaves partial output on stdout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "mb_internal.h"

static const char usage_text[] =
	"usage: cvmm eventlog show FILE [--json] [--tpm|--ccel]\n"
	"       cvmm eventlog replay FILE [--json] [--tpm|--ccel]\n"
	"\n"
	"show    decode every event (TCG PC Client crypto-agile log or CCEL)\n"
	"replay  extend the events into PCR / RTMR values\n"
	"  --json   machine-readable output\n"
	"  --tpm    treat FILE as a TPM PC Client log (PCR index)\n"
	"  --ccel   treat FILE as a CCEL (MR index 1..4 = RTMR0..3)\n"
	"Without --tpm/--ccel the kind is detected: CCEL when SHA-384 is the only bank.\n";

static int show_text(const struct mb_log *log, struct bytebuf *out)
{
	int ret = bb_printf(out, "kind: %s\n", log->kind == MB_LOG_CCEL ? "ccel" : "tpm");

	for (size_t i = 0; i < log->nevents && !ret; i++) {
		json_t *ev = mb_event_json(log, i), *data = json_object_get(ev, "data");
		char *d = data ? json_dumps(data, JSON_COMPACT) : NULL;
		const char *hex = json_string_value(json_object_get(ev, "data_hex"));

		ret = bb_printf(out, "#%zu %s %s size=%u\n", i, json_string_value(json_object_get(ev, "register")),
				json_string_value(json_object_get(ev, "type")), log->events[i].data_len);
		for (uint32_t k = 0; k < log->events[i].ndigests && !ret; k++) {
			const struct mb_digest *dg = &log->events[i].digests[k];
			char h[2 * MB_MAX_DIGEST + 1];

			hex_encode(dg->bytes, dg->size, h);
			ret = bb_printf(out, "  %-7s %s\n", mb_alg_name(dg->alg), h);
		}
		if (!ret && d)
			ret = bb_printf(out, "  data    %.200s%s\n", d, strlen(d) > 200 ? "..." : "");
		else if (!ret && hex && *hex)
			ret = bb_printf(out, "  data    %.160s%s\n", hex, strlen(hex) > 160 ? "..." : "");
		free(d);
		json_decref(ev);
	}
	return ret ? err_set(ENOMEM, "out of memory") : 0;
}

static int replay_text(const struct mb_replay *rp, struct bytebuf *out)
{
	int ret = 0;

	for (unsigned r = 0; r < MB_PCRS && !ret; r++) {
		if (!(rp->touched & (1u << r)))
			continue;
		for (uint32_t b = 0; b < rp->nbanks && !ret; b++) {
			char h[2 * MB_MAX_DIGEST + 1];

			if (!(rp->banks[b].touched & (1u << r)))
				continue;
			hex_encode(rp->banks[b].reg[r], rp->banks[b].size, h);
			ret = bb_printf(out, "%s%-2u %-7s %s\n", rp->kind == MB_LOG_CCEL ? "rtmr" : "pcr", r,
					mb_alg_name(rp->banks[b].alg), h);
		}
	}
	if (!ret)
		ret = bb_printf(out, "events: %zu\n", rp->nevents);
	return ret ? err_set(ENOMEM, "out of memory") : 0;
}

static int run(const char *cmd, const char *path, bool json, enum mb_log_kind kind, struct bytebuf *out)
{
	struct mb_log log;
	struct mb_replay *rp = NULL;
	uint8_t *buf;
	size_t len;
	char *text = NULL;
	int ret;

	if ((ret = file_read(path, MB_LOG_MAX, &buf, &len)))
		return ret;
	if ((ret = mb_log_parse(buf, len, path, kind, &log)))
		goto out_buf;
	if (!strcmp(cmd, "show")) {
		if (json && !(text = mb_log_json(&log)))
			ret = err_set(ENOMEM, "out of memory");
		else if (!json)
			ret = show_text(&log, out);
	} else {
		if (!(rp = malloc(sizeof(*rp)))) {
			ret = err_set(ENOMEM, "out of memory");
		} else if (!(ret = mb_replay(&log, rp))) {
			if (json && !(text = mb_replay_json(rp)))
				ret = err_set(ENOMEM, "out of memory");
			else if (!json)
				ret = replay_text(rp, out);
		}
	}
	if (!ret && text && (bb_append(out, text, strlen(text)) || bb_append(out, "\n", 1)))
		ret = err_set(ENOMEM, "out of memory");
	free(text);
	free(rp);
	mb_log_free(&log);
out_buf:
	free(buf);
	return ret;
}

int mb_cli_eventlog(int argc, char **argv)
{
	enum mb_log_kind kind = MB_LOG_AUTO;
	const char *cmd = NULL, *path = NULL;
	struct bytebuf out = { 0 };
	bool json = false;
	int ret;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage_text, stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--tpm") || !strcmp(a, "--ccel")) {
			enum mb_log_kind k = a[2] == 't' ? MB_LOG_TPM : MB_LOG_CCEL;

			if (kind != MB_LOG_AUTO && kind != k) {
				fprintf(stderr, "cvmm eventlog: --tpm and --ccel exclude each other\n");
				return 2;
			}
			kind = k;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "cvmm eventlog: unknown option '%s'\n%s", a, usage_text);
			return 2;
		} else if (!cmd) {
			cmd = a;
		} else if (!path) {
			path = a;
		} else {
			fprintf(stderr, "cvmm eventlog: unexpected argument '%s'\n", a);
			return 2;
		}
	}
	if (!cmd || (strcmp(cmd, "show") && strcmp(cmd, "replay")) || !path) {
		fprintf(stderr, "cvmm eventlog: %s\n%s", !cmd ? "missing subcommand (show or replay)"
				: (strcmp(cmd, "show") && strcmp(cmd, "replay")) ? "unknown subcommand (show or replay)"
										       : "missing FILE", usage_text);
		return 2;
	}
	err_clear();
	if ((ret = run(cmd, path, json, kind, &out))) {
		fprintf(stderr, "cvmm eventlog: %s\n", err_msg());
		bb_free(&out);
		return 2;
	}
	fwrite(out.data, 1, out.len, stdout);
	fflush(stdout);
	bb_free(&out);
	return 0;
}
