/* platform_sim_tdx.c - `--platform sim-tdx` (design.md "Platforms",
 * docs/sim-tdx.md): a plain KVM guest whose launch is measured by cvmm's
 * software TDX module (tdx/sim_*.c). TDVF cannot run as a plain KVM guest
 * (it issues TDCALLs), so sim-tdx launches the direct-boot plan of
 * boot_plan.c (the one kvm and sim-snp load, without the SNP pages): MRTD
 * is folded over exactly the pages that plan loaded, as KVM builds a TD
 * (TDH.MEM.PAGE.ADD + TDH.MR.EXTEND of every 256-byte chunk, page by page),
 * MRCONFIGID is SHA-384 of the device manifest, RTMRs start zero. The guest
 * reaches the TDX module and quoting enclave over vsock (the sim channel,
 * port SNP_SIM_PORT_BASE + its CID, TDX messages of tdx/sim_wire.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/common.h"
#include "tdx/tdx.h"
#include "vmm/vmm_core.h"

struct sim_tdx {
	struct tdx_sim *s;
	struct tdx_sim_channel *channel;
	uint8_t mrtd[TDX_MR_SIZE];
};

static int sim_launch(struct vm *vm)
{
	const struct vm_config *c = vm->cfg;
	struct sim_tdx *t = calloc(1, sizeof(*t));
	uint8_t mrconfigid[TDX_MR_SIZE] = { 0 };
	int rc;

	if (!t)
		return err_set(ENOMEM, "out of memory");
	vm->platform_state = t;
	rc = tdx_sim_mrtd(&vm->plan, NULL, t->mrtd);
	if (!rc && vm->manifest && !EVP_Digest(vm->manifest, vm->manifest_len, mrconfigid, NULL, EVP_sha384(), NULL))
		rc = err_set(EIO, "sim-tdx: SHA-384 of the device manifest failed");
	if (!rc)
		rc = tdx_sim_open(c->state_dir, &t->s);
	if (!rc)
		rc = tdx_sim_launch(t->s, t->mrtd, mrconfigid);
	if (!rc && c->vsock_cid) {
		char addr[32];

		snprintf(addr, sizeof(addr), "vsock:%llu",
			 (unsigned long long)(SNP_SIM_PORT_BASE + (uint32_t)c->vsock_cid));
		rc = tdx_sim_channel_start(t->s, addr, (uint32_t)c->vsock_cid, &t->channel);
	}
	if (!rc) {
		char hex[2 * TDX_MR_SIZE + 1];

		hex_encode(t->mrtd, TDX_MR_SIZE, hex);
		fprintf(stderr, "cvmm run: sim-tdx MRTD %s\n", hex);
	}
	return rc;
}

/* As on kvm: the BSP at the kernel's 64-bit entry, APs wait for INIT-SIPI. */
static int sim_setup_vcpu(struct vm *vm, unsigned index, int vcpu_fd)
{
	(void)vcpu_fd;
	return index == 0 ? vcpu_setup_long_mode(vm, &vm->vcpu[0]) : 0;
}

static void sim_teardown(struct vm *vm)
{
	struct sim_tdx *t = vm->platform_state;

	if (!t)
		return;
	tdx_sim_channel_stop(t->channel);
	tdx_sim_close(t->s);
	free(t);
	vm->platform_state = NULL;
}

const struct cc_platform platform_sim_tdx = {
	.name = "sim-tdx",
	.confidential = true,
	.snp_plan = false,
	.vm_type = 0, /* KVM_X86_DEFAULT_VM: the TD is simulated */
	.launch = sim_launch,
	.setup_vcpu = sim_setup_vcpu,
	.teardown = sim_teardown,
};

const uint8_t *vmm_sim_tdx_mrtd(const struct vm *vm)
{
	const struct sim_tdx *t = vm->platform_state;

	return vm->platform == &platform_sim_tdx && t ? t->mrtd : NULL;
}
