/* api_vmm.c - the controller behind the API socket: the VM's state
 * (Created, Running, Paused, Shutdown as Cloud Hypervisor's VmState), and
 * the control thread that carries out what changes it. The control thread
 * is the one thread without a seccomp filter: it creates the VM, and again
 * after a reboot, by running vmm_run() in a runner thread (which confines
 * itself and its vCPU and device threads as `cvmm run` does); it waits on
 * an eventfd and a signalfd only. API threads (api_server.c, api role)
 * answer the read-only requests themselves and hand every other one to the
 * control thread, waiting for its reply. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <systemd/sd-daemon.h>

#include "attestation/endpoint.h"
#include "common/common.h"
#include "vmm/api.h"
#include "vmm/virtio/virtio.h"
#include "vmm/vmm.h"
#include "vmm/vmm_core.h"

enum vm_state { ST_NONE, ST_CREATED, ST_RUNNING, ST_PAUSED, ST_SHUTDOWN };
static const char *const state_names[] = { "None", "Created", "Running", "Paused", "Shutdown" };

struct api_vmm {
	pthread_mutex_t lock;      /* everything below */
	pthread_cond_t cond;       /* attach/detach, runner end, command done */
	pthread_mutex_t cmd_lock;  /* one command through the control thread at a time */
	int efd;                   /* wakes the control thread */
	struct vm_config base;     /* defaults and VMM-wide options */
	json_t *vmconfig;          /* owns cfg's strings; NULL with ST_NONE */
	struct vm_config cfg;
	enum vm_state state;
	struct vm *vm;             /* while the guest runs (attach..detach) */
	bool attached;             /* the runner's guest got as far as running */
	json_t *attestation;       /* vm.attestation of the running guest */
	bool runner_live, runner_done;
	pthread_t runner;
	int runner_status;
	char runner_msg[256];
	bool cmd_pending, cmd_done;
	enum api_op cmd;
	struct api_reply *cmd_rep;
	bool quit, exit_with_vm;
	bool stopped;              /* the control thread has left its loop */
	int exit_status;
};

const char *vmm_version = "unknown";

void api_notify(const char *state)
{
	if (getenv("NOTIFY_SOCKET"))
		sd_notify(0, state);
}

static void reply_error(struct api_reply *rep, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reply_error(struct api_reply *rep, int status, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rep->status = status;
	/* Cloud Hypervisor's error body: the chain of messages */
	rep->body = json_pack("[s]", msg);
}

static void reply_json(struct api_reply *rep, json_t *body)
{
	if (!body)
		return reply_error(rep, 500, "out of memory");
	rep->status = 200;
	rep->body = body;
}

struct api_vmm *api_vmm_create(const struct vm_config *base)
{
	struct api_vmm *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	if ((a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		free(a);
		return NULL;
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_mutex_init(&a->cmd_lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	a->base = *base;
	a->base.api = a;
	return a;
}

void api_vmm_destroy(struct api_vmm *a)
{
	if (!a)
		return;
	json_decref(a->vmconfig);
	json_decref(a->attestation);
	close(a->efd);
	pthread_mutex_destroy(&a->lock);
	pthread_mutex_destroy(&a->cmd_lock);
	pthread_cond_destroy(&a->cond);
	free(a);
}

int api_vmm_preset(struct api_vmm *a, const struct vm_config *c, json_t *vmconfig)
{
	pthread_mutex_lock(&a->lock);
	a->cfg = *c;
	a->cfg.api = a;
	a->vmconfig = vmconfig ? vmconfig : json_object(); /* flags: the strings live in argv */
	a->state = ST_CREATED;
	pthread_mutex_unlock(&a->lock);
	return a->vmconfig ? 0 : err_set(ENOMEM, "out of memory");
}

void api_vmm_attach(struct api_vmm *a, struct vm *vm)
{
	pthread_mutex_lock(&a->lock);
	a->vm = vm;
	a->attached = true;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

void api_vmm_detach(struct api_vmm *a, struct vm *vm)
{
	(void)vm;
	pthread_mutex_lock(&a->lock);
	a->vm = NULL;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

static void wake(struct api_vmm *a)
{
	uint64_t one = 1;
	if (write(a->efd, &one, sizeof(one)) < 0) {
		/* a full eventfd counter still wakes the poll */
	}
}

static void *runner_main(void *arg)
{
	struct api_vmm *a = arg;
	int status = vmm_run(&a->cfg);

	pthread_mutex_lock(&a->lock);
	a->runner_status = status;
	snprintf(a->runner_msg, sizeof(a->runner_msg), "%s",
		 status == VMM_EXIT_ERROR || status == VMM_EXIT_CRASH ? err_msg() : "");
	a->runner_done = true;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	wake(a);
	return NULL;
}

/* What vm.attestation answers for the guest that runs now (lock held). */
static json_t *attestation_info(struct api_vmm *a)
{
	const struct vm *vm = a->vm;
	const uint8_t *digest = vmm_sim_snp_measurement(vm);
	uint8_t mh[32];
	char hex[97], endpoint[300];

	if (!digest)
		digest = vmm_sim_tdx_mrtd(vm);
	json_t *j = json_pack("{s:s}", "platform", vm->platform->name);
	if (!j)
		return NULL;
	if (digest) {
		hex_encode(digest, 48, hex);
		json_object_set_new(j, "launch_digest", json_string(hex));
	} else {
		json_object_set_new(j, "launch_digest", json_null()); /* plain KVM: nothing is measured */
	}
	if (EVP_Digest(vm->manifest, vm->manifest_len, mh, NULL, EVP_sha256(), NULL)) {
		hex_encode(mh, 32, hex);
		json_object_set_new(j, "manifest_sha256", json_string(hex));
	}
	if (vm->endpoint && a->cfg.attest_listen) {
		char host[256];
		const char *colon = strrchr(a->cfg.attest_listen, ':');
		size_t hl = colon ? (size_t)(colon - a->cfg.attest_listen) : 0;
		snprintf(host, sizeof(host), "%.*s", (int)(hl < sizeof(host) ? hl : 0), a->cfg.attest_listen);
		snprintf(endpoint, sizeof(endpoint), "https://%s:%u", host, att_endpoint_port(vm->endpoint));
		json_object_set_new(j, "attestation_endpoint", json_string(endpoint));
	} else {
		json_object_set_new(j, "attestation_endpoint", json_null());
	}
	return j;
}

/* Launch the guest in a runner thread and wait until it runs or failed
 * (lock held). 0, or -1 with the message in a->runner_msg. */
static int boot(struct api_vmm *a)
{
	int rc;

	a->runner_done = a->attached = false;
	if ((rc = pthread_create(&a->runner, NULL, runner_main, a))) {
		snprintf(a->runner_msg, sizeof(a->runner_msg), "runner thread: %s", strerror(rc));
		return -1;
	}
	a->runner_live = true;
	while (!a->attached && !a->runner_done)
		pthread_cond_wait(&a->cond, &a->lock);
	if (!a->attached) {
		pthread_mutex_unlock(&a->lock);
		pthread_join(a->runner, NULL);
		pthread_mutex_lock(&a->lock);
		a->runner_live = a->runner_done = false;
		return -1;
	}
	/* it ran (it may have ended already: the loop reaps it next) */
	a->state = ST_RUNNING;
	json_decref(a->attestation);
	a->attestation = a->vm ? attestation_info(a) : NULL;
	return 0;
}

/* The runner ended (lock held): a reboot boots again in place; any other
 * end leaves the VM Shutdown (and ends cvmm run --api-socket). */
static void reap(struct api_vmm *a)
{
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->runner, NULL);
	pthread_mutex_lock(&a->lock);
	a->runner_live = a->runner_done = false;
	if (a->runner_status == VMM_EXIT_REBOOT && !a->quit) {
		fprintf(stderr, "cvmm: guest rebooted: booting it again\n");
		if (!boot(a))
			return;
		fprintf(stderr, "cvmm: reboot failed: %s\n", a->runner_msg);
		a->runner_status = VMM_EXIT_ERROR;
	}
	if (a->runner_status == VMM_EXIT_CRASH && a->exit_with_vm)
		err_set(EIO, "%s", a->runner_msg); /* cvmm run prints it, as without the API */
	else if (a->runner_status == VMM_EXIT_CRASH)
		fprintf(stderr, "cvmm: guest crashed: %s\n", a->runner_msg);
	a->state = ST_SHUTDOWN;
	a->exit_status = a->runner_status == VMM_EXIT_REBOOT ? VMM_EXIT_POWEROFF : a->runner_status;
	if (a->exit_with_vm)
		a->quit = true;
}

/* Stop the running guest with status and wait for its runner (lock held). */
static void stop_guest(struct api_vmm *a, int status, const char *why)
{
	if (!a->runner_live)
		return;
	if (a->vm)
		vm_request_exit(a->vm, status, why);
	while (!a->runner_done)
		pthread_cond_wait(&a->cond, &a->lock);
	reap(a);
}

static bool check_running(struct api_vmm *a, struct api_reply *rep, const char *what)
{
	if (a->state == ST_NONE)
		reply_error(rep, 404, "%s: the VM is not created", what);
	else if ((a->state != ST_RUNNING && a->state != ST_PAUSED) || !a->vm)
		reply_error(rep, 405, "%s: the VM is not booted", what);
	else
		return true;
	return false;
}

/* In the control thread, lock held. */
static void run_command(struct api_vmm *a, enum api_op op, struct api_reply *rep)
{
	rep->status = 204;
	switch (op) {
	case API_VM_BOOT:
		if (a->state == ST_NONE)
			return reply_error(rep, 404, "vm.boot: the VM is not created");
		if (a->state == ST_RUNNING || a->state == ST_PAUSED)
			return reply_error(rep, 500, "vm.boot: the VM is already booted");
		if (boot(a))
			return reply_error(rep, 500, "vm.boot: %s", a->runner_msg);
		api_notify("READY=1");
		return;
	case API_VM_PAUSE:
		if (!check_running(a, rep, "vm.pause"))
			return;
		if (a->state == ST_PAUSED)
			return reply_error(rep, 405, "vm.pause: the VM is already paused");
		vcpu_pause_all(a->vm);
		a->state = ST_PAUSED;
		return;
	case API_VM_RESUME:
		if (!check_running(a, rep, "vm.resume"))
			return;
		if (a->state != ST_PAUSED)
			return reply_error(rep, 405, "vm.resume: the VM is not paused");
		vcpu_resume_all(a->vm);
		a->state = ST_RUNNING;
		return;
	case API_VM_SHUTDOWN:
		if (!check_running(a, rep, "vm.shutdown"))
			return;
		if (a->exit_with_vm)
			api_notify("STOPPING=1");
		return stop_guest(a, VMM_EXIT_POWEROFF, "shut down through the API (vm.shutdown)");
	case API_VM_REBOOT:
		if (!check_running(a, rep, "vm.reboot"))
			return;
		stop_guest(a, VMM_EXIT_REBOOT, "reboot through the API (vm.reboot)");
		if (a->state != ST_RUNNING)
			reply_error(rep, 500, "vm.reboot: the guest did not come back: %s", a->runner_msg);
		return;
	case API_VM_POWER_BUTTON:
		if (!check_running(a, rep, "vm.power-button"))
			return;
		return reply_error(rep, 500, "vm.power-button: not supported by cvmm (no ACPI power button "
					     "device; vm.shutdown stops the guest)");
	case API_VM_DELETE:
		stop_guest(a, VMM_EXIT_POWEROFF, "deleted through the API (vm.delete)");
		json_decref(a->vmconfig);
		a->vmconfig = NULL;
		a->state = ST_NONE;
		return;
	case API_VMM_SHUTDOWN:
		a->quit = true;
		return;
	default:
		return reply_error(rep, 500, "%s: not a command", api_op_name(op));
	}
}

static void create(struct api_vmm *a, json_t *body, struct api_reply *rep)
{
	struct vm_config c = a->base;

	if (a->state != ST_NONE)
		return reply_error(rep, 500, "vm.create: a VM is already created (vm.delete first)");
	if (api_vmconfig_apply(body, &c))
		return reply_error(rep, 400, "vm.create: %s", err_msg());
	a->cfg = c;
	a->vmconfig = json_incref(body);
	a->state = ST_CREATED;
	rep->status = 204;
}

void api_vmm_execute(struct api_vmm *a, struct api_request *rq, struct api_reply *rep)
{
	memset(rep, 0, sizeof(*rep));
	switch (rq->op) {
	case API_VMM_PING:
		return reply_json(rep, json_pack("{s:s,s:s,s:I,s:[s]}", "version", vmm_version, "build_version",
						 vmm_version, "pid", (json_int_t)getpid(), "features", "cvmm"));
	case API_VM_CREATE:
	case API_VM_INFO:
	case API_VM_COUNTERS:
	case API_VM_ATTESTATION:
		pthread_mutex_lock(&a->lock);
		if (rq->op == API_VM_CREATE)
			create(a, rq->body, rep);
		else if (a->state == ST_NONE)
			reply_error(rep, 404, "%s: the VM is not created", api_op_name(rq->op));
		else if (rq->op == API_VM_INFO)
			reply_json(rep, json_pack("{s:o,s:s,s:I}", "config", api_vmconfig_from_run(&a->cfg), "state",
						  state_names[a->state], "memory_actual_size", (json_int_t)a->cfg.mem));
		else if (rq->op == API_VM_COUNTERS)
			reply_json(rep, a->vm ? virtio_counters(a->vm) : json_object());
		else if (!a->vm || !a->attestation)
			reply_error(rep, 405, "vm.attestation: the VM is not booted");
		else
			reply_json(rep, json_deep_copy(a->attestation));
		pthread_mutex_unlock(&a->lock);
		return;
	default:
		break;
	}
	/* everything else changes the VM: the control thread does it */
	pthread_mutex_lock(&a->cmd_lock);
	pthread_mutex_lock(&a->lock);
	if (a->stopped) {
		/* a request that came in while the VMM shuts down */
		reply_error(rep, 500, "%s: the VMM is shutting down", api_op_name(rq->op));
		pthread_mutex_unlock(&a->lock);
		pthread_mutex_unlock(&a->cmd_lock);
		return;
	}
	a->cmd = rq->op;
	a->cmd_rep = rep;
	a->cmd_pending = true;
	a->cmd_done = false;
	wake(a);
	while (!a->cmd_done && !a->stopped)
		pthread_cond_wait(&a->cond, &a->lock);
	if (!a->cmd_done) {
		a->cmd_pending = false;
		reply_error(rep, 500, "%s: the VMM is shutting down", api_op_name(rq->op));
	}
	pthread_mutex_unlock(&a->lock);
	pthread_mutex_unlock(&a->cmd_lock);
}

int api_vmm_loop(struct api_vmm *a, bool boot_now, bool exit_with_vm)
{
	sigset_t set;
	int sfd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sfd = signalfd(-1, &set, SFD_CLOEXEC); /* the caller blocked them in every thread */
	pthread_mutex_lock(&a->lock);
	a->exit_with_vm = exit_with_vm;
	a->quit = a->stopped = false;
	if (boot_now) {
		if (boot(a)) {
			err_set(EIO, "%s", a->runner_msg);
			a->stopped = true;
			pthread_cond_broadcast(&a->cond);
			pthread_mutex_unlock(&a->lock);
			if (sfd >= 0)
				close(sfd);
			return VMM_EXIT_ERROR;
		}
	}
	api_notify("READY=1"); /* the guest runs (cvmm run), or the socket listens (cvmm serve) */
	while (!a->quit) {
		struct pollfd p[2] = { { .fd = a->efd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		uint64_t n;

		pthread_mutex_unlock(&a->lock);
		if (poll(p, sfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR) {
			pthread_mutex_lock(&a->lock);
			break;
		}
		if (read(a->efd, &n, sizeof(n)) < 0) {
			/* EAGAIN: woken by the signalfd */
		}
		pthread_mutex_lock(&a->lock);
		if (sfd >= 0 && p[1].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				fprintf(stderr, "cvmm: stopped by signal %u\n", si.ssi_signo);
				a->quit = true;
			}
		}
		if (a->runner_done)
			reap(a);
		if (a->cmd_pending) {
			run_command(a, a->cmd, a->cmd_rep);
			a->cmd_pending = false;
			a->cmd_done = true;
			pthread_cond_broadcast(&a->cond);
		}
	}
	api_notify("STOPPING=1");
	if (a->runner_live)
		stop_guest(a, VMM_EXIT_POWEROFF, "the VMM is shutting down");
	a->stopped = true;
	pthread_cond_broadcast(&a->cond);
	int status = a->exit_status;
	pthread_mutex_unlock(&a->lock);
	if (sfd >= 0)
		close(sfd);
	return status;
}
