/* cpuid_page.c - the SNP CPUID page (SNP Firmware ABI spec, "CPUID Function
 * Table", as Linux's struct snp_cpuid_table): the CPUID values the guest
 * may trust, which the secure processor checks at SNP_LAUNCH_UPDATE (page
 * type CPUID; contents not part of the launch digest). */
#include <errno.h>
#include <string.h>

#include "common/common.h"
#include "sev.h"

#define CPUID_HDR 16u
#define CPUID_ENTRY 48u

int snp_cpuid_page_encode(uint8_t page[SEV_PAGE_SIZE], const struct snp_cpuid_fn *fn, size_t n)
{
	if (n > SNP_CPUID_MAX)
		return err_set(E2BIG, "SNP CPUID page: %zu functions, at most %u", n, SNP_CPUID_MAX);
	memset(page, 0, SEV_PAGE_SIZE);
	put_le32(page, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = page + CPUID_HDR + CPUID_ENTRY * i;

		put_le32(e + 0, fn[i].eax_in);
		put_le32(e + 4, fn[i].ecx_in);
		put_le64(e + 8, fn[i].xcr0_in);
		put_le64(e + 16, fn[i].xss_in);
		put_le32(e + 24, fn[i].eax);
		put_le32(e + 28, fn[i].ebx);
		put_le32(e + 32, fn[i].ecx);
		put_le32(e + 36, fn[i].edx);
	}
	return 0;
}
