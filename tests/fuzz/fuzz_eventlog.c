/* libFuzzer target: the TCG event log parser (TPM PC Client and CCEL),
 * replay, the per-type event decoders (through the JSON of `eventlog show`),
 * the replay JSON, the CCEL check used by `cvmm verify`, and appending a
 * launch event to a log. Any input must give 0 or -errno, never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "measured-boot/measured_boot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mb_replay rp;
	static const uint8_t rtmr[4][48];
	static const uint8_t ev[] = { 'C', 'V', 'M', 'M', 3, 0, 0, 0, 1, 0, 0x42 };
	struct mb_log log;
	uint8_t *out;
	size_t out_len;
	char detail[256], *text;

	for (int kind = MB_LOG_AUTO; kind <= MB_LOG_CCEL; kind++) {
		if (mb_log_parse(data, size, "fuzz", (enum mb_log_kind)kind, &log))
			continue;
		if ((text = mb_log_json(&log)))
			free(text);
		if (!mb_replay(&log, &rp) && (text = mb_replay_json(&rp)))
			free(text);
		mb_log_free(&log);
	}
	mb_ccel_check_rtmrs(data, size, rtmr, detail, sizeof(detail));
	if (!mb_log_append_launch(data, size, "fuzz", 15, ev, sizeof(ev), &out, &out_len))
		free(out);
	return 0;
}
