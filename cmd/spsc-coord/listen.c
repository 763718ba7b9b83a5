/*
 * listen: binds the ROUTER socket.
 *
 * ZeroMQ copies a socket's options into an endpoint when it is bound
 * (zmq_setsockopt(3): options "only take effect for subsequent socket
 * bind/connects"), and the order here relies on it:
 *
 *   1. the ipc endpoints, $SPSC_HOME/coord.sock and any --bind ipc://:
 *      plain ZMTP, guarded by file permissions (and beside them the
 *      unix:// sockets, $SPSC_HOME/coord.unix and any --bind unix://,
 *      which are not ZeroMQ's: conns.c);
 *   2. with --curve, the socket becomes a CURVE server and the ZAP
 *      handler starts (curve.c);
 *   3. every other endpoint, which is then a CURVE one.
 *
 * So local tools keep using the ipc socket without keys, and with --curve
 * no TCP endpoint ever exists without it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "curve.h"
#include "listen.h"
#include "log.h"
#include "unixconn.h"

#define LOCALHOST "tcp://localhost:"

/* The addresses bound so far, ", "-separated, for the readiness status
 * (server.c); cut short if they do not fit. */
static void add_url(struct listen_urls *u, const char *url)
{
	size_t n = strlen(u->list);

	if (n < sizeof u->list - 1 &&
	    snprintf(u->list + n, sizeof u->list - n, "%s%s", n ? ", " : "", url) < 0)
		u->list[n] = '\0';
}

/* Binds url, and logs it with the port it got for a port "*" or 0 (which
 * ZMQ_LAST_ENDPOINT has, though spelled [::ffff:127.0.0.1] under
 * ZMQ_IPV6); leaves what it logged in got and adds it to u. */
static int bind_one(void *router, const char *url, char *got, size_t len,
		    struct listen_urls *u)
{
	char last[300];
	size_t n = sizeof last;
	const char *colon = strrchr(url, ':'), *port;

	if (zmq_bind(router, url) < 0) {
		log_error("bind %s: %s", url, zmq_strerror(errno));
		return -1;
	}
	snprintf(got, len, "%s", url);
	if (strncmp(url, "tcp://", 6) == 0 && colon &&
	    (strcmp(colon, ":*") == 0 || strcmp(colon, ":0") == 0) &&
	    zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, last, &n) == 0 &&
	    (port = strrchr(last, ':')) != NULL)
		snprintf(got, len, "%.*s%s", (int)(colon - url), url, port);
	log_info("listening on %s", got);
	add_url(u, got);
	return 0;
}

/* The socket file is created by bind(2) inside zmq_bind, under this
 * umask: it is 0600 from the moment it exists, whatever the caller's
 * umask.  (A chmod after the bind would leave a moment in which anyone
 * could connect.)  An abstract socket (ipc://@NAME) has no file. */
static int bind_ipc(void *router, const char *url, struct listen_urls *u)
{
	char got[4200];
	mode_t old = umask(0177);
	int rc = bind_one(router, url, got, sizeof got, u);

	umask(old);
	return rc;
}

/* ZeroMQ does not resolve host names when binding, so tcp://localhost:PORT
 * would fail with "No such device".  Bind what a client resolving
 * localhost may reach instead: 127.0.0.1, and ::1 where the host has IPv6
 * loopback (libzmq's resolver prefers it), on one port: the one 127.0.0.1
 * got, for PORT "*". */
static int bind_localhost(void *router, const char *url, struct listen_urls *u)
{
	char v4[300], v6[300], got[300];
	const char *port;

	snprintf(v4, sizeof v4, "tcp://127.0.0.1:%.200s", url + strlen(LOCALHOST));
	if (bind_one(router, v4, got, sizeof got, u) < 0)
		return -1;
	port = strrchr(got, ':') + 1;
	snprintf(v6, sizeof v6, "tcp://[::1]:%.200s", port);
	if (zmq_bind(router, v6) == 0) {
		log_info("listening on %s", v6);
		add_url(u, v6);
		return 0;
	}
	if (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT || errno == ENODEV ||
	    errno == EPROTONOSUPPORT) {
		log_debug("bind %s: %s; localhost is 127.0.0.1 only", v6, zmq_strerror(errno));
		return 0;
	}
	log_error("bind %s (for %s): %s", v6, url, zmq_strerror(errno));
	return -1;
}

static int is_ipc(const char *url)
{
	return strncmp(url, "ipc://", 6) == 0;
}

int listen_all(void *zctx, void *router, struct conns *cs, size_t max_request,
	       const struct serve_opts *o, struct listen_urls *u)
{
	char url[4200], got[4200];
	int curved = 0;

	u->list[0] = '\0';
	snprintf(url, sizeof url, "ipc://%s/coord.sock", o->home);
	if (bind_ipc(router, url, u) < 0)
		return -1;
	snprintf(url, sizeof url, "%s/coord.unix", o->home);
	if (conns_listen(cs, url, max_request, 1) < 0)
		return -1;
	snprintf(got, sizeof got, "unix://%.4000s", url);
	add_url(u, got);
	for (int i = 0; i < o->nbinds; i++) {
		const char *b = o->binds[i];
		if (unixconn_is_url(b)) {
			if (conns_listen(cs, unixconn_path(b), max_request, 0) < 0)
				return -1;
			add_url(u, b);
		} else if (is_ipc(b) && bind_ipc(router, b, u) < 0) {
			return -1;
		}
	}
	if (o->curve_key &&
	    curve_server_start(zctx, router, o->curve_key, o->curve_clients) < 0)
		return -1;
	for (int i = 0; i < o->nbinds; i++) {
		const char *b = o->binds[i];
		if (is_ipc(b) || unixconn_is_url(b))
			continue;
		if (strncmp(b, LOCALHOST, strlen(LOCALHOST)) == 0 ? bind_localhost(router, b, u) < 0
								  : bind_one(router, b, got, sizeof got, u) < 0)
			return -1;
		curved = 1;
	}
	if (o->curve_key && curved)
		log_info("CURVE on every endpoint but ipc; clients admitted by the keys in %s",
			 o->curve_clients);
	else if (o->curve_key)
		log_warn("--curve: no --bind address uses it (CURVE applies to tcp, not to ipc)");
	return 0;
}
