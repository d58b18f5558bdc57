/* vCPU models and VMM types: the values that end up in the VMSA.
 *
 * QEMU puts the CPUID Fn0000_0001_EAX signature of the guest CPU model into
 * RDX at reset (target/i386/cpu.c x86_cpu_reset_hold: env->regs[R_EDX] =
 * env->cpuid_version). The family/model/stepping of each model come from
 * QEMU's builtin_x86_defs; all versions (-vN) of a model share them. */
#include <errno.h>
#include <strings.h>

#include "common/common.h"
#include "sev.h"

uint32_t sev_cpu_sig(unsigned family, unsigned model, unsigned stepping)
{
	/* AMD CPUID spec #25481, CPUID Fn0000_0001_EAX: the base family field
	 * saturates at 0xf and the extended family holds the rest. */
	uint32_t fam_lo = family > 0xf ? 0xf : family;
	uint32_t fam_hi = family > 0xf ? (family - 0xf) & 0xff : 0;

	return fam_hi << 20 | ((model >> 4) & 0xf) << 16 | fam_lo << 8 | (model & 0xf) << 4 | (stepping & 0xf);
}

struct vcpu_type {
	const char *name;
	unsigned family, model, stepping;
};

static const struct vcpu_type types[] = {
	{ "EPYC", 23, 1, 2 },        { "EPYC-v1", 23, 1, 2 },      { "EPYC-v2", 23, 1, 2 },
	{ "EPYC-IBPB", 23, 1, 2 },   { "EPYC-v3", 23, 1, 2 },      { "EPYC-v4", 23, 1, 2 },
	{ "EPYC-v5", 23, 1, 2 },     { "EPYC-Rome", 23, 49, 0 },   { "EPYC-Rome-v1", 23, 49, 0 },
	{ "EPYC-Rome-v2", 23, 49, 0 }, { "EPYC-Rome-v3", 23, 49, 0 }, { "EPYC-Rome-v4", 23, 49, 0 },
	{ "EPYC-Rome-v5", 23, 49, 0 }, { "EPYC-Milan", 25, 1, 1 },  { "EPYC-Milan-v1", 25, 1, 1 },
	{ "EPYC-Milan-v2", 25, 1, 1 }, { "EPYC-Milan-v3", 25, 1, 1 }, { "EPYC-Genoa", 25, 17, 0 },
	{ "EPYC-Genoa-v1", 25, 17, 0 }, { "EPYC-Genoa-v2", 25, 17, 0 }, { "EPYC-Turin", 26, 0, 0 },
	{ "EPYC-Turin-v1", 26, 0, 0 },
};

int sev_vcpu_type_sig(const char *name, uint32_t *sig)
{
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		if (!strcasecmp(name, types[i].name)) {
			*sig = sev_cpu_sig(types[i].family, types[i].model, types[i].stepping);
			return 0;
		}
	}
	return err_set(EINVAL, "--vcpu-type: unknown vCPU type '%s' (known: EPYC, EPYC-v1..v5, EPYC-IBPB, "
			       "EPYC-Rome[-v1..v5], EPYC-Milan[-v1..v3], EPYC-Genoa[-v1..v2], EPYC-Turin[-v1])", name);
}

int sev_vmm_type_parse(const char *s, enum sev_vmm_type *t)
{
	if (!strcasecmp(s, "qemu"))
		*t = SEV_VMM_QEMU;
	else if (!strcasecmp(s, "ec2"))
		*t = SEV_VMM_EC2;
	else if (!strcasecmp(s, "gce"))
		*t = SEV_VMM_GCE;
	else
		return err_set(EINVAL, "--vmm-type: unknown VMM type '%s' (qemu, ec2 or gce)", s);
	return 0;
}

const char *sev_vmm_type_name(enum sev_vmm_type t)
{
	switch (t) {
	case SEV_VMM_QEMU: return "QEMU";
	case SEV_VMM_EC2: return "ec2";
	case SEV_VMM_GCE: return "gce";
	}
	return "?";
}
