/*
 * curve: ZeroMQ CURVE for the coordinator's network endpoints.
 *
 *   spsc-coord keygen PREFIX                     PREFIX.key and PREFIX.pub
 *   spsc-coord serve --curve KEYFILE --clients DIR
 *
 * curve_server_start makes the ROUTER socket a CURVE server for the
 * endpoints bound after it (listen.c binds the ipc ones before), and
 * starts a ZAP handler (ZeroMQ RFC 27) on inproc://zeromq.zap.01, in a
 * thread with a socket of its own, that admits a client only if its
 * public key is in one of DIR's *.pub files.  DIR is read again at each
 * handshake, so adding or removing a file takes effect for the next
 * connection; a connection already made stays.
 */
#ifndef SPSC_COORD_CURVE_H
#define SPSC_COORD_CURVE_H

/* Writes a new key pair, refusing to overwrite; prints the public key. */
int curve_keygen(const char *prefix);

/* Checks --curve and --clients before anything is opened: CURVE in
 * libzmq, the secret key file, the directory.  -1 after logging why. */
int curve_server_check(const char *keyfile, const char *dir);

/* Call after the plain endpoints are bound, before the CURVE ones. */
int curve_server_start(void *zctx, void *router, const char *keyfile,
		       const char *dir);

/* Waits for the ZAP thread; call after zmq_ctx_term, which stops it.
 * Nothing to do if curve_server_start was not called. */
void curve_server_join(void);

#endif
