/*
 * curve: key pairs, and the CURVE server side of spsc-coord (see curve.h).
 *
 * libzmq 4.3 lets a CURVE handshake through without asking anyone when no
 * ZAP handler is bound (ZMQ_ZAP_ENFORCE_DOMAIN, which would refuse it
 * instead, is still a draft option).  So the handler is bound before the
 * first CURVE endpoint, and if its thread ever cannot go on, the process
 * exits at once rather than leave the endpoints open to every key.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "curve.h"
#include "curvekey.h"
#include "fdio.h"
#include "log.h"
#include "opt.h"
#include "units.h"

#define ZAP_URL "inproc://zeromq.zap.01"
#define ZAP_DOMAIN "spsc"
#define ZAP_PARTS 8		/* a CURVE request has 7 */
#define REFUSAL_LOG_EVERY (60 * NS_PER_SEC)

struct zap {
	void *sock;
	char dir[4096];
	uint8_t last_refused[CURVEKEY_BIN];	/* to log a retrying client once */
	int64_t last_refused_at;
};

static struct zap zap;
static void *zap_thread;

static int no_curve(void)
{
	if (zmq_has("curve"))
		return 0;
	log_error("this libzmq has no CURVE support (zmq_has(\"curve\") is false); "
		  "install one built with libsodium, such as Debian's libzmq5");
	return 1;
}

static int write_key(const char *path, const char *z85, mode_t mode)
{
	char line[CURVEKEY_Z85 + 2];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, mode);

	if (fd < 0) {
		if (errno == EEXIST)
			log_error("%s exists; not overwriting it (remove it, or choose another PREFIX)", path);
		else
			log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(line, sizeof line, "%s\n", z85);
	/* fchmod: the umask must not take the owner's read bit away. */
	if (fchmod(fd, mode) < 0 || fd_write_all(fd, line, strlen(line)) < 0 ||
	    fsync(fd) < 0) {
		log_error("%s: %s", path, strerror(errno));
		explicit_bzero(line, sizeof line);
		close(fd);
		unlink(path);
		return -1;
	}
	explicit_bzero(line, sizeof line);
	if (close(fd) < 0) {
		log_error("%s: close: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

int curve_keygen(const char *prefix)
{
	char pub[CURVEKEY_Z85 + 1], sec[CURVEKEY_Z85 + 1];
	char keypath[4200], pubpath[4200];
	struct stat st;
	int rc = -1;

	if (no_curve())
		return -1;
	if (snprintf(keypath, sizeof keypath, "%s.key", prefix) >= (int)sizeof keypath ||
	    snprintf(pubpath, sizeof pubpath, "%s.pub", prefix) >= (int)sizeof pubpath) {
		log_error("keygen: PREFIX is too long");
		return -1;
	}
	/* Both are refused before either is written; O_EXCL below closes the
	 * race with another keygen. */
	if (lstat(pubpath, &st) == 0) {
		log_error("%s exists; not overwriting it (remove it, or choose another PREFIX)", pubpath);
		return -1;
	}
	if (zmq_curve_keypair(pub, sec) < 0) {
		log_error("zmq_curve_keypair: %s", zmq_strerror(errno));
		return -1;
	}
	if (write_key(keypath, sec, 0600) == 0) {
		if (write_key(pubpath, pub, 0644) == 0)
			rc = 0;
		else
			unlink(keypath);
	}
	explicit_bzero(sec, sizeof sec);
	if (rc < 0)
		return -1;
	printf("%s\n", pub);
	if (fflush(stdout) != 0) {
		log_error("stdout: %s", strerror(errno));
		return -1;
	}
	log_info("wrote %s (secret, mode 0600) and %s", keypath, pubpath);
	return 0;
}

/* A secret key of ours, checked as curvekey_read does, plus the mistake
 * of giving the public half. */
static int read_secret(const char *keyfile, char *z85)
{
	size_t n = strlen(keyfile);
	char err[700];

	if (n > 4 && strcmp(keyfile + n - 4, ".pub") == 0) {
		log_error("--curve %s: that is a public key; give the secret key file (PREFIX.key)",
			  keyfile);
		return -1;
	}
	if (curvekey_read(keyfile, 1, z85, err, sizeof err) < 0) {
		log_error("--curve %s", err);
		return -1;
	}
	return 0;
}

static int is_pub_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".pub") == 0;
}

/* Counts the client keys in dir; -1 if it cannot be read. */
static int count_keys(const char *dir)
{
	char path[4400], z85[CURVEKEY_Z85 + 1], err[700];
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	if (dp == NULL) {
		log_error("--clients %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((d = readdir(dp)) != NULL) {
		if (!is_pub_name(d->d_name))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, d->d_name);
		if (curvekey_read(path, 0, z85, err, sizeof err) < 0)
			log_warn("--clients: %s; ignored", err);
		else
			n++;
	}
	closedir(dp);
	return n;
}

int curve_server_check(const char *keyfile, const char *dir)
{
	char z85[CURVEKEY_Z85 + 1];
	struct stat st;
	int n;

	if (no_curve() || read_secret(keyfile, z85) < 0)
		return -1;
	explicit_bzero(z85, sizeof z85);
	if (stat(dir, &st) < 0) {
		log_error("--clients %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_error("--clients %s: not a directory", dir);
		return -1;
	}
	/* Whoever can add a file there can let themselves in. */
	if (st.st_mode & 022) {
		log_error("--clients %s: the directory has mode %04o, writable by group or others; run 'chmod go-w %s'",
			  dir, (unsigned)(st.st_mode & 07777), dir);
		return -1;
	}
	if ((n = count_keys(dir)) < 0)
		return -1;
	if (n == 0)
		log_warn("--clients %s: no client keys (*.pub) yet; every CURVE client is refused until one is added",
			 dir);
	else
		log_info("CURVE: %d client key%s in %s", n, n == 1 ? "" : "s", dir);
	return 0;
}

/* 1 if key is one of the *.pub files in dir, with the file's name (less
 * .pub) in name, which becomes the ZAP user id. */
static int key_listed(const char *dir, const uint8_t *key, char *name, size_t len)
{
	char path[4400], z85[CURVEKEY_Z85 + 1], err[700];
	uint8_t bin[CURVEKEY_BIN];
	struct dirent *d;
	DIR *dp = opendir(dir);
	int found = 0;

	if (dp == NULL) {
		log_error("--clients %s: %s; refusing every CURVE client", dir, strerror(errno));
		return 0;
	}
	while (!found && (d = readdir(dp)) != NULL) {
		if (!is_pub_name(d->d_name))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, d->d_name);
		if (curvekey_read(path, 0, z85, err, sizeof err) < 0) {
			log_warn("--clients: %s; ignored", err);
			continue;
		}
		if (zmq_z85_decode(bin, z85) && memcmp(bin, key, sizeof bin) == 0) {
			snprintf(name, len, "%.*s", (int)strlen(d->d_name) - 4, d->d_name);
			found = 1;
		}
	}
	closedir(dp);
	return found;
}

static void log_refusal(struct zap *z, const uint8_t *key, const zmq_msg_t *address)
{
	char z85[CURVEKEY_Z85 + 1] = "?";
	int64_t now = mono_ns();

	if (memcmp(key, z->last_refused, sizeof z->last_refused) == 0 &&
	    now - z->last_refused_at < REFUSAL_LOG_EVERY)
		return;		/* the same client retrying */
	memcpy(z->last_refused, key, sizeof z->last_refused);
	z->last_refused_at = now;
	zmq_z85_encode(z85, key, CURVEKEY_BIN);
	log_warn("refused a CURVE client from %.*s: its public key %s is not in %s",
		 (int)zmq_msg_size((zmq_msg_t *)address), (const char *)zmq_msg_data((zmq_msg_t *)address),
		 z85, z->dir);
}

static int part_is(zmq_msg_t *m, const char *s)
{
	return zmq_msg_size(m) == strlen(s) && memcmp(zmq_msg_data(m), s, strlen(s)) == 0;
}

/* Reads one request: 1, or 0 when the context ends, -1 on error. */
static int zap_recv(void *sock, zmq_msg_t *parts, size_t *n)
{
	int more = 1;

	*n = 0;
	while (more) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, 0) < 0) {
			int err = errno;
			zmq_msg_close(&m);
			if (err == EINTR)
				continue;
			for (size_t i = 0; i < *n; i++)
				zmq_msg_close(&parts[i]);
			*n = 0;
			return err == ETERM ? 0 : -1;
		}
		more = zmq_msg_more(&m);
		if (*n < ZAP_PARTS)
			parts[(*n)++] = m;
		else
			zmq_msg_close(&m);
	}
	return 1;
}

static int send_part(void *sock, const void *data, size_t len, int more)
{
	while (zmq_send(sock, data, len, more ? ZMQ_SNDMORE : 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Answers one request (RFC 27: version, request id, domain, address,
 * identity, mechanism, credentials): 200 for a listed CURVE key, 400 for
 * anything else. */
static int zap_answer(struct zap *z, zmq_msg_t *parts, size_t n)
{
	const char *code = "400", *text = "not a CURVE request";
	char user[256] = "";
	int curve = n == 7 && part_is(&parts[0], "1.0") && part_is(&parts[5], "CURVE") &&
		    zmq_msg_size(&parts[6]) == CURVEKEY_BIN;

	if (curve) {
		const uint8_t *key = zmq_msg_data(&parts[6]);
		if (key_listed(z->dir, key, user, sizeof user)) {
			code = "200";
			text = "OK";
			log_debug("CURVE client %s from %.*s admitted", user,
				  (int)zmq_msg_size(&parts[3]), (const char *)zmq_msg_data(&parts[3]));
		} else {
			text = "key not listed";
			log_refusal(z, key, &parts[3]);
		}
	}
	if (send_part(z->sock, "1.0", 3, 1) < 0 ||
	    send_part(z->sock, n > 1 ? zmq_msg_data(&parts[1]) : "", n > 1 ? zmq_msg_size(&parts[1]) : 0, 1) < 0 ||
	    send_part(z->sock, code, 3, 1) < 0 ||
	    send_part(z->sock, text, strlen(text), 1) < 0 ||
	    send_part(z->sock, user, strlen(user), 1) < 0 ||
	    send_part(z->sock, "", 0, 0) < 0)
		return errno == ETERM ? 0 : -1;
	return 1;
}

static void zap_serve(void *arg)
{
	struct zap *z = arg;
	zmq_msg_t parts[ZAP_PARTS];
	size_t n;
	int rc;

	while ((rc = zap_recv(z->sock, parts, &n)) > 0) {
		rc = zap_answer(z, parts, n);
		for (size_t i = 0; i < n; i++)
			zmq_msg_close(&parts[i]);
		if (rc <= 0)
			break;
	}
	if (rc < 0) {
		/* Without a handler libzmq admits every key: stop serving
		 * instead.  Nothing acknowledged is lost (spsc-coord(1),
		 * DURABILITY); clients retry. */
		log_error("ZAP handler: %s; stopping", zmq_strerror(errno));
		_exit(EXIT_FAIL);
	}
	zmq_close(z->sock);
}

int curve_server_start(void *zctx, void *router, const char *keyfile, const char *dir)
{
	char secret[CURVEKEY_Z85 + 1];
	int on = 1, linger = 0, rc;

	snprintf(zap.dir, sizeof zap.dir, "%s", dir);
	if (read_secret(keyfile, secret) < 0)
		return -1;
	zap.sock = zmq_socket(zctx, ZMQ_REP);
	if (zap.sock == NULL) {
		log_error("ZAP socket: %s", zmq_strerror(errno));
		explicit_bzero(secret, sizeof secret);
		return -1;
	}
	zmq_setsockopt(zap.sock, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_bind(zap.sock, ZAP_URL) < 0) {
		log_error("bind %s: %s", ZAP_URL, zmq_strerror(errno));
		zmq_close(zap.sock);
		explicit_bzero(secret, sizeof secret);
		return -1;
	}
	/* libzmq starts the thread with every signal blocked, so SIGTERM
	 * still interrupts the event loop's zmq_poll. */
	zap_thread = zmq_threadstart(zap_serve, &zap);
	if (zap_thread == NULL) {
		log_error("cannot start the ZAP handler's thread");
		zmq_close(zap.sock);
		explicit_bzero(secret, sizeof secret);
		return -1;
	}
	rc = zmq_setsockopt(router, ZMQ_CURVE_SERVER, &on, sizeof on);
	if (rc == 0)
		rc = zmq_setsockopt(router, ZMQ_CURVE_SECRETKEY, secret, CURVEKEY_Z85 + 1);
	if (rc == 0)
		rc = zmq_setsockopt(router, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN));
	explicit_bzero(secret, sizeof secret);
	if (rc < 0) {
		log_error("CURVE socket options: %s", zmq_strerror(errno));
		return -1;
	}
	return 0;
}

void curve_server_join(void)
{
	if (zap_thread)
		zmq_threadclose(zap_thread);
	zap_thread = NULL;
}
