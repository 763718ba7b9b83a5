/*
 * prog: what every spsc program does before anything else.
 */
#ifndef SPSC_PROG_H
#define SPSC_PROG_H

void prog_init(const char *argv0);
void prog_keep_heap(void);

#endif
