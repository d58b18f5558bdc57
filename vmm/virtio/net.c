/* net.c - virtio-net (virtio 1.2 §5.1) on a tap interface opened with
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR. One receiveq (0) and one transmitq
 * (1), no control queue. Two data paths:
 *
 * vhost-net (the default where /dev/vhost-net exists; --net ...,vhost=on|off):
 * both queues run in the kernel (vhost.c hands them over at DRIVER_OK and
 * VHOST_NET_SET_BACKEND attaches the tap), so a frame never passes through
 * cvmm. The device then offers what QEMU's vhost=on device offers for
 * speed: mergeable receive buffers, EVENT_IDX, checksum and TSO offloads in
 * both directions (the tap is told with TUNSETOFFLOAD which ones the driver
 * accepted; the kernel validates every header the guest writes).
 *
 * userspace (vhost=off, or no /dev/vhost-net): MAC and STATUS only, no
 * offloads, so every frame carries a plain 12-byte virtio_net_hdr (§5.1.6:
 * with VERSION_1 the header always includes num_buffers). Transmit runs on
 * the notifying vCPU thread; the guest's header is replaced by a zeroed one
 * (nothing was negotiated that could give its fields meaning). Receive runs
 * on the event-loop thread (edge-triggered tap watch plus a wake eventfd the
 * vCPU side writes): one frame at a time is read into a pending buffer and
 * copied into the next receive chain. */
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/virtio/vhost.h"
#include "vmm/virtio/virtio.h"
#include "vmm/virtio/virtio_dev.h"

#define VIRTIO_NET_F_CSUM        0
#define VIRTIO_NET_F_GUEST_CSUM  1
#define VIRTIO_NET_F_MAC         5
#define VIRTIO_NET_F_GUEST_TSO4  7
#define VIRTIO_NET_F_GUEST_TSO6  8
#define VIRTIO_NET_F_GUEST_ECN   9
#define VIRTIO_NET_F_HOST_TSO4   11
#define VIRTIO_NET_F_HOST_TSO6   12
#define VIRTIO_NET_F_HOST_ECN    13
#define VIRTIO_NET_F_MRG_RXBUF   15
#define VIRTIO_NET_F_STATUS      16
/* what the vhost device offers on top of MAC and STATUS when the tap takes
 * every offload (§5.1.3.1: each TSO/ECN bit's dependencies are in the set) */
#define NET_VHOST_OFFLOADS \
	(1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_GUEST_CSUM | 1ull << VIRTIO_NET_F_GUEST_TSO4 | \
	 1ull << VIRTIO_NET_F_GUEST_TSO6 | 1ull << VIRTIO_NET_F_GUEST_ECN | 1ull << VIRTIO_NET_F_HOST_TSO4 | \
	 1ull << VIRTIO_NET_F_HOST_TSO6 | 1ull << VIRTIO_NET_F_HOST_ECN)
#define VIRTIO_NET_S_LINK_UP   1
#define VNET_HDR_LEN           12 /* struct virtio_net_hdr with num_buffers */
#define NET_RXQ 0
#define NET_TXQ 1
#define NET_FRAME_MAX          (VNET_HDR_LEN + 65550)

struct net {
	struct virtio_dev dev;
	struct virtio_vhost vhost;  /* vhost.fd -1: the userspace path */
	bool backend_set;          /* the tap is attached to vhost's rings */
	int tap_fd, wake_fd;
	bool rx_watched;
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	size_t pend_len;       /* a received frame waiting for a receive chain */
	uint64_t rx_dropped, tx_dropped;
	uint8_t *pend;         /* NET_FRAME_MAX bytes, userspace path only */
};

static struct net *net_of(struct virtio_dev *d) { return virtio_container(d, struct net, dev); }

static void wake(struct net *n)
{
	virtio_eventfd_signal(n->wake_fd);
}

/* ---- transmit (vCPU thread, dev->lock held) ---- */
static uint32_t net_tx_frame(void *arg, struct vq_chain *c)
{
	static const uint8_t zero_hdr[VNET_HDR_LEN];
	struct net *n = arg;
	struct iovec iov[VQ_CHAIN_MAX + 1];
	unsigned k = 0;
	uint64_t skip = VNET_HDR_LEN;

	if (c->out_len > VNET_HDR_LEN && c->out_len <= NET_FRAME_MAX && n->tap_fd >= 0) {
		iov[k].iov_base = (void *)zero_hdr;
		iov[k++].iov_len = VNET_HDR_LEN;
		for (unsigned i = 0; i < c->n_out; i++) {
			if (skip >= c->out[i].iov_len) {
				skip -= c->out[i].iov_len;
				continue;
			}
			iov[k].iov_base = (uint8_t *)c->out[i].iov_base + skip;
			iov[k++].iov_len = c->out[i].iov_len - skip;
			skip = 0;
		}
		if (writev(n->tap_fd, iov, (int)k) < 0)
			n->tx_dropped++;
	} else {
		n->tx_dropped++;
	}
	return 0;
}

/* ---- receive (event-loop thread, dev->lock held) ---- */
static bool deliver(struct net *n)
{
	struct virtqueue *vq = &n->dev.vq[NET_RXQ];
	struct vq_chain c;
	bool used = false;

	while (n->pend_len && virtio_dev_running(&n->dev) && vq_pop(vq, &c) == 1) {
		uint32_t written = 0;
		if (c.in_len >= n->pend_len) {
			written = (uint32_t)iov_from_buf(c.in, c.n_in, 0, n->pend, n->pend_len);
		} else {
			n->rx_dropped++; /* chain too small for the frame (no MRG_RXBUF) */
		}
		n->pend_len = 0;
		if (vq_push(vq, &c, written) < 0)
			return false;
		used = true;
		if (written)
			break;
	}
	if (used)
		vq_interrupt(vq);
	return n->pend_len == 0;
}

/* Move frames from the tap into receive chains until the tap is empty
 * (EAGAIN: the edge-triggered watch re-arms), the guest has no receive
 * buffers (its next rx notification wakes us), or the batch is used up
 * (we wake ourselves, so other fds get their turn). dev->lock held. */
static void net_drain(struct net *n)
{
	for (int i = 0; i < 256; i++) {
		if (!virtio_dev_running(&n->dev) || n->tap_fd < 0)
			return; /* DRIVER_OK wakes us */
		if (!n->pend_len) {
			ssize_t k = read(n->tap_fd, n->pend, NET_FRAME_MAX);
			if (k <= 0)
				return;
			if (k <= VNET_HDR_LEN) {
				n->rx_dropped++;
				continue;
			}
			n->pend_len = (size_t)k;
			/* §5.1.6.4: num_buffers is 1 without MRG_RXBUF; tun leaves it unset */
			put_le16(n->pend + 10, 1);
		}
		if (!deliver(n))
			return;
	}
	wake(n);
}

static void net_rx(void *opaque, uint32_t events)
{
	struct net *n = opaque;

	(void)events;
	pthread_mutex_lock(&n->dev.lock);
	net_drain(n);
	pthread_mutex_unlock(&n->dev.lock);
}

static void net_wake(void *opaque, uint32_t events)
{
	struct net *n = opaque;

	(void)events;
	if (!virtio_wake_clear(n->wake_fd))
		return;
	pthread_mutex_lock(&n->dev.lock);
	net_drain(n);
	pthread_mutex_unlock(&n->dev.lock);
}

/* ---- vhost-net (vCPU thread at DRIVER_OK and reset; teardown) ---- */
static int set_backend(struct net *n, int fd)
{
	for (unsigned q = 0; q < 2; q++) {
		struct virtio_vhost_vring_file f = { q, fd };
		int r = virtio_vhost_ioctl(&n->vhost, VIRTIO_VHOST_NET_SET_BACKEND, &f, "VHOST_NET_SET_BACKEND");
		if (r)
			return r;
	}
	return 0;
}

/* The offloads the tap may hand to the guest: those the driver accepted
 * (tun takes TSO only together with checksum offload). */
static unsigned tap_offloads(uint64_t f)
{
	unsigned o = 0;

	if (f & 1ull << VIRTIO_NET_F_GUEST_CSUM) {
		o |= TUN_F_CSUM;
		if (f & 1ull << VIRTIO_NET_F_GUEST_TSO4)
			o |= TUN_F_TSO4;
		if (f & 1ull << VIRTIO_NET_F_GUEST_TSO6)
			o |= TUN_F_TSO6;
		if ((o & (TUN_F_TSO4 | TUN_F_TSO6)) && (f & 1ull << VIRTIO_NET_F_GUEST_ECN))
			o |= TUN_F_TSO_ECN;
	}
	return o;
}

static int net_vhost_start(struct net *n)
{
	int r;

	if (ioctl(n->tap_fd, TUNSETOFFLOAD, (unsigned long)tap_offloads(n->dev.driver_features)) < 0)
		return err_set(errno, "virtio-net: tap %s: TUNSETOFFLOAD: %s", n->ifname, strerror(errno));
	if ((r = virtio_vhost_start(&n->vhost)) || (r = set_backend(n, n->tap_fd)))
		return r;
	n->backend_set = true;
	return 0;
}

static void net_vhost_stop(struct net *n)
{
	/* detach first: vhost refuses new ring state while a backend is set */
	if (n->backend_set)
		set_backend(n, -1);
	n->backend_set = false;
	virtio_vhost_stop(&n->vhost);
}

static void net_notify(struct virtio_dev *d, struct virtqueue *vq)
{
	struct net *n = net_of(d);

	if (n->vhost.fd >= 0)
		virtio_vhost_kick(&n->vhost, vq->index); /* no ioeventfd there (BAR moved) */
	else if (vq->index == NET_TXQ)
		vq_serve(vq, net_tx_frame, n);
	else if (vq->index == NET_RXQ)
		wake(n);
}

static int net_start(struct virtio_dev *d)
{
	struct net *n = net_of(d);

	if (n->vhost.fd >= 0)
		return net_vhost_start(n);
	wake(n);
	return 0;
}

static void net_reset(struct virtio_dev *d)
{
	struct net *n = net_of(d);

	if (n->vhost.fd >= 0)
		net_vhost_stop(n);
	n->pend_len = 0;
}

static void net_destroy(struct virtio_dev *d)
{
	struct net *n = net_of(d);

	if (n->vhost.dev) {
		net_vhost_stop(n);
		virtio_vhost_close(&n->vhost);
	} else if (n->vhost.fd >= 0) {
		close(n->vhost.fd);
	}
	if (n->rx_watched)
		ev_del(vm_evloop(d->vm), n->tap_fd);
	virtio_wake_close(d, n->wake_fd);
	if (n->tap_fd >= 0)
		close(n->tap_fd);
	free(n->pend);
	free(n);
}

static int net_manifest(struct virtio_dev *d, void *fdt)
{
	struct net *n = net_of(d);
	int r = fdt_property_string(fdt, "tap", n->ifname);

	if (!r)
		r = fdt_property(fdt, "mac", n->mac, sizeof(n->mac));
	if (!r && n->vhost.fd >= 0)
		r = fdt_property_string(fdt, "backend", "vhost-net");
	return r;
}

static const struct virtio_dev_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.pci_class = 0x020000, /* ethernet */
	.notify = net_notify,
	.start = net_start,
	.reset = net_reset,
	.destroy = net_destroy,
	.manifest = net_manifest,
};

/* Offer the vhost device's features: mergeable receive buffers if vhost
 * has them, and the offloads if the tap takes them (probed here, cleared
 * until DRIVER_OK). */
static void vhost_features(struct net *n)
{
	const unsigned all = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;

	/* (INDIRECT_DESC and EVENT_IDX: as vhost has them, virtio_vhost_open) */
	n->dev.features |= n->vhost.features & 1ull << VIRTIO_NET_F_MRG_RXBUF;
	if (n->tap_fd >= 0 && ioctl(n->tap_fd, TUNSETOFFLOAD, (unsigned long)all) == 0)
		n->dev.features |= NET_VHOST_OFFLOADS;
	if (n->tap_fd >= 0)
		ioctl(n->tap_fd, TUNSETOFFLOAD, 0ul);
}

/* Takes ownership of tap_fd and vhost_fd (each may be -1: no tap, for
 * tests; no vhost: the userspace path). */
int virtio_net_create_vhost_fd(struct vm *vm, int tap_fd, int vhost_fd, const uint8_t mac[6],
			       const char *tap_name)
{
	struct net *n = calloc(1, sizeof(*n));
	int r;

	if (!n) {
		if (tap_fd >= 0)
			close(tap_fd);
		if (vhost_fd >= 0)
			close(vhost_fd);
		return err_set(ENOMEM, "virtio-net: out of memory");
	}
	virtio_dev_init(&n->dev, vm, vm_mem(vm), &net_ops, 2, VIRTIO_QUEUE_MAX,
			1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS);
	n->tap_fd = tap_fd;
	n->wake_fd = -1;
	n->vhost.fd = vhost_fd;
	snprintf(n->ifname, sizeof(n->ifname), "%s", tap_name ? tap_name : "");
	memcpy(n->mac, mac, 6);
	/* §5.1.4 struct virtio_net_config: mac, status, max_virtqueue_pairs, mtu */
	memcpy(n->dev.cfg, mac, 6);
	put_le16(n->dev.cfg + 6, VIRTIO_NET_S_LINK_UP);
	put_le16(n->dev.cfg + 8, 1);
	n->dev.cfg_len = 10;
	if (vhost_fd >= 0) {
		r = virtio_vhost_open(&n->vhost, &n->dev, vhost_fd, "virtio-net: /dev/vhost-net", NET_RXQ, 2);
		if (r)
			goto fail; /* it closed the backend (fd -1) */
		vhost_features(n);
	} else {
		/* the receive frame buffer (64 KiB): not needed, and not
		 * allocated, when vhost moves the frames */
		n->pend = malloc(NET_FRAME_MAX);
		if (!n->pend) {
			r = err_set(ENOMEM, "virtio-net: out of memory");
			goto fail;
		}
		n->wake_fd = virtio_wake_open(&n->dev, net_wake, n);
		if (n->wake_fd < 0) {
			r = n->wake_fd;
			n->wake_fd = -1;
			goto fail;
		}
		/* edge-triggered: the watch stays for the device's life (no add/del
		 * churn); net_drain reads until EAGAIN or until buffers run out */
		if (tap_fd >= 0) {
			r = ev_add(vm_evloop(vm), tap_fd, EPOLLIN | EPOLLET, net_rx, n);
			if (r < 0) {
				r = err_set(-r, "virtio-net: event loop: %s", strerror(-r));
				goto fail;
			}
			n->rx_watched = true;
		}
	}
	r = virtio_dev_register(&n->dev);
	if (r < 0)
		goto fail;
	return 0;
fail:
	net_destroy(&n->dev);
	return r;
}

int virtio_net_create_fd(struct vm *vm, int tap_fd, const uint8_t mac[6], const char *tap_name)
{
	return virtio_net_create_vhost_fd(vm, tap_fd, -1, mac, tap_name);
}

int virtio_net_create(struct vm *vm, const char *tap_name, const uint8_t mac[6], enum virtio_net_vhost vhost)
{
	struct ifreq ifr;
	int fd, vfd = -1, hdr = VNET_HDR_LEN;

	if (!tap_name || !tap_name[0] || strlen(tap_name) >= IFNAMSIZ)
		return err_set(EINVAL, "virtio-net: tap name '%s' is empty or longer than %d bytes",
			       tap_name ? tap_name : "", IFNAMSIZ - 1);
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return err_set(errno, "virtio-net: /dev/net/tun: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, tap_name, strlen(tap_name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return err_set(e, "virtio-net: tap %s: TUNSETIFF: %s", tap_name, strerror(e));
	}
	/* 12-byte header (VERSION_1), and no offloads until the driver accepts some */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 || ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		int e = errno;
		close(fd);
		return err_set(e, "virtio-net: tap %s: TUNSETVNETHDRSZ/TUNSETOFFLOAD: %s", tap_name, strerror(e));
	}
	if (vhost != VIRTIO_NET_VHOST_OFF) {
		vfd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
		if (vfd < 0 && vhost == VIRTIO_NET_VHOST_ON) {
			int e = errno;
			close(fd);
			return err_set(e, "virtio-net: /dev/vhost-net: %s (vhost=on; is the vhost_net module loaded?)",
				       strerror(e));
		}
	}
	return virtio_net_create_vhost_fd(vm, fd, vfd, mac, ifr.ifr_name);
}
