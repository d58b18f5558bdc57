/* irq_route.c - MSI routes for irqfds (Documentation/virt/kvm/api.rst:
 * KVM_SET_GSI_ROUTING, KVM_IRQFD). Each MSI-X vector of a virtio-pci
 * device gets a GSI above the IOAPIC's 24 pins with an eventfd bound to it
 * once, at set-up; the vector's address/data become that GSI's MSI route
 * when the guest programs its table. Signalling the vector is then one
 * eventfd write, from any thread (an I/O thread, the event loop), or from
 * the kernel itself (vhost).
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so the table always starts
 * with KVM's own default routes (arch/x86/kvm/irq_comm.c): GSI 0-15 on the
 * IOAPIC pin of the same number and on the PIC, 16-23 on the IOAPIC. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/common.h"
#include "vmm/kvm_uapi.h"
#include "vmm/vmm_core.h"

#define IRQ_ROUTE_FIRST_MSI 24
#define IRQ_ROUTE_MAX_MSI   512 /* well below KVM_MAX_IRQ_ROUTES (4096) */

struct irq_routes {
	pthread_mutex_t lock;
	unsigned n_msi;                 /* GSIs handed out: FIRST_MSI .. FIRST_MSI + n_msi - 1 */
	struct { bool set; uint64_t addr; uint32_t data; } msi[IRQ_ROUTE_MAX_MSI];
	bool broken;                    /* KVM refused a table: every caller falls back */
	/* the table handed to KVM, allocated with the routes (at set-up):
	 * commits run on vCPU, event-loop and I/O threads, whose seccomp
	 * lists have no mprotect for a malloc arena that would have to grow */
	struct kvm_irq_routing *table;
};

#define IRQ_ROUTE_TABLE_SIZE (sizeof(struct kvm_irq_routing) + \
			      (40 + IRQ_ROUTE_MAX_MSI) * sizeof(struct kvm_irq_routing_entry))

unsigned irq_route_default_table(struct kvm_irq_routing_entry *e)
{
	unsigned n = 0;

	for (unsigned gsi = 0; gsi < IRQ_ROUTE_FIRST_MSI; gsi++) {
		e[n++] = (struct kvm_irq_routing_entry){ .gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
							 .u.irqchip = { KVM_IRQCHIP_IOAPIC, gsi } };
		if (gsi < 16)
			e[n++] = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, gsi % 8 } };
	}
	return n;
}

static struct irq_routes *routes_of(struct vm *vm)
{
	if (!vm->irq_routes) {
		struct irq_routes *r = calloc(1, sizeof(*r));
		if (r && !(r->table = calloc(1, IRQ_ROUTE_TABLE_SIZE))) {
			free(r);
			r = NULL;
		}
		if (!r)
			return NULL;
		pthread_mutex_init(&r->lock, NULL);
		vm->irq_routes = r;
	}
	return vm->irq_routes;
}

/* The whole table to KVM (r->lock held). */
static int commit(struct vm *vm, struct irq_routes *r)
{
	struct kvm_irq_routing *t = r->table;
	unsigned n;
	int rc = 0;

	memset(t, 0, IRQ_ROUTE_TABLE_SIZE);
	n = irq_route_default_table(t->entries);
	for (unsigned i = 0; i < r->n_msi; i++) {
		if (!r->msi[i].set)
			continue;
		t->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = IRQ_ROUTE_FIRST_MSI + i, .type = KVM_IRQ_ROUTING_MSI,
			.u.msi = { .address_lo = (uint32_t)r->msi[i].addr,
				   .address_hi = (uint32_t)(r->msi[i].addr >> 32), .data = r->msi[i].data } };
	}
	t->nr = n;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, t) < 0) {
		rc = -errno;
		r->broken = true; /* e.g. a split irqchip: stay with KVM_SIGNAL_MSI */
	}
	return rc;
}

int vm_irqfd_route(struct vm *vm, int efd)
{
	struct irq_routes *r = routes_of(vm);
	struct kvm_irqfd f = { .fd = (uint32_t)efd };
	int gsi;

	if (!r)
		return -ENOMEM;
	pthread_mutex_lock(&r->lock);
	if (r->broken || r->n_msi == IRQ_ROUTE_MAX_MSI) {
		pthread_mutex_unlock(&r->lock);
		return -ENOSPC;
	}
	gsi = IRQ_ROUTE_FIRST_MSI + (int)r->n_msi;
	f.gsi = (uint32_t)gsi;
	/* an irqfd on a GSI without a route yet stays silent until it has one */
	if (ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0) {
		int e = errno;
		pthread_mutex_unlock(&r->lock);
		return -e;
	}
	r->n_msi++;
	pthread_mutex_unlock(&r->lock);
	return gsi;
}

int vm_irqfd_set_msi(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data)
{
	struct irq_routes *r = vm->irq_routes;
	unsigned i = gsi - IRQ_ROUTE_FIRST_MSI;
	int rc = 0;

	if (!r || gsi < IRQ_ROUTE_FIRST_MSI)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	if (i >= r->n_msi || r->broken)
		rc = r->broken ? -ENOSYS : -EINVAL;
	else if (!r->msi[i].set || r->msi[i].addr != addr || r->msi[i].data != data) {
		r->msi[i].set = true;
		r->msi[i].addr = addr;
		r->msi[i].data = data;
		rc = commit(vm, r);
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void vm_irq_routes_free(struct vm *vm)
{
	if (!vm->irq_routes)
		return;
	pthread_mutex_destroy(&vm->irq_routes->lock);
	free(vm->irq_routes->table);
	free(vm->irq_routes);
	vm->irq_routes = NULL;
}
