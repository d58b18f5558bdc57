/* counters.c - per-device counters for the API's vm.counters (Cloud
 * Hypervisor's VmCounters: an object of objects of integers), read from the
 * counts vq_push keeps in every device. */
#include <jansson.h>
#include <stdio.h>

#include "vmm/virtio/virtio.h"
#include "vmm/virtio/virtio_dev.h"

static json_int_t load(const uint64_t *p)
{
	return (json_int_t)(__atomic_load_n(p, __ATOMIC_RELAXED) & INT64_MAX);
}

json_t *virtio_counters(struct vm *vm)
{
	json_t *all = json_object();
	char name[64];

	for (struct virtio_dev *d = virtio_registry_first(); all && d; d = d->next) {
		if (d->vm != vm)
			continue;
		snprintf(name, sizeof(name), "%s@%x", d->ops->name, virtio_pci_dev(d)->slot);
		if (json_object_set_new(all, name,
					json_pack("{s:I,s:I,s:I}", "requests", load(&d->stat_requests), "out_bytes",
						  load(&d->stat_out_bytes), "in_bytes", load(&d->stat_in_bytes)))) {
			json_decref(all);
			return NULL;
		}
	}
	return all;
}
