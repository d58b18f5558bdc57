/* libFuzzer target: IGVM files (igvm_parse), the launch digests of their
 * directives on SNP (with and without native zero pages), SEV-ES and SEV,
 * and the header listing. */
#include <stdint.h>
#include <string.h>

#include "common/common.h"
#include "sev/igvm.h"
#include "sev/sev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t platforms[] = { IGVM_PLATFORM_SEV_SNP, IGVM_PLATFORM_SEV_ES, IGVM_PLATFORM_SEV,
					      IGVM_PLATFORM_TDX };
	struct igvm_measurement m;
	struct bytebuf out = {0};
	struct igvm f;

	if (igvm_parse(data, size, "fuzz.igvm", &f))
		return 0;
	igvm_show(&f, &out);
	bb_free(&out);
	/* 2 MiB zero pages cost 512 folds each: bound the work per input */
	if (f.n <= 256)
		for (size_t i = 0; i < ARRAY_SIZE(platforms); i++) {
			struct igvm_measure_opts o = { .platform = platforms[i], .native_zero = size & 1 };

			igvm_measure(&f, &o, &m, NULL, NULL);
		}
	igvm_free(&f);
	return 0;
}
