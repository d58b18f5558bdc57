/* backend_tdx.h - internal to tdx/: the TDX KVM backend (backend_tdx.c). */
#ifndef CVMM_TDX_BACKEND_TDX_H
#define CVMM_TDX_BACKEND_TDX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "tdx.h"
#include "vmm/ioctl_rec.h"

struct tdx_launch_req {
	const struct launch_plan *plan; /* tdx_plan_build() */
	const struct fw_image *fw;      /* for file_offset of the source pages */
	uint64_t mem;
	unsigned vcpus;
	uint64_t attributes;            /* TD attributes (TDX module ABI, TD_PARAMS.ATTRIBUTES) */
	uint64_t xfam;
	uint8_t mrconfigid[TDX_MR_SIZE], mrowner[TDX_MR_SIZE], mrownerconfig[TDX_MR_SIZE];
};

struct tdx_vm;
/* Build the TD through io up to KVM_TDX_FINALIZE_VM (never KVM_RUN). On
 * error everything is released and err_msg() names the step, the
 * sub-command and the TDX module's error code. */
int tdx_backend_launch(struct cc_io *io, const struct tdx_launch_req *req, struct tdx_vm **out);
void tdx_backend_release(struct tdx_vm *vm);
/* The launched TD as the run loop (vmm/cc_run.c) sees it. */
void tdx_backend_view(struct tdx_vm *vm, struct cc_vm_view *out);

/* ---------------- run time ---------------- */
/* The quote generation service (qgs.c): `--tdx-qgs unix:PATH|vsock:CID:PORT`. */
struct qgs_addr {
	bool vsock;
	char path[108];
	uint32_t cid, port;
};
#define QGS_MAX_MSG (1u << 20) /* a response longer than this is refused */
int qgs_parse_addr(const char *s, struct qgs_addr *a);
/* GET_QUOTE_REQ for report, with its 4-byte big-endian length in front. */
int qgs_frame_request(const uint8_t *report, uint32_t len, uint8_t **out, size_t *out_len);
/* A GET_QUOTE_RESP (without the length prefix): the quote inside it. */
int qgs_parse_response(const uint8_t *msg, size_t len, const uint8_t **quote, uint32_t *quote_len);
/* Connect, ask, read the answer (each step bounded by timeout_ms); *quote
 * is malloc'ed. -EHOSTUNREACH when the service cannot be reached. */
int qgs_get_quote(const struct qgs_addr *a, const uint8_t *report, uint32_t len, int timeout_ms, uint8_t **quote,
		  uint32_t *quote_len);

/* KVM_EXIT_TDX (tdx_exit.c; api.rst, GHCI 1.5 "TDG.VP.VMCALL"). */
#define TDVMCALL_GET_TD_VM_CALL_INFO          0x10000ull
#define TDVMCALL_GET_QUOTE                    0x10002ull
#define TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT 0x10004ull
#define TDVMCALL_STATUS_SUCCESS               0x0ull
#define TDVMCALL_STATUS_RETRY                 0x1ull
#define TDVMCALL_STATUS_INVALID_OPERAND       0x8000000000000000ull
#define TDVMCALL_STATUS_ALIGN_ERROR           0x8000000000000002ull
#define TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED   0x8000000000000003ull
/* the GetQuote buffer's status (GHCI "TDG.VP.VMCALL<GetQuote>") */
#define TDX_GET_QUOTE_SUCCESS          0x0ull
#define TDX_GET_QUOTE_IN_FLIGHT        0xffffffffffffffffull
#define TDX_GET_QUOTE_ERROR            0x8000000000000000ull
#define TDX_GET_QUOTE_QGS_UNAVAILABLE  0x8000000000000001ull
#define TDX_GET_QUOTE_HDR              24      /* version, status, in_len, out_len */
#define TDX_GET_QUOTE_MAX_BUF          (128u * 1024)
#define TDX_GET_QUOTE_MAX_INFLIGHT     16

struct tdx_run_ctx {
	struct cc_mem *mem;            /* guest buffers; KVM_SIGNAL_MSI through mem->io on mem->vm_fd */
	const struct qgs_addr *qgs;    /* NULL: no quote service */
	int timeout_ms;                /* per QGS step (default 30 s) */
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned inflight;
	bool notify_set;
	uint32_t notify_vector, notify_apic;
	uint64_t quotes, quote_errors;
	/* tdx_run_ctx_start: the vCPU thread only queues a request (no
	 * allocation, no thread: neither is on the vcpu seccomp list); a
	 * dispatcher thread under the api role copies the report and starts
	 * the quote thread (born with its filter), whose notification goes
	 * through notify_fd to the main thread, which holds KVM_SIGNAL_MSI
	 * (tdx_run_ctx_wake). Without it the vCPU thread does all that itself
	 * and the quote thread raises the interrupt (tests). */
	bool dispatch, quit;
	pthread_t dispatcher;
	pthread_cond_t work;
	struct { uint8_t *buf; uint64_t size; uint32_t len; } pending[TDX_GET_QUOTE_MAX_INFLIGHT];
	unsigned npending;             /* counted in inflight too */
	int notify_fd;                 /* eventfd, -1 without a dispatcher */
};
void tdx_run_ctx_init(struct tdx_run_ctx *t, struct cc_mem *mem, const struct qgs_addr *qgs);
/* Before the threads are confined (cvmm run): the dispatcher and its
 * eventfd. 0 or -errno (err_set). */
int tdx_run_ctx_start(struct tdx_run_ctx *t);
/* The cc_runner's wake hook (its wake_fd is notify_fd): raise the
 * interrupt the TD registered for the quotes that completed. */
void tdx_run_ctx_wake(void *ctx);
/* Wait until no quote is in flight, stop the dispatcher, then free what
 * init and start made. */
void tdx_run_ctx_drain(struct tdx_run_ctx *t);
/* The cc_runner's tdx hook: GetQuote, SetupEventNotifyInterrupt,
 * GetTdVmCallInfo; the guest's mistakes become TDVMCALL status codes.
 * Returns 0 (the VMM never stops for a guest's request). */
int tdx_exit(void *ctx, unsigned vcpu, struct kvm_run *run);

#endif
