/* Key extraction: fields by blanks and by separators, JSON paths, and the
 * per-event errors that must never take a stage down. */
#include <stdlib.h>
#include <string.h>

#include "key.h"
#include "tap.h"

static char got[KEY_VALUE_MAX + 1];
static char err[256];

/*
 * Extracts key k (separator sep) from an event of n bytes.  The event is
 * copied into a buffer of exactly n bytes so that AddressSanitizer catches
 * a read past its end.  Returns the status; the key is left in got, the
 * message in err.
 */
static int extract_n(const char *k, const char *sep, const char *ev, size_t n,
		     size_t *len)
{
	struct key_spec ks;
	struct key_buf kb;
	char *copy = malloc(n ? n : 1);
	int rc;

	err[0] = got[0] = '\0';
	*len = 0;
	if (copy == NULL)
		return 99;
	memcpy(copy, ev, n);
	if (key_spec_parse(&ks, k, sep, err, sizeof err) < 0) {
		free(copy);
		return 98;
	}
	key_buf_init(&kb);
	rc = key_extract(&ks, copy, n, &kb, err, sizeof err);
	if (rc == KEY_OK) {
		/* A field must point into the event, not at a copy. */
		if (!ks.json && kb.len > 0 &&
		    (kb.ptr < copy || kb.ptr + kb.len > copy + n))
			rc = 97;
		memcpy(got, kb.ptr, kb.len);
		got[kb.len] = '\0';
		*len = kb.len;
	}
	key_buf_free(&kb);
	key_spec_free(&ks);
	free(copy);
	return rc;
}

static int extract(const char *k, const char *sep, const char *ev)
{
	size_t len;

	return extract_n(k, sep, ev, strlen(ev), &len);
}

static int key_is(const char *k, const char *sep, const char *ev,
		  const char *want)
{
	int rc = extract(k, sep, ev);

	if (rc != KEY_OK || strcmp(got, want) != 0) {
		printf("# -k %s on '%s': rc %d, got '%s' (%s), wanted '%s'\n",
		       k, ev, rc, got, err, want);
		return 0;
	}
	return 1;
}

static int key_fails(const char *k, const char *sep, const char *ev,
		     int status, const char *msg)
{
	int rc = extract(k, sep, ev);

	if (rc != status || strcmp(err, msg) != 0) {
		printf("# -k %s on '%s': rc %d '%s', wanted %d '%s'\n", k, ev,
		       rc, err, status, msg);
		return 0;
	}
	return 1;
}

static int spec_fails(const char *k, const char *sep, const char *msg)
{
	struct key_spec ks;

	err[0] = '\0';
	if (key_spec_parse(&ks, k, sep, err, sizeof err) == 0) {
		key_spec_free(&ks);
		printf("# -k '%s' was accepted\n", k);
		return 0;
	}
	if (strstr(err, msg) == NULL) {
		printf("# -k '%s': '%s' does not say '%s'\n", k, err, msg);
		return 0;
	}
	return 1;
}

static void test_blank_fields(void)
{
	ok(key_is("1", NULL, "alpha beta gamma\n", "alpha"), "first field");
	ok(key_is("3", NULL, "alpha beta gamma\n", "gamma"),
	   "last field stops before the newline");
	ok(key_is("2", NULL, "  \t alpha \t\t beta   \n", "beta"),
	   "runs of blanks, leading blanks ignored");
	ok(key_is("1", NULL, "   lead\n", "lead"), "leading blanks skipped");
	ok(key_is("2", NULL, "a b", "b"), "an event without its newline");
	ok(key_is("2", NULL, "a b\r\n", "b\r"),
	   "a \\r is an ordinary byte of the last field");
	ok(key_is("1", NULL, "a,b c\n", "a,b"), "commas are not blanks");
	ok(key_is("10", NULL, "1 2 3 4 5 6 7 8 9 10 11\n", "10"),
	   "two-digit field numbers");
	ok(key_is("002", NULL, "x y\n", "y"), "leading zeros in N");
	ok(key_fails("3", NULL, "a b\n", KEY_MISSING,
		     "field 3 missing (event has 2 fields)"),
	   "a missing field names the count");
	ok(key_fails("3", NULL, "a b   \n", KEY_MISSING,
		     "field 3 missing (event has 2 fields)"),
	   "trailing blanks make no empty field");
	ok(key_fails("2", NULL, "only\n", KEY_MISSING,
		     "field 2 missing (event has 1 field)"),
	   "singular in the message");
	ok(key_fails("1", NULL, "\n", KEY_MISSING,
		     "field 1 missing (event has 0 fields)"),
	   "an empty event has no fields");
	ok(key_fails("1", NULL, " \t \n", KEY_MISSING,
		     "field 1 missing (event has 0 fields)"),
	   "a blank event has no fields");
	ok(key_fails("1", NULL, "", KEY_MISSING,
		     "field 1 missing (event has 0 fields)"),
	   "zero bytes: no fields");
}

static void test_sep_fields(void)
{
	size_t len;

	ok(key_is("2", ",", "a,b,c\n", "b"), "comma separator");
	ok(key_is("3", ",", "a,b,c\n", "c"), "last field with a separator");
	ok(key_is("2", ",", "a,,c\n", ""), "empty fields count, as in cut");
	ok(key_is("3", ",", "a,,c\n", "c"), "after an empty field");
	ok(key_is("1", ",", ",x\n", ""), "an empty first field");
	ok(key_is("2", ",", "a,\n", ""), "an empty last field");
	ok(key_is("1", ",", "\n", ""), "an empty event has one empty field");
	ok(key_is("2", ",", " a , b \n", " b "), "blanks are kept with -t");
	ok(key_is("2", "::", "a::b::c\n", "b"), "a string separator");
	ok(key_is("2", "::", "a:b::c\n", "c"), "a string separator is matched whole");
	ok(key_is("3", "ab", "xababy\n", "y"), "adjacent string separators");
	ok(key_is("2", "\\t", "a b\tc d\n", "c d"), "\\t spells a tab");
	ok(key_is("2", "\t", "a b\tc d\n", "c d"), "a literal tab");
	ok(key_is("2", "\\\\", "a\\b\n", "b"), "\\\\ spells a backslash");
	ok(extract_n("2", "\\0", "a\0b\0c\n", 6, &len) == KEY_OK &&
		   len == 1 && got[0] == 'b',
	   "\\0 splits at NUL bytes");
	ok(extract_n("2", ",", "a\0x,b\0y\n", 8, &len) == KEY_OK && len == 3 &&
		   memcmp(got, "b\0y", 3) == 0,
	   "NUL bytes inside a field are kept");
	ok(key_fails("4", ",", "a,b,c\n", KEY_MISSING,
		     "field 4 missing (event has 3 fields)"),
	   "a missing field with -t");
	ok(key_fails("2", ",", "abc\n", KEY_MISSING,
		     "field 2 missing (event has 1 field)"),
	   "no separator at all");
}

static void test_json(void)
{
	const char *ev = "{\"a\":{\"b\":\"hello\",\"n\":42,\"f\":1.5,\"t\":true,"
			 "\"z\":null,\"o\":{\"x\": 1, \"y\": [1, 2]}},"
			 "\"arr\":[10,\"s\",{\"k\":\"v\"}],\"a.b\":\"dotted\","
			 "\"q\\\"\":\"quote\",\"0\":\"zero\",\"u\":\"caf\\u00e9\\n\"}\n";

	ok(key_is(".a.b", NULL, ev, "hello"), "a string gives its content");
	ok(key_is(".a.n", NULL, ev, "42"), "an integer");
	ok(key_is(".a.f", NULL, ev, "1.5"), "a fraction");
	ok(key_is(".a.t", NULL, ev, "true"), "true");
	ok(key_is(".a.z", NULL, ev, "null"), "a null member is present");
	ok(key_is(".a.o", NULL, ev, "{\"x\":1,\"y\":[1,2]}"),
	   "an object gives its compact text");
	ok(key_is(".arr[0]", NULL, ev, "10"), "array index");
	ok(key_is(".arr[1]", NULL, ev, "s"), "string element");
	ok(key_is(".arr[2].k", NULL, ev, "v"), "member of an element");
	ok(key_is(".arr[-1].k", NULL, ev, "v"), "negative index from the end");
	ok(key_is(".arr.[0]", NULL, ev, "10"), "jq's .a.[0] spelling");
	ok(key_is(".\"a.b\"", NULL, ev, "dotted"), "quoted member with a dot");
	ok(key_is(".[\"a.b\"]", NULL, ev, "dotted"), "bracketed quoted member");
	ok(key_is(".\"q\\\"\"", NULL, ev, "quote"), "escaped quote in a name");
	ok(key_is(".0", NULL, ev, "zero"), ".0 names the member \"0\"");
	ok(key_is(".u", NULL, ev, "caf\xc3\xa9\n"), "escapes are decoded");
	ok(key_is(".", NULL, "{ \"b\" : [ 1 , 2 ] }\n", "{\"b\":[1,2]}"),
	   ". is the whole event, compacted");
	ok(key_is(".[1]", NULL, "[\"x\",\"y\"]\n", "y"), "top-level array");
	ok(key_is(".", NULL, "\"just a string\"\n", "just a string"),
	   "a top-level string");
	ok(key_is(".a", NULL, "  {\"a\":7}  \r\n", "7"),
	   "whitespace and \\r around the value");
	ok(key_is(".a", NULL, "{\"a\":1,\"a\":2}\n", "1"),
	   "duplicate names: the first wins");
	ok(key_is(".a", NULL, "{\"a\":1}", "1"), "an event without its newline");

	ok(key_fails(".a.c", NULL, ev, KEY_MISSING, "member .a.c missing"),
	   "a missing member");
	ok(key_fails(".A", NULL, ev, KEY_MISSING, "member .A missing"),
	   "names are case-sensitive");
	ok(key_fails(".a.n.x", NULL, ev, KEY_MISSING,
		     "member .a.n.x missing (.a.n is a number, not an object)"),
	   "a member of a number");
	ok(key_fails(".arr[3]", NULL, ev, KEY_MISSING,
		     "element .arr[3] missing (.arr has 3 elements)"),
	   "index past the end");
	ok(key_fails(".arr[-4]", NULL, ev, KEY_MISSING,
		     "element .arr[-4] missing (.arr has 3 elements)"),
	   "negative index past the start");
	ok(key_fails(".a[0]", NULL, ev, KEY_MISSING,
		     "element .a[0] missing (.a is an object, not an array)"),
	   "indexing an object");
	ok(key_fails(".a", NULL, "[1]\n", KEY_MISSING,
		     "member .a missing (the event is an array, not an object)"),
	   "a member of a top-level array");
	ok(key_fails(".[0]", NULL, "[]\n", KEY_MISSING,
		     "element .[0] missing (the event has 0 elements)"),
	   "an empty array");
	ok(key_fails(".a", NULL, "{\"a\":1\n", KEY_MALFORMED,
		     "malformed JSON at byte 6"),
	   "truncated JSON");
	ok(key_fails(".a", NULL, "not json\n", KEY_MALFORMED,
		     "malformed JSON at byte 0"),
	   "text that is not JSON");
	ok(key_fails(".a", NULL, "{\"a\":1} {\"a\":2}\n", KEY_MALFORMED,
		     "malformed JSON at byte 8: text after the value"),
	   "two values on one line");
	ok(key_fails(".a", NULL, "\n", KEY_MALFORMED, "malformed JSON: empty event"),
	   "an empty event");
	ok(key_fails(".a", NULL, "", KEY_MALFORMED, "malformed JSON: empty event"),
	   "zero bytes");
}

static void test_json_hostile(void)
{
	size_t n = 3 * KEY_VALUE_MAX, len;
	char *big = malloc(n + 16);
	int rc;

	if (big == NULL)
		return;
	ok(extract_n(".a", NULL, "{\"a\":\"x\0y\"}\n", 12, &len) == KEY_MALFORMED &&
		   strcmp(err, "malformed JSON at byte 7: a NUL byte") == 0,
	   "a NUL byte in a JSON string is refused, not cut short: %s", err);
	ok(extract_n(".a", NULL, "{\"a\":1}\0\n", 9, &len) == KEY_MALFORMED,
	   "a NUL after the value is text after the value");

	/* Deep nesting: cJSON's nesting limit turns it into an error. */
	memset(big, '[', 5000);
	memset(big + 5000, ']', 5000);
	ok(extract_n(".", NULL, big, 10000, &len) == KEY_MALFORMED,
	   "nesting beyond cJSON's limit is malformed, not a stack overflow");

	/* A long string value is over the key limit; a long array too. */
	memcpy(big, "{\"a\":\"", 6);
	memset(big + 6, 'x', n);
	memcpy(big + 6 + n, "\"}\n", 3);
	rc = extract_n(".a", NULL, big, n + 9, &len);
	ok(rc == KEY_TOO_LARGE &&
		   strstr(err, "value of .a is over the 65536-byte key limit"),
	   "a huge string value is refused: %s", err);
	memcpy(big, "{\"a\":[", 6);
	for (size_t i = 0; i < n / 2; i++)
		memcpy(big + 6 + 2 * i, "1,", 2);
	memcpy(big + 6 + n - 1, "]}\n", 3);
	rc = extract_n(".a", NULL, big, n + 8, &len);
	ok(rc == KEY_TOO_LARGE, "a huge array value is refused: %s", err);

	/* Just under the limit works, through several buffer doublings. */
	memcpy(big, "{\"a\":[", 6);
	for (size_t i = 0; i < 20000; i++)
		memcpy(big + 6 + 2 * i, "1,", 2);
	memcpy(big + 6 + 40000 - 1, "]}\n", 3);
	rc = extract_n(".a", NULL, big, 40008, &len);
	ok(rc == KEY_OK && len == 40001 && got[0] == '[' && got[40000] == ']',
	   "a 40000-byte array value fits");
	free(big);
}

static void test_buffer_reuse(void)
{
	struct key_spec ks;
	struct key_buf kb;
	const char *evs[] = { "{\"k\":[1,2,3]}\n", "{\"k\":\"s\"}\n",
			      "{\"k\":{\"deep\":[true,false,null]}}\n",
			      "{\"nok\":1}\n", "{\"k\":0}\n" };
	const char *want[] = { "[1,2,3]", "s", "{\"deep\":[true,false,null]}",
			       NULL, "0" };
	int good = 1;

	key_spec_parse(&ks, ".k", NULL, err, sizeof err);
	key_buf_init(&kb);
	for (int round = 0; round < 100; round++) {
		for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
			int rc = key_extract(&ks, evs[i], strlen(evs[i]), &kb,
					     err, sizeof err);
			if (want[i] == NULL)
				good &= rc == KEY_MISSING;
			else
				good &= rc == KEY_OK &&
					kb.len == strlen(want[i]) &&
					memcmp(kb.ptr, want[i], kb.len) == 0;
		}
	}
	ok(good, "one key_buf serves many events, errors in between");
	ok(kb.cap > 0 && kb.cap <= 256, "the buffer stays small (%zu)", kb.cap);
	key_buf_free(&kb);
	key_spec_free(&ks);
}

static void test_bad_specs(void)
{
	ok(spec_fails("", NULL, "empty key"), "empty key");
	ok(spec_fails("0", NULL, "fields count from 1"), "field 0");
	ok(spec_fails("-1", NULL, "neither a field number"), "negative field");
	ok(spec_fails("2x", NULL, "neither a field number"), "trailing junk");
	ok(spec_fails("1,2", NULL, "neither a field number"), "ranges are not keys");
	ok(spec_fails(" 1", NULL, "neither a field number"), "leading space");
	ok(spec_fails("99999999999999999999999", NULL, "field numbers stop at"),
	   "a huge field number");
	ok(spec_fails("1", "", "empty separator"), "empty separator");
	ok(spec_fails("1", "\\q", "unknown escape \\q"), "unknown escape");
	ok(spec_fails("1", "\\|", "unknown escape"), "regex habits fail loudly");
	ok(spec_fails("1", "a\\", "lone backslash"), "trailing backslash");
	ok(spec_fails("1", "\n", "newline"), "a newline separator");
	ok(spec_fails("1", "0123456789012345678901234567890123456789"
			   "0123456789012345678901234567890123456789",
		      "longer than 64 bytes"),
	   "an over-long separator");
	ok(spec_fails(".a", ",", "JSON path"), "-t with a JSON path");
	ok(spec_fails("..", NULL, "empty member name after '.'"), "..");
	ok(spec_fails(".a..b", NULL, "empty member name after '.a.'"), ".a..b");
	ok(spec_fails(".a.", NULL, "empty member name at its end"), "trailing dot");
	ok(spec_fails(".a[", NULL, "expected an array index"), "open bracket");
	ok(spec_fails(".a[x]", NULL, "expected an array index"), "[x]");
	ok(spec_fails(".a[1", NULL, "expected ']'"), "unclosed index");
	ok(spec_fails(".a[-]", NULL, "expected an array index"), "[-]");
	ok(spec_fails(".a[99999999999]", NULL, "too large"), "huge index");
	ok(spec_fails(".a]", NULL, "stray"), "stray bracket");
	ok(spec_fails(".a\"b", NULL, "stray"), "stray quote");
	ok(spec_fails(".\"ab", NULL, "unterminated"), "unterminated quote");
	ok(spec_fails(".\"a\\nb\"", NULL, "unknown escape"), "\\n in a quoted name");
	ok(spec_fails(".[\"a\"", NULL, "expected ']'"), "unclosed [\"a\"");
	ok(spec_fails(".a[0]b", NULL, "expected '.' or '['"), "junk after ]");
	ok(spec_fails(".\"a\"b", NULL, "expected '.' or '['"), "junk after quote");
}

int main(void)
{
	test_blank_fields();
	test_sep_fields();
	test_json();
	test_json_hostile();
	test_buffer_reuse();
	test_bad_specs();
	return tap_done();
}
