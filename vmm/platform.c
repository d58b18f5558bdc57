/* platform.c - the platform backends behind `--platform` (design.md
 * "Platforms"): `kvm` lives here, `sim-snp` in platform_sim_snp.c, `sim-tdx`
 * in platform_sim_tdx.c; the
 * hardware backends plug in as further struct cc_platform tables. */
#include <string.h>

#include "vmm/vmm_core.h"

extern const struct cc_platform platform_sim_snp;
extern const struct cc_platform platform_sim_tdx;

static int kvm_setup_vcpu(struct vm *vm, unsigned index, int vcpu_fd)
{
	(void)vcpu_fd;
	/* APs wait for INIT/SIPI in the in-kernel LAPIC; only the BSP starts
	 * at the kernel's 64-bit entry. */
	/* With --firmware every vCPU keeps its reset state (firmware_boot.c). */
	return index == 0 && !vm->fw ? vcpu_setup_long_mode(vm, &vm->vcpu[0]) : 0;
}

static const struct cc_platform platform_kvm = {
	.name = "kvm",
	.confidential = false,
	.vm_type = 0, /* KVM_X86_DEFAULT_VM */
	.setup_vcpu = kvm_setup_vcpu,
};

static const struct cc_platform *const platforms[] = { &platform_kvm, &platform_sim_snp, &platform_sim_tdx };

const char *cc_platform_names(void)
{
	return "kvm, sim-snp, sim-tdx, auto";
}

const struct cc_platform *cc_platform_find(const char *name)
{
	/* auto: the best the host offers; with no CC backend built in, kvm. */
	if (!name || !strcmp(name, "auto"))
		return &platform_kvm;
	for (size_t i = 0; i < sizeof(platforms) / sizeof(platforms[0]); i++)
		if (!strcmp(platforms[i]->name, name))
			return platforms[i];
	return NULL;
}
