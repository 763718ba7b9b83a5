/*
 * log: one line per message on stderr, "prog[pid]: level: message".
 * Stdout belongs to data; nothing here ever writes to it.
 *
 * Under systemd, when stderr is the journal (JOURNAL_STREAM names it),
 * lines are "<N>level: message" instead: journald adds "prog[pid]" itself
 * and takes N, the level's syslog priority, for the line's priority.
 */
#ifndef SPSC_LOG_H
#define SPSC_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern const char *log_prog;
extern enum log_level log_threshold;

void log_init(const char *prog);
size_t log_prefix(char *buf, size_t len, enum log_level level,
		  const char *tag);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap);
_Noreturn void die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
