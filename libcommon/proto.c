#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "le.h"
#include "proto.h"
#include "qname.h"

static const char *op_names[OP_COUNT] = {
	"PUT", "GET", "ACK", "NACK", "TOUCH", "STATUS",
	"CREATE", "DELETE", "PURGE", "REDRIVE", "PEEK", "PRODUCER", "SEAL",
};

static const char *status_names[ST_COUNT] = {
	"OK", "FULL", "BADREQ", "NOQUEUE", "TOOBIG", "STALE", "BADATOM",
	"ERROR", "NOSPACE", "LIMIT", "FINISHED",
};

/* Which ops name a queue as their third word. */
static const char op_takes_queue[OP_COUNT] = {
	[OP_PUT] = 1, [OP_GET] = 1, [OP_ACK] = 1, [OP_NACK] = 1,
	[OP_TOUCH] = 1, [OP_CREATE] = 1, [OP_DELETE] = 1, [OP_PURGE] = 1,
	[OP_REDRIVE] = 1, [OP_PEEK] = 1, [OP_PRODUCER] = 1, [OP_SEAL] = 1,
};

const char *proto_op_name(int op)
{
	return op >= 0 && op < OP_COUNT ? op_names[op] : "?";
}

const char *proto_status_name(int st)
{
	return st >= 0 && st < ST_COUNT ? status_names[st] : "?";
}

static int lookup(const char *word, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(word, names[i]) == 0)
			return i;
	return -1;
}

/* Stores only a whole number: strtoull's clamped ULLONG_MAX for "2^64",
 * or the 12 of "12abc", must not become the request id that an error
 * reply echoes (a header unreadable as far as its id is answered id 0). */
static int parse_u64(const char *s, uint64_t *v)
{
	unsigned long long n;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = n;
	return 0;
}

static int bad(char *err, size_t errlen, const char *what, const char *word)
{
	snprintf(err, errlen, "%s%s%.64s%s", what, word ? " '" : "",
		 word ? word : "", word ? "'" : "");
	return -1;
}

static int parse_kv(struct proto_header *h, char *word, char *err,
		    size_t errlen)
{
	char *eq = strchr(word, '=');
	uint64_t v;

	if (eq == NULL || eq == word || (size_t)(eq - word) >= sizeof h->kv[0].key)
		return bad(err, errlen, "expected KEY=VALUE, got", word);
	*eq = '\0';
	if (parse_u64(eq + 1, &v) < 0)
		return bad(err, errlen, "value is not a whole number:", eq + 1);
	if (proto_set(h, word, v) < 0)
		return bad(err, errlen, "too many KEY=VALUE words", NULL);
	return 0;
}

/*
 * Parses a request or reply header.  Everything a client sends is
 * untrusted: lengths are bounded, every word is checked, and the error
 * says which word is wrong.
 */
int proto_parse(const void *buf, size_t len, struct proto_header *h,
		char *err, size_t errlen)
{
	char line[PROTO_HEADER_MAX + 1], *save = NULL, *word, *op;
	int code;

	memset(h, 0, sizeof *h);
	if (len == 0 || len > PROTO_HEADER_MAX)
		return bad(err, errlen, "header is empty or too long", NULL);
	if (memchr(buf, '\0', len) != NULL)
		return bad(err, errlen, "header contains a NUL byte", NULL);
	memcpy(line, buf, len);
	line[len] = '\0';
	word = strtok_r(line, " ", &save);
	if (word == NULL || strcmp(word, PROTO_MAGIC) != 0)
		return bad(err, errlen, "header does not start with " PROTO_MAGIC, NULL);
	if ((op = strtok_r(NULL, " ", &save)) == NULL)
		return bad(err, errlen, "missing operation", NULL);
	/* The request id first, so that even an error about the operation
	 * reaches the client that is waiting for it. */
	if ((word = strtok_r(NULL, " ", &save)) == NULL ||
	    parse_u64(word, &h->reqid) < 0)
		return bad(err, errlen, "missing or bad request id", word);
	if ((code = lookup(op, op_names, OP_COUNT)) < 0) {
		if ((code = lookup(op, status_names, ST_COUNT)) < 0)
			return bad(err, errlen, "unknown operation", op);
		h->reply = 1;
	}
	h->code = code;
	if (!h->reply && op_takes_queue[code]) {
		if ((word = strtok_r(NULL, " ", &save)) == NULL)
			return bad(err, errlen, "missing queue name", NULL);
		if (!queue_name_valid(word, strlen(word)))
			return bad(err, errlen, "bad queue name", word);
		snprintf(h->queue, sizeof h->queue, "%s", word);
	}
	while ((word = strtok_r(NULL, " ", &save)) != NULL)
		if (parse_kv(h, word, err, errlen) < 0)
			return -1;
	return 0;
}

size_t proto_format(char *buf, size_t len, const struct proto_header *h)
{
	size_t n;

	n = (size_t)snprintf(buf, len, "%s %s %" PRIu64, PROTO_MAGIC,
			     h->reply ? proto_status_name(h->code)
				      : proto_op_name(h->code),
			     h->reqid);
	if (h->queue[0] && n < len)
		n += (size_t)snprintf(buf + n, len - n, " %s", h->queue);
	for (int i = 0; i < h->nkv && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, " %s=%" PRIu64,
				      h->kv[i].key, h->kv[i].val);
	return n < len ? n : len - 1;
}

int proto_set(struct proto_header *h, const char *key, uint64_t val)
{
	for (int i = 0; i < h->nkv; i++) {
		if (strcmp(h->kv[i].key, key) == 0) {
			h->kv[i].val = val;
			return 0;
		}
	}
	if (h->nkv == PROTO_KV_MAX)
		return -1;
	snprintf(h->kv[h->nkv].key, sizeof h->kv[0].key, "%s", key);
	h->kv[h->nkv++].val = val;
	return 0;
}

uint64_t proto_get(const struct proto_header *h, const char *key,
		   uint64_t def)
{
	for (int i = 0; i < h->nkv; i++)
		if (strcmp(h->kv[i].key, key) == 0)
			return h->kv[i].val;
	return def;
}

int proto_has(const struct proto_header *h, const char *key)
{
	for (int i = 0; i < h->nkv; i++)
		if (strcmp(h->kv[i].key, key) == 0)
			return 1;
	return 0;
}

void receipt_encode(const struct receipt *r, uint8_t out[RECEIPT_WIRE])
{
	memcpy(out, r->id.b, 16);
	le_put32(out + 16, r->delivery);
}

void receipt_decode(const uint8_t in[RECEIPT_WIRE], struct receipt *r)
{
	memcpy(r->id.b, in, 16);
	r->delivery = le_get32(in + 16);
}
