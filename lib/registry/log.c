#include "registry/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "registry/fsutil.h"
#include "registry/log_int.h"

#define LOCK_NAME "LOCK"
#define SNAP_PREFIX "snapshot."
#define LOG_PREFIX "log."
#define TMP_SUFFIX ".tmp"
#define GEN_DIGITS 16

void (*mesos__rlog_test_hook)(mesos__rlog_point point);

#define TEST_POINT(p)                                           \
  do {                                                          \
    if (mesos__rlog_test_hook != NULL) mesos__rlog_test_hook(p); \
  } while (0)

struct mesos__rlog {
  char *dir;
  int fd;     /* the current segment, log.<gen> */
  int lockfd; /* LOCK, flock'ed for the log's lifetime */
  uint64_t gen;
  uint64_t end; /* end of the last complete record of the segment */
  uint64_t records;
  size_t max;
  bool poisoned; /* an I/O failure left the files in an unknown state */
};

/* *out = "<dir>/<prefix><gen><suffix>". */
static mesos_status gen_path(const mesos__rlog *log, char **out, const char *prefix,
                             uint64_t gen, const char *suffix, mesos_error **err) {
  char name[64];
  snprintf(name, sizeof name, "%s%0*" PRIx64 "%s", prefix, GEN_DIGITS, gen, suffix);
  return mesos__fs_join(out, log->dir, name, err);
}

/* Parses "<prefix><16 hex digits><suffix>" exactly. */
static bool parse_gen(const char *name, const char *prefix, const char *suffix, uint64_t *gen) {
  size_t lp = strlen(prefix), ls = strlen(suffix), ln = strlen(name);
  if (ln != lp + GEN_DIGITS + ls || strncmp(name, prefix, lp) != 0 ||
      strcmp(name + lp + GEN_DIGITS, suffix) != 0)
    return false;
  uint64_t v = 0;
  for (size_t i = lp; i < lp + GEN_DIGITS; i++) {
    char c = name[i];
    unsigned d;
    if (c >= '0' && c <= '9')
      d = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = (unsigned)(c - 'a' + 10);
    else
      return false;
    v = v << 4 | d;
  }
  *gen = v;
  return true;
}

/* What the directory holds, from one readdir pass. */
typedef struct {
  bool has_snap;
  uint64_t snap_gen;   /* highest snapshot generation */
  bool has_log;
  uint64_t max_log;    /* highest log generation */
} dir_state;

static mesos_status read_dir(const char *dir, dir_state *ds, mesos_error **err) {
  memset(ds, 0, sizeof *ds);
  DIR *d = opendir(dir);
  if (d == NULL) return mesos__err(err, MESOS_EIO, "open directory %s: %s", dir, strerror(errno));
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    uint64_t g;
    if (parse_gen(e->d_name, SNAP_PREFIX, "", &g)) {
      if (!ds->has_snap || g > ds->snap_gen) ds->snap_gen = g;
      ds->has_snap = true;
    } else if (parse_gen(e->d_name, LOG_PREFIX, "", &g)) {
      if (!ds->has_log || g > ds->max_log) ds->max_log = g;
      ds->has_log = true;
    }
  }
  closedir(d);
  return MESOS_OK;
}

/* Removes what recovery or a snapshot left behind: temporary snapshots and
 * every generation older than the current one.  Only called once the
 * current generation is durable, so nothing removed here is still needed;
 * a failure is logged and retried on the next open. */
static void remove_stale(mesos__rlog *log) {
  DIR *d = opendir(log->dir);
  if (d == NULL) return;
  bool removed = false;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    uint64_t g;
    bool stale = parse_gen(e->d_name, SNAP_PREFIX, TMP_SUFFIX, &g) ||
                 (parse_gen(e->d_name, SNAP_PREFIX, "", &g) && g < log->gen) ||
                 (parse_gen(e->d_name, LOG_PREFIX, "", &g) && g < log->gen);
    if (!stale) continue;
    if (unlinkat(dirfd(d), e->d_name, 0) == 0)
      removed = true;
    else
      LOG_WARN("registry log %s: removing stale %s: %s", log->dir, e->d_name, strerror(errno));
  }
  closedir(d);
  if (removed) {
    mesos_error *err = NULL;
    if (mesos__fs_fsync_dir(log->dir, &err) != MESOS_OK) {
      LOG_WARN("registry log: %s", mesos_error_message(err));
      mesos_error_free(err);
    }
  }
}

typedef struct {
  mesos__rlog_replay_cb cb;
  void *ud;
  mesos__rlog_item item;
  uint64_t count;
  bool extra_snapshot_record; /* a snapshot file held a second record */
} replay_ctx;

/* The error for a failed scan: the scan's own, or, when the caller's
 * callback stopped it (and so set no error), one naming its status. */
static mesos_status scan_error(mesos_status s, const replay_ctx *c, mesos_error *e,
                               const char *path, mesos_error **err) {
  if (e != NULL) {
    mesos__err_move(err, e);
    return s;
  }
  if (c->extra_snapshot_record)
    return mesos__err(err, MESOS_EPROTO, "%s: more than one record in a snapshot", path);
  return mesos__err(err, s, "%s: replay stopped by the caller (%s)", path,
                    mesos_status_name(s));
}

static mesos_status replay_one(const uint8_t *data, size_t len, uint64_t off, void *ud) {
  replay_ctx *c = ud;
  c->count++;
  if (c->item == MESOS__RLOG_ITEM_SNAPSHOT && c->count > 1) {
    c->extra_snapshot_record = true;
    return MESOS_EPROTO; /* reported with a message by scan_error */
  }
  return c->cb ? c->cb(c->item, data, len, c->ud) : MESOS_OK;
}

static mesos_status open_snapshot(mesos__rlog *log, replay_ctx *rc, mesos_error **err) {
  char *path = NULL;
  mesos_status s = gen_path(log, &path, SNAP_PREFIX, log->gen, "", err);
  if (s != MESOS_OK) return s;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    s = mesos__err(err, MESOS_EIO, "open %s: %s", path, strerror(errno));
    mesos__free(path);
    return s;
  }
  uint64_t end = 0, torn = 0;
  rc->item = MESOS__RLOG_ITEM_SNAPSHOT;
  rc->count = 0;
  mesos_error *e = NULL;
  s = mesos__record_scan(fd, MESOS__RECORD_SNAPSHOT, log->max, replay_one, rc, &end, &torn, path,
                         &e);
  close(fd);
  /* A snapshot only becomes visible by rename after it was fsynced whole,
   * so anything but exactly one complete record is damage. */
  if (s != MESOS_OK)
    s = scan_error(s, rc, e, path, err);
  else if (rc->count != 1 || torn != 0)
    s = mesos__err(err, MESOS_EPROTO, "%s: damaged snapshot (%s at offset %llu)", path,
                   rc->count == 0 ? "no complete record" : "trailing bytes",
                   (unsigned long long)end);
  mesos__free(path);
  return s;
}

mesos_status mesos__rlog_open(mesos__rlog **out, const char *dir, const mesos__rlog_options *opts,
                             mesos__rlog_replay_cb cb, void *ud, mesos_error **err) {
  mesos__rlog_options defaults = {0, false};
  if (opts == NULL) opts = &defaults;
  if (dir == NULL || dir[0] == '\0') return mesos__err(err, MESOS_EINVAL, "no log directory");
  mesos_status s;
  if (opts->create) {
    s = mesos__fs_mkdirs(dir, 0700, err);
    if (s != MESOS_OK) return s;
  } else {
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
      return mesos__err(err, MESOS_ENOTFOUND, "registry log directory %s does not exist", dir);
  }
  mesos__rlog *log = MESOS__NEW(mesos__rlog);
  if (log == NULL || (log->dir = mesos__strdup(dir)) == NULL) {
    mesos__free(log);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  log->fd = -1;
  log->lockfd = -1;
  log->max = opts->max_record == 0 ? MESOS__RECORD_MAX_DEFAULT : opts->max_record;
  if (log->max > MESOS__RECORD_MAX_LIMIT) log->max = MESOS__RECORD_MAX_LIMIT;
  char *path = NULL;
  replay_ctx rc = {cb, ud, MESOS__RLOG_ITEM_RECORD, 0, false};
  bool created = false;

  s = mesos__fs_join(&path, dir, LOCK_NAME, err);
  if (s != MESOS_OK) goto fail;
  log->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (log->lockfd < 0) {
    s = mesos__err(err, MESOS_EIO, "open %s: %s", path, strerror(errno));
    goto fail;
  }
  if (flock(log->lockfd, LOCK_EX | LOCK_NB) != 0) {
    s = errno == EWOULDBLOCK
            ? mesos__err(err, MESOS_EBUSY, "registry log %s is in use by another process", dir)
            : mesos__err(err, MESOS_EIO, "lock %s: %s", path, strerror(errno));
    goto fail;
  }
  mesos__free(path);
  path = NULL;

  dir_state ds;
  s = read_dir(dir, &ds, err);
  if (s != MESOS_OK) goto fail;
  log->gen = ds.has_snap ? ds.snap_gen : 0;
  if (ds.has_log && ds.max_log > log->gen) {
    s = mesos__err(err, MESOS_EPROTO,
                   "registry log %s: segment log.%016" PRIx64 " has no snapshot (highest "
                   "snapshot generation %016" PRIx64 "); refusing to guess",
                   dir, ds.max_log, log->gen);
    goto fail;
  }
  if (ds.has_snap) {
    s = open_snapshot(log, &rc, err);
    if (s != MESOS_OK) goto fail;
  }

  s = gen_path(log, &path, LOG_PREFIX, log->gen, "", err);
  if (s != MESOS_OK) goto fail;

  log->fd = open(path, O_RDWR | O_CLOEXEC);
  if (log->fd < 0 && errno == ENOENT) {
    /* Fresh directory, or a crash between a snapshot's rename and its new
     * segment's creation: the segment starts empty either way. */
    log->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    created = true;
  }
  if (log->fd < 0) {
    s = mesos__err(err, MESOS_EIO, "open %s: %s", path, strerror(errno));
    goto fail;
  }
  uint64_t torn = 0;
  rc.item = MESOS__RLOG_ITEM_RECORD;
  rc.count = 0;
  if (!created) {
    mesos_error *e = NULL;
    s = mesos__record_scan(log->fd, MESOS__RECORD_LOG, log->max, replay_one, &rc, &log->end,
                           &torn, path, &e);
    if (s != MESOS_OK) {
      s = scan_error(s, &rc, e, path, err);
      goto fail;
    }
  }
  log->records = rc.count;

  /* Everything is validated: only now change files. */
  if (torn > 0) {
    LOG_WARN("registry log %s: dropping a torn tail of %llu bytes at offset %llu (an append "
             "interrupted by a crash, never acknowledged)",
             path, (unsigned long long)torn, (unsigned long long)log->end);
    if (ftruncate(log->fd, (off_t)log->end) != 0 || fdatasync(log->fd) != 0) {
      s = mesos__err(err, MESOS_EIO, "truncate %s: %s", path, strerror(errno));
      goto fail;
    }
  }
  if (created) {
    if (fsync(log->fd) != 0) {
      s = mesos__err(err, MESOS_EIO, "fsync %s: %s", path, strerror(errno));
      goto fail;
    }
    s = mesos__fs_fsync_dir(dir, err);
    if (s != MESOS_OK) goto fail;
  }
  mesos__free(path);
  remove_stale(log);
  *out = log;
  return MESOS_OK;

fail:
  if (created && log->fd >= 0 && path != NULL) unlink(path);
  mesos__free(path);
  mesos__rlog_close(log);
  return s;
}

mesos_status mesos__rlog_append(mesos__rlog *log, const void *data, size_t len,
                               mesos_error **err) {
  if (log->poisoned)
    return mesos__err(err, MESOS_EIO,
                      "registry log %s is unusable after an earlier I/O failure; reopen it",
                      log->dir);
  char what[64];
  snprintf(what, sizeof what, LOG_PREFIX "%0*" PRIx64, GEN_DIGITS, log->gen);
  mesos_status s = mesos__record_append(log->fd, &log->end, MESOS__RECORD_LOG, data, len,
                                        log->max, true, &log->poisoned, what, err);
  if (s == MESOS_OK) log->records++;
  return s;
}

/* Writes snapshot data to `tmp` and makes it durable.  Removes `tmp` on
 * failure. */
static mesos_status write_snapshot_file(mesos__rlog *log, const char *tmp, const void *data,
                                        size_t len, mesos_error **err) {
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return mesos__err(err, MESOS_EIO, "create %s: %s", tmp, strerror(errno));
  uint64_t end = 0;
  bool poisoned = false;
  mesos_status s = mesos__record_append(fd, &end, MESOS__RECORD_SNAPSHOT, data, len, log->max,
                                        false, &poisoned, tmp, err);
  /* fsync, not fdatasync: the file is new and its size must be durable. */
  if (s == MESOS_OK && fsync(fd) != 0)
    s = mesos__err(err, MESOS_EIO, "fsync %s: %s", tmp, strerror(errno));
  close(fd);
  if (s != MESOS_OK) unlink(tmp);
  return s;
}

mesos_status mesos__rlog_snapshot(mesos__rlog *log, const void *data, size_t len,
                                 mesos_error **err) {
  if (log->poisoned)
    return mesos__err(err, MESOS_EIO,
                      "registry log %s is unusable after an earlier I/O failure; reopen it",
                      log->dir);
  if (len > log->max)
    return mesos__err(err, MESOS_ELIMIT, "snapshot of %zu bytes is over the limit of %zu", len,
                      log->max);
  if (log->gen == UINT64_MAX)
    return mesos__err(err, MESOS_ELIMIT, "registry log %s: generations exhausted", log->dir);
  uint64_t next = log->gen + 1;
  char *tmp = NULL, *snap = NULL, *seg = NULL;
  int fd = -1;
  mesos_status s = gen_path(log, &tmp, SNAP_PREFIX, next, TMP_SUFFIX, err);
  if (s == MESOS_OK) s = gen_path(log, &snap, SNAP_PREFIX, next, "", err);
  if (s == MESOS_OK) s = gen_path(log, &seg, LOG_PREFIX, next, "", err);
  if (s == MESOS_OK) s = write_snapshot_file(log, tmp, data, len, err);
  if (s != MESOS_OK) goto out;
  TEST_POINT(MESOS__RLOG_POINT_SNAPSHOT_TMP_SYNCED);
  if (rename(tmp, snap) != 0) {
    s = mesos__err(err, MESOS_EIO, "rename %s: %s", tmp, strerror(errno));
    unlink(tmp);
    goto out;
  }
  /* From here on the new snapshot may be visible after a crash: appending
   * to the old segment would put records behind it that recovery never
   * replays, so any failure poisons the log. */
  TEST_POINT(MESOS__RLOG_POINT_SNAPSHOT_RENAMED);
  s = mesos__fs_fsync_dir(log->dir, err);
  if (s == MESOS_OK) {
    fd = open(seg, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) s = mesos__err(err, MESOS_EIO, "create %s: %s", seg, strerror(errno));
  }
  if (s == MESOS_OK && fsync(fd) != 0)
    s = mesos__err(err, MESOS_EIO, "fsync %s: %s", seg, strerror(errno));
  if (s == MESOS_OK) s = mesos__fs_fsync_dir(log->dir, err);
  if (s != MESOS_OK) {
    if (fd >= 0) close(fd);
    log->poisoned = true;
    goto out;
  }
  TEST_POINT(MESOS__RLOG_POINT_SEGMENT_CREATED);
  close(log->fd);
  log->fd = fd;
  log->gen = next;
  log->end = 0;
  log->records = 0;
  remove_stale(log);
  TEST_POINT(MESOS__RLOG_POINT_OLD_REMOVED);
out:
  mesos__free(tmp);
  mesos__free(snap);
  mesos__free(seg);
  return s;
}

uint64_t mesos__rlog_records_since_snapshot(const mesos__rlog *log) { return log->records; }

uint64_t mesos__rlog_generation(const mesos__rlog *log) { return log->gen; }

void mesos__rlog_close(mesos__rlog *log) {
  if (log == NULL) return;
  if (log->fd >= 0) close(log->fd);
  if (log->lockfd >= 0) close(log->lockfd); /* releases the flock */
  mesos__free(log->dir);
  mesos__free(log);
}
