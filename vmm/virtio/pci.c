/* pci.c - the virtio-pci modern transport (virtio 1.2 §4.1), non-transitional
 * only: vendor 0x1af4, device 0x1040 + id, revision 1. BAR 0 holds the four
 * virtio structures found through vendor capabilities (§4.1.4); BAR 1 holds
 * the MSI-X table and PBA. Without MSI-X the device falls back to INTx and
 * the ISR status byte (§4.1.4.5). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/kvm_uapi.h"
#include "vmm/virtio/virtio_dev.h"

/* §4.1.4 capability types */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5
#define PCI_CAP_ID_VNDR           0x09
#define PCI_CAP_ID_MSIX           0x11
#define MSIX_CTRL_ENABLE          0x8000
#define MSIX_CTRL_MASKALL         0x4000

struct vpci {
	struct pci_dev pci;
	struct virtio_dev *dev;
	uint32_t device_feature_select, driver_feature_select;
	uint16_t queue_select;
	int msix_cap, pcicfg_cap;
	uint8_t msix_table[VPCI_MSIX_VECTORS][16]; /* addr lo, addr hi, data, control */
	uint64_t msix_pba;
	/* per vector: an eventfd bound to a GSI by KVM_IRQFD, and the MSI
	 * route last given to KVM for it (gsi < 0: KVM_SIGNAL_MSI instead) */
	struct { int fd, gsi; bool routed; uint64_t addr; uint32_t data; } irqfd[VPCI_MSIX_VECTORS];
	/* per queue: an eventfd KVM signals on a notify write (ioeventfd),
	 * watched by the event loop while the device runs (-1: the device
	 * has its own, vq->kick_fd) */
	int notify_fd[VIRTIO_MAX_QUEUES];
	bool notify_on[VIRTIO_MAX_QUEUES];
	uint64_t notify_addr[VIRTIO_MAX_QUEUES]; /* where each is assigned */
};

static struct vpci *vpci_of(struct pci_dev *p) { return p->opaque; }

/* ---------------- interrupts ---------------- */
static bool msix_enabled(const struct vpci *vp, bool *masked)
{
	uint16_t ctrl;

	if (vp->msix_cap <= 0)
		return false;
	ctrl = le16(vp->pci.cfg + vp->msix_cap + 2);
	*masked = ctrl & MSIX_CTRL_MASKALL;
	return ctrl & MSIX_CTRL_ENABLE;
}

/* An unmasked vector fires: through its irqfd, its route first brought up
 * to date with the table (once per change of address/data), or with
 * KVM_SIGNAL_MSI where there is no irqfd route. */
static void msix_fire(struct vpci *vp, unsigned vec)
{
	const uint8_t *e = vp->msix_table[vec];
	uint64_t addr = le64(e);
	uint32_t data = le32(e + 8);
	__typeof__(vp->irqfd[0]) *f = &vp->irqfd[vec];

	if (f->gsi >= 0 && (!f->routed || f->addr != addr || f->data != data)) {
		f->routed = vm_irqfd_set_msi(vp->pci.vm, (unsigned)f->gsi, addr, data) == 0;
		f->addr = addr;
		f->data = data;
		if (!f->routed)
			f->gsi = -1; /* KVM will not route it: stay with KVM_SIGNAL_MSI */
	}
	if (f->gsi >= 0 && f->routed) {
		virtio_eventfd_signal(f->fd);
		return;
	}
	vm_signal_msi(vp->pci.vm, addr, data);
}

/* ---------------- notifications (ioeventfd) ---------------- */
static void notify_cb(void *opaque, uint32_t events)
{
	struct virtqueue *vq = opaque;
	struct virtio_dev *d = vq->dev;
	struct vpci *vp = d->transport_priv;

	(void)events;
	if (!vp || !virtio_wake_clear(vp->notify_fd[vq->index]))
		return;
	pthread_mutex_lock(&d->lock);
	if (virtio_dev_running(d) && vq->enabled && d->ops->notify)
		d->ops->notify(d, vq);
	pthread_mutex_unlock(&d->lock);
}

/* Every enabled queue's notify address as an ioeventfd on the event loop
 * (on at DRIVER_OK, off at reset). Where KVM refuses (tests, no KVM), the
 * MMIO notify path still serves; a queue whose device has its own
 * eventfd (vq->kick_fd: vhost, the blk I/O threads) is the device's. */
static void notify_fds(struct vpci *vp, bool on)
{
	struct virtio_dev *d = vp->dev;
	uint32_t bar = vp->pci.bar_addr[VPCI_BAR_VIRTIO];

	for (unsigned q = 0; q < d->num_queues; q++) {
		struct kvm_ioeventfd io = { .len = 2, .fd = vp->notify_fd[q] };
		struct virtqueue *vq = &d->vq[q];

		if (vp->notify_fd[q] < 0 || on == vp->notify_on[q] || (on && (!vq->enabled || !bar)))
			continue;
		io.addr = on ? bar + VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT * q : vp->notify_addr[q];
		if (!on) {
			io.flags = KVM_IOEVENTFD_FLAG_DEASSIGN;
			ioctl(vm_fd(d->vm), KVM_IOEVENTFD, &io);
			ev_del(vm_evloop(d->vm), vp->notify_fd[q]);
			virtio_wake_clear(vp->notify_fd[q]);
			vp->notify_on[q] = false;
			continue;
		}
		if (vm_fd(d->vm) < 0 || ioctl(vm_fd(d->vm), KVM_IOEVENTFD, &io) < 0)
			continue;
		if (ev_add(vm_evloop(d->vm), vp->notify_fd[q], EPOLLIN, notify_cb, vq) < 0) {
			io.flags = KVM_IOEVENTFD_FLAG_DEASSIGN;
			ioctl(vm_fd(d->vm), KVM_IOEVENTFD, &io);
			continue;
		}
		vp->notify_addr[q] = io.addr;
		vp->notify_on[q] = true;
	}
}

static void vpci_signal(struct vpci *vp, uint16_t vector, uint8_t isr_bit)
{
	bool masked;

	if (msix_enabled(vp, &masked)) {
		/* §4.1.5.1.2: no interrupt when the driver mapped no vector */
		if (vector == VIRTIO_MSI_NO_VECTOR || vector >= VPCI_MSIX_VECTORS)
			return;
		if (masked || (vp->msix_table[vector][12] & 1)) {
			vp->msix_pba |= 1ull << vector; /* PCI spec: pending until unmasked */
			return;
		}
		msix_fire(vp, vector);
		return;
	}
	vp->dev->isr |= isr_bit;
	pci_set_intx(&vp->pci, true);
}

static void msix_deliver_pending(struct vpci *vp)
{
	bool masked;

	if (!msix_enabled(vp, &masked) || masked)
		return;
	for (unsigned v = 0; v < VPCI_MSIX_VECTORS; v++)
		if ((vp->msix_pba & 1ull << v) && !(vp->msix_table[v][12] & 1)) {
			vp->msix_pba &= ~(1ull << v);
			msix_fire(vp, v);
		}
}

static void vpci_queue_irq(struct virtio_dev *d, struct virtqueue *vq)
{
	vpci_signal(d->transport_priv, vq->msix_vector, 1);
}

static void vpci_config_irq(struct virtio_dev *d)
{
	vpci_signal(d->transport_priv, d->config_msix_vector, 2);
}

static const struct virtio_transport_ops vpci_transport = {
	.queue_irq = vpci_queue_irq,
	.config_irq = vpci_config_irq,
};

/* ---------------- common configuration (§4.1.4.3) ---------------- */
struct field {
	uint8_t off, size;
};
static const struct field common_fields[] = {
	{ 0, 4 }, { 4, 4 }, { 8, 4 }, { 12, 4 }, { 16, 2 }, { 18, 2 }, { 20, 1 }, { 21, 1 },
	{ 22, 2 }, { 24, 2 }, { 26, 2 }, { 28, 2 }, { 30, 2 },
	{ 32, 4 }, { 36, 4 }, { 40, 4 }, { 44, 4 }, { 48, 4 }, { 52, 4 },
};

static struct virtqueue *selected_vq(struct vpci *vp)
{
	struct virtio_dev *d = vp->dev;

	return vp->queue_select < d->num_queues ? &d->vq[vp->queue_select] : NULL;
}

static void common_image(struct vpci *vp, uint8_t img[VPCI_COMMON_LEN])
{
	struct virtio_dev *d = vp->dev;
	struct virtqueue *vq = selected_vq(vp);

	memset(img, 0, VPCI_COMMON_LEN);
	put_le32(img + 0, vp->device_feature_select);
	if (vp->device_feature_select < 2)
		put_le32(img + 4, (uint32_t)(d->features >> (32 * vp->device_feature_select)));
	put_le32(img + 8, vp->driver_feature_select);
	if (vp->driver_feature_select < 2)
		put_le32(img + 12, (uint32_t)(d->driver_features >> (32 * vp->driver_feature_select)));
	put_le16(img + 16, d->config_msix_vector);
	put_le16(img + 18, (uint16_t)d->num_queues);
	img[20] = d->status;
	img[21] = d->config_generation;
	put_le16(img + 22, vp->queue_select);
	if (vq) {
		put_le16(img + 24, vq->size);
		put_le16(img + 26, vq->msix_vector);
		put_le16(img + 28, vq->enabled);
		put_le16(img + 30, (uint16_t)vq->index); /* queue_notify_off */
		put_le64(img + 32, vq->desc_gpa);
		put_le64(img + 40, vq->avail_gpa);
		put_le64(img + 48, vq->used_gpa);
	}
}

static uint16_t valid_vector(uint16_t v)
{
	/* §4.1.5.1.2: an unmappable vector reads back as NO_VECTOR */
	return v < VPCI_MSIX_VECTORS ? v : VIRTIO_MSI_NO_VECTOR;
}

static void set_u64_half(uint64_t *v, unsigned half, uint32_t val)
{
	*v = half ? (*v & 0xffffffffull) | (uint64_t)val << 32 : (*v & ~0xffffffffull) | val;
}

static void write_status(struct vpci *vp, uint8_t val)
{
	struct virtio_dev *d = vp->dev;
	uint8_t old = d->status, st;

	if (val == 0) { /* §4.1.4.3.1: writing 0 resets the device */
		notify_fds(vp, false);
		virtio_dev_reset(d);
		vp->msix_pba = 0;
		pci_set_intx(&vp->pci, false);
		return;
	}
	/* §2.1.2: the driver never clears bits; NEEDS_RESET is the device's */
	st = (uint8_t)((val | old) & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	st |= old & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	if ((st & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    !virtio_features_ok(d))
		st &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK; /* §3.1.1 step 6: re-read says no */
	if ((st & VIRTIO_STATUS_DRIVER_OK) && !(st & VIRTIO_STATUS_FEATURES_OK))
		st &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
	d->status = st;
	if ((st & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) && !d->broken) {
		if (d->ops->start && d->ops->start(d) < 0)
			virtio_dev_set_broken(d, err_msg());
		else
			notify_fds(vp, true);
	}
}

static void common_apply(struct vpci *vp, unsigned off, const uint8_t *img)
{
	struct virtio_dev *d = vp->dev;
	struct virtqueue *vq = selected_vq(vp);
	bool qcfg = vq && !vq->enabled; /* queue fields are fixed once enabled */

	switch (off) {
	case 0: vp->device_feature_select = le32(img); break;
	case 8: vp->driver_feature_select = le32(img + 8); break;
	case 12:
		/* only before FEATURES_OK (§3.1.1) */
		if (vp->driver_feature_select < 2 && !(d->status & VIRTIO_STATUS_FEATURES_OK)) {
			unsigned sh = 32 * vp->driver_feature_select;
			d->driver_features = (d->driver_features & ~(0xffffffffull << sh)) |
					     (uint64_t)le32(img + 12) << sh;
		}
		break;
	case 16: d->config_msix_vector = valid_vector(le16(img + 16)); break;
	case 20: write_status(vp, img[20]); break;
	case 22: vp->queue_select = le16(img + 22); break;
	case 24: if (qcfg) vq->size = le16(img + 24); break;
	case 26: if (vq) vq->msix_vector = valid_vector(le16(img + 26)); break;
	case 28:
		/* §4.1.4.3.2: the driver only ever writes 1; validate the rings now */
		if (qcfg && le16(img + 28) == 1 && !d->broken && vq_validate(vq) == 0)
			vq->enabled = true;
		break;
	case 32: case 36: if (qcfg) set_u64_half(&vq->desc_gpa, off == 36, le32(img + off)); break;
	case 40: case 44: if (qcfg) set_u64_half(&vq->avail_gpa, off == 44, le32(img + off)); break;
	case 48: case 52: if (qcfg) set_u64_half(&vq->used_gpa, off == 52, le32(img + off)); break;
	default: break; /* read-only */
	}
}

static void common_write(struct vpci *vp, unsigned off, const uint8_t *data, unsigned len)
{
	uint8_t img[VPCI_COMMON_LEN];

	common_image(vp, img);
	memcpy(img + off, data, len);
	for (unsigned i = 0; i < ARRAY_SIZE(common_fields); i++) {
		const struct field *f = &common_fields[i];
		if (f->off < off + len && off < (unsigned)f->off + f->size)
			common_apply(vp, f->off, img);
	}
}

/* ---------------- BAR access ---------------- */
static void virtio_bar_read(struct vpci *vp, uint64_t off, uint8_t *data, unsigned len)
{
	struct virtio_dev *d = vp->dev;

	if (range_ok(off, len, VPCI_COMMON_LEN)) { /* VPCI_COMMON_OFF is 0 */
		uint8_t img[VPCI_COMMON_LEN];
		common_image(vp, img);
		memcpy(data, img + off, len);
	} else if (off >= VPCI_ISR_OFF && off < VPCI_ISR_OFF + VPCI_ISR_LEN) {
		/* §4.1.4.5: reading ISR returns and clears it, deasserting INTx */
		data[0] = off == VPCI_ISR_OFF ? d->isr : 0;
		if (off == VPCI_ISR_OFF) {
			d->isr = 0;
			pci_set_intx(&vp->pci, false);
		}
	} else if (off >= VPCI_DEVICE_OFF && range_ok(off - VPCI_DEVICE_OFF, len, d->cfg_len)) {
		memcpy(data, d->cfg + (off - VPCI_DEVICE_OFF), len);
	}
}

static void virtio_bar_write(struct vpci *vp, uint64_t off, const uint8_t *data, unsigned len)
{
	struct virtio_dev *d = vp->dev;

	if (off < VPCI_COMMON_LEN && range_ok(off, len, VPCI_COMMON_LEN)) {
		common_write(vp, (unsigned)off, data, len);
	} else if (off >= VPCI_DEVICE_OFF && range_ok(off - VPCI_DEVICE_OFF, len, d->cfg_len)) {
		unsigned o = (unsigned)(off - VPCI_DEVICE_OFF), changed = 0;
		for (unsigned i = 0; i < len; i++)
			if (d->cfg_wmask[o + i]) {
				d->cfg[o + i] = data[i];
				changed++;
			}
		if (changed && d->ops->cfg_write)
			d->ops->cfg_write(d, o, len);
	} else if (off >= VPCI_NOTIFY_OFF &&
		   off < VPCI_NOTIFY_OFF + (uint64_t)VPCI_NOTIFY_MULT * d->num_queues) {
		/* §4.1.4.4: the address selects the queue (no NOTIFICATION_DATA) */
		struct virtqueue *vq = &d->vq[(off - VPCI_NOTIFY_OFF) / VPCI_NOTIFY_MULT];
		if (virtio_dev_running(d) && vq->enabled && d->ops->notify)
			d->ops->notify(d, vq);
	}
}

static void msix_bar_read(struct vpci *vp, uint64_t off, uint8_t *data, unsigned len)
{
	if (range_ok(off, len, sizeof(vp->msix_table))) /* table at offset 0 */
		memcpy(data, (uint8_t *)vp->msix_table + off, len);
	else if (off >= VPCI_MSIX_PBA_OFF && range_ok(off - VPCI_MSIX_PBA_OFF, len, 8)) {
		uint8_t pba[8];
		put_le64(pba, vp->msix_pba);
		memcpy(data, pba + (off - VPCI_MSIX_PBA_OFF), len);
	}
}

static void msix_bar_write(struct vpci *vp, uint64_t off, const uint8_t *data, unsigned len)
{
	if (!range_ok(off, len, sizeof(vp->msix_table))) /* table at offset 0 */
		return; /* PBA is read-only */
	memcpy((uint8_t *)vp->msix_table + off, data, len);
	msix_deliver_pending(vp); /* an entry may have been unmasked */
}

static void vpci_bar_read(struct pci_dev *p, int bar, uint64_t off, uint8_t *data, unsigned len)
{
	struct vpci *vp = vpci_of(p);

	memset(data, 0, len);
	if (len > 8)
		return;
	pthread_mutex_lock(&vp->dev->lock);
	if (bar == VPCI_BAR_VIRTIO && off < VPCI_BAR_VIRTIO_SIZE)
		virtio_bar_read(vp, off, data, len);
	else if (bar == VPCI_BAR_MSIX && off < VPCI_BAR_MSIX_SIZE)
		msix_bar_read(vp, off, data, len);
	pthread_mutex_unlock(&vp->dev->lock);
}

static void vpci_bar_write(struct pci_dev *p, int bar, uint64_t off, const uint8_t *data, unsigned len)
{
	struct vpci *vp = vpci_of(p);

	if (len > 8)
		return;
	pthread_mutex_lock(&vp->dev->lock);
	if (bar == VPCI_BAR_VIRTIO && off < VPCI_BAR_VIRTIO_SIZE)
		virtio_bar_write(vp, off, data, len);
	else if (bar == VPCI_BAR_MSIX && off < VPCI_BAR_MSIX_SIZE)
		msix_bar_write(vp, off, data, len);
	pthread_mutex_unlock(&vp->dev->lock);
}

/* §4.1.4.9: the PCI configuration access capability is a window into BAR 0.
 * A write of bar/offset/length latches a read into pci_cfg_data; a write of
 * pci_cfg_data performs the write. */
static void vpci_cfg_written(struct pci_dev *p, unsigned off, unsigned len)
{
	struct vpci *vp = vpci_of(p);
	unsigned c = (unsigned)vp->pcicfg_cap;
	uint8_t *cap = p->cfg + c;
	bool masked;

	if (vp->msix_cap > 0 && off < (unsigned)vp->msix_cap + 4 && off + len > (unsigned)vp->msix_cap + 2) {
		pthread_mutex_lock(&vp->dev->lock);
		if (msix_enabled(vp, &masked)) {
			pci_set_intx(p, false); /* INTx is not used with MSI-X on */
			if (!masked)
				msix_deliver_pending(vp);
		}
		pthread_mutex_unlock(&vp->dev->lock);
	}
	if (vp->pcicfg_cap <= 0 || off >= c + 20 || off + len <= c + 4)
		return;
	uint32_t boff = le32(cap + 8), blen = le32(cap + 12);
	if (cap[4] != VPCI_BAR_VIRTIO || (blen != 1 && blen != 2 && blen != 4) || boff % blen ||
	    boff >= VPCI_BAR_VIRTIO_SIZE)
		return;
	if (off + len > c + 16) /* pci_cfg_data written */
		vpci_bar_write(p, VPCI_BAR_VIRTIO, boff, cap + 16, blen);
	else
		vpci_bar_read(p, VPCI_BAR_VIRTIO, boff, cap + 16, blen);
}

/* ---------------- registration ---------------- */
static int add_virtio_cap(struct pci_dev *p, uint8_t type, uint32_t off, uint32_t len,
			  const uint8_t *extra, unsigned extra_len, const uint8_t *wmask)
{
	uint8_t cap[20] = { PCI_CAP_ID_VNDR, 0, (uint8_t)(16 + extra_len), type, VPCI_BAR_VIRTIO };

	put_le32(cap + 8, off);
	put_le32(cap + 12, len);
	if (extra_len)
		memcpy(cap + 16, extra, extra_len);
	return pci_add_cap(p, cap, wmask, 16 + extra_len);
}

struct pci_dev *virtio_pci_dev(struct virtio_dev *d)
{
	struct vpci *vp = d->transport_priv;

	return vp ? &vp->pci : NULL;
}

/* The eventfds of the transport: a GSI-bound irqfd per MSI-X vector and a
 * notify eventfd per queue, made here at set-up (before confinement; the
 * vCPU threads that later switch them on may not create fds). Any that
 * cannot be made leave that vector on KVM_SIGNAL_MSI, that queue on MMIO. */
static void vpci_fds_open(struct vpci *vp)
{
	struct virtio_dev *d = vp->dev;

	for (unsigned v = 0; v < VPCI_MSIX_VECTORS; v++) {
		vp->irqfd[v].fd = vp->irqfd[v].gsi = -1;
		if (vm_fd(d->vm) < 0)
			continue;
		vp->irqfd[v].fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (vp->irqfd[v].fd >= 0 && (vp->irqfd[v].gsi = vm_irqfd_route(d->vm, vp->irqfd[v].fd)) < 0) {
			close(vp->irqfd[v].fd);
			vp->irqfd[v].fd = vp->irqfd[v].gsi = -1;
		}
	}
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		vp->notify_fd[q] = q < d->num_queues && d->vq[q].kick_fd < 0 && vm_fd(d->vm) >= 0
					   ? eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)
					   : -1;
}

static void vpci_fds_close(struct vpci *vp)
{
	notify_fds(vp, false);
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		if (vp->notify_fd[q] >= 0)
			close(vp->notify_fd[q]);
	for (unsigned v = 0; v < VPCI_MSIX_VECTORS; v++)
		if (vp->irqfd[v].fd >= 0)
			close(vp->irqfd[v].fd); /* KVM drops the irqfd when its eventfd goes */
}

void virtio_pci_free(struct virtio_dev *d)
{
	virtio_rekick_close(d);
	if (d->transport_priv)
		vpci_fds_close(d->transport_priv);
	free(d->transport_priv);
	d->transport_priv = NULL;
	d->transport = NULL;
}

int virtio_pci_register(struct virtio_dev *d)
{
	struct vpci *vp = calloc(1, sizeof(*vp));
	struct pci_dev *p;
	uint8_t mult[4], msix[12] = { PCI_CAP_ID_MSIX }, msix_wmask[12] = { 0 };
	uint8_t pcicfg_wmask[20] = { 0 };
	int r;

	if (!vp)
		return err_set(ENOMEM, "%s: out of memory", d->ops->name);
	vp->dev = d;
	p = &vp->pci;
	/* §4.1.2: non-transitional ids */
	p->vendor_id = 0x1af4;
	p->device_id = (uint16_t)(0x1040 + d->ops->device_id);
	p->subsys_vendor_id = 0x1af4;
	p->subsys_id = 0x0040;
	p->revision = 1;
	p->class_code = d->ops->pci_class;
	p->bar_size[VPCI_BAR_VIRTIO] = VPCI_BAR_VIRTIO_SIZE;
	p->bar_size[VPCI_BAR_MSIX] = VPCI_BAR_MSIX_SIZE;
	p->bar_read = vpci_bar_read;
	p->bar_write = vpci_bar_write;
	p->cfg_written = vpci_cfg_written;
	p->opaque = vp;

	put_le32(mult, VPCI_NOTIFY_MULT);
	/* PCI 3.0 §6.8.2: table size - 1, table and PBA offsets | BIR */
	put_le16(msix + 2, VPCI_MSIX_VECTORS - 1);
	put_le32(msix + 4, VPCI_MSIX_TABLE_OFF | VPCI_BAR_MSIX);
	put_le32(msix + 8, VPCI_MSIX_PBA_OFF | VPCI_BAR_MSIX);
	msix_wmask[3] = 0xc0; /* enable, function mask */
	memset(pcicfg_wmask + 4, 0xff, 1);
	memset(pcicfg_wmask + 8, 0xff, 12);

	if ((r = add_virtio_cap(p, VIRTIO_PCI_CAP_COMMON_CFG, VPCI_COMMON_OFF, VPCI_COMMON_LEN, NULL, 0, NULL)) < 0 ||
	    (r = add_virtio_cap(p, VIRTIO_PCI_CAP_NOTIFY_CFG, VPCI_NOTIFY_OFF,
				VPCI_NOTIFY_MULT * d->num_queues, mult, 4, NULL)) < 0 ||
	    (r = add_virtio_cap(p, VIRTIO_PCI_CAP_ISR_CFG, VPCI_ISR_OFF, VPCI_ISR_LEN, NULL, 0, NULL)) < 0 ||
	    (d->cfg_len && (r = add_virtio_cap(p, VIRTIO_PCI_CAP_DEVICE_CFG, VPCI_DEVICE_OFF, d->cfg_len,
						NULL, 0, NULL)) < 0) ||
	    (r = vp->pcicfg_cap = add_virtio_cap(p, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, (const uint8_t *)"\0\0\0", 4,
						 pcicfg_wmask)) < 0 ||
	    (r = vp->msix_cap = pci_add_cap(p, msix, msix_wmask, sizeof(msix))) < 0) {
		free(vp);
		return err_set(-r, "%s: PCI capabilities: %s", d->ops->name, strerror(-r));
	}
	for (unsigned v = 0; v < VPCI_MSIX_VECTORS; v++)
		vp->msix_table[v][12] = 1; /* PCI: entries start masked */
	d->transport = &vpci_transport;
	d->transport_priv = vp;
	r = pci_register(d->vm, p);
	if (r == 0)
		vpci_fds_open(vp);
	if (r < 0) {
		d->transport = NULL;
		d->transport_priv = NULL;
		free(vp);
		if (!err_msg()[0])
			err_set(-r, "%s: PCI registration failed", d->ops->name);
		return r;
	}
	return 0;
}

/* The one registration every device makes (kvmtool style): transport plus
 * manifest registry. Lives here so the virtqueue core links without PCI. */
int virtio_dev_register(struct virtio_dev *d)
{
	int r = virtio_rekick_open(d);

	if (r < 0)
		return r;
	r = virtio_pci_register(d);
	if (r < 0) {
		virtio_rekick_close(d);
		return r;
	}
	virtio_registry_add(d);
	return 0;
}
