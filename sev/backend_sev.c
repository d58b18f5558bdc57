/* backend_sev.c - `--platform sev` and `--platform sev-es`: the SEV and
 * SEV-ES KVM backend as a translator of the launch plan (sev_plan_build,
 * what `cvmm measure --platform sev|sev-es` folds) into the ioctls of
 * Documentation/virt/kvm/x86/amd-memory-encryption.rst:
 *   KVM_CREATE_VM(KVM_X86_SEV_VM | KVM_X86_SEV_ES_VM); KVM_SEV_INIT2;
 *   guest RAM in ordinary memory slots, pinned with
 *   KVM_MEMORY_ENCRYPT_REG_REGION (SEV has no guest_memfd);
 *   KVM_SEV_LAUNCH_START {policy}; KVM_SEV_LAUNCH_UPDATE_DATA per plan
 *   step; the vCPUs (SEV-ES: registers = the plan's VMSAs, then
 *   KVM_SEV_LAUNCH_UPDATE_VMSA); KVM_SEV_LAUNCH_MEASURE; KVM_SEV_LAUNCH_FINISH.
 * Every call goes through the ioctl seam (vmm/ioctl_rec.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/common.h"
#include "backend_snp.h"
#include "sev_uapi.h"
#include "vmm/kvm_uapi.h"

#define SEV_MAX_REGIONS 3
#define LOW_RAM_MAX     0x80000000ull
#define FOUR_GIB        0x100000000ull

struct sev_region {
	uint64_t gpa, size;
	uint8_t *host;
};

struct sev_vm {
	struct cc_io *io;
	const char *who;
	int kvm_fd, sev_fd, vm_fd;
	struct sev_region reg[SEV_MAX_REGIONS];
	unsigned nreg;
	int vcpu_fd[SEV_MAX_VCPUS];
	unsigned nvcpus;
	struct cc_slot slot[SEV_MAX_REGIONS]; /* sev_backend_view */
};

static int kvm_call(struct sev_vm *v, int fd, unsigned long req, void *arg, const char *step, const char *name)
{
	int rc = v->io->ioctl(v->io, fd, req, arg);

	if (rc < 0)
		return err_set(-rc, "%s: %s: %s: %s", v->who, step, name, strerror(-rc));
	return rc;
}

static int sev_cmd(struct sev_vm *v, uint32_t id, void *data, const char *step, const char *name)
{
	struct kvm_sev_cmd c = { .id = id, .data = (uintptr_t)data, .sev_fd = (uint32_t)v->sev_fd };
	int rc = v->io->ioctl(v->io, v->vm_fd, KVM_MEMORY_ENCRYPT_OP, &c);

	if (rc < 0)
		return err_set(-rc, "%s: %s: %s failed: firmware error %#x, %s", v->who, step, name, c.error,
			       strerror(-rc));
	return 0;
}

void sev_backend_release(struct sev_vm *v)
{
	if (!v)
		return;
	for (unsigned i = 0; i < v->nvcpus; i++)
		v->io->close(v->io, v->vcpu_fd[i]);
	for (unsigned i = 0; i < v->nreg; i++)
		if (v->reg[i].host)
			munmap(v->reg[i].host, v->reg[i].size);
	if (v->vm_fd >= 0)
		v->io->close(v->io, v->vm_fd);
	if (v->sev_fd >= 0)
		v->io->close(v->io, v->sev_fd);
	if (v->kvm_fd >= 0)
		v->io->close(v->io, v->kvm_fd);
	free(v);
}

static int add_region(struct sev_vm *v, uint64_t gpa, uint64_t size)
{
	struct sev_region *r = &v->reg[v->nreg];
	char step[32];
	int rc;

	snprintf(step, sizeof(step), "memory slot %u", v->nreg);
	r->gpa = gpa;
	r->size = size;
	r->host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->host == MAP_FAILED) {
		r->host = NULL;
		return err_set(ENOMEM, "%s: %s: cannot map %llu bytes", v->who, step, (unsigned long long)size);
	}
	v->nreg++;
	struct kvm_userspace_memory_region2 m = {
		.slot = v->nreg - 1, .guest_phys_addr = gpa, .memory_size = size, .userspace_addr = (uintptr_t)r->host,
	};
	if ((rc = kvm_call(v, v->vm_fd, KVM_SET_USER_MEMORY_REGION2, &m, step, "KVM_SET_USER_MEMORY_REGION2")) < 0)
		return rc;
	/* SEV encrypts pages in place: KVM pins them (amd-memory-encryption.rst,
	 * KVM_MEMORY_ENCRYPT_REG_REGION) */
	struct kvm_enc_region e = { .addr = (uintptr_t)r->host, .size = size };
	rc = kvm_call(v, v->vm_fd, KVM_MEMORY_ENCRYPT_REG_REGION, &e, step, "KVM_MEMORY_ENCRYPT_REG_REGION");
	return rc < 0 ? rc : 0;
}

static struct sev_region *region_of(struct sev_vm *v, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < v->nreg; i++)
		if (gpa >= v->reg[i].gpa && range_ok(gpa - v->reg[i].gpa, len, v->reg[i].size))
			return &v->reg[i];
	return NULL;
}

/* amd-memory-encryption.rst KVM_SEV_LAUNCH_SECRET: {hdr_uaddr, hdr_len,
 * guest_uaddr, guest_len, trans_uaddr, trans_len}; the PSP decrypts the
 * packet with the TEK of the owner's session and writes it to the guest
 * pages at guest_uaddr (our mapping of secret_gpa). */
static int launch_secret(struct sev_vm *v, const struct sev_launch_req *q)
{
	struct sev_region *r;
	char step[64];

	snprintf(step, sizeof(step), "launch secret at gpa %#llx", (unsigned long long)q->secret_gpa);
	if (!q->secret_len || q->secret_len > UINT32_MAX || !(r = region_of(v, q->secret_gpa, q->secret_len)))
		return err_set(EINVAL, "%s: %s: %zu bytes there are not guest memory", v->who, step, q->secret_len);
	struct kvm_sev_launch_secret s = {
		.hdr_uaddr = (uintptr_t)q->secret_hdr, .hdr_len = SEV_LAUNCH_SECRET_HDR_LEN,
		.guest_uaddr = (uintptr_t)(r->host + (q->secret_gpa - r->gpa)), .guest_len = (uint32_t)q->secret_len,
		.trans_uaddr = (uintptr_t)q->secret, .trans_len = (uint32_t)q->secret_len,
	};
	v->io->annotate(v->io, "gpa", (int64_t)q->secret_gpa);
	return sev_cmd(v, KVM_SEV_LAUNCH_SECRET, &s, step, "KVM_SEV_LAUNCH_SECRET");
}

static int launch(struct sev_vm *v, const struct sev_launch_req *q, uint8_t measurement[48])
{
	const struct launch_plan *p = q->plan;
	bool es = q->mode == SEV_MODE_SEV_ES;
	unsigned long type = es ? KVM_X86_SEV_ES_VM : KVM_X86_SEV_VM;
	const uint8_t *vmsa[SEV_MAX_VCPUS] = {0};
	uint64_t fw_lo = FOUR_GIB, low = q->mem < LOW_RAM_MAX ? q->mem : LOW_RAM_MAX;
	int rc;

	if (!q->vcpus || q->vcpus > SEV_MAX_VCPUS)
		return err_set(EINVAL, "--vcpus: %u is out of range (1..%u)", q->vcpus, SEV_MAX_VCPUS);
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_step *s = &p->steps[i];

		if (s->kind == PLAN_VMSA && s->vcpu >= 0 && (unsigned)s->vcpu < q->vcpus)
			vmsa[s->vcpu] = s->data;
		else if (s->kind != PLAN_VMSA && s->gpa >= low && s->gpa < fw_lo)
			fw_lo = s->gpa & ~4095ull;
	}
	for (unsigned i = 0; es && i < q->vcpus; i++)
		if (!vmsa[i])
			return err_set(EINVAL, "%s: the plan has no VMSA for vCPU %u", v->who, i);

	if ((rc = v->io->open(v->io, "/dev/kvm")) < 0)
		return err_set(-rc, "%s: /dev/kvm: %s", v->who, strerror(-rc));
	v->kvm_fd = rc;
	if ((rc = v->io->open(v->io, "/dev/sev")) < 0)
		return err_set(-rc, "%s: /dev/sev: %s", v->who, strerror(-rc));
	v->sev_fd = rc;
	rc = kvm_call(v, v->kvm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_VM_TYPES, "host",
		      "KVM_CHECK_EXTENSION(KVM_CAP_VM_TYPES)");
	if (rc < 0)
		return rc;
	if (!(rc & (1 << type)))
		return err_set(ENOTSUP, "%s: KVM does not offer VM type %lu (KVM_CAP_VM_TYPES %#x; kvm_amd.sev%s=1?)",
			       v->who, type, rc, es ? "_es" : "");
	if ((rc = kvm_call(v, v->kvm_fd, KVM_CREATE_VM, (void *)(uintptr_t)type, "create", "KVM_CREATE_VM")) < 0)
		return rc;
	v->vm_fd = rc;
	/* SEV-ES VMSAs carry SEV_FEATURES 0 here (sev_plan_build); ghcb_version
	 * 0 is KVM's default (and the only value for SEV) */
	struct kvm_sev_init init = { .vmsa_features = 0 };
	if ((rc = sev_cmd(v, KVM_SEV_INIT2, &init, "init", "KVM_SEV_INIT2")))
		return rc;
	if ((rc = add_region(v, 0, low)))
		return rc;
	if (fw_lo < FOUR_GIB && (rc = add_region(v, fw_lo, FOUR_GIB - fw_lo)))
		return rc;
	if (q->mem > low && (rc = add_region(v, FOUR_GIB, q->mem - low)))
		return rc;
	struct kvm_sev_launch_start start = { .policy = q->policy };
	if (!q->dh_cert != !q->session)
		return err_set(EINVAL, "%s: the guest owner's PDH certificate and session blob go together", v->who);
	if (q->dh_cert) {
		start.dh_uaddr = (uintptr_t)q->dh_cert;
		start.dh_len = (uint32_t)q->dh_cert_len;
		start.session_uaddr = (uintptr_t)q->session;
		start.session_len = (uint32_t)q->session_len;
	}
	if ((rc = sev_cmd(v, KVM_SEV_LAUNCH_START, &start, "launch start", "KVM_SEV_LAUNCH_START")))
		return rc;
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_step *s = &p->steps[i];
		struct sev_region *r;
		char step[96];

		if (s->kind == PLAN_VMSA)
			continue;
		snprintf(step, sizeof(step), "plan step %zu \"%s\" at gpa %#llx", i, s->label,
			 (unsigned long long)s->gpa);
		if (!(r = region_of(v, s->gpa, s->len)) || s->len > UINT32_MAX)
			return err_set(EINVAL, "%s: %s: outside guest memory", v->who, step);
		uint8_t *host = r->host + (s->gpa - r->gpa);
		if (s->data)
			memcpy(host, s->data, s->len);
		else
			memset(host, 0, s->len);
		struct kvm_sev_launch_update_data u = { .uaddr = (uintptr_t)host, .len = (uint32_t)s->len };
		if ((rc = sev_cmd(v, KVM_SEV_LAUNCH_UPDATE_DATA, &u, step, "KVM_SEV_LAUNCH_UPDATE_DATA")))
			return rc;
	}
	for (unsigned i = 0; i < q->vcpus; i++) {
		char step[32];

		snprintf(step, sizeof(step), "vCPU %u", i);
		if ((rc = kvm_call(v, v->vm_fd, KVM_CREATE_VCPU, (void *)(uintptr_t)i, step, "KVM_CREATE_VCPU")) < 0)
			return rc;
		v->vcpu_fd[v->nvcpus++] = rc;
		if (es && (rc = sev_vcpu_load(v->io, v->who, i, v->vcpu_fd[i], vmsa[i], 0)))
			return rc;
	}
	if (es && (rc = sev_cmd(v, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL, "VMSAs", "KVM_SEV_LAUNCH_UPDATE_VMSA")))
		return rc;
	struct kvm_sev_launch_measure m = { .uaddr = (uintptr_t)measurement, .len = 48 };
	if ((rc = sev_cmd(v, KVM_SEV_LAUNCH_MEASURE, &m, "measure", "KVM_SEV_LAUNCH_MEASURE")))
		return rc;
	if (q->secret && (rc = launch_secret(v, q)))
		return rc;
	return sev_cmd(v, KVM_SEV_LAUNCH_FINISH, NULL, "launch finish", "KVM_SEV_LAUNCH_FINISH");
}

int sev_backend_launch(struct cc_io *io, const struct sev_launch_req *req, uint8_t measurement[48], struct sev_vm **out)
{
	struct sev_vm *v = calloc(1, sizeof(*v));
	int rc;

	if (!v)
		return err_set(ENOMEM, "out of memory");
	v->io = io;
	v->who = req->mode == SEV_MODE_SEV_ES ? "SEV-ES launch" : "SEV launch";
	v->kvm_fd = v->sev_fd = v->vm_fd = -1;
	rc = launch(v, req, measurement);
	if (rc) {
		sev_backend_release(v);
		return rc;
	}
	*out = v;
	return 0;
}

void sev_backend_view(struct sev_vm *v, struct cc_vm_view *out)
{
	/* SEV keeps guest RAM in ordinary slots: no guest_memfd, no attributes */
	for (unsigned i = 0; i < v->nreg; i++)
		v->slot[i] = (struct cc_slot){ .gpa = v->reg[i].gpa, .size = v->reg[i].size, .host = v->reg[i].host,
					      .gmem_fd = -1 };
	*out = (struct cc_vm_view){ .io = v->io, .kvm_fd = v->kvm_fd, .vm_fd = v->vm_fd, .slot = v->slot,
				    .nslot = v->nreg, .private_mem = false, .vcpu_fd = v->vcpu_fd, .nvcpus = v->nvcpus };
}
