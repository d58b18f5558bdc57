/* backend_snp.c - `--platform snp`: the SEV-SNP KVM backend as a translator
 * of the launch plan (sev_plan_build, the plan `cvmm measure --mode snp`
 * folds) into the KVM ioctl sequence of
 * Documentation/virt/kvm/x86/amd-memory-encryption.rst and api.rst:
 *   KVM_CREATE_VM(KVM_X86_SNP_VM); KVM_SEV_INIT2; per memory region
 *   KVM_CREATE_GUEST_MEMFD + KVM_SET_USER_MEMORY_REGION2 +
 *   KVM_SET_MEMORY_ATTRIBUTES(PRIVATE); KVM_SEV_SNP_LAUNCH_START;
 *   KVM_SEV_SNP_LAUNCH_UPDATE per plan step with its page type; the vCPUs
 *   with the registers the plan's VMSAs hold (KVM builds the VMSAs from
 *   them at KVM_SEV_SNP_LAUNCH_FINISH); KVM_SEV_SNP_LAUNCH_FINISH.
 * Every call goes through the ioctl seam (vmm/ioctl_rec.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "backend_snp.h"
#include "sev_uapi.h"
#include "vmm/kvm_uapi.h"

#define SNP_MAX_REGIONS 3
#define LOW_RAM_MAX     0x80000000ull /* RAM above this goes above 4 GiB (the 32-bit hole) */
#define FOUR_GIB        0x100000000ull
#define MSR_IA32_CR_PAT 0x277
#define SEV_FEAT_SNP_ACTIVE 0x1ull
#define GHCB_VERSION_SNP 2 /* SNP needs GHCB protocol version 2 (GHCB spec 2.0) */

struct snp_vm {
	struct cc_io *io;
	int kvm_fd, sev_fd, vm_fd;
	struct cc_slot reg[SNP_MAX_REGIONS];
	unsigned nreg;
	int vcpu_fd[SEV_MAX_VCPUS];
	unsigned nvcpus;
	struct snp_cpuid_fn cpuid[SNP_CPUID_MAX]; /* the CPUID page's table */
	size_t ncpuid;
};

/* The firmware's status codes cvmm names (SNP ABI "Status Codes"). */
static const char *fw_error_name(uint32_t e)
{
	switch (e) {
	case SEV_RET_SUCCESS: return "SUCCESS";
	case SEV_RET_INVALID_PLATFORM_STATE: return "INVALID_PLATFORM_STATE";
	case SEV_RET_INVALID_GUEST_STATE: return "INVALID_GUEST_STATE";
	case SEV_RET_INVALID_LEN: return "INVALID_LENGTH";
	case SEV_RET_POLICY_FAILURE: return "POLICY_FAILURE";
	case SEV_RET_INVALID_ADDRESS: return "INVALID_ADDRESS";
	case SEV_RET_INVALID_PARAM: return "INVALID_PARAM";
	case SEV_RET_RESOURCE_LIMIT: return "RESOURCE_LIMIT";
	case SEV_RET_INVALID_PAGE_STATE: return "INVALID_PAGE_STATE";
	default: return "unknown";
	}
}

static int vm_ioctl(struct snp_vm *v, int fd, unsigned long req, void *arg, const char *step, const char *name)
{
	int rc = v->io->ioctl(v->io, fd, req, arg);

	if (rc < 0)
		return err_set(-rc, "SNP launch: %s: %s: %s", step, name, strerror(-rc));
	return rc;
}

/* KVM_MEMORY_ENCRYPT_OP: one line naming the step, the sub-command and the
 * firmware's status (kvm_sev_cmd.error). */
static int sev_cmd(struct snp_vm *v, uint32_t id, void *data, const char *step, const char *name)
{
	struct kvm_sev_cmd c = { .id = id, .data = (uintptr_t)data, .sev_fd = (uint32_t)v->sev_fd };
	int rc = v->io->ioctl(v->io, v->vm_fd, KVM_MEMORY_ENCRYPT_OP, &c);

	if (rc < 0)
		return err_set(-rc, "SNP launch: %s: %s failed: firmware error %#x (%s), %s", step, name, c.error,
			       fw_error_name(c.error), strerror(-rc));
	return 0;
}

void snp_backend_release(struct snp_vm *v)
{
	if (!v)
		return;
	for (unsigned i = 0; i < v->nvcpus; i++)
		v->io->close(v->io, v->vcpu_fd[i]);
	for (unsigned i = 0; i < v->nreg; i++)
		cc_slot_release(v->io, &v->reg[i]);
	if (v->vm_fd >= 0)
		v->io->close(v->io, v->vm_fd);
	if (v->sev_fd >= 0)
		v->io->close(v->io, v->sev_fd);
	if (v->kvm_fd >= 0)
		v->io->close(v->io, v->kvm_fd);
	free(v);
}

/* Private RAM for one slot: guest_memfd for the private pages, anonymous
 * shared backing (where LAUNCH_UPDATE takes its source pages from), the
 * whole range private (api.rst KVM_CREATE_GUEST_MEMFD, KVM_SET_USER_MEMORY_REGION2,
 * KVM_SET_MEMORY_ATTRIBUTES). */
static int add_region(struct snp_vm *v, uint64_t gpa, uint64_t size)
{
	unsigned i = v->nreg++; /* released with the VM whatever happens next */

	return cc_slot_add(v->io, v->vm_fd, i, gpa, size, "SNP launch", &v->reg[i]);
}

/* The CPUID table the guest gets (SNP ABI "CPUID Function Table"): what
 * KVM supports (KVM_GET_SUPPORTED_CPUID), at most SNP_CPUID_MAX functions. */
static int fetch_cpuid(struct snp_vm *v)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		int rc;

		if (!c)
			return err_set(ENOMEM, "out of memory");
		c->nent = n;
		rc = v->io->ioctl(v->io, v->kvm_fd, KVM_GET_SUPPORTED_CPUID, c);
		if (rc == -E2BIG) {
			free(c);
			continue;
		}
		if (rc < 0) {
			free(c);
			return err_set(-rc, "SNP launch: CPUID page: KVM_GET_SUPPORTED_CPUID: %s", strerror(-rc));
		}
		v->ncpuid = 0;
		for (unsigned i = 0; i < c->nent && v->ncpuid < SNP_CPUID_MAX; i++) {
			const struct kvm_cpuid_entry2 *e = &c->entries[i];

			v->cpuid[v->ncpuid++] = (struct snp_cpuid_fn){
				.eax_in = e->function,
				.ecx_in = e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX ? e->index : 0,
				.eax = e->eax, .ebx = e->ebx, .ecx = e->ecx, .edx = e->edx,
			};
		}
		free(c);
		return 0;
	}
	return err_set(E2BIG, "SNP launch: CPUID page: KVM_GET_SUPPORTED_CPUID: too many entries");
}

/* The firmware wrote back the CPUID values it accepts (SNP ABI,
 * SNP_LAUNCH_UPDATE with PAGE_TYPE_CPUID): name the entries that differ. */
static void cpuid_diff(const uint8_t *sent, const uint8_t *back, char *out, size_t cap)
{
	static const char *const reg[] = { "eax", "ebx", "ecx", "edx" };
	uint32_t count = le32(sent);
	size_t used = 0;
	unsigned shown = 0;

	out[0] = 0;
	for (uint32_t i = 0; i < count && i < SNP_CPUID_MAX; i++) {
		const uint8_t *a = sent + 16 + 48 * i, *b = back + 16 + 48 * i;

		for (unsigned r = 0; r < 4; r++) {
			uint32_t x = le32(a + 24 + 4 * r), y = le32(b + 24 + 4 * r);

			if (x == y)
				continue;
			if (shown++ < 4 && used < cap)
				used += (size_t)snprintf(out + used, cap - used, "%sfn %#x/%#x %s %#x -> %#x",
							 used ? ", " : "", le32(a), le32(a + 4), reg[r], x, y);
		}
	}
	if (shown > 4 && used < cap)
		snprintf(out + used, cap - used, " (+%u more)", shown - 4);
	if (!shown)
		snprintf(out, cap, "no entry differs");
}

/* SNP_LAUNCH_UPDATE page types of the plan's kinds (sev_uapi.h). */
static int page_type(enum plan_kind k)
{
	switch (k) {
	case PLAN_NORMAL:
	case PLAN_KERNEL_HASHES: return KVM_SEV_SNP_PAGE_TYPE_NORMAL;
	case PLAN_ZERO: return KVM_SEV_SNP_PAGE_TYPE_ZERO;
	case PLAN_UNMEASURED: return KVM_SEV_SNP_PAGE_TYPE_UNMEASURED;
	case PLAN_SECRETS: return KVM_SEV_SNP_PAGE_TYPE_SECRETS;
	case PLAN_CPUID: return KVM_SEV_SNP_PAGE_TYPE_CPUID;
	default: return -1;
	}
}

static int launch_update(struct snp_vm *v, size_t index, const struct plan_step *s)
{
	struct cc_slot *r;
	char step[128];
	int type = page_type(s->kind);
	uint64_t len = (s->len + SEV_PAGE_SIZE - 1) / SEV_PAGE_SIZE * SEV_PAGE_SIZE;

	snprintf(step, sizeof(step), "plan step %zu \"%s\" at gpa %#llx", index, s->label, (unsigned long long)s->gpa);
	if (type < 0)
		return err_set(EINVAL, "SNP launch: %s: a %s step has no SNP page type", step, plan_kind_name(s->kind));
	if (s->gpa % SEV_PAGE_SIZE || !(r = cc_slot_find(v->reg, v->nreg, s->gpa, len)))
		return err_set(EINVAL, "SNP launch: %s: %#llx bytes are not page aligned inside guest memory", step,
			       (unsigned long long)len);
	uint8_t *host = r->host + (s->gpa - r->gpa);
	/* the bytes the plan says, in the shared backing KVM copies from */
	uint8_t sent[SEV_PAGE_SIZE];
	memset(host, 0, len);
	if (s->data && type == KVM_SEV_SNP_PAGE_TYPE_NORMAL)
		memcpy(host, s->data, s->len);
	if (type == KVM_SEV_SNP_PAGE_TYPE_CPUID) {
		int rc = snp_cpuid_page_encode(host, v->cpuid, v->ncpuid);

		if (rc)
			return err_wrap(-rc, "SNP launch: %s", step);
		memcpy(sent, host, sizeof(sent));
	}
	struct kvm_sev_snp_launch_update u = {
		.gfn_start = s->gpa / SEV_PAGE_SIZE, .uaddr = (uintptr_t)host, .len = len, .type = (uint8_t)type,
	};
	/* KVM advances gfn_start/uaddr/len; an interrupted call is repeated
	 * from where it stopped (amd-memory-encryption.rst) */
	while (u.len) {
		struct kvm_sev_cmd c = { .id = KVM_SEV_SNP_LAUNCH_UPDATE, .data = (uintptr_t)&u,
					 .sev_fd = (uint32_t)v->sev_fd };
		int rc = v->io->ioctl(v->io, v->vm_fd, KVM_MEMORY_ENCRYPT_OP, &c);

		if (rc == -EAGAIN || rc == -EINTR)
			continue;
		if (rc < 0) {
			if (type == KVM_SEV_SNP_PAGE_TYPE_CPUID && c.error == SEV_RET_INVALID_PARAM) {
				char diff[256];

				cpuid_diff(sent, host, diff, sizeof(diff));
				return err_set(-rc, "SNP launch: %s: KVM_SEV_SNP_LAUNCH_UPDATE failed: firmware error "
						    "%#x (%s): the firmware rejected the CPUID page: %s", step, c.error,
					       fw_error_name(c.error), diff);
			}
			return err_set(-rc, "SNP launch: %s: KVM_SEV_SNP_LAUNCH_UPDATE failed: firmware error %#x (%s), "
					    "%s", step, c.error, fw_error_name(c.error), strerror(-rc));
		}
		if (u.len && rc == 0 && u.gfn_start == s->gpa / SEV_PAGE_SIZE)
			return err_set(EIO, "SNP launch: %s: KVM_SEV_SNP_LAUNCH_UPDATE made no progress", step);
	}
	return 0;
}

static struct kvm_segment kvm_seg(const struct sev_seg *s)
{
	return (struct kvm_segment){
		.base = s->base, .limit = s->limit, .selector = s->selector,
		.type = s->attrib & 0xf, .s = (s->attrib >> 4) & 1, .dpl = (s->attrib >> 5) & 3,
		.present = (s->attrib >> 7) & 1, .avl = (s->attrib >> 8) & 1, .l = (s->attrib >> 9) & 1,
		.db = (s->attrib >> 10) & 1, .g = (s->attrib >> 11) & 1,
		.unusable = !((s->attrib >> 7) & 1),
	};
}

static int vcpu_call(struct cc_io *io, int fd, unsigned long req, void *arg, const char *who, unsigned index,
		     const char *name)
{
	int rc = io->ioctl(io, fd, req, arg);

	if (rc < 0)
		return err_set(-rc, "%s: vCPU %u: %s: %s", who, index, name, strerror(-rc));
	return rc;
}

/* Set vCPU fd's registers to the state the plan's VMSA holds. KVM fills
 * the VMSA from them (SNP_LAUNCH_FINISH, SEV-ES LAUNCH_UPDATE_VMSA); what
 * cvmm does not set (DR6, DR7, XCR0) must be KVM's reset values, and
 * SEV_FEATURES come from INIT2. */
int sev_vcpu_load(struct cc_io *io, const char *who, unsigned index, int fd, const uint8_t *vmsa, uint64_t features)
{
	struct sev_cpu_state st;
	int rc;

	sev_vmsa_decode(vmsa, &st);
	if (st.dr6 != 0xffff0ff0 || st.dr7 != 0x400 || st.xcr0 != 1)
		return err_set(EINVAL, "%s: vCPU %u: the plan's VMSA has DR6 %#llx DR7 %#llx XCR0 %#llx, not KVM's "
				       "reset values (cvmm sets only segments, control and general registers, FPU and PAT)",
			       who, index, (unsigned long long)st.dr6, (unsigned long long)st.dr7,
			       (unsigned long long)st.xcr0);
	if (st.sev_features != features)
		return err_set(EINVAL, "%s: vCPU %u: the plan's VMSA has SEV_FEATURES %#llx, the VM %#llx", who, index,
			       (unsigned long long)st.sev_features, (unsigned long long)features);
	struct kvm_sregs s = {
		.cs = kvm_seg(&st.cs), .ds = kvm_seg(&st.ds), .es = kvm_seg(&st.es), .fs = kvm_seg(&st.fs),
		.gs = kvm_seg(&st.gs), .ss = kvm_seg(&st.ss), .tr = kvm_seg(&st.tr), .ldt = kvm_seg(&st.ldtr),
		.gdt = { .base = st.gdtr.base, .limit = (uint16_t)st.gdtr.limit },
		.idt = { .base = st.idtr.base, .limit = (uint16_t)st.idtr.limit },
		.cr0 = st.cr0, .cr3 = st.cr3, .cr4 = st.cr4, .efer = st.efer,
	};
	if ((rc = vcpu_call(io, fd, KVM_SET_SREGS, &s, who, index, "KVM_SET_SREGS")) < 0)
		return rc;
	struct kvm_regs r = {
		.rax = st.rax, .rbx = st.rbx, .rcx = st.rcx, .rdx = st.rdx, .rsi = st.rsi, .rdi = st.rdi,
		.rsp = st.rsp, .rbp = st.rbp, .rip = st.rip, .rflags = st.rflags,
	};
	if ((rc = vcpu_call(io, fd, KVM_SET_REGS, &r, who, index, "KVM_SET_REGS")) < 0)
		return rc;
	struct kvm_fpu f = { .fcw = st.x87_fcw, .mxcsr = st.mxcsr };
	if ((rc = vcpu_call(io, fd, KVM_SET_FPU, &f, who, index, "KVM_SET_FPU")) < 0)
		return rc;
	struct kvm_msrs_fixed m = { .nmsrs = 1, .entries = { { .index = MSR_IA32_CR_PAT, .data = st.g_pat } } };
	if ((rc = vcpu_call(io, fd, KVM_SET_MSRS, &m, who, index, "KVM_SET_MSRS")) < 0)
		return rc;
	if (rc != 1)
		return err_set(EIO, "%s: vCPU %u: KVM_SET_MSRS set %d of 1 MSRs (IA32_PAT)", who, index, rc);
	return 0;
}

static int launch(struct snp_vm *v, const struct snp_launch_req *q)
{
	const struct launch_plan *p = q->plan;
	const uint8_t *vmsa[SEV_MAX_VCPUS] = {0};
	uint64_t fw_lo = FOUR_GIB;
	int rc;

	if (!(q->guest_features & SEV_FEAT_SNP_ACTIVE))
		return err_set(EINVAL, "--guest-features %#llx: an SNP guest's SEV_FEATURES has SNPActive (bit 0)",
			       (unsigned long long)q->guest_features);
	if (!q->vcpus || q->vcpus > SEV_MAX_VCPUS)
		return err_set(EINVAL, "--vcpus: %u is out of range (1..%u)", q->vcpus, SEV_MAX_VCPUS);
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_step *s = &p->steps[i];

		if (s->kind == PLAN_VMSA) {
			if (s->vcpu < 0 || (unsigned)s->vcpu >= q->vcpus)
				return err_set(EINVAL, "SNP launch: plan step %zu: VMSA of vCPU %d, the VM has %u", i,
					       s->vcpu, q->vcpus);
			vmsa[s->vcpu] = s->data;
		} else if (s->gpa >= LOW_RAM_MAX && s->gpa < fw_lo) {
			fw_lo = s->gpa & ~(uint64_t)(SEV_PAGE_SIZE - 1); /* the firmware, ending at 4 GiB */
		}
	}
	for (unsigned i = 0; i < q->vcpus; i++)
		if (!vmsa[i])
			return err_set(EINVAL, "SNP launch: the plan has no VMSA for vCPU %u", i);

	if ((rc = v->io->open(v->io, "/dev/kvm")) < 0)
		return err_set(-rc, "SNP launch: /dev/kvm: %s", strerror(-rc));
	v->kvm_fd = rc;
	if ((rc = v->io->open(v->io, "/dev/sev")) < 0)
		return err_set(-rc, "SNP launch: /dev/sev: %s", strerror(-rc));
	v->sev_fd = rc;
	rc = vm_ioctl(v, v->kvm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_VM_TYPES, "host",
		      "KVM_CHECK_EXTENSION(KVM_CAP_VM_TYPES)");
	if (rc < 0)
		return rc;
	if (!(rc & (1 << KVM_X86_SNP_VM)))
		return err_set(ENOTSUP, "SNP launch: KVM does not offer KVM_X86_SNP_VM (KVM_CAP_VM_TYPES %#x; "
					"kvm_amd.sev_snp=1?)", rc);
	if ((rc = fetch_cpuid(v)))
		return rc;
	rc = vm_ioctl(v, v->kvm_fd, KVM_CREATE_VM, (void *)(uintptr_t)KVM_X86_SNP_VM, "create", "KVM_CREATE_VM");
	if (rc < 0)
		return rc;
	v->vm_fd = rc;
	/* vmsa_features: the SEV_FEATURES besides SNPActive, which KVM adds
	 * itself for an SNP VM and does not take here */
	struct kvm_sev_init init = { .vmsa_features = q->guest_features & ~SEV_FEAT_SNP_ACTIVE,
				     .ghcb_version = GHCB_VERSION_SNP };
	if ((rc = sev_cmd(v, KVM_SEV_INIT2, &init, "init", "KVM_SEV_INIT2")))
		return rc;
	uint64_t low = q->mem < LOW_RAM_MAX ? q->mem : LOW_RAM_MAX;
	if ((rc = add_region(v, 0, low)))
		return rc;
	if ((rc = add_region(v, fw_lo, FOUR_GIB - fw_lo)))
		return rc;
	if (q->mem > low && (rc = add_region(v, FOUR_GIB, q->mem - low)))
		return rc;
	struct kvm_sev_snp_launch_start start = { .policy = q->policy };
	if ((rc = sev_cmd(v, KVM_SEV_SNP_LAUNCH_START, &start, "launch start", "KVM_SEV_SNP_LAUNCH_START")))
		return rc;
	for (size_t i = 0; i < p->n; i++)
		if (p->steps[i].kind != PLAN_VMSA && (rc = launch_update(v, i, &p->steps[i])))
			return rc;
	for (unsigned i = 0; i < q->vcpus; i++) {
		char step[32];

		snprintf(step, sizeof(step), "vCPU %u", i);
		rc = vm_ioctl(v, v->vm_fd, KVM_CREATE_VCPU, (void *)(uintptr_t)i, step, "KVM_CREATE_VCPU");
		if (rc < 0)
			return rc;
		v->vcpu_fd[v->nvcpus++] = rc;
		if ((rc = sev_vcpu_load(v->io, "SNP launch", i, v->vcpu_fd[i], vmsa[i], q->guest_features)))
			return rc;
	}
	struct kvm_sev_snp_launch_finish fin = {
		.id_block_uaddr = (uintptr_t)q->id_block, .id_auth_uaddr = (uintptr_t)q->id_auth,
		.id_block_en = q->id_block != NULL, .auth_key_en = q->id_block && q->author_key_en,
	};
	memcpy(fin.host_data, q->host_data, sizeof(fin.host_data));
	return sev_cmd(v, KVM_SEV_SNP_LAUNCH_FINISH, &fin, "launch finish", "KVM_SEV_SNP_LAUNCH_FINISH");
}

int snp_backend_launch(struct cc_io *io, const struct snp_launch_req *req, struct snp_vm **out)
{
	struct snp_vm *v = calloc(1, sizeof(*v));
	int rc;

	if (!v)
		return err_set(ENOMEM, "out of memory");
	v->io = io;
	v->kvm_fd = v->sev_fd = v->vm_fd = -1;
	rc = launch(v, req);
	if (rc) {
		snp_backend_release(v);
		return rc;
	}
	*out = v;
	return 0;
}

void snp_backend_view(struct snp_vm *v, struct cc_vm_view *out)
{
	*out = (struct cc_vm_view){ .io = v->io, .kvm_fd = v->kvm_fd, .vm_fd = v->vm_fd, .slot = v->reg,
				    .nslot = v->nreg, .private_mem = true, .vcpu_fd = v->vcpu_fd, .nvcpus = v->nvcpus };
}
