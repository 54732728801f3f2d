/* Internal logging.  Lines above the current level cost one atomic load. */
#ifndef MESOS_BASE_LOG_H
#define MESOS_BASE_LOG_H

#include <stdatomic.h>

#include "mesos/error.h"
#include "mesos/log.h"

extern atomic_int mesos__log_level;

void mesos__log(mesos_log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Log files (a daemon's --log_dir): every line that is logged is also
 * appended, in the default handler's glog format, to each added file,
 * whatever handler is installed -- as glog writes its files beside stderr,
 * and --quiet silences only stderr.  Process-wide, like the level and the
 * handler; any thread.  At most MESOS__LOG_MAX_FILES at once; adding the
 * same path again shares its file (removed when every adder removed it).
 * MESOS_EINVAL, MESOS_ELIMIT (too many), MESOS_EIO (cannot open; the
 * message names the file and the reason). */
#define MESOS__LOG_MAX_FILES 8
mesos_status mesos__log_file_add(const char *path, int *handle, mesos_error **err);
/* Stops writing to the file `handle` names (its fd is closed once no
 * adder is left).  A negative handle is ignored. */
void mesos__log_file_remove(int handle);

#define MESOS__LOG(lvl, ...)                                                   \
  do {                                                                         \
    if ((int)(lvl) <= atomic_load_explicit(&mesos__log_level, memory_order_relaxed)) \
      mesos__log((lvl), __FILE__, __LINE__, __VA_ARGS__);                      \
  } while (0)

#define LOG_ERROR(...) MESOS__LOG(MESOS_LOG_ERROR, __VA_ARGS__)
#define LOG_WARN(...) MESOS__LOG(MESOS_LOG_WARNING, __VA_ARGS__)
#define LOG_INFO(...) MESOS__LOG(MESOS_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) MESOS__LOG(MESOS_LOG_DEBUG, __VA_ARGS__)
#define LOG_TRACE(...) MESOS__LOG(MESOS_LOG_TRACE, __VA_ARGS__)

#endif
