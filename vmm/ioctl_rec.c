/* ioctl_rec.c - the ioctl seam (ioctl_rec.h): the real implementation and
 * the recording stand-in. The stand-in models only what a launch needs to
 * see back: fds from KVM_CREATE_VM / KVM_CREATE_GUEST_MEMFD / KVM_CREATE_VCPU,
 * KVM_CAP_VM_TYPES with every CC type, KVM advancing struct
 * kvm_sev_snp_launch_update as it goes (amd-memory-encryption.rst,
 * KVM_SEV_SNP_LAUNCH_UPDATE), and the PSP's PAGE_INFO chain (SNP ABI
 * SNP_LAUNCH_UPDATE) over the pages passed plus the VMSAs KVM makes from
 * each vCPU's registers at SNP_LAUNCH_FINISH. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/common.h"
#include "sev/sev.h"
#include "sev/sev_uapi.h"
#include "tdx/tdx.h"
#include "tdx/tdx_uapi.h"
#include "vmm/ioctl_rec.h"
#include "vmm/kvm_uapi.h"

/* ---------------- the real one ---------------- */
static int real_open(struct cc_io *io, const char *path)
{
	(void)io;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int real_ioctl(struct cc_io *io, int fd, unsigned long req, void *arg)
{
	(void)io;
	int rc = ioctl(fd, req, arg);
	return rc < 0 ? -errno : rc;
}

static void real_close(struct cc_io *io, int fd)
{
	(void)io;
	close(fd);
}

static void real_annotate(struct cc_io *io, const char *key, int64_t value)
{
	(void)io;
	(void)key;
	(void)value;
}

static int real_fallocate(struct cc_io *io, int fd, int mode, uint64_t offset, uint64_t len)
{
	(void)io;
	return fallocate(fd, mode, (off_t)offset, (off_t)len) ? -errno : 0;
}

static int real_madvise(struct cc_io *io, void *addr, size_t len, int advice)
{
	(void)io;
	return madvise(addr, len, advice) ? -errno : 0;
}

static struct kvm_run *real_map_run(struct cc_io *io, int kvm_fd, int vcpu_fd, size_t *len)
{
	int n = real_ioctl(io, kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	void *p;

	if (n < (int)sizeof(struct kvm_run)) {
		err_set(n < 0 ? -n : EINVAL, "KVM_GET_VCPU_MMAP_SIZE: %s", n < 0 ? strerror(-n) : "too small");
		return NULL;
	}
	p = mmap(NULL, (size_t)n, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
	if (p == MAP_FAILED) {
		err_set(errno, "mmap of the vCPU's kvm_run: %s", strerror(errno));
		return NULL;
	}
	*len = (size_t)n;
	return p;
}

static void real_unmap_run(struct cc_io *io, struct kvm_run *run, size_t len)
{
	(void)io;
	munmap(run, len);
}

struct cc_io cc_io_real = { real_open, real_ioctl, real_close, real_annotate, real_fallocate, real_madvise,
			    real_map_run, real_unmap_run };

/* ---------------- the recording stand-in ---------------- */
#define REC_FD_BASE 100
#define REC_MAX_FDS 1024
#define MSR_IA32_CR_PAT 0x277

enum rec_kind { REC_FREE, REC_DEV, REC_VM, REC_VCPU, REC_GMEM };

struct rec_fd {
	enum rec_kind kind;
	unsigned vcpu;            /* REC_VCPU: its id */
	struct sev_cpu_state st;  /* REC_VCPU: what KVM would put in its VMSA */
};

struct cc_rec {
	struct cc_io io;          /* first: container of the io pointer */
	FILE *f;
	bool write_failed;
	unsigned calls, fail_nth;
	int fail_err;
	uint64_t fail_fw;
	struct rec_fd fd[REC_MAX_FDS];
	unsigned long vm_type;
	uint64_t vmsa_features;
	uint8_t digest[SNP_DIGEST_LEN];
	bool measured;
	/* TDX: the pages TDH.MEM.PAGE.ADDed (copies), folded at FINALIZE */
	struct launch_plan td;
	uint8_t mrtd[TDX_MR_SIZE];
	bool finalized;
	/* SEV / SEV-ES: SHA-256 over LAUNCH_UPDATE_DATA and _VMSA bytes */
	EVP_MD_CTX *sev_ctx;
	uint8_t sev_digest[32];
	bool sev_measured;
	/* cc_io.annotate: added to the next line */
	char note_key[32];
	int64_t note_val;
	bool note;
	/* run time: KVM_RUN's stand-in, the kvm_run of each vCPU fd */
	int (*on_run)(void *ctx, int vcpu_fd, struct kvm_run *run);
	void *on_run_ctx;
	struct kvm_run *run_of[REC_MAX_FDS];
	pthread_mutex_t lock;     /* the quote worker's KVM_SIGNAL_MSI comes from another thread */
};

static struct cc_rec *rec_of(struct cc_io *io) { return (struct cc_rec *)io; }

static struct rec_fd *slot(struct cc_rec *r, int fd)
{
	if (fd < REC_FD_BASE || fd >= REC_FD_BASE + REC_MAX_FDS || r->fd[fd - REC_FD_BASE].kind == REC_FREE)
		return NULL;
	return &r->fd[fd - REC_FD_BASE];
}

static int new_fd(struct cc_rec *r, enum rec_kind k)
{
	for (int i = 0; i < REC_MAX_FDS; i++)
		if (r->fd[i].kind == REC_FREE) {
			memset(&r->fd[i], 0, sizeof(r->fd[i]));
			r->fd[i].kind = k;
			return REC_FD_BASE + i;
		}
	return -EMFILE;
}

static void emit(struct cc_rec *r, json_t *o)
{
	if (r->note) {
		json_object_set_new(o, r->note_key, json_integer(r->note_val));
		r->note = false;
	}
	if (r->f && !r->write_failed) {
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

		if (!s || fputs(s, r->f) < 0 || fputc('\n', r->f) < 0)
			r->write_failed = true;
		free(s);
	}
	json_decref(o);
}

static json_t *hexstr(const uint8_t *b, size_t n)
{
	char buf[2 * 128 + 1];

	hex_encode(b, n, buf);
	return json_string(buf);
}

static json_t *hexnum(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	return json_string(buf);
}

static void sha384(const uint8_t *p, size_t n, uint8_t out[48])
{
	unsigned len = 48;

	if (!EVP_Digest(p, n, out, &len, EVP_sha384(), NULL))
		memset(out, 0, 48);
}

/* One PAGE_INFO step of the PSP (sev/digest.c folds whole plans; here the
 * chain is extended a page at a time, in the order pages arrive). */
static int fold_page(struct cc_rec *r, uint64_t gpa, enum plan_kind kind, const uint8_t *page)
{
	struct plan_step s = { .gpa = gpa, .len = SEV_PAGE_SIZE, .kind = kind, .data = page, .vcpu = -1 };
	struct launch_plan p = { .steps = &s, .n = 1, .cap = 1 };

	return snp_digest_fold(&p, 0, r->digest, r->digest, NULL, NULL);
}

static enum plan_kind kind_of_page_type(unsigned t)
{
	switch (t) {
	case KVM_SEV_SNP_PAGE_TYPE_NORMAL: return PLAN_NORMAL;
	case KVM_SEV_SNP_PAGE_TYPE_ZERO: return PLAN_ZERO;
	case KVM_SEV_SNP_PAGE_TYPE_UNMEASURED: return PLAN_UNMEASURED;
	case KVM_SEV_SNP_PAGE_TYPE_SECRETS: return PLAN_SECRETS;
	case KVM_SEV_SNP_PAGE_TYPE_CPUID: return PLAN_CPUID;
	default: return (enum plan_kind)-1;
	}
}

static const char *sev_cmd_name(unsigned id)
{
	switch (id) {
	case KVM_SEV_INIT2: return "KVM_SEV_INIT2";
	case KVM_SEV_LAUNCH_START: return "KVM_SEV_LAUNCH_START";
	case KVM_SEV_LAUNCH_UPDATE_DATA: return "KVM_SEV_LAUNCH_UPDATE_DATA";
	case KVM_SEV_LAUNCH_UPDATE_VMSA: return "KVM_SEV_LAUNCH_UPDATE_VMSA";
	case KVM_SEV_LAUNCH_SECRET: return "KVM_SEV_LAUNCH_SECRET";
	case KVM_SEV_LAUNCH_MEASURE: return "KVM_SEV_LAUNCH_MEASURE";
	case KVM_SEV_LAUNCH_FINISH: return "KVM_SEV_LAUNCH_FINISH";
	case KVM_SEV_SNP_LAUNCH_START: return "KVM_SEV_SNP_LAUNCH_START";
	case KVM_SEV_SNP_LAUNCH_UPDATE: return "KVM_SEV_SNP_LAUNCH_UPDATE";
	case KVM_SEV_SNP_LAUNCH_FINISH: return "KVM_SEV_SNP_LAUNCH_FINISH";
	default: return NULL;
	}
}

static json_t *line(const char *ioctl_name, int fd)
{
	return json_pack("{s:s,s:i}", "ioctl", ioctl_name, "fd", fd);
}

/* KVM_SEV_SNP_LAUNCH_UPDATE: one line per page, then advance the structure
 * as KVM does (gfn_start, uaddr up; len down to 0). */
static int snp_update(struct cc_rec *r, struct kvm_sev_cmd *c, int fd, struct kvm_sev_snp_launch_update *u)
{
	enum plan_kind k = kind_of_page_type(u->type);
	uint64_t pages = u->len / SEV_PAGE_SIZE;

	if ((int)k < 0 || !u->len || u->len % SEV_PAGE_SIZE || u->uaddr % SEV_PAGE_SIZE)
		return -EINVAL; /* KVM's own checks (amd-memory-encryption.rst) */
	for (uint64_t i = 0; i < pages; i++) {
		const uint8_t *page = (const uint8_t *)(uintptr_t)(u->uaddr + i * SEV_PAGE_SIZE);
		uint64_t gpa = (u->gfn_start + i) * SEV_PAGE_SIZE;
		uint8_t h[48];
		json_t *o = line("KVM_MEMORY_ENCRYPT_OP", fd);
		int ret;

		sha384(page, SEV_PAGE_SIZE, h);
		json_object_set_new(o, "cmd", json_string("KVM_SEV_SNP_LAUNCH_UPDATE"));
		json_object_set_new(o, "sev_fd", json_integer(c->sev_fd));
		json_object_set_new(o, "gfn_start", json_integer((json_int_t)(u->gfn_start + i)));
		json_object_set_new(o, "uaddr", hexnum(u->uaddr + i * SEV_PAGE_SIZE));
		json_object_set_new(o, "len", json_integer((json_int_t)(u->len - i * SEV_PAGE_SIZE)));
		json_object_set_new(o, "type", json_integer(u->type));
		json_object_set_new(o, "flags", json_integer(u->flags));
		json_object_set_new(o, "gpa", hexnum(gpa));
		json_object_set_new(o, "page_type", json_integer(u->type));
		json_object_set_new(o, "sha384", hexstr(h, 48));
		emit(r, o);
		/* the PSP measures what it is given; ZERO pages must be zero
		 * and are measured as such (SNP ABI, PAGE_TYPE_ZERO) */
		if ((ret = fold_page(r, gpa, k, page)))
			return ret;
	}
	u->gfn_start += pages;
	u->uaddr += u->len;
	u->len = 0;
	return 0;
}

/* KVM turns each vCPU's registers into its VMSA and the PSP measures it
 * (amd-memory-encryption.rst, KVM_SEV_SNP_LAUNCH_FINISH), in vCPU order. */
static int snp_finish(struct cc_rec *r, json_t *o)
{
	json_t *v = json_array();
	int ret = 0;

	for (int i = 0; i < REC_MAX_FDS && !ret; i++) {
		struct rec_fd *s = &r->fd[i];
		uint8_t page[SEV_PAGE_SIZE], h[48];

		if (s->kind != REC_VCPU)
			continue;
		s->st.sev_features = r->vmsa_features | (r->vm_type == KVM_X86_SNP_VM ? 1 : 0);
		sev_vmsa_encode(page, &s->st);
		sha384(page, sizeof(page), h);
		json_array_append_new(v, json_pack("{s:i,s:o}", "vcpu", (int)s->vcpu, "sha384", hexstr(h, 48)));
		ret = fold_page(r, SNP_VMSA_GPA, PLAN_VMSA, page);
	}
	json_object_set_new(o, "vmsas", v);
	if (!ret) {
		r->measured = true;
		json_object_set_new(o, "measurement", hexstr(r->digest, SNP_DIGEST_LEN));
	}
	return ret;
}

static int encrypt_op(struct cc_rec *r, int fd, struct kvm_sev_cmd *c, json_t *o, bool fail)
{
	const char *name = sev_cmd_name(c->id);
	void *d = (void *)(uintptr_t)c->data;

	json_object_set_new(o, "cmd", name ? json_string(name) : json_integer(c->id));
	json_object_set_new(o, "sev_fd", json_integer(c->sev_fd));
	if (fail) {
		struct kvm_sev_snp_launch_update *u = d;

		/* SNP ABI, SNP_LAUNCH_UPDATE: a CPUID page the firmware rejects
		 * comes back with the values it would accept; the stand-in
		 * "corrects" the first entry's EBX bit 0 */
		if (c->id == KVM_SEV_SNP_LAUNCH_UPDATE && u->type == KVM_SEV_SNP_PAGE_TYPE_CPUID &&
		    r->fail_fw == SEV_RET_INVALID_PARAM && u->uaddr) {
			uint8_t *e0 = (uint8_t *)(uintptr_t)u->uaddr + 16;

			e0[28] ^= 1;
		}
		c->error = (uint32_t)r->fail_fw;
		json_object_set_new(o, "error", hexnum(c->error));
		json_object_set_new(o, "errno", json_integer(r->fail_err));
		emit(r, o);
		return -r->fail_err;
	}
	switch (c->id) {
	case KVM_SEV_INIT2: {
		struct kvm_sev_init *in = d;

		r->vmsa_features = in->vmsa_features;
		json_object_set_new(o, "vmsa_features", hexnum(in->vmsa_features));
		json_object_set_new(o, "flags", json_integer(in->flags));
		json_object_set_new(o, "ghcb_version", json_integer(in->ghcb_version));
		break;
	}
	case KVM_SEV_SNP_LAUNCH_START: {
		struct kvm_sev_snp_launch_start *s = d;

		json_object_set_new(o, "policy", hexnum(s->policy));
		json_object_set_new(o, "gosvw", hexstr(s->gosvw, sizeof(s->gosvw)));
		json_object_set_new(o, "flags", json_integer(s->flags));
		memset(r->digest, 0, sizeof(r->digest));
		r->measured = false;
		break;
	}
	case KVM_SEV_LAUNCH_START: {
		struct kvm_sev_launch_start *ls = d;

		json_object_set_new(o, "handle", json_integer(ls->handle));
		json_object_set_new(o, "policy", hexnum(ls->policy));
		json_object_set_new(o, "dh_uaddr", hexnum(ls->dh_uaddr));
		json_object_set_new(o, "dh_len", json_integer(ls->dh_len));
		json_object_set_new(o, "session_uaddr", hexnum(ls->session_uaddr));
		json_object_set_new(o, "session_len", json_integer(ls->session_len));
		ls->handle = 1; /* the firmware's guest handle (output) */
		if (!r->sev_ctx && !(r->sev_ctx = EVP_MD_CTX_new())) {
			emit(r, o);
			return -ENOMEM;
		}
		EVP_DigestInit_ex(r->sev_ctx, EVP_sha256(), NULL);
		r->sev_measured = false;
		break;
	}
	case KVM_SEV_LAUNCH_UPDATE_DATA: {
		struct kvm_sev_launch_update_data *u = d;
		const uint8_t *p = (const uint8_t *)(uintptr_t)u->uaddr;
		uint8_t h[32];
		unsigned hl = 32;

		json_object_set_new(o, "uaddr", hexnum(u->uaddr));
		json_object_set_new(o, "len", json_integer(u->len));
		if (!r->sev_ctx || !u->len) {
			emit(r, o);
			return -EINVAL;
		}
		EVP_Digest(p, u->len, h, &hl, EVP_sha256(), NULL);
		json_object_set_new(o, "sha256", hexstr(h, 32));
		EVP_DigestUpdate(r->sev_ctx, p, u->len);
		break;
	}
	case KVM_SEV_LAUNCH_UPDATE_VMSA: {
		json_t *v = json_array();

		if (!r->sev_ctx) {
			json_decref(v);
			emit(r, o);
			return -EINVAL;
		}
		/* KVM encrypts each vCPU's VMSA, built from its registers */
		for (int i = 0; i < REC_MAX_FDS; i++) {
			struct rec_fd *vc = &r->fd[i];
			uint8_t page[SEV_PAGE_SIZE], h[32];
			unsigned hl = 32;

			if (vc->kind != REC_VCPU)
				continue;
			vc->st.sev_features = r->vmsa_features;
			sev_vmsa_encode(page, &vc->st);
			EVP_Digest(page, sizeof(page), h, &hl, EVP_sha256(), NULL);
			EVP_DigestUpdate(r->sev_ctx, page, sizeof(page));
			json_array_append_new(v, json_pack("{s:i,s:o}", "vcpu", (int)vc->vcpu, "sha256", hexstr(h, 32)));
		}
		json_object_set_new(o, "vmsas", v);
		break;
	}
	case KVM_SEV_LAUNCH_MEASURE: {
		struct kvm_sev_launch_measure *m = d;
		unsigned hl = 32;

		json_object_set_new(o, "uaddr", hexnum(m->uaddr));
		json_object_set_new(o, "len", json_integer(m->len));
		if (!r->sev_ctx || m->len < 48 || !m->uaddr) {
			m->len = 48; /* what KVM reports when the buffer is too small */
			emit(r, o);
			return -EINVAL;
		}
		EVP_DigestFinal_ex(r->sev_ctx, r->sev_digest, &hl);
		r->sev_measured = true;
		/* the PSP returns HMAC-SHA-256(TIK) over this digest and the
		 * policy, plus a nonce; the stand-in has no TIK and returns the
		 * launch digest itself, then a zero nonce */
		memcpy((uint8_t *)(uintptr_t)m->uaddr, r->sev_digest, 32);
		memset((uint8_t *)(uintptr_t)m->uaddr + 32, 0, 16);
		json_object_set_new(o, "launch_digest", hexstr(r->sev_digest, 32));
		break;
	}
	case KVM_SEV_LAUNCH_SECRET: {
		struct kvm_sev_launch_secret *ls = d;
		uint8_t h[32];
		unsigned hl = 32;

		json_object_set_new(o, "hdr_uaddr", hexnum(ls->hdr_uaddr));
		json_object_set_new(o, "hdr_len", json_integer(ls->hdr_len));
		json_object_set_new(o, "guest_uaddr", hexnum(ls->guest_uaddr));
		json_object_set_new(o, "guest_len", json_integer(ls->guest_len));
		json_object_set_new(o, "trans_uaddr", hexnum(ls->trans_uaddr));
		json_object_set_new(o, "trans_len", json_integer(ls->trans_len));
		if (!r->sev_measured || !ls->hdr_uaddr || !ls->trans_uaddr || !ls->guest_uaddr) {
			emit(r, o); /* the firmware takes it only between MEASURE and FINISH */
			return -EINVAL;
		}
		EVP_Digest((const uint8_t *)(uintptr_t)ls->hdr_uaddr, ls->hdr_len, h, &hl, EVP_sha256(), NULL);
		json_object_set_new(o, "hdr_sha256", hexstr(h, 32));
		EVP_Digest((const uint8_t *)(uintptr_t)ls->trans_uaddr, ls->trans_len, h, &hl, EVP_sha256(), NULL);
		json_object_set_new(o, "trans_sha256", hexstr(h, 32));
		break; /* not measured: the launch digest is already taken */
	}
	case KVM_SEV_SNP_LAUNCH_UPDATE:
		json_decref(o);
		return snp_update(r, c, fd, d);
	case KVM_SEV_SNP_LAUNCH_FINISH: {
		struct kvm_sev_snp_launch_finish *f = d;
		int ret;

		json_object_set_new(o, "id_block_uaddr", hexnum(f->id_block_uaddr));
		json_object_set_new(o, "id_auth_uaddr", hexnum(f->id_auth_uaddr));
		json_object_set_new(o, "id_block_en", json_integer(f->id_block_en));
		json_object_set_new(o, "auth_key_en", json_integer(f->auth_key_en));
		json_object_set_new(o, "vcek_disabled", json_integer(f->vcek_disabled));
		json_object_set_new(o, "host_data", hexstr(f->host_data, sizeof(f->host_data)));
		json_object_set_new(o, "flags", json_integer(f->flags));
		if (f->id_block_en && f->id_block_uaddr) {
			uint8_t h[48];

			sha384((const uint8_t *)(uintptr_t)f->id_block_uaddr, KVM_SEV_SNP_ID_BLOCK_SIZE, h);
			json_object_set_new(o, "id_block_sha384", hexstr(h, 48));
		}
		ret = snp_finish(r, o);
		emit(r, o);
		return ret;
	}
	default:
		break;
	}
	emit(r, o);
	return 0;
}

static json_t *seg_json(const struct kvm_segment *s)
{
	return json_pack("{s:I,s:o,s:I,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "selector", (json_int_t)s->selector,
			 "base", hexnum(s->base), "limit", (json_int_t)s->limit, "type", s->type, "present", s->present,
			 "dpl", s->dpl, "db", s->db, "s", s->s, "l", s->l, "g", s->g, "avl", s->avl);
}

/* VMCB attribute encoding (sev.h struct sev_seg) from KVM's fields. */
static struct sev_seg from_kvm_seg(const struct kvm_segment *k)
{
	return (struct sev_seg){
		.selector = k->selector, .limit = k->limit, .base = k->base,
		.attrib = (uint16_t)((k->type & 0xf) | (k->s & 1) << 4 | (k->dpl & 3) << 5 | (k->present & 1) << 7 |
				     (k->avl & 1) << 8 | (k->l & 1) << 9 | (k->db & 1) << 10 | (k->g & 1) << 11),
	};
}

static void vcpu_reset_state(struct sev_cpu_state *st)
{
	/* what KVM holds after vCPU reset and that cvmm does not set through
	 * an ioctl of its own (SDM vol. 3A 9.1.1; APM vol. 2 A.3) */
	memset(st, 0, sizeof(*st));
	st->dr6 = 0xffff0ff0;
	st->dr7 = 0x400;
	st->xcr0 = 1;
	st->g_pat = 0x0007040600070406ull;
}

static int vcpu_ioctl(struct cc_rec *r, struct rec_fd *v, unsigned long req, void *arg, json_t *o)
{
	if (req == KVM_SET_SREGS) {
		const struct kvm_sregs *s = arg;
		struct sev_cpu_state *st = &v->st;

		st->cs = from_kvm_seg(&s->cs);
		st->ds = from_kvm_seg(&s->ds);
		st->es = from_kvm_seg(&s->es);
		st->fs = from_kvm_seg(&s->fs);
		st->gs = from_kvm_seg(&s->gs);
		st->ss = from_kvm_seg(&s->ss);
		st->tr = from_kvm_seg(&s->tr);
		st->ldtr = from_kvm_seg(&s->ldt);
		st->gdtr = (struct sev_seg){ .base = s->gdt.base, .limit = s->gdt.limit };
		st->idtr = (struct sev_seg){ .base = s->idt.base, .limit = s->idt.limit };
		st->cr0 = s->cr0;
		st->cr3 = s->cr3;
		st->cr4 = s->cr4;
		st->efer = s->efer;
		json_object_set_new(o, "cs", seg_json(&s->cs));
		json_object_set_new(o, "ss", seg_json(&s->ss));
		json_object_set_new(o, "tr", seg_json(&s->tr));
		json_object_set_new(o, "ldt", seg_json(&s->ldt));
		json_object_set_new(o, "cr0", hexnum(s->cr0));
		json_object_set_new(o, "cr3", hexnum(s->cr3));
		json_object_set_new(o, "cr4", hexnum(s->cr4));
		json_object_set_new(o, "efer", hexnum(s->efer));
	} else if (req == KVM_SET_REGS) {
		const struct kvm_regs *g = arg;
		struct sev_cpu_state *st = &v->st;

		st->rax = g->rax; st->rbx = g->rbx; st->rcx = g->rcx; st->rdx = g->rdx;
		st->rsi = g->rsi; st->rdi = g->rdi; st->rsp = g->rsp; st->rbp = g->rbp;
		st->rip = g->rip; st->rflags = g->rflags;
		json_object_set_new(o, "rip", hexnum(g->rip));
		json_object_set_new(o, "rflags", hexnum(g->rflags));
		json_object_set_new(o, "rdx", hexnum(g->rdx));
	} else if (req == KVM_SET_FPU) {
		const struct kvm_fpu *f = arg;

		v->st.mxcsr = f->mxcsr;
		v->st.x87_fcw = f->fcw;
		json_object_set_new(o, "fcw", hexnum(f->fcw));
		json_object_set_new(o, "mxcsr", hexnum(f->mxcsr));
	} else if (req == KVM_SET_MSRS) {
		const struct kvm_msrs *m = arg;
		json_t *a = json_array();

		for (unsigned i = 0; i < m->nmsrs; i++) {
			if (m->entries[i].index == MSR_IA32_CR_PAT)
				v->st.g_pat = m->entries[i].data;
			json_array_append_new(a, json_pack("{s:o,s:o}", "index", hexnum(m->entries[i].index), "data",
							   hexnum(m->entries[i].data)));
		}
		json_object_set_new(o, "entries", a);
		emit(r, o);
		return (int)m->nmsrs; /* KVM returns how many it set */
	}
	emit(r, o);
	return 0;
}

static const char *ioctl_name(unsigned long req)
{
	static const struct { unsigned long req; const char *name; } t[] = {
		{ KVM_GET_API_VERSION, "KVM_GET_API_VERSION" }, { KVM_CREATE_VM, "KVM_CREATE_VM" },
		{ KVM_CHECK_EXTENSION, "KVM_CHECK_EXTENSION" }, { KVM_GET_VCPU_MMAP_SIZE, "KVM_GET_VCPU_MMAP_SIZE" },
		{ KVM_CREATE_VCPU, "KVM_CREATE_VCPU" }, { KVM_SET_USER_MEMORY_REGION2, "KVM_SET_USER_MEMORY_REGION2" },
		{ KVM_MEMORY_ENCRYPT_OP, "KVM_MEMORY_ENCRYPT_OP" },
		{ KVM_SET_MEMORY_ATTRIBUTES, "KVM_SET_MEMORY_ATTRIBUTES" },
		{ KVM_CREATE_GUEST_MEMFD, "KVM_CREATE_GUEST_MEMFD" }, { KVM_SET_REGS, "KVM_SET_REGS" },
		{ KVM_SET_SREGS, "KVM_SET_SREGS" }, { KVM_SET_FPU, "KVM_SET_FPU" }, { KVM_SET_MSRS, "KVM_SET_MSRS" },
		{ KVM_SET_CPUID2, "KVM_SET_CPUID2" }, { KVM_ENABLE_CAP, "KVM_ENABLE_CAP" },
		{ KVM_RUN, "KVM_RUN" }, { SEV_ISSUE_CMD, "SEV_ISSUE_CMD" },
		{ KVM_GET_SUPPORTED_CPUID, "KVM_GET_SUPPORTED_CPUID" }, { KVM_MEMORY_ENCRYPT_REG_REGION, "KVM_MEMORY_ENCRYPT_REG_REGION" },
		{ KVM_SIGNAL_MSI, "KVM_SIGNAL_MSI" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (t[i].req == req)
			return t[i].name;
	return NULL;
}

/* KVM_MEMORY_ENCRYPT_OP on a TD (intel-tdx.rst): VM-scope commands on the
 * VM fd, KVM_TDX_INIT_VCPU / KVM_TDX_INIT_MEM_REGION on a vCPU fd. */
static int tdx_op(struct cc_rec *r, struct rec_fd *s, struct kvm_tdx_cmd *c, json_t *o, bool fail)
{
	static const char *const names[] = { "KVM_TDX_CAPABILITIES", "KVM_TDX_INIT_VM", "KVM_TDX_INIT_VCPU",
					     "KVM_TDX_INIT_MEM_REGION", "KVM_TDX_FINALIZE_VM", "KVM_TDX_GET_CPUID" };
	bool vm_scope = c->id == KVM_TDX_CAPABILITIES || c->id == KVM_TDX_INIT_VM || c->id == KVM_TDX_FINALIZE_VM;
	void *d = (void *)(uintptr_t)c->data;

	json_object_set_new(o, "cmd", c->id < ARRAY_SIZE(names) ? json_string(names[c->id]) : json_integer(c->id));
	json_object_set_new(o, "flags", json_integer(c->flags));
	if (fail) {
		c->hw_error = r->fail_fw;
		json_object_set_new(o, "hw_error", hexnum(c->hw_error));
		json_object_set_new(o, "errno", json_integer(r->fail_err));
		emit(r, o);
		return -r->fail_err;
	}
	if (c->id >= ARRAY_SIZE(names) || vm_scope != (s->kind == REC_VM)) {
		emit(r, o);
		return -EINVAL;
	}
	switch (c->id) {
	case KVM_TDX_CAPABILITIES: {
		struct kvm_tdx_capabilities *cap = d;

		/* a plausible TDX module: attributes DEBUG, SEPT_VE_DISABLE,
		 * PKS, PERFMON; XFAM x87, SSE, AVX, AVX-512, PKRU, AMX */
		cap->supported_attrs = 1ull << 0 | 1ull << 28 | 1ull << 30 | 1ull << 63;
		cap->supported_xfam = 0x602e7;
		/* the configurable CPUID bits (a small plausible set): leaf 1
		 * ECX.SSSE3 (bit 9), leaf 7.0 EBX.BMI1 (bit 3) */
		if (cap->cpuid.nent < 2) {
			cap->cpuid.nent = 2;
			emit(r, o);
			return -E2BIG;
		}
		cap->cpuid.nent = 2;
		cap->cpuid.entries[0] = (struct kvm_cpuid_entry2){ .function = 0x1, .ecx = 1u << 9 };
		cap->cpuid.entries[1] = (struct kvm_cpuid_entry2){ .function = 0x7, .index = 0,
								  .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .ebx = 1u << 3 };
		break;
	}
	case KVM_TDX_INIT_VM: {
		struct kvm_tdx_init_vm *in = d;

		json_object_set_new(o, "attributes", hexnum(in->attributes));
		json_object_set_new(o, "xfam", hexnum(in->xfam));
		json_object_set_new(o, "mrconfigid", hexstr((const uint8_t *)in->mrconfigid, 48));
		json_object_set_new(o, "mrowner", hexstr((const uint8_t *)in->mrowner, 48));
		json_object_set_new(o, "mrownerconfig", hexstr((const uint8_t *)in->mrownerconfig, 48));
		json_object_set_new(o, "cpuid_nent", json_integer(in->cpuid.nent));
		json_t *ents = json_array();
		for (uint32_t i = 0; i < in->cpuid.nent && i < 256; i++) {
			const struct kvm_cpuid_entry2 *e = &in->cpuid.entries[i];

			json_array_append_new(ents, json_pack("{s:o,s:I,s:o,s:o,s:o,s:o}", "function", hexnum(e->function),
							      "index", (json_int_t)e->index, "eax", hexnum(e->eax),
							      "ebx", hexnum(e->ebx), "ecx", hexnum(e->ecx),
							      "edx", hexnum(e->edx)));
		}
		json_object_set_new(o, "cpuid", ents);
		plan_free(&r->td);
		r->finalized = false;
		break;
	}
	case KVM_TDX_INIT_VCPU:
		json_object_set_new(o, "data", hexnum(c->data)); /* the vCPU's initial RCX */
		break;
	case KVM_TDX_INIT_MEM_REGION: {
		struct kvm_tdx_init_mem_region *m = d;
		struct plan_step st = { .gpa = m->gpa, .len = m->nr_pages * 4096, .kind = PLAN_NORMAL, .vcpu = -1,
					.flags = (c->flags & KVM_TDX_MEASURE_MEMORY_REGION) ? PLAN_F_EXTEND : 0 };
		uint8_t *copy;
		int ret;

		json_object_set_new(o, "source_addr", hexnum(m->source_addr));
		json_object_set_new(o, "gpa", hexnum(m->gpa));
		json_object_set_new(o, "nr_pages", json_integer((json_int_t)m->nr_pages));
		json_object_set_new(o, "measure", json_boolean(c->flags & KVM_TDX_MEASURE_MEMORY_REGION));
		if (!m->nr_pages || m->source_addr % 4096 || m->gpa % 4096 || m->nr_pages > (1ull << 30)) {
			emit(r, o);
			return -EINVAL;
		}
		if (!(copy = malloc(st.len)) || (ret = plan_own(&r->td, copy))) {
			emit(r, o);
			return -ENOMEM;
		}
		memcpy(copy, (const void *)(uintptr_t)m->source_addr, st.len);
		st.data = copy;
		if ((ret = plan_add(&r->td, &st)) < 0) {
			emit(r, o);
			return ret;
		}
		/* KVM advances the structure as pages are added */
		m->gpa += st.len;
		m->source_addr += st.len;
		m->nr_pages = 0;
		break;
	}
	case KVM_TDX_FINALIZE_VM:
		if (tdx_mrtd(&r->td, TDX_MRTD_SINGLE_PASS, NULL, r->mrtd)) {
			emit(r, o);
			return -EIO;
		}
		r->finalized = true;
		json_object_set_new(o, "mrtd", hexstr(r->mrtd, TDX_MR_SIZE));
		break;
	default:
		break;
	}
	emit(r, o);
	return 0;
}

static int rec_ioctl_locked(struct cc_io *io, int fd, unsigned long req, void *arg)
{
	struct cc_rec *r = rec_of(io);
	struct rec_fd *s = slot(r, fd);
	const char *name = ioctl_name(req);
	bool fail;
	json_t *o;

	r->calls++;
	fail = r->fail_nth && r->calls == r->fail_nth;
	if (!s)
		return -EBADF;
	if (!name)
		return -ENOTTY; /* not modelled: a backend bug, never silently "fine" */
	o = line(name, fd);
	if (req == KVM_MEMORY_ENCRYPT_OP && r->vm_type == KVM_X86_TDX_VM)
		return tdx_op(r, s, arg, o, fail);
	if (req == KVM_MEMORY_ENCRYPT_OP && s->kind == REC_VM)
		return encrypt_op(r, fd, arg, o, fail);
	if (fail) {
		json_object_set_new(o, "errno", json_integer(r->fail_err));
		emit(r, o);
		return -r->fail_err;
	}
	if (s->kind == REC_VCPU && req == KVM_RUN) {
		emit(r, o);
		/* nothing runs in a dry run; the tests script the exits */
		return r->on_run ? r->on_run(r->on_run_ctx, fd, r->run_of[fd - REC_FD_BASE]) : -EIO;
	}
	if (s->kind == REC_VCPU)
		return vcpu_ioctl(r, s, req, arg, o);
	if (req == SEV_ISSUE_CMD) {
		struct sev_issue_cmd *c = arg;

		/* a plausible SEV firmware 1.55 build 21, SNP initialized */
		json_object_set_new(o, "cmd", json_string(c->cmd == SEV_PLATFORM_STATUS ? "SEV_PLATFORM_STATUS"
							   : c->cmd == SNP_PLATFORM_STATUS ? "SNP_PLATFORM_STATUS" : "?"));
		emit(r, o);
		if (c->cmd == SEV_PLATFORM_STATUS) {
			struct sev_user_data_status *st = (void *)(uintptr_t)c->data;

			*st = (struct sev_user_data_status){ .api_major = 1, .api_minor = 55, .state = 1,
							     .flags = SEV_STATUS_FLAGS_CONFIG_ES, .build = 21 };
			return 0;
		}
		if (c->cmd == SNP_PLATFORM_STATUS) {
			struct sev_user_data_snp_status *st = (void *)(uintptr_t)c->data;

			memset(st, 0, sizeof(*st));
			st->api_major = 1;
			st->api_minor = 55;
			st->state = 1;
			st->is_rmp_initialized = 1;
			st->build_id = 21;
			st->current_tcb_version = st->reported_tcb_version = 0xdb18000000000004ull;
			return 0;
		}
		c->error = SEV_RET_INVALID_PARAM;
		return -EINVAL;
	}
	if (req == KVM_GET_API_VERSION) {
		emit(r, o);
		return KVM_API_VERSION;
	}
	if (req == KVM_GET_SUPPORTED_CPUID) {
		struct kvm_cpuid2 *c = arg;
		/* a plausible EPYC: vendor, signature (EPYC-v4 0x800f12), SEV leaf */
		static const struct kvm_cpuid_entry2 e[] = {
			{ .function = 0x0, .eax = 0x10, .ebx = 0x68747541, .ecx = 0x444d4163, .edx = 0x69746e65 },
			{ .function = 0x1, .eax = 0x800f12, .ebx = 0x800, .ecx = 0xfef83203, .edx = 0x178bfbff },
			{ .function = 0x7, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .ebx = 0x219c07ab },
			{ .function = 0x8000001f, .eax = 0x1, .ebx = 0x33 },
		};

		json_object_set_new(o, "nent", json_integer(c->nent));
		emit(r, o);
		if (c->nent < ARRAY_SIZE(e))
			return -E2BIG;
		c->nent = ARRAY_SIZE(e);
		memcpy(c->entries, e, sizeof(e));
		return 0;
	}
	if (req == KVM_CHECK_EXTENSION) {
		long cap = (long)(uintptr_t)arg;

		json_object_set_new(o, "extension", json_integer(cap));
		emit(r, o);
		if (cap == KVM_CAP_VM_TYPES)
			return 1 << KVM_X86_DEFAULT_VM | 1 << KVM_X86_SEV_VM | 1 << KVM_X86_SEV_ES_VM |
			       1 << KVM_X86_SNP_VM | 1 << KVM_X86_TDX_VM;
		return 1;
	}
	if (req == KVM_CREATE_VM) {
		r->vm_type = (unsigned long)(uintptr_t)arg;
		json_object_set_new(o, "type", json_integer((json_int_t)r->vm_type));
		emit(r, o);
		return new_fd(r, REC_VM);
	}
	if (req == KVM_CREATE_VCPU) {
		int nfd = new_fd(r, REC_VCPU);

		json_object_set_new(o, "vcpu_id", json_integer((json_int_t)(uintptr_t)arg));
		emit(r, o);
		if (nfd >= 0) {
			slot(r, nfd)->vcpu = (unsigned)(uintptr_t)arg;
			vcpu_reset_state(&slot(r, nfd)->st);
		}
		return nfd;
	}
	if (req == KVM_CREATE_GUEST_MEMFD) {
		const struct kvm_create_guest_memfd *g = arg;

		json_object_set_new(o, "size", hexnum(g->size));
		json_object_set_new(o, "flags", json_integer((json_int_t)g->flags));
		emit(r, o);
		return new_fd(r, REC_GMEM);
	}
	if (req == KVM_SET_USER_MEMORY_REGION2) {
		const struct kvm_userspace_memory_region2 *m = arg;

		json_object_set_new(o, "slot", json_integer(m->slot));
		json_object_set_new(o, "flags", json_integer(m->flags));
		json_object_set_new(o, "guest_phys_addr", hexnum(m->guest_phys_addr));
		json_object_set_new(o, "memory_size", hexnum(m->memory_size));
		json_object_set_new(o, "userspace_addr", hexnum(m->userspace_addr));
		json_object_set_new(o, "guest_memfd_offset", hexnum(m->guest_memfd_offset));
		json_object_set_new(o, "guest_memfd", json_integer(m->guest_memfd));
		if (!slot(r, (int)m->guest_memfd) && (m->flags & KVM_MEM_GUEST_MEMFD)) {
			emit(r, o);
			return -EBADF;
		}
	} else if (req == KVM_MEMORY_ENCRYPT_REG_REGION) {
		const struct kvm_enc_region *e = arg;

		json_object_set_new(o, "addr", hexnum(e->addr));
		json_object_set_new(o, "size", hexnum(e->size));
	} else if (req == KVM_ENABLE_CAP) {
		const struct kvm_enable_cap *c = arg;

		json_object_set_new(o, "cap", json_integer(c->cap));
		json_object_set_new(o, "flags", json_integer(c->flags));
		json_object_set_new(o, "args", json_pack("[I,I,I,I]", (json_int_t)c->args[0], (json_int_t)c->args[1],
							 (json_int_t)c->args[2], (json_int_t)c->args[3]));
	} else if (req == KVM_SIGNAL_MSI) {
		const struct kvm_msi *m = arg;

		json_object_set_new(o, "address_lo", hexnum(m->address_lo));
		json_object_set_new(o, "address_hi", hexnum(m->address_hi));
		json_object_set_new(o, "data", hexnum(m->data));
		json_object_set_new(o, "flags", json_integer(m->flags));
	} else if (req == KVM_SET_MEMORY_ATTRIBUTES) {
		const struct kvm_memory_attributes *a = arg;

		json_object_set_new(o, "address", hexnum(a->address));
		json_object_set_new(o, "size", hexnum(a->size));
		json_object_set_new(o, "attributes", hexnum(a->attributes));
		json_object_set_new(o, "flags", json_integer((json_int_t)a->flags));
	}
	emit(r, o);
	return 0;
}

static int rec_ioctl(struct cc_io *io, int fd, unsigned long req, void *arg)
{
	struct cc_rec *r = rec_of(io);
	int rc;

	pthread_mutex_lock(&r->lock);
	rc = rec_ioctl_locked(io, fd, req, arg);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* Not ioctls, but part of the conversion contract: one line each,
 * "syscall" instead of "ioctl". */
static int rec_fallocate(struct cc_io *io, int fd, int mode, uint64_t offset, uint64_t len)
{
	struct cc_rec *r = rec_of(io);
	struct rec_fd *s;
	json_t *o = json_pack("{s:s,s:i,s:i,s:o,s:o}", "syscall", "fallocate", "fd", fd, "mode", mode, "offset",
			      hexnum(offset), "len", hexnum(len));

	pthread_mutex_lock(&r->lock);
	s = slot(r, fd);
	emit(r, o);
	pthread_mutex_unlock(&r->lock);
	return s && s->kind == REC_GMEM ? 0 : -EBADF;
}

static int rec_madvise(struct cc_io *io, void *addr, size_t len, int advice)
{
	struct cc_rec *r = rec_of(io);
	json_t *o = json_pack("{s:s,s:o,s:o,s:i}", "syscall", "madvise", "addr", hexnum((uintptr_t)addr), "len",
			      hexnum(len), "advice", advice);

	pthread_mutex_lock(&r->lock);
	emit(r, o);
	pthread_mutex_unlock(&r->lock);
	/* the shared backing is real memory: give it back for real */
	return madvise(addr, len, advice) ? -errno : 0;
}

static struct kvm_run *rec_map_run(struct cc_io *io, int kvm_fd, int vcpu_fd, size_t *len)
{
	struct cc_rec *r = rec_of(io);
	struct rec_fd *s;
	struct kvm_run *run = NULL;

	pthread_mutex_lock(&r->lock);
	r->calls++;
	emit(r, line("KVM_GET_VCPU_MMAP_SIZE", kvm_fd));
	s = slot(r, vcpu_fd);
	if (s && s->kind == REC_VCPU && !r->run_of[vcpu_fd - REC_FD_BASE] && (run = calloc(1, 3 * 4096))) {
		r->run_of[vcpu_fd - REC_FD_BASE] = run;
		*len = 3 * 4096;
	}
	pthread_mutex_unlock(&r->lock);
	if (!run)
		err_set(EBADF, "mmap of the vCPU's kvm_run: fd %d is not a vCPU", vcpu_fd);
	return run;
}

static void rec_unmap_run(struct cc_io *io, struct kvm_run *run, size_t len)
{
	struct cc_rec *r = rec_of(io);

	(void)len;
	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < REC_MAX_FDS; i++)
		if (r->run_of[i] == run)
			r->run_of[i] = NULL;
	pthread_mutex_unlock(&r->lock);
	free(run);
}

void cc_rec_on_run(struct cc_rec *r, int (*fn)(void *ctx, int vcpu_fd, struct kvm_run *run), void *ctx)
{
	pthread_mutex_lock(&r->lock);
	r->on_run = fn;
	r->on_run_ctx = ctx;
	pthread_mutex_unlock(&r->lock);
}

static int rec_open(struct cc_io *io, const char *path)
{
	struct cc_rec *r = rec_of(io);

	if (strcmp(path, "/dev/kvm") && strcmp(path, "/dev/sev"))
		return -ENOENT;
	return new_fd(r, REC_DEV);
}

static void rec_annotate(struct cc_io *io, const char *key, int64_t value)
{
	struct cc_rec *r = rec_of(io);

	snprintf(r->note_key, sizeof(r->note_key), "%s", key);
	r->note_val = value;
	r->note = true;
}

static void rec_close(struct cc_io *io, int fd)
{
	struct rec_fd *s = slot(rec_of(io), fd);

	if (s)
		s->kind = REC_FREE;
}

int cc_rec_create(const char *path, struct cc_rec **out)
{
	struct cc_rec *r = calloc(1, sizeof(*r));

	if (!r)
		return err_set(ENOMEM, "out of memory");
	r->io = (struct cc_io){ rec_open, rec_ioctl, rec_close, rec_annotate, rec_fallocate, rec_madvise,
				rec_map_run, rec_unmap_run };
	pthread_mutex_init(&r->lock, NULL);
	if (path && !(r->f = fopen(path, "we"))) {
		int e = errno;

		free(r);
		return err_set(e, "--dry-run %s: %s", path, strerror(e));
	}
	*out = r;
	return 0;
}

struct cc_io *cc_rec_io(struct cc_rec *r) { return &r->io; }

void cc_rec_fail(struct cc_rec *r, unsigned nth, int err, uint64_t fw_error)
{
	r->fail_nth = nth;
	r->fail_err = err;
	r->fail_fw = fw_error;
}

unsigned cc_rec_calls(const struct cc_rec *r) { return r->calls; }

unsigned cc_rec_open_fds(const struct cc_rec *r)
{
	unsigned n = 0;

	for (int i = 0; i < REC_MAX_FDS; i++)
		n += r->fd[i].kind != REC_FREE;
	return n;
}

const uint8_t *cc_rec_snp_measurement(const struct cc_rec *r)
{
	return r->measured ? r->digest : NULL;
}

const uint8_t *cc_rec_sev_digest(const struct cc_rec *r)
{
	return r->sev_measured ? r->sev_digest : NULL;
}

const uint8_t *cc_rec_tdx_mrtd(const struct cc_rec *r)
{
	return r->finalized ? r->mrtd : NULL;
}

int cc_rec_close(struct cc_rec *r)
{
	int ret = 0;

	if (!r)
		return 0;
	plan_free(&r->td);
	EVP_MD_CTX_free(r->sev_ctx);
	for (int i = 0; i < REC_MAX_FDS; i++)
		free(r->run_of[i]);
	pthread_mutex_destroy(&r->lock);
	if (r->f && (fclose(r->f) || r->write_failed))
		ret = -EIO;
	free(r);
	return ret;
}
