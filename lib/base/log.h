/* Internal logging.  Lines above the current level cost one atomic load. */
#ifndef MESOS_BASE_LOG_H
#define MESOS_BASE_LOG_H

#include <stdatomic.h>

#include "mesos/log.h"

extern atomic_int mesos__log_level;

void mesos__log(mesos_log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

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
