/*
 * home: where spsc keeps state, and where clients find the coordinator.
 *
 *   $SPSC_HOME, else $XDG_STATE_HOME/spsc, else ~/.local/state/spsc
 *   $SPSC_COORD, else ipc://$SPSC_HOME/coord.sock
 */
#ifndef SPSC_HOME_H
#define SPSC_HOME_H

#include <stddef.h>
#include <stdint.h>

int spsc_home(char *buf, size_t len, int create);
int coord_default_url(char *buf, size_t len);
int64_t coord_connect_timeout(void);
int spsc_mkdirs(const char *path);

#endif
