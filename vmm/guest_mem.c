/* guest_mem.c - guest RAM: one anonymous host mapping split around the
 * 32-bit PCI hole, and gm_ptr(), the only way to turn a guest-supplied
 * address into a host pointer. */
#include <errno.h>
#include <sys/mman.h>

#include "common/common.h"
#include "vmm/vmm_core.h"

void *gm_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (!m || !m->host)
		return NULL;
	/* Below the hole: [0, low_size). */
	if (gpa < m->low_size)
		return range_ok(gpa, len, m->low_size) ? m->host + gpa : NULL;
	/* Above 4 GiB: [4 GiB, 4 GiB + size - low_size), host offset low_size. */
	uint64_t high = m->size - m->low_size;
	if (gpa < (1ull << 32) || high == 0)
		return NULL;
	uint64_t off = gpa - (1ull << 32);
	if (!range_ok(off, len, high))
		return NULL;
	return m->host + m->low_size + off;
}

int gm_alloc(struct guest_mem *m, uint64_t size)
{
	if (size < (16ull << 20) || size > (1ull << 40) || size % 4096)
		return err_set(EINVAL, "--mem: %llu bytes: need a multiple of 4 KiB between 16 MiB and 1 TiB",
			       (unsigned long long)size);
	/* MAP_NORESERVE: the guest touches what it uses; the rest never costs
	 * host memory (what the boot benchmark measures as guest RAM). The
	 * mapping is 2 MiB aligned and THP-backed so KVM can map guest RAM
	 * with large pages (a host address congruent to the guest address mod
	 * 2 MiB is what its nested page tables need for that). */
	const uint64_t align = 2ull << 20;
	uint8_t *raw = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return err_set(errno, "guest memory: mmap of %llu bytes: %m", (unsigned long long)size);
	uint8_t *p = (uint8_t *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	if (p + size < raw + size + align)
		munmap(p + size, (size_t)(raw + size + align - (p + size)));
	madvise(p, size, MADV_HUGEPAGE);
	m->host = p;
	m->size = size;
	m->low_size = size < VM_MMIO_HOLE_START ? size : VM_MMIO_HOLE_START;
	return 0;
}

void gm_free(struct guest_mem *m)
{
	if (m->host)
		munmap(m->host, m->size);
	m->host = NULL;
	m->size = m->low_size = 0;
}
