/* console.c - virtio-console port 0 (virtio 1.2 §5.3), the guest's hvc0:
 * receiveq 0 carries host input (in_fd), transmitq 1 carries guest output
 * (out_fd). Offers VIRTIO_CONSOLE_F_SIZE and F_EMERG_WRITE (early output
 * through config space); no MULTIPORT.
 *
 * Input is read on the event-loop thread into one pending buffer that is
 * handed to the guest as receive buffers appear. The vCPU side only ever
 * writes a wake eventfd, so the event loop alone adds and removes watches. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/conout.h"
#include "vmm/virtio/virtio.h"
#include "vmm/virtio/virtio_dev.h"

#define VIRTIO_CONSOLE_F_SIZE        0
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2
#define CONSOLE_RXQ 0
#define CONSOLE_TXQ 1

struct console {
	struct virtio_dev dev;
	int in_fd, out_fd, wake_fd;
	struct conout out; /* guest output: non-blocking, bounded (conout.h) */
	bool in_watched, in_eof;
	size_t pend_off, pend_len;
	uint8_t pend[4096];
};

static struct console *con_of(struct virtio_dev *d) { return virtio_container(d, struct console, dev); }

static void wake(struct console *con)
{
	virtio_eventfd_signal(con->wake_fd);
}

/* Hand pending input to the guest's receive buffers (dev->lock held). */
static void deliver(struct console *con)
{
	struct virtqueue *vq = &con->dev.vq[CONSOLE_RXQ];
	struct vq_chain c;
	bool used = false;

	while (con->pend_off < con->pend_len && virtio_dev_running(&con->dev) && vq_pop(vq, &c) == 1) {
		size_t n = iov_from_buf(c.in, c.n_in, 0, con->pend + con->pend_off,
					con->pend_len - con->pend_off);
		con->pend_off += n;
		if (vq_push(vq, &c, (uint32_t)n) < 0)
			return;
		used = true;
	}
	if (con->pend_off >= con->pend_len)
		con->pend_off = con->pend_len = 0;
	if (used)
		vq_interrupt(vq);
}

static void console_input(void *opaque, uint32_t events);

static void watch_input(struct console *con, bool on)
{
	if (on == con->in_watched || con->in_fd < 0)
		return;
	if (on) {
		con->in_watched = ev_add(vm_evloop(con->dev.vm), con->in_fd, EPOLLIN, console_input, con) == 0;
		/* epoll refuses regular files and /dev/null: no input then */
		con->in_eof = !con->in_watched;
	} else {
		ev_del(vm_evloop(con->dev.vm), con->in_fd);
		con->in_watched = false;
	}
}

static void console_input(void *opaque, uint32_t events)
{
	struct console *con = opaque;

	(void)events;
	pthread_mutex_lock(&con->dev.lock);
	if (con->pend_len == 0 && virtio_dev_running(&con->dev)) {
		ssize_t n = read(con->in_fd, con->pend, sizeof(con->pend));
		if (n > 0) {
			con->pend_off = 0;
			con->pend_len = (size_t)n;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			con->in_eof = true;
		}
	}
	deliver(con);
	/* stop polling while input waits for buffers, at EOF, or before DRIVER_OK */
	if (con->pend_len || con->in_eof || !virtio_dev_running(&con->dev))
		watch_input(con, false);
	pthread_mutex_unlock(&con->dev.lock);
}

static void console_wake(void *opaque, uint32_t events)
{
	struct console *con = opaque;

	(void)events;
	if (!virtio_wake_clear(con->wake_fd))
		return;
	pthread_mutex_lock(&con->dev.lock);
	deliver(con);
	if (virtio_dev_running(&con->dev) && !con->pend_len && !con->in_eof)
		watch_input(con, true);
	pthread_mutex_unlock(&con->dev.lock);
}

/* Guest output: every chain's out[] buffers, in order, to out_fd. */
static uint32_t console_output(void *arg, struct vq_chain *c)
{
	struct console *con = arg;

	for (unsigned i = 0; i < c->n_out; i++)
		conout_write(&con->out, c->out[i].iov_base, c->out[i].iov_len);
	return 0;
}

static void console_notify(struct virtio_dev *d, struct virtqueue *vq)
{
	struct console *con = con_of(d);

	if (vq->index == CONSOLE_RXQ) /* new receive buffers */
		wake(con);
	else if (vq->index == CONSOLE_TXQ)
		vq_serve(vq, console_output, con);
}

static int console_start(struct virtio_dev *d)
{
	wake(con_of(d));
	return 0;
}

static void console_reset(struct virtio_dev *d)
{
	struct console *con = con_of(d);

	con->pend_off = con->pend_len = 0; /* input typed before reset is dropped */
}

/* §5.3.4: a driver write to emerg_wr outputs that character */
static void console_cfg_write(struct virtio_dev *d, unsigned off, unsigned len)
{
	if (off <= 8 && off + len > 8)
		conout_write(&con_of(d)->out, &d->cfg[8], 1);
}

static void console_destroy(struct virtio_dev *d)
{
	struct console *con = con_of(d);

	watch_input(con, false);
	virtio_wake_close(d, con->wake_fd);
	conout_fini(&con->out);
	free(con);
}

static const struct virtio_dev_ops console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.pci_class = 0x078000, /* simple communication controller, other */
	.cfg_write = console_cfg_write,
	.notify = console_notify,
	.start = console_start,
	.reset = console_reset,
	.destroy = console_destroy,
};

int virtio_console_create(struct vm *vm, int in_fd, int out_fd)
{
	struct console *con = calloc(1, sizeof(*con));
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	int r;

	if (!con)
		return err_set(ENOMEM, "virtio-console: out of memory");
	virtio_dev_init(&con->dev, vm, vm_mem(vm), &console_ops, 2, VIRTIO_QUEUE_MAX,
			1ull << VIRTIO_CONSOLE_F_SIZE | 1ull << VIRTIO_CONSOLE_F_EMERG_WRITE);
	con->in_fd = in_fd;
	con->out_fd = out_fd;
	conout_init(&con->out, out_fd, vm_evloop(vm), &con->dev.lock);
	/* §5.3.4 struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr */
	if (ioctl(out_fd, TIOCGWINSZ, &ws) < 0 || !ws.ws_col || !ws.ws_row) {
		ws.ws_col = 80;
		ws.ws_row = 24;
	}
	put_le16(con->dev.cfg + 0, ws.ws_col);
	put_le16(con->dev.cfg + 2, ws.ws_row);
	put_le32(con->dev.cfg + 4, 1);
	memset(con->dev.cfg_wmask + 8, 1, 4);
	con->dev.cfg_len = 12;

	con->wake_fd = virtio_wake_open(&con->dev, console_wake, con);
	if (con->wake_fd < 0) {
		r = con->wake_fd;
		free(con);
		return r;
	}
	r = virtio_dev_register(&con->dev);
	if (r < 0)
		console_destroy(&con->dev);
	return r;
}
