/* cpuid.c - the CPUID a vCPU sees: KVM_GET_SUPPORTED_CPUID with this
 * vCPU's APIC id and the package topology (one package of n cores, one
 * thread each) filled in, what KVM reports elsewhere added (TSC deadline,
 * api.rst KVM_GET_SUPPORTED_CPUID), and what cvmm does not offer hidden
 * (VMX/SVM: no nested virtualization; thermal and power management). */
#include <errno.h>
#include "vmm/kvm_uapi.h"
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/common.h"
#include "vmm/vmm_core.h"

static unsigned order(unsigned n)
{
	unsigned s = 0;
	while ((1u << s) < n)
		s++;
	return s;
}

void vmm_cpuid_adjust(struct kvm_cpuid2 *c, unsigned index, unsigned n, bool tsc_deadline)
{
	unsigned shift = order(n);
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		switch (e->function) {
		case 1:
			/* EBX[31:24] initial APIC id, [23:16] logical processors
			 * per package (SDM Vol. 2A CPUID leaf 01H). */
			e->ebx = (e->ebx & 0xffff) | (index << 24) | ((n > 1 ? n : 1) << 16);
			if (n > 1)
				e->edx |= 1u << 28; /* HTT: the field above is valid */
			else
				e->edx &= ~(1u << 28);
			if (tsc_deadline)
				e->ecx |= 1u << 24;
			e->ecx |= 1u << 31; /* hypervisor present */
			/* no nested virtualization for cvmm guests: hide VMX */
			e->ecx &= ~(1u << 5);
			break;
		case 0x80000001:
			e->ecx &= ~(1u << 2); /* and SVM (APM Vol. 3 E.4.2) */
			break;
		case 4:
			/* EAX[31:26]: cores per package - 1 */
			e->eax = (e->eax & 0x03ffffff) | ((n - 1) << 26);
			break;
		case 6:
			/* no thermal/power management to offer */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 0xb:
		case 0x1f:
			/* Extended topology (SDM leaf 0BH/1FH): level 0 SMT (one
			 * thread), level 1 core (n cores), then invalid. */
			e->edx = index;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = 1u << 8;
			} else if (e->index == 1) {
				e->eax = shift;
				e->ebx = n;
				e->ecx = 2u << 8 | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 0x80000008:
			/* AMD: ECX[15:12] APIC id size, [7:0] cores - 1 (APM Vol. 3 E.4.7) */
			e->ecx = (e->ecx & ~0xf0ffu) | (shift << 12) | (n - 1);
			break;
		case 0x8000001e:
			/* AMD extended APIC id, core id = index, one thread per core */
			e->eax = index;
			e->ebx = (e->ebx & ~0xffffu) | (index & 0xff);
			e->ecx &= ~0xffu;
			break;
		default:
			break;
		}
	}
}

int vcpu_set_cpuid(struct vm *vm, struct vcpu *v)
{
	size_t sz = sizeof(*vm->cpuid) + vm->cpuid->nent * sizeof(vm->cpuid->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	if (!c)
		return err_set(ENOMEM, "out of memory");
	memcpy(c, vm->cpuid, sz);
	vmm_cpuid_adjust(c, v->index, vm->nvcpus, vm->tsc_deadline);
	int rc = ioctl(v->fd, KVM_SET_CPUID2, c) < 0 ? errno : 0;
	free(c);
	if (rc)
		return err_set(rc, "vCPU %u: KVM_SET_CPUID2: %s", v->index, strerror(rc));
	return 0;
}
