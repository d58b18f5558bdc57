/* serial.c - a 16550A UART (National Semiconductor PC16550D data sheet,
 * register map §8.4) at the legacy COM1 address for early boot output and
 * the console of non-confidential guests. Output goes to out_fd through a
 * non-blocking bounded buffer (conout.h);
 * input (in_fd, when given) is read by the event loop into a receive FIFO. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/conout.h"
#include "vmm/vmm_core.h"

#define RBR 0 /* read: receive buffer; write: THR; DLAB: DLL */
#define IER 1 /* DLAB: DLM */
#define IIR 2 /* write: FCR */
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MCR_LOOP 0x10
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

#define RX_FIFO 64

struct serial {
	struct vm *vm;
	pthread_mutex_t lock;
	unsigned irq;
	int in_fd, out_fd;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm, msr;
	bool thr_pending; /* THR empty interrupt not yet acknowledged */
	bool line;        /* current IRQ line level */
	uint8_t rx[RX_FIFO];
	unsigned rx_head, rx_len;
	uint8_t out[256];
	unsigned out_len;
	struct conout co; /* non-blocking, bounded (conout.h) */
};

static void flush_out(struct serial *s)
{
	static bool first = true;
	if (first) {
		first = false;
		vmm_debug_timing("first console output");
	}
	/* never blocks: a reader that stops reading costs output, not a vCPU */
	conout_write(&s->co, s->out, s->out_len);
	s->out_len = 0;
}

static uint8_t iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO : 0;
	if ((s->ier & IER_RDI) && s->rx_len)
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->thr_pending)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

/* The ISA line follows "an interrupt is pending" (edge on the IOAPIC:
 * raised when a new source appears, dropped when the guest drained all). */
static void update_irq(struct serial *s)
{
	bool want = !(iir(s) & IIR_NO_INT);
	if (want != s->line) {
		s->line = want;
		vm_set_irq(s->vm, s->irq, want);
	}
}

static void serial_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool write)
{
	struct serial *s = opaque;
	unsigned reg = port & 7;
	if (len != 1) { /* the UART has byte registers only */
		if (!write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (write) {
		uint8_t v = data[0];
		switch (reg) {
		case RBR:
			if (s->lcr & LCR_DLAB) {
				s->dll = v;
			} else if (s->mcr & MCR_LOOP) {
				if (s->rx_len < RX_FIFO)
					s->rx[(s->rx_head + s->rx_len++) % RX_FIFO] = v;
			} else {
				s->out[s->out_len++] = v;
				/* Line-buffered: flush on newline or when full
				 * (the guest sees an infinitely fast line). */
				if (v == '\n' || s->out_len == sizeof(s->out))
					flush_out(s);
				s->thr_pending = true;
			}
			break;
		case IER:
			if (s->lcr & LCR_DLAB) {
				s->dlm = v;
			} else {
				/* The 8250 driver rewrites IER at the end of every
				 * console write and tty burst: flush there. */
				if (s->out_len)
					flush_out(s);
				/* Enabling THRI with an empty THR interrupts at once. */
				if ((v & IER_THRI) && !(s->ier & IER_THRI))
					s->thr_pending = true;
				s->ier = v & 0x0f;
			}
			break;
		case IIR:
			s->fcr = v & 0xc9;
			if (v & FCR_CLEAR_RX)
				s->rx_len = 0;
			break;
		case LCR: s->lcr = v; break;
		case MCR: s->mcr = v & 0x1f; break;
		case SCR: s->scr = v; break;
		default: break;
		}
	} else {
		uint8_t v = 0;
		switch (reg) {
		case RBR:
			if (s->lcr & LCR_DLAB) {
				v = s->dll;
			} else if (s->rx_len) {
				v = s->rx[s->rx_head];
				s->rx_head = (s->rx_head + 1) % RX_FIFO;
				s->rx_len--;
			}
			break;
		case IER: v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier; break;
		case IIR:
			v = iir(s);
			/* Reading IIR acknowledges a THRE interrupt (§8.6.3). */
			if ((v & 0x0f) == IIR_THRI)
				s->thr_pending = false;
			break;
		case LCR: v = s->lcr; break;
		case MCR: v = s->mcr; break;
		case LSR:
			v = LSR_THRE | LSR_TEMT | (s->rx_len ? LSR_DR : 0);
			break;
		case MSR:
			/* loopback: outputs fed back; else DCD|DSR|CTS asserted */
			v = (s->mcr & MCR_LOOP) ? (uint8_t)(((s->mcr & 0x0c) << 4) | ((s->mcr & 0x03) << 4)) : 0xb0;
			break;
		case SCR: v = s->scr; break;
		}
		data[0] = v;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_input(void *opaque, uint32_t events)
{
	struct serial *s = opaque;
	uint8_t buf[RX_FIFO];
	pthread_mutex_lock(&s->lock);
	size_t room = RX_FIFO - s->rx_len;
	if (!room) {
		/* FIFO full: drop a batch rather than stall the event loop. */
		room = sizeof(buf);
	}
	ssize_t n = read(s->in_fd, buf, room);
	if (n <= 0 || (events & (EPOLLHUP | EPOLLERR))) {
		if (n <= 0) {
			ev_del(vm_evloop(s->vm), s->in_fd); /* EOF: no more input */
			s->in_fd = -1;
		}
	}
	for (ssize_t i = 0; i < n && s->rx_len < RX_FIFO; i++)
		s->rx[(s->rx_head + s->rx_len++) % RX_FIFO] = buf[i];
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

int serial_create(struct vm *vm, uint16_t base, unsigned irq, int in_fd, int out_fd, struct serial **out)
{
	struct serial *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(ENOMEM, "serial: out of memory");
	pthread_mutex_init(&s->lock, NULL);
	s->vm = vm;
	s->irq = irq;
	s->in_fd = in_fd;
	s->out_fd = out_fd;
	conout_init(&s->co, out_fd, vm_evloop(vm), &s->lock);
	s->lcr = 0x03; /* 8N1 */
	s->mcr = 0x08; /* OUT2 */
	int rc = vm_pio_register(vm, base, 8, serial_io, s);
	if (!rc && in_fd >= 0) {
		rc = ev_add(vm_evloop(vm), in_fd, EPOLLIN, serial_input, s);
		if (rc == -EPERM) {
			/* a regular file or /dev/null cannot be polled: no input */
			s->in_fd = -1;
			err_clear();
			rc = 0;
		}
	}
	if (rc) {
		conout_fini(&s->co);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	if (s->out_len)
		flush_out(s);
	conout_fini(&s->co);
	if (s->in_fd >= 0)
		ev_del(vm_evloop(s->vm), s->in_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
