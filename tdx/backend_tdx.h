/* backend_tdx.h - internal to tdx/: the TDX KVM backend (backend_tdx.c). */
#ifndef CVMM_TDX_BACKEND_TDX_H
#define CVMM_TDX_BACKEND_TDX_H

#include <stdint.h>

#include "tdx.h"
#include "vmm/ioctl_rec.h"

struct tdx_launch_req {
	const struct launch_plan *plan; /* tdx_plan_build() */
	const struct fw_image *fw;      /* for file_offset of the source pages */
	uint64_t mem;
	unsigned vcpus;
	uint64_t attributes;            /* TD attributes (TDX module ABI, TD_PARAMS.ATTRIBUTES) */
	uint64_t xfam;
	uint8_t mrconfigid[TDX_MR_SIZE], mrowner[TDX_MR_SIZE], mrownerconfig[TDX_MR_SIZE];
};

struct tdx_vm;
/* Build the TD through io up to KVM_TDX_FINALIZE_VM (never KVM_RUN). On
 * error everything is released and err_msg() names the step, the
 * sub-command and the TDX module's error code. */
int tdx_backend_launch(struct cc_io *io, const struct tdx_launch_req *req, struct tdx_vm **out);
void tdx_backend_release(struct tdx_vm *vm);

#endif
