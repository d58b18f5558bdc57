/* The SEV / SEV-ES / SNP launch plan: what QEMU (target/i386/sev.c) hands
 * to the secure processor, in the same order.
 *
 * SNP (SNP_LAUNCH_UPDATE): the firmware image (normal pages at 4 GiB - size),
 * then the OVMF SEV metadata sections in metadata order (SNP_SEC_MEM and
 * SVSM_CAA as zero pages, the secrets page, the CPUID page, the kernel hashes
 * page as a normal page when a kernel is measured, else a zero page), then
 * one VMSA per vCPU (SNP_LAUNCH_FINISH). EC2 adds the CPUID page after all
 * other sections; GCE pre-validates SNP_SEC_MEM as unmeasured pages.
 *
 * SEV / SEV-ES (LAUNCH_UPDATE_DATA, LAUNCH_UPDATE_VMSA): the firmware image,
 * the padded SEV hashes table (when a kernel is measured), the VMSAs. */
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

/* A buffer of n bytes freed with the plan. */
static int owned_buf(struct launch_plan *p, size_t n, uint8_t **out)
{
	uint8_t *b = calloc(1, n);

	if (!b)
		return err_set(ENOMEM, "out of memory");
	*out = b;
	return plan_own(p, b);
}

static int owned_page(struct launch_plan *p, uint8_t **out)
{
	return owned_buf(p, SEV_PAGE_SIZE, out);
}

/* Where the hashes table goes; checked against the firmware's declarations
 * the way QEMU does before it writes the table. */
static int hashes_location(const struct sev_launch_cfg *cfg)
{
	const struct fw_sev_info *info = cfg->info;

	if (!info->has_hashes_table)
		return err_set(EINVAL, "--kernel: firmware %s has no SEV hashes table (use an AmdSev OVMF build for "
				       "measured direct kernel boot)", cfg->fw->path);
	if (info->hashes_size < FW_SEV_HASHES_PADDED_LEN)
		return err_set(EINVAL, "%s: SEV hashes table area at %#x is %u bytes, needs %u", cfg->fw->path,
			       info->hashes_gpa, info->hashes_size, FW_SEV_HASHES_PADDED_LEN);
	return 0;
}

/* SNP: the SNP_KERNEL_HASHES section's pages with the table at its gpa. */
#define KERNEL_HASHES_MAX (16u << 20)
static int kernel_hashes_pages(const struct sev_launch_cfg *cfg, const struct fw_sev_section *sec,
			       struct launch_plan *p)
{
	uint64_t off = (uint64_t)cfg->info->hashes_gpa - sec->gpa;
	uint8_t *buf = NULL;
	int ret = hashes_location(cfg);

	if (ret)
		return ret;
	if (cfg->info->hashes_gpa < sec->gpa || !range_ok(off, FW_SEV_HASHES_PADDED_LEN, sec->size))
		return err_set(EINVAL, "%s: SEV hashes table at %#x is outside the SNP_KERNEL_HASHES section %#x+%#x",
			       cfg->fw->path, cfg->info->hashes_gpa, sec->gpa, sec->size);
	/* measured as normal pages, so they are built in memory: OVMF's is one
	 * page; a firmware claiming megabytes is refused, not allocated */
	if (sec->size > KERNEL_HASHES_MAX)
		return err_set(EINVAL, "%s: SNP_KERNEL_HASHES section %#x+%#x is larger than %u MiB", cfg->fw->path,
			       sec->gpa, sec->size, KERNEL_HASHES_MAX >> 20);
	ret = owned_buf(p, sec->size, &buf);
	if (ret)
		return ret;
	fw_sev_hashes_table(cfg->hashes, buf + off);
	return add(p, sec->gpa, sec->size, PLAN_KERNEL_HASHES, buf, -1, "SNP_KERNEL_HASHES");
}

static int snp_section(const struct sev_launch_cfg *cfg, const struct fw_sev_section *sec, struct launch_plan *p)
{
	const char *name = fw_sev_section_name(sec->type);
	/* An empty SECRETS or CPUID section still names its page: sev-snp-measure
	 * measures one page there (QEMU would refuse the zero length); other
	 * empty sections (IntelTdx builds declare some) add nothing. */
	uint64_t one_or_all = sec->size ? sec->size : SEV_PAGE_SIZE;

	if (!sec->size && sec->type != FW_SEV_SNP_SECRETS && sec->type != FW_SEV_CPUID)
		return 0;
	switch (sec->type) {
	case FW_SEV_SNP_SEC_MEM:
		return add(p, sec->gpa, sec->size, cfg->vmm == SEV_VMM_GCE ? PLAN_UNMEASURED : PLAN_ZERO, NULL, -1,
			   name);
	case FW_SEV_SNP_SECRETS:
		return add(p, sec->gpa, one_or_all, PLAN_SECRETS, NULL, -1, name);
	case FW_SEV_CPUID:
		return add(p, sec->gpa, one_or_all, PLAN_CPUID, NULL, -1, name);
	case FW_SEV_SNP_KERNEL_HASHES:
		if (cfg->hashes)
			return kernel_hashes_pages(cfg, sec, p);
		return add(p, sec->gpa, sec->size, PLAN_ZERO, NULL, -1, name);
	case FW_SEV_SVSM_CAA:
		return add(p, sec->gpa, sec->size, PLAN_ZERO, NULL, -1, name);
	}
	return err_set(EINVAL, "%s: SEV metadata section type %#x is not supported", cfg->fw->path, sec->type);
}

static int snp_sections(const struct sev_launch_cfg *cfg, struct launch_plan *p)
{
	const struct fw_sev_info *info = cfg->info;
	int ret = 0;

	if (!info->n_sections)
		return err_set(EINVAL, "%s: firmware has no SEV metadata (not an SEV-SNP capable OVMF build)",
			       cfg->fw->path);
	if (cfg->hashes && (ret = hashes_location(cfg)))
		return ret;
	if (cfg->hashes && !fw_sev_find_section(info, FW_SEV_SNP_KERNEL_HASHES))
		return err_set(EINVAL, "--kernel: firmware %s has no SNP_KERNEL_HASHES section (use an AmdSev OVMF "
				       "build for measured direct kernel boot)", cfg->fw->path);
	for (size_t i = 0; i < info->n_sections && !ret; i++) {
		if (cfg->vmm == SEV_VMM_EC2 && info->sections[i].type == FW_SEV_CPUID)
			continue; /* EC2 adds the CPUID page last */
		ret = snp_section(cfg, &info->sections[i], p);
	}
	for (size_t i = 0; i < info->n_sections && !ret; i++)
		if (cfg->vmm == SEV_VMM_EC2 && info->sections[i].type == FW_SEV_CPUID)
			ret = snp_section(cfg, &info->sections[i], p);
	return ret;
}

int sev_snp_sections(const struct sev_launch_cfg *cfg, struct launch_plan *p)
{
	return snp_sections(cfg, p);
}

static int vmsas(const struct sev_launch_cfg *cfg, uint64_t features, struct launch_plan *p)
{
	uint8_t *bsp = NULL, *ap = NULL;
	int ret;

	if (cfg->vcpus < 1 || cfg->vcpus > SEV_MAX_VCPUS)
		return err_set(EINVAL, "--vcpus: %u is out of range (1..%u)", cfg->vcpus, SEV_MAX_VCPUS);
	/* QEMU refuses an SEV-ES/SNP guest whose firmware has no AP reset block
	 * or a zero reset address, whatever the vCPU count (target/i386/sev.c
	 * sev_es_save_reset_vector, sev_es_parse_reset_block; hw/i386/pc_sysfw.c
	 * "failed to locate and/or save reset vector"). */
	if (!cfg->info->has_reset_block || !cfg->info->ap_reset_eip)
		return err_set(EINVAL, "%s: no SEV-ES reset block (or a zero AP reset address) in the OVMF footer "
				       "table: QEMU cannot launch SEV-ES/SNP guests with it (use an SEV-capable OVMF)",
			       cfg->fw->path);
	ret = owned_page(p, &bsp);
	if (ret)
		return ret;
	sev_vmsa_build(bsp, SEV_BSP_EIP, features, cfg->vcpu_sig, cfg->vmm);
	if (cfg->vcpus > 1) {
		ret = owned_page(p, &ap);
		if (ret)
			return ret;
		sev_vmsa_build(ap, cfg->info->ap_reset_eip, features, cfg->vcpu_sig, cfg->vmm);
	}
	for (unsigned i = 0; i < cfg->vcpus; i++) {
		char label[24];

		snprintf(label, sizeof(label), "VMSA vCPU %u", i);
		ret = add(p, SNP_VMSA_GPA, SEV_PAGE_SIZE, PLAN_VMSA, i ? ap : bsp, (int)i, label);
		if (ret)
			return ret;
	}
	return 0;
}

int sev_plan_build(const struct sev_launch_cfg *cfg, struct launch_plan *p)
{
	int ret;

	*p = (struct launch_plan){0};
	ret = add(p, cfg->fw->base_gpa, cfg->fw->size, PLAN_NORMAL, cfg->fw->data, -1, "firmware");
	if (ret)
		goto fail;
	if (cfg->mode == SEV_MODE_SNP) {
		ret = snp_sections(cfg, p);
		if (!ret)
			ret = vmsas(cfg, cfg->guest_features, p);
	} else {
		if (cfg->hashes) {
			uint8_t *t = NULL;

			ret = hashes_location(cfg);
			if (!ret)
				ret = owned_buf(p, FW_SEV_HASHES_PADDED_LEN, &t);
			if (ret)
				goto fail;
			fw_sev_hashes_table(cfg->hashes, t);
			ret = add(p, cfg->info->hashes_gpa, FW_SEV_HASHES_PADDED_LEN, PLAN_KERNEL_HASHES, t, -1,
				  "SEV hashes table");
		}
		/* SEV-ES: KVM creates the VMSAs with SEV_FEATURES 0 (only the
		 * SEV-ES bit, implied by the guest type). */
		if (!ret && cfg->mode == SEV_MODE_SEV_ES)
			ret = vmsas(cfg, 0, p);
	}
	if (!ret)
		return 0;
fail:
	plan_free(p);
	return ret;
}
