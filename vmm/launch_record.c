/* launch_record.c - the "launch" object of an attestation bundle
 * (docs/attestation.md): the inputs of this launch, so that a relying party
 * can recompute the reference value itself with `cvmm measure` (it must
 * never take the host's word for the measurement: the host is untrusted and
 * the record is only a convenience). */
#include <jansson.h>
#include <stdio.h>

#include "common/common.h"
#include "vmm/vmm_core.h"

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char hex[2 * 64 + 1];

	hex_encode(p, n, hex);
	return json_string(hex);
}

json_t *vmm_launch_record(const struct vm *vm, const char *cmdline)
{
	const struct vm_config *c = vm->cfg;
	const uint8_t *m = vmm_sim_snp_measurement(vm);
	char policy[24];
	json_t *o = json_object();

	if (!o)
		return NULL;
	snprintf(policy, sizeof(policy), "0x%llx", (unsigned long long)c->policy);
	json_object_set_new(o, "platform", json_string(vm->platform->name));
	json_object_set_new(o, "vcpus", json_integer(vm->nvcpus));
	json_object_set_new(o, "mem", json_integer((json_int_t)c->mem));
	json_object_set_new(o, "cmdline", json_string(cmdline));
	json_object_set_new(o, "kernel_sha256", hex_json(vm->kernel_sha256, 32));
	if (vm->has_initrd)
		json_object_set_new(o, "initrd_sha256", hex_json(vm->initrd_sha256, 32));
	json_object_set_new(o, "host_data", hex_json(vm->host_data, 32));
	if (vm->platform->snp_plan)
		json_object_set_new(o, "policy", json_string(policy));
	/* What the host says it measured: for display, never a reference value. */
	if (m)
		json_object_set_new(o, "measurement", hex_json(m, SNP_DIGEST_LEN));
	else if ((m = vmm_sim_tdx_mrtd(vm)))
		json_object_set_new(o, "mrtd", hex_json(m, 48));
	return o;
}
