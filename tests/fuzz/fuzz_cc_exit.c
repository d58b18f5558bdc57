/* libFuzzer target: the exits a hostile confidential guest controls at run
 * time (vmm/cc_run.c, tdx/tdx_exit.c) and the QGS response parser
 * (tdx/qgs.c). The input is a sequence of 33-byte records: a kind byte and
 * four little-endian u64 (gpa, size/npages, attributes/flags, extra), fed
 * as KVM_HC_MAP_GPA_RANGE, KVM_EXIT_MEMORY_FAULT, GetQuote (no QGS, so no
 * thread), SetupEventNotifyInterrupt or GetTdVmCallInfo against two
 * adjacent guest_memfd slots through the recorder; what is left over goes
 * to qgs_parse_response. Invariants: the VMM never crashes, a converted
 * range lies inside guest RAM, a parsed quote lies inside its message. */
#include <stdint.h>
#include <string.h>

#include "tdx/backend_tdx.h"
#include "vmm/ioctl_rec.h"
#include "vmm/kvm_uapi.h"

#define RAM0 0x100000ull
#define RAM1 0x80000ull

static struct cc_rec *rec;
static struct cc_slot slot[2];
static struct cc_mem mem;

static void init(void)
{
	struct cc_io *io;
	int kvm, vm;

	if (rec)
		return;
	if (cc_rec_create(NULL, &rec))
		__builtin_trap();
	io = cc_rec_io(rec);
	kvm = io->open(io, "/dev/kvm");
	vm = io->ioctl(io, kvm, KVM_CREATE_VM, (void *)(uintptr_t)KVM_X86_TDX_VM);
	if (cc_slot_add(io, vm, 0, 0, RAM0, "fuzz", &slot[0]) || cc_slot_add(io, vm, 1, RAM0, RAM1, "fuzz", &slot[1]))
		__builtin_trap();
	cc_mem_init(&mem, io, vm, slot, 2, true);
}

static uint64_t u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdx_run_ctx t;
	struct kvm_run run;
	const uint8_t *q;
	uint32_t ql;

	init();
	tdx_run_ctx_init(&t, &mem, NULL);
	while (size >= 33) {
		uint64_t a = u64(data + 1), b = u64(data + 9), c = u64(data + 17), d = u64(data + 25);
		uint64_t before = mem.to_private + mem.to_shared;

		memset(&run, 0, sizeof(run));
		switch (data[0] % 5) {
		case 0:
			run.exit_reason = KVM_EXIT_HYPERCALL;
			run.hypercall.nr = d & 1 ? KVM_HC_MAP_GPA_RANGE : d;
			run.hypercall.args[0] = a;
			run.hypercall.args[1] = b;
			run.hypercall.args[2] = c;
			cc_exit_hypercall(&mem, &run);
			/* accepted only for a range inside RAM */
			if (run.hypercall.ret == 0 && (b == 0 || b > (RAM0 + RAM1) / 4096 || a + (b << 12) > RAM0 + RAM1))
				__builtin_trap();
			break;
		case 1:
			run.exit_reason = KVM_EXIT_MEMORY_FAULT;
			run.memory_fault.flags = c;
			run.memory_fault.gpa = a;
			run.memory_fault.size = b;
			if (!cc_exit_memory_fault(&mem, &run) && (b == 0 || a + b > RAM0 + RAM1 || a + b < a))
				__builtin_trap();
			break;
		case 2:
			/* the guest's buffer header from the input */
			if (a < RAM0 + RAM1 && a + 24 <= RAM0 + RAM1 && a % 8 == 0) {
				uint8_t *h = cc_mem_shared(&mem, a, 24);
				if (h) {
					memcpy(h, &c, 8);
					memcpy(h + 16, &d, 8);
				}
			}
			run.exit_reason = KVM_EXIT_TDX;
			run.tdx.nr = TDVMCALL_GET_QUOTE;
			run.tdx.get_quote.gpa = a;
			run.tdx.get_quote.size = b;
			tdx_exit(&t, 0, &run);
			break;
		case 3:
			run.exit_reason = KVM_EXIT_TDX;
			run.tdx.nr = TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT;
			run.tdx.setup_event_notify.vector = a;
			tdx_exit(&t, (unsigned)b, &run);
			break;
		default:
			run.exit_reason = KVM_EXIT_TDX;
			run.tdx.nr = c;
			run.tdx.get_tdvmcall_info.leaf = a;
			tdx_exit(&t, 0, &run);
		}
		if (mem.to_private + mem.to_shared < before)
			__builtin_trap();
		data += 33;
		size -= 33;
	}
	tdx_run_ctx_drain(&t);
	if (!qgs_parse_response(data, size, &q, &ql) && (q < data || ql > size || q + ql > data + size))
		__builtin_trap();
	return 0;
}
