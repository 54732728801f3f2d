#include "base/log.h"

#include "base/error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

/* Log files: a small fixed table behind a mutex (lines come from the loop
 * thread and from thread-pool work); `nfiles` lets the common case -- no
 * file -- skip the lock. */
typedef struct log_file {
  int fd;          /* -1: free slot */
  int refs;
  char path[4096];
} log_file;
static log_file files[MESOS__LOG_MAX_FILES] = {
    {-1, 0, ""}, {-1, 0, ""}, {-1, 0, ""}, {-1, 0, ""},
    {-1, 0, ""}, {-1, 0, ""}, {-1, 0, ""}, {-1, 0, ""}};
static atomic_int nfiles;
static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;

/* Formats one line as glog does ("I1125 01:55:10.433083 25711 file.c:12] msg\n");
 * returns its length (the line is cut, newline kept, when too long). */
static size_t format_line(char *out, size_t cap, mesos_log_level level, const char *file,
                          uint32_t line, const char *message) {
  struct timeval tv;
  struct tm tm;
  gettimeofday(&tv, NULL);
  localtime_r(&tv.tv_sec, &tm);
  const char *base = strrchr(file, '/');
  base = base ? base + 1 : file;
  int n = snprintf(out, cap, "%c%02d%02d %02d:%02d:%02d.%06ld %5d %s:%u] %s\n",
                   level_letter[level], tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                   tm.tm_sec, (long)tv.tv_usec, (int)getpid(), base, line, message);
  if (n < 0) return 0;
  if ((size_t)n >= cap) {
    n = (int)cap - 1;
    out[n - 1] = '\n';
  }
  return (size_t)n;
}

static void write_files(mesos_log_level level, const char *file, uint32_t line,
                        const char *message) {
  char out[4096];
  size_t n = format_line(out, sizeof out, level, file, line, message);
  if (n == 0) return;
  pthread_mutex_lock(&files_lock);
  for (int i = 0; i < MESOS__LOG_MAX_FILES; i++)
    if (files[i].fd >= 0) {
      ssize_t w = write(files[i].fd, out, n);
      (void)w; /* a full disk must not stop the daemon; nothing to report to */
    }
  pthread_mutex_unlock(&files_lock);
}

mesos_status mesos__log_file_add(const char *path, int *handle, mesos_error **err) {
  if (path == NULL || path[0] == '\0' || handle == NULL)
    return mesos__err(err, MESOS_EINVAL, "log file: no path");
  if (strlen(path) >= sizeof files[0].path)
    return mesos__err(err, MESOS_EINVAL, "log file path is too long");
  pthread_mutex_lock(&files_lock);
  int slot = -1;
  for (int i = 0; i < MESOS__LOG_MAX_FILES; i++) {
    if (files[i].fd >= 0 && strcmp(files[i].path, path) == 0) {
      files[i].refs++;
      *handle = i;
      pthread_mutex_unlock(&files_lock);
      return MESOS_OK;
    }
    if (files[i].fd < 0 && slot < 0) slot = i;
  }
  if (slot < 0) {
    pthread_mutex_unlock(&files_lock);
    return mesos__err(err, MESOS_ELIMIT, "more than %d log files", MESOS__LOG_MAX_FILES);
  }
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0) {
    int e = errno;
    pthread_mutex_unlock(&files_lock);
    return mesos__err(err, MESOS_EIO, "cannot open log file '%s': %s", path, strerror(e));
  }
  files[slot].fd = fd;
  files[slot].refs = 1;
  snprintf(files[slot].path, sizeof files[slot].path, "%s", path);
  atomic_fetch_add(&nfiles, 1);
  *handle = slot;
  pthread_mutex_unlock(&files_lock);
  return MESOS_OK;
}

void mesos__log_file_remove(int handle) {
  if (handle < 0 || handle >= MESOS__LOG_MAX_FILES) return;
  pthread_mutex_lock(&files_lock);
  if (files[handle].fd >= 0 && --files[handle].refs == 0) {
    close(files[handle].fd);
    files[handle].fd = -1;
    files[handle].path[0] = '\0';
    atomic_fetch_sub(&nfiles, 1);
  }
  pthread_mutex_unlock(&files_lock);
}

/* The default handler: glog's line shape, one write(2) per line so lines
 * from several processes sharing stderr do not interleave. */
static void stderr_handler(mesos_log_level level, const char *file, uint32_t line,
                           const char *message, void *ud) {
  (void)ud;
  char out[4096];
  size_t n = format_line(out, sizeof out, level, file, line, message);
  if (n == 0) return;
  ssize_t w = write(STDERR_FILENO, out, n);
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
  if (atomic_load_explicit(&nfiles, memory_order_relaxed) > 0)
    write_files(level, file, (uint32_t)line, msg);
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
