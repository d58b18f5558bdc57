/* SEV-SNP with an SVSM (COCONUT-SVSM) under QEMU, as sev-snp-measure's
 * `--mode snp:svsm` models it: the OVMF image at 4 GiB - size, the OVMF
 * variables store below it (not measured), the SVSM binary right below that,
 * then the SVSM's own SEV metadata sections (the SVSM, not OVMF, is what the
 * vCPUs start in), then one VMSA per vCPU, all starting at the SVSM's entry
 * point in 32-bit protected mode.
 *
 * The entry point is the SVSM_INFO entry of the SVSM's footer GUID table (a
 * u32 offset from the SVSM's base; coconut-svsm's QEMU, target/i386/sev.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "sev.h"

static int add(struct launch_plan *p, uint64_t gpa, uint64_t len, enum plan_kind kind, const uint8_t *data,
	       int vcpu, const char *label)
{
	struct plan_step s = { .gpa = gpa, .len = len, .kind = kind, .data = data, .vcpu = vcpu };

	snprintf(s.label, sizeof(s.label), "%s", label);
	return plan_add(p, &s);
}

int sev_svsm_place(const struct fw_image *ovmf, uint64_t vars_size, struct fw_image *svsm)
{
	if (vars_size % SEV_PAGE_SIZE)
		return err_set(EINVAL, "--vars-size: %llu is not a multiple of 4096 (the SVSM must start on a page)",
			       (unsigned long long)vars_size);
	if (vars_size + svsm->size > ovmf->base_gpa)
		return err_set(EINVAL, "--vars-size %llu: the SVSM %s (%zu bytes) does not fit below the OVMF image at %#llx",
			       (unsigned long long)vars_size, svsm->path, svsm->size,
			       (unsigned long long)ovmf->base_gpa);
	svsm->base_gpa = ovmf->base_gpa - vars_size - svsm->size;
	return 0;
}

int sev_svsm_entry(const struct fw_image *svsm, uint32_t *eip)
{
	const uint8_t *d;
	size_t n;
	int ret = fw_table_find(svsm, SVSM_GUID_INFO, &d, &n);

	if (ret == -ENOENT)
		return err_set(EINVAL, "%s: no SVSM_INFO entry (%s) in the footer GUID table (not a COCONUT-SVSM binary?)",
			       svsm->path, SVSM_GUID_INFO);
	if (ret)
		return ret;
	if (n < 4)
		return err_set(EINVAL, "%s: SVSM_INFO entry is %zu bytes, needs 4", svsm->path, n);
	if (le32(d) >= svsm->size)
		return err_set(EINVAL, "%s: SVSM entry offset %#x is outside the %zu-byte image", svsm->path, le32(d),
			       svsm->size);
	*eip = (uint32_t)(svsm->base_gpa + le32(d));
	return 0;
}

void sev_svsm_vmsa_build(uint8_t page[SEV_PAGE_SIZE], uint32_t eip, uint32_t vcpu_sig)
{
	/* flat 32-bit protected mode: CS 0x8 (code, D/B, G), data segments 0x10 */
	struct sev_cpu_state s = {
		.es = { 0x10, 0xc93, 0xffffffff, 0 }, .cs = { 0x8, 0xc9b, 0xffffffff, 0 },
		.ss = { 0x10, 0xc93, 0xffffffff, 0 }, .ds = { 0x10, 0xc93, 0xffffffff, 0 },
		.fs = { 0x10, 0xc93, 0xffffffff, 0 }, .gs = { 0, 0x93, 0xffff, 0 },
		.gdtr = { 0, 0, 0xffff, 0 },         .idtr = { 0, 0, 0xffff, 0 },
		.ldtr = { 0, 0x82, 0xffff, 0 },      .tr = { 0, 0x8b, 0xffff, 0 },
		.efer = 0x1000, .cr4 = 0x40, .cr0 = 0x11, /* PE | ET */
		.dr7 = 0x400, .dr6 = 0xffff0ff0, .rflags = 0x2, .rip = eip,
		.g_pat = 0x0007040600070406ull, .rdx = vcpu_sig,
		.sev_features = 0x1, /* SNP active: what the measured SVSM launches carry */
		.xcr0 = 0x1, .mxcsr = 0x1f80,
		/* x87 FCW stays 0: sev-snp-measure's VMSA_SVSM (and the QEMU launches
		 * its vectors came from) leave it clear */
	};

	sev_vmsa_encode(page, &s);
}

int sev_svsm_plan_build(const struct sev_svsm_cfg *cfg, struct launch_plan *p)
{
	struct sev_launch_cfg sc = { .mode = SEV_MODE_SNP, .vcpus = cfg->vcpus, .vcpu_sig = cfg->vcpu_sig,
				     .vmm = SEV_VMM_QEMU, .fw = cfg->svsm, .info = cfg->svsm_info };
	uint8_t *vmsa;
	uint32_t eip = 0;
	int ret;

	*p = (struct launch_plan){0};
	if (cfg->vcpus < 1 || cfg->vcpus > SEV_MAX_VCPUS)
		return err_set(EINVAL, "--vcpus: %u is out of range (1..%u)", cfg->vcpus, SEV_MAX_VCPUS);
	if ((ret = sev_svsm_entry(cfg->svsm, &eip)) ||
	    (ret = add(p, cfg->ovmf->base_gpa, cfg->ovmf->size, PLAN_NORMAL, cfg->ovmf->data, -1, "firmware")) ||
	    (ret = add(p, cfg->svsm->base_gpa, cfg->svsm->size, PLAN_NORMAL, cfg->svsm->data, -1, "SVSM")) ||
	    (ret = sev_snp_sections(&sc, p)))
		goto fail;
	vmsa = calloc(1, SEV_PAGE_SIZE);
	if (!vmsa) {
		ret = err_set(ENOMEM, "out of memory");
		goto fail;
	}
	if ((ret = plan_own(p, vmsa)))
		goto fail;
	sev_svsm_vmsa_build(vmsa, eip, cfg->vcpu_sig);
	for (unsigned i = 0; i < cfg->vcpus; i++) {
		char label[24];

		snprintf(label, sizeof(label), "SVSM VMSA %u", i);
		if ((ret = add(p, SNP_VMSA_GPA, SEV_PAGE_SIZE, PLAN_VMSA, vmsa, (int)i, label)))
			goto fail;
	}
	return 0;
fail:
	plan_free(p);
	return ret;
}
