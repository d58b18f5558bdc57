/* libFuzzer target: the TDVF metadata parser (firmware/tdvf.c) and what is
 * built from a metadata that passes it (plan, TD HOB, MRTD).
 *
 * The input is the tail of a 64 KiB image: the footer GUID table, the TDVF
 * descriptor and sections all live there, so mutations reach every field.
 * Sections that pass are shrunk to at most 64 KiB each before the MRTD so a
 * run stays fast (the parser itself accepts up to 1 GiB). */
#include <stdint.h>
#include <string.h>

#include "firmware/firmware.h"
#include "tdx/tdx.h"
#include "tests/fuzz/fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tdvf_metadata md;
	struct fw_image fw;
	struct launch_plan plan = {0};
	uint8_t mrtd[TDX_MR_SIZE];

	if (fuzz_tail_image(data, &size, &fw))
		return 0;
	if (fw_tdvf_parse(&fw, &md))
		return 0;
	for (unsigned i = 0; i < md.n; i++)
		if (md.s[i].size > (64u << 10)) {
			md.s[i].size = 64u << 10;
			if (md.s[i].raw_size > md.s[i].size)
				md.s[i].raw_size = (uint32_t)md.s[i].size;
		}
	if (!tdx_plan_build(&fw, &md, 64ull << 20, &plan))
		tdx_mrtd(&plan, (enum tdx_mrtd_variant)(size & 1), NULL, mrtd);
	plan_free(&plan);
	return 0;
}
