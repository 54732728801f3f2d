#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

atomic_int mesos__log_level = MESOS_LOG_INFO;

static mesos_log_fn handler;
static void *handler_ud;

static const char level_letter[] = "EWIDT";
static const char *const level_names[] = {"ERROR", "WARNING", "INFO", "DEBUG", "TRACE"};

/* The default handler: glog's line shape, one write(2) per line so lines
 * from several processes sharing stderr do not interleave. */
static void stderr_handler(mesos_log_level level, const char *file, uint32_t line,
                           const char *message, void *ud) {
  (void)ud;
  struct timeval tv;
  struct tm tm;
  gettimeofday(&tv, NULL);
  localtime_r(&tv.tv_sec, &tm);
  const char *base = strrchr(file, '/');
  base = base ? base + 1 : file;
  char out[4096];
  int n = snprintf(out, sizeof out, "%c%02d%02d %02d:%02d:%02d.%06ld %5d %s:%u] %s\n",
                   level_letter[level], tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                   tm.tm_sec, (long)tv.tv_usec, (int)getpid(), base, line, message);
  if (n < 0) return;
  if ((size_t)n >= sizeof out) {
    n = sizeof out - 1;
    out[n - 1] = '\n';
  }
  ssize_t w = write(STDERR_FILENO, out, (size_t)n);
  (void)w;
}

void mesos__log(mesos_log_level level, const char *file, int line, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  mesos_log_fn fn = handler ? handler : stderr_handler;
  fn(level, file, (uint32_t)line, msg, handler ? handler_ud : NULL);
}

MESOS_EXTERN(void) mesos_log_set_handler(mesos_log_fn fn, void *ud) {
  handler = fn;
  handler_ud = ud;
}

MESOS_EXTERN(mesos_status) mesos_log_set_level(mesos_log_level level) {
  if ((int)level < MESOS_LOG_ERROR || (int)level > MESOS_LOG_TRACE) return MESOS_EINVAL;
  atomic_store(&mesos__log_level, (int)level);
  return MESOS_OK;
}

MESOS_EXTERN(mesos_log_level) mesos_log_get_level(void) {
  return (mesos_log_level)atomic_load(&mesos__log_level);
}

MESOS_EXTERN(mesos_status) mesos_log_level_parse(const char *name, mesos_log_level *out) {
  if (name == NULL || out == NULL) return MESOS_EINVAL;
  for (int i = 0; i <= MESOS_LOG_TRACE; i++) {
    if (strcasecmp(name, level_names[i]) == 0 ||
        (name[0] == (char)('0' + i) && name[1] == '\0')) {
      *out = (mesos_log_level)i;
      return MESOS_OK;
    }
  }
  return MESOS_EINVAL;
}

MESOS_EXTERN(const char *) mesos_log_level_name(mesos_log_level level) {
  if ((int)level < MESOS_LOG_ERROR || (int)level > MESOS_LOG_TRACE) return "UNKNOWN";
  return level_names[level];
}
