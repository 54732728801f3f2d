#include "registry/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "codec/pb.h"
#include "registry/agent_paths.h"
#include "registry/checkpoint_int.h"
#include "registry/fsutil.h"
#include "registry/record.h"

void (*mesos__checkpoint_before_rename_hook)(const char *tmp_path);

/* Parent directories of checkpoints: private to the agent (they hold the
 * tasks' environment and command lines). */
#define DIR_MODE 0700
#define FILE_MODE 0600

static mesos_status make_parent(const char *path, mesos_error **err) {
  char *dir = NULL;
  mesos_status s = mesos__fs_dirname(&dir, path, err);
  if (s == MESOS_OK) s = mesos__fs_mkdirs(dir, DIR_MODE, err);
  mesos__free(dir);
  return s;
}

mesos_status mesos__checkpoint_write_bytes(const char *path, const void *data, size_t len,
                                           mesos_error **err) {
  if (len > MESOS__RECORD_MAX_DEFAULT)
    return mesos__err(err, MESOS_ELIMIT, "%s: checkpoint of %zu bytes is over the limit of %zu",
                      path, len, MESOS__RECORD_MAX_DEFAULT);
  char *tmp = NULL, *dir = NULL;
  mesos_status s = make_parent(path, err);
  if (s == MESOS_OK) s = mesos__fs_dirname(&dir, path, err);
  if (s != MESOS_OK) return s;
  size_t n = strlen(path);
  if ((tmp = mesos__malloc(n + sizeof ".tmp")) == NULL) {
    mesos__free(dir);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  memcpy(tmp, path, n);
  memcpy(tmp + n, ".tmp", sizeof ".tmp");

  /* A single writer per checkpoint is the agent's rule (its loop thread),
   * so a fixed temporary name suffices, and a stale one left by a crash is
   * simply overwritten. */
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, FILE_MODE);
  if (fd < 0) {
    s = mesos__err(err, MESOS_EIO, "create %s: %s", tmp, strerror(errno));
    goto out;
  }
  uint64_t end = 0;
  bool poisoned = false;
  s = mesos__record_append(fd, &end, MESOS__RECORD_CHECKPOINT, data, len, 0, false, &poisoned,
                           tmp, err);
  /* fsync before rename: otherwise the rename can reach the disk before the
   * data, and a crash leaves an empty file under the real name. */
  if (s == MESOS_OK && fsync(fd) != 0)
    s = mesos__err(err, MESOS_EIO, "fsync %s: %s", tmp, strerror(errno));
  close(fd);
  if (s == MESOS_OK && mesos__checkpoint_before_rename_hook != NULL)
    mesos__checkpoint_before_rename_hook(tmp);
  if (s == MESOS_OK && rename(tmp, path) != 0)
    s = mesos__err(err, MESOS_EIO, "rename %s to %s: %s", tmp, path, strerror(errno));
  if (s != MESOS_OK) {
    unlink(tmp);
    goto out;
  }
  s = mesos__fs_fsync_dir(dir, err);
out:
  mesos__free(tmp);
  mesos__free(dir);
  return s;
}

mesos_status mesos__checkpoint_write(const char *path, const ProtobufCMessage *msg,
                                     mesos_error **err) {
  uint8_t *buf = NULL;
  size_t len = 0;
  mesos_status s = mesos__pb_pack(msg, MESOS__RECORD_MAX_DEFAULT, &buf, &len, err);
  if (s != MESOS_OK) return s;
  s = mesos__checkpoint_write_bytes(path, buf, len, err);
  mesos__free(buf);
  return s;
}

typedef struct {
  uint8_t *data;
  size_t len;
  int count;
} one_record;

static mesos_status take_record(const uint8_t *data, size_t len, uint64_t off, void *ud) {
  one_record *r = ud;
  if (++r->count > 1) return MESOS_OK; /* reported by the caller */
  r->data = mesos__malloc(len > 0 ? len : 1);
  if (r->data == NULL) return MESOS_ENOMEM;
  memcpy(r->data, data, len);
  r->len = len;
  return MESOS_OK;
}

mesos_status mesos__checkpoint_read_bytes(const char *path, size_t max, uint8_t **out,
                                          size_t *len, mesos_error **err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT
               ? mesos__err(err, MESOS_ENOTFOUND, "checkpoint %s does not exist", path)
               : mesos__err(err, MESOS_EIO, "open %s: %s", path, strerror(errno));
  one_record r = {NULL, 0, 0};
  uint64_t end = 0, torn = 0;
  mesos_status s =
      mesos__record_scan(fd, MESOS__RECORD_CHECKPOINT, max, take_record, &r, &end, &torn, path, err);
  close(fd);
  if (s == MESOS_ENOMEM && r.data == NULL && r.count == 1)
    s = mesos__err(err, MESOS_ENOMEM, "out of memory");
  else if (s == MESOS_OK && (r.count != 1 || torn != 0))
    /* Checkpoints appear by rename after fsync: a torn or extended file is
     * damage, not an interrupted write. */
    s = mesos__err(err, MESOS_EPROTO, "checkpoint %s is damaged (%s at offset %llu)", path,
                   r.count == 0 ? "no complete record" : "trailing bytes",
                   (unsigned long long)end);
  if (s != MESOS_OK) {
    mesos__free(r.data);
    return s;
  }
  *out = r.data;
  *len = r.len;
  return MESOS_OK;
}

/* Decodes a checkpoint payload; anything but ENOMEM becomes EPROTO (the
 * bytes passed their checksum, so they were written wrong or by another
 * program). */
static mesos_status decode(const char *path, const ProtobufCMessageDescriptor *desc,
                           const uint8_t *data, size_t len, ProtobufCMessage **out,
                           mesos_error **err) {
  mesos_error *cause = NULL;
  mesos_status s = mesos__pb_unpack(desc, data, len, MESOS__RECORD_MAX_DEFAULT, 0, out, &cause);
  if (s == MESOS_OK) return s;
  if (s == MESOS_ENOMEM) {
    mesos__err_move(err, cause);
    return s;
  }
  return mesos__err_wrap(err, MESOS_EPROTO, cause, "%s: not a valid %s", path, desc->name);
}

mesos_status mesos__checkpoint_read(const char *path, const ProtobufCMessageDescriptor *desc,
                                    ProtobufCMessage **out, mesos_error **err) {
  uint8_t *data = NULL;
  size_t len = 0;
  mesos_status s = mesos__checkpoint_read_bytes(path, 0, &data, &len, err);
  if (s != MESOS_OK) return s;
  s = decode(path, desc, data, len, out, err);
  mesos__free(data);
  return s;
}

mesos_status mesos__checkpoint_symlink(const char *path, const char *target, mesos_error **err) {
  if (target == NULL || target[0] == '\0')
    return mesos__err(err, MESOS_EINVAL, "%s: empty symlink target", path);
  char *tmp = NULL, *dir = NULL;
  mesos_status s = make_parent(path, err);
  if (s == MESOS_OK) s = mesos__fs_dirname(&dir, path, err);
  if (s != MESOS_OK) return s;
  size_t n = strlen(path);
  if ((tmp = mesos__malloc(n + sizeof ".tmp")) == NULL) {
    mesos__free(dir);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  memcpy(tmp, path, n);
  memcpy(tmp + n, ".tmp", sizeof ".tmp");
  /* A stale temporary from a crash would make symlink(2) fail. */
  if (unlink(tmp) != 0 && errno != ENOENT)
    s = mesos__err(err, MESOS_EIO, "remove %s: %s", tmp, strerror(errno));
  if (s == MESOS_OK && symlink(target, tmp) != 0)
    s = mesos__err(err, MESOS_EIO, "symlink %s: %s", tmp, strerror(errno));
  if (s == MESOS_OK && rename(tmp, path) != 0) {
    s = mesos__err(err, MESOS_EIO, "rename %s to %s: %s", tmp, path, strerror(errno));
    unlink(tmp);
  }
  if (s == MESOS_OK) s = mesos__fs_fsync_dir(dir, err);
  mesos__free(tmp);
  mesos__free(dir);
  return s;
}

static int cmp_ids(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void mesos__checkpoint_free_ids(char **ids, size_t n) {
  if (ids == NULL) return;
  for (size_t i = 0; i < n; i++) mesos__free(ids[i]);
  mesos__free(ids);
}

/* Ids are counted against a limit so a directory filled by an attacker (or
 * a runaway framework) cannot make recovery allocate without bound. */
#define LIST_IDS_MAX_DEFAULT ((size_t)1000000)

mesos_status mesos__checkpoint_list_ids(const char *dir, size_t max, char ***ids, size_t *n,
                                        mesos_error **err) {
  if (max == 0) max = LIST_IDS_MAX_DEFAULT;
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? mesos__err(err, MESOS_ENOTFOUND, "directory %s does not exist", dir)
                           : mesos__err(err, MESOS_EIO, "open directory %s: %s", dir,
                                        strerror(errno));
  char **out = NULL;
  size_t count = 0, cap = 0;
  mesos_status s = MESOS_OK;
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (e == NULL) {
      if (errno != 0)
        s = mesos__err(err, MESOS_EIO, "read directory %s: %s", dir, strerror(errno));
      break;
    }
    const char *name = e->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strcmp(name, "latest") == 0)
      continue;
    struct stat st;
    /* fstatat without following links: only real directories are ours. */
    if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (mesos__agent_path_check_id("entry", name, NULL) != MESOS_OK) {
      /* The name is not ours and may hold control characters: log it with
       * those replaced, so it cannot forge log lines. */
      char shown[64];
      size_t k = 0;
      for (; name[k] != '\0' && k < sizeof shown - 1; k++)
        shown[k] = name[k] >= 0x20 && name[k] < 0x7f ? name[k] : '?';
      shown[k] = '\0';
      LOG_WARN("checkpoint directory %s: skipping '%s', not a valid id", dir, shown);
      continue;
    }
    if (count == max) {
      s = mesos__err(err, MESOS_ELIMIT, "directory %s holds more than %zu entries", dir, max);
      break;
    }
    if (count == cap) {
      size_t ncap = cap ? cap * 2 : 16, bytes;
      char **grown;
      if (!mesos__size_mul(&bytes, ncap, sizeof *out) ||
          (grown = mesos__realloc(out, bytes)) == NULL) {
        s = mesos__err(err, MESOS_ENOMEM, "out of memory");
        break;
      }
      out = grown;
      cap = ncap;
    }
    if ((out[count] = mesos__strdup(name)) == NULL) {
      s = mesos__err(err, MESOS_ENOMEM, "out of memory");
      break;
    }
    count++;
  }
  closedir(d);
  if (s != MESOS_OK) {
    mesos__checkpoint_free_ids(out, count);
    return s;
  }
  if (count > 1) qsort(out, count, sizeof *out, cmp_ids);
  *ids = out;
  *n = count;
  return MESOS_OK;
}

/* ---- update streams ---- */

struct mesos__update_stream {
  char *path;
  int fd;
  uint64_t end;
  bool poisoned;
};

typedef struct {
  const char *path;
  const ProtobufCMessageDescriptor *desc;
  mesos__update_stream_cb cb;
  void *ud;
  mesos_error *err; /* the error of a failed decode */
} replay_ctx;

static mesos_status replay_one(const uint8_t *data, size_t len, uint64_t off, void *ud) {
  replay_ctx *c = ud;
  if (c->cb == NULL) return MESOS_OK;
  ProtobufCMessage *msg = NULL;
  mesos_status s = decode(c->path, c->desc, data, len, &msg, &c->err);
  if (s != MESOS_OK) return s;
  return c->cb(msg, c->ud);
}

static mesos_status replay(int fd, const char *path, const ProtobufCMessageDescriptor *desc,
                           mesos__update_stream_cb cb, void *ud, uint64_t *end, uint64_t *torn,
                           mesos_error **err) {
  replay_ctx c = {path, desc, cb, ud, NULL};
  mesos_error *e = NULL;
  mesos_status s =
      mesos__record_scan(fd, MESOS__RECORD_UPDATE, 0, replay_one, &c, end, torn, path, &e);
  if (s == MESOS_OK) return s;
  if (c.err != NULL) { /* a record that does not decode */
    mesos_error_free(e);
    mesos__err_move(err, c.err);
  } else if (e != NULL) {
    mesos__err_move(err, e);
  } else { /* the callback stopped the replay */
    mesos__err(err, s, "%s: replay stopped by the caller (%s)", path, mesos_status_name(s));
  }
  return s;
}

mesos_status mesos__update_stream_open(mesos__update_stream **out, const char *path,
                                       const ProtobufCMessageDescriptor *desc,
                                       mesos__update_stream_cb cb, void *ud,
                                       mesos_error **err) {
  mesos_status s = make_parent(path, err);
  if (s != MESOS_OK) return s;
  mesos__update_stream *st = MESOS__NEW(mesos__update_stream);
  if (st == NULL || (st->path = mesos__strdup(path)) == NULL) {
    mesos__free(st);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  bool created = false;
  st->fd = open(path, O_RDWR | O_CLOEXEC);
  if (st->fd < 0 && errno == ENOENT) {
    st->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, FILE_MODE);
    created = true;
  }
  if (st->fd < 0) {
    s = mesos__err(err, MESOS_EIO, "open %s: %s", path, strerror(errno));
    created = false;
    goto fail;
  }
  uint64_t torn = 0;
  if (!created) {
    s = replay(st->fd, path, desc, cb, ud, &st->end, &torn, err);
    if (s != MESOS_OK) goto fail;
  }
  if (torn > 0) {
    LOG_WARN("update stream %s: dropping a torn tail of %llu bytes at offset %llu", path,
             (unsigned long long)torn, (unsigned long long)st->end);
    if (ftruncate(st->fd, (off_t)st->end) != 0 || fdatasync(st->fd) != 0) {
      s = mesos__err(err, MESOS_EIO, "truncate %s: %s", path, strerror(errno));
      goto fail;
    }
  }
  if (created) {
    char *dir = NULL;
    if (fsync(st->fd) != 0)
      s = mesos__err(err, MESOS_EIO, "fsync %s: %s", path, strerror(errno));
    if (s == MESOS_OK) s = mesos__fs_dirname(&dir, path, err);
    if (s == MESOS_OK) s = mesos__fs_fsync_dir(dir, err);
    mesos__free(dir);
    if (s != MESOS_OK) goto fail;
  }
  *out = st;
  return MESOS_OK;
fail:
  if (created) unlink(path);
  mesos__update_stream_close(st);
  return s;
}

mesos_status mesos__update_stream_append(mesos__update_stream *st, const ProtobufCMessage *msg,
                                         mesos_error **err) {
  if (st->poisoned)
    return mesos__err(err, MESOS_EIO,
                      "update stream %s is unusable after an earlier I/O failure; reopen it",
                      st->path);
  uint8_t *buf = NULL;
  size_t len = 0;
  mesos_status s = mesos__pb_pack(msg, MESOS__RECORD_MAX_DEFAULT, &buf, &len, err);
  if (s != MESOS_OK) return s;
  s = mesos__record_append(st->fd, &st->end, MESOS__RECORD_UPDATE, buf, len, 0, true,
                           &st->poisoned, st->path, err);
  mesos__free(buf);
  return s;
}

mesos_status mesos__update_stream_append_nosync(mesos__update_stream *st,
                                                const ProtobufCMessage *msg, mesos_error **err) {
  if (st->poisoned)
    return mesos__err(err, MESOS_EIO,
                      "update stream %s is unusable after an earlier I/O failure; reopen it",
                      st->path);
  uint8_t *buf = NULL;
  size_t len = 0;
  mesos_status s = mesos__pb_pack(msg, MESOS__RECORD_MAX_DEFAULT, &buf, &len, err);
  if (s != MESOS_OK) return s;
  s = mesos__record_append(st->fd, &st->end, MESOS__RECORD_UPDATE, buf, len, 0, false,
                           &st->poisoned, st->path, err);
  mesos__free(buf);
  return s;
}

mesos_status mesos__update_stream_sync(mesos__update_stream *st, mesos_error **err) {
  if (st->poisoned)
    return mesos__err(err, MESOS_EIO,
                      "update stream %s is unusable after an earlier I/O failure; reopen it",
                      st->path);
  if (fdatasync(st->fd) != 0) {
    /* What the kernel failed to write may be gone from the page cache too
     * (fsyncgate): nothing more is appended to this file. */
    st->poisoned = true;
    return mesos__err(err, MESOS_EIO, "fdatasync %s: %s", st->path, strerror(errno));
  }
  return MESOS_OK;
}

void mesos__update_stream_close(mesos__update_stream *st) {
  if (st == NULL) return;
  if (st->fd >= 0) close(st->fd);
  mesos__free(st->path);
  mesos__free(st);
}

mesos_status mesos__update_stream_read(const char *path, const ProtobufCMessageDescriptor *desc,
                                       mesos__update_stream_cb cb, void *ud, bool *torn,
                                       mesos_error **err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT
               ? mesos__err(err, MESOS_ENOTFOUND, "update stream %s does not exist", path)
               : mesos__err(err, MESOS_EIO, "open %s: %s", path, strerror(errno));
  uint64_t end = 0, t = 0;
  mesos_status s = replay(fd, path, desc, cb, ud, &end, &t, err);
  close(fd);
  if (s == MESOS_OK && torn != NULL) *torn = t > 0;
  return s;
}
