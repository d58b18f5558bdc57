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

#include <stdbool.h>
#include <stdint.h>

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

#endif
