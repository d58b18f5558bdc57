/* cc_run.c - a confidential VM after its launch (issue 11): the vCPU run
 * loop and the exits that change guest memory between private and shared.
 *
 * Documentation/virt/kvm/api.rst:
 *  - KVM_EXIT_MEMORY_FAULT: KVM_RUN returns -1 with errno EFAULT (or
 *    EHWPOISON) and run->memory_fault {flags, gpa, size}; flags
 *    KVM_MEMORY_EXIT_FLAG_PRIVATE says the guest accessed the range as
 *    private. Userspace makes the attributes match the access
 *    (KVM_SET_MEMORY_ATTRIBUTES) and re-enters.
 *  - KVM_EXIT_HYPERCALL, once KVM_CAP_EXIT_HYPERCALL is enabled with bit
 *    KVM_HC_MAP_GPA_RANGE: nr, args[0] = GPA, args[1] = number of 4 KiB pages,
 *    args[2] = attributes (Documentation/virt/kvm/x86/hypercalls.rst: bits
 *    3:0 page size 0 4K / 1 2M / 2 1G, bit 4 encrypted, the rest reserved);
 *    userspace sets run->hypercall.ret: 0, EINVAL (the request fails) or
 *    EAGAIN (the guest retries it), positive values; KVM refuses anything
 *    else for MAP_GPA_RANGE (KVM_RUN fails with EINVAL on SNP and TDX).
 * Both change the KVM memory attributes of guest_memfd-backed slots; the
 * unused backing is given back (fallocate PUNCH_HOLE on the guest_memfd,
 * madvise on the shared mapping) as api.rst's KVM_CREATE_GUEST_MEMFD
 * describes. The guest's values are hostile input: a range that is not its
 * RAM, unaligned or overflowing is refused without touching anything. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/confine/confine.h"
#include "vmm/ioctl_rec.h"
#include "vmm/kvm_uapi.h"
#include "vmm/vmm_core.h"

#define PAGE        4096ull
#define KVM_ENOSYS  1000 /* include/uapi/linux/kvm_para.h */
#define MAP_GPA_PAGE_SZ_MASK 0xfull
#define MAP_GPA_KNOWN (MAP_GPA_PAGE_SZ_MASK | KVM_MAP_GPA_RANGE_ENCRYPTED)
#define CC_SIG_KICK SIGUSR1

void cc_mem_init(struct cc_mem *m, struct cc_io *io, int vm_fd, struct cc_slot *slot, unsigned nslot,
		 bool private_mem)
{
	memset(m, 0, sizeof(*m));
	m->io = io;
	m->vm_fd = vm_fd;
	m->slot = slot;
	m->nslot = nslot;
	m->private_mem = private_mem;
	pthread_mutex_init(&m->lock, NULL);
}

void cc_mem_destroy(struct cc_mem *m)
{
	pthread_mutex_destroy(&m->lock);
}

/* The slot holding gpa, or NULL. */
static struct cc_slot *slot_at(struct cc_mem *m, uint64_t gpa)
{
	for (unsigned i = 0; i < m->nslot; i++)
		if (gpa >= m->slot[i].gpa && gpa - m->slot[i].gpa < m->slot[i].size)
			return &m->slot[i];
	return NULL;
}

/* Every byte of [gpa, end) is in some slot (slots may be adjacent). */
static bool covered(struct cc_mem *m, uint64_t gpa, uint64_t end)
{
	while (gpa < end) {
		struct cc_slot *s = slot_at(m, gpa);

		if (!s)
			return false;
		gpa = s->gpa + s->size; /* no overflow: slots are below 2^52 */
	}
	return true;
}

int cc_mem_convert(struct cc_mem *m, uint64_t gpa, uint64_t size, bool to_private)
{
	const char *what = to_private ? "private" : "shared";
	uint64_t end;
	int rc = 0;

	if (!size || (gpa | size) & (PAGE - 1))
		return err_set(EINVAL, "convert to %s: gpa %#llx size %#llx is not a non-empty 4 KiB aligned range",
			       what, (unsigned long long)gpa, (unsigned long long)size);
	if (__builtin_add_overflow(gpa, size, &end))
		return err_set(EFAULT, "convert to %s: gpa %#llx size %#llx wraps around", what,
			       (unsigned long long)gpa, (unsigned long long)size);
	if (!covered(m, gpa, end))
		return err_set(EFAULT, "convert to %s: gpa %#llx..%#llx is not guest RAM", what,
			       (unsigned long long)gpa, (unsigned long long)(end - 1));
	if (!m->private_mem)
		return 0; /* SEV/SEV-ES: the C-bit in the guest's page tables decides; KVM keeps no attributes */
	pthread_mutex_lock(&m->lock);
	struct kvm_memory_attributes a = { .address = gpa, .size = size,
					   .attributes = to_private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0 };
	rc = m->io->ioctl(m->io, m->vm_fd, KVM_SET_MEMORY_ATTRIBUTES, &a);
	if (rc < 0) {
		pthread_mutex_unlock(&m->lock);
		return err_set(-rc, "convert to %s: KVM_SET_MEMORY_ATTRIBUTES gpa %#llx size %#llx: %s", what,
			       (unsigned long long)gpa, (unsigned long long)size, strerror(-rc));
	}
	/* give back the backing the guest no longer uses, slot by slot */
	for (uint64_t cur = gpa; cur < end;) {
		struct cc_slot *s = slot_at(m, cur);
		uint64_t off = cur - s->gpa, len = (end < s->gpa + s->size ? end : s->gpa + s->size) - cur;
		int r;

		if (to_private)
			r = s->host ? m->io->madvise(m->io, s->host + off, len, MADV_DONTNEED) : 0;
		else
			r = s->gmem_fd >= 0 ? m->io->fallocate(m->io, s->gmem_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
							       off, len) : 0;
		if (r < 0)
			m->release_errors++;
		cur += len;
	}
	if (to_private)
		m->to_private += size / PAGE;
	else
		m->to_shared += size / PAGE;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

uint8_t *cc_mem_shared(struct cc_mem *m, uint64_t gpa, uint64_t len)
{
	struct cc_slot *s = cc_slot_find(m->slot, m->nslot, gpa, len);

	return s && s->host ? s->host + (gpa - s->gpa) : NULL;
}

int cc_enable_map_gpa_exit(struct cc_io *io, int vm_fd)
{
	struct kvm_enable_cap c = { .cap = KVM_CAP_EXIT_HYPERCALL, .args = { 1ull << KVM_HC_MAP_GPA_RANGE } };
	int rc = io->ioctl(io, vm_fd, KVM_ENABLE_CAP, &c);

	if (rc < 0)
		return err_set(-rc, "KVM_ENABLE_CAP(KVM_CAP_EXIT_HYPERCALL, MAP_GPA_RANGE): %s", strerror(-rc));
	return 0;
}

int cc_exit_memory_fault(struct cc_mem *m, struct kvm_run *run)
{
	uint64_t flags = run->memory_fault.flags;

	if (flags & ~KVM_MEMORY_EXIT_FLAG_PRIVATE)
		return err_set(EINVAL, "KVM_EXIT_MEMORY_FAULT with unknown flags %#llx at gpa %#llx",
			       (unsigned long long)flags, (unsigned long long)run->memory_fault.gpa);
	if (!m->private_mem)
		return err_set(EINVAL, "KVM_EXIT_MEMORY_FAULT at gpa %#llx on a VM without private memory",
			       (unsigned long long)run->memory_fault.gpa);
	return cc_mem_convert(m, run->memory_fault.gpa, run->memory_fault.size, flags & KVM_MEMORY_EXIT_FLAG_PRIVATE)
		       ? err_wrap(EFAULT, "KVM_EXIT_MEMORY_FAULT")
		       : 0;
}

int cc_exit_hypercall(struct cc_mem *m, struct kvm_run *run)
{
	uint64_t gpa = run->hypercall.args[0], npages = run->hypercall.args[1], attr = run->hypercall.args[2];

	if (run->hypercall.nr != KVM_HC_MAP_GPA_RANGE) {
		run->hypercall.ret = (uint64_t)-KVM_ENOSYS;
		return 0;
	}
	/* the page size hint (bits 3:0) is 4K, 2M or 1G; reserved bits zero;
	 * npages counts 4 KiB pages and must fit the address space */
	if ((attr & ~MAP_GPA_KNOWN) || (attr & MAP_GPA_PAGE_SZ_MASK) > 2 || !npages || npages > (UINT64_MAX >> 12)) {
		run->hypercall.ret = EINVAL;
		return 0;
	}
	int rc = cc_mem_convert(m, gpa, npages << 12, attr & KVM_MAP_GPA_RANGE_ENCRYPTED);
	/* a kernel short of memory for the attributes: let the guest retry */
	run->hypercall.ret = !rc ? 0 : rc == -EAGAIN || rc == -EINTR || rc == -ENOMEM ? EAGAIN : EINVAL;
	return 0;
}

/* ---------------- the run loop ---------------- */
void cc_runner_init(struct cc_runner *r, struct cc_mem *mem)
{
	memset(r, 0, sizeof(*r));
	r->mem = mem;
	r->wake_fd = -1;
	r->status = -1;
	pthread_mutex_init(&r->lock, NULL);
}

void cc_runner_stop(struct cc_runner *r, int status, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&r->lock);
	if (r->status < 0) {
		r->status = status;
		va_start(ap, fmt);
		vsnprintf(r->why, sizeof(r->why), fmt, ap);
		va_end(ap);
	}
	r->stop = 1;
	pthread_mutex_unlock(&r->lock);
}

/* Port I/O and MMIO without a device model: reads see all ones. */
static void no_device(struct kvm_run *run)
{
	if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_IN &&
	    run->io.data_offset >= sizeof(*run) && run->io.size <= 8 && run->io.count <= 512)
		memset((uint8_t *)run + run->io.data_offset, 0xff, (size_t)run->io.size * run->io.count);
	else if (run->exit_reason == KVM_EXIT_MMIO && !run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
}

/* One exit; false when the vCPU stops. */
static bool handle(struct cc_runner *r, unsigned index, struct kvm_run *run)
{
	switch (run->exit_reason) {
	case KVM_EXIT_MEMORY_FAULT:
		if (cc_exit_memory_fault(r->mem, run)) {
			cc_runner_stop(r, VMM_EXIT_CRASH, "vCPU %u: %s", index, err_msg());
			return false;
		}
		return true;
	case KVM_EXIT_HYPERCALL:
		return !cc_exit_hypercall(r->mem, run);
	case KVM_EXIT_TDX:
		if (r->tdx && r->tdx(r->tdx_ctx, index, run)) {
			cc_runner_stop(r, VMM_EXIT_CRASH, "vCPU %u: %s", index, err_msg());
			return false;
		}
		return true;
	case KVM_EXIT_IO:
	case KVM_EXIT_MMIO:
		if (!r->io)
			no_device(run);
		else if (r->io(r->io_ctx, index, run)) {
			cc_runner_stop(r, VMM_EXIT_CRASH, "vCPU %u: %s", index, err_msg());
			return false;
		}
		return true;
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			cc_runner_stop(r, VMM_EXIT_POWEROFF, "guest powered off");
			break;
		case KVM_SYSTEM_EVENT_RESET:
			cc_runner_stop(r, VMM_EXIT_REBOOT, "guest reset");
			break;
		case KVM_SYSTEM_EVENT_SEV_TERM:
			cc_runner_stop(r, VMM_EXIT_CRASH, "vCPU %u: the guest asked to terminate (GHCB termination request, "
				       "reason %#llx)", index, (unsigned long long)run->system_event.data[0]);
			break;
		case KVM_SYSTEM_EVENT_TDX_FATAL:
			cc_runner_stop(r, VMM_EXIT_CRASH, "vCPU %u: the TD reported a fatal error (TDG.VP.VMCALL "
				       "<ReportFatalError>, error code %#llx)", index,
				       (unsigned long long)run->system_event.data[0]);
			break;
		default:
			cc_runner_stop(r, VMM_EXIT_CRASH, "vCPU %u: system event %u", index, run->system_event.type);
		}
		return false;
	case KVM_EXIT_SHUTDOWN:
		cc_runner_stop(r, VMM_EXIT_CRASH, "vCPU %u: triple fault (KVM_EXIT_SHUTDOWN)", index);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		cc_runner_stop(r, VMM_EXIT_CRASH, "vCPU %u: KVM_EXIT_FAIL_ENTRY, hardware reason %#llx", index,
			       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		cc_runner_stop(r, VMM_EXIT_CRASH, "vCPU %u: KVM_EXIT_INTERNAL_ERROR, suberror %u", index,
			       run->internal.suberror);
		return false;
	default:
		cc_runner_stop(r, VMM_EXIT_CRASH, "vCPU %u: unhandled KVM exit reason %u", index, run->exit_reason);
		return false;
	}
}

int cc_vcpu_loop(struct cc_runner *r, unsigned index, int vcpu_fd, struct kvm_run *run)
{
	struct cc_io *io = r->mem->io;

	while (!r->stop) {
		int rc = io->ioctl(io, vcpu_fd, KVM_RUN, NULL);

		__atomic_fetch_add(&r->exits, 1, __ATOMIC_RELAXED);
		if (rc == -EINTR || rc == -EAGAIN) {
			run->immediate_exit = 0;
			continue; /* a kick: look at r->stop */
		}
		/* api.rst: the one exit that comes with -1 (EFAULT/EHWPOISON) */
		if ((rc == -EFAULT || rc == -EHWPOISON) && run->exit_reason == KVM_EXIT_MEMORY_FAULT) {
			if (!handle(r, index, run))
				break;
			continue;
		}
		if (rc < 0) {
			cc_runner_stop(r, VMM_EXIT_CRASH, "vCPU %u: KVM_RUN failed: %s", index, strerror(-rc));
			break;
		}
		if (!handle(r, index, run))
			break;
	}
	return r->status;
}

/* ---------------- one thread per vCPU ---------------- */
struct vcpu_thread {
	struct cc_runner *r;
	unsigned index;
	int fd;
	struct kvm_run *run;
	size_t run_len;
	pthread_t tid;
	bool started;
};

static void *vcpu_main(void *arg)
{
	struct vcpu_thread *t = arg;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, CC_SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	/* the vcpu role before the first KVM_RUN (fails closed: _exit) */
	confine_thread(CONFINE_VCPU);
	cc_vcpu_loop(t->r, t->index, t->fd, t->run);
	/* the first to stop kicks the others out of KVM_RUN */
	return NULL;
}

static void kick_handler(int sig) { (void)sig; }

int cc_run_vcpus(struct cc_runner *r, int kvm_fd, const int *vcpu_fd, unsigned n)
{
	struct cc_io *io = r->mem->io;
	struct vcpu_thread *t = calloc(n, sizeof(*t));
	struct sigaction sa = { .sa_handler = kick_handler };
	sigset_t set, old;
	unsigned i;

	if (!t) {
		cc_runner_stop(r, VMM_EXIT_ERROR, "out of memory");
		return r->status;
	}
	sigaction(CC_SIG_KICK, &sa, NULL); /* no SA_RESTART: KVM_RUN returns EINTR */
	sigemptyset(&set);
	sigaddset(&set, CC_SIG_KICK);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (i = 0; i < n; i++) {
		t[i] = (struct vcpu_thread){ .r = r, .index = i, .fd = vcpu_fd[i] };
		if (!(t[i].run = io->map_run(io, kvm_fd, vcpu_fd[i], &t[i].run_len))) {
			cc_runner_stop(r, VMM_EXIT_ERROR, "vCPU %u: %s", i, err_msg());
			break;
		}
		if (pthread_create(&t[i].tid, NULL, vcpu_main, &t[i])) {
			cc_runner_stop(r, VMM_EXIT_ERROR, "vCPU %u: cannot start its thread", i);
			break;
		}
		t[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* this thread is the last to be confined: what it does from here on
	 * (wait, wake, kick, join, unmap, release) is on the vmm list */
	if (confine_seccomp_install(CONFINE_VMM, confine_seccomp_get_mode()))
		cc_runner_stop(r, VMM_EXIT_ERROR, "%s", err_msg());
	/* wait for the first vCPU to stop the VM, then kick the rest */
	for (unsigned k = 0; k < n; k++) {
		if (!t[k].started)
			continue;
		while (!r->stop) {
			struct timespec ts = { 0, 50 * 1000 * 1000 };
			struct pollfd p = { .fd = r->wake_fd, .events = POLLIN };

			if (r->wake_fd < 0)
				nanosleep(&ts, NULL);
			else if (poll(&p, 1, 50) > 0 && r->wake)
				r->wake(r->wake_ctx);
		}
		for (unsigned j = 0; j < n; j++)
			if (t[j].started) {
				t[j].run->immediate_exit = 1;
				pthread_kill(t[j].tid, CC_SIG_KICK);
			}
		pthread_join(t[k].tid, NULL);
	}
	for (i = 0; i < n; i++)
		if (t[i].run)
			io->unmap_run(io, t[i].run, t[i].run_len);
	free(t);
	return r->status;
}

int cc_run_vm(const struct cc_vm_view *v, struct cc_runner *r)
{
	int rc = cc_enable_map_gpa_exit(v->io, v->vm_fd);

	if (rc)
		return rc;
	return cc_run_vcpus(r, v->kvm_fd, v->vcpu_fd, v->nvcpus);
}

#define COM1 0x3f8
#define COM1_LSR (COM1 + 5)
#define FW_DEBUG_PORT 0x402
#define LSR_THRE_TEMT 0x60

int cc_console_io(void *ctx, unsigned vcpu, struct kvm_run *run)
{
	int fd = *(int *)ctx;
	uint8_t *p;

	(void)vcpu;
	if (run->exit_reason != KVM_EXIT_IO) {
		no_device(run);
		return 0;
	}
	if (run->io.data_offset < sizeof(*run) || run->io.size > 8 || run->io.count > 512)
		return 0; /* not what KVM hands out; ignored */
	p = (uint8_t *)run + run->io.data_offset;
	if (run->io.direction == KVM_EXIT_IO_OUT) {
		if ((run->io.port == COM1 || run->io.port == FW_DEBUG_PORT) && run->io.size == 1 && fd >= 0)
			for (uint32_t i = 0; i < run->io.count; i++) {
				/* no terminal control sequences from the guest */
				uint8_t c = (p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t') || p[i] == 0x7f
						    ? '?' : p[i];

				if (write(fd, &c, 1) < 0)
					break; /* a console that cannot take it loses output, never the guest */
			}
		return 0;
	}
	memset(p, run->io.port == COM1_LSR ? LSR_THRE_TEMT : 0xff, (size_t)run->io.size * run->io.count);
	return 0;
}
