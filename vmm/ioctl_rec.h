/* ioctl_rec.h - the ioctl seam of the confidential backends (issue 11,
 * "Recorded dry run"): sev/backend_*.c and tdx/backend_*.c issue every
 * open/ioctl/close through a struct cc_io, either the real one (ioctl(2)) or
 * the recording stand-in, which writes one JSON line per ioctl (the kernel's
 * names: "ioctl", "cmd" for KVM_MEMORY_ENCRYPT_OP sub-commands, the
 * structure's fields) and answers with plausible outputs: fds, the VM types
 * the host "offers", and an SEV-SNP launch digest folded from exactly the
 * pages it was handed (a model of the PSP plus KVM's VMSA creation at
 * SNP_LAUNCH_FINISH). Unit tests and `cvmm run --dry-run` use the same one. */
#ifndef CVMM_VMM_IOCTL_REC_H
#define CVMM_VMM_IOCTL_REC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvm_run;

struct cc_io {
	/* an fd, or -errno */
	int (*open)(struct cc_io *io, const char *path);
	/* the ioctl's return value (>= 0), or -errno */
	int (*ioctl)(struct cc_io *io, int fd, unsigned long req, void *arg);
	void (*close)(struct cc_io *io, int fd);
	/* A fact the kernel's structure does not carry (e.g. "file_offset" of
	 * the source pages in the firmware image), added to the next recorded
	 * line; the real implementation ignores it. */
	void (*annotate)(struct cc_io *io, const char *key, int64_t value);
	/* Run time (cc_run.c). fallocate(2) on a guest_memfd: 0 or -errno. */
	int (*fallocate)(struct cc_io *io, int fd, int mode, uint64_t offset, uint64_t len);
	/* madvise(2) on the shared backing: 0 or -errno. */
	int (*madvise)(struct cc_io *io, void *addr, size_t len, int advice);
	/* The vCPU's struct kvm_run: KVM_GET_VCPU_MMAP_SIZE on kvm_fd, mmap of
	 * vcpu_fd; NULL with err_set(). */
	struct kvm_run *(*map_run)(struct cc_io *io, int kvm_fd, int vcpu_fd, size_t *len);
	void (*unmap_run)(struct cc_io *io, struct kvm_run *run, size_t len);
};

/* The real thing: open(2) O_RDWR|O_CLOEXEC, ioctl(2), close(2). */
extern struct cc_io cc_io_real;

struct cc_rec;
/* Record into path (created 0644, truncated); NULL keeps no file. */
int cc_rec_create(const char *path, struct cc_rec **out);
struct cc_io *cc_rec_io(struct cc_rec *r);
/* Make the nth ioctl (1-based, counting every ioctl) fail with -err; a
 * KVM_MEMORY_ENCRYPT_OP also reports fw_error in kvm_sev_cmd.error
 * (kvm_tdx_cmd.hw_error for TDX). 0 disarms. */
void cc_rec_fail(struct cc_rec *r, unsigned nth, int err, uint64_t fw_error);
/* ioctls issued so far, fds open now. */
unsigned cc_rec_calls(const struct cc_rec *r);
unsigned cc_rec_open_fds(const struct cc_rec *r);
/* SEV-SNP: the launch digest after a successful SNP_LAUNCH_FINISH, else NULL. */
const uint8_t *cc_rec_snp_measurement(const struct cc_rec *r);
/* SEV / SEV-ES: the launch digest (SHA-256 of the data and VMSAs) after
 * KVM_SEV_LAUNCH_MEASURE, else NULL. */
const uint8_t *cc_rec_sev_digest(const struct cc_rec *r);
/* TDX: MRTD after a successful KVM_TDX_FINALIZE_VM, else NULL. */
const uint8_t *cc_rec_tdx_mrtd(const struct cc_rec *r);
/* KVM_RUN on a vCPU fd calls fn(ctx, vcpu_fd, run) where run is what
 * map_run gave for that fd; fn fills in the exit and returns KVM_RUN's
 * result (0, or -errno such as -EFAULT with KVM_EXIT_MEMORY_FAULT). Without
 * fn KVM_RUN fails with -EIO (nothing runs in a dry run). */
void cc_rec_on_run(struct cc_rec *r, int (*fn)(void *ctx, int vcpu_fd, struct kvm_run *run), void *ctx);
/* Flush and close the file: 0, or -errno if writing failed. */
int cc_rec_close(struct cc_rec *r);

/* A private memory slot (cc_slot.c): guest_memfd + anonymous shared backing
 * + KVM_SET_USER_MEMORY_REGION2 + the range made private. who ("SNP
 * launch") begins error messages. On failure the slot still owns what was
 * made: release it. */
struct cc_slot {
	uint64_t gpa, size;
	uint8_t *host;  /* the shared backing (userspace_addr) */
	int gmem_fd;
};
int cc_slot_add(struct cc_io *io, int vm_fd, unsigned index, uint64_t gpa, uint64_t size, const char *who,
		struct cc_slot *s);
void cc_slot_release(struct cc_io *io, struct cc_slot *s);
/* The slot holding [gpa, gpa+len), or NULL. */
struct cc_slot *cc_slot_find(struct cc_slot *s, unsigned n, uint64_t gpa, uint64_t len);

/* ---------------- run time (cc_run.c) ----------------
 * The guest memory of a running confidential VM as a slot table, and the
 * exits its vCPUs bring to userspace (api.rst KVM_EXIT_MEMORY_FAULT,
 * KVM_EXIT_HYPERCALL with KVM_HC_MAP_GPA_RANGE). Everything goes through
 * the seam, so the logic is exercised by the unit tests without /dev/kvm. */
struct cc_mem {
	struct cc_io *io;
	int vm_fd;
	struct cc_slot *slot;
	unsigned nslot;
	bool private_mem;         /* guest_memfd + attributes (SNP, TDX); SEV/SEV-ES: none */
	pthread_mutex_t lock;     /* conversions one at a time */
	uint64_t to_private, to_shared; /* 4 KiB pages converted */
	uint64_t release_errors;  /* fallocate/madvise that failed (memory kept, still correct) */
};
void cc_mem_init(struct cc_mem *m, struct cc_io *io, int vm_fd, struct cc_slot *slot, unsigned nslot,
		 bool private_mem);
void cc_mem_destroy(struct cc_mem *m);
/* Make [gpa, gpa+size) private or shared: KVM_SET_MEMORY_ATTRIBUTES, then
 * the other backing released (fallocate PUNCH_HOLE|KEEP_SIZE on the
 * guest_memfd when going shared, MADV_DONTNEED on the shared backing when
 * going private). gpa and size 4 KiB aligned, size > 0, the whole range
 * guest RAM; else -EINVAL/-EFAULT with err_set() and nothing changed. */
int cc_mem_convert(struct cc_mem *m, uint64_t gpa, uint64_t size, bool to_private);
/* The shared backing of [gpa, gpa+len) (one slot), or NULL. */
uint8_t *cc_mem_shared(struct cc_mem *m, uint64_t gpa, uint64_t len);

/* KVM_ENABLE_CAP(KVM_CAP_EXIT_HYPERCALL, 1 << KVM_HC_MAP_GPA_RANGE). */
int cc_enable_map_gpa_exit(struct cc_io *io, int vm_fd);
/* KVM_EXIT_MEMORY_FAULT: convert to what the guest accessed. 0: re-enter
 * KVM_RUN; < 0 (err_set): the guest cannot go on (a range that is not its
 * RAM would fault again at once). */
int cc_exit_memory_fault(struct cc_mem *m, struct kvm_run *run);
/* KVM_EXIT_HYPERCALL: MAP_GPA_RANGE converted, hypercall.ret 0, EINVAL for
 * a bad request, EAGAIN when KVM ran short (api.rst KVM_CAP_EXIT_HYPERCALL:
 * those three, positive); any other hypercall -KVM_ENOSYS. Always
 * 0: the guest gets the error, the VMM goes on. */
int cc_exit_hypercall(struct cc_mem *m, struct kvm_run *run);

/* The vCPU run loop of a confidential VM. */
struct cc_runner {
	struct cc_mem *mem;
	/* KVM_EXIT_IO / KVM_EXIT_MMIO (NULL: reads give all ones, writes
	 * are dropped); KVM_EXIT_TDX (NULL: TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED
	 * left as KVM set it). Return 0 to go on, < 0 to stop the VM as crashed. */
	int (*io)(void *ctx, unsigned vcpu, struct kvm_run *run);
	void *io_ctx;
	int (*tdx)(void *ctx, unsigned vcpu, struct kvm_run *run);
	void *tdx_ctx;
	/* the main thread, while the vCPUs run: wake(wake_ctx) each time
	 * wake_fd (an eventfd; -1: none) is readable */
	int wake_fd;
	void (*wake)(void *ctx);
	void *wake_ctx;
	volatile int stop;
	pthread_mutex_t lock;
	int status;               /* -1 running; then 0 poweroff, 3 reset, 4 crash, 2 setup error */
	char why[192];
	uint64_t exits;
};
void cc_runner_init(struct cc_runner *r, struct cc_mem *mem);
/* Stop the VM with status (the first caller wins). */
void cc_runner_stop(struct cc_runner *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Run vCPU index until the VM stops; returns r->status. */
int cc_vcpu_loop(struct cc_runner *r, unsigned index, int vcpu_fd, struct kvm_run *run);
/* One thread per vCPU (each maps its kvm_run through the seam), until the
 * VM stops; the others are kicked out of KVM_RUN. Returns r->status.
 * seccomp (vmm/confine, the process-wide mode): each vCPU thread installs
 * the vcpu role before its first KVM_RUN, the calling thread the vmm role
 * once they are started (the launch is finished by then: no
 * KVM_MEMORY_ENCRYPT_OP, KVM_CREATE_VCPU, memory slots after it). */
int cc_run_vcpus(struct cc_runner *r, int kvm_fd, const int *vcpu_fd, unsigned n);

/* A launched confidential VM as the run loop sees it (the backends fill it). */
struct cc_vm_view {
	struct cc_io *io;
	int kvm_fd, vm_fd;
	struct cc_slot *slot;
	unsigned nslot;
	bool private_mem;
	const int *vcpu_fd;
	unsigned nvcpus;
};
/* Enable the MAP_GPA_RANGE exit, then run v's vCPUs with r (r->mem over
 * v's slots, the io/tdx hooks as the caller set them). Returns the VM's
 * exit status (r->why says why), or -errno (err_set) before any vCPU ran. */
int cc_run_vm(const struct cc_vm_view *v, struct cc_runner *r);
/* The cc_runner io hook of a bare debug console: bytes the guest writes to
 * COM1's THR (0x3f8) or the firmware debug port (0x402) go to *(int *)ctx
 * (control characters but \n \r \t as '?');
 * COM1's LSR reads "transmitter empty"; everything else reads all ones. */
int cc_console_io(void *ctx, unsigned vcpu, struct kvm_run *run);

#endif
