/* snp_rsp.c - unwrap the PSP's MSG_REPORT_RSP that /dev/sev-guest returns
 * (SNP ABI 56860, "MSG_REPORT_RSP Message Structure"):
 *   0x00 STATUS       u32, 0 = success
 *   0x04 REPORT_SIZE  u32, 1184 for the ATTESTATION_REPORT
 *   0x08 reserved     24 bytes
 *   0x20 REPORT       REPORT_SIZE bytes
 * The bytes come from the host-visible request path, so they are parsed with
 * the bounds-checked reader (tests/fuzz/fuzz_agent_snp_rsp.c). */
#include <errno.h>

#include "attestation/agent/agent.h"
#include "attestation/snp_report.h" /* SNP_REPORT_SIZE */

#define SNP_RSP_HDR 0x20

int agent_snp_unwrap(const char *what, const uint8_t *rsp, size_t len, struct bytebuf *report)
{
	struct reader r;
	uint32_t status, size;
	const uint8_t *p;

	rd_init(&r, rsp, len, what);
	if (rd_u32(&r, "MSG_REPORT_RSP.STATUS", &status) || rd_u32(&r, "MSG_REPORT_RSP.REPORT_SIZE", &size) ||
	    rd_seek(&r, "MSG_REPORT_RSP.REPORT", SNP_RSP_HDR))
		return -EIO;
	if (status)
		return err_set(EIO, "%s: MSG_REPORT_RSP.STATUS 0x%x (firmware refused the request)", what, status);
	if (size != SNP_REPORT_SIZE)
		return err_set(EIO, "%s: MSG_REPORT_RSP.REPORT_SIZE %u, expected %u", what, size, SNP_REPORT_SIZE);
	if (rd_ptr(&r, "MSG_REPORT_RSP.REPORT", size, &p))
		return -EIO;
	if (bb_append(report, p, size))
		return err_set(ENOMEM, "%s: out of memory", what);
	return 0;
}
