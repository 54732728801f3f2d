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

/* Makes `buf` (a directory just created) durable: fsync of its parent. */
static mesos_status fsync_parent(char *buf, mesos_error **err) {
  char *slash = strrchr(buf, '/');
  if (slash == NULL) return mesos__fs_fsync_dir(".", err);
  if (slash == buf) return mesos__fs_fsync_dir("/", err);
  *slash = '\0';
  mesos_status s = mesos__fs_fsync_dir(buf, err);
  *slash = '/';
  return s;
}

/* mkdir of `buf` that also accepts an existing directory.  Returns 1 when
 * it created it and made it durable (its parent fsynced, under
 * mkdirs_lock), 0 when it was there, -1 (errno set) when mkdir failed
 * otherwise, -2 with *st set on any other error (a non-directory in the
 * way is MESOS_EEXIST). */
static int mkdir_one(char *buf, mode_t mode, mesos_status *st, mesos_error **err) {
  pthread_mutex_lock(&mkdirs_lock);
  if (mkdir(buf, mode) == 0) {
    test_delay();
    *st = fsync_parent(buf, err);
    pthread_mutex_unlock(&mkdirs_lock);
    return *st == MESOS_OK ? 1 : -2;
  }
  int e = errno;
  pthread_mutex_unlock(&mkdirs_lock);
  if (e != EEXIST) {
    errno = e;
    return -1;
  }
  struct stat sb;
  if (stat(buf, &sb) != 0) {
    *st = mesos__err(err, MESOS_EIO, "stat %s: %s", buf, strerror(errno));
    return -2;
  }
  if (!S_ISDIR(sb.st_mode)) {
    *st = mesos__err(err, MESOS_EEXIST, "%s exists and is not a directory", buf);
    return -2;
  }
  return 0;
}

mesos_status mesos__fs_mkdirs(const char *path, mode_t mode, mesos_error **err) {
  size_t n = strlen(path);
  if (n == 0) return mesos__err(err, MESOS_EINVAL, "empty directory path");
  if (n >= PATH_MAX)
    return mesos__err(err, MESOS_ELIMIT, "directory path is longer than %d bytes", PATH_MAX);
  while (n > 1 && path[n - 1] == '/') n--; /* a trailing slash names the same directory */
  char buf[PATH_MAX];
  memcpy(buf, path, n);
  buf[n] = '\0';
  /* Backwards first: the whole path, then without its last component, and
   * so on until a mkdir succeeds or finds the directory there.  Why: most
   * calls name a directory that exists or whose parent does (a checkpoint
   * written next to others), and a forward walk from the root cost one
   * mkdir and one stat per component (~25 path walks for an agent's
   * checkpoint paths), several times per task launch.  Each directory
   * created gets its parent fsynced (mkdir_one), or a crash could lose it
   * together with the checkpoint written into it. */
  mesos_status st = MESOS_OK;
  size_t end = n;
  for (;;) {
    buf[end] = '\0';
    int r = mkdir_one(buf, mode, &st, err);
    if (r == -2) return st;
    if (r >= 0) break;
    if (errno != ENOENT) return mesos__err(err, MESOS_EIO, "mkdir %s: %s", buf, strerror(errno));
    size_t k = end;
    while (k > 0 && buf[k - 1] != '/') k--;
    while (k > 0 && buf[k - 1] == '/') k--;
    if (k == 0) return mesos__err(err, MESOS_EIO, "mkdir %s: %s", buf, strerror(ENOENT));
    end = k;
  }
  if (end == n) return MESOS_OK;
  /* Then forwards over the components still missing. */
  memcpy(buf, path, n);
  buf[n] = '\0';
  for (size_t i = end + 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    if (buf[i - 1] == '/') continue; /* "//" */
    char saved = buf[i];
    buf[i] = '\0';
    int r = mkdir_one(buf, mode, &st, err);
    if (r == -2) return st;
    if (r < 0) return mesos__err(err, MESOS_EIO, "mkdir %s: %s", buf, strerror(errno));
    buf[i] = saved;
  }
  return MESOS_OK;
}
