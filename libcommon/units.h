/*
 * units: durations ("500ms", "2s", "5m", "1h"; a bare number is seconds),
 * sizes ("64k", "1M", "2G", powers of 1024) and the two clocks.
 */
#ifndef SPSC_UNITS_H
#define SPSC_UNITS_H

#include <stddef.h>
#include <stdint.h>

#define NS_PER_MS INT64_C(1000000)
#define NS_PER_SEC INT64_C(1000000000)

int parse_duration(const char *s, int64_t *ns);
int parse_size(const char *s, uint64_t *bytes);
void format_duration(int64_t ns, char *buf, size_t len);
void format_size(uint64_t bytes, char *buf, size_t len);

int64_t wall_ns(void);
int64_t mono_ns(void);

#endif
