/* fuzz_image.h - shared by the firmware fuzz targets: the input becomes the
 * tail of a zeroed 64 KiB image, where the OVMF footer GUID table and the
 * metadata it points to live, so mutations reach every field. */
#ifndef CVMM_FUZZ_IMAGE_H
#define CVMM_FUZZ_IMAGE_H

#include <stdint.h>
#include <string.h>

#include "firmware/firmware.h"

/* *size is clamped to the image size (what the target goes on to use). */
static inline int fuzz_tail_image(const uint8_t *data, size_t *size, struct fw_image *fw)
{
	static uint8_t img[64 << 10];

	memset(img, 0, sizeof(img));
	if (*size > sizeof(img))
		*size = sizeof(img);
	memcpy(img + sizeof(img) - *size, data, *size);
	return fw_from_bytes(img, sizeof(img), "fuzz", fw);
}

#endif
