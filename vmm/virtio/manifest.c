/* manifest.c - the device manifest: every virtio device exposed to a VM as
 * a flattened device tree built with libfdt's sequential writer. The same
 * device set always gives the same bytes (devices sorted by PCI slot, fixed
 * property order, no timestamps or host pointers), so a hash of the blob can
 * be bound into the launch. Layout: docs/virtio.md. */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "vmm/virtio/virtio.h"
#include "vmm/virtio/virtio_dev.h"

#define MANIFEST_VERSION 1

static int cmp_slot(const void *a, const void *b)
{
	const struct virtio_dev *x = *(struct virtio_dev *const *)a, *y = *(struct virtio_dev *const *)b;
	unsigned sx = virtio_pci_dev((struct virtio_dev *)x)->slot;
	unsigned sy = virtio_pci_dev((struct virtio_dev *)y)->slot;

	return sx < sy ? -1 : sx > sy;
}

static int device_node(void *fdt, struct virtio_dev *d)
{
	struct pci_dev *p = virtio_pci_dev(d);
	char name[64];
	int r;

	snprintf(name, sizeof(name), "%s@%x", d->ops->name, p->slot);
	if ((r = fdt_begin_node(fdt, name)) ||
	    (r = fdt_property_string(fdt, "type", d->ops->name)) ||
	    (r = fdt_property_u32(fdt, "virtio-device-id", d->ops->device_id)) ||
	    (r = fdt_property_u32(fdt, "pci-slot", p->slot)) ||
	    (r = fdt_property_u32(fdt, "pci-vendor-id", p->vendor_id)) ||
	    (r = fdt_property_u32(fdt, "pci-device-id", p->device_id)) ||
	    (r = fdt_property_u64(fdt, "features", d->features)) ||
	    (r = fdt_property_u32(fdt, "num-queues", d->num_queues)) ||
	    (r = fdt_property_u32(fdt, "queue-size-max", d->vq[0].max_size)) ||
	    (d->ops->manifest && (r = d->ops->manifest(d, fdt))) ||
	    (r = fdt_end_node(fdt)))
		return r;
	return 0;
}

static int build(void *buf, int size, struct virtio_dev **devs, size_t n)
{
	int r;

	if ((r = fdt_create(buf, size)) || (r = fdt_finish_reservemap(buf)) ||
	    (r = fdt_begin_node(buf, "")) ||
	    (r = fdt_property_string(buf, "compatible", "cvmm,virtio-manifest")) ||
	    (r = fdt_property_u32(buf, "version", MANIFEST_VERSION)) ||
	    (r = fdt_property_string(buf, "transport", "virtio-pci-modern")) ||
	    (r = fdt_begin_node(buf, "devices")))
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = device_node(buf, devs[i])))
			return r;
	if ((r = fdt_end_node(buf)) || (r = fdt_end_node(buf)) || (r = fdt_finish(buf)))
		return r;
	return 0;
}

int virtio_manifest_dtb(struct vm *vm, void **dtb, size_t *len)
{
	struct virtio_dev **devs = NULL, *d;
	size_t n = 0, cap = 0;
	int size = 4096, r;
	void *buf = NULL;

	*dtb = NULL;
	*len = 0;
	for (d = virtio_registry_first(); d; d = d->next) {
		if (d->vm != vm)
			continue;
		if (n == cap) {
			struct virtio_dev **nd = realloc(devs, (cap = cap ? 2 * cap : 8) * sizeof(*devs));
			if (!nd) {
				free(devs);
				return err_set(ENOMEM, "virtio manifest: out of memory");
			}
			devs = nd;
		}
		devs[n++] = d;
	}
	/* qsort is not stable, but slots are unique on one bus */
	if (n)
		qsort(devs, n, sizeof(*devs), cmp_slot);
	for (;;) {
		void *nb = realloc(buf, (size_t)size);
		if (!nb) {
			r = err_set(ENOMEM, "virtio manifest: out of memory");
			break;
		}
		buf = nb;
		memset(buf, 0, (size_t)size);
		r = build(buf, size, devs, n);
		if (r == -FDT_ERR_NOSPACE && size < (1 << 24)) {
			size *= 2;
			continue;
		}
		if (r) {
			r = err_set(EINVAL, "virtio manifest: libfdt: %s", fdt_strerror(r));
			break;
		}
		/* shrink to the used size so the bytes do not depend on the buffer */
		fdt_pack(buf);
		*len = fdt_totalsize(buf);
		*dtb = buf;
		buf = NULL;
		break;
	}
	free(buf);
	free(devs);
	return r;
}

void virtio_destroy_all(struct vm *vm)
{
	struct virtio_dev *d = virtio_registry_first(), *next;

	for (; d; d = next) {
		next = d->next;
		if (d->vm != vm)
			continue;
		virtio_registry_remove(d);
		pthread_mutex_lock(&d->lock);
		if (d->ops->reset)
			d->ops->reset(d);
		pthread_mutex_unlock(&d->lock);
		virtio_pci_free(d);
		d->ops->destroy(d);
	}
}
