/* Unit tests: cvmm's own vhost ioctl structures and numbers
 * (vmm/virtio/vhost.h) and the virtio layouts used by vmm/virtio/ checked
 * against a copy of the Linux 7.2.13 uAPI headers in tests/fixtures/uapi/
 * (provenance in its README.md). The copies are included first so their
 * include guards keep the build host's own versions out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* 7.2 headers use __counted_by from a newer <linux/stddef.h> than the
 * build host may have; it only annotates flexible arrays. */
#ifndef __counted_by
#define __counted_by(m)
#endif
#include "tests/fixtures/uapi/linux/virtio_ids.h"
#include "tests/fixtures/uapi/linux/virtio_config.h"
#include "tests/fixtures/uapi/linux/virtio_ring.h"
#include "tests/fixtures/uapi/linux/vhost_types.h"
#include "tests/fixtures/uapi/linux/vhost.h"
#include "tests/fixtures/uapi/linux/virtio_pci.h"
#include "tests/fixtures/uapi/linux/virtio_blk.h"
#include "tests/fixtures/uapi/linux/virtio_console.h"
#include "tests/fixtures/uapi/linux/virtio_vsock.h"
#include "tests/fixtures/uapi/linux/virtio_net.h"

#include "vmm/virtio/vhost.h"
#include "vmm/virtio/virtio_dev.h"

#define SAME_LAYOUT(ours, theirs, field) \
	assert_int_equal(offsetof(ours, field), offsetof(theirs, field))

static void test_vhost_structs(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct virtio_vhost_vring_state), sizeof(struct vhost_vring_state));
	SAME_LAYOUT(struct virtio_vhost_vring_state, struct vhost_vring_state, num);
	assert_int_equal(sizeof(struct virtio_vhost_vring_file), sizeof(struct vhost_vring_file));
	SAME_LAYOUT(struct virtio_vhost_vring_file, struct vhost_vring_file, fd);
	assert_int_equal(sizeof(struct virtio_vhost_vring_addr), sizeof(struct vhost_vring_addr));
	SAME_LAYOUT(struct virtio_vhost_vring_addr, struct vhost_vring_addr, flags);
	SAME_LAYOUT(struct virtio_vhost_vring_addr, struct vhost_vring_addr, desc_user_addr);
	SAME_LAYOUT(struct virtio_vhost_vring_addr, struct vhost_vring_addr, used_user_addr);
	SAME_LAYOUT(struct virtio_vhost_vring_addr, struct vhost_vring_addr, avail_user_addr);
	SAME_LAYOUT(struct virtio_vhost_vring_addr, struct vhost_vring_addr, log_guest_addr);
	assert_int_equal(sizeof(struct virtio_vhost_memory_region), sizeof(struct vhost_memory_region));
	SAME_LAYOUT(struct virtio_vhost_memory_region, struct vhost_memory_region, memory_size);
	SAME_LAYOUT(struct virtio_vhost_memory_region, struct vhost_memory_region, userspace_addr);
	SAME_LAYOUT(struct virtio_vhost_memory_region, struct vhost_memory_region, flags_padding);
	assert_int_equal(sizeof(struct virtio_vhost_memory), sizeof(struct vhost_memory));
	SAME_LAYOUT(struct virtio_vhost_memory, struct vhost_memory, regions);
}

static void test_vhost_ioctls(void **state)
{
	(void)state;
	assert_int_equal(VIRTIO_VHOST_GET_FEATURES, VHOST_GET_FEATURES);
	assert_int_equal(VIRTIO_VHOST_SET_FEATURES, VHOST_SET_FEATURES);
	assert_int_equal(VIRTIO_VHOST_SET_OWNER, VHOST_SET_OWNER);
	assert_int_equal(VIRTIO_VHOST_RESET_OWNER, VHOST_RESET_OWNER);
	assert_int_equal(VIRTIO_VHOST_SET_MEM_TABLE, VHOST_SET_MEM_TABLE);
	assert_int_equal(VIRTIO_VHOST_SET_VRING_NUM, VHOST_SET_VRING_NUM);
	assert_int_equal(VIRTIO_VHOST_SET_VRING_ADDR, VHOST_SET_VRING_ADDR);
	assert_int_equal(VIRTIO_VHOST_SET_VRING_BASE, VHOST_SET_VRING_BASE);
	assert_int_equal(VIRTIO_VHOST_GET_VRING_BASE, VHOST_GET_VRING_BASE);
	assert_int_equal(VIRTIO_VHOST_SET_VRING_KICK, VHOST_SET_VRING_KICK);
	assert_int_equal(VIRTIO_VHOST_SET_VRING_CALL, VHOST_SET_VRING_CALL);
	assert_int_equal(VIRTIO_VHOST_VSOCK_SET_GUEST_CID, VHOST_VSOCK_SET_GUEST_CID);
	assert_int_equal(VIRTIO_VHOST_VSOCK_SET_RUNNING, VHOST_VSOCK_SET_RUNNING);
	assert_int_equal(VIRTIO_VHOST_NET_SET_BACKEND, VHOST_NET_SET_BACKEND);
}

static void test_virtio_constants(void **state)
{
	(void)state;
	assert_int_equal(VIRTIO_F_VERSION_1, 32);
	assert_int_equal(VIRTIO_F_ACCESS_PLATFORM, 33);
	assert_int_equal(VIRTIO_F_INDIRECT_DESC, VIRTIO_RING_F_INDIRECT_DESC);
	assert_int_equal(VIRTIO_F_EVENT_IDX, VIRTIO_RING_F_EVENT_IDX);
	assert_int_equal(VIRTIO_STATUS_ACKNOWLEDGE, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	assert_int_equal(VIRTIO_STATUS_DRIVER, VIRTIO_CONFIG_S_DRIVER);
	assert_int_equal(VIRTIO_STATUS_DRIVER_OK, VIRTIO_CONFIG_S_DRIVER_OK);
	assert_int_equal(VIRTIO_STATUS_FEATURES_OK, VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(VIRTIO_STATUS_DEVICE_NEEDS_RESET, VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(VIRTIO_STATUS_FAILED, VIRTIO_CONFIG_S_FAILED);
	assert_int_equal(VIRTQ_DESC_F_NEXT, VRING_DESC_F_NEXT);
	assert_int_equal(VIRTQ_DESC_F_WRITE, VRING_DESC_F_WRITE);
	assert_int_equal(VIRTQ_DESC_F_INDIRECT, VRING_DESC_F_INDIRECT);
	assert_int_equal(sizeof(struct vring_desc), 16);
	assert_int_equal(VIRTIO_ID_NET, 1);
	assert_int_equal(VIRTIO_ID_BLOCK, 2);
	assert_int_equal(VIRTIO_ID_CONSOLE, 3);
	assert_int_equal(VIRTIO_ID_RNG, 4);
	assert_int_equal(VIRTIO_ID_VSOCK, 19);
	assert_int_equal(VIRTIO_MSI_NO_VECTOR, 0xffff);
}

/* The offsets pci.c and the devices write by number (virtio 1.2 §4.1.4.3,
 * §5.x.4) against the kernel's structure definitions. */
static void test_virtio_layouts(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct virtio_pci_common_cfg), VPCI_COMMON_LEN);
	assert_int_equal(offsetof(struct virtio_pci_common_cfg, msix_config), 16);
	assert_int_equal(offsetof(struct virtio_pci_common_cfg, num_queues), 18);
	assert_int_equal(offsetof(struct virtio_pci_common_cfg, device_status), 20);
	assert_int_equal(offsetof(struct virtio_pci_common_cfg, queue_select), 22);
	assert_int_equal(offsetof(struct virtio_pci_common_cfg, queue_size), 24);
	assert_int_equal(offsetof(struct virtio_pci_common_cfg, queue_msix_vector), 26);
	assert_int_equal(offsetof(struct virtio_pci_common_cfg, queue_enable), 28);
	assert_int_equal(offsetof(struct virtio_pci_common_cfg, queue_notify_off), 30);
	assert_int_equal(offsetof(struct virtio_pci_common_cfg, queue_desc_lo), 32);
	assert_int_equal(offsetof(struct virtio_pci_common_cfg, queue_avail_lo), 40);
	assert_int_equal(offsetof(struct virtio_pci_common_cfg, queue_used_lo), 48);
	assert_int_equal(sizeof(struct virtio_pci_cap), 16);
	assert_int_equal(sizeof(struct virtio_pci_notify_cap), 20);
	assert_int_equal(sizeof(struct virtio_pci_cfg_cap), 20);
	assert_int_equal(VIRTIO_PCI_CAP_COMMON_CFG, 1);
	assert_int_equal(VIRTIO_PCI_CAP_NOTIFY_CFG, 2);
	assert_int_equal(VIRTIO_PCI_CAP_ISR_CFG, 3);
	assert_int_equal(VIRTIO_PCI_CAP_DEVICE_CFG, 4);
	assert_int_equal(VIRTIO_PCI_CAP_PCI_CFG, 5);

	assert_int_equal(offsetof(struct virtio_blk_config, seg_max), 12);
	assert_int_equal(offsetof(struct virtio_blk_config, blk_size), 20);
	assert_int_equal(offsetof(struct virtio_blk_config, num_queues), 34);
	assert_int_equal(offsetof(struct virtio_blk_config, max_discard_sectors), 36);
	assert_int_equal(offsetof(struct virtio_blk_config, max_discard_seg), 40);
	assert_int_equal(offsetof(struct virtio_blk_config, discard_sector_alignment), 44);
	assert_int_equal(offsetof(struct virtio_blk_config, max_write_zeroes_sectors), 48);
	assert_int_equal(offsetof(struct virtio_blk_config, max_write_zeroes_seg), 52);
	assert_int_equal(offsetof(struct virtio_blk_config, write_zeroes_may_unmap), 56);
	assert_int_equal(VIRTIO_BLK_F_SEG_MAX, 2);
	assert_int_equal(VIRTIO_BLK_F_RO, 5);
	assert_int_equal(VIRTIO_BLK_F_BLK_SIZE, 6);
	assert_int_equal(VIRTIO_BLK_F_FLUSH, 9);
	assert_int_equal(VIRTIO_BLK_F_DISCARD, 13);
	assert_int_equal(VIRTIO_BLK_F_WRITE_ZEROES, 14);
	assert_int_equal(VIRTIO_BLK_T_GET_ID, 8);
	assert_int_equal(VIRTIO_BLK_T_DISCARD, 11);
	assert_int_equal(VIRTIO_BLK_T_WRITE_ZEROES, 13);
	assert_int_equal(VIRTIO_BLK_ID_BYTES, 20);

	assert_int_equal(offsetof(struct virtio_console_config, rows), 2);
	assert_int_equal(offsetof(struct virtio_console_config, max_nr_ports), 4);
	assert_int_equal(offsetof(struct virtio_console_config, emerg_wr), 8);
	assert_int_equal(VIRTIO_CONSOLE_F_SIZE, 0);
	assert_int_equal(VIRTIO_CONSOLE_F_EMERG_WRITE, 2);

	assert_int_equal(offsetof(struct virtio_net_config, status), 6);
	assert_int_equal(offsetof(struct virtio_net_config, max_virtqueue_pairs), 8);
	assert_int_equal(VIRTIO_NET_F_MAC, 5);
	assert_int_equal(VIRTIO_NET_F_STATUS, 16);
	assert_int_equal(sizeof(struct virtio_net_hdr_mrg_rxbuf), 12);

	assert_int_equal(offsetof(struct virtio_vsock_config, guest_cid), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhost_structs),
		cmocka_unit_test(test_vhost_ioctls),
		cmocka_unit_test(test_virtio_constants),
		cmocka_unit_test(test_virtio_layouts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
