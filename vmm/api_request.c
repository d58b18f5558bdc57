/* api_request.c - one request of the control API: the path, the method and
 * the body checked as Cloud Hypervisor's HTTP front end checks them
 * (vmm/src/api/http/mod.rs: an unknown path is 404, a method an endpoint
 * does not take 400, a body that is not its schema 400). Endpoints of
 * Cloud Hypervisor's API that cvmm does not offer answer 500, as an action
 * the VMM cannot carry out does there, naming the endpoint. No I/O. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "vmm/api.h"
#include "vmm/vmm_core.h"

#define API_ROOT "/api/v1/"

static const struct route {
	const char *name;
	enum api_op op;
	bool put; /* else GET */
} routes[] = {
	{ "vmm.ping", API_VMM_PING, false }, { "vmm.shutdown", API_VMM_SHUTDOWN, true },
	{ "vm.create", API_VM_CREATE, true }, { "vm.delete", API_VM_DELETE, true },
	{ "vm.boot", API_VM_BOOT, true }, { "vm.shutdown", API_VM_SHUTDOWN, true },
	{ "vm.reboot", API_VM_REBOOT, true }, { "vm.power-button", API_VM_POWER_BUTTON, true },
	{ "vm.pause", API_VM_PAUSE, true }, { "vm.resume", API_VM_RESUME, true },
	{ "vm.info", API_VM_INFO, false }, { "vm.counters", API_VM_COUNTERS, false },
	{ "vm.attestation", API_VM_ATTESTATION, false },
};

/* The rest of Cloud Hypervisor's paths (its OpenAPI document). */
static const char *const not_offered[] = {
	"vm.resize", "vm.resize-disk", "vm.resize-zone", "vm.add-device", "vm.remove-device", "vm.add-disk",
	"vm.add-fs", "vm.add-generic-vhost-user", "vm.add-pmem", "vm.add-net", "vm.add-vsock", "vm.add-vdpa",
	"vm.add-user-device", "vm.snapshot", "vm.coredump", "vm.nmi", "vm.restore", "vm.receive-migration",
	"vm.send-migration",
};

const char *api_op_name(enum api_op op)
{
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++)
		if (routes[i].op == op)
			return routes[i].name;
	return "?";
}

static int fail(struct api_request *rq, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct api_request *rq, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rq->msg, sizeof(rq->msg), fmt, ap);
	va_end(ap);
	rq->status = status;
	json_decref(rq->body);
	rq->body = NULL;
	return -1;
}

int api_request_parse(const char *method, const char *url, const char *body, size_t len, struct api_request *rq)
{
	const struct route *r = NULL;
	const char *name;
	json_error_t e;

	memset(rq, 0, sizeof(*rq));
	if (!method || !url)
		return fail(rq, 400, "bad request line");
	if (strncmp(url, API_ROOT, strlen(API_ROOT)))
		return fail(rq, 404, "%.100s: not found (the API lives under " API_ROOT ")", url);
	name = url + strlen(API_ROOT);
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++)
		if (!strcmp(name, routes[i].name))
			r = &routes[i];
	if (!r) {
		for (size_t i = 0; i < ARRAY_SIZE(not_offered); i++)
			if (!strcmp(name, not_offered[i]))
				return fail(rq, 500, "%s: not supported by cvmm (docs/api.md)", name);
		return fail(rq, 404, "%.100s: not found", url);
	}
	if (strcmp(method, r->put ? "PUT" : "GET"))
		return fail(rq, 400, "%s takes %s, not %.16s", r->name, r->put ? "PUT" : "GET", method);
	rq->op = r->op;
	if (len > API_BODY_MAX)
		return fail(rq, 413, "request body of %zu bytes: at most %u", len, API_BODY_MAX);
	if (r->op != API_VM_CREATE)
		return 0; /* Cloud Hypervisor ignores the body of the others */
	if (!len)
		return fail(rq, 400, "vm.create: the body must be a VmConfig");
	rq->body = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
	if (!rq->body)
		return fail(rq, 400, "vm.create: bad JSON at line %d column %d: %s", e.line, e.column, e.text);
	/* checked now so a bad config never reaches the controller: applied
	 * to scratch defaults (the controller applies it to its own) */
	struct vm_config scratch = { .platform = "auto", .mem = 512ull << 20, .vcpus = 1 };
	if (api_vmconfig_apply(rq->body, &scratch))
		return fail(rq, 400, "vm.create: %s", err_msg());
	return 0;
}

void api_request_clear(struct api_request *rq)
{
	json_decref(rq->body);
	rq->body = NULL;
}
