/* vcpu.c - vCPUs: creation, the 64-bit boot state, and one thread per vCPU
 * running KVM_RUN and dispatching its exits (port I/O, MMIO, shutdown). */
#include <errno.h>
#include "vmm/kvm_uapi.h"
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/vmm_core.h"

#define SIG_KICK SIGUSR1
#define MSR_IA32_MISC_ENABLE 0x1a0

static int set_lapic_lint(struct vcpu *v)
{
	struct kvm_lapic_state l;
	if (ioctl(v->fd, KVM_GET_LAPIC, &l) < 0)
		return err_set(errno, "vCPU %u: KVM_GET_LAPIC: %s", v->index, strerror(errno));
	/* LVT LINT1 = NMI as a BIOS leaves it (SDM Vol. 3A §10.5.1, register
	 * 0x360). LINT0 stays masked: there is no 8259 for the guest (ACPI
	 * hardware-reduced), and an unmasked ExtINT would make Linux keep
	 * virtual-wire mode and take the in-kernel PIC's vectors. */
	uint32_t lint1 = le32((uint8_t *)l.regs + 0x360);
	put_le32((uint8_t *)l.regs + 0x360, (lint1 & ~0x700u) | (4u << 8));
	if (ioctl(v->fd, KVM_SET_LAPIC, &l) < 0)
		return err_set(errno, "vCPU %u: KVM_SET_LAPIC: %s", v->index, strerror(errno));
	return 0;
}

int vcpu_create(struct vm *vm, unsigned index)
{
	struct vcpu *v = &vm->vcpu[index];
	v->vm = vm;
	v->index = index;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v->fd < 0)
		return err_set(errno, "KVM_CREATE_VCPU %u: %s", index, strerror(errno));
	int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run))
		return err_set(errno, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	v->run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return err_set(errno, "vCPU %u: mmap kvm_run: %s", index, strerror(errno));
	}
	v->run_size = (size_t)sz;
	int rc = vcpu_set_cpuid(vm, v);
	if (rc)
		return rc;
	rc = set_lapic_lint(v);
	if (rc)
		return rc;
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 }; /* FNINIT / reset values */
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return err_set(errno, "vCPU %u: KVM_SET_FPU: %s", index, strerror(errno));
	/* struct kvm_msrs ends in a flexible array: the fixed-size twin */
	struct kvm_msrs_fixed msrs = {
		.nmsrs = 1,
		.entries[0] = { .index = MSR_IA32_MISC_ENABLE, .data = 1 /* fast strings */ },
	};
	if (ioctl(v->fd, KVM_SET_MSRS, &msrs) != 1)
		return err_set(EIO, "vCPU %u: KVM_SET_MSRS IA32_MISC_ENABLE failed", index);
	return vm->platform->setup_vcpu ? vm->platform->setup_vcpu(vm, index, v->fd) : 0;
}

static struct kvm_segment kvm_seg(const struct sev_seg *g)
{
	/* VMCB attrib: type | S<<4 | DPL<<5 | P<<7 | AVL<<8 | L<<9 | DB<<10 | G<<11 */
	return (struct kvm_segment){
		.base = g->base, .limit = g->limit, .selector = g->selector,
		.type = g->attrib & 0xf, .s = (g->attrib >> 4) & 1, .dpl = (g->attrib >> 5) & 3,
		.present = (g->attrib >> 7) & 1, .avl = (g->attrib >> 8) & 1, .l = (g->attrib >> 9) & 1,
		.db = (g->attrib >> 10) & 1, .g = (g->attrib >> 11) & 1,
	};
}

/* Load a VMSA-shaped state into KVM (plain KVM and the sim platforms: the
 * same registers a real SEV-ES/SNP launch puts in the encrypted VMSA). */
int vcpu_set_state(struct vcpu *v, const struct sev_cpu_state *st)
{
	struct kvm_sregs s;
	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return err_set(errno, "vCPU %u: KVM_GET_SREGS: %s", v->index, strerror(errno));
	s.cs = kvm_seg(&st->cs);
	s.ds = kvm_seg(&st->ds);
	s.es = kvm_seg(&st->es);
	s.fs = kvm_seg(&st->fs);
	s.gs = kvm_seg(&st->gs);
	s.ss = kvm_seg(&st->ss);
	s.tr = kvm_seg(&st->tr);
	s.ldt = kvm_seg(&st->ldtr);
	s.gdt.base = st->gdtr.base;
	s.gdt.limit = (uint16_t)st->gdtr.limit;
	s.idt.base = st->idtr.base;
	s.idt.limit = (uint16_t)st->idtr.limit;
	s.cr0 = st->cr0;
	s.cr3 = st->cr3;
	s.cr4 = st->cr4;
	s.efer = st->efer;
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
		return err_set(errno, "vCPU %u: KVM_SET_SREGS: %s", v->index, strerror(errno));
	struct kvm_regs r = {
		.rax = st->rax, .rbx = st->rbx, .rcx = st->rcx, .rdx = st->rdx, .rsi = st->rsi, .rdi = st->rdi,
		.rsp = st->rsp, .rbp = st->rbp, .rip = st->rip, .rflags = st->rflags,
	};
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return err_set(errno, "vCPU %u: KVM_SET_REGS: %s", v->index, strerror(errno));
	return 0;
}

int vcpu_setup_long_mode(struct vm *vm, struct vcpu *v)
{
	struct sev_cpu_state st;

	vmm_boot_cpu_state(vm->entry, &st);
	return vcpu_set_state(v, &st);
}

static void pio_dispatch(struct vm *vm, uint16_t port, uint8_t *data, unsigned len, bool write)
{
	for (unsigned i = 0; i < vm->npio; i++) {
		struct pio_range *r = &vm->pio[i];
		if (port >= r->base && port - r->base < r->len) {
			r->fn(r->opaque, port, data, len, write);
			return;
		}
	}
	if (!write)
		memset(data, 0xff, len); /* nothing decodes it: the bus floats high */
}

static void exit_crash(struct vcpu *v, const char *what, unsigned long long detail)
{
	char why[128];
	snprintf(why, sizeof(why), "vCPU %u: %s (%llu)", v->index, what, detail);
	vm_request_exit(v->vm, VMM_EXIT_CRASH, why);
}

/* Handle one exit; false when the vCPU must stop. */
static bool handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vm *vm = v->vm;
	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint8_t *p = (uint8_t *)run + run->io.data_offset;
		/* data_offset/size/count come from KVM, inside the mapping */
		for (uint32_t i = 0; i < run->io.count; i++, p += run->io.size)
			pio_dispatch(vm, run->io.port, p, run->io.size, run->io.direction == KVM_EXIT_IO_OUT);
		return true;
	}
	case KVM_EXIT_MMIO: {
		unsigned len = run->mmio.len <= 8 ? run->mmio.len : 8;
		if (!pci_mmio(&vm->pci, run->mmio.phys_addr, run->mmio.data, len, run->mmio.is_write) &&
		    !run->mmio.is_write)
			memset(run->mmio.data, 0xff, len);
		return true;
	}
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return true;
	case KVM_EXIT_SHUTDOWN:
		exit_crash(v, "triple fault (KVM_EXIT_SHUTDOWN)", 0);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vm_request_exit(vm, VMM_EXIT_POWEROFF, "guest powered off");
			break;
		case KVM_SYSTEM_EVENT_RESET:
			vm_request_exit(vm, VMM_EXIT_REBOOT, "guest reset");
			break;
		default:
			exit_crash(v, "system event", run->system_event.type);
		}
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		exit_crash(v, "KVM_EXIT_FAIL_ENTRY, hardware reason",
			   (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		exit_crash(v, "KVM_EXIT_INTERNAL_ERROR, suberror", run->internal.suberror);
		return false;
	default:
		exit_crash(v, "unhandled KVM exit reason", run->exit_reason);
		return false;
	}
}

/* CVMM_PROFILE=1: sample the boot vCPU's rip every 10 ms (a kick makes
 * KVM_RUN return) and print the samples at exit, for finding where a
 * guest spends its boot (resolve them with the kernel's System.map). */
#define PROFILE_MAX 8192
static uint64_t profile_rip[PROFILE_MAX];
static unsigned profile_n;
static volatile int profile_on;

static void *profile_main(void *arg)
{
	struct vm *vm = arg;
	confine_thread(CONFINE_VMM);
	while (!vm->stopping && profile_n < PROFILE_MAX) {
		usleep(10000);
		if (vm->vcpu[0].started)
			pthread_kill(vm->vcpu[0].thread, SIGUSR1);
	}
	return NULL;
}

void vcpu_profile_start(struct vm *vm)
{
	pthread_t t;
	if (!getenv("CVMM_PROFILE"))
		return;
	profile_on = 1;
	if (pthread_create(&t, NULL, profile_main, vm) == 0)
		pthread_detach(t);
}

void vcpu_profile_dump(void)
{
	for (unsigned i = 0; profile_on && i < profile_n; i++)
		fprintf(stderr, "cvmm profile: %llx\n", (unsigned long long)profile_rip[i]);
}

/* CVMM_TEST_POST_LAUNCH_IOCTL=0xNNNN (tests/nested): vCPU 0 issues that
 * ioctl on the VM fd once its filter is in, as a compromised vCPU thread
 * would; with seccomp on, a call off the vcpu list kills cvmm (SIGSYS). */
static void test_post_launch_ioctl(struct vcpu *v)
{
	const char *s = v->index == 0 ? getenv("CVMM_TEST_POST_LAUNCH_IOCTL") : NULL;
	if (s) {
		unsigned long req = strtoul(s, NULL, 0);
		int r = ioctl(v->vm->vm_fd, req, NULL);
		fprintf(stderr, "cvmm run: test ioctl 0x%lx on the VM fd returned %d (not killed)\n", req, r);
	}
}

/* vm.pause: wait outside KVM_RUN until resumed or stopped (the guest's
 * state stays in KVM; a parked thread makes no system call but futex). */
static void vcpu_park(struct vcpu *v)
{
	struct vm *vm = v->vm;

	pthread_mutex_lock(&vm->gate_lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (vm->pause_req && !vm->stopping)
		pthread_cond_wait(&vm->pause_cond, &vm->gate_lock);
	vm->parked--;
	pthread_mutex_unlock(&vm->gate_lock);
}

static void *vcpu_main(void *arg)
{
	struct vcpu *v = arg;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	/* Confined before the first KVM_RUN: the filter first, then wait for
	 * the main thread to have its own. */
	confine_thread(CONFINE_VCPU);
	pthread_mutex_lock(&v->vm->gate_lock);
	while (!v->vm->gate_open)
		pthread_cond_wait(&v->vm->gate_cond, &v->vm->gate_lock);
	v->vm->in_loop++;
	pthread_mutex_unlock(&v->vm->gate_lock);
	if (!v->vm->stopping)
		test_post_launch_ioctl(v);
	while (!v->vm->stopping) {
		if (v->vm->pause_req)
			vcpu_park(v);
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->run->immediate_exit = 0;
				struct kvm_regs r;
				if (profile_on && v->index == 0 && profile_n < PROFILE_MAX &&
				    ioctl(v->fd, KVM_GET_REGS, &r) == 0)
					profile_rip[profile_n++] = r.rip;
				continue;
			}
			exit_crash(v, "KVM_RUN failed, errno", (unsigned long long)errno);
			break;
		}
		if (!handle_exit(v))
			break;
	}
	pthread_mutex_lock(&v->vm->gate_lock);
	v->vm->in_loop--;
	pthread_cond_broadcast(&v->vm->pause_cond);
	pthread_mutex_unlock(&v->vm->gate_lock);
	return NULL;
}

static void kick_handler(int sig) { (void)sig; }

int vcpu_start(struct vcpu *v)
{
	static bool installed;
	if (!installed) {
		struct sigaction sa = { .sa_handler = kick_handler }; /* no SA_RESTART */
		sigemptyset(&sa.sa_mask);
		sigaction(SIG_KICK, &sa, NULL);
		installed = true;
	}
	int rc = pthread_create(&v->thread, NULL, vcpu_main, v);
	if (rc)
		return err_set(rc, "vCPU %u: thread: %s", v->index, strerror(rc));
	v->started = true;
	return 0;
}

void vm_gate_open(struct vm *vm)
{
	pthread_mutex_lock(&vm->gate_lock);
	vm->gate_open = true;
	pthread_cond_broadcast(&vm->gate_cond);
	pthread_mutex_unlock(&vm->gate_lock);
}

/* Out of KVM_RUN, every started vCPU: immediate_exit covers a thread about
 * to enter it, the signal kicks one inside it (api.rst "immediate_exit"). */
static void kick_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];
		if (!v->started)
			continue;
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, SIG_KICK);
	}
}

void vcpu_pause_all(struct vm *vm)
{
	pthread_mutex_lock(&vm->gate_lock);
	vm->pause_req = true;
	pthread_mutex_unlock(&vm->gate_lock);
	kick_all(vm);
	pthread_mutex_lock(&vm->gate_lock);
	while (vm->parked < vm->in_loop && !vm->stopping)
		pthread_cond_wait(&vm->pause_cond, &vm->gate_lock);
	pthread_mutex_unlock(&vm->gate_lock);
}

void vcpu_resume_all(struct vm *vm)
{
	pthread_mutex_lock(&vm->gate_lock);
	vm->pause_req = false;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->gate_lock);
}

void vcpu_stop_all(struct vm *vm)
{
	vm->stopping = 1;
	__sync_synchronize();
	vm_gate_open(vm);
	pthread_mutex_lock(&vm->gate_lock);
	pthread_cond_broadcast(&vm->pause_cond); /* parked vCPUs end too */
	pthread_mutex_unlock(&vm->gate_lock);
	kick_all(vm);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];
		if (v->started)
			pthread_join(v->thread, NULL);
		v->started = false;
	}
}

void vcpu_dump_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct kvm_regs r;
		struct kvm_sregs s;
		if (vm->vcpu[i].fd < 0 || ioctl(vm->vcpu[i].fd, KVM_GET_REGS, &r) < 0 ||
		    ioctl(vm->vcpu[i].fd, KVM_GET_SREGS, &s) < 0)
			continue;
		fprintf(stderr, "vCPU %u: rip=%llx rsp=%llx rflags=%llx cr0=%llx cr3=%llx efer=%llx\n", i,
			(unsigned long long)r.rip, (unsigned long long)r.rsp, (unsigned long long)r.rflags,
			(unsigned long long)s.cr0, (unsigned long long)s.cr3, (unsigned long long)s.efer);
	}
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->fd > 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}
