/*
 * plan: --print-endpoints, how a launcher learns a stage's edges without
 * knowing its options.  The program checks its options as for a run, then,
 * where it would open its endpoints, prints them instead and exits:
 *
 *   ROLE <TAB> SPEC [<TAB> PRODUCER]
 *
 * ROLE is in (read), out (written), dlq (dead letters), late (spsc-reduce
 * --late), or file: a file or directory that is no endpoint (spsc-source's
 * inputs, spsc-sink's destination); SPEC is the endpoint as the program
 * would open it, or the path as given; PRODUCER, 16
 * lower-case hex digits, is the producer id it would register for an out.
 * Nothing is opened, connected to or created.
 */
#ifndef SPSC_PLAN_H
#define SPSC_PLAN_H

#include <stdint.h>

extern int plan_requested;	/* --print-endpoints was given */

/* One line; producer 0 (anonymous, as in endpoint_opts) prints none. */
void plan_print(const char *role, const char *spec, uint64_t producer);
/* dlq of a queue input: the coordinator's NAME.dlq[@URL] (max-receives). */
void plan_print_queue_dlq(const char *queue_spec);
/* Flushes stdout; exits 0, or 1 on a write error. */
_Noreturn void plan_done(void);

#endif
