/* libFuzzer target: one request of the control API (vmm/api_request.c and
 * the VmConfig rules of vmm/api_vmconfig.c it applies to vm.create). The
 * first byte picks the method, the text up to the first newline is the URL,
 * the rest the body. Any input must give 0 with a known operation (and a
 * VmConfig for vm.create that applies and converts back), or -1 with an
 * HTTP status of 4xx/5xx and a message; never a crash or a leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api.h"
#include "vmm/vmm_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "PUT", "POST", "DELETE" };
	struct api_request rq;
	const char *nl;
	char *url;

	if (!size)
		return 0;
	nl = memchr(data + 1, '\n', size - 1);
	size_t ulen = nl ? (size_t)(nl - (const char *)data - 1) : size - 1;
	if (!(url = malloc(ulen + 1)))
		return 0;
	memcpy(url, data + 1, ulen);
	url[ulen] = 0;
	const char *body = nl ? nl + 1 : "";
	size_t blen = nl ? size - 2 - ulen : 0;
	if (api_request_parse(methods[data[0] % 4], url, body, blen, &rq)) {
		if (rq.status < 400 || rq.status > 599 || !rq.msg[0] || rq.body)
			abort();
	} else {
		if (rq.op > API_VM_ATTESTATION || (rq.op == API_VM_CREATE) != (rq.body != NULL))
			abort();
		if (rq.body) {
			struct vm_config c = { .platform = "kvm", .mem = 512ull << 20, .vcpus = 1 };
			if (api_vmconfig_apply(rq.body, &c) || !c.kernel || c.vcpus < 1 || c.vcpus > VM_MAX_VCPUS ||
			    c.ndisks > VMM_MAX_DISKS)
				abort();
			json_t *back = api_vmconfig_from_run(&c);
			if (!back)
				abort();
			json_decref(back);
		}
		api_request_clear(&rq);
	}
	free(url);
	return 0;
}
