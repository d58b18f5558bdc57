/* libFuzzer target: the OVMF footer GUID table walker. */
#include <stdint.h>
#include <string.h>

#include "firmware/firmware.h"
#include "tests/fuzz/fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_image fw;
	const uint8_t *d;
	size_t n;

	if (fuzz_tail_image(data, &size, &fw))
		return 0;
	fw_table_check(&fw);
	fw_table_find(&fw, FW_GUID_SEV_METADATA, &d, &n);
	return 0;
}
