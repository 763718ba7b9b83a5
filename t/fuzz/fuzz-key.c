/*
 * fuzz-key: key specs (-k, -t) and the events they are taken from.
 *
 * The input is
 *
 *   byte 0      bit 0: a separator follows the key (-t was given)
 *   then        the key, up to a NUL ("3", ".a.b", ".[\"x\"][-1]", ...)
 *   then        if bit 0, the separator, up to a NUL
 *   the rest    events, each up to and including its '\n'
 *
 * so the fuzzer steers field keys and JSON paths alike.  Each event is
 * copied to a buffer of its exact size, so that a read past its end is
 * caught.  One key_buf serves every event, as in the programs.
 *
 * Beyond "no crash": a failure always says why; a field key lies inside
 * its event, before the newline, holds no separator (or, without -t, no
 * blank and at least one byte); a JSON key lies in the key_buf; no key is
 * over KEY_VALUE_MAX.
 */
#include <string.h>

#include "fuzz.h"
#include "key.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* The next NUL-terminated string of p, copied to its exact size; NULL
 * when no NUL is left. */
static char *take_string(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nul = memchr(*p, '\0', (size_t)(end - *p));
	char *s;

	if (nul == NULL)
		return NULL;
	s = (char *)fuzz_copy(*p, (size_t)(nul - *p) + 1);
	*p = nul + 1;
	return s;
}

static void check_key(const struct key_spec *ks, const char *ev, size_t len,
		      const struct key_buf *kb)
{
	size_t body = len && ev[len - 1] == '\n' ? len - 1 : len;

	fuzz_assert(kb->len <= KEY_VALUE_MAX);
	if (ks->json) {
		fuzz_assert(kb->ptr == kb->mem && kb->len < kb->cap);
		return;
	}
	fuzz_assert(kb->ptr >= ev && kb->ptr + kb->len <= ev + body);
	if (ks->seplen)
		fuzz_assert(memmem(kb->ptr, kb->len, ks->sep, ks->seplen) == NULL);
	else
		fuzz_assert(kb->len > 0 && memchr(kb->ptr, ' ', kb->len) == NULL &&
			    memchr(kb->ptr, '\t', kb->len) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1, *end = data + size;
	char *key, *sep = NULL, err[512];
	struct key_spec ks;
	struct key_buf kb;

	if (size < 1 || (key = take_string(&p, end)) == NULL)
		return 0;
	if ((data[0] & 1) && (sep = take_string(&p, end)) == NULL) {
		free(key);
		return 0;
	}
	err[0] = '\0';
	if (key_spec_parse(&ks, key, sep, err, sizeof err) < 0) {
		fuzz_assert(err[0] != '\0');
		key_spec_free(&ks);
		free(key);
		free(sep);
		return 0;
	}
	key_buf_init(&kb);
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		char *ev = (char *)fuzz_copy(p, len);
		int rc;

		err[0] = '\0';
		rc = key_extract(&ks, ev, len, &kb, err, sizeof err);
		if (rc == KEY_OK)
			check_key(&ks, ev, len, &kb);
		else
			fuzz_assert(rc < 0 && err[0] != '\0');
		free(ev);
		p += len;
	}
	key_buf_free(&kb);
	key_spec_free(&ks);
	free(key);
	free(sep);
	return 0;
}
