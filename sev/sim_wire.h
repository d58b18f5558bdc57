/* sim_wire.h - the sim channel's wire format (docs/sim-channel.md): how a
 * guest asks the sim-snp secure processor for a report. Depends only on
 * common/, so the static guest agent links sim_wire.c as it is.
 *   header:  u32le magic 0x50535643 ("CVSP") | u16le version 1 | u16le type | u32le length
 *   type 1 REPORT_REQ, 2 EXT_REPORT_REQ: payload = MSG_REPORT_REQ (SNP ABI
 *     Table 20): REPORT_DATA[64] | u32 VMPL | u32 KEY_SEL (bits 1:0) | 24 reserved = 96 bytes
 *   type 0x81 / 0x82 response: MSG_REPORT_RSP (SNP ABI Table 25): u32 STATUS |
 *     u32 REPORT_SIZE | 24 reserved | REPORT[REPORT_SIZE]; 0x82 then carries
 *     u32le cert table length | the table. STATUS != 0: REPORT_SIZE 0 (and
 *     for 0x82 a zero table length). */
#ifndef CVMM_SEV_SIM_WIRE_H
#define CVMM_SEV_SIM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

#define SNP_SIM_MAGIC        0x50535643u
#define SNP_SIM_VERSION      1
#define SNP_SIM_HDR_LEN      12
#define SNP_SIM_REQ_PAYLOAD  96
#define SNP_SIM_REQ_LEN      (SNP_SIM_HDR_LEN + SNP_SIM_REQ_PAYLOAD)
#define SNP_SIM_REPORT_LEN   0x4A0
#define SNP_SIM_RSP_HDR      0x20    /* MSG_REPORT_RSP before REPORT */
#define SNP_SIM_PAYLOAD_MAX  (1u << 20)

enum snp_sim_type {
	SNP_SIM_REPORT_REQ = 1,
	SNP_SIM_EXT_REPORT_REQ = 2,
	SNP_SIM_REPORT_RSP = 0x81,
	SNP_SIM_EXT_REPORT_RSP = 0x82,
};

/* Firmware status codes the sim answers with (SEV API "Status Codes"). */
#define SNP_SIM_STATUS_OK                  0x00
#define SNP_SIM_STATUS_INVALID_GUEST_STATE 0x02 /* no launch yet */
#define SNP_SIM_STATUS_INVALID_PARAM       0x16

/* A header: magic, version, length <= SNP_SIM_PAYLOAD_MAX, any type (the
 * sim-tdx messages share the framing: tdx/sim_wire.h). */
int snp_sim_frame_parse(const uint8_t *buf, size_t len, const char *what, uint16_t *type, uint32_t *payload_len);
/* The same, and the type one of the SNP messages. */
int snp_sim_hdr_parse(const uint8_t *buf, size_t len, const char *what, uint16_t *type, uint32_t *payload_len);
void snp_sim_hdr_put(uint8_t out[SNP_SIM_HDR_LEN], uint16_t type, uint32_t payload_len);
/* A MSG_REPORT_REQ payload: exactly 96 bytes, VMPL <= 3, KEY_SEL 0 (any)
 * or 1 (VCEK), reserved bits and bytes zero. */
int snp_sim_req_parse(const uint8_t *payload, size_t len, const char *what, uint8_t report_data[64],
		      uint32_t *vmpl);
/* Encode a whole request (header + payload), KEY_SEL 0. */
int snp_sim_req_encode(uint8_t out[SNP_SIM_REQ_LEN], const uint8_t report_data[64], uint32_t vmpl, bool ext);
/* Encode a whole response into b; report NULL (or status != 0) gives REPORT_SIZE 0. */
int snp_sim_rsp_encode(struct bytebuf *b, bool ext, uint32_t status, const uint8_t *report, const uint8_t *certs,
		       size_t certs_len);
/* Parse a whole response (header + payload): a non-zero STATUS is an error
 * naming it. *report points at the 1184-byte report, *certs at the table
 * (NULL, 0 for a 0x81 response); both point into buf. */
int snp_sim_rsp_parse(const uint8_t *buf, size_t len, const char *what, const uint8_t **report, size_t *report_len,
		      const uint8_t **certs, size_t *certs_len);

#endif
