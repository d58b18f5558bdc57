/* platform_sim_snp.c - `--platform sim-snp` (design.md "Platforms"): a plain
 * KVM guest whose launch is folded into an SEV-SNP launch digest by cvmm's
 * software secure processor (sev/sim_*.c). The plan that boot_plan.c loaded
 * is folded page by page exactly as SNP_LAUNCH_UPDATE would (PAGE_INFO
 * chain, SNP page types, one VMSA per vCPU), the vCPUs are started from the
 * plan's VMSAs, and the guest reaches the secure processor over vsock (the
 * sim channel, port SNP_SIM_PORT_BASE + its CID) the way a real guest
 * reaches the PSP through the host. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "vmm/kvm_uapi.h"
#include "vmm/vmm_core.h"

struct sim_snp {
	struct snp_sim *sp;
	struct snp_sim_channel *channel;
	uint8_t measurement[SNP_DIGEST_LEN];
};

/* The plan's CPUID page holds what vCPU 0 will see (cpuid.c), in the SNP
 * CPUID table format, as a VMM hands it to SNP_LAUNCH_UPDATE. Its contents
 * are not measured (page type CPUID), so `cvmm measure` leaves it zero. */
static int fill_cpuid_page(struct vm *vm)
{
	size_t sz = sizeof(*vm->cpuid) + vm->cpuid->nent * sizeof(vm->cpuid->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	struct snp_cpuid_fn fn[SNP_CPUID_MAX];
	uint8_t *page = gm_ptr(&vm->mem, BOOT_CPUID_GPA, SEV_PAGE_SIZE);
	size_t n = 0;
	int rc;

	if (!c || !page) {
		free(c);
		return err_set(ENOMEM, "sim-snp: CPUID page: out of memory");
	}
	memcpy(c, vm->cpuid, sz);
	vmm_cpuid_adjust(c, 0, vm->nvcpus, vm->tsc_deadline);
	for (unsigned i = 0; i < c->nent && n < SNP_CPUID_MAX; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		fn[n++] = (struct snp_cpuid_fn){
			.eax_in = e->function,
			.ecx_in = e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX ? e->index : 0,
			.eax = e->eax, .ebx = e->ebx, .ecx = e->ecx, .edx = e->edx,
		};
	}
	if (c->nent > SNP_CPUID_MAX)
		fprintf(stderr, "cvmm run: sim-snp: KVM reports %u CPUID functions, the SNP CPUID page holds the "
				"first %u\n", c->nent, SNP_CPUID_MAX);
	free(c);
	rc = snp_cpuid_page_encode(page, fn, n);
	return rc;
}

static int sim_launch(struct vm *vm)
{
	const struct vm_config *c = vm->cfg;
	struct sim_snp *s = calloc(1, sizeof(*s));
	struct snp_sim_launch l = { .policy = c->policy };
	int rc;

	if (!s)
		return err_set(ENOMEM, "out of memory");
	vm->platform_state = s;
	rc = fill_cpuid_page(vm);
	if (!rc)
		rc = snp_digest_fold(&vm->plan, 0, NULL, s->measurement, NULL, NULL);
	if (!rc)
		rc = snp_sim_open(c->state_dir, &s->sp);
	if (rc)
		return rc;
	memcpy(l.measurement, s->measurement, sizeof(l.measurement));
	memcpy(l.host_data, vm->host_data, sizeof(l.host_data));
	rc = snp_sim_launch(s->sp, &l);
	if (!rc && c->vsock_cid) {
		char addr[32];

		snprintf(addr, sizeof(addr), "vsock:%llu",
			 (unsigned long long)(SNP_SIM_PORT_BASE + (uint32_t)c->vsock_cid));
		rc = snp_sim_channel_start(s->sp, addr, (uint32_t)c->vsock_cid, &s->channel);
	}
	if (!rc) {
		char hex[2 * SNP_DIGEST_LEN + 1];

		hex_encode(s->measurement, SNP_DIGEST_LEN, hex);
		fprintf(stderr, "cvmm run: sim-snp launch measurement %s\n", hex);
	}
	return rc;
}

/* The BSP starts from its VMSA in the plan; APs keep KVM's INIT state
 * (their VMSAs record exactly that) until the BSP's INIT-SIPI-SIPI. */
static int sim_setup_vcpu(struct vm *vm, unsigned index, int vcpu_fd)
{
	struct sev_cpu_state st;

	(void)vcpu_fd;
	if (index)
		return 0;
	for (size_t i = 0; i < vm->plan.n; i++) {
		const struct plan_step *s = &vm->plan.steps[i];

		if (s->kind == PLAN_VMSA && s->vcpu == 0) {
			sev_vmsa_decode(s->data, &st);
			return vcpu_set_state(&vm->vcpu[0], &st);
		}
	}
	return err_set(EINVAL, "sim-snp: the launch plan has no VMSA for vCPU 0");
}

static void sim_teardown(struct vm *vm)
{
	struct sim_snp *s = vm->platform_state;

	if (!s)
		return;
	snp_sim_channel_stop(s->channel);
	snp_sim_close(s->sp);
	free(s);
	vm->platform_state = NULL;
}

const struct cc_platform platform_sim_snp = {
	.name = "sim-snp",
	.confidential = true,
	.snp_plan = true,
	.vm_type = 0, /* KVM_X86_DEFAULT_VM: the encryption is simulated */
	.launch = sim_launch,
	.setup_vcpu = sim_setup_vcpu,
	.teardown = sim_teardown,
};

/* The measurement sim_launch computed (for the attestation endpoint's
 * launch record). */
const uint8_t *vmm_sim_snp_measurement(const struct vm *vm)
{
	const struct sim_snp *s = vm->platform_state;

	return vm->platform == &platform_sim_snp && s ? s->measurement : NULL;
}
