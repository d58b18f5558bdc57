/* kvm.c - the KVM side of a VM: /dev/kvm, KVM_CREATE_VM, memory slots, the
 * in-kernel interrupt controllers (PIC, IOAPIC, LAPIC) and PIT, MSI and
 * IRQ lines (Documentation/virt/kvm/api.rst). */
#include <errno.h>
#include <fcntl.h>
#include "vmm/kvm_uapi.h"
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/vmm_core.h"

/* KVM needs three pages for the real-mode TSS on Intel (api.rst
 * KVM_SET_TSS_ADDR); anywhere that is not RAM below 4 GiB. */
#define KVM_TSS_GPA 0xfffbd000u

int kvm_vm_create(struct vm *vm)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return err_set(errno, "/dev/kvm: %s", strerror(errno));
	int ver = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION)
		return err_set(ENOTSUP, "/dev/kvm: API version %d, need %d", ver, KVM_API_VERSION);
	static const struct { long cap; const char *name; } need[] = {
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(need); i++)
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, need[i].cap) <= 0)
			return err_set(ENOTSUP, "/dev/kvm: %s missing", need[i].name);
	vm->tsc_deadline = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	int max_vcpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max_vcpus > 0 && vm->nvcpus > (unsigned)max_vcpus)
		return err_set(EINVAL, "--vcpus %u: this host's KVM allows %d", vm->nvcpus, max_vcpus);

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, vm->platform->vm_type);
	if (vm->vm_fd < 0)
		return err_set(errno, "KVM_CREATE_VM (type %lu): %s", vm->platform->vm_type, strerror(errno));
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_GPA) < 0)
		return err_set(errno, "KVM_SET_TSS_ADDR: %s", strerror(errno));
	uint64_t idmap = KVM_TSS_GPA + 3 * 4096;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0 && errno != ENOTTY && errno != EINVAL)
		return err_set(errno, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));

	/* Supported CPUID, grown until it fits (api.rst KVM_GET_SUPPORTED_CPUID). */
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return err_set(ENOMEM, "out of memory");
		c->nent = n;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			vm->cpuid = c;
			return 0;
		}
		int e = errno;
		free(c);
		if (e != E2BIG)
			return err_set(e, "KVM_GET_SUPPORTED_CPUID: %s", strerror(e));
	}
	return err_set(E2BIG, "KVM_GET_SUPPORTED_CPUID: too many entries");
}

int kvm_vm_irqchip(struct vm *vm)
{
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return err_set(errno, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return err_set(errno, "KVM_CREATE_PIT2: %s", strerror(errno));
	return 0;
}

int kvm_vm_map_memory(struct vm *vm)
{
	struct guest_mem *m = &vm->mem;
	struct kvm_userspace_memory_region r = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = m->low_size,
		.userspace_addr = (uintptr_t)m->host,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return err_set(errno, "KVM_SET_USER_MEMORY_REGION (low RAM): %s", strerror(errno));
	if (m->size > m->low_size) {
		r.slot = 1;
		r.guest_phys_addr = 1ull << 32;
		r.memory_size = m->size - m->low_size;
		r.userspace_addr = (uintptr_t)(m->host + m->low_size);
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			return err_set(errno, "KVM_SET_USER_MEMORY_REGION (high RAM): %s", strerror(errno));
	}
	return 0;
}

void kvm_vm_close(struct vm *vm)
{
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
	free(vm->cpuid);
	vm->cpuid = NULL;
	vm_irq_routes_free(vm);
}

void vm_set_irq(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = level ? 1 : 0 };
	ioctl(vm->vm_fd, KVM_IRQ_LINE, &l);
}

int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32), .data = data };
	int rc = ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi);
	return rc < 0 ? -errno : 0;
}

int vm_fd(struct vm *vm) { return vm->vm_fd; }
struct guest_mem *vm_mem(struct vm *vm) { return &vm->mem; }
struct evloop *vm_evloop(struct vm *vm) { return vm->evloop; }
