/*
 * key: the part of an event a stage groups or partitions by.
 *
 * A key is named once, on the command line, and extracted from every event,
 * so the spec is parsed (and validated) once and extraction is cheap.
 *
 * Field keys, "-k N" with an optional "-t SEP":
 *   N counts from 1, as in cut -f and sort -k.  With SEP, fields are split at
 *   every occurrence of SEP (one byte or a longer string), and empty fields
 *   count: in "a,,b" field 2 is "" and field 3 is "b".  Without SEP, fields
 *   are runs of anything but blanks (space and tab) and leading and trailing
 *   blanks are ignored, as awk does.  SEP may spell a tab as \t, a NUL byte
 *   as \0 and a backslash as \\; any other backslash is an error, so that
 *   -t '\|' fails loudly instead of splitting at a two-byte string.
 *   The result points into the event: nothing is copied or allocated.
 *
 * JSON keys, "-k .PATH" (the leading '.' tells them apart):
 *   .a.b       member "b" of member "a" of the top-level object
 *   .a[0]      first element of the array .a; [-1] is the last element
 *   ."a.b"     a member whose name holds '.', '[' or '"' (also .["a.b"]);
 *              inside the quotes \" and \\ stand for " and \
 *   .          the whole event
 *   Array elements are reached with [N] only: .a.0 is the member named "0".
 *   Member names match exactly (case-sensitive); with duplicate names the
 *   first one wins.  A string value gives its decoded content; any other
 *   value (number, true, false, null, object, array) gives its compact JSON
 *   text as cJSON prints it, so {"a": 1} and {"a":1} give the same key.
 *   Numbers are doubles: integers beyond 2^53 lose precision, so ids that
 *   big must be quoted in the events to stay exact keys.
 *   The value is copied into the key_buf, which grows as needed up to
 *   KEY_VALUE_MAX and is reused from event to event.
 *
 * The event's trailing '\n' is never part of any key; a '\r' before it is
 * an ordinary byte (it belongs to the last field).
 *
 * A key that is missing, or an event that is not valid JSON, is an error for
 * that event only: key_extract returns a negative status and a message such
 * as "field 3 missing (event has 2 fields)", "malformed JSON at byte 7" or
 * "member .a.b missing".  The caller decides where the event goes.
 */
#ifndef SPSC_KEY_H
#define SPSC_KEY_H

#include <stddef.h>

#define KEY_SEP_MAX 64
#define KEY_FIELD_MAX 1000000
#define KEY_VALUE_MAX (64 * 1024)

enum key_status {
	KEY_OK = 0,
	KEY_MISSING = -1,	/* no such field, member or element */
	KEY_MALFORMED = -2,	/* the event is not valid JSON */
	KEY_TOO_LARGE = -3,	/* the value is over KEY_VALUE_MAX bytes */
	KEY_NO_MEMORY = -4,
};

struct key_step;

struct key_spec {
	int json;			/* 1: a JSON path, 0: a field */
	size_t field;			/* 1-based field number */
	char sep[KEY_SEP_MAX];		/* separator bytes (escapes decoded) */
	size_t seplen;			/* 0: runs of blanks */
	struct key_step *steps;		/* the JSON path, one step per level */
	size_t nsteps;
	char *names;			/* member names the steps point into */
	char *text;			/* the path as given, for messages */
};

/* Where a key is: ptr/len point into the event (fields) or into mem (JSON
 * values).  mem is owned by the key_buf and kept from call to call. */
struct key_buf {
	const char *ptr;
	size_t len;
	char *mem;
	size_t cap;
};

/* Parses -k KEY with -t SEP (NULL when -t was not given).  Returns 0, or
 * -1 with a message in err that quotes the offending text, ready for
 * opt_usage_error("%s", err).  key_spec_free is safe after either. */
int key_spec_parse(struct key_spec *ks, const char *key, const char *sep,
		   char *err, size_t errlen);
void key_spec_free(struct key_spec *ks);

void key_buf_init(struct key_buf *kb);
void key_buf_free(struct key_buf *kb);

/* Finds the key in the event ev of len bytes (its '\n' included or not).
 * Returns KEY_OK with out->ptr and out->len set, or a negative enum
 * key_status with a message for this event in err. */
int key_extract(const struct key_spec *ks, const char *ev, size_t len,
		struct key_buf *out, char *err, size_t errlen);

/*
 * Several keys of one event (a stage's key, the fields it aggregates, an
 * event time): a JSON event is parsed once, on the first JSON key asked
 * of it, and the parse is kept until key_doc_done.  Each key needs its
 * own key_buf.  key_extract is key_doc_extract on a one-key doc.
 */
struct key_doc {
	const char *ev;
	size_t len;
	void *root;	/* the parsed event (a cJSON tree) */
	int parsed;
};

void key_doc_init(struct key_doc *d, const char *ev, size_t len);
int key_doc_extract(const struct key_spec *ks, struct key_doc *d,
		    struct key_buf *out, char *err, size_t errlen);
void key_doc_done(struct key_doc *d);

#endif
