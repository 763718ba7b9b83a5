/*
 * fuzz-proto: a message header, request or reply, through proto_parse, the
 * first thing the coordinator does with anything a client sends.
 *
 * Beyond "no crash": a refusal always says why; an accepted header names
 * a known operation or status, a valid queue where it takes one, and at
 * most PROTO_KV_MAX keys; and proto_format of what was parsed parses back
 * to the same header, no longer than the original (so a reply echoing a
 * request never outgrows PROTO_HEADER_MAX).  The request id, accepted or
 * refused, is checked against a reading of the header's third word made
 * here, independently: an error reply echoes that id, and must carry 0
 * when the word is not a whole number below 2^64.
 */
#include <string.h>

#include "endpoint.h"
#include "fuzz.h"
#include "proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* The id spsc-protocol(7) says a reply carries: the third word, split at
 * spaces only, if the first is the magic and the third is digits worth
 * less than 2^64; else 0. */
static uint64_t readable_id(const uint8_t *p, size_t size)
{
	size_t i = 0, start = 0, len = 0;
	uint64_t v = 0;

	for (int word = 0; word < 3; word++) {
		while (i < size && p[i] == ' ')
			i++;
		start = i;
		while (i < size && p[i] != ' ')
			i++;
		len = i - start;
		if (len == 0)
			return 0;
		if (word == 0 && (len != strlen(PROTO_MAGIC) ||
				  memcmp(p + start, PROTO_MAGIC, len) != 0))
			return 0;
	}
	for (size_t k = start; k < start + len; k++) {
		if (p[k] < '0' || p[k] > '9' ||
		    v > (UINT64_MAX - (uint64_t)(p[k] - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(p[k] - '0');
	}
	return v;
}

static void same_header(const struct proto_header *a,
			const struct proto_header *b)
{
	fuzz_assert(a->reply == b->reply);
	fuzz_assert(a->code == b->code);
	fuzz_assert(a->reqid == b->reqid);
	fuzz_assert(strcmp(a->queue, b->queue) == 0);
	fuzz_assert(a->nkv == b->nkv);
	for (int i = 0; i < a->nkv; i++) {
		fuzz_assert(strcmp(a->kv[i].key, b->kv[i].key) == 0);
		fuzz_assert(a->kv[i].val == b->kv[i].val);
		fuzz_assert(proto_get(b, a->kv[i].key, 0) == a->kv[i].val);
		fuzz_assert(proto_has(b, a->kv[i].key));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = fuzz_copy(data, size);
	struct proto_header h, again;
	char err[256] = "", text[PROTO_HEADER_MAX * 2];
	size_t n;

	if (proto_parse(p, size, &h, err, sizeof err) < 0) {
		fuzz_assert(err[0] != '\0');
		/* Refused before the id was read (too long, a NUL): 0. */
		fuzz_assert(h.reqid == 0 || h.reqid == readable_id(p, size));
		free(p);
		return 0;
	}
	fuzz_assert(h.reqid == readable_id(p, size));
	fuzz_assert(h.nkv >= 0 && h.nkv <= PROTO_KV_MAX);
	if (h.reply)
		fuzz_assert(h.code >= 0 && h.code < ST_COUNT && h.queue[0] == '\0');
	else
		fuzz_assert(h.code >= 0 && h.code < OP_COUNT);
	if (h.queue[0])
		fuzz_assert(queue_name_valid(h.queue, strlen(h.queue)));
	for (int i = 0; i < h.nkv; i++)
		fuzz_assert(h.kv[i].key[0] != '\0' && strchr(h.kv[i].key, '=') == NULL);

	n = proto_format(text, sizeof text, &h);
	fuzz_assert(n == strlen(text) && n <= size);
	if (proto_parse(text, n, &again, err, sizeof err) < 0) {
		fprintf(stderr, "formatted header '%s' does not parse: %s\n", text, err);
		abort();
	}
	same_header(&h, &again);
	free(p);
	return 0;
}
