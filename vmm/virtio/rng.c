/* rng.c - virtio-rng (virtio 1.2 §5.4): one request queue; every
 * device-writable buffer is filled from getrandom(2). No config space. */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "common/common.h"
#include "vmm/virtio/virtio.h"
#include "vmm/virtio/virtio_dev.h"

static size_t fill_random(void *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom((uint8_t *)p + done, len - done, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		done += (size_t)n;
	}
	return done;
}

static uint32_t rng_serve(void *arg, struct vq_chain *c)
{
	size_t done = 0;

	(void)arg;
	for (unsigned i = 0; i < c->n_in; i++) {
		size_t n = fill_random(c->in[i].iov_base, c->in[i].iov_len);
		done += n;
		if (n < c->in[i].iov_len)
			break;
	}
	return (uint32_t)done;
}

static void rng_notify(struct virtio_dev *d, struct virtqueue *vq)
{
	(void)d;
	vq_serve(vq, rng_serve, NULL);
}

static void rng_destroy(struct virtio_dev *d)
{
	free(d);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.pci_class = 0x00ff00,
	.notify = rng_notify,
	.destroy = rng_destroy,
};

int virtio_rng_create(struct vm *vm)
{
	struct virtio_dev *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return err_set(ENOMEM, "virtio-rng: out of memory");
	virtio_dev_init(d, vm, vm_mem(vm), &rng_ops, 1, VIRTIO_QUEUE_MAX, 0);
	r = virtio_dev_register(d);
	if (r < 0)
		free(d);
	return r;
}
