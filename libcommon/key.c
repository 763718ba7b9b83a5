#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>

#include "key.h"

/* Room for cJSON_PrintPreallocated, which wants a few bytes beyond the
 * text it prints (its number formatter works in a fixed scratch). */
#define PRINT_SLACK 64

enum step_kind { STEP_MEMBER, STEP_INDEX };

struct key_step {
	enum step_kind kind;
	const char *name;	/* STEP_MEMBER: NUL-terminated, in ks->names */
	long index;		/* STEP_INDEX: a negative one counts from the end */
	size_t end;		/* ks->text up to here names this level */
};

/* --- parsing the spec ------------------------------------------------ */

static int spec_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int spec_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Decodes \t, \0 and \\ so that a tab or a NUL byte can be typed; refusing
 * every other escape keeps regex habits ("\|") from silently misbehaving. */
static int parse_sep(struct key_spec *ks, const char *sep, char *err,
		     size_t errlen)
{
	size_t n = 0;

	for (const char *p = sep; *p; p++) {
		char c = *p;
		if (c == '\\') {
			switch (p[1]) {
			case 't': c = '\t'; break;
			case '0': c = '\0'; break;
			case '\\': c = '\\'; break;
			case '\0':
				return spec_error(err, errlen,
						  "separator '%s' ends in a lone backslash (use \\\\ for a backslash)",
						  sep);
			default:
				return spec_error(err, errlen,
						  "separator '%s': unknown escape \\%c (known: \\t \\0 \\\\)",
						  sep, p[1]);
			}
			p++;
		}
		if (c == '\n')
			return spec_error(err, errlen,
					  "a separator cannot hold a newline: events end there");
		if (n == KEY_SEP_MAX)
			return spec_error(err, errlen,
					  "separator '%s' is longer than %d bytes",
					  sep, KEY_SEP_MAX);
		ks->sep[n++] = c;
	}
	if (n == 0)
		return spec_error(err, errlen, "empty separator");
	ks->seplen = n;
	return 0;
}

static int parse_field(struct key_spec *ks, const char *key, char *err,
		       size_t errlen)
{
	size_t n = 0;

	for (const char *p = key; *p; p++) {
		if (*p < '0' || *p > '9')
			return spec_error(err, errlen,
					  "key '%s' is neither a field number (1, 2, ...) nor a JSON path (.a.b)",
					  key);
		n = n * 10 + (size_t)(*p - '0');
		if (n > KEY_FIELD_MAX)
			return spec_error(err, errlen,
					  "key '%s': field numbers stop at %d",
					  key, KEY_FIELD_MAX);
	}
	if (n == 0)
		return spec_error(err, errlen,
				  "key '%s': fields count from 1, as in cut -f",
				  key);
	ks->field = n;
	return 0;
}

/* The path parser's position: the text, where it is, and where decoded
 * member names go. */
struct path_parser {
	struct key_spec *ks;
	const char *text;
	const char *p;
	char *names;
	char *err;
	size_t errlen;
};

static int path_error(struct path_parser *pp, const char *what)
{
	int at = (int)(pp->p - pp->text);

	if (*pp->p == '\0')
		return spec_error(pp->err, pp->errlen,
				  "JSON path '%s': %s at its end", pp->text,
				  what);
	return spec_error(pp->err, pp->errlen,
			  "JSON path '%s': %s after '%.*s'", pp->text, what,
			  at, pp->text);
}

static struct key_step *new_step(struct path_parser *pp, enum step_kind kind)
{
	struct key_step *st = &pp->ks->steps[pp->ks->nsteps++];

	st->kind = kind;
	st->name = NULL;
	st->index = 0;
	return st;
}

/* ."name" or ["name"]: p is on the opening quote. */
static int parse_quoted(struct path_parser *pp)
{
	struct key_step *st = new_step(pp, STEP_MEMBER);

	st->name = pp->names;
	for (pp->p++; *pp->p != '"'; pp->p++) {
		if (*pp->p == '\0')
			return path_error(pp, "unterminated quoted name");
		if (*pp->p == '\\') {
			if (pp->p[1] != '"' && pp->p[1] != '\\') {
				pp->p++;
				return path_error(pp,
						  "unknown escape in a quoted name (known: \\\" \\\\)");
			}
			pp->p++;
		}
		*pp->names++ = *pp->p;
	}
	*pp->names++ = '\0';
	pp->p++;
	return 0;
}

/* .name: runs to the next '.' or '['. */
static int parse_bare(struct path_parser *pp)
{
	struct key_step *st = new_step(pp, STEP_MEMBER);

	st->name = pp->names;
	while (*pp->p != '\0' && *pp->p != '.' && *pp->p != '[') {
		if (*pp->p == '"' || *pp->p == ']')
			return path_error(pp, "stray quote or bracket in a name (quote the name: .\"a.b\")");
		*pp->names++ = *pp->p++;
	}
	*pp->names++ = '\0';
	return 0;
}

/* [N], [-N] or ["name"]: p is on the '['. */
static int parse_bracket(struct path_parser *pp)
{
	struct key_step *st;
	int negative = 0;
	long n = 0;

	pp->p++;
	if (*pp->p == '"') {
		if (parse_quoted(pp) < 0)
			return -1;
	} else {
		st = new_step(pp, STEP_INDEX);
		if (*pp->p == '-') {
			negative = 1;
			pp->p++;
		}
		if (*pp->p < '0' || *pp->p > '9')
			return path_error(pp, "expected an array index or a quoted name");
		for (; *pp->p >= '0' && *pp->p <= '9'; pp->p++) {
			n = n * 10 + (*pp->p - '0');
			if (n > INT_MAX)
				return path_error(pp, "array index too large");
		}
		st->index = negative ? -n : n;
	}
	if (*pp->p != ']')
		return path_error(pp, "expected ']'");
	pp->p++;
	return 0;
}

/*
 * A path is a '.' then steps: a name, a quoted name or a bracket right
 * after the '.', and after each step either '.' or '['.  ".[0]" and ".a.[0]"
 * are accepted as jq accepts them.  No step is shorter than two bytes of the
 * text and no decoded name is longer than its text, so arrays sized by the
 * text's length always suffice.
 */
static int parse_path(struct key_spec *ks, const char *key, char *err,
		      size_t errlen)
{
	size_t len = strlen(key);
	struct path_parser pp = { ks, key, key + 1, NULL, err, errlen };
	int after_dot = 1, rc;

	ks->json = 1;
	ks->text = strdup(key);
	ks->names = malloc(len + 1);
	ks->steps = calloc(len, sizeof *ks->steps);
	if (ks->text == NULL || ks->names == NULL || ks->steps == NULL)
		return spec_error(err, errlen, "out of memory");
	pp.names = ks->names;
	while (*pp.p != '\0') {
		if (*pp.p == '[')
			rc = parse_bracket(&pp);
		else if (!after_dot)
			rc = path_error(&pp, "expected '.' or '['");
		else if (*pp.p == '.')
			rc = path_error(&pp, "empty member name");
		else if (*pp.p == '"')
			rc = parse_quoted(&pp);
		else
			rc = parse_bare(&pp);
		if (rc < 0)
			return -1;
		ks->steps[ks->nsteps - 1].end = (size_t)(pp.p - key);
		after_dot = 0;
		if (*pp.p == '.') {
			pp.p++;
			after_dot = 1;
			if (*pp.p == '\0')
				return path_error(&pp, "empty member name");
		}
	}
	return 0;
}

int key_spec_parse(struct key_spec *ks, const char *key, const char *sep,
		   char *err, size_t errlen)
{
	memset(ks, 0, sizeof *ks);
	if (key == NULL || *key == '\0')
		return spec_error(err, errlen, "empty key");
	if (key[0] == '.') {
		if (sep != NULL)
			return spec_error(err, errlen,
					  "a separator applies to field keys, and '%s' is a JSON path",
					  key);
		if (parse_path(ks, key, err, errlen) < 0) {
			key_spec_free(ks);
			return -1;
		}
		return 0;
	}
	if (parse_field(ks, key, err, errlen) < 0)
		return -1;
	if (sep != NULL && parse_sep(ks, sep, err, errlen) < 0)
		return -1;
	return 0;
}

void key_spec_free(struct key_spec *ks)
{
	free(ks->steps);
	free(ks->names);
	free(ks->text);
	memset(ks, 0, sizeof *ks);
}

void key_buf_init(struct key_buf *kb)
{
	memset(kb, 0, sizeof *kb);
}

void key_buf_free(struct key_buf *kb)
{
	free(kb->mem);
	key_buf_init(kb);
}

static int key_buf_reserve(struct key_buf *kb, size_t len)
{
	char *p;

	if (len <= kb->cap)
		return 0;
	p = realloc(kb->mem, len);
	if (p == NULL)
		return -1;
	kb->mem = p;
	kb->cap = len;
	return 0;
}

/* --- fields ---------------------------------------------------------- */

static int field_missing(const struct key_spec *ks, size_t have, char *err,
			 size_t errlen)
{
	snprintf(err, errlen, "field %zu missing (event has %zu field%s)",
		 ks->field, have, have == 1 ? "" : "s");
	return KEY_MISSING;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int field_by_blanks(const struct key_spec *ks, const char *ev,
			   size_t len, struct key_buf *out, char *err,
			   size_t errlen)
{
	size_t i = 0, n = 0, start;

	for (;;) {
		while (i < len && is_blank(ev[i]))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && !is_blank(ev[i]))
			i++;
		if (++n == ks->field) {
			out->ptr = ev + start;
			out->len = i - start;
			return KEY_OK;
		}
	}
	return field_missing(ks, n, err, errlen);
}

static const char *find_sep(const struct key_spec *ks, const char *p,
			    const char *end)
{
	if (p == end)
		return NULL;
	if (ks->seplen == 1)
		return memchr(p, ks->sep[0], (size_t)(end - p));
	return memmem(p, (size_t)(end - p), ks->sep, ks->seplen);
}

static int field_by_sep(const struct key_spec *ks, const char *ev, size_t len,
			struct key_buf *out, char *err, size_t errlen)
{
	const char *p = ev, *end = ev + len, *s;
	size_t n = 1;

	for (;;) {
		s = find_sep(ks, p, end);
		if (n == ks->field) {
			out->ptr = p;
			out->len = (size_t)((s ? s : end) - p);
			return KEY_OK;
		}
		if (s == NULL)
			break;
		p = s + ks->seplen;
		n++;
	}
	return field_missing(ks, n, err, errlen);
}

/* --- JSON ------------------------------------------------------------ */

static const char *json_kind(const cJSON *v)
{
	if (cJSON_IsObject(v))
		return "an object";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	return "null";
}

static cJSON *step_into(cJSON *v, const struct key_step *st)
{
	int n, i;

	if (st->kind == STEP_MEMBER)
		return cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, st->name)
					 : NULL;
	if (!cJSON_IsArray(v))
		return NULL;
	n = cJSON_GetArraySize(v);
	i = (int)(st->index < 0 ? n + st->index : st->index);
	return i >= 0 && i < n ? cJSON_GetArrayItem(v, i) : NULL;
}

/* Names what is missing and, when the parent is the wrong kind of value,
 * what it is instead: that is usually the user's real mistake. */
static int json_missing(const struct key_spec *ks, size_t i, const cJSON *parent,
			char *err, size_t errlen)
{
	const struct key_step *st = &ks->steps[i];
	int here = (int)st->end, up = i ? (int)ks->steps[i - 1].end : 0;
	const char *what = st->kind == STEP_MEMBER ? "member" : "element";
	const char *want = st->kind == STEP_MEMBER ? "an object" : "an array";
	char where[256];

	if (i == 0)
		snprintf(where, sizeof where, "the event");
	else
		snprintf(where, sizeof where, "%.*s", up, ks->text);
	if (st->kind == STEP_MEMBER && cJSON_IsObject(parent))
		snprintf(err, errlen, "member %.*s missing", here, ks->text);
	else if (st->kind == STEP_INDEX && cJSON_IsArray(parent))
		snprintf(err, errlen, "element %.*s missing (%s has %d element%s)",
			 here, ks->text, where, cJSON_GetArraySize(parent),
			 cJSON_GetArraySize(parent) == 1 ? "" : "s");
	else
		snprintf(err, errlen, "%s %.*s missing (%s is %s, not %s)", what,
			 here, ks->text, where, json_kind(parent), want);
	return KEY_MISSING;
}

static int too_large(const struct key_spec *ks, char *err, size_t errlen)
{
	snprintf(err, errlen, "value of %s is over the %d-byte key limit",
		 ks->nsteps ? ks->text : "the event", KEY_VALUE_MAX);
	return KEY_TOO_LARGE;
}

static int no_memory(char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory for a key");
	return KEY_NO_MEMORY;
}

/*
 * A string gives its content; anything else its compact JSON text.  The
 * buffer doubles until the text fits, so a key costs no allocation once the
 * buffer has grown to the stream's usual key size.
 */
static int json_value(const struct key_spec *ks, cJSON *v, struct key_buf *out,
		      char *err, size_t errlen)
{
	size_t want;

	if (cJSON_IsString(v)) {
		size_t n = strlen(v->valuestring);
		if (n > KEY_VALUE_MAX)
			return too_large(ks, err, errlen);
		if (key_buf_reserve(out, n + 1) < 0)
			return no_memory(err, errlen);
		memcpy(out->mem, v->valuestring, n + 1);
		out->ptr = out->mem;
		out->len = n;
		return KEY_OK;
	}
	want = out->cap < 256 ? 256 : out->cap;
	for (;;) {
		if (key_buf_reserve(out, want) < 0)
			return no_memory(err, errlen);
		if (cJSON_PrintPreallocated(v, out->mem, (int)out->cap, 0))
			break;
		if (out->cap >= KEY_VALUE_MAX + PRINT_SLACK)
			return too_large(ks, err, errlen);
		want = out->cap * 2;
		if (want > KEY_VALUE_MAX + PRINT_SLACK)
			want = KEY_VALUE_MAX + PRINT_SLACK;
	}
	out->ptr = out->mem;
	out->len = strlen(out->mem);
	if (out->len > KEY_VALUE_MAX)
		return too_large(ks, err, errlen);
	return KEY_OK;
}

static int json_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* cJSON stops after the first value; anything but whitespace after it means
 * the event is not one JSON text (two objects on a line, say). */
static cJSON *json_parse(const char *ev, size_t len, char *err, size_t errlen)
{
	const char *end = ev, *nul;
	cJSON *root;

	if (len == 0 || (len == 1 && ev[0] == '\n')) {
		snprintf(err, errlen, "malformed JSON: empty event");
		return NULL;
	}
	/* cJSON reads strings as C strings: a NUL would silently cut a key
	 * short and make different events share it.  JSON never has one. */
	nul = memchr(ev, '\0', len);
	if (nul != NULL) {
		snprintf(err, errlen, "malformed JSON at byte %zu: a NUL byte",
			 (size_t)(nul - ev));
		return NULL;
	}
	root = cJSON_ParseWithLengthOpts(ev, len, &end, 0);
	if (root == NULL) {
		snprintf(err, errlen, "malformed JSON at byte %zu",
			 end ? (size_t)(end - ev) : 0);
		return NULL;
	}
	while (end < ev + len && json_ws(*end))
		end++;
	if (end < ev + len) {
		snprintf(err, errlen, "malformed JSON at byte %zu: text after the value",
			 (size_t)(end - ev));
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* Walks the path from the parsed event down to the key. */
static int key_json(const struct key_spec *ks, cJSON *root,
		    struct key_buf *out, char *err, size_t errlen)
{
	cJSON *v = root, *next;

	for (size_t i = 0; i < ks->nsteps; i++) {
		next = step_into(v, &ks->steps[i]);
		if (next == NULL)
			return json_missing(ks, i, v, err, errlen);
		v = next;
	}
	return json_value(ks, v, out, err, errlen);
}

void key_doc_init(struct key_doc *d, const char *ev, size_t len)
{
	d->ev = len ? ev : "";	/* a NULL with no bytes is an empty event */
	d->len = len;
	d->root = NULL;
	d->parsed = 0;
}

void key_doc_done(struct key_doc *d)
{
	cJSON_Delete(d->root);
	d->root = NULL;
	d->parsed = 0;
}

int key_doc_extract(const struct key_spec *ks, struct key_doc *d,
		    struct key_buf *out, char *err, size_t errlen)
{
	size_t body = d->len;

	if (body > 0 && d->ev[body - 1] == '\n')
		body--;
	out->ptr = NULL;
	out->len = 0;
	if (!ks->json) {
		if (ks->seplen == 0)
			return field_by_blanks(ks, d->ev, body, out, err, errlen);
		return field_by_sep(ks, d->ev, body, out, err, errlen);
	}
	/* JSON gets the newline too: it is whitespace there, and a value cut
	 * short is then reported where the event ends rather than before.
	 * A parse that failed is tried again for each key: it costs as much
	 * as keeping its message, and bad events are rare. */
	if (!d->parsed) {
		d->root = json_parse(d->ev, d->len, err, errlen);
		if (d->root == NULL)
			return KEY_MALFORMED;
		d->parsed = 1;
	}
	return key_json(ks, d->root, out, err, errlen);
}

int key_extract(const struct key_spec *ks, const char *ev, size_t len,
		struct key_buf *out, char *err, size_t errlen)
{
	struct key_doc d;
	int rc;

	key_doc_init(&d, ev, len);
	rc = key_doc_extract(ks, &d, out, err, errlen);
	key_doc_done(&d);
	return rc;
}
