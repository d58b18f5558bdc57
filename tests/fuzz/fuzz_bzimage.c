/* libFuzzer target: the bzImage setup header parser and everything built
 * from it - boot_params (zero page) and loading kernel, initrd and command
 * line into a small guest memory. Any input must give 0 or -errno, never a
 * crash or an access outside guest memory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/vmm_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem m;
	static const uint8_t initrd[4096] = { 1 };
	struct bzimage bz;
	uint8_t zp[4096];
	struct boot_layout bl;

	if (!m.host && gm_alloc(&m, 32ull << 20))
		abort();
	if (vmm_bzimage_parse(data, size, "fuzz", &bz) == 0) {
		struct boot_layout l = { .kernel_gpa = 0x1000000, .cmdline_gpa = BOOT_CMDLINE_GPA };
		vmm_boot_params_build(zp, &bz, &m, &l, size % 300);
	}
	/* the initrd size varies with the input so placement is exercised too */
	vmm_boot_load(&m, data, size, "fuzz", initrd, size % sizeof(initrd), "console=ttyS0", 0, &bl);
	return 0;
}
