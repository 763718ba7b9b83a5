#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "curvekey.h"
#include "fdio.h"

#define KEYFILE_MAX 4096	/* a key and some comments, generously */

int curvekey_valid(const char *text)
{
	uint8_t bin[CURVEKEY_BIN];

	return strlen(text) == CURVEKEY_Z85 && zmq_z85_decode(bin, text) != NULL;
}

/* Finds the one key among the lines of text (NUL-terminated, changed in
 * place); -1 with a message in err. */
static int parse_lines(const char *path, char *text, char *z85, char *err, size_t len)
{
	int lineno = 0, found = 0;

	for (char *line = text, *next; line; line = next) {
		size_t n;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		n = strlen(line);
		while (n > 0 && strchr(" \t\r", line[n - 1]))
			line[--n] = '\0';
		line += strspn(line, " \t");
		if (*line == '\0' || *line == '#')
			continue;
		if (found) {
			snprintf(err, len, "%.300s: line %d: a second key; a key file holds one", path, lineno);
			return -1;
		}
		if (!curvekey_valid(line)) {
			snprintf(err, len, "%.300s: line %d is not a CURVE key (expected 40 Z85 characters)",
				 path, lineno);
			return -1;
		}
		memcpy(z85, line, CURVEKEY_Z85 + 1);
		found = 1;
	}
	if (!found)
		snprintf(err, len, "%.300s: no key in the file (expected a line of 40 Z85 characters)", path);
	return found ? 0 : -1;
}

int curvekey_read(const char *path, int secret, char *z85, char *err, size_t len)
{
	char text[KEYFILE_MAX + 1];
	struct stat st;
	size_t got;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, len, "%.300s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, len, "%.300s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, len, "%.300s: not a regular file", path);
		close(fd);
		return -1;
	}
	/* As ssh does: a secret others can read is no secret, so say so
	 * rather than use it. */
	if (secret && (st.st_mode & 077)) {
		snprintf(err, len, "%.300s: secret key file has mode %04o, open to group or others; run 'chmod 600 %.300s'",
			 path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	rc = fd_read_full(fd, text, sizeof text - 1, &got);
	close(fd);
	if (rc < 0) {
		snprintf(err, len, "%.300s: read: %s", path, strerror(errno));
		return -1;
	}
	if (got == sizeof text - 1) {
		snprintf(err, len, "%.300s: too large for a key file (expected a line of 40 Z85 characters)", path);
		return -1;
	}
	text[got] = '\0';
	if (memchr(text, '\0', got)) {
		snprintf(err, len, "%.300s: binary data, not a key file (expected a line of 40 Z85 characters)", path);
		return -1;
	}
	rc = parse_lines(path, text, z85, err, len);
	explicit_bzero(text, sizeof text);
	return rc;
}

static int set_key(void *sock, int option, const char *z85, char *err, size_t len)
{
	if (zmq_setsockopt(sock, option, z85, CURVEKEY_Z85 + 1) == 0)
		return 0;
	snprintf(err, len, "zmq_setsockopt CURVE key: %s", zmq_strerror(errno));
	return -1;
}

/* The keys of this client; 0 when CURVE is not asked for. */
static int client_keys(char *server, char *secret, char *err, size_t len)
{
	const char *server_env = getenv("SPSC_CURVE_SERVERKEY");
	const char *secret_env = getenv("SPSC_CURVE_KEY");
	char why[700];

	if (server_env && !*server_env)
		server_env = NULL;
	if (secret_env && !*secret_env)
		secret_env = NULL;
	if (!server_env && !secret_env)
		return 0;
	if (!server_env || !secret_env) {
		snprintf(err, len, "%s is set but %s is not: CURVE needs both (the coordinator's public key and this client's secret key file)",
			 server_env ? "SPSC_CURVE_SERVERKEY" : "SPSC_CURVE_KEY",
			 server_env ? "SPSC_CURVE_KEY" : "SPSC_CURVE_SERVERKEY");
		return -1;
	}
	if (!zmq_has("curve")) {
		snprintf(err, len, "SPSC_CURVE_KEY is set, but this libzmq has no CURVE support (zmq_has(\"curve\") is false)");
		return -1;
	}
	/* Z85 has '/' and '.' in its alphabet, so the key itself is told from
	 * a file name by its length and alphabet. */
	if (curvekey_valid(server_env))
		memcpy(server, server_env, CURVEKEY_Z85 + 1);
	else if (curvekey_read(server_env, 0, server, why, sizeof why) < 0) {
		snprintf(err, len, "SPSC_CURVE_SERVERKEY: %s", why);
		return -1;
	}
	if (curvekey_read(secret_env, 1, secret, why, sizeof why) < 0) {
		snprintf(err, len, "SPSC_CURVE_KEY: %s", why);
		return -1;
	}
	return 1;
}

int curvekey_client_setup(void *sock, const char *url, char *err, size_t len)
{
	char server[CURVEKEY_Z85 + 1], secret[CURVEKEY_Z85 + 1], public[CURVEKEY_Z85 + 1];
	int rc;

	/* The coordinator's ipc endpoints are plain ZMTP, guarded by file
	 * permissions (spsc-coord(1), SECURITY). */
	if (strncmp(url, "ipc://", 6) == 0)
		return 0;
	rc = client_keys(server, secret, err, len);
	if (rc <= 0)
		return rc;
	rc = -1;
	if (zmq_curve_public(public, secret) < 0)
		snprintf(err, len, "SPSC_CURVE_KEY: %.300s: not a CURVE secret key", getenv("SPSC_CURVE_KEY"));
	else if (set_key(sock, ZMQ_CURVE_SERVERKEY, server, err, len) == 0 &&
		 set_key(sock, ZMQ_CURVE_PUBLICKEY, public, err, len) == 0 &&
		 set_key(sock, ZMQ_CURVE_SECRETKEY, secret, err, len) == 0)
		rc = 1;
	explicit_bzero(secret, sizeof secret);
	return rc;
}
