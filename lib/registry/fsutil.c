#include "registry/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"

mesos_status mesos__fs_write_all(int fd, const void *p, size_t n, const char *what,
                                 mesos_error **err) {
  const char *c = p;
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return mesos__err_errno(err, MESOS_EIO, errno, what);
    }
    c += w;
    n -= (size_t)w;
  }
  return MESOS_OK;
}

mesos_status mesos__fs_pread_all(int fd, void *p, size_t n, uint64_t off, size_t *got,
                                 const char *what, mesos_error **err) {
  char *c = p;
  size_t done = 0;
  while (done < n) {
    if (off + done > (uint64_t)INT64_MAX) break;
    ssize_t r = pread(fd, c + done, n - done, (off_t)(off + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return mesos__err_errno(err, MESOS_EIO, errno, what);
    }
    if (r == 0) break;
    done += (size_t)r;
  }
  *got = done;
  return MESOS_OK;
}

mesos_status mesos__fs_fsync_dir(const char *dir, mesos_error **err) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return mesos__err(err, MESOS_EIO, "open directory %s: %s", dir, strerror(errno));
  int rc = fsync(fd);
  int e = errno;
  close(fd);
  if (rc != 0) return mesos__err(err, MESOS_EIO, "fsync directory %s: %s", dir, strerror(e));
  return MESOS_OK;
}

mesos_status mesos__fs_join(char **out, const char *a, const char *b, mesos_error **err) {
  size_t la = strlen(a), lb = strlen(b), n;
  if (!mesos__size_add(&n, la, lb) || !mesos__size_add(&n, n, 2) || n > PATH_MAX)
    return mesos__err(err, MESOS_ELIMIT, "path %s/%s is longer than %d bytes", a, b, PATH_MAX);
  char *p = mesos__malloc(n);
  if (p == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  memcpy(p, a, la);
  p[la] = '/';
  memcpy(p + la + 1, b, lb + 1);
  *out = p;
  return MESOS_OK;
}

mesos_status mesos__fs_dirname(char **out, const char *path, mesos_error **err) {
  const char *slash = strrchr(path, '/');
  char *d;
  if (slash == NULL)
    d = mesos__strdup(".");
  else if (slash == path)
    d = mesos__strdup("/");
  else
    d = mesos__strndup(path, (size_t)(slash - path));
  if (d == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  *out = d;
  return MESOS_OK;
}

unsigned mesos__fs_mkdirs_test_delay_ms;

/* Held across each mkdir and the fsync of its parent.  Why: the agent
 * creates a task's update stream and its forked.pid (both under
 * runs/<container>/) in two jobs on the thread pool at once.  Without the
 * lock, the job whose mkdir of runs/<container> finds EEXIST went on,
 * made its own file durable and let the agent act on it (send the
 * update) while the other job had not yet fsynced runs/, the parent of the
 * directory it had just created: a crash of the host in that window could
 * lose runs/<container> with the durable file in it.  With the lock,
 * EEXIST means "created and durable".  The cost is that directory
 * creations of different threads take turns; an fsync of a directory is
 * short, and the journal serializes them anyway. */
static pthread_mutex_t mkdirs_lock = PTHREAD_MUTEX_INITIALIZER;

static void test_delay(void) {
  unsigned ms = mesos__fs_mkdirs_test_delay_ms;
  if (ms == 0) return;
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

mesos_status mesos__fs_mkdirs(const char *path, mode_t mode, mesos_error **err) {
  size_t n = strlen(path);
  if (n == 0) return mesos__err(err, MESOS_EINVAL, "empty directory path");
  if (n >= PATH_MAX)
    return mesos__err(err, MESOS_ELIMIT, "directory path is longer than %d bytes", PATH_MAX);
  char buf[PATH_MAX];
  memcpy(buf, path, n + 1);
  /* Walk forward one component at a time; each component that mkdir
   * creates gets its parent fsynced, or a crash could lose the directory
   * together with the checkpoint written into it. */
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    if (buf[i - 1] == '/') continue; /* "//" or a trailing slash */
    char saved = buf[i];
    buf[i] = '\0';
    pthread_mutex_lock(&mkdirs_lock);
    if (mkdir(buf, mode) == 0) {
      test_delay();
      char *slash = strrchr(buf, '/');
      mesos_status s;
      if (slash == NULL) {
        s = mesos__fs_fsync_dir(".", err);
      } else if (slash == buf) {
        s = mesos__fs_fsync_dir("/", err);
      } else {
        *slash = '\0';
        s = mesos__fs_fsync_dir(buf, err);
        *slash = '/';
      }
      pthread_mutex_unlock(&mkdirs_lock);
      if (s != MESOS_OK) return s;
    } else if (errno == EEXIST) {
      pthread_mutex_unlock(&mkdirs_lock);
      struct stat st;
      if (stat(buf, &st) != 0)
        return mesos__err(err, MESOS_EIO, "stat %s: %s", buf, strerror(errno));
      if (!S_ISDIR(st.st_mode))
        return mesos__err(err, MESOS_EEXIST, "%s exists and is not a directory", buf);
    } else {
      int e = errno;
      pthread_mutex_unlock(&mkdirs_lock);
      return mesos__err(err, MESOS_EIO, "mkdir %s: %s", buf, strerror(e));
    }
    buf[i] = saved;
  }
  return MESOS_OK;
}
