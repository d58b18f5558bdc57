/* sim_wire.h - the sim channel's TDX messages (docs/sim-tdx.md): how a
 * guest asks the sim-tdx TDX module for a TD quote and extends its RTMRs.
 * The framing is the sim channel's (sev/sim_wire.h: u32le magic "CVSP" |
 * u16le version 1 | u16le type | u32le length | payload); these types are
 * added to it. Depends only on common/ and sev/sim_wire.c, so the static
 * guest agent links it.
 *   0x10 TDX_QUOTE_REQ      REPORTDATA[64]
 *   0x90 TDX_QUOTE_RSP      u32 STATUS | u32 QUOTE_SIZE | u32 CCEL_SIZE | 20 reserved |
 *                           QUOTE[QUOTE_SIZE] | CCEL[CCEL_SIZE] (the RTMR event log)
 *   0x11 TDX_RTMR_EXTEND_REQ u32 INDEX (2 or 3) | DIGEST[48] | u32 EVENT_SIZE | EVENT (<= 64 KiB)
 *   0x91 TDX_RTMR_EXTEND_RSP u32 STATUS | u32 INDEX | RTMR[48] (the new value)
 *   0x8F PLATFORM_RSP       u32 PLATFORM (2 = TDX): the answer of a sim-tdx
 *                           channel to an SNP request (types 1, 2), so a
 *                           client finds out which platform it talks to
 * STATUS: 0 success, 0x02 no TD launched yet, 0x16 invalid parameters; with
 * a non-zero STATUS the sizes are 0 (and RTMR zero). */
#ifndef CVMM_TDX_SIM_WIRE_H
#define CVMM_TDX_SIM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "sev/sim_wire.h"

enum tdx_sim_type {
	TDX_SIM_QUOTE_REQ = 0x10,
	TDX_SIM_EXTEND_REQ = 0x11,
	TDX_SIM_PLATFORM_RSP = 0x8f,
	TDX_SIM_QUOTE_RSP = 0x90,
	TDX_SIM_EXTEND_RSP = 0x91,
};

#define TDX_SIM_PLATFORM_TDX     2
#define TDX_SIM_QUOTE_REQ_LEN    64
#define TDX_SIM_QUOTE_RSP_HDR    32
#define TDX_SIM_EXTEND_FIXED     (4 + 48 + 4)
#define TDX_SIM_EXTEND_RSP_LEN   (4 + 4 + 48)
#define TDX_SIM_EVENT_MAX        (64u << 10)
#define TDX_SIM_STATUS_OK          SNP_SIM_STATUS_OK
#define TDX_SIM_STATUS_NOT_LAUNCHED SNP_SIM_STATUS_INVALID_GUEST_STATE
#define TDX_SIM_STATUS_INVALID     SNP_SIM_STATUS_INVALID_PARAM

/* A header of any sim channel message, SNP's or TDX's: magic, version, a
 * known type, length <= SNP_SIM_PAYLOAD_MAX. */
int tdx_sim_hdr_parse(const uint8_t *buf, size_t len, const char *what, uint16_t *type, uint32_t *payload_len);

/* Requests: whole messages appended to b / payloads parsed (exact sizes). */
int tdx_sim_quote_req_encode(struct bytebuf *b, const uint8_t report_data[64]);
int tdx_sim_quote_req_parse(const uint8_t *payload, size_t len, const char *what, uint8_t report_data[64]);
/* index 2..3 (RTMR0/1 belong to the firmware and the boot loader). *event
 * points into payload. */
int tdx_sim_extend_req_encode(struct bytebuf *b, uint32_t index, const uint8_t digest[48], const uint8_t *event,
			      size_t event_len);
int tdx_sim_extend_req_parse(const uint8_t *payload, size_t len, const char *what, uint32_t *index,
			     uint8_t digest[48], const uint8_t **event, size_t *event_len);

/* Responses: encode whole messages; parse whole messages (header +
 * payload): a non-zero STATUS is an error naming it. Pointers into buf. */
int tdx_sim_quote_rsp_encode(struct bytebuf *b, uint32_t status, const uint8_t *quote, size_t quote_len,
			     const uint8_t *ccel, size_t ccel_len);
int tdx_sim_quote_rsp_parse(const uint8_t *buf, size_t len, const char *what, const uint8_t **quote,
			    size_t *quote_len, const uint8_t **ccel, size_t *ccel_len);
int tdx_sim_extend_rsp_encode(struct bytebuf *b, uint32_t status, uint32_t index, const uint8_t rtmr[48]);
int tdx_sim_extend_rsp_parse(const uint8_t *buf, size_t len, const char *what, uint32_t *index, uint8_t rtmr[48]);
int tdx_sim_platform_rsp_encode(struct bytebuf *b);

#endif
