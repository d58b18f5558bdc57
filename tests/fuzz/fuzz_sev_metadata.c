/* libFuzzer target: OVMF SEV metadata, SEV-ES reset block and SEV hashes
 * table location (fw_sev_parse), the SNP launch plan built from them, and
 * the SEV hashes table parser (fw_sev_hashes_parse). */
#include <stdint.h>
#include <string.h>

#include "firmware/firmware.h"
#include "sev/sev.h"
#include "tests/fuzz/fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_sev_hashes h = {0};
	struct fw_sev_info info;
	struct launch_plan plan;
	struct fw_image fw;
	uint8_t digest[SNP_DIGEST_LEN];

	/* the table parser reads the input as is */
	fw_sev_hashes_parse(data, size, "fuzz", &h);

	/* the input is the end of an image: footer table, metadata, reset block */
	if (fuzz_tail_image(data, &size, &fw) || fw_sev_parse(&fw, &info))
		return 0;
	for (int mode = 0; mode < 2; mode++) {
		struct sev_launch_cfg cfg = {
			.mode = mode ? SEV_MODE_SNP : SEV_MODE_SEV_ES, .vcpus = 2, .vcpu_sig = 0x800f12,
			.guest_features = 1, .vmm = (enum sev_vmm_type)(size % 3), .fw = &fw, .info = &info,
			.hashes = (size & 4) ? &h : NULL,
		};

		if (sev_plan_build(&cfg, &plan))
			continue;
		if (mode)
			snp_digest_fold(&plan, 0, NULL, digest, NULL, NULL);
		else
			sev_digest_fold(&plan, digest, NULL, NULL);
		plan_free(&plan);
	}
	return 0;
}
