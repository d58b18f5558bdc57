/* test_cc_run.c - the run time of a confidential VM (vmm/cc_run.c) through
 * the recording ioctl seam: private/shared conversions, the
 * KVM_EXIT_MEMORY_FAULT and KVM_HC_MAP_GPA_RANGE exits, the vCPU run loop.
 *
 * Expectations, by hand from the kernel's documents:
 *  - api.rst KVM_EXIT_MEMORY_FAULT: "KVM_RUN returns -1 with errno EFAULT",
 *    memory_fault {flags, gpa, size}, KVM_MEMORY_EXIT_FLAG_PRIVATE = 1 << 3
 *    meaning the access was private; userspace makes the attributes match.
 *  - api.rst KVM_SET_MEMORY_ATTRIBUTES {address, size, attributes, flags},
 *    KVM_MEMORY_ATTRIBUTE_PRIVATE = 1 << 3; KVM_CREATE_GUEST_MEMFD: memory
 *    of the other state is given back with fallocate(PUNCH_HOLE) on the
 *    guest_memfd (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE = 3) or madvise
 *    on the shared mapping (MADV_DONTNEED = 4 for the anonymous one).
 *  - api.rst KVM_EXIT_HYPERCALL + KVM_CAP_EXIT_HYPERCALL (201): args[0] is
 *    the bit mask of hypercalls to exit on, 1 << KVM_HC_MAP_GPA_RANGE (12);
 *    hypercalls.rst KVM_HC_MAP_GPA_RANGE: a0 GPA, a1 number of 4 KiB pages,
 *    a2 attributes (bits 3:0 page size 0/1/2, bit 4 encrypted, bits 63:5
 *    reserved); api.rst KVM_CAP_EXIT_HYPERCALL: userspace fails the
 *    hypercall with hypercall.ret = EINVAL (22) or asks for a retry with
 *    EAGAIN (11), positive (KVM refuses other values for MAP_GPA_RANGE);
 *    hypercalls cvmm does not serve get -KVM_ENOSYS (kvm_para.h: 1000).
 *  - api.rst KVM_EXIT_SYSTEM_EVENT: SHUTDOWN 1, RESET 2, SEV_TERM 6,
 *    TDX_FATAL 7. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/common.h"
#include "vmm/ioctl_rec.h"
#include "vmm/kvm_uapi.h"

#define RAM0 0x200000ull   /* slot 0: [0, 2 MiB) */
#define RAM1 0x100000ull   /* slot 1: [2 MiB, 3 MiB), adjacent */
#define RAM_END (RAM0 + RAM1)

struct env {
	struct cc_rec *rec;
	struct cc_io *io;
	int kvm, vm;
	struct cc_slot slot[2];
	struct cc_mem mem;
	char path[64];
	size_t setup_lines;
	json_t **lines;
	size_t n;
};

static void up(struct env *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "/tmp/test_cc_run.%d.jsonl", (int)getpid());
	assert_int_equal(cc_rec_create(e->path, &e->rec), 0);
	e->io = cc_rec_io(e->rec);
	e->kvm = e->io->open(e->io, "/dev/kvm");
	assert_int_equal(e->kvm, 100);
	e->vm = e->io->ioctl(e->io, e->kvm, KVM_CREATE_VM, (void *)(uintptr_t)KVM_X86_SNP_VM);
	assert_int_equal(e->vm, 101);
	assert_int_equal(cc_slot_add(e->io, e->vm, 0, 0, RAM0, "test", &e->slot[0]), 0);
	assert_int_equal(cc_slot_add(e->io, e->vm, 1, RAM0, RAM1, "test", &e->slot[1]), 0);
	assert_int_equal(e->slot[0].gmem_fd, 102);
	assert_int_equal(e->slot[1].gmem_fd, 103);
	e->setup_lines = 7; /* CREATE_VM, 2 x (GUEST_MEMFD, MEMORY_REGION2, ATTRIBUTES) */
	cc_mem_init(&e->mem, e->io, e->vm, e->slot, 2, true);
}

/* Close the recorder; e->lines are the lines after the setup. */
static void down(struct env *e)
{
	FILE *fp;
	char *buf = NULL;
	size_t cap = 0, i = 0;

	cc_slot_release(e->io, &e->slot[0]);
	cc_slot_release(e->io, &e->slot[1]);
	e->io->close(e->io, e->vm);
	e->io->close(e->io, e->kvm);
	assert_int_equal(cc_rec_open_fds(e->rec), 0);
	assert_int_equal(cc_rec_close(e->rec), 0);
	cc_mem_destroy(&e->mem);
	assert_non_null(fp = fopen(e->path, "r"));
	while (getline(&buf, &cap, fp) > 0) {
		if (i++ < e->setup_lines)
			continue;
		e->lines = realloc(e->lines, (e->n + 1) * sizeof(*e->lines));
		assert_non_null(e->lines);
		assert_non_null(e->lines[e->n] = json_loads(buf, 0, NULL));
		e->n++;
	}
	free(buf);
	fclose(fp);
	unlink(e->path);
}

static void done(struct env *e)
{
	for (size_t i = 0; i < e->n; i++)
		json_decref(e->lines[i]);
	free(e->lines);
}

/* Line i equals the JSON text want (key order as recorded). */
static void line_is(struct env *e, size_t i, const char *want)
{
	char *got;

	assert_true(i < e->n);
	got = json_dumps(e->lines[i], JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (strcmp(got, want))
		fail_msg("line %zu:\n got  %s\n want %s", i, got, want);
	free(got);
}

static void test_convert_shared_then_private(void **state)
{
	struct env e;
	char want[256];

	(void)state;
	up(&e);
	assert_int_equal(cc_mem_convert(&e.mem, 0x1000, 0x2000, false), 0);
	assert_int_equal(cc_mem_convert(&e.mem, 0x1000, 0x2000, true), 0);
	assert_int_equal(e.mem.to_shared, 2);
	assert_int_equal(e.mem.to_private, 2);
	assert_int_equal(e.mem.release_errors, 0);
	snprintf(want, sizeof(want), "{\"syscall\":\"madvise\",\"addr\":\"%#llx\",\"len\":\"0x2000\",\"advice\":4}",
		 (unsigned long long)(uintptr_t)(e.slot[0].host + 0x1000));
	down(&e);
	assert_int_equal(e.n, 4);
	line_is(&e, 0, "{\"ioctl\":\"KVM_SET_MEMORY_ATTRIBUTES\",\"fd\":101,\"address\":\"0x1000\",\"size\":\"0x2000\","
		       "\"attributes\":\"0x0\",\"flags\":0}");
	line_is(&e, 1, "{\"syscall\":\"fallocate\",\"fd\":102,\"mode\":3,\"offset\":\"0x1000\",\"len\":\"0x2000\"}");
	line_is(&e, 2, "{\"ioctl\":\"KVM_SET_MEMORY_ATTRIBUTES\",\"fd\":101,\"address\":\"0x1000\",\"size\":\"0x2000\","
		       "\"attributes\":\"0x8\",\"flags\":0}");
	line_is(&e, 3, want);
	done(&e);
}

/* One attribute change for the whole range, the backing released per slot
 * at the slot's own guest_memfd offset. */
static void test_convert_across_slots(void **state)
{
	struct env e;

	(void)state;
	up(&e);
	assert_int_equal(cc_mem_convert(&e.mem, RAM0 - 0x1000, 0x3000, false), 0);
	down(&e);
	assert_int_equal(e.n, 3);
	line_is(&e, 0, "{\"ioctl\":\"KVM_SET_MEMORY_ATTRIBUTES\",\"fd\":101,\"address\":\"0x1ff000\",\"size\":\"0x3000\","
		       "\"attributes\":\"0x0\",\"flags\":0}");
	line_is(&e, 1, "{\"syscall\":\"fallocate\",\"fd\":102,\"mode\":3,\"offset\":\"0x1ff000\",\"len\":\"0x1000\"}");
	line_is(&e, 2, "{\"syscall\":\"fallocate\",\"fd\":103,\"mode\":3,\"offset\":\"0x0\",\"len\":\"0x2000\"}");
	done(&e);
}

/* Hostile ranges: refused with a message, nothing issued. */
static void test_convert_hostile(void **state)
{
	static const struct { uint64_t gpa, size; int err; const char *msg; } bad[] = {
		{ 0x1001, 0x1000, EINVAL, "4 KiB aligned" },
		{ 0x1000, 0xfff, EINVAL, "4 KiB aligned" },
		{ 0x1000, 0, EINVAL, "non-empty" },
		{ RAM_END, 0x1000, EFAULT, "is not guest RAM" },
		{ RAM_END - 0x1000, 0x2000, EFAULT, "0x2ff000..0x300fff is not guest RAM" },
		{ 0xfffffffffffff000ull, 0x2000, EFAULT, "wraps around" },
		{ 0x1000, 0xfffffffffffff000ull, EFAULT, "wraps around" },
		{ 0x1000, 1ull << 40, EFAULT, "is not guest RAM" },
	};
	struct env e;

	(void)state;
	up(&e);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err_clear();
		assert_int_equal(cc_mem_convert(&e.mem, bad[i].gpa, bad[i].size, i & 1), -bad[i].err);
		if (!strstr(err_msg(), bad[i].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, err_msg(), bad[i].msg);
	}
	assert_int_equal(e.mem.to_private + e.mem.to_shared, 0);
	down(&e);
	assert_int_equal(e.n, 0);
	done(&e);
}

/* The kernel refusing the attribute change: an error, no backing released. */
static void test_convert_kernel_refuses(void **state)
{
	struct env e;

	(void)state;
	up(&e);
	cc_rec_fail(e.rec, cc_rec_calls(e.rec) + 1, ENOMEM, 0);
	err_clear();
	assert_int_equal(cc_mem_convert(&e.mem, 0, 0x1000, false), -ENOMEM);
	assert_non_null(strstr(err_msg(), "KVM_SET_MEMORY_ATTRIBUTES gpa 0 size 0x1000"));
	down(&e);
	assert_int_equal(e.n, 1);
	done(&e);
}

static void test_enable_map_gpa_exit(void **state)
{
	struct env e;

	(void)state;
	up(&e);
	assert_int_equal(cc_enable_map_gpa_exit(e.io, e.vm), 0);
	down(&e);
	assert_int_equal(e.n, 1);
	line_is(&e, 0, "{\"ioctl\":\"KVM_ENABLE_CAP\",\"fd\":101,\"cap\":201,\"flags\":0,\"args\":[4096,0,0,0]}");
	done(&e);
}

static void hypercall(struct kvm_run *run, uint64_t nr, uint64_t gpa, uint64_t npages, uint64_t attr)
{
	memset(run, 0, sizeof(*run));
	run->exit_reason = KVM_EXIT_HYPERCALL;
	run->hypercall.nr = nr;
	run->hypercall.args[0] = gpa;
	run->hypercall.args[1] = npages;
	run->hypercall.args[2] = attr;
	run->hypercall.ret = 0x5a5a; /* must be overwritten */
	run->hypercall.flags = KVM_EXIT_HYPERCALL_LONG_MODE;
}

static void test_map_gpa_range(void **state)
{
	static const struct { uint64_t nr, gpa, npages, attr; int64_t ret; } c[] = {
		{ KVM_HC_MAP_GPA_RANGE, 0x10000, 16, KVM_MAP_GPA_RANGE_DECRYPTED, 0 },              /* to shared */
		{ KVM_HC_MAP_GPA_RANGE, 0x10000, 16, KVM_MAP_GPA_RANGE_ENCRYPTED | 1, 0 },          /* back, 2M hint */
		{ 5 /* KVM_HC_KICK_CPU */, 0, 0, 0, -1000 },                                        /* not ours */
		{ KVM_HC_MAP_GPA_RANGE, 0x10000, 1, 1ull << 5, EINVAL },                           /* reserved bit */
		{ KVM_HC_MAP_GPA_RANGE, 0x10000, 1, 3, EINVAL },                                   /* page size 3 */
		{ KVM_HC_MAP_GPA_RANGE, 0x10800, 1, 0, EINVAL },                                   /* unaligned */
		{ KVM_HC_MAP_GPA_RANGE, 0x10000, 0, 0, EINVAL },                                   /* no pages */
		{ KVM_HC_MAP_GPA_RANGE, 0x10000, 1ull << 52, 0, EINVAL },                          /* huge npages */
		{ KVM_HC_MAP_GPA_RANGE, 0x10000, UINT64_MAX, 0, EINVAL },                          /* overflows << 12 */
		{ KVM_HC_MAP_GPA_RANGE, RAM_END, 1, 0, EINVAL },                                   /* outside RAM */
		{ KVM_HC_MAP_GPA_RANGE, RAM_END - 0x1000, 2, 0, EINVAL },                          /* crosses the end */
		{ KVM_HC_MAP_GPA_RANGE, 0xfffffffffffff000ull, 2, 0, EINVAL },                     /* wraps */
	};
	struct kvm_run run;
	struct env e;

	(void)state;
	up(&e);
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		hypercall(&run, c[i].nr, c[i].gpa, c[i].npages, c[i].attr);
		assert_int_equal(cc_exit_hypercall(&e.mem, &run), 0); /* the VMM goes on */
		if ((int64_t)run.hypercall.ret != c[i].ret)
			fail_msg("case %zu: ret %lld, want %lld", i, (long long)run.hypercall.ret, (long long)c[i].ret);
	}
	/* KVM short of memory for the attributes: the guest retries (EAGAIN);
	 * any other refusal fails the request (EINVAL) */
	cc_rec_fail(e.rec, cc_rec_calls(e.rec) + 1, ENOMEM, 0);
	hypercall(&run, KVM_HC_MAP_GPA_RANGE, 0x10000, 1, 0);
	cc_exit_hypercall(&e.mem, &run);
	assert_int_equal(run.hypercall.ret, EAGAIN);
	cc_rec_fail(e.rec, cc_rec_calls(e.rec) + 1, EPERM, 0);
	hypercall(&run, KVM_HC_MAP_GPA_RANGE, 0x10000, 1, 0);
	cc_exit_hypercall(&e.mem, &run);
	assert_int_equal(run.hypercall.ret, EINVAL);
	down(&e);
	/* the two good requests reached KVM (attributes, then the backing),
	 * then the two KVM refused */
	assert_int_equal(e.n, 6);
	line_is(&e, 0, "{\"ioctl\":\"KVM_SET_MEMORY_ATTRIBUTES\",\"fd\":101,\"address\":\"0x10000\",\"size\":\"0x10000\","
		       "\"attributes\":\"0x0\",\"flags\":0}");
	line_is(&e, 1, "{\"syscall\":\"fallocate\",\"fd\":102,\"mode\":3,\"offset\":\"0x10000\",\"len\":\"0x10000\"}");
	line_is(&e, 2, "{\"ioctl\":\"KVM_SET_MEMORY_ATTRIBUTES\",\"fd\":101,\"address\":\"0x10000\",\"size\":\"0x10000\","
		       "\"attributes\":\"0x8\",\"flags\":0}");
	done(&e);
}

static void fault(struct kvm_run *run, uint64_t flags, uint64_t gpa, uint64_t size)
{
	memset(run, 0, sizeof(*run));
	run->exit_reason = KVM_EXIT_MEMORY_FAULT;
	run->memory_fault.flags = flags;
	run->memory_fault.gpa = gpa;
	run->memory_fault.size = size;
}

static void test_memory_fault(void **state)
{
	struct kvm_run run;
	struct env e;

	(void)state;
	up(&e);
	fault(&run, 0, 0x4000, 0x1000); /* a shared access to a private page */
	assert_int_equal(cc_exit_memory_fault(&e.mem, &run), 0);
	fault(&run, KVM_MEMORY_EXIT_FLAG_PRIVATE, 0x4000, 0x1000);
	assert_int_equal(cc_exit_memory_fault(&e.mem, &run), 0);
	fault(&run, KVM_MEMORY_EXIT_FLAG_PRIVATE, RAM_END, 0x1000);
	err_clear();
	assert_int_equal(cc_exit_memory_fault(&e.mem, &run), -EFAULT);
	assert_non_null(strstr(err_msg(), "KVM_EXIT_MEMORY_FAULT: convert to private: gpa 0x300000..0x300fff is not "
					  "guest RAM"));
	fault(&run, 1ull << 0, 0x4000, 0x1000);
	assert_int_equal(cc_exit_memory_fault(&e.mem, &run), -EINVAL);
	assert_non_null(strstr(err_msg(), "unknown flags 0x1"));
	down(&e);
	assert_int_equal(e.n, 4);
	line_is(&e, 0, "{\"ioctl\":\"KVM_SET_MEMORY_ATTRIBUTES\",\"fd\":101,\"address\":\"0x4000\",\"size\":\"0x1000\","
		       "\"attributes\":\"0x0\",\"flags\":0}");
	line_is(&e, 2, "{\"ioctl\":\"KVM_SET_MEMORY_ATTRIBUTES\",\"fd\":101,\"address\":\"0x4000\",\"size\":\"0x1000\","
		       "\"attributes\":\"0x8\",\"flags\":0}");
	done(&e);
}

/* SEV/SEV-ES have no guest_memfd: MAP_GPA_RANGE is validated and
 * acknowledged, no attributes are set. */
static void test_no_private_mem(void **state)
{
	struct kvm_run run;
	struct env e;

	(void)state;
	up(&e);
	e.mem.private_mem = false;
	hypercall(&run, KVM_HC_MAP_GPA_RANGE, 0x10000, 1, 0);
	cc_exit_hypercall(&e.mem, &run);
	assert_int_equal(run.hypercall.ret, 0);
	hypercall(&run, KVM_HC_MAP_GPA_RANGE, RAM_END, 1, 0);
	cc_exit_hypercall(&e.mem, &run);
	assert_int_equal(run.hypercall.ret, EINVAL);
	fault(&run, 0, 0x4000, 0x1000);
	assert_int_equal(cc_exit_memory_fault(&e.mem, &run), -EINVAL);
	down(&e);
	assert_int_equal(e.n, 0);
	done(&e);
}

/* ---------------- the run loop, exits scripted ---------------- */
struct script {
	unsigned i, n;
	struct { int rc; struct kvm_run run; } step[8];
	uint8_t io_seen;
};

static int on_run(void *ctx, int vcpu_fd, struct kvm_run *run)
{
	struct script *s = ctx;

	(void)vcpu_fd;
	if (s->i > 0 && s->step[s->i - 1].run.exit_reason == KVM_EXIT_IO)
		s->io_seen = ((uint8_t *)run)[4096]; /* what the loop answered */
	if (s->i > 0 && s->step[s->i - 1].run.exit_reason == KVM_EXIT_HYPERCALL)
		s->step[s->i - 1].run.hypercall.ret = run->hypercall.ret;
	assert_true(s->i < s->n);
	memcpy(run, &s->step[s->i].run, sizeof(*run));
	return s->step[s->i++].rc;
}

static void test_loop(void **state)
{
	struct script s = { .n = 6 };
	struct cc_runner r;
	struct env e;
	struct kvm_run *run;
	size_t len;
	int vcpu;

	(void)state;
	up(&e);
	vcpu = e.io->ioctl(e.io, e.vm, KVM_CREATE_VCPU, (void *)0);
	assert_true(vcpu > 0);
	assert_non_null(run = e.io->map_run(e.io, e.kvm, vcpu, &len));
	e.setup_lines += 2;
	hypercall(&s.step[0].run, KVM_HC_MAP_GPA_RANGE, 0x20000, 2, 0);
	s.step[1].rc = -EINTR; /* a kick */
	fault(&s.step[2].run, KVM_MEMORY_EXIT_FLAG_PRIVATE, 0x20000, 0x1000);
	s.step[2].rc = -EFAULT;
	s.step[3].run.exit_reason = KVM_EXIT_IO;
	s.step[3].run.io.direction = KVM_EXIT_IO_IN;
	s.step[3].run.io.size = 1;
	s.step[3].run.io.count = 1;
	s.step[3].run.io.port = 0x3fd;
	s.step[3].run.io.data_offset = 4096;
	s.step[4].run.exit_reason = KVM_EXIT_HLT;
	s.step[5].run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
	s.step[5].run.system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
	cc_rec_on_run(e.rec, on_run, &s);
	cc_runner_init(&r, &e.mem);
	assert_int_equal(cc_vcpu_loop(&r, 0, vcpu, run), 0);
	assert_string_equal(r.why, "guest powered off");
	assert_int_equal(s.i, 6);
	assert_int_equal(s.step[0].run.hypercall.ret, 0);
	assert_int_equal(s.io_seen, 0xff);
	assert_int_equal(e.mem.to_shared, 2);
	assert_int_equal(e.mem.to_private, 1);
	e.io->unmap_run(e.io, run, len);
	e.io->close(e.io, vcpu);
	down(&e);
	/* RUN, ATTR, fallocate, RUN (EINTR), RUN (fault), ATTR, madvise, RUN (io), RUN (hlt), RUN (shutdown) */
	assert_int_equal(e.n, 10);
	line_is(&e, 0, "{\"ioctl\":\"KVM_RUN\",\"fd\":104}");
	line_is(&e, 1, "{\"ioctl\":\"KVM_SET_MEMORY_ATTRIBUTES\",\"fd\":101,\"address\":\"0x20000\",\"size\":\"0x2000\","
		       "\"attributes\":\"0x0\",\"flags\":0}");
	line_is(&e, 5, "{\"ioctl\":\"KVM_SET_MEMORY_ATTRIBUTES\",\"fd\":101,\"address\":\"0x20000\",\"size\":\"0x1000\","
		       "\"attributes\":\"0x8\",\"flags\":0}");
	done(&e);
}

/* A fault the VMM cannot satisfy ends the guest as crashed (re-entering
 * would fault again at once); the VMM itself returns normally. */
static void test_loop_hostile_fault(void **state)
{
	static const struct { uint32_t type; const char *why; } ev[] = {
		{ KVM_SYSTEM_EVENT_RESET, "guest reset" },
		{ KVM_SYSTEM_EVENT_SEV_TERM, "vCPU 0: the guest asked to terminate" },
		{ KVM_SYSTEM_EVENT_TDX_FATAL, "vCPU 0: the TD reported a fatal error" },
	};
	struct script s = { .n = 1 };
	struct cc_runner r;
	struct env e;
	struct kvm_run *run;
	size_t len;
	int vcpu;

	(void)state;
	up(&e);
	vcpu = e.io->ioctl(e.io, e.vm, KVM_CREATE_VCPU, (void *)0);
	assert_non_null(run = e.io->map_run(e.io, e.kvm, vcpu, &len));
	fault(&s.step[0].run, 0, RAM_END + 0x1000, 0x1000);
	s.step[0].rc = -EFAULT;
	cc_rec_on_run(e.rec, on_run, &s);
	cc_runner_init(&r, &e.mem);
	assert_int_equal(cc_vcpu_loop(&r, 0, vcpu, run), 4);
	assert_non_null(strstr(r.why, "vCPU 0: KVM_EXIT_MEMORY_FAULT: convert to shared: gpa 0x301000..0x301fff is "
				      "not guest RAM"));
	/* KVM_RUN failing otherwise */
	s = (struct script){ .n = 1 };
	s.step[0].rc = -ENXIO;
	cc_runner_init(&r, &e.mem);
	assert_int_equal(cc_vcpu_loop(&r, 0, vcpu, run), 4);
	assert_string_equal(r.why, "vCPU 0: KVM_RUN failed: No such device or address");
	for (size_t i = 0; i < ARRAY_SIZE(ev); i++) {
		s = (struct script){ .n = 1 };
		s.step[0].run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
		s.step[0].run.system_event.type = ev[i].type;
		cc_runner_init(&r, &e.mem);
		assert_int_equal(cc_vcpu_loop(&r, 0, vcpu, run), ev[i].type == KVM_SYSTEM_EVENT_RESET ? 3 : 4);
		assert_non_null(strstr(r.why, ev[i].why));
	}
	e.io->unmap_run(e.io, run, len);
	e.io->close(e.io, vcpu);
	down(&e);
	done(&e);
}

/* Two vCPU threads: vCPU 1 powers the guest off, vCPU 0 (halting) stops. */
static int on_run_mt(void *ctx, int vcpu_fd, struct kvm_run *run)
{
	unsigned *count = ctx;

	memset(run, 0, sizeof(*run));
	if (vcpu_fd == 105 && ++*count == 3) {
		run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
		run->system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
	} else {
		run->exit_reason = KVM_EXIT_HLT;
	}
	return 0;
}

static void test_run_vcpus(void **state)
{
	struct cc_runner r;
	struct env e;
	unsigned count = 0;
	int fds[2];

	(void)state;
	up(&e);
	fds[0] = e.io->ioctl(e.io, e.vm, KVM_CREATE_VCPU, (void *)0);
	fds[1] = e.io->ioctl(e.io, e.vm, KVM_CREATE_VCPU, (void *)1);
	assert_int_equal(fds[1], 105);
	cc_rec_on_run(e.rec, on_run_mt, &count);
	cc_runner_init(&r, &e.mem);
	assert_int_equal(cc_run_vcpus(&r, e.kvm, fds, 2), 0);
	assert_string_equal(r.why, "guest powered off");
	assert_int_equal(count, 3);
	e.io->close(e.io, fds[0]);
	e.io->close(e.io, fds[1]);
	e.setup_lines = SIZE_MAX; /* the interleaving is the threads' */
	down(&e);
	done(&e);
}

/* The bare debug console: COM1 THR and port 0x402 to the fd, control
 * characters (an escape sequence) as '?', COM1 LSR (0x3fd) reads THRE|TEMT
 * (0x60, 16550 LSR bits 5 and 6), other ports and MMIO read all ones. */
static void test_console(void **state)
{
	static const char msg[] = "ok\x1b[2J\n";
	uint8_t *page = calloc(1, 8192);
	struct kvm_run *run = (struct kvm_run *)page;
	int p[2], fd;
	char got[32] = { 0 };

	(void)state;
	assert_non_null(page);
	assert_int_equal(pipe(p), 0);
	fd = p[1];
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = KVM_EXIT_IO_OUT;
	run->io.size = 1;
	run->io.count = sizeof(msg) - 1;
	run->io.port = 0x3f8;
	run->io.data_offset = 4096;
	memcpy(page + 4096, msg, sizeof(msg) - 1);
	assert_int_equal(cc_console_io(&fd, 0, run), 0);
	run->io.port = 0x402;
	run->io.count = 1;
	page[4096] = 'x';
	assert_int_equal(cc_console_io(&fd, 0, run), 0);
	run->io.port = 0x80; /* POST codes: dropped */
	assert_int_equal(cc_console_io(&fd, 0, run), 0);
	close(p[1]);
	assert_int_equal(read(p[0], got, sizeof(got)), 8);
	assert_string_equal(got, "ok?[2J\nx");
	close(p[0]);
	run->io.direction = KVM_EXIT_IO_IN;
	run->io.port = 0x3fd;
	assert_int_equal(cc_console_io(&fd, 0, run), 0);
	assert_int_equal(page[4096], 0x60);
	run->io.port = 0x60;
	run->io.size = 2;
	assert_int_equal(cc_console_io(&fd, 0, run), 0);
	assert_int_equal(page[4096], 0xff);
	assert_int_equal(page[4097], 0xff);
	memset(run, 0, sizeof(*run));
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.len = 4;
	assert_int_equal(cc_console_io(&fd, 0, run), 0);
	assert_int_equal(run->mmio.data[0], 0xff);
	free(page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_convert_shared_then_private),
		cmocka_unit_test(test_convert_across_slots),
		cmocka_unit_test(test_convert_hostile),
		cmocka_unit_test(test_convert_kernel_refuses),
		cmocka_unit_test(test_enable_map_gpa_exit),
		cmocka_unit_test(test_map_gpa_range),
		cmocka_unit_test(test_memory_fault),
		cmocka_unit_test(test_no_private_mem),
		cmocka_unit_test(test_loop),
		cmocka_unit_test(test_loop_hostile_fault),
		cmocka_unit_test(test_run_vcpus),
		cmocka_unit_test(test_console),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
