/*
 * tap.h: the smallest TAP producer that fits the unit tests.  Each ok()
 * is one test case; the plan is printed at the end ("1..N"), which TAP
 * allows, so tests never have to be counted by hand.
 */
#ifndef SPSC_TAP_H
#define SPSC_TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                  \
	do {                                                           \
		int ok_ = (cond);                                      \
		tap_n++;                                               \
		if (!ok_)                                              \
			tap_failed++;                                  \
		printf("%sok %d - ", ok_ ? "" : "not ", tap_n);        \
		printf(__VA_ARGS__);                                   \
		printf("\n");                                          \
		if (!ok_)                                              \
			printf("#   failed at %s:%d: %s\n", __FILE__,      \
			       __LINE__, #cond);                       \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
