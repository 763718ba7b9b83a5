/*
 * curvekey: ZeroMQ CURVE keys, as spsc-coord keygen writes them and
 * clients and the coordinator read them.
 *
 * A key file holds one line of 40 Z85 characters (a 32-byte key); blank
 * lines and lines starting with '#' are ignored.  PREFIX.key is the
 * secret key and must be readable by its owner only, PREFIX.pub the
 * public one.
 *
 * Clients use CURVE on every coordinator URL but ipc:// when both of
 *   SPSC_CURVE_SERVERKEY  the coordinator's public key: a file, or the
 *                         40 characters themselves
 *   SPSC_CURVE_KEY        the client's secret key file (its public key is
 *                         derived from it)
 * are set; one without the other is an error.
 */
#ifndef SPSC_CURVEKEY_H
#define SPSC_CURVEKEY_H

#include <stddef.h>
#include <stdint.h>

#define CURVEKEY_Z85 40		/* characters of a Z85 key */
#define CURVEKEY_BIN 32		/* bytes of a key */

/* 1 if text is exactly one Z85-encoded key. */
int curvekey_valid(const char *text);

/* Reads the key in path into z85 (CURVEKEY_Z85 + 1 bytes).  With secret,
 * refuses a file that group or others can read.  -1 with a message naming
 * the file in err. */
int curvekey_read(const char *path, int secret, char *z85, char *err, size_t len);

/* Sets the CURVE client options on a ZeroMQ socket about to connect to
 * url, from the environment (see above): 1 when set, 0 when CURVE is not
 * asked for (or url is ipc), -1 with a message in err. */
int curvekey_client_setup(void *sock, const char *url, char *err, size_t len);

#endif
