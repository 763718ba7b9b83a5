/*
 * unitname: the systemd unit names of a DAG, shared by spsc systemd
 * (which writes them), spsc status (which reads their state) and spsc
 * stop (which stops the target):
 *
 *   spsc-NAME.target
 *   spsc-NAME-coord.service
 *   spsc-NAME-STAGE.service          one replica
 *   spsc-NAME-STAGE@R.service        replica R of several (template @.)
 */
#ifndef SPSC_UNITNAME_H
#define SPSC_UNITNAME_H

#include <stddef.h>

struct dag;

void unit_prefix(const struct dag *d, char *buf, size_t len);
void unit_target(const struct dag *d, char *buf, size_t len);
void unit_stage(const struct dag *d, int s, int r, char *buf, size_t len);

#endif
