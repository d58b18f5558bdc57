/* api_server.c - HTTP/1.1 on a Unix socket for the control API, served by
 * libmicrohttpd from a socket bound here (MHD_OPTION_LISTEN_SOCKET). The
 * socket file is made 0600 (0660 and the group with --api-socket-group)
 * before anyone can connect, and every connection's peer (SO_PEERCRED)
 * must be our uid, or in that group: others get 403. The daemon is started
 * from a thread that carries the api seccomp filter, so its threads are
 * born with it (as the attestation endpoint's). Bodies over API_BODY_MAX
 * get 413 and are drained, never stored. */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/common.h"
#include "vmm/api.h"
#include "vmm/confine/confine.h"

#define API_TIMEOUT_S 30
#define API_DRAIN_MAX (1u << 20) /* then the connection is closed */

struct api_server {
	struct MHD_Daemon *d;
	struct api_vmm *vmm;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uid_t uid;
	gid_t gid;
	bool group;
};

struct request {
	bool too_large;
	char *body;
	size_t len, dropped;
};

static enum MHD_Result send_reply(struct MHD_Connection *c, struct api_reply *rep)
{
	char *text = rep->body ? json_dumps(rep->body, JSON_COMPACT) : NULL;
	struct MHD_Response *r;
	enum MHD_Result ret;

	json_decref(rep->body);
	rep->body = NULL;
	if (text)
		r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	else
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	if (text)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_SERVER, "cvmm API");
	ret = MHD_queue_response(c, (unsigned)rep->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *msg)
{
	struct api_reply rep = { .status = status, .body = json_pack("[s]", msg) };
	return send_reply(c, &rep);
}

/* SO_PEERCRED: our uid, or the socket's group when one was given. */
static bool peer_allowed(struct api_server *s, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || len != sizeof(cred))
		return false;
	return cred.uid == s->uid || (s->group && cred.gid == s->gid);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct api_server *s = cls;
	struct request *rq = *con_cls;

	(void)version;
	if (!rq) {
		/* the first call, before any body is read: refuse others here */
		if (!peer_allowed(s, c))
			return send_error(c, 403, "this socket is for its owner (and group) only");
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size) {
		if (rq->too_large || rq->len + *upload_size > API_BODY_MAX) {
			rq->too_large = true;
			free(rq->body);
			rq->body = NULL;
			rq->dropped += *upload_size;
			if (rq->dropped > API_DRAIN_MAX)
				return MHD_NO;
		} else {
			char *nb = realloc(rq->body, rq->len + *upload_size);
			if (!nb)
				return MHD_NO;
			memcpy(nb + rq->len, upload, *upload_size);
			rq->body = nb;
			rq->len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->too_large)
		return send_error(c, 413, "request body too large");
	struct api_request req;
	struct api_reply rep;
	if (api_request_parse(method, url, rq->body, rq->len, &req))
		return send_error(c, req.status, req.msg);
	api_vmm_execute(s->vmm, &req, &rep);
	api_request_clear(&req);
	return send_reply(c, &rep);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	(void)cls, (void)c, (void)toe;
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

static int bind_socket(struct api_server *s, const char *path, const char *group)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(ENAMETOOLONG, "--api-socket %s: path too long (at most %zu bytes)", path,
			       sizeof(sa.sun_path) - 1);
	if (group) {
		struct group *g = getgrnam(group);
		char *end;
		unsigned long v = strtoul(group, &end, 10);
		if (!g && (*end || end == group))
			return err_set(EINVAL, "--api-socket-group %s: no such group", group);
		s->gid = g ? g->gr_gid : (gid_t)v;
		s->group = true;
	}
	/* a socket left by an earlier run is replaced; anything else is not */
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode))
			return err_set(EEXIST, "--api-socket %s: exists and is not a socket", path);
		unlink(path);
	}
	strcpy(sa.sun_path, path);
	strcpy(s->path, path);
	if ((s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return err_set(errno, "--api-socket: socket: %s", strerror(errno));
	/* the file is born 0600: no window where others could connect */
	mode_t old = umask(0177);
	int rc = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc)
		return err_set(errno, "--api-socket %s: bind: %s", path, strerror(errno));
	if (s->group && (chown(path, (uid_t)-1, s->gid) || chmod(path, 0660)))
		return err_set(errno, "--api-socket %s: group %s: %s", path, group, strerror(errno));
	if (listen(s->fd, 16))
		return err_set(errno, "--api-socket %s: listen: %s", path, strerror(errno));
	return 0;
}

struct start {
	struct api_server *s;
	int rc;
	char msg[256];
};

/* The api filter first, then the daemon: its threads inherit the filter. */
static void *start_thread(void *arg)
{
	struct start *st = arg;
	struct api_server *s = st->s;

	if ((st->rc = confine_seccomp_install(CONFINE_API, confine_seccomp_get_mode()))) {
		snprintf(st->msg, sizeof(st->msg), "%s", err_msg());
		return NULL;
	}
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC,
				0, NULL, NULL,
				handle, s, MHD_OPTION_LISTEN_SOCKET, s->fd, MHD_OPTION_CONNECTION_LIMIT, 16u,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
				completed, NULL, MHD_OPTION_END);
	if (!s->d) {
		st->rc = -EIO;
		snprintf(st->msg, sizeof(st->msg), "--api-socket %s: the HTTP server did not start", s->path);
	}
	return NULL;
}

int api_server_start(const char *path, const char *group, struct api_vmm *a, struct api_server **out)
{
	struct api_server *s = calloc(1, sizeof(*s));
	struct start st = { .s = s };
	pthread_t t;
	int rc;

	*out = NULL;
	if (!s)
		return err_set(ENOMEM, "out of memory");
	s->fd = -1;
	s->vmm = a;
	s->uid = geteuid(); /* cached: the api filter has no geteuid */
	/* what would otherwise open files under the api filter, done here once:
	 * the Date header's time zone (glibc reads /etc/localtime), jansson's
	 * hash seed (read from /dev/urandom at the first object) */
	tzset();
	json_object_seed(0);
	if ((rc = bind_socket(s, path, group)))
		goto fail;
	if ((rc = pthread_create(&t, NULL, start_thread, &st))) {
		rc = err_set(rc, "API server thread: %s", strerror(rc));
		goto fail;
	}
	pthread_join(t, NULL);
	if ((rc = st.rc)) {
		err_set(-rc, "%s", st.msg);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	api_server_stop(s);
	return rc;
}

void api_server_stop(struct api_server *s)
{
	if (!s)
		return;
	if (s->d) {
		/* let replies in flight (vmm.shutdown's own) reach their clients:
		 * no new connections, then up to 2 s for the open ones */
		if (MHD_quiesce_daemon(s->d) == MHD_INVALID_SOCKET)
			s->fd = -1; /* still the daemon's: it closes it */
		for (int i = 0; i < 200; i++) {
			const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
			if (!di || !di->num_connections)
				break;
			usleep(10000);
		}
		MHD_stop_daemon(s->d);
	}
	if (s->fd >= 0)
		close(s->fd);
	if (s->path[0])
		unlink(s->path);
	free(s);
}
