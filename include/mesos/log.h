/*
 * mesos/log.h - where the library's log lines go.
 *
 * The library never writes to stdout.  Every log line is handed to one
 * process-wide handler; the default handler writes to stderr in the format
 * documented in libmesos-core(3):
 *
 *   Lmmdd hh:mm:ss.uuuuuu pid file:line] message
 *
 * where L is one of E W I D T (error, warning, info, debug, trace), the same
 * shape glog gives Mesos, so existing log tooling keeps working.
 *
 * Thread safety: set the handler before starting any loop; the level may be
 * changed from any thread at any time (it is read atomically).
 *
 * Since 1.0.
 */
#ifndef MESOS_LOG_H
#define MESOS_LOG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mesos_log_level {
  MESOS_LOG_ERROR = 0,
  MESOS_LOG_WARNING = 1,
  MESOS_LOG_INFO = 2,
  MESOS_LOG_DEBUG = 3,
  MESOS_LOG_TRACE = 4
} mesos_log_level;

/*
 * A log handler.  `file` and `message` are borrowed for the duration of the
 * call.  `message` has no trailing newline.  `ud` is the pointer passed to
 * mesos_log_set_handler().
 */
typedef void (*mesos_log_fn)(mesos_log_level level, const char *file,
                             uint32_t line, const char *message, void *ud);

/* Installs `fn` (NULL restores the default stderr handler). */
MESOS_EXTERN(void) mesos_log_set_handler(mesos_log_fn fn, void *ud);

/* Lines above `level` are discarded before formatting.  Default: INFO.
 * Returns MESOS_EINVAL for a level outside the enum. */
MESOS_EXTERN(mesos_status) mesos_log_set_level(mesos_log_level level);

/* The current level. */
MESOS_EXTERN(mesos_log_level) mesos_log_get_level(void);

/* Parses "ERROR", "WARNING", "INFO", "DEBUG", "TRACE" (any case) or the
 * digits 0-4 into *out.  MESOS_EINVAL for anything else. */
MESOS_EXTERN(mesos_status) mesos_log_level_parse(const char *name,
                                                 mesos_log_level *out);

/* The upper-case name of `level`, or "UNKNOWN".  Static storage. */
MESOS_EXTERN(const char *) mesos_log_level_name(mesos_log_level level);

#ifdef __cplusplus
}
#endif

#endif /* MESOS_LOG_H */
