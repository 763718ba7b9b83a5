/*
 * proto: the coordinator's wire protocol, shared by spsc-coord and every
 * client.  spsc-protocol(7) is its specification.
 *
 * A request is a ZeroMQ multipart message from a DEALER socket:
 *
 *   part 0   header, ASCII:  "SPSC/1 OP REQID [QUEUE] [KEY=VALUE ...]"
 *   part 1.. bodies: atom frames (PUT), receipts (ACK, NACK, TOUCH)
 *
 * The reply carries the request's REQID so clients can drop stale replies:
 *
 *   part 0   "SPSC/1 STATUS REQID [KEY=VALUE ...]"
 *   part 1.. atom frames (GET, PEEK), JSON (STATUS) or, for an error
 *            status, one human-readable message
 *
 * Text headers keep the protocol easy to read in a capture and to test by
 * hand; they are tiny next to the atoms they carry.
 */
#ifndef SPSC_PROTO_H
#define SPSC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "atomid.h"

#define PROTO_MAGIC "SPSC/1"
#define PROTO_HEADER_MAX 1024
#define PROTO_KV_MAX 12
#define PROTO_PARTS_MAX 4096

enum proto_op {
	OP_PUT, OP_GET, OP_ACK, OP_NACK, OP_TOUCH, OP_STATUS,
	OP_CREATE, OP_DELETE, OP_PURGE, OP_REDRIVE, OP_PEEK,
	OP_PRODUCER, OP_SEAL,
	OP_COUNT
};

enum proto_status {
	ST_OK,		/* done */
	ST_FULL,	/* PUT refused: queue at max depth; back off, retry */
	ST_BADREQ,	/* malformed request: the message says what */
	ST_NOQUEUE,	/* no such queue */
	ST_TOOBIG,	/* a frame over the coordinator's size limit */
	ST_STALE,	/* TOUCH/NACK on a delivery that is no longer current */
	ST_BADATOM,	/* a frame failed its CRC or format checks */
	ST_ERROR,	/* the coordinator failed (out of memory, ...) */
	ST_NOSPACE,	/* PUT refused: the coordinator's disk is full; back
			 * off and retry, consumers can still drain */
	ST_LIMIT,	/* a coordinator-wide limit was reached (queues,
			 * waiting GETs); the message names it */
	ST_FINISHED,	/* PUT from a producer that said it was done with
			 * the queue: it cannot add to it any more */
	ST_COUNT
};

/* A receipt names one delivery of one atom: ACK, NACK and TOUCH take
 * receipts, so a consumer whose lease expired cannot extend or return an
 * atom that was since handed to someone else. */
struct receipt {
	struct atom_id id;
	uint32_t delivery;
};
#define RECEIPT_WIRE 20

struct proto_kv {
	char key[24];
	uint64_t val;
};

struct proto_header {
	int reply;
	int code;		/* enum proto_op, or enum proto_status */
	uint64_t reqid;
	char queue[208];	/* "" when the op takes none */
	int nkv;
	struct proto_kv kv[PROTO_KV_MAX];
};

const char *proto_op_name(int op);
const char *proto_status_name(int st);
int proto_parse(const void *buf, size_t len, struct proto_header *h,
		char *err, size_t errlen);
size_t proto_format(char *buf, size_t len, const struct proto_header *h);
int proto_set(struct proto_header *h, const char *key, uint64_t val);
uint64_t proto_get(const struct proto_header *h, const char *key,
		   uint64_t def);
int proto_has(const struct proto_header *h, const char *key);
void receipt_encode(const struct receipt *r, uint8_t out[RECEIPT_WIRE]);
void receipt_decode(const uint8_t in[RECEIPT_WIRE], struct receipt *r);

#endif
