/*
 * lex: sh's word splitting for DAG files, without sh's expansions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "lex.h"
#include "log.h"
#include "opt.h"

/* A word being built: a growing byte buffer. */
struct buf {
	char *s;
	size_t n, cap;
};

static void put(struct buf *b, char c)
{
	if (b->n + 2 > b->cap && grow((void **)&b->s, &b->cap, b->n + 2, 1) < 0)
		die(EXIT_FAIL, "out of memory");
	b->s[b->n++] = c;
	b->s[b->n] = '\0';
}

void lex_init(struct lexer *lx, const char *text, size_t len)
{
	memset(lx, 0, sizeof *lx);
	lx->s = text;
	lx->len = len;
	lx->line = 1;
	lx->col = 1;
}

static int peek(const struct lexer *lx, size_t ahead)
{
	return lx->i + ahead < lx->len ? (unsigned char)lx->s[lx->i + ahead]
				       : -1;
}

static int take(struct lexer *lx)
{
	int c = peek(lx, 0);

	if (c < 0)
		return c;
	lx->i++;
	if (c == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	return c;
}

static int fail(struct lexer *lx, struct pos at, const char *why)
{
	snprintf(lx->err, sizeof lx->err, "%s", why);
	lx->errpos = at;
	return -1;
}

static struct pos here(const struct lexer *lx)
{
	return (struct pos){ lx->line, lx->col };
}

/* ${REPLICA} or ${STAGE} at the cursor becomes its marker; else 0. */
static int variable(struct lexer *lx, struct buf *b)
{
	static const struct { const char *text; char marker; } vars[] = {
		{ "${REPLICA}", LEX_REPLICA }, { "${STAGE}", LEX_STAGE },
	};

	for (size_t v = 0; v < sizeof vars / sizeof vars[0]; v++) {
		size_t n = strlen(vars[v].text);

		if (lx->len - lx->i >= n &&
		    memcmp(lx->s + lx->i, vars[v].text, n) == 0) {
			for (size_t k = 0; k < n; k++)
				take(lx);
			put(b, vars[v].marker);
			return 1;
		}
	}
	return 0;
}

/* What sh would run instead of passing on: refused, so that a stage
 * never silently gets "|" or "$(date)" as an argument. */
static const char *shell_only(const struct lexer *lx, int c)
{
	if (c == '`' || (c == '$' && peek(lx, 1) == '('))
		return "command substitution is not supported: run the stage through sh -c, or a script";
	if (strchr("|;&<>", c))
		return "shell operators (| ; & < >) are not supported: quote them, or run the stage through sh -c";
	return NULL;
}

static int single_quoted(struct lexer *lx, struct buf *b)
{
	struct pos open = here(lx);
	int c;

	take(lx);
	while ((c = take(lx)) != '\'') {
		if (c < 0)
			return fail(lx, open, "unterminated single quote");
		put(b, (char)c);
	}
	return 0;
}

static int double_quoted(struct lexer *lx, struct buf *b)
{
	struct pos open = here(lx);
	int c;

	take(lx);
	for (;;) {
		c = peek(lx, 0);
		if (c < 0)
			return fail(lx, open, "unterminated double quote");
		if (c == '"') {
			take(lx);
			return 0;
		}
		if (c == '\\' && peek(lx, 1) >= 0 && strchr("$`\"\\\n", peek(lx, 1))) {
			take(lx);
			if ((c = take(lx)) != '\n')
				put(b, (char)c);
			continue;
		}
		if (c == '`' || (c == '$' && peek(lx, 1) == '('))
			return fail(lx, here(lx), shell_only(lx, c));
		if (c == '$' && variable(lx, b))
			continue;
		put(b, (char)take(lx));
	}
}

/* One word from the cursor, which is on its first character. */
static int word(struct lexer *lx, struct word *w)
{
	struct buf b = { 0 };
	const char *why;
	int c;

	put(&b, '\0');
	b.n = 0;
	w->pos = here(lx);
	w->quoted = 0;
	while ((c = peek(lx, 0)) >= 0 && c != ' ' && c != '\t' && c != '\n' &&
	       c != '\r') {
		if (c == '\'' || c == '"') {
			w->quoted = 1;
			if ((c == '\'' ? single_quoted(lx, &b)
				       : double_quoted(lx, &b)) < 0)
				goto fail;
		} else if (c == '\\') {
			take(lx);
			if ((c = take(lx)) < 0)
				break;
			if (c != '\n') {
				w->quoted = 1;
				put(&b, (char)c);
			}
		} else if ((why = shell_only(lx, c)) != NULL) {
			fail(lx, here(lx), why);
			goto fail;
		} else if (c == '$' && variable(lx, &b)) {
			continue;
		} else if (c == LEX_REPLICA || c == LEX_STAGE) {
			fail(lx, here(lx), "control character in the file");
			goto fail;
		} else {
			put(&b, (char)take(lx));
		}
	}
	w->text = b.s;
	return 0;
fail:
	free(b.s);
	return -1;
}

static void skip_comment(struct lexer *lx)
{
	while (peek(lx, 0) >= 0 && peek(lx, 0) != '\n')
		take(lx);
}

/* After an error: on from the next line, so that one mistake does not
 * hide the others. */
static void skip_line(struct lexer *lx)
{
	int c;

	while ((c = take(lx)) >= 0 && c != '\n')
		;
}

/* The next non-empty line; 1 if there is one, 0 at the end, -1 on a
 * syntax error (lx->err, lx->errpos), after which lex_next goes on
 * with the line after. */
int lex_next(struct lexer *lx, struct lexline *ln)
{
	int c;

	memset(ln, 0, sizeof *ln);
	while ((c = peek(lx, 0)) >= 0) {
		if (c == ' ' || c == '\t' || c == '\r') {
			take(lx);
		} else if (c == '\\' && peek(lx, 1) == '\n') {
			take(lx);
			take(lx);
		} else if (c == '#') {
			skip_comment(lx);
		} else if (c == '\n') {
			take(lx);
			if (ln->n > 0)
				return 1;
		} else {
			if (ln->n == ln->cap &&
			    grow((void **)&ln->w, &ln->cap, ln->n + 1,
				 sizeof *ln->w) < 0)
				die(EXIT_FAIL, "out of memory");
			if (word(lx, &ln->w[ln->n]) < 0) {
				lexline_free(ln);
				skip_line(lx);
				return -1;
			}
			ln->n++;
		}
	}
	return ln->n > 0;
}

void lexline_free(struct lexline *ln)
{
	for (size_t i = 0; i < ln->n; i++)
		free(ln->w[i].text);
	free(ln->w);
	memset(ln, 0, sizeof *ln);
}

int lex_has_marker(const char *word)
{
	return strchr(word, LEX_REPLICA) || strchr(word, LEX_STAGE);
}

/* The word as replica REPLICA of STAGE sees it. */
char *lex_expand(const char *word, const char *stage, int replica)
{
	struct buf b = { 0 };
	char num[16];

	put(&b, '\0');
	b.n = 0;
	snprintf(num, sizeof num, "%d", replica);
	for (const char *p = word; *p; p++) {
		const char *sub = *p == LEX_REPLICA ? num
				  : *p == LEX_STAGE ? stage : NULL;

		if (sub == NULL) {
			put(&b, *p);
			continue;
		}
		for (; *sub; sub++)
			put(&b, *sub);
	}
	return b.s;
}
