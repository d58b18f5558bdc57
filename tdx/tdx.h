/* tdx.h - Intel TDX: TD HOB, MRTD/RTMR engine, (later) KVM backend and sim. */
#ifndef CVMM_TDX_H
#define CVMM_TDX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/common.h"
#include "firmware/firmware.h"

#define TDX_MR_SIZE 48 /* SHA-384: MRTD, RTMRs, MRCONFIGID, MROWNER, MROWNERCONFIG */

/* `cvmm measure --platform tdx ...` (argv[0] is "measure"). */
int tdx_cli_measure(int argc, char **argv);

/* `cvmm run --platform tdx` (tdx/tdx_run_cli.c): the KVM backend, or with
 * --dry-run FILE the TD built against the ioctl stand-in. */
int tdx_cli_run(int argc, char **argv);

/* ---------------- MRTD ---------------- */

/* The order in which the VMM issues TDH.MEM.PAGE.ADD and TDH.MR.EXTEND
 * (docs/measure-tdx.md): both are valid TD builds with different MRTDs. */
enum tdx_mrtd_variant {
	TDX_MRTD_SINGLE_PASS, /* per page: ADD, then its 16 EXTENDs (Linux KVM
			       * KVM_TDX_INIT_MEM_REGION + KVM_TDX_MEASURE_MEMORY_REGION, QEMU >= 10.1) */
	TDX_MRTD_TWO_PASS,    /* per section: all ADDs, then all EXTENDs (older TDX stacks) */
};

/* "single-pass" / "two-pass"; error names the accepted values. */
int tdx_mrtd_variant_parse(const char *s, enum tdx_mrtd_variant *v);
const char *tdx_mrtd_variant_name(enum tdx_mrtd_variant v);

/* Fold the plan into MRTD: every 4 KiB page of every page step is added
 * (unless PLAN_F_AUG) and, with PLAN_F_EXTEND, extended in 256-byte chunks
 * (data NULL = zeros). Steps without pages (PLAN_VMSA...) are rejected.
 * trace, if not NULL, gets one line per record ("gpa ADD|EXTEND label"). */
int tdx_mrtd(const struct launch_plan *plan, enum tdx_mrtd_variant v, FILE *trace, uint8_t mrtd[TDX_MR_SIZE]);

/* ---------------- TD HOB ---------------- */

/* Guest RAM as TDVF sees it in the TD HOB (QEMU hw/i386/tdx.c ram entries):
 * RAM is unaccepted except the pages the VMM added at build time. */
enum tdx_ram_type { TDX_RAM_UNACCEPTED, TDX_RAM_ADDED };
struct tdx_ram_entry {
	uint64_t gpa, len;
	enum tdx_ram_type type;
};
#define TDX_RAM_MAX_ENTRIES (2 + 2 * TDVF_MAX_SECTIONS)
struct tdx_ram_map {
	size_t n;
	struct tdx_ram_entry e[TDX_RAM_MAX_ENTRIES];
};

/* Guest RAM of mem bytes laid out like QEMU q35: below 4 GiB up to 2 GiB
 * when mem >= 2.75 GiB (else all of it), the rest from 4 GiB. Then every
 * section that is PAGE.ADDed and lies in RAM (TD_HOB, TempMem, ...) is
 * marked added; sections outside RAM (BFV/CFV in flash) are left out.
 * Sorted by address. */
int tdx_ram_map_build(const struct tdvf_metadata *md, uint64_t mem, struct tdx_ram_map *map);

/* PI spec vol. 3 HOB encodings used by the TD HOB. */
#define TDX_HOB_TYPE_HANDOFF         0x0001
#define TDX_HOB_TYPE_RESOURCE_DESC   0x0003
#define TDX_HOB_TYPE_END             0xffff
#define TDX_HOB_HANDOFF_VERSION      0x0009
#define TDX_HOB_HANDOFF_SIZE         56
#define TDX_HOB_RESOURCE_SIZE        48
#define TDX_HOB_END_SIZE             8
#define TDX_RESOURCE_SYSTEM_MEMORY   0x0
#define TDX_RESOURCE_MEMORY_UNACCEPTED 0x7
#define TDX_RESOURCE_ATTR_TDVF       0x7 /* PRESENT | INITIALIZED | TESTED */

/* Write the TD HOB for map at hob_gpa into buf (len bytes, zero-filled
 * first): PHIT, one resource descriptor per RAM entry, end of list.
 * *used (may be NULL) receives the HOB length. */
int tdx_hob_build(const struct tdx_ram_map *map, uint64_t hob_gpa, uint8_t *buf, size_t len, size_t *used);

/* ---------------- launch plan ---------------- */

/* The TDX launch plan of a TDVF image for mem bytes of RAM: one step per
 * TDVF section in metadata order, the TD_HOB step carrying the HOB. The
 * plan borrows fw->data. */
int tdx_plan_build(const struct fw_image *fw, const struct tdvf_metadata *md, uint64_t mem, struct launch_plan *plan);

/* ---------------- sim-tdx: the software TDX module (sim_*.c) ----------------
 * docs/sim-tdx.md. Holds a simulated PCK chain (root CA -> PCK platform CA
 * -> PCK with the SGX extensions, ECDSA P-256) and an attestation key in a
 * key store (state directory, files 0600, made on first use), the TD's
 * MRTD, MRCONFIGID and RTMRs, and signs TD quotes v4 in Intel's format.
 * Thread-safe: the VMM's sim channel thread and tests call it. */
struct tdx_sim;
/* $XDG_STATE_HOME/cvmm/sim-tdx, else $HOME/.local/state/cvmm/sim-tdx (malloc'ed). */
char *tdx_sim_default_dir(void);
/* Open (creating on first use) the key store in dir (NULL: the default). */
int tdx_sim_open(const char *dir, struct tdx_sim **out);
void tdx_sim_close(struct tdx_sim *s);
/* The simulated root CA (PEM, NUL-terminated, malloc'ed): pin it with --root. */
int tdx_sim_root_pem(struct tdx_sim *s, char **pem, size_t *len);
/* MRTD of a direct-boot launch plan as KVM builds a TD from it: every page
 * PAGE.ADDed and MR.EXTENDed (256-byte chunks), single pass. */
int tdx_sim_mrtd(const struct launch_plan *plan, FILE *trace, uint8_t mrtd[TDX_MR_SIZE]);
/* Record the TD: MRTD and MRCONFIGID; RTMRs start zero, the event log empty. */
int tdx_sim_launch(struct tdx_sim *s, const uint8_t mrtd[TDX_MR_SIZE], const uint8_t mrconfigid[TDX_MR_SIZE]);
/* RTMR extension arithmetic (TDG.MR.RTMR.EXTEND): out = SHA-384(old || digest). */
int tdx_rtmr_fold(const uint8_t old[TDX_MR_SIZE], const uint8_t digest[TDX_MR_SIZE], uint8_t out[TDX_MR_SIZE]);
/* Extend RTMR[index] (0..3) and log the event (CCEL); out (may be NULL)
 * receives the new value. -ENODATA before tdx_sim_launch. */
int tdx_sim_rtmr_extend(struct tdx_sim *s, unsigned index, const uint8_t digest[TDX_MR_SIZE], const uint8_t *event,
			size_t event_len, uint8_t out[TDX_MR_SIZE]);
int tdx_sim_rtmrs(struct tdx_sim *s, uint8_t out[4][TDX_MR_SIZE]);
/* A TD quote v4 for report_data, appended to quote; ccel (may be NULL)
 * gets a copy of the CCEL event log. -ENODATA before tdx_sim_launch. */
int tdx_sim_quote(struct tdx_sim *s, const uint8_t report_data[64], struct bytebuf *quote, struct bytebuf *ccel);
/* The sim channel of sim-tdx: "vsock:PORT" (peer CID guest_cid only) or
 * "unix:PATH"; TDX messages in tdx/sim_wire.h. */
struct tdx_sim_channel;
int tdx_sim_channel_start(struct tdx_sim *s, const char *addr, uint32_t guest_cid, struct tdx_sim_channel **out);
void tdx_sim_channel_stop(struct tdx_sim_channel *ch);
/* Called first thing in the channel thread when set (cvmm run: its
 * seccomp filter, as for the sim-snp channel). */
extern void (*tdx_sim_channel_thread_hook)(void);

#endif
