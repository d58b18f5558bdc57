/* devices.c - evidence through the older guest driver ioctls, for kernels
 * without configfs-tsm:
 *  - /dev/sev-guest SNP_GET_REPORT / SNP_GET_EXT_REPORT (linux/sev-guest.h,
 *    Documentation/virt/coco/sev-guest.rst): the PSP's MSG_REPORT_RSP,
 *    which wraps the 1184-byte ATTESTATION_REPORT;
 *  - /dev/tdx_guest TDX_CMD_GET_REPORT0 (linux/tdx-guest.h): the 1024-byte
 *    TDREPORT_STRUCT. A TDREPORT is MAC'ed for the local platform only; a
 *    remote verifier needs the quote (configfs-tsm with a quoting service).
 * Structures are cvmm's checked copies (sev/sev_uapi.h, tdx/tdx_uapi.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "attestation/agent/agent.h"
#include "sev/sev_uapi.h"
#include "tdx/tdx_uapi.h"

/* The sev-guest driver takes at most SEV_FW_BLOB_SIZE (16 KiB) of
 * certificates, page-aligned (drivers/virt/coco/sev-guest). */
#define SNP_CERTS_INITIAL 0x4000u
#define SNP_PAGE          4096u
#define SNP_CERT_ENTRY    24 /* GUID, offset, length; an all-zero entry ends the table */

void agent_evidence_free(struct agent_evidence *ev)
{
	bb_free(&ev->report);
	bb_free(&ev->certs);
	bb_free(&ev->event_log);
}

static int open_dev(const char *dev)
{
	int fd = open(dev, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return err_set(errno, "%s: %s", dev, strerror(errno));
	return fd;
}

static int snp_ioctl_error(const char *dev, const char *what, const struct snp_guest_request_ioctl *g, int e)
{
	return err_set(e, "%s: %s failed: %s (firmware error 0x%x, VMM error 0x%x)", dev, what, strerror(e),
		       g->fw_error, g->vmm_error);
}

int agent_sev_guest_report(const char *dev, const struct agent_req *req, struct agent_evidence *ev)
{
	struct snp_ext_report_req ext = { 0 };
	struct snp_report_resp *resp;
	struct snp_guest_request_ioctl g;
	uint8_t *certs = NULL;
	int fd, ret = 0;

	if (req->have_privlevel && req->privlevel > 3)
		return err_set(EINVAL, "--privlevel: %u is not a VMPL (0..3)", req->privlevel);
	resp = calloc(1, sizeof(*resp));
	if (!resp)
		return err_set(ENOMEM, "%s: out of memory", dev);
	if ((fd = open_dev(dev)) < 0) {
		free(resp);
		return fd;
	}
	snprintf(ev->provider, sizeof(ev->provider), "sev_guest");
	memcpy(ext.data.user_data, req->report_data, sizeof(ext.data.user_data));
	ext.data.vmpl = req->have_privlevel ? req->privlevel : 0;
	if (!req->want_certs) {
		g = (struct snp_guest_request_ioctl){ .msg_version = 1, .req_data = (uintptr_t)&ext.data,
						      .resp_data = (uintptr_t)resp };
		if (ioctl(fd, SNP_GET_REPORT, &g))
			ret = snp_ioctl_error(dev, "SNP_GET_REPORT", &g, errno);
	} else {
		/* The certificate table's size is the host's choice: on
		 * SNP_GUEST_VMM_ERR_INVALID_LEN the kernel returns the size it
		 * needs in certs_len; ask once more with that. */
		for (uint32_t cap = SNP_CERTS_INITIAL, tries = 0;; tries++) {
			free(certs);
			certs = calloc(1, cap);
			if (!certs) {
				ret = err_set(ENOMEM, "%s: out of memory", dev);
				break;
			}
			ext.certs_address = (uintptr_t)certs;
			ext.certs_len = cap;
			g = (struct snp_guest_request_ioctl){ .msg_version = 1, .req_data = (uintptr_t)&ext,
							      .resp_data = (uintptr_t)resp };
			if (!ioctl(fd, SNP_GET_EXT_REPORT, &g)) {
				static const uint8_t none[SNP_CERT_ENTRY];

				if (!memcmp(certs, none, sizeof(none)))
					ret = err_set(ENOENT, "%s: SNP_GET_EXT_REPORT: the host supplied no certificates",
						      dev);
				else if (bb_append(&ev->certs, certs, cap))
					ret = err_set(ENOMEM, "%s: out of memory", dev);
				break;
			}
			/* Too small: the driver reports the size it needs. */
			if (g.vmm_error == SNP_GUEST_VMM_ERR_INVALID_LEN && !tries && ext.certs_len > cap &&
			    ext.certs_len <= AGENT_BLOB_MAX) {
				cap = (ext.certs_len + SNP_PAGE - 1) / SNP_PAGE * SNP_PAGE;
				continue;
			}
			ret = snp_ioctl_error(dev, "SNP_GET_EXT_REPORT", &g, errno);
			break;
		}
	}
	close(fd);
	free(certs);
	if (!ret)
		ret = agent_snp_unwrap(dev, resp->data, sizeof(resp->data), &ev->report);
	free(resp);
	return ret;
}

int agent_tdx_guest_report(const char *dev, const struct agent_req *req, struct agent_evidence *ev)
{
	struct tdx_report_req tr = { 0 };
	int fd, ret = 0;

	if (req->have_privlevel)
		return err_set(EINVAL, "--privlevel: %s has no privilege levels (SNP only)", dev);
	if (req->want_certs)
		return err_set(EINVAL, "--certs-out: %s returns no certificates (SNP only)", dev);
	if ((fd = open_dev(dev)) < 0)
		return fd;
	snprintf(ev->provider, sizeof(ev->provider), "tdx_guest");
	memcpy(tr.reportdata, req->report_data, sizeof(tr.reportdata));
	if (ioctl(fd, TDX_CMD_GET_REPORT0, &tr))
		ret = err_set(errno, "%s: TDX_CMD_GET_REPORT0 failed: %s", dev, strerror(errno));
	close(fd);
	if (!ret && bb_append(&ev->report, tr.tdreport, sizeof(tr.tdreport)))
		ret = err_set(ENOMEM, "%s: out of memory", dev);
	return ret;
}
