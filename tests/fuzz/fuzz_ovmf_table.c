/* libFuzzer target: the OVMF footer GUID table walker. */
#include <stdint.h>
#include <string.h>

#include "firmware/firmware.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t img[64 << 10];
	struct fw_image fw;
	const uint8_t *d;
	size_t n;

	/* place the input at the end of a minimal image, where the table lives */
	memset(img, 0, sizeof(img));
	if (size > sizeof(img))
		size = sizeof(img);
	memcpy(img + sizeof(img) - size, data, size);
	if (fw_from_bytes(img, sizeof(img), "fuzz", &fw))
		return 0;
	fw_table_check(&fw);
	fw_table_find(&fw, FW_GUID_SEV_METADATA, &d, &n);
	return 0;
}
