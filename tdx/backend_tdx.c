/* backend_tdx.c - `--platform tdx`: the TDX KVM backend as a translator of
 * the TDVF launch plan (tdx_plan_build, what `cvmm measure --platform tdx`
 * folds) into the ioctls of Documentation/virt/kvm/x86/intel-tdx.rst:
 *   KVM_CREATE_VM(KVM_X86_TDX_VM); KVM_TDX_CAPABILITIES; KVM_ENABLE_CAP
 *   (KVM_CAP_SPLIT_IRQCHIP: a TD has no in-kernel PIC/IOAPIC);
 *   KVM_TDX_INIT_VM {attributes, xfam, MRCONFIGID/MROWNER/MROWNERCONFIG,
 *   cpuid}; guest_memfd memory, private; KVM_CREATE_VCPU +
 *   KVM_TDX_INIT_VCPU (RCX = the TD HOB's GPA, what TDVF expects);
 *   KVM_TDX_INIT_MEM_REGION per plan step on a vCPU fd, with
 *   KVM_TDX_MEASURE_MEMORY_REGION where the TDVF section says MR.EXTEND
 *   (which gives the single-pass MRTD); KVM_TDX_FINALIZE_VM.
 * Every call goes through the ioctl seam (vmm/ioctl_rec.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "backend_tdx.h"
#include "tdx_uapi.h"

#define TDX_MAX_REGIONS 3
#define TDX_MAX_VCPUS   576
#define FOUR_GIB        0x100000000ull
#define TDX_CPUID_MAX   256
#define SPLIT_IRQCHIP_PINS 24 /* IOAPIC pins routed to userspace */

struct tdx_vm {
	struct cc_io *io;
	int kvm_fd, vm_fd;
	struct cc_slot reg[TDX_MAX_REGIONS];
	unsigned nreg;
	int vcpu_fd[TDX_MAX_VCPUS];
	unsigned nvcpus;
};

static const char *const cmd_names[] = { "KVM_TDX_CAPABILITIES", "KVM_TDX_INIT_VM", "KVM_TDX_INIT_VCPU",
					 "KVM_TDX_INIT_MEM_REGION", "KVM_TDX_FINALIZE_VM" };

static int kvm_call(struct tdx_vm *v, int fd, unsigned long req, void *arg, const char *step, const char *name)
{
	int rc = v->io->ioctl(v->io, fd, req, arg);

	if (rc < 0)
		return err_set(-rc, "TDX launch: %s: %s: %s", step, name, strerror(-rc));
	return rc;
}

/* KVM_MEMORY_ENCRYPT_OP with struct kvm_tdx_cmd; hw_error is the TDX
 * module's SEAMCALL status. */
static int tdx_cmd(struct tdx_vm *v, int fd, uint32_t id, uint32_t flags, uint64_t data, const char *step)
{
	struct kvm_tdx_cmd c = { .id = id, .flags = flags, .data = data };
	int rc;

	do
		rc = v->io->ioctl(v->io, fd, KVM_MEMORY_ENCRYPT_OP, &c);
	while (rc == -EINTR || rc == -EAGAIN);
	if (rc < 0)
		return err_set(-rc, "TDX launch: %s: %s failed: TDX module error %#llx, %s", step, cmd_names[id],
			       (unsigned long long)c.hw_error, strerror(-rc));
	return 0;
}

void tdx_backend_release(struct tdx_vm *v)
{
	if (!v)
		return;
	for (unsigned i = 0; i < v->nvcpus; i++)
		v->io->close(v->io, v->vcpu_fd[i]);
	for (unsigned i = 0; i < v->nreg; i++)
		cc_slot_release(v->io, &v->reg[i]);
	if (v->vm_fd >= 0)
		v->io->close(v->io, v->vm_fd);
	if (v->kvm_fd >= 0)
		v->io->close(v->io, v->kvm_fd);
	free(v);
}

static int add_region(struct tdx_vm *v, uint64_t gpa, uint64_t size)
{
	unsigned i = v->nreg++; /* released with the VM whatever happens next */

	return cc_slot_add(v->io, v->vm_fd, i, gpa, size, "TDX launch", &v->reg[i]);
}

static int init_mem_region(struct tdx_vm *v, const struct tdx_launch_req *q, size_t index, const struct plan_step *s)
{
	uint64_t len = (s->len + 4095) / 4096 * 4096;
	struct cc_slot *r;
	char step[96];

	snprintf(step, sizeof(step), "plan step %zu \"%s\" at gpa %#llx", index, s->label, (unsigned long long)s->gpa);
	if (s->gpa % 4096 || !len || !(r = cc_slot_find(v->reg, v->nreg, s->gpa, len)))
		return err_set(EINVAL, "TDX launch: %s: not page aligned inside guest memory", step);
	uint8_t *host = r->host + (s->gpa - r->gpa);
	memset(host, 0, len);
	if (s->data)
		memcpy(host, s->data, s->len);
	struct kvm_tdx_init_mem_region m = { .source_addr = (uintptr_t)host, .gpa = s->gpa, .nr_pages = len / 4096 };
	if (s->data && s->data >= q->fw->data && s->data < q->fw->data + q->fw->size)
		v->io->annotate(v->io, "file_offset", (int64_t)(s->data - q->fw->data));
	return tdx_cmd(v, v->vcpu_fd[0], KVM_TDX_INIT_MEM_REGION,
		       (s->flags & PLAN_F_EXTEND) ? KVM_TDX_MEASURE_MEMORY_REGION : 0, (uintptr_t)&m, step);
}

/* The CPUID of the TD for KVM_TDX_INIT_VM (intel-tdx.rst: "cpuid" holds
 * values for the CPUID bits the TDX module lets the VMM configure, which
 * KVM_TDX_CAPABILITIES lists per leaf/sub-leaf; any other bit is refused):
 * the host's KVM_GET_SUPPORTED_CPUID masked leaf by leaf with those bits.
 * Leaves without configurable bits are left out; the module fixes them. */
static int td_cpuid(struct tdx_vm *v, const struct kvm_tdx_capabilities *cap, struct kvm_cpuid2 *out)
{
	struct kvm_cpuid2 *sup = calloc(1, sizeof(*sup) + TDX_CPUID_MAX * sizeof(struct kvm_cpuid_entry2));
	int rc;

	if (!sup)
		return err_set(ENOMEM, "out of memory");
	sup->nent = TDX_CPUID_MAX;
	rc = kvm_call(v, v->kvm_fd, KVM_GET_SUPPORTED_CPUID, sup, "capabilities", "KVM_GET_SUPPORTED_CPUID");
	out->nent = 0;
	for (uint32_t i = 0; rc >= 0 && i < sup->nent && i < TDX_CPUID_MAX; i++) {
		const struct kvm_cpuid_entry2 *e = &sup->entries[i];

		for (uint32_t k = 0; k < cap->cpuid.nent && k < TDX_CPUID_MAX; k++) {
			const struct kvm_cpuid_entry2 *c = &cap->cpuid.entries[k];

			if (c->function != e->function ||
			    ((c->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && c->index != e->index))
				continue;
			out->entries[out->nent++] = (struct kvm_cpuid_entry2){
				.function = e->function, .index = e->index, .flags = c->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
				.eax = e->eax & c->eax, .ebx = e->ebx & c->ebx, .ecx = e->ecx & c->ecx, .edx = e->edx & c->edx,
			};
			break;
		}
	}
	free(sup);
	return rc < 0 ? rc : 0;
}

static int launch(struct tdx_vm *v, const struct tdx_launch_req *q)
{
	const struct launch_plan *p = q->plan;
	uint64_t hob = 0, low, fw_lo = FOUR_GIB;
	bool has_hob = false;
	int rc;

	if (!q->vcpus || q->vcpus > TDX_MAX_VCPUS)
		return err_set(EINVAL, "--vcpus: %u is out of range (1..%u)", q->vcpus, TDX_MAX_VCPUS);
	/* q35's split (tdx_ram_map_build): up to 2 GiB below 4 GiB from 2.75 GiB of RAM on */
	low = q->mem >= 0xb0000000ull ? 0x80000000ull : q->mem;
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_step *s = &p->steps[i];

		if (s->kind == PLAN_TD_HOB) {
			hob = s->gpa;
			has_hob = true;
		}
		if (!(s->flags & PLAN_F_AUG) && s->gpa >= low && s->gpa < fw_lo)
			fw_lo = s->gpa & ~4095ull;
	}
	if (!has_hob)
		return err_set(EINVAL, "TDX launch: the TDVF has no TD_HOB section (TDVF needs its HOB address in RCX)");

	if ((rc = v->io->open(v->io, "/dev/kvm")) < 0)
		return err_set(-rc, "TDX launch: /dev/kvm: %s", strerror(-rc));
	v->kvm_fd = rc;
	rc = kvm_call(v, v->kvm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_VM_TYPES, "host",
		      "KVM_CHECK_EXTENSION(KVM_CAP_VM_TYPES)");
	if (rc < 0)
		return rc;
	if (!(rc & (1 << KVM_X86_TDX_VM)))
		return err_set(ENOTSUP, "TDX launch: KVM does not offer KVM_X86_TDX_VM (KVM_CAP_VM_TYPES %#x; "
					"kvm_intel.tdx=1?)", rc);
	if ((rc = kvm_call(v, v->kvm_fd, KVM_CREATE_VM, (void *)(uintptr_t)KVM_X86_TDX_VM, "create", "KVM_CREATE_VM")) < 0)
		return rc;
	v->vm_fd = rc;
	struct kvm_tdx_capabilities *cap = calloc(1, sizeof(*cap) + TDX_CPUID_MAX * sizeof(struct kvm_cpuid_entry2));
	if (!cap)
		return err_set(ENOMEM, "out of memory");
	cap->cpuid.nent = TDX_CPUID_MAX;
	rc = tdx_cmd(v, v->vm_fd, KVM_TDX_CAPABILITIES, 0, (uintptr_t)cap, "capabilities");
	uint64_t attrs = cap->supported_attrs, xfam = cap->supported_xfam;
	struct kvm_tdx_init_vm *init = NULL;
	if (!rc && !(init = calloc(1, sizeof(*init) + TDX_CPUID_MAX * sizeof(struct kvm_cpuid_entry2))))
		rc = err_set(ENOMEM, "out of memory");
	if (!rc)
		rc = td_cpuid(v, cap, &init->cpuid);
	free(cap);
	if (rc) {
		free(init);
		return rc;
	}
	if ((q->attributes & ~attrs) || (q->xfam & ~xfam)) {
		free(init);
		return err_set(ENOTSUP, "TDX launch: the TDX module supports attributes %#llx and XFAM %#llx; asked for "
					"%#llx and %#llx", (unsigned long long)attrs, (unsigned long long)xfam,
			       (unsigned long long)q->attributes, (unsigned long long)q->xfam);
	}
	struct kvm_enable_cap ec = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { SPLIT_IRQCHIP_PINS } };
	if ((rc = kvm_call(v, v->vm_fd, KVM_ENABLE_CAP, &ec, "create", "KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP)")) < 0) {
		free(init);
		return rc;
	}
	init->attributes = q->attributes;
	init->xfam = q->xfam;
	memcpy(init->mrconfigid, q->mrconfigid, TDX_MR_SIZE);
	memcpy(init->mrowner, q->mrowner, TDX_MR_SIZE);
	memcpy(init->mrownerconfig, q->mrownerconfig, TDX_MR_SIZE);
	rc = tdx_cmd(v, v->vm_fd, KVM_TDX_INIT_VM, 0, (uintptr_t)init, "init");
	free(init);
	if (rc)
		return rc;
	if ((rc = add_region(v, 0, low)))
		return rc;
	if (fw_lo < FOUR_GIB && (rc = add_region(v, fw_lo, FOUR_GIB - fw_lo)))
		return rc;
	if (q->mem > low && (rc = add_region(v, FOUR_GIB, q->mem - low)))
		return rc;
	for (unsigned i = 0; i < q->vcpus; i++) {
		char step[32];

		snprintf(step, sizeof(step), "vCPU %u", i);
		if ((rc = kvm_call(v, v->vm_fd, KVM_CREATE_VCPU, (void *)(uintptr_t)i, step, "KVM_CREATE_VCPU")) < 0)
			return rc;
		v->vcpu_fd[v->nvcpus++] = rc;
		if ((rc = tdx_cmd(v, rc, KVM_TDX_INIT_VCPU, 0, hob, step)))
			return rc;
	}
	for (size_t i = 0; i < p->n; i++)
		if (!(p->steps[i].flags & PLAN_F_AUG) && (rc = init_mem_region(v, q, i, &p->steps[i])))
			return rc;
	return tdx_cmd(v, v->vm_fd, KVM_TDX_FINALIZE_VM, 0, 0, "finalize");
}

int tdx_backend_launch(struct cc_io *io, const struct tdx_launch_req *req, struct tdx_vm **out)
{
	struct tdx_vm *v = calloc(1, sizeof(*v));
	int rc;

	if (!v)
		return err_set(ENOMEM, "out of memory");
	v->io = io;
	v->kvm_fd = v->vm_fd = -1;
	rc = launch(v, req);
	if (rc) {
		tdx_backend_release(v);
		return rc;
	}
	*out = v;
	return 0;
}

void tdx_backend_view(struct tdx_vm *v, struct cc_vm_view *out)
{
	*out = (struct cc_vm_view){ .io = v->io, .kvm_fd = v->kvm_fd, .vm_fd = v->vm_fd, .slot = v->reg,
				    .nslot = v->nreg, .private_mem = true, .vcpu_fd = v->vcpu_fd, .nvcpus = v->nvcpus };
}
