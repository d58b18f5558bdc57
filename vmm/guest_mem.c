/* guest_mem.c - guest RAM: one host mapping split around the 32-bit PCI
 * hole, and gm_ptr(), the only way to turn a guest-supplied address into a
 * host pointer.
 *
 * The mapping is anonymous memory by default (THP advised), or a memfd:
 * shared=on (MAP_SHARED, for vhost-user and the shared half of guest_memfd)
 * or hugepages=on (MFD_HUGETLB, 2 MiB pages from the host's reserved pool).
 * prealloc=on faults every page in before the guest runs; --numa node=N
 * binds the pages to one host node with mbind(2) (no libnuma needed). */
#include <errno.h>
#include <limits.h>
#include <linux/memfd.h>
#include <linux/mempolicy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/vmm_core.h"

#define GM_ALIGN (2ull << 20)
#define HUGEPAGES_SYSFS "/sys/kernel/mm/hugepages/hugepages-2048kB/"

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

static int on_off(const char *v, bool *out, const char *what)
{
	if (!strcmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "off"))
		*out = false;
	else
		return err_set(EINVAL, "--mem: %s=%s: say on or off", what, v);
	return 0;
}

int gm_parse_mem(const char *arg, uint64_t *size, struct gm_opts *o)
{
	char buf[256], *save = NULL, *tok;
	int rc;

	if (strlen(arg) >= sizeof(buf))
		return err_set(EINVAL, "--mem: argument too long");
	strcpy(buf, arg);
	tok = strtok_r(buf, ",", &save);
	if (!tok)
		return err_set(EINVAL, "--mem: empty (SIZE[,hugepages=on][,shared=on][,prealloc=on])");
	if ((rc = parse_size(tok, size, "--mem")))
		return rc;
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return err_set(EINVAL, "--mem: '%s': expected NAME=on|off", tok);
		*eq = 0;
		if (!strcmp(tok, "hugepages"))
			rc = on_off(eq + 1, &o->hugepages, tok);
		else if (!strcmp(tok, "shared"))
			rc = on_off(eq + 1, &o->shared, tok);
		else if (!strcmp(tok, "prealloc"))
			rc = on_off(eq + 1, &o->prealloc, tok);
		else if (!strcmp(tok, "thp")) {
			bool thp = !o->no_thp;
			rc = on_off(eq + 1, &thp, tok);
			o->no_thp = !thp;
		}
		else
			rc = err_set(EINVAL, "--mem: unknown option '%s' (hugepages, shared, prealloc, thp)", tok);
		if (rc)
			return rc;
	}
	return 0;
}

int gm_parse_numa(const char *arg, struct gm_opts *o)
{
	char *end;
	long v;

	if (strncmp(arg, "node=", 5) || !arg[5])
		return err_set(EINVAL, "--numa: '%s': expected node=N", arg);
	errno = 0;
	v = strtol(arg + 5, &end, 10);
	if (errno || *end || v < 0 || v >= 1024)
		return err_set(EINVAL, "--numa: '%s': N must be a node number 0..1023", arg);
	o->numa = true;
	o->numa_node = (int)v;
	return 0;
}

static unsigned long read_sysfs_ulong(const char *path)
{
	FILE *f = fopen(path, "re");
	unsigned long v = 0;

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* A memfd for the guest's RAM, sized: the fd, or a negative errno with
 * the error set. */
static int ram_memfd(uint64_t size, bool huge)
{
	int fd = memfd_create("cvmm-guest-ram", MFD_CLOEXEC | (huge ? MFD_HUGETLB | MFD_HUGE_2MB : 0)), rc;

	if (fd < 0)
		return huge ? err_set(errno, "--mem hugepages=on: memfd_create(MFD_HUGETLB): %s (no hugetlbfs "
				      "support in this kernel?)", strerror(errno))
			    : err_set(errno, "--mem shared=on: memfd_create: %s", strerror(errno));
	if (ftruncate(fd, (off_t)size) < 0) {
		rc = err_set(errno, "guest memory: ftruncate of the memfd to %llu bytes: %s",
			     (unsigned long long)size, strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}

static int hugepage_shortage(uint64_t size)
{
	unsigned long need = (unsigned long)(size / GM_ALIGN);
	unsigned long nr = read_sysfs_ulong(HUGEPAGES_SYSFS "nr_hugepages");
	unsigned long free_pages = read_sysfs_ulong(HUGEPAGES_SYSFS "free_hugepages");

	return err_set(ENOMEM, "--mem hugepages=on: %lu huge pages of 2 MiB needed, %lu free of %lu reserved "
		       "(reserve them with: echo %lu > /proc/sys/vm/nr_hugepages)", need, free_pages, nr,
		       nr + need - (free_pages < need ? free_pages : need));
}

static int bind_node(void *p, uint64_t size, int node)
{
	unsigned long mask[1024 / (8 * sizeof(unsigned long))] = { 0 };
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", node);
	if (stat(path, &st) < 0)
		return err_set(ENOENT, "--numa node=%d: the host has no NUMA node %d (%s)", node, node, path);
	mask[node / (8 * sizeof(unsigned long))] |= 1ul << (node % (8 * sizeof(unsigned long)));
	if (syscall(SYS_mbind, p, (unsigned long)size, MPOL_BIND, mask, 1024ul, MPOL_MF_STRICT | MPOL_MF_MOVE) < 0)
		return err_set(errno, "--numa node=%d: mbind: %s", node, strerror(errno));
	return 0;
}

static int populate(uint8_t *p, uint64_t size, bool huge)
{
	if (madvise(p, size, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return err_set(errno, "--mem prealloc=on: could not fault in %llu bytes: %s%s",
			       (unsigned long long)size, strerror(errno),
			       huge ? " (not enough huge pages?)" : "");
	/* kernels before 5.14: touch every page */
	for (uint64_t off = 0; off < size; off += 4096)
		__atomic_store_n(p + off, p[off], __ATOMIC_RELAXED);
	return 0;
}

int gm_alloc_opts(struct guest_mem *m, uint64_t size, const struct gm_opts *o)
{
	static const struct gm_opts defaults;
	bool use_fd;
	int fd = -1, flags, rc;
	uint8_t *raw, *p;

	if (!o)
		o = &defaults;
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (size < (16ull << 20) || size > (1ull << 40) || size % 4096)
		return err_set(EINVAL, "--mem: %llu bytes: need a multiple of 4 KiB between 16 MiB and 1 TiB",
			       (unsigned long long)size);
	if (o->hugepages && size % GM_ALIGN)
		return err_set(EINVAL, "--mem hugepages=on: %llu bytes is not a multiple of 2 MiB",
			       (unsigned long long)size);
	use_fd = o->hugepages || o->shared;
	if (use_fd && (fd = ram_memfd(size, o->hugepages)) < 0)
		return fd;
	/* Reserve an address range with 2 MiB slack, then place RAM on a 2 MiB
	 * boundary: KVM maps guest RAM with large pages only where the host
	 * address is congruent to the guest address mod 2 MiB. MAP_NORESERVE:
	 * the guest touches what it uses; the rest never costs host memory. */
	raw = mmap(NULL, size + GM_ALIGN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED) {
		rc = err_set(errno, "guest memory: mmap of %llu bytes: %s", (unsigned long long)size, strerror(errno));
		goto fail_fd;
	}
	p = (uint8_t *)(((uintptr_t)raw + GM_ALIGN - 1) & ~(uintptr_t)(GM_ALIGN - 1));
	if (use_fd) {
		/* hugetlb reserves its pages here: ENOMEM means the pool is short */
		flags = MAP_SHARED | MAP_FIXED;
		if (mmap(p, size, PROT_READ | PROT_WRITE, flags, fd, 0) == MAP_FAILED) {
			rc = errno == ENOMEM && o->hugepages
				     ? hugepage_shortage(size)
				     : err_set(errno, "guest memory: mmap of the memfd: %s", strerror(errno));
			munmap(raw, size + GM_ALIGN);
			goto fail_fd;
		}
	} else {
		flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | (o->prealloc ? 0 : MAP_NORESERVE);
		if (mmap(p, size, PROT_READ | PROT_WRITE, flags, -1, 0) == MAP_FAILED) {
			rc = err_set(errno, "guest memory: mmap of %llu bytes: %s", (unsigned long long)size,
				     strerror(errno));
			munmap(raw, size + GM_ALIGN);
			goto fail_fd;
		}
	}
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	if (p + size < raw + size + GM_ALIGN)
		munmap(p + size, (size_t)(raw + size + GM_ALIGN - (p + size)));
	m->host = p;
	m->size = size;
	m->low_size = size < VM_MMIO_HOLE_START ? size : VM_MMIO_HOLE_START;
	m->fd = fd;
	m->hugepages = o->hugepages;
	/* THP for anonymous (and shmem where the host enables it) RAM; huge
	 * pages are huge already */
	if (!o->no_thp && !o->hugepages)
		madvise(p, size, MADV_HUGEPAGE);
	if (o->numa && (rc = bind_node(p, size, o->numa_node)) < 0)
		goto fail_map;
	if (o->prealloc && (rc = populate(p, size, o->hugepages)) < 0)
		goto fail_map;
	return 0;

fail_map:
	gm_free(m);
	return rc;
fail_fd:
	if (fd >= 0)
		close(fd);
	return rc;
}

int gm_alloc(struct guest_mem *m, uint64_t size)
{
	return gm_alloc_opts(m, size, NULL);
}

void gm_free(struct guest_mem *m)
{
	if (m->host)
		munmap(m->host, m->size);
	if (m->host && m->fd >= 0)
		close(m->fd);
	m->host = NULL;
	m->fd = -1;
	m->size = m->low_size = 0;
}
