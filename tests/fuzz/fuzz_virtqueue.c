/* libFuzzer target: the split-virtqueue walker (vmm/virtio/core.c) on
 * random descriptor tables and rings. The input is a small header (queue
 * size, features, ring addresses, starting indices) followed by the guest
 * memory image; the walker pops and pushes until the ring is empty or the
 * device is broken. Every buffer it hands out is written and read in full,
 * so ASan catches any iovec that is not inside guest RAM. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/common.h"
#include "vmm/virtio/virtio_dev.h"

#define LOW  (32u << 10)
#define HIGH (32u << 10)

/* vm.h's gm_ptr, as the VM core defines it: RAM [0, low) and [4G, 4G + high) */
void *gm_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa < m->low_size)
		return range_ok(gpa, len, m->low_size) ? m->host + gpa : NULL;
	if (gpa >= 1ull << 32 && range_ok(gpa - (1ull << 32), len, m->size - m->low_size))
		return m->host + m->low_size + (gpa - (1ull << 32));
	return NULL;
}

static const struct virtio_dev_ops fuzz_ops = { .name = "virtio-fuzz", .device_id = 4 };

/* header: [0] log2 queue size, [1] bit0 INDIRECT_DESC, bit1 EVENT_IDX
 * (the walker publishes avail_event, vq_interrupt reads used_event / the
 * avail flags after each push), [2..3] start idx,
 * [4..7] [8..11] [12..15] desc/avail/used gpa (bit 31 selects high RAM) */
#define HDR 16

static uint64_t addr(const uint8_t *p)
{
	uint32_t v = le32(p);

	return v & 0x80000000u ? (1ull << 32) + (v & 0x7fffffffu) : v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ram[LOW + HIGH];
	static struct virtio_dev dev;
	static struct vq_chain c;
	struct guest_mem mem = { .host = ram, .size = sizeof(ram), .low_size = LOW, .fd = -1 };
	struct virtqueue *vq;

	if (size < HDR)
		return 0;
	virtio_log_fd = -1;
	memset(ram, 0, sizeof(ram));
	memcpy(ram, data + HDR, size - HDR < sizeof(ram) ? size - HDR : sizeof(ram));
	virtio_dev_init(&dev, NULL, &mem, &fuzz_ops, 1, VIRTIO_QUEUE_MAX, 0);
	dev.driver_features = 1ull << VIRTIO_F_VERSION_1 | (data[1] & 1 ? 1ull << VIRTIO_F_INDIRECT_DESC : 0) |
			      (data[1] & 2 ? 1ull << VIRTIO_F_EVENT_IDX : 0);
	dev.status = VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;
	vq = &dev.vq[0];
	vq->size = (uint16_t)(1u << (data[0] % 10)); /* 1 .. 512: above max must fail */
	vq->desc_gpa = addr(data + 4);
	vq->avail_gpa = addr(data + 8);
	vq->used_gpa = addr(data + 12);
	if (vq_validate(vq) == 0) {
		vq->enabled = true;
		vq->last_avail = vq->used_idx = le16(data + 2);
		for (unsigned round = 0; round < 2u * vq->size + 2; round++) {
			int r = vq_pop(vq, &c);
			if (r <= 0)
				break;
			volatile uint8_t sink = 0;
			for (unsigned i = 0; i < c.n_out; i++)
				for (size_t k = 0; k < c.out[i].iov_len; k++)
					sink ^= ((const uint8_t *)c.out[i].iov_base)[k];
			for (unsigned i = 0; i < c.n_in; i++)
				memset(c.in[i].iov_base, 0xa5, c.in[i].iov_len);
			(void)sink;
			if (vq_push(vq, &c, (uint32_t)c.in_len) < 0)
				break;
			vq_interrupt(vq); /* no transport: only the EVENT_IDX decision */
		}
	}
	pthread_mutex_destroy(&dev.lock);
	return 0;
}
