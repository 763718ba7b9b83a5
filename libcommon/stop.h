/*
 * stop: the one way every long-running program learns it should stop.
 *
 * SIGTERM (systemd's stop) and SIGINT set stop_requested.  The handlers
 * are installed without SA_RESTART, so a blocking poll returns EINTR and
 * the waiting code checks the flag: programs finish the atom in hand,
 * flush, acknowledge, and exit 0.
 */
#ifndef SPSC_STOP_H
#define SPSC_STOP_H

#include <signal.h>

extern volatile sig_atomic_t stop_requested;

int stop_on_signals(void);

#endif
