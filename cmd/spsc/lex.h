/*
 * lex: a DAG file cut into lines of words, as sh would cut them.
 *
 * Quotes ('...' and "..."), backslashes, '#' comments and '\' at the end of
 * a line work as in sh.  Nothing is globbed or substituted: the only
 * expansions are ${REPLICA} and ${STAGE}, outside single quotes, which are
 * kept in the word as a marker byte (LEX_REPLICA, LEX_STAGE) for
 * lex_expand to fill in per replica.  Any other '$' is literal, so awk
 * programs survive.
 *
 * Every word remembers where it began (line and column, from 1), for
 * messages of the form FILE:LINE:COL.
 */
#ifndef SPSC_LEX_H
#define SPSC_LEX_H

#include <stddef.h>

#define LEX_REPLICA '\001'
#define LEX_STAGE '\002'

struct pos {
	int line, col;
};

struct word {
	char *text;		/* quotes removed; may hold the markers */
	struct pos pos;
	int quoted;		/* some of it was quoted or escaped */
};

struct lexline {
	struct word *w;
	size_t n, cap;
};

struct lexer {
	const char *s;		/* the whole file, NUL-terminated */
	size_t i, len;
	int line, col;
	char err[256];		/* why lex_next failed */
	struct pos errpos;
};

void lex_init(struct lexer *lx, const char *text, size_t len);
int lex_next(struct lexer *lx, struct lexline *ln);
void lexline_free(struct lexline *ln);
char *lex_expand(const char *word, const char *stage, int replica);
int lex_has_marker(const char *word);

#endif
