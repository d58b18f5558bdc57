/* cc_slot.c - a private memory slot of a confidential VM, as the SNP and
 * TDX backends set it up (api.rst KVM_CREATE_GUEST_MEMFD,
 * KVM_SET_USER_MEMORY_REGION2, KVM_SET_MEMORY_ATTRIBUTES): a guest_memfd
 * for the private pages, an anonymous shared backing (where LAUNCH_UPDATE
 * and INIT_MEM_REGION take their source pages from), the whole range
 * private. Every ioctl goes through the cc_io seam (ioctl_rec.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "common/common.h"
#include "vmm/ioctl_rec.h"
#include "vmm/kvm_uapi.h"

static int call(struct cc_io *io, int fd, unsigned long req, void *arg, const char *who, const char *step,
		const char *name)
{
	int rc = io->ioctl(io, fd, req, arg);

	if (rc < 0)
		return err_set(-rc, "%s: %s: %s: %s", who, step, name, strerror(-rc));
	return rc;
}

int cc_slot_add(struct cc_io *io, int vm_fd, unsigned index, uint64_t gpa, uint64_t size, const char *who,
		struct cc_slot *s)
{
	struct kvm_create_guest_memfd g = { .size = size };
	char step[32];
	int rc;

	snprintf(step, sizeof(step), "memory slot %u", index);
	*s = (struct cc_slot){ .gpa = gpa, .size = size, .gmem_fd = -1 };
	s->host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->host == MAP_FAILED) {
		s->host = NULL;
		return err_set(ENOMEM, "%s: %s: cannot map %llu bytes of shared backing", who, step,
			       (unsigned long long)size);
	}
	if ((rc = call(io, vm_fd, KVM_CREATE_GUEST_MEMFD, &g, who, step, "KVM_CREATE_GUEST_MEMFD")) < 0)
		return rc;
	s->gmem_fd = rc;
	struct kvm_userspace_memory_region2 m = {
		.slot = index, .flags = KVM_MEM_GUEST_MEMFD, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)s->host, .guest_memfd_offset = 0, .guest_memfd = (uint32_t)s->gmem_fd,
	};
	if ((rc = call(io, vm_fd, KVM_SET_USER_MEMORY_REGION2, &m, who, step, "KVM_SET_USER_MEMORY_REGION2")) < 0)
		return rc;
	struct kvm_memory_attributes a = { .address = gpa, .size = size, .attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE };
	rc = call(io, vm_fd, KVM_SET_MEMORY_ATTRIBUTES, &a, who, step, "KVM_SET_MEMORY_ATTRIBUTES");
	return rc < 0 ? rc : 0;
}

void cc_slot_release(struct cc_io *io, struct cc_slot *s)
{
	if (s->host)
		munmap(s->host, s->size);
	if (s->gmem_fd >= 0)
		io->close(io, s->gmem_fd);
	s->host = NULL;
	s->gmem_fd = -1;
}

struct cc_slot *cc_slot_find(struct cc_slot *s, unsigned n, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < n; i++)
		if (gpa >= s[i].gpa && range_ok(gpa - s[i].gpa, len, s[i].size))
			return &s[i];
	return NULL;
}
