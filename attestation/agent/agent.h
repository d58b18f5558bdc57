/* agent.h - internal interface of cvmm-agent, the guest-side program that
 * asks the hardware for evidence (docs/agent.md). Agent-only: these files
 * are linked into the static cvmm-agent, not into libcvmm.a (Makefile).
 *
 * A provider takes the 64-byte report_data (SHA-512 of the relying party's
 * nonce, see att_nonce_report_data) and returns the evidence bytes exactly
 * as the kernel gave them: an SNP ATTESTATION_REPORT or a TDX quote via
 * configfs-tsm, an SNP report via /dev/sev-guest, a TDREPORT via
 * /dev/tdx_guest; and, when the platform supplies it, the SNP certificate
 * table (GUID table of VCEK/VLEK/ASK/ARK). */
#ifndef CVMM_AGENT_AGENT_H
#define CVMM_AGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/common.h"

#define AGENT_TSM_ROOT   "/sys/kernel/config/tsm"
#define AGENT_SEV_GUEST  "/dev/sev-guest"
#define AGENT_TDX_GUEST  "/dev/tdx_guest"
#define AGENT_BLOB_MAX   (4u << 20) /* outblob/auxblob: quotes and cert tables are a few KiB */

struct agent_req {
	uint8_t report_data[64];
	bool have_privlevel;
	unsigned int privlevel; /* SNP VMPL (configfs privlevel / MSG_REPORT_REQ.VMPL) */
	bool want_certs;        /* also return the SNP certificate table */
	const char *tsm_root;   /* configfs-tsm mount, e.g. AGENT_TSM_ROOT */
	const char *tsm_entry;  /* existing report entry to use (no mkdir/rmdir), or NULL */
};

struct agent_evidence {
	struct bytebuf report; /* outblob / SNP report / TDREPORT */
	struct bytebuf certs;  /* auxblob / SNP_GET_EXT_REPORT certificate table */
	struct bytebuf event_log; /* sim-tdx: the CCEL of the RTMR extensions */
	char provider[64];     /* configfs "provider", or the device's name */
};

void agent_evidence_free(struct agent_evidence *ev);

/* configfs-tsm (Documentation/ABI/testing/configfs-tsm-report). */
int agent_configfs_present(const char *tsm_root);
int agent_configfs_report(const struct agent_req *req, struct agent_evidence *ev);

/* /dev/sev-guest SNP_GET_REPORT / SNP_GET_EXT_REPORT (linux/sev-guest.h). */
int agent_sev_guest_report(const char *dev, const struct agent_req *req, struct agent_evidence *ev);
/* The report inside MSG_REPORT_RSP (snp_rsp.c); what names the source. */
int agent_snp_unwrap(const char *what, const uint8_t *rsp, size_t len, struct bytebuf *report);

/* /dev/tdx_guest TDX_CMD_GET_REPORT0 (linux/tdx-guest.h). */
int agent_tdx_guest_report(const char *dev, const struct agent_req *req, struct agent_evidence *ev);

#endif
