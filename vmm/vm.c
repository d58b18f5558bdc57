/* vm.c - the life of one VM for `cvmm run`: build it (memory, KVM,
 * interrupt controllers, legacy ports, PCI devices, ACPI/MP tables, boot
 * data, vCPUs), run it, and tear it down when the guest powers off,
 * resets or crashes, or cvmm gets SIGTERM/SIGINT. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "attestation/attestation.h"
#include "attestation/endpoint.h"
#include "common/common.h"
#include "vmm/api.h"
#include "tdx/tdx.h"
#include "vmm/firmware_boot.h"
#include "vmm/virtio/virtio.h"
#include "vmm/vmm_core.h"

int vm_pio_register(struct vm *vm, uint16_t base, uint16_t len, pio_fn fn, void *opaque)
{
	if (vm->npio == VM_MAX_PIO)
		return err_set(ENOSPC, "too many port I/O ranges");
	vm->pio[vm->npio++] = (struct pio_range){ base, len, fn, opaque };
	return 0;
}

void vm_request_exit(struct vm *vm, int status, const char *why)
{
	pthread_mutex_lock(&vm->exit_lock);
	if (vm->exit_status < 0) {
		uint64_t one = 1;
		vm->exit_status = status;
		snprintf(vm->exit_why, sizeof(vm->exit_why), "%s", why);
		if (write(vm->exit_efd, &one, sizeof(one)) < 0) {
			/* cannot fail for a fresh eventfd */
		}
	}
	pthread_mutex_unlock(&vm->exit_lock);
}

/* ---- legacy ports that are not devices of their own ---- */

/* FADT sleep control / reset register (acpi.c). */
static void acpi_port(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool write)
{
	(void)port;
	if (!write) {
		memset(data, 0, len); /* sleep status: WAK_STS clear */
		return;
	}
	if (data[0] == ACPI_S5_VALUE)
		vm_request_exit(opaque, VMM_EXIT_POWEROFF, "guest powered off (ACPI S5)");
	else if (data[0] == ACPI_RESET_VALUE)
		vm_request_exit(opaque, VMM_EXIT_REBOOT, "guest reset (ACPI reset register)");
}

/* i8042: only the reset line (command 0xFE, "pulse output port bit 0"),
 * which Linux uses with reboot=k; no keyboard behind it. */
static void i8042_port(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool write)
{
	if (!write) {
		memset(data, 0, len); /* status: output buffer empty, input buffer empty */
		return;
	}
	if (port == 0x64 && data[0] == 0xfe)
		vm_request_exit(opaque, VMM_EXIT_REBOOT, "guest reset (i8042)");
}

/* CMOS/RTC: index latch and zeros (FADT says there is no RTC; this keeps
 * stray probes quiet: status A with UIP clear, status D valid bit clear). */
static void cmos_port(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool write)
{
	(void)opaque;
	(void)port;
	if (!write)
		memset(data, 0, len);
}

static void pci_port(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool write)
{
	pci_conf1_io(opaque, port, data, len, write);
}

static void ignore_port(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool write)
{
	(void)opaque;
	(void)port;
	if (!write)
		memset(data, 0xff, len);
}

static int legacy_ports(struct vm *vm)
{
	int rc = vm_pio_register(vm, 0xcf8, 8, pci_port, &vm->pci);
	if (!rc)
		rc = vm_pio_register(vm, ACPI_SLEEP_PORT, 1, acpi_port, vm);
	if (!rc)
		rc = vm_pio_register(vm, 0x60, 1, i8042_port, vm);
	if (!rc)
		rc = vm_pio_register(vm, 0x64, 1, i8042_port, vm);
	if (!rc)
		rc = vm_pio_register(vm, 0x70, 2, cmos_port, vm);
	if (!rc)
		rc = vm_pio_register(vm, 0x80, 1, ignore_port, vm); /* POST code / I/O delay */
	return rc;
}

/* The launch is measured or attested: the manifest and boot-file hashes
 * are needed (a plain KVM boot does without them, and without OpenSSL's
 * start-up cost in time and memory). */
static bool wants_evidence(const struct vm *vm)
{
	return vm->platform->confidential || vm->cfg->attest_listen;
}

/* ---- devices ---- */
static int create_devices(struct vm *vm, const struct vm_config *c)
{
	int rc = 0;
	bool serial = !vm->platform->confidential ? (!c->console_virtio || c->debug_console) : c->debug_console;
	if (serial) {
		/* The serial line is the console unless virtio owns it; then it
		 * only carries debug output, to stderr. */
		int in = c->console_virtio ? -1 : STDIN_FILENO;
		int out = c->console_virtio ? STDERR_FILENO : STDOUT_FILENO;
		rc = serial_create(vm, 0x3f8, 4, in, out, &vm->serial);
		if (rc)
			return rc;
	}
	if (c->console_virtio)
		rc = virtio_console_create(vm, STDIN_FILENO, STDOUT_FILENO);
	for (unsigned i = 0; !rc && i < c->ndisks; i++)
		rc = virtio_blk_create_opts(vm, &(struct virtio_blk_opts){ .path = c->disk[i].path,
			.read_only = c->disk[i].ro, .direct = c->disk[i].direct, .queues = c->disk[i].queues });
	if (!rc && c->rng)
		rc = virtio_rng_create(vm);
	if (!rc && c->net_tap) {
		uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
		if (c->net_mac_set)
			memcpy(mac, c->net_mac, 6);
		rc = virtio_net_create(vm, c->net_tap, mac, (enum virtio_net_vhost)c->net_vhost);
	}
	if (!rc && c->vsock_cid)
		rc = virtio_vsock_create(vm, c->vsock_cid);
	/* The device manifest (DTB): its SHA-256 is the launch's host_data. */
	if (!rc)
		rc = virtio_manifest_dtb(vm, (void **)&vm->manifest, &vm->manifest_len);
	if (!rc && wants_evidence(vm) &&
	    !EVP_Digest(vm->manifest, vm->manifest_len, vm->host_data, NULL, EVP_sha256(), NULL))
		rc = err_set(EIO, "device manifest: SHA-256 failed");
	if (!rc && c->manifest_out)
		rc = file_write(c->manifest_out, vm->manifest, vm->manifest_len);
	return rc;
}

/* The boot files, read and checked before any KVM resource exists so
 * input errors come first (exit status 2 without touching /dev/kvm). */
struct boot_files {
	uint8_t *kernel, *initrd;
	size_t klen, ilen;
};

static const char *boot_cmdline(const struct vm_config *c)
{
	return c->cmdline ? c->cmdline : vmm_default_cmdline(c->console_virtio);
}

static int read_boot_files(const struct vm_config *c, struct boot_files *f)
{
	struct bzimage bz;
	int rc = file_read(c->kernel, 256u << 20, &f->kernel, &f->klen);
	if (!rc)
		rc = vmm_bzimage_parse(f->kernel, f->klen, c->kernel, &bz);
	if (!rc && c->initrd)
		rc = file_read(c->initrd, 2048ull << 20, &f->initrd, &f->ilen);
	return rc;
}

/* Load the guest from its launch plan (boot_plan.c) and let the platform
 * replay it. Every step's bytes are in guest memory at its gpa: the plain
 * KVM guest runs them as they are, sim-snp folds them into its digest. */
static int load_boot(struct vm *vm, const struct vm_config *c, const struct boot_files *f)
{
	const struct boot_inputs in = {
		.kernel = f->kernel, .kernel_len = f->klen, .kernel_path = c->kernel,
		.initrd = f->initrd, .initrd_len = f->ilen, .cmdline = boot_cmdline(c),
		.vcpus = vm->nvcpus, .snp = vm->platform->snp_plan, .sev_features = SIM_SNP_SEV_FEATURES,
	};
	int rc;

	if (vm->fw) {
		/* --firmware: the firmware loads the kernel from fw_cfg */
		const struct fw_cfg_boot fb = {
			.kernel = f->kernel, .kernel_len = f->klen, .kernel_path = c->kernel, .initrd = f->initrd,
			.initrd_len = f->ilen, .cmdline = boot_cmdline(c), .vcpus = vm->nvcpus,
		};
		rc = vmm_firmware_load(vm, &fb);
	} else {
		rc = vmm_boot_plan(&vm->mem, &in, &vm->plan, &vm->entry);
	}

	if (!rc && wants_evidence(vm) &&
	    (!EVP_Digest(f->kernel, f->klen, vm->kernel_sha256, NULL, EVP_sha256(), NULL) ||
	     (f->initrd && !EVP_Digest(f->initrd, f->ilen, vm->initrd_sha256, NULL, EVP_sha256(), NULL))))
		rc = err_set(EIO, "SHA-256 of the boot files failed");
	vm->has_initrd = f->initrd != NULL;

	if (!rc && vm->platform->launch)
		rc = vm->platform->launch(vm);
	return rc;
}

/* The api role's filter goes on in the thread that starts the daemon, just
 * before libmicrohttpd creates its threads: they are born confined. */
static int endpoint_before_threads(void)
{
	return confine_seccomp_install(CONFINE_API, confine_seccomp_get_mode());
}

static void sim_channel_thread_hook(void)
{
	confine_thread(CONFINE_API);
}

struct endpoint_start {
	const struct att_endpoint_cfg *cfg;
	struct att_endpoint *ep;
	int rc;
	char msg[256];
};

static void *endpoint_start_thread(void *arg)
{
	struct endpoint_start *es = arg;

	es->rc = att_endpoint_start(es->cfg, &es->ep);
	if (es->rc)
		snprintf(es->msg, sizeof(es->msg), "%s", err_msg());
	return NULL;
}

static int start_endpoint(struct vm *vm, const struct vm_config *c)
{
	char agent[48];
	json_t *launch;
	pthread_t t;
	int rc;

	if (!c->attest_listen)
		return 0;
	snprintf(agent, sizeof(agent), "vsock:%llu:%u", (unsigned long long)c->vsock_cid, c->attest_agent_port);
	if (!(launch = vmm_launch_record(vm, boot_cmdline(c))))
		return err_set(ENOMEM, "out of memory");
	struct att_endpoint_cfg ec = {
		.listen = c->attest_listen, .tls_cert = c->tls_cert, .tls_key = c->tls_key, .agent_addr = agent,
		.launch = launch, .manifest = vm->manifest, .manifest_len = vm->manifest_len,
	};
	/* Started from a thread of its own, which takes the api filter
	 * (endpoint_before_threads) and ends; this thread stays unconfined
	 * until it takes the vmm filter. */
	struct endpoint_start es = { .cfg = &ec };
	if ((rc = pthread_create(&t, NULL, endpoint_start_thread, &es))) {
		json_decref(launch);
		return err_set(rc, "attestation endpoint: thread: %s", strerror(rc));
	}
	pthread_join(t, NULL);
	json_decref(launch);
	vm->endpoint = es.ep;
	return es.rc ? err_set(-es.rc, "%s", es.msg) : 0;
}

/* CVMM_DEBUG_TIMING=1: milestones of the start-up on stderr (boot time work). */
void vmm_debug_timing(const char *what)
{
	static int on = -1;
	if (on < 0)
		on = getenv("CVMM_DEBUG_TIMING") != NULL;
	if (on) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		fprintf(stderr, "cvmm run: %ld.%03ld %s\n", (long)ts.tv_sec, ts.tv_nsec / 1000000, what);
	}
}

/* Block the signals the main thread waits for (and the vCPU kick) in
 * every thread; vCPU threads unblock their kick. */
static void block_signals(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

static int open_signalfd(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static int wait_for_end(struct vm *vm, int sfd)
{
	struct pollfd p[2] = { { .fd = vm->exit_efd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
	for (;;) {
		if (poll(p, sfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (sfd >= 0 && p[1].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				char why[64];
				snprintf(why, sizeof(why), "stopped by signal %u", si.ssi_signo);
				vm_request_exit(vm, VMM_EXIT_POWEROFF, why);
				break;
			}
		}
	}
	return vm->exit_status;
}

int vmm_run(const struct vm_config *c)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	struct termios tio_saved;
	bool tty_raw = false;
	sigset_t oldmask;
	int rc;

	if (!vm) {
		err_set(ENOMEM, "out of memory");
		return VMM_EXIT_ERROR;
	}
	vm->cfg = c;
	vm->kvm_fd = vm->vm_fd = -1;
	vm->exit_status = -1;
	vm->nvcpus = c->vcpus;
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++)
		vm->vcpu[i].fd = -1;
	pthread_mutex_init(&vm->exit_lock, NULL);
	pthread_mutex_init(&vm->gate_lock, NULL);
	pthread_cond_init(&vm->gate_cond, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	vm->platform = cc_platform_find(c->platform);
	if (!vm->platform) {
		free(vm);
		err_set(EINVAL, "--platform %s: not available in this build (%s)", c->platform, cc_platform_names());
		return VMM_EXIT_ERROR;
	}
	signal(SIGPIPE, SIG_IGN); /* a closed console must not kill the VMM */
	block_signals(&oldmask);
	/* seccomp: each thread installs its role's filter (vmm/confine) */
	confine_seccomp_set_mode(c->seccomp);
	snp_sim_channel_thread_hook = sim_channel_thread_hook;
	tdx_sim_channel_thread_hook = sim_channel_thread_hook;
	att_endpoint_before_threads = endpoint_before_threads;
	if (c->seccomp == CONFINE_SECCOMP_OFF)
		fprintf(stderr, "cvmm run: warning: --seccomp=off: the VMM runs with every system call; a device "
				"model bug is the host's problem\n");
	else
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); /* every thread, from here on */

	struct boot_files files = { 0 };
	vmm_debug_timing("start");
	rc = read_boot_files(c, &files);
	if (!rc && c->firmware)
		rc = vmm_firmware_read(c->firmware, &vm->fw);
	vmm_debug_timing("boot files read");
	vm->exit_efd = eventfd(0, EFD_CLOEXEC);
	if (!rc && vm->exit_efd < 0)
		rc = err_set(errno, "eventfd: %s", strerror(errno));
	if (!rc)
		rc = gm_alloc_opts(&vm->mem, c->mem, &c->mem_opts);
	if (!rc)
		rc = evloop_create(&vm->evloop);
	if (!rc) {
		pci_bus_init(&vm->pci, vm);
		rc = kvm_vm_create(vm);
	}
	vmm_debug_timing("VM created");
	if (!rc)
		rc = kvm_vm_irqchip(vm);
	if (!rc)
		rc = kvm_vm_map_memory(vm);
	if (!rc && vm->platform->init)
		rc = vm->platform->init(vm);
	if (!rc && vm->fw)
		rc = vmm_firmware_devices(vm); /* its CMOS RTC before legacy_ports' stub */
	if (!rc)
		rc = legacy_ports(vm);
	if (!rc)
		rc = create_devices(vm, c);
	vmm_debug_timing("devices created");
	if (!rc)
		rc = load_boot(vm, c, &files);
	if (!rc)
		rc = start_endpoint(vm, c);
	free(files.kernel);
	free(files.initrd);
	files.kernel = files.initrd = NULL;
	vmm_debug_timing("boot data loaded");
	for (unsigned i = 0; !rc && i < vm->nvcpus; i++)
		rc = vcpu_create(vm, i);
	if (!rc && vm->platform->finalize)
		rc = vm->platform->finalize(vm);
	if (!rc && vm->serial && !c->console_virtio && isatty(STDIN_FILENO) &&
	    tcgetattr(STDIN_FILENO, &tio_saved) == 0) {
		struct termios raw = tio_saved;
		cfmakeraw(&raw);
		raw.c_oflag |= OPOST | ONLCR; /* keep host-side newlines sane */
		tty_raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	if (!rc)
		rc = evloop_start(vm->evloop);
	for (unsigned i = 0; !rc && i < vm->nvcpus; i++)
		rc = vcpu_start(&vm->vcpu[i]);
	if (!rc)
		vcpu_profile_start(vm);
	/* The main thread is the last to be confined; then the vCPUs run. */
	int sfd = -1;
	if (!rc) {
		sfd = c->api ? -1 : open_signalfd(); /* under the API its controller takes them */
		rc = confine_seccomp_install(CONFINE_VMM, c->seccomp);
	}
	if (!rc) {
		vmm_debug_timing("vCPUs started");
		if (c->launch_notice)
			fprintf(stderr, "cvmm run: %s\n", c->launch_notice);
		vm_gate_open(vm);
		if (c->api)
			api_vmm_attach(c->api, vm);
	}

	int status = VMM_EXIT_ERROR;
	if (!rc) {
		status = wait_for_end(vm, sfd);
		if (c->api)
			api_vmm_detach(c->api, vm);
		if (getenv("CVMM_DEBUG_EXIT"))
			fprintf(stderr, "cvmm run: %s\n", vm->exit_why);
		if (status == VMM_EXIT_CRASH)
			err_set(EIO, "%s", vm->exit_why); /* printed by the CLI */
	}
	if (sfd >= 0)
		close(sfd);
	if (vm->endpoint)
		att_endpoint_stop(vm->endpoint);
	vcpu_stop_all(vm);
	if (vm->platform->teardown)
		vm->platform->teardown(vm);
	if (getenv("CVMM_DEBUG_EXIT"))
		vcpu_dump_all(vm);
	vcpu_profile_dump();
	evloop_stop(vm->evloop);
	virtio_destroy_all(vm);
	serial_destroy(vm->serial);
	evloop_destroy(vm->evloop);
	if (tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &tio_saved);
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++)
		if (vm->vcpu[i].fd >= 0)
			vcpu_destroy(&vm->vcpu[i]);
	kvm_vm_close(vm);
	plan_free(&vm->plan);
	vmm_firmware_free(vm->fw);
	free(vm->manifest);
	gm_free(&vm->mem);
	if (vm->exit_efd >= 0)
		close(vm->exit_efd);
	pthread_mutex_destroy(&vm->exit_lock);
	pthread_mutex_destroy(&vm->gate_lock);
	pthread_cond_destroy(&vm->gate_cond);
	pthread_cond_destroy(&vm->pause_cond);
	free(vm);
	pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	return status;
}
