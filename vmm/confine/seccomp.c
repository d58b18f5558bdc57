/* seccomp.c - one seccomp allow-list per thread role (libseccomp), kept
 * here as data next to its role, as Firecracker keeps its filters: each
 * thread installs its own role's filter after set-up and before the guest
 * runs (vm.c), default action SECCOMP_RET_KILL_PROCESS. ioctl is allowed
 * per request number (the low 32 bits, masked: callers pass an int or an
 * unsigned long). What the launch needs and nothing after it (KVM_CREATE_VM,
 * KVM_CREATE_VCPU, KVM_SET_USER_MEMORY_REGION*, KVM_MEMORY_ENCRYPT_OP, open,
 * exec, ...) is on no list: once the filters are in, those calls kill cvmm.
 * Why each entry is there is said next to it; docs/security.md has the
 * threat model. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <linux/if_tun.h>
#include <unistd.h>

#include <jansson.h>
#include <seccomp.h>

#include "common/common.h"
#include "vmm/confine/confine.h"
#include "vmm/kvm_uapi.h"
#include "vmm/virtio/vhost.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define IOC(x) { #x, (uint32_t)(x) }

/* ---- vcpu: KVM_RUN and the exits a vCPU thread handles in place (port
 * I/O and MMIO of every device: virtio-blk I/O, virtio-rng, net transmit,
 * console and serial output, vhost-vsock start/reset at DRIVER_OK). */
static const char *const vcpu_syscalls[] = {
	"ioctl",        /* KVM_RUN, interrupts, vhost set-up at DRIVER_OK (below) */
	"read",         /* eventfd drain */
	"write",        /* serial/console output, eventfd kicks, vm_request_exit */
	"writev",       /* virtio-net transmit to the tap */
	"pread64",      /* virtio-blk read */
	"pwrite64",     /* virtio-blk write, WRITE_ZEROES fallback */
	"fdatasync",    /* virtio-blk FLUSH */
	"fallocate",    /* virtio-blk DISCARD / WRITE_ZEROES; a CC guest_memfd's PUNCH_HOLE */
	"getrandom",    /* virtio-rng */
	"epoll_ctl",    /* device watches changed on reset */
	"close",        /* device reset closes its eventfds */
	"futex",        /* locks (PCI bus, devices, exit) */
	"mmap", "munmap", "mremap", "madvise", /* malloc; madvise also a CC shared backing's DONTNEED */
	"mprotect",     /* malloc: a thread's arena is made and grown with it; never PROT_EXEC (below) */
	"brk",          /* malloc: a vCPU thread may share the main arena (more threads than arenas).
			 * Not an errno: glibc's __brk takes -ENOMEM for the new break and
			 * reports success, and malloc then writes past the real break */
	"clock_gettime", /* where the vDSO falls back (e.g. TCG hosts) */
	"rt_sigreturn", /* the kick signal (SIGUSR1) that ends KVM_RUN */
	"rt_sigprocmask", /* SIG_BLOCK only: glibc blocks signals as a thread ends */
	"exit",         /* thread end */
};
static const struct confine_ioctl vcpu_ioctls[] = {
	IOC(KVM_RUN),
	IOC(KVM_IRQ_LINE),
	IOC(KVM_SIGNAL_MSI),
	IOC(KVM_SET_GSI_ROUTING),       /* an MSI-X vector's irqfd route, on its first use */
	IOC(KVM_IOEVENTFD),
	IOC(VIRTIO_VHOST_SET_FEATURES),
	IOC(VIRTIO_VHOST_SET_MEM_TABLE),
	IOC(VIRTIO_VHOST_SET_VRING_NUM),
	IOC(VIRTIO_VHOST_SET_VRING_ADDR),
	IOC(VIRTIO_VHOST_SET_VRING_BASE),
	IOC(VIRTIO_VHOST_SET_VRING_KICK),
	IOC(VIRTIO_VHOST_SET_VRING_CALL),
	IOC(VIRTIO_VHOST_VSOCK_SET_RUNNING),
	IOC(VIRTIO_VHOST_NET_SET_BACKEND), /* vhost-net: tap attached at DRIVER_OK, detached on reset */
	IOC(TUNSETOFFLOAD),             /* vhost-net: the offloads the driver accepted */
	/* confidential VMs (cc_run.c): a private/shared conversion on
	 * KVM_EXIT_MEMORY_FAULT or MAP_GPA_RANGE, then fallocate PUNCH_HOLE on
	 * the guest_memfd or madvise(DONTNEED) on the shared backing */
	IOC(KVM_SET_MEMORY_ATTRIBUTES),
};

/* ---- vmm: the device event loop (tap receive, console input, vhost call
 * eventfds -> interrupts, queues re-kicked after a bounded batch) and the main thread (waits for the end, then
 * stops the threads and releases everything). On snp/sev-es/sev/tdx the
 * main thread once the launch is finished (cc_run.c): it waits, raises a
 * TD's GetQuote notification (KVM_SIGNAL_MSI), kicks and joins the vCPUs. */
static const char *const vmm_syscalls[] = {
	"epoll_wait", "epoll_ctl", /* the event loop */
	"poll",          /* main: exit eventfd and signalfd */
	"read", "readv", /* tap receive, console input, eventfds, signalfd */
	"write", "writev", /* eventfds, console, tap */
	/* a queue's re-kick (vq_serve stops after queue-size chains and the
	 * loop serves the rest): what the vCPU does for blk and rng */
	"pread64", "pwrite64", "fdatasync", "fallocate", "getrandom",
	"io_uring_enter", /* virtio-blk I/O threads (same role): submit and reap */
	"ioctl",         /* interrupts; teardown (below) */
	"close",
	"fcntl",         /* console output: O_NONBLOCK given back at exit (conout.c) */
	"shutdown",      /* attestation endpoint stop */
	"getpid", "tgkill", /* pthread_kill: kicking the vCPUs out of KVM_RUN */
	"futex",
	"mmap", "munmap", "mremap", "madvise", "brk", /* malloc, thread stacks */
	"mprotect",      /* malloc's thread arenas (event loop, blk I/O threads); never PROT_EXEC */
	"rt_sigprocmask", "rt_sigreturn",
	"clock_gettime", "clock_nanosleep", /* vDSO fallback; CVMM_PROFILE sampling */
	"newfstatat",    /* stdio at exit */
	"exit", "exit_group",
};
static const struct confine_ioctl vmm_ioctls[] = {
	IOC(KVM_IRQ_LINE),
	IOC(KVM_SIGNAL_MSI),
	IOC(KVM_SET_GSI_ROUTING),       /* irqfd route of a vector first used here */
	IOC(KVM_IOEVENTFD),             /* vhost-vsock teardown (deassign) */
	IOC(VIRTIO_VHOST_VSOCK_SET_RUNNING), /* vhost-vsock teardown */
	IOC(VIRTIO_VHOST_NET_SET_BACKEND), /* vhost-net teardown (tap detached) */
	IOC(KVM_GET_REGS),              /* CVMM_DEBUG_EXIT register dump (read only) */
	IOC(KVM_GET_SREGS),
	IOC(TCGETS),                    /* the terminal given back at exit */
	IOC(TCSETS),
};

/* ---- api: libmicrohttpd's threads (the daemon is started in a thread
 * that already carries this filter: its polling thread and one thread per
 * connection are born with it) of the attestation endpoint and of the
 * control API socket (vmm/api_server.c), the sim channel thread, and a
 * TD's GetQuote threads (tdx/tdx_exit.c: socket, connect, sendto, recvfrom
 * to the QGS; a thread per request). */
static const char *const api_syscalls[] = {
	"socket", "connect", "getsockopt", /* the guest agent, over vsock, per request */
	"setsockopt", "bind", "listen", "getsockname", /* the daemon's listening socket */
	"eventfd2",                    /* the daemon's inter-thread wake-up */
	"accept4", "pselect6", "poll", /* serving */
	"recvfrom", "sendto", "sendmsg", "read", "write", "shutdown", "close", "fcntl",
	"getrandom",                   /* TLS, report signatures */
	"getpid",                      /* OpenSSL's fork check before it draws random bytes */
	"clone3", "rseq",              /* a thread per connection */
	"rt_sigprocmask", "mprotect",
	"futex",
	"mmap", "munmap", "madvise",
	"clock_gettime",
	"exit",
};
/* glibc and libmicrohttpd cope with these failing: malloc falls back from
 * brk to mmap, realloc of a mapped chunk from mremap to malloc, copy,
 * free; a new thread goes on without a robust-futex list (nothing here uses
 * robust mutexes); a thread keeps the name "cvmm" (prctl PR_SET_NAME). */
static const struct confine_errno api_errnos[] = {
	{ "brk", ENOMEM }, { "mremap", ENOMEM }, { "set_robust_list", ENOSYS }, { "prctl", EPERM },
};

static const struct confine_list lists[CONFINE_NROLES] = {
	[CONFINE_VCPU] = { "vcpu", vcpu_syscalls, N(vcpu_syscalls), vcpu_ioctls, N(vcpu_ioctls), NULL, 0, 27 },
	[CONFINE_VMM] = { "vmm", vmm_syscalls, N(vmm_syscalls), vmm_ioctls, N(vmm_ioctls), NULL, 0, 50 },
	[CONFINE_API] = { "api", api_syscalls, N(api_syscalls), NULL, 0, api_errnos, N(api_errnos), 31 },
};

const struct confine_list *confine_seccomp_list(enum confine_role role)
{
	return role < CONFINE_NROLES ? &lists[role] : NULL;
}

int confine_seccomp_parse(const char *s, enum confine_seccomp_mode *mode)
{
	if (!strcmp(s, "kill"))
		*mode = CONFINE_SECCOMP_KILL;
	else if (!strcmp(s, "log"))
		*mode = CONFINE_SECCOMP_LOG;
	else if (!strcmp(s, "off"))
		*mode = CONFINE_SECCOMP_OFF;
	else
		return err_set(EINVAL, "--seccomp=%s: expected kill, log or off", s);
	return 0;
}

const char *confine_seccomp_mode_name(enum confine_seccomp_mode mode)
{
	return mode == CONFINE_SECCOMP_KILL ? "kill" : mode == CONFINE_SECCOMP_LOG ? "log" : "off";
}

static int add_rules(scmp_filter_ctx ctx, const struct confine_list *l)
{
	int nr, ret;

	for (size_t i = 0; i < l->nsyscalls; i++) {
		const char *name = l->syscalls[i];

		if ((nr = seccomp_syscall_resolve_name(name)) == __NR_SCMP_ERROR)
			return err_set(ENOSYS, "seccomp: %s: unknown system call %s", l->role, name);
		if (!strcmp(name, "ioctl")) {
			for (size_t j = 0; j < l->nioctls; j++)
				if ((ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
							    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, l->ioctls[j].req))))
					return err_set(-ret, "seccomp: %s: ioctl %s: %s", l->role, l->ioctls[j].name,
						       strerror(-ret));
			continue;
		}
		if (!strcmp(name, "prctl"))
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME, 0));
		else if (!strcmp(name, "mprotect") && l != &lists[CONFINE_API])
			/* what glibc's arenas need (read/write), never executable memory */
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
		else if (!strcmp(name, "rt_sigprocmask") && l == &lists[CONFINE_VCPU])
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, SIG_BLOCK, 0));
		else
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (ret)
			return err_set(-ret, "seccomp: %s: %s: %s", l->role, name, strerror(-ret));
	}
	for (size_t i = 0; i < l->nerrnos; i++) {
		if ((nr = seccomp_syscall_resolve_name(l->errnos[i].name)) == __NR_SCMP_ERROR)
			return err_set(ENOSYS, "seccomp: %s: unknown system call %s", l->role, l->errnos[i].name);
		if ((ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO((uint32_t)l->errnos[i].err), nr, 0)))
			return err_set(-ret, "seccomp: %s: %s: %s", l->role, l->errnos[i].name, strerror(-ret));
	}
	return 0;
}

int confine_seccomp_install(enum confine_role role, enum confine_seccomp_mode mode)
{
	const struct confine_list *l = confine_seccomp_list(role);
	scmp_filter_ctx ctx;
	int ret;

	if (!l)
		return err_set(EINVAL, "seccomp: no such role");
	if (mode == CONFINE_SECCOMP_OFF)
		return 0;
	if (!(ctx = seccomp_init(mode == CONFINE_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS)))
		return err_set(ENOMEM, "seccomp: %s: cannot create a filter", l->role);
	ret = add_rules(ctx, l);
	/* libseccomp sets no_new_privs on the thread before loading (the
	 * default of SCMP_FLTATR_CTL_NNP); no TSYNC: the filter is this
	 * thread's (and its future threads'). */
	if (!ret && (ret = seccomp_load(ctx)))
		ret = err_set(-ret, "seccomp: %s: loading the filter: %s", l->role, strerror(-ret));
	seccomp_release(ctx);
	return ret;
}

static enum confine_seccomp_mode process_mode = CONFINE_SECCOMP_OFF;

void confine_seccomp_set_mode(enum confine_seccomp_mode mode)
{
	process_mode = mode;
}

enum confine_seccomp_mode confine_seccomp_get_mode(void)
{
	return process_mode;
}

void confine_thread(enum confine_role role)
{
	if (confine_seccomp_install(role, process_mode)) {
		fprintf(stderr, "cvmm run: %s\n", err_msg());
		_exit(2); /* fail closed: a thread that cannot be confined must not serve */
	}
}

int confine_seccomp_dump(FILE *f)
{
	json_t *root = json_object();
	char hex[16];
	int ret = 0;

	for (unsigned r = 0; root && r < CONFINE_NROLES; r++) {
		const struct confine_list *l = &lists[r];
		json_t *o = json_object(), *sc = json_array(), *io = json_array();

		for (size_t i = 0; i < l->nsyscalls; i++)
			json_array_append_new(sc, json_string(l->syscalls[i]));
		for (size_t i = 0; i < l->nioctls; i++) {
			snprintf(hex, sizeof(hex), "0x%x", l->ioctls[i].req);
			json_array_append_new(io, json_string(hex));
		}
		json_object_set_new(o, "syscalls", sc);
		json_object_set_new(o, "ioctls", io);
		if (l->nerrnos) {
			json_t *er = json_object();

			for (size_t i = 0; i < l->nerrnos; i++)
				json_object_set_new(er, l->errnos[i].name, json_string(strerrorname_np(l->errnos[i].err)));
			json_object_set_new(o, "errno", er);
		}
		json_object_set_new(root, l->role, o);
	}
	if (!root || json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) || fputc('\n', f) == EOF)
		ret = err_set(EIO, "seccomp dump: cannot write");
	json_decref(root);
	return ret;
}

int confine_cli_seccomp(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "dump")) {
		if (confine_seccomp_dump(stdout)) {
			fprintf(stderr, "cvmm seccomp: %s\n", err_msg());
			return 2;
		}
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: cvmm seccomp dump\n\nPrint the seccomp allow-list of each thread role of `cvmm run`\n"
		       "(vcpu, vmm, api) as JSON: system calls, ioctl request numbers, and calls\n"
		       "answered with an error instead (docs/security.md).\n");
		return 0;
	}
	fprintf(stderr, "cvmm seccomp: expected 'dump' (try cvmm seccomp --help)\n");
	return 2;
}
