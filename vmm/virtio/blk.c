/* blk.c - virtio-blk (virtio 1.2 §5.2) on a raw image: pread/pwrite,
 * fdatasync for FLUSH, fallocate for DISCARD and WRITE_ZEROES. A read-only
 * device offers VIRTIO_BLK_F_RO and answers every write with IOERR.
 *
 * Requests are served synchronously on the vCPU thread that notified. The
 * request header, data and status come from guest buffers already checked
 * by the walker; sector ranges are checked here against the capacity. */
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/virtio/virtio.h"
#include "vmm/virtio/virtio_dev.h"

/* §5.2.3 feature bits */
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
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

struct blk {
	struct virtio_dev dev;
	int fd;
	bool read_only;
	uint64_t sectors;
	char *path;
	char id[VIRTIO_BLK_ID_BYTES];
};

static struct blk *blk_of(struct virtio_dev *d) { return virtio_container(d, struct blk, dev); }

static bool range_in_disk(const struct blk *b, uint64_t sector, uint64_t bytes)
{
	return sector <= b->sectors && bytes <= (b->sectors - sector) * SECTOR;
}

/* Transfer the data iovecs [0, n) of a request at byte offset pos. */
static int blk_rw(struct blk *b, bool write, const struct iovec *iov, unsigned n, uint64_t pos)
{
	for (unsigned i = 0; i < n; i++) {
		size_t done = 0;
		while (done < iov[i].iov_len) {
			uint8_t *p = (uint8_t *)iov[i].iov_base + done;
			ssize_t k = write ? pwrite(b->fd, p, iov[i].iov_len - done, (off_t)pos)
					  : pread(b->fd, p, iov[i].iov_len - done, (off_t)pos);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return VIRTIO_BLK_S_IOERR;
			done += (size_t)k;
			pos += (uint64_t)k;
		}
	}
	return VIRTIO_BLK_S_OK;
}

static int zero_by_writing(struct blk *b, uint64_t pos, uint64_t len)
{
	static const uint8_t zeros[65536];

	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		ssize_t k = pwrite(b->fd, zeros, n, (off_t)pos);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return VIRTIO_BLK_S_IOERR;
		pos += (uint64_t)k;
		len -= (uint64_t)k;
	}
	return VIRTIO_BLK_S_OK;
}

/* §5.2.6.2: DISCARD / WRITE_ZEROES carry segments of
 * { le64 sector, le32 num_sectors, le32 flags }. */
static int blk_discard(struct blk *b, const struct vq_chain *c, uint32_t type)
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

/* Serve one request; returns the bytes written into the guest's buffers. */
static uint32_t blk_request(struct blk *b, struct vq_chain *c)
{
	uint8_t hdr[16], status;
	struct iovec data[VQ_CHAIN_MAX];
	unsigned n_data = 0;
	uint64_t data_len = 0;
	uint32_t type;
	uint64_t sector;

	/* §5.2.6: header (type, reserved, sector) readable, status byte is the
	 * last writable byte; anything else cannot be answered at all */
	if (c->out_len < sizeof(hdr) || c->in_len < 1)
		return 0;
	iov_to_buf(c->out, c->n_out, 0, hdr, sizeof(hdr));
	type = le32(hdr);
	sector = le64(hdr + 8);

	if (type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID) {
		/* data = every writable byte except the final status byte */
		for (unsigned i = 0; i < c->n_in; i++)
			data[n_data++] = c->in[i];
		for (unsigned i = n_data; i-- > 0;) /* trim 1 byte off the end */
			if (data[i].iov_len) {
				data[i].iov_len--;
				break;
			}
		data_len = c->in_len - 1;
	} else if (type == VIRTIO_BLK_T_OUT) {
		uint64_t skip = sizeof(hdr);
		for (unsigned i = 0; i < c->n_out; i++) {
			if (skip >= c->out[i].iov_len) {
				skip -= c->out[i].iov_len;
				continue;
			}
			data[n_data].iov_base = (uint8_t *)c->out[i].iov_base + skip;
			data[n_data++].iov_len = c->out[i].iov_len - skip;
			skip = 0;
		}
		data_len = c->out_len - sizeof(hdr);
	}

	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (type == VIRTIO_BLK_T_OUT && b->read_only)
			status = VIRTIO_BLK_S_IOERR;
		else if (data_len % SECTOR || !range_in_disk(b, sector, data_len))
			status = VIRTIO_BLK_S_IOERR;
		else
			status = (uint8_t)blk_rw(b, type == VIRTIO_BLK_T_OUT, data, n_data, sector * SECTOR);
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = b->read_only || fdatasync(b->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID:
		iov_from_buf(data, n_data, 0, b->id, data_len < sizeof(b->id) ? data_len : sizeof(b->id));
		status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		status = (uint8_t)blk_discard(b, c, type);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	iov_from_buf(c->in, c->n_in, c->in_len - 1, &status, 1);
	if (type == VIRTIO_BLK_T_IN && status == VIRTIO_BLK_S_OK)
		return (uint32_t)c->in_len;
	if (type == VIRTIO_BLK_T_GET_ID)
		return (uint32_t)c->in_len;
	return 1;
}

static uint32_t blk_serve(void *d, struct vq_chain *c)
{
	return blk_request(blk_of(d), c);
}

static void blk_notify(struct virtio_dev *d, struct virtqueue *vq)
{
	vq_serve(vq, blk_serve, d);
}

static void blk_destroy(struct virtio_dev *d)
{
	struct blk *b = blk_of(d);

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
	return r;
}

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.pci_class = 0x018000, /* mass storage, other */
	.notify = blk_notify,
	.destroy = blk_destroy,
	.manifest = blk_manifest,
};

int virtio_blk_create(struct vm *vm, const char *path, bool read_only)
{
	struct blk *b;
	struct stat st;
	off_t size;
	uint64_t feat;
	const char *base;
	int fd, r;

	fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return err_set(errno, "virtio-blk: %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) ||
	    (size = lseek(fd, 0, SEEK_END)) < 0) {
		close(fd);
		return err_set(EINVAL, "virtio-blk: %s: not a regular file or block device", path);
	}
	b = calloc(1, sizeof(*b));
	if (!b || !(b->path = strdup(path))) {
		free(b);
		close(fd);
		return err_set(ENOMEM, "virtio-blk: out of memory");
	}
	b->fd = fd;
	b->read_only = read_only;
	b->sectors = (uint64_t)size / SECTOR;
	/* GET_ID: the image's base name, truncated to 20 bytes (§5.2.6) */
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	memcpy(b->id, base, strnlen(base, sizeof(b->id)));

	feat = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH;
	feat |= read_only ? 1ull << VIRTIO_BLK_F_RO
			  : 1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	virtio_dev_init(&b->dev, vm, vm_mem(vm), &blk_ops, 1, VIRTIO_QUEUE_MAX, feat);

	/* §5.2.4 struct virtio_blk_config */
	uint8_t *cfg = b->dev.cfg;
	put_le64(cfg + 0, b->sectors);              /* capacity */
	put_le32(cfg + 12, BLK_SEG_MAX);            /* seg_max */
	put_le32(cfg + 20, SECTOR);                 /* blk_size */
	put_le16(cfg + 34, 1);                      /* num_queues */
	put_le32(cfg + 36, BLK_MAX_DISCARD_SECTORS); /* max_discard_sectors */
	put_le32(cfg + 40, BLK_MAX_DISCARD_SEG);    /* max_discard_seg */
	put_le32(cfg + 44, 1);                      /* discard_sector_alignment */
	put_le32(cfg + 48, BLK_MAX_DISCARD_SECTORS); /* max_write_zeroes_sectors */
	put_le32(cfg + 52, BLK_MAX_DISCARD_SEG);    /* max_write_zeroes_seg */
	cfg[56] = 1;                                /* write_zeroes_may_unmap */
	b->dev.cfg_len = 60;

	r = virtio_dev_register(&b->dev);
	if (r < 0)
		blk_destroy(&b->dev);
	return r;
}
