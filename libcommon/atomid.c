#include <string.h>

#include "atomid.h"
#include "hash.h"
#include "le.h"

/* Two independent 64-bit hashes of the same fields, one per half. */
static struct atom_id make_id(const void *buf, size_t len)
{
	struct atom_id id;

	le_put64(id.b, hash64(buf, len, UINT64_C(0x7370736361746f6d)));
	le_put64(id.b + 8, hash64(buf, len, UINT64_C(0x61746f6d69643132)));
	return id;
}

/* Fields are joined with their lengths so "ab"+"c" differs from "a"+"bc". */
struct atom_id atomid_source(const char *name, const char *label,
			     uint64_t ordinal, uint32_t crc, uint64_t len)
{
	unsigned char buf[1024];
	size_t nl = strlen(name), ll = strlen(label), n = 0;
	uint64_t fields[4] = { nl, ll, ordinal, ((uint64_t)crc << 32) ^ len };

	if (nl > 256)
		nl = 256;
	if (ll > sizeof buf - 256 - sizeof fields) {
		/* A very long label: keep its hash, not its bytes. */
		le_put64(buf, hash64(label, ll, 0));
		n = 8;
		ll = 0;
	}
	for (int i = 0; i < 4; i++, n += 8)
		le_put64(buf + n, fields[i]);
	memcpy(buf + n, name, nl);
	n += nl;
	memcpy(buf + n, label, ll);
	n += ll;
	return make_id(buf, n);
}

struct atom_id atomid_child(const struct atom_id *parent, uint64_t salt,
			    uint64_t ordinal)
{
	unsigned char buf[32];

	memcpy(buf, parent->b, 16);
	le_put64(buf + 16, salt);
	le_put64(buf + 24, ordinal);
	return make_id(buf, sizeof buf);
}

/* An operator's salt is its command line: the same command over the same
 * input gives the same ids; two different commands fed from one atom do not
 * collide in a shared sink. */
uint64_t atomid_salt(int argc, char *const argv[])
{
	uint64_t h = UINT64_C(0x73616c74);

	for (int i = 0; i < argc; i++)
		h = hash64(argv[i], strlen(argv[i]) + 1, h);
	return h;
}

/*
 * A stage as a producer of its output queue (spsc(7), "Completion"): its
 * salt and the input it reads.  Replicas of a stage and its restarts get
 * the same id; the same command over another input is another producer.
 * Never 0, which means "anonymous" on the wire.
 */
uint64_t atomid_producer(uint64_t salt, const char *input)
{
	uint64_t h = hash64(&salt, sizeof salt, UINT64_C(0x70726f64));

	h = hash64(input, strlen(input), h);
	return h ? h : 1;
}

void atomid_hex(const struct atom_id *id, char out[ATOMID_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		out[2 * i] = digits[id->b[i] >> 4];
		out[2 * i + 1] = digits[id->b[i] & 15];
	}
	out[ATOMID_HEX_LEN] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int atomid_parse(const char *hex, struct atom_id *id)
{
	for (int i = 0; i < 16; i++) {
		int hi = hexval(hex[2 * i]), lo;
		if (hi < 0)
			return -1;
		lo = hexval(hex[2 * i + 1]);
		if (lo < 0)
			return -1;
		id->b[i] = (uint8_t)(hi << 4 | lo);
	}
	return hex[ATOMID_HEX_LEN] == '\0' ? 0 : -1;
}

int atomid_equal(const struct atom_id *a, const struct atom_id *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}

/* Ids are already uniform hashes: their first 8 bytes are a fine key. */
uint64_t atomid_hash(const struct atom_id *id)
{
	return le_get64(id->b);
}
