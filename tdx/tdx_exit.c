/* tdx_exit.c - KVM_EXIT_TDX: the TDVMCALLs KVM hands to userspace
 * (Documentation/virt/kvm/api.rst "KVM_EXIT_TDX"; Intel TDX GHCI 1.5,
 * "TDG.VP.VMCALL<GetQuote>", "<SetupEventNotifyInterrupt>",
 * "<GetTdVmCallInfo>"). KVM fills run->tdx {flags, nr, union} with ret
 * preset to TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED; userspace writes ret (and
 * the outputs) and re-enters.
 *
 * GetQuote: R12 = the GPA of a shared buffer (KVM strips the shared bit),
 * R13 = its size. The buffer starts with
 *   u64 version (1), u64 status, u32 in_len, u32 out_len, data[]
 * holding the TDREPORT (in_len bytes). The VMM marks it IN_FLIGHT, returns
 * SUCCESS at once, obtains the quote from the QGS (qgs.c) and later writes
 * it to data[] with out_len and status SUCCESS / ERROR / QGS_UNAVAILABLE;
 * then, if the TD registered a vector with SetupEventNotifyInterrupt, it
 * raises that interrupt. The guest's buffer is hostile input: every range
 * is checked against guest RAM (cc_mem_shared) before it is touched. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/common.h"
#include "backend_tdx.h"
#include "vmm/confine/confine.h"
#include "vmm/kvm_uapi.h"

#define QGS_TIMEOUT_MS 30000
#define TDVMCALL_INFO_GET_QUOTE          (1ull << 0)
#define TDVMCALL_INFO_SETUP_EVENT_NOTIFY (1ull << 1)

static uint64_t ld64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }  /* x86: little-endian */
static uint32_t ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static void st32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* The status last, so that a guest seeing it sees the data before it. */
static void set_status(uint8_t *hdr, uint64_t status)
{
	__atomic_store_n((uint64_t *)(void *)(hdr + 8), status, __ATOMIC_RELEASE);
}

void tdx_run_ctx_init(struct tdx_run_ctx *t, struct cc_mem *mem, const struct qgs_addr *qgs)
{
	memset(t, 0, sizeof(*t));
	t->mem = mem;
	t->qgs = qgs;
	t->timeout_ms = QGS_TIMEOUT_MS;
	t->notify_fd = -1;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->idle, NULL);
	pthread_cond_init(&t->work, NULL);
}

void tdx_run_ctx_drain(struct tdx_run_ctx *t)
{
	pthread_mutex_lock(&t->lock);
	while (t->inflight)
		pthread_cond_wait(&t->idle, &t->lock);
	t->quit = true; /* nothing queued: inflight counts the queue too */
	pthread_cond_broadcast(&t->work);
	pthread_mutex_unlock(&t->lock);
	if (t->dispatch)
		pthread_join(t->dispatcher, NULL);
	if (t->notify_fd >= 0)
		close(t->notify_fd);
	t->dispatch = false;
	t->notify_fd = -1;
	pthread_cond_destroy(&t->work);
	pthread_cond_destroy(&t->idle);
	pthread_mutex_destroy(&t->lock);
}

struct quote_job {
	struct tdx_run_ctx *t;
	uint8_t *buf;      /* the guest's buffer in the shared backing */
	uint64_t size;
	uint8_t *report;
	uint32_t len;
};

/* The interrupt the TD asked for: a fixed, edge MSI to its APIC (x2APIC
 * ids above 255 in address_hi, as with KVM_CAP_X2APIC_API). */
static void raise_notify(struct tdx_run_ctx *t)
{
	struct cc_io *io = t->mem->io;
	struct kvm_msi m;
	uint32_t vector, apic;
	bool set;

	pthread_mutex_lock(&t->lock);
	set = t->notify_set;
	vector = t->notify_vector;
	apic = t->notify_apic;
	pthread_mutex_unlock(&t->lock);
	if (!set)
		return;
	m = (struct kvm_msi){ .address_lo = 0xfee00000u | (apic & 0xff) << 12, .address_hi = apic & 0xffffff00u,
			      .data = vector };
	io->ioctl(io, t->mem->vm_fd, KVM_SIGNAL_MSI, &m);
}

/* A quote thread under the api role has no ioctl: the main thread raises
 * the interrupt (tdx_run_ctx_wake) when the eventfd says so. */
static void notify(struct tdx_run_ctx *t)
{
	uint64_t one = 1;

	if (t->notify_fd < 0)
		raise_notify(t);
	else
		(void)!write(t->notify_fd, &one, sizeof(one)); /* only fails when full: a wake-up is pending anyway */
}

void tdx_run_ctx_wake(void *ctx)
{
	struct tdx_run_ctx *t = ctx;
	uint64_t n;

	if (read(t->notify_fd, &n, sizeof(n)) == sizeof(n) && n)
		raise_notify(t); /* one interrupt for all that completed since: the TD reads each buffer's status */
}

static void *quote_worker(void *arg)
{
	struct quote_job *j = arg;
	struct tdx_run_ctx *t = j->t;
	uint8_t *quote = NULL;
	uint32_t qlen = 0;
	uint64_t status;
	int rc = qgs_get_quote(t->qgs, j->report, j->len, t->timeout_ms, &quote, &qlen);

	if (rc == -EHOSTUNREACH)
		status = TDX_GET_QUOTE_QGS_UNAVAILABLE;
	else if (rc || qlen > j->size - TDX_GET_QUOTE_HDR)
		status = TDX_GET_QUOTE_ERROR; /* a quote the buffer cannot hold is an error too */
	else {
		memcpy(j->buf + TDX_GET_QUOTE_HDR, quote, qlen);
		status = TDX_GET_QUOTE_SUCCESS;
	}
	st32(j->buf + 20, status == TDX_GET_QUOTE_SUCCESS ? qlen : 0);
	set_status(j->buf, status);
	notify(t);
	free(quote);
	free(j->report);
	free(j);
	pthread_mutex_lock(&t->lock);
	if (status == TDX_GET_QUOTE_SUCCESS)
		t->quotes++;
	else
		t->quote_errors++;
	t->inflight--;
	pthread_cond_broadcast(&t->idle);
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void release(struct tdx_run_ctx *t, struct quote_job *j)
{
	if (j)
		free(j->report);
	free(j);
	pthread_mutex_lock(&t->lock);
	t->inflight--;
	pthread_cond_broadcast(&t->idle);
	pthread_mutex_unlock(&t->lock);
}

/* A detached thread per request: it reaches the QGS on its own. */
static int spawn(struct quote_job *j)
{
	pthread_attr_t attr;
	pthread_t tid;
	int failed;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	failed = pthread_create(&tid, &attr, quote_worker, j);
	pthread_attr_destroy(&attr);
	return failed;
}

/* The report is copied here, after the call returned IN_FLIGHT: the
 * buffer is the VMM's until the status changes (GHCI GetQuote), and its
 * length was checked at the call (len, size kept from then). */
static void *dispatcher_main(void *arg)
{
	struct tdx_run_ctx *t = arg;
	struct quote_job *j;

	confine_thread(CONFINE_API); /* fails closed; the quote threads are born with it */
	pthread_mutex_lock(&t->lock);
	for (;;) {
		while (!t->npending && !t->quit)
			pthread_cond_wait(&t->work, &t->lock);
		if (!t->npending)
			break;
		uint8_t *buf = t->pending[0].buf;
		uint64_t size = t->pending[0].size;
		uint32_t len = t->pending[0].len;

		memmove(&t->pending[0], &t->pending[1], --t->npending * sizeof(t->pending[0]));
		pthread_mutex_unlock(&t->lock);
		if ((j = calloc(1, sizeof(*j))) && (j->report = malloc(len))) {
			*j = (struct quote_job){ .t = t, .buf = buf, .size = size, .report = j->report, .len = len };
			memcpy(j->report, buf + TDX_GET_QUOTE_HDR, len);
		}
		if (!j || !j->report || spawn(j)) {
			set_status(buf, TDX_GET_QUOTE_ERROR); /* this request failed; the call went through */
			release(t, j);
		}
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int tdx_run_ctx_start(struct tdx_run_ctx *t)
{
	int rc;

	if (!t->qgs)
		return 0; /* GetQuote answers QGS_UNAVAILABLE on the vCPU thread */
	if ((t->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return err_set(errno, "GetQuote: eventfd: %s", strerror(errno));
	if ((rc = pthread_create(&t->dispatcher, NULL, dispatcher_main, t))) {
		close(t->notify_fd);
		t->notify_fd = -1;
		return err_set(rc, "GetQuote: cannot start its thread: %s", strerror(rc));
	}
	t->dispatch = true;
	return 0;
}

static uint64_t get_quote(struct tdx_run_ctx *t, uint64_t gpa, uint64_t size)
{
	struct quote_job *j;
	uint8_t *buf;
	uint32_t in_len;

	if (gpa % 4096)
		return TDVMCALL_STATUS_ALIGN_ERROR;
	if (size < TDX_GET_QUOTE_HDR || size > TDX_GET_QUOTE_MAX_BUF || !(buf = cc_mem_shared(t->mem, gpa, size)))
		return TDVMCALL_STATUS_INVALID_OPERAND;
	in_len = ld32(buf + 16);
	if (ld64(buf) != 1 || !in_len || in_len > size - TDX_GET_QUOTE_HDR)
		return TDVMCALL_STATUS_INVALID_OPERAND;
	if (!t->qgs) {
		st32(buf + 20, 0);
		set_status(buf, TDX_GET_QUOTE_QGS_UNAVAILABLE);
		return TDVMCALL_STATUS_SUCCESS;
	}
	pthread_mutex_lock(&t->lock);
	if (t->inflight >= TDX_GET_QUOTE_MAX_INFLIGHT) {
		pthread_mutex_unlock(&t->lock);
		return TDVMCALL_STATUS_RETRY;
	}
	t->inflight++;
	if (t->dispatch) {
		/* a confined vCPU thread allocates nothing (a thread's first malloc
		 * makes an arena: mprotect) and starts no thread */
		t->pending[t->npending].buf = buf; /* npending < inflight <= the maximum */
		t->pending[t->npending].size = size;
		t->pending[t->npending++].len = in_len;
		st32(buf + 20, 0);
		set_status(buf, TDX_GET_QUOTE_IN_FLIGHT);
		pthread_cond_signal(&t->work);
		pthread_mutex_unlock(&t->lock);
		return TDVMCALL_STATUS_SUCCESS;
	}
	pthread_mutex_unlock(&t->lock);
	if (!(j = calloc(1, sizeof(*j))) || !(j->report = malloc(in_len)))
		goto fail;
	j->t = t;
	j->buf = buf;
	j->size = size;
	j->len = in_len;
	memcpy(j->report, buf + TDX_GET_QUOTE_HDR, in_len); /* a copy: the guest may change its buffer */
	st32(buf + 20, 0);
	set_status(buf, TDX_GET_QUOTE_IN_FLIGHT);
	if (!spawn(j))
		return TDVMCALL_STATUS_SUCCESS;
	set_status(buf, TDX_GET_QUOTE_ERROR); /* this request failed; the call itself went through */
	release(t, j);
	return TDVMCALL_STATUS_SUCCESS;
fail:
	release(t, j); /* out of memory: the guest may try again */
	return TDVMCALL_STATUS_RETRY;
}

int tdx_exit(void *ctx, unsigned vcpu, struct kvm_run *run)
{
	struct tdx_run_ctx *t = ctx;

	switch (run->tdx.nr) {
	case TDVMCALL_GET_QUOTE:
		run->tdx.get_quote.ret = get_quote(t, run->tdx.get_quote.gpa, run->tdx.get_quote.size);
		break;
	case TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT: {
		uint64_t v = run->tdx.setup_event_notify.vector;

		/* GHCI: vectors 32..255; anything else is an invalid operand */
		if (v < 32 || v > 255) {
			run->tdx.setup_event_notify.ret = TDVMCALL_STATUS_INVALID_OPERAND;
			break;
		}
		pthread_mutex_lock(&t->lock);
		t->notify_set = true;
		t->notify_vector = (uint32_t)v;
		t->notify_apic = vcpu; /* cvmm's APIC ids are the vCPU indexes */
		pthread_mutex_unlock(&t->lock);
		run->tdx.setup_event_notify.ret = TDVMCALL_STATUS_SUCCESS;
		break;
	}
	case TDVMCALL_GET_TD_VM_CALL_INFO:
		/* api.rst: "This TDVMCALL must succeed", KVM enters with ret
		 * SUCCESS and r11..r14 zero; leaf 1 lists the sub-functions
		 * served beyond the base set, any other leaf stays as KVM set it */
		if (run->tdx.get_tdvmcall_info.leaf == 1) {
			run->tdx.get_tdvmcall_info.r11 = TDVMCALL_INFO_GET_QUOTE | TDVMCALL_INFO_SETUP_EVENT_NOTIFY;
			run->tdx.get_tdvmcall_info.r12 = run->tdx.get_tdvmcall_info.r13 = 0;
			run->tdx.get_tdvmcall_info.r14 = 0;
			run->tdx.get_tdvmcall_info.ret = TDVMCALL_STATUS_SUCCESS;
		}
		break;
	default:
		run->tdx.unknown.ret = TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED;
	}
	return 0;
}
