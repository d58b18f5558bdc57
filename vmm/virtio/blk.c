/* blk.c - virtio-blk (virtio 1.2 §5.2) on a raw image, served by one I/O
 * thread per queue with io_uring (liburing): readv/writev, fsync(DATASYNC)
 * for FLUSH, fallocate for DISCARD (PUNCH_HOLE) and WRITE_ZEROES
 * (ZERO_RANGE, or PUNCH_HOLE with the unmap flag). A read-only device
 * offers VIRTIO_BLK_F_RO and answers every write with IOERR.
 *
 * Threads and locks: the guest's notification (an ioeventfd KVM signals
 * without leaving the guest, or the notify register through MMIO) wakes the
 * queue's thread. The thread takes dev->lock only to pop a bounded batch of
 * chains (BLK_BATCH) and to put completed ones on the used ring and
 * interrupt; the I/O itself runs with no lock held. A reset (under
 * dev->lock) bumps the queue's epoch and waits for the requests in flight
 * (the wait releases dev->lock): completions of an older epoch are dropped,
 * never written into rings the driver has taken back.
 *
 * Without io_uring (an old kernel, or io_uring disabled by the host's
 * policy) the same thread does the requests with preadv/pwritev. With
 * direct=on the image is opened O_DIRECT; a request whose guest buffers
 * are not 512-byte aligned goes through a per-queue aligned bounce buffer,
 * synchronously, in chunks (so a hostile request size costs no memory).
 *
 * The request header, data and status come from guest buffers already
 * checked by the walker; sector ranges are checked here against the
 * capacity; a chain of the wrong shape gets IOERR or UNSUPP, never a crash. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/confine/confine.h"
#include "vmm/kvm_uapi.h"
#include "vmm/virtio/virtio.h"
#include "vmm/virtio/virtio_dev.h"

/* §5.2.3 feature bits */
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_MQ           12
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14
/* §5.2.6 request types and status */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK           0
#define VIRTIO_BLK_S_IOERR        1
#define VIRTIO_BLK_S_UNSUPP       2
#define VIRTIO_BLK_ID_BYTES       20
#define VIRTIO_BLK_WZ_F_UNMAP     1
#define SECTOR                    512
#define BLK_SEG_MAX               (VIRTIO_QUEUE_MAX - 2) /* header + status */
#define BLK_MAX_DISCARD_SECTORS   (1u << 22)             /* 2 GiB per segment */
#define BLK_MAX_DISCARD_SEG       1
#define BLK_BATCH                 64       /* chains popped per turn of a queue's thread */
#define BLK_DIO_ALIGN             512      /* O_DIRECT buffer, length and offset alignment */
#define BLK_BOUNCE                (1u << 20) /* direct=on: aligned bounce buffer per queue */
#define BLK_KICK_TAG              UINT64_MAX /* user_data of the kick eventfd read */
#define BLK_IOV_INLINE            4

enum blk_kind { REQ_DONE, REQ_RW, REQ_FLUSH, REQ_SYNC };

struct blk_req {
	uint16_t head;
	uint8_t type;
	uint8_t status;
	enum blk_kind kind;
	uint8_t *status_byte;  /* host pointer to the status byte in guest RAM (NULL: none) */
	uint32_t written;      /* used length on success */
	uint32_t epoch;
	uint64_t pos;          /* byte offset on the image */
	uint64_t len;          /* data bytes */
	unsigned niov;
	struct iovec *iov;     /* data buffers in guest RAM */
	struct iovec iov_inline[BLK_IOV_INLINE];
	struct vq_chain *chain_copy; /* DISCARD / WRITE_ZEROES keep their segments here */
	struct blk_req *next;
};

struct blk;
struct blk_queue {
	struct blk *b;
	struct virtqueue *vq;
	pthread_t thread;
	bool thread_started;
	struct io_uring ring;
	bool uring;
	int kick_fd;           /* eventfd: ioeventfd target and MMIO notify */
	bool ioeventfd;        /* KVM_IOEVENTFD assigned on kick_fd */
	uint64_t kick_val;     /* the io_uring read of kick_fd lands here */
	/* under dev->lock */
	uint32_t epoch;        /* bumped at reset: older completions are dropped */
	unsigned inflight;
	bool more;             /* the batch bound stopped popping: serve again */
	uint64_t kicks, served;
	bool quit;
	bool dead;             /* the thread ended on an io_uring error: nobody to wait for */
	pthread_cond_t cond;   /* inflight or served changed (reset, idle wait) */
	struct blk_req *pool, *free;
	uint8_t *bounce;       /* direct=on */
	struct vq_chain chain; /* scratch for vq_pop (thread only) */
};

struct blk {
	struct virtio_dev dev;
	int fd;
	bool read_only, direct;
	uint64_t sectors;
	char *path;
	char id[VIRTIO_BLK_ID_BYTES];
	unsigned nq;
	struct blk_queue q[VIRTIO_MAX_QUEUES];
};

static struct blk *blk_of(struct virtio_dev *d) { return virtio_container(d, struct blk, dev); }

static bool range_in_disk(const struct blk *b, uint64_t sector, uint64_t bytes)
{
	return sector <= b->sectors && bytes <= (b->sectors - sector) * SECTOR;
}

/* ---------------- synchronous I/O (fallback, bounce, short transfers) ---------------- */
static bool rw_full(int fd, bool write, uint8_t *p, size_t len, uint64_t pos)
{
	while (len) {
		ssize_t k = write ? pwrite(fd, p, len, (off_t)pos) : pread(fd, p, len, (off_t)pos);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		p += k;
		len -= (size_t)k;
		pos += (uint64_t)k;
	}
	return true;
}

static bool aligned_iov(const struct blk_req *r)
{
	for (unsigned i = 0; i < r->niov; i++)
		if ((uintptr_t)r->iov[i].iov_base % BLK_DIO_ALIGN || r->iov[i].iov_len % BLK_DIO_ALIGN)
			return false;
	return true;
}

/* A read or write without io_uring: straight into the guest's buffers, or
 * through the queue's aligned bounce buffer chunk by chunk (O_DIRECT with
 * unaligned guest buffers). */
static uint8_t sync_rw(struct blk_queue *q, struct blk_req *r)
{
	struct blk *b = q->b;
	bool write = r->type == VIRTIO_BLK_T_OUT;

	if (q->bounce && !aligned_iov(r)) {
		for (uint64_t done = 0; done < r->len;) {
			size_t n = r->len - done < BLK_BOUNCE ? (size_t)(r->len - done) : BLK_BOUNCE;
			if (write)
				iov_to_buf(r->iov, r->niov, done, q->bounce, n);
			if (!rw_full(b->fd, write, q->bounce, n, r->pos + done))
				return VIRTIO_BLK_S_IOERR;
			if (!write)
				iov_from_buf(r->iov, r->niov, done, q->bounce, n);
			done += n;
		}
		return VIRTIO_BLK_S_OK;
	}
	uint64_t pos = r->pos;
	for (unsigned i = 0; i < r->niov; i++) {
		if (!rw_full(b->fd, write, r->iov[i].iov_base, r->iov[i].iov_len, pos))
			return VIRTIO_BLK_S_IOERR;
		pos += r->iov[i].iov_len;
	}
	return VIRTIO_BLK_S_OK;
}

static int zero_by_writing(struct blk *b, uint64_t pos, uint64_t len)
{
	static uint8_t zeros[65536] __attribute__((aligned(4096)));

	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		if (!rw_full(b->fd, true, zeros, n, pos))
			return VIRTIO_BLK_S_IOERR;
		pos += n;
		len -= n;
	}
	return VIRTIO_BLK_S_OK;
}

/* §5.2.6.2: DISCARD / WRITE_ZEROES carry segments of
 * { le64 sector, le32 num_sectors, le32 flags }. */
static uint8_t blk_discard(struct blk *b, const struct vq_chain *c, uint32_t type)
{
	uint64_t payload = c->out_len - 16;

	if (b->read_only)
		return VIRTIO_BLK_S_IOERR;
	if (payload == 0 || payload % 16 || payload / 16 > BLK_MAX_DISCARD_SEG)
		return VIRTIO_BLK_S_IOERR;
	for (uint64_t s = 0; s < payload / 16; s++) {
		uint8_t seg[16];
		iov_to_buf(c->out, c->n_out, 16 + 16 * s, seg, sizeof(seg));
		uint64_t sector = le64(seg), bytes = (uint64_t)le32(seg + 8) * SECTOR;
		uint32_t flags = le32(seg + 12);
		int mode;

		if (le32(seg + 8) > BLK_MAX_DISCARD_SECTORS || !range_in_disk(b, sector, bytes))
			return VIRTIO_BLK_S_IOERR;
		if (type == VIRTIO_BLK_T_DISCARD) {
			if (flags) /* §5.2.6.2: unmap is not valid for discard */
				return VIRTIO_BLK_S_UNSUPP;
			/* discard is a hint: a file system without holes is fine */
			if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(sector * SECTOR),
				      (off_t)bytes) < 0 && errno != EOPNOTSUPP)
				return VIRTIO_BLK_S_IOERR;
			continue;
		}
		if (flags & ~(uint32_t)VIRTIO_BLK_WZ_F_UNMAP)
			return VIRTIO_BLK_S_UNSUPP;
		mode = flags & VIRTIO_BLK_WZ_F_UNMAP ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
						     : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		if (fallocate(b->fd, mode, (off_t)(sector * SECTOR), (off_t)bytes) < 0) {
			if (errno != EOPNOTSUPP)
				return VIRTIO_BLK_S_IOERR;
			if (zero_by_writing(b, sector * SECTOR, bytes))
				return VIRTIO_BLK_S_IOERR;
		}
	}
	return VIRTIO_BLK_S_OK;
}

/* ---------------- requests ---------------- */
static void req_free(struct blk_queue *q, struct blk_req *r)
{
	if (r->iov != r->iov_inline)
		free(r->iov);
	free(r->chain_copy);
	r->iov = r->iov_inline;
	r->chain_copy = NULL;
	r->next = q->free;
	q->free = r;
}

static bool req_set_iov(struct blk_req *r, unsigned n)
{
	r->niov = 0;
	r->iov = n <= BLK_IOV_INLINE ? r->iov_inline : calloc(n, sizeof(*r->iov));
	if (!r->iov) {
		r->iov = r->iov_inline;
		return false;
	}
	return true;
}

/* Turn a popped chain into a request (dev->lock held). REQ_DONE requests
 * already carry their status. */
static void req_parse(struct blk_queue *q, const struct vq_chain *c, struct blk_req *r)
{
	struct blk *b = q->b;
	uint8_t hdr[16];
	uint64_t sector;

	r->head = c->head;
	r->type = 0xff;
	r->kind = REQ_DONE;
	r->status = VIRTIO_BLK_S_IOERR;
	r->status_byte = NULL;
	r->written = 0;
	r->epoch = q->epoch;
	r->niov = 0;
	r->len = 0;
	/* §5.2.6: the status is the last writable byte; without it the
	 * request cannot be answered at all (its buffers just go back) */
	for (unsigned i = c->n_in; i-- > 0;)
		if (c->in[i].iov_len) {
			r->status_byte = (uint8_t *)c->in[i].iov_base + c->in[i].iov_len - 1;
			break;
		}
	if (!r->status_byte)
		return;
	r->written = 1;
	if (c->out_len < sizeof(hdr))
		return; /* IOERR */
	iov_to_buf(c->out, c->n_out, 0, hdr, sizeof(hdr));
	r->type = (uint8_t)(le32(hdr) <= 0xff ? le32(hdr) : 0xff);
	sector = le64(hdr + 8);

	switch (le32(hdr)) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_GET_ID:
		/* data = every writable byte except the final status byte */
		if (!req_set_iov(r, c->n_in))
			return;
		for (unsigned i = 0; i < c->n_in; i++)
			r->iov[r->niov++] = c->in[i];
		for (unsigned i = r->niov; i-- > 0;)
			if (r->iov[i].iov_len) {
				r->iov[i].iov_len--;
				break;
			}
		r->len = c->in_len - 1;
		if (le32(hdr) == VIRTIO_BLK_T_GET_ID) {
			iov_from_buf(r->iov, r->niov, 0, b->id, r->len < sizeof(b->id) ? r->len : sizeof(b->id));
			r->status = VIRTIO_BLK_S_OK;
			r->written = (uint32_t)c->in_len;
			return;
		}
		break;
	case VIRTIO_BLK_T_OUT: {
		uint64_t skip = sizeof(hdr);
		if (b->read_only)
			return;
		if (!req_set_iov(r, c->n_out))
			return;
		for (unsigned i = 0; i < c->n_out; i++) {
			if (skip >= c->out[i].iov_len) {
				skip -= c->out[i].iov_len;
				continue;
			}
			r->iov[r->niov].iov_base = (uint8_t *)c->out[i].iov_base + skip;
			r->iov[r->niov++].iov_len = c->out[i].iov_len - skip;
			skip = 0;
		}
		r->len = c->out_len - sizeof(hdr);
		break;
	}
	case VIRTIO_BLK_T_FLUSH:
		if (b->read_only) {
			r->status = VIRTIO_BLK_S_OK;
			return;
		}
		r->kind = REQ_FLUSH;
		return;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		/* fallocate on the queue's thread, outside the lock: keep the
		 * segment descriptors (a copy of the chain's readable part) */
		r->chain_copy = malloc(sizeof(*r->chain_copy));
		if (!r->chain_copy)
			return;
		memcpy(r->chain_copy, c, offsetof(struct vq_chain, in));
		r->kind = REQ_SYNC;
		return;
	default:
		r->status = VIRTIO_BLK_S_UNSUPP;
		return;
	}
	if (r->len % SECTOR || !range_in_disk(b, sector, r->len))
		return; /* IOERR */
	r->pos = sector * SECTOR;
	r->kind = REQ_RW;
	if (r->type == VIRTIO_BLK_T_IN)
		r->written = (uint32_t)(r->len + 1);
}

/* Put finished requests on the used ring and interrupt once. */
static void complete(struct blk_queue *q, struct blk_req *list)
{
	struct virtio_dev *d = &q->b->dev;
	struct vq_chain c;
	bool used = false;

	pthread_mutex_lock(&d->lock);
	while (list) {
		struct blk_req *r = list;
		list = r->next;
		if (r->epoch == q->epoch && virtio_dev_running(d) && q->vq->enabled) {
			if (r->status_byte)
				*r->status_byte = r->status;
			c.head = r->head;
			c.in_len = UINT32_MAX;
			c.out_len = 0;
			if (r->status_byte && r->status != VIRTIO_BLK_S_OK && r->type == VIRTIO_BLK_T_IN)
				r->written = 1; /* only the status */
			if (vq_push(q->vq, &c, r->written) == 0)
				used = true;
		}
		req_free(q, r);
		q->inflight--;
	}
	if (used)
		vq_interrupt(q->vq);
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&d->lock);
}

static void arm_kick(struct blk_queue *q)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

	if (!sqe) { /* cannot happen (the SQ holds twice the queue), but never lose the kick */
		io_uring_submit(&q->ring);
		sqe = io_uring_get_sqe(&q->ring);
	}
	if (!sqe)
		return;
	io_uring_prep_read(sqe, q->kick_fd, &q->kick_val, sizeof(q->kick_val), 0);
	io_uring_sqe_set_data64(sqe, BLK_KICK_TAG);
}

/* Hand a request to io_uring (false: do it synchronously instead). */
static bool submit(struct blk_queue *q, struct blk_req *r)
{
	struct io_uring_sqe *sqe;

	if (!q->uring || (r->kind != REQ_RW && r->kind != REQ_FLUSH) ||
	    (r->kind == REQ_RW && q->bounce && !aligned_iov(r)))
		return false;
	sqe = io_uring_get_sqe(&q->ring);
	if (!sqe) {
		io_uring_submit(&q->ring);
		sqe = io_uring_get_sqe(&q->ring);
		if (!sqe)
			return false;
	}
	if (r->kind == REQ_FLUSH)
		io_uring_prep_fsync(sqe, q->b->fd, IORING_FSYNC_DATASYNC);
	else if (r->type == VIRTIO_BLK_T_OUT)
		io_uring_prep_writev(sqe, q->b->fd, r->iov, r->niov, r->pos);
	else
		io_uring_prep_readv(sqe, q->b->fd, r->iov, r->niov, r->pos);
	io_uring_sqe_set_data(sqe, r);
	return true;
}

static void run_sync(struct blk_queue *q, struct blk_req *r)
{
	switch (r->kind) {
	case REQ_RW: r->status = sync_rw(q, r); break;
	case REQ_FLUSH: r->status = fdatasync(q->b->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR; break;
	case REQ_SYNC: r->status = blk_discard(q->b, r->chain_copy, r->type); break;
	case REQ_DONE: break;
	}
}

/* One turn: pop a bounded batch under the lock, start it without. */
static void serve(struct blk_queue *q)
{
	struct virtio_dev *d = &q->b->dev;
	struct blk_req *batch = NULL, **tail = &batch, *done = NULL;
	unsigned n = 0;
	bool submitted = false;

	pthread_mutex_lock(&d->lock);
	q->more = false;
	q->served = q->kicks;
	while (n < BLK_BATCH && q->free && virtio_dev_running(d) && q->vq->enabled &&
	       vq_pop(q->vq, &q->chain) == 1) {
		struct blk_req *r = q->free;
		q->free = r->next;
		r->next = NULL;
		req_parse(q, &q->chain, r);
		q->inflight++;
		*tail = r;
		tail = &r->next;
		n++;
	}
	if (n == BLK_BATCH || (!q->free && n))
		q->more = true; /* after this batch's completions had their turn */
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&d->lock);

	while (batch) {
		struct blk_req *r = batch;
		batch = r->next;
		r->next = NULL;
		if (r->kind != REQ_DONE && submit(q, r)) {
			submitted = true;
			continue;
		}
		run_sync(q, r);
		r->next = done;
		done = r;
	}
	if (submitted)
		io_uring_submit(&q->ring);
	if (done)
		complete(q, done);
}

/* Completions from io_uring; a short transfer is redone synchronously. */
static void reap(struct blk_queue *q, bool *kicked)
{
	struct io_uring_cqe *cqe;
	struct blk_req *done = NULL;
	unsigned head, seen = 0;

	io_uring_for_each_cqe(&q->ring, head, cqe) {
		seen++;
		if (cqe->user_data == BLK_KICK_TAG) {
			*kicked = true;
			arm_kick(q);
			continue;
		}
		struct blk_req *r = io_uring_cqe_get_data(cqe);
		if (r->kind == REQ_FLUSH)
			r->status = cqe->res == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
		else if (cqe->res >= 0 && (uint64_t)cqe->res == r->len)
			r->status = VIRTIO_BLK_S_OK;
		else if (cqe->res >= 0)
			r->status = sync_rw(q, r); /* short: the whole request again */
		else
			r->status = VIRTIO_BLK_S_IOERR;
		r->next = done;
		done = r;
	}
	io_uring_cq_advance(&q->ring, seen);
	if (done)
		complete(q, done);
}

static void *io_thread(void *arg)
{
	struct blk_queue *q = arg;
	struct virtio_dev *d = &q->b->dev;

	confine_thread(CONFINE_VMM); /* no-op outside cvmm run */
	if (q->uring) {
		arm_kick(q);
		io_uring_submit(&q->ring);
	}
	for (;;) {
		bool kicked = false, quit, more;

		pthread_mutex_lock(&d->lock);
		quit = q->quit;
		more = q->more;
		pthread_mutex_unlock(&d->lock);
		if (quit)
			break;
		if (q->uring) {
			/* with a batch left over, only collect what is done */
			int r = more ? io_uring_submit(&q->ring) : io_uring_submit_and_wait(&q->ring, 1);
			if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
				char why[96];
				snprintf(why, sizeof(why), "queue %u: I/O thread ended: io_uring_enter: %s",
					 q->vq->index, strerror(-r));
				pthread_mutex_lock(&d->lock);
				q->dead = true;
				virtio_dev_set_broken(d, why);
				pthread_cond_broadcast(&q->cond);
				pthread_mutex_unlock(&d->lock);
				break;
			}
			reap(q, &kicked);
		} else if (!more) {
			uint64_t v;
			kicked = read(q->kick_fd, &v, sizeof(v)) == sizeof(v);
		}
		if (kicked || more)
			serve(q);
	}
	return NULL;
}

/* ---------------- device operations ---------------- */
static struct blk_queue *queue_of(struct virtio_dev *d, struct virtqueue *vq)
{
	struct blk *b = blk_of(d);

	return vq->index < b->nq ? &b->q[vq->index] : NULL;
}

static void blk_notify(struct virtio_dev *d, struct virtqueue *vq)
{
	struct blk_queue *q = queue_of(d, vq);

	if (!q)
		return;
	q->kicks++;
	virtio_eventfd_signal(q->kick_fd);
}

/* The notify register of each queue as an ioeventfd on its kick eventfd:
 * KVM wakes the queue's thread without an exit to userspace. Where KVM
 * refuses (no KVM in tests, the BAR moved), MMIO notify still works. */
static void ioeventfds(struct blk *b, bool on)
{
	struct pci_dev *p = virtio_pci_dev(&b->dev);

	for (unsigned i = 0; i < b->nq; i++) {
		struct blk_queue *q = &b->q[i];
		struct kvm_ioeventfd io = { .len = 2, .fd = q->kick_fd };

		if (!p || !p->bar_addr[VPCI_BAR_VIRTIO] || on == q->ioeventfd || vm_fd(b->dev.vm) < 0)
			continue;
		io.addr = p->bar_addr[VPCI_BAR_VIRTIO] + VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT * i;
		if (!on)
			io.flags = KVM_IOEVENTFD_FLAG_DEASSIGN;
		if (ioctl(vm_fd(b->dev.vm), KVM_IOEVENTFD, &io) == 0)
			q->ioeventfd = on;
	}
}

static int blk_start(struct virtio_dev *d)
{
	ioeventfds(blk_of(d), true);
	return 0;
}

/* Device reset (dev->lock held): no more popping, and nothing in flight
 * may complete into the rings the driver takes back. */
static void blk_reset(struct virtio_dev *d)
{
	struct blk *b = blk_of(d);

	ioeventfds(b, false);
	for (unsigned i = 0; i < b->nq; i++) {
		struct blk_queue *q = &b->q[i];
		q->epoch++;
		q->more = false;
		while (q->inflight && q->thread_started && !q->dead)
			pthread_cond_wait(&q->cond, &d->lock);
	}
}

void virtio_blk_wait_idle(struct virtio_dev *d)
{
	struct blk *b = blk_of(d);

	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < b->nq; i++) {
		struct blk_queue *q = &b->q[i];
		while (q->thread_started && !q->dead && (q->inflight || q->more || q->served != q->kicks))
			pthread_cond_wait(&q->cond, &d->lock);
	}
	pthread_mutex_unlock(&d->lock);
}

static void queue_free(struct blk_queue *q)
{
	if (q->thread_started) {
		pthread_mutex_lock(&q->b->dev.lock);
		q->quit = true;
		pthread_mutex_unlock(&q->b->dev.lock);
		virtio_eventfd_signal(q->kick_fd);
		pthread_join(q->thread, NULL);
		q->thread_started = false;
	}
	if (q->uring)
		io_uring_queue_exit(&q->ring);
	q->uring = false;
	if (q->kick_fd >= 0)
		close(q->kick_fd);
	q->kick_fd = -1;
	if (q->pool)
		for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
			if (q->pool[i].iov != q->pool[i].iov_inline)
				free(q->pool[i].iov);
			free(q->pool[i].chain_copy);
		}
	free(q->pool);
	q->pool = NULL;
	free(q->bounce);
	q->bounce = NULL;
	pthread_cond_destroy(&q->cond);
}

static void blk_destroy(struct virtio_dev *d)
{
	struct blk *b = blk_of(d);

	for (unsigned i = 0; i < b->nq; i++)
		queue_free(&b->q[i]);
	close(b->fd);
	free(b->path);
	free(b);
}

static int blk_manifest(struct virtio_dev *d, void *fdt)
{
	struct blk *b = blk_of(d);
	int r = fdt_property_string(fdt, "path", b->path);

	if (!r)
		r = fdt_property_u64(fdt, "capacity-sectors", b->sectors);
	if (!r && b->read_only)
		r = fdt_property(fdt, "read-only", NULL, 0);
	if (!r && b->direct)
		r = fdt_property(fdt, "direct", NULL, 0);
	if (!r && b->nq > 1)
		r = fdt_property_u32(fdt, "num-queues", b->nq);
	return r;
}

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.pci_class = 0x018000, /* mass storage, other */
	.notify = blk_notify,
	.start = blk_start,
	.reset = blk_reset,
	.destroy = blk_destroy,
	.manifest = blk_manifest,
};

/* A queue's requests, kick eventfd, io_uring (when the kernel lets us) and
 * thread. Called before any confinement: the thread confines itself. */
static int queue_init(struct blk *b, unsigned i)
{
	struct blk_queue *q = &b->q[i];
	int r;

	q->b = b;
	q->vq = &b->dev.vq[i];
	pthread_cond_init(&q->cond, NULL);
	q->pool = calloc(VIRTIO_QUEUE_MAX, sizeof(*q->pool));
	if (!q->pool)
		return err_set(ENOMEM, "virtio-blk: out of memory");
	for (unsigned k = VIRTIO_QUEUE_MAX; k-- > 0;) {
		q->pool[k].iov = q->pool[k].iov_inline;
		q->pool[k].next = q->free;
		q->free = &q->pool[k];
	}
	if (b->direct && posix_memalign((void **)&q->bounce, 4096, BLK_BOUNCE))
		return err_set(ENOMEM, "virtio-blk: out of memory");
	q->kick_fd = eventfd(0, EFD_CLOEXEC);
	if (q->kick_fd < 0)
		return err_set(errno, "virtio-blk: eventfd: %s", strerror(errno));
	q->vq->kick_fd = q->kick_fd; /* the transport leaves this queue's notify to us */
	/* one entry per descriptor the queue can hold, plus the kick read */
	q->uring = io_uring_queue_init(2 * VIRTIO_QUEUE_MAX, &q->ring, 0) == 0;
	/* a small stack: the thread's deepest frame holds one vq_chain (8 KiB) */
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 << 10);
	r = pthread_create(&q->thread, &attr, io_thread, q);
	pthread_attr_destroy(&attr);
	if (r)
		return err_set(r, "virtio-blk: I/O thread: %s", strerror(r));
	q->thread_started = true;
	pthread_setname_np(q->thread, "cvmm-blk"); /* before confinement: /proc comm */
	return 0;
}

int virtio_blk_create_opts(struct vm *vm, const struct virtio_blk_opts *o)
{
	struct blk *b;
	struct stat st;
	off_t size;
	uint64_t feat;
	const char *base;
	unsigned nq = o->queues ? o->queues : 1;
	int fd, r;

	if (nq > VIRTIO_MAX_QUEUES)
		return err_set(EINVAL, "virtio-blk: %s: queues=%u: at most %d", o->path, nq, VIRTIO_MAX_QUEUES);
	fd = open(o->path, (o->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | (o->direct ? O_DIRECT : 0));
	if (fd < 0)
		return err_set(errno, "virtio-blk: %s: %s%s", o->path, strerror(errno),
			       o->direct && errno == EINVAL ? " (direct=on: the file system has no O_DIRECT)" : "");
	if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) ||
	    (size = lseek(fd, 0, SEEK_END)) < 0) {
		close(fd);
		return err_set(EINVAL, "virtio-blk: %s: not a regular file or block device", o->path);
	}
	b = calloc(1, sizeof(*b));
	if (!b || !(b->path = strdup(o->path))) {
		free(b);
		close(fd);
		return err_set(ENOMEM, "virtio-blk: out of memory");
	}
	b->fd = fd;
	b->read_only = o->read_only;
	b->direct = o->direct;
	b->sectors = (uint64_t)size / SECTOR;
	b->nq = nq;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		b->q[i].kick_fd = -1;
	/* GET_ID: the image's base name, truncated to 20 bytes (§5.2.6) */
	base = strrchr(o->path, '/');
	base = base ? base + 1 : o->path;
	memcpy(b->id, base, strnlen(base, sizeof(b->id)));

	feat = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH;
	feat |= o->read_only ? 1ull << VIRTIO_BLK_F_RO
			     : 1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	if (nq > 1)
		feat |= 1ull << VIRTIO_BLK_F_MQ;
	virtio_dev_init(&b->dev, vm, vm_mem(vm), &blk_ops, nq, VIRTIO_QUEUE_MAX, feat);

	/* §5.2.4 struct virtio_blk_config */
	uint8_t *cfg = b->dev.cfg;
	put_le64(cfg + 0, b->sectors);              /* capacity */
	put_le32(cfg + 12, BLK_SEG_MAX);            /* seg_max */
	put_le32(cfg + 20, SECTOR);                 /* blk_size */
	put_le16(cfg + 34, (uint16_t)nq);           /* num_queues */
	put_le32(cfg + 36, BLK_MAX_DISCARD_SECTORS); /* max_discard_sectors */
	put_le32(cfg + 40, BLK_MAX_DISCARD_SEG);    /* max_discard_seg */
	put_le32(cfg + 44, 1);                      /* discard_sector_alignment */
	put_le32(cfg + 48, BLK_MAX_DISCARD_SECTORS); /* max_write_zeroes_sectors */
	put_le32(cfg + 52, BLK_MAX_DISCARD_SEG);    /* max_write_zeroes_seg */
	cfg[56] = 1;                                /* write_zeroes_may_unmap */
	b->dev.cfg_len = 60;

	for (unsigned i = 0; i < nq; i++)
		if ((r = queue_init(b, i)) < 0) {
			blk_destroy(&b->dev);
			return r;
		}
	r = virtio_dev_register(&b->dev);
	if (r < 0)
		blk_destroy(&b->dev);
	return r;
}

int virtio_blk_create(struct vm *vm, const char *path, bool read_only)
{
	struct virtio_blk_opts o = { .path = path, .read_only = read_only };

	return virtio_blk_create_opts(vm, &o);
}
