/* CommandInfo.URIs into the sandbox: see fetcher.h. */
#include "provisioner/fetcher.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "base/uuid.h"
#include "http/client.h"
#include "http/tls.h"
#include "loop/loop_int.h"
#include "provisioner/zin.h"
#include "registry/fsutil.h"

typedef enum { SRC_LOCAL, SRC_HTTP } src_kind;
typedef enum { STEP_LOCAL, STEP_DOWNLOADED, STEP_CACHED } step_kind;

typedef struct {
  char *value, *local, *name;
  src_kind kind;
  bool executable, extract, cache;
} furi;

typedef struct fjob fjob;

struct mesos__fetcher {
  mesos_loop *loop;
  mesos__http_client *http;
  char *cache_dir;
  uint64_t cache_size, max_bytes;
  uint32_t timeout_ms;
  mesos__tar_opts limits;
  pthread_mutex_t cache_mu; /* eviction vs. insertion from pool threads */
  atomic_uint_fast64_t hits, downloads;
  fjob *jobs;
  unsigned in_work;
  bool closing;
};

struct fjob {
  mesos__fetcher *f;
  fjob *next;
  furi *u;
  size_t n, i;
  char *sandbox;
  mesos__fetch_cb cb;
  void *ud;
  /* current URI */
  char *cache_path, *tmp;
  step_kind step;
  uv_work_t w;
  mesos__http_call *call;
  int tmpfd, http_status;
  uint64_t got;
  bool too_big, write_failed;
  bool cancelled; /* mesos__fetcher_cancel: ends with MESOS_EUSER at the next step */
  mesos_status st;
  mesos_error *err;
};

static char *fmt_path(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 2;
  char *p = mesos__malloc(n);
  if (p) snprintf(p, n, "%s/%s", a, b);
  return p;
}

/* ------------------------------------------------------------ setup */

mesos_status mesos__fetcher_new(mesos_loop *loop, const mesos__fetcher_opts *o,
                                mesos__fetcher **out, mesos_error **err) {
  if (loop == NULL) return mesos__err(err, MESOS_EINVAL, "fetcher: a loop is required");
  mesos__fetcher *f = MESOS__NEW(mesos__fetcher);
  if (f == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  f->loop = loop;
  pthread_mutex_init(&f->cache_mu, NULL);
  f->cache_size = o && o->cache_size ? o->cache_size : MESOS__FETCHER_DEFAULT_CACHE_SIZE;
  f->max_bytes = o && o->max_bytes ? o->max_bytes : MESOS__FETCHER_DEFAULT_MAX_BYTES;
  f->timeout_ms = o ? o->timeout_ms : 0;
  if (o) f->limits = o->limits;
  f->limits.whiteouts = MESOS__TAR_WHITEOUT_KEEP;
  f->limits.preserve_owner = false; /* sandbox files belong to the task user, set later */
  mesos_status st = MESOS_OK;
  if (o && o->cache_dir) {
    if (o->cache_dir[0] != '/') {
      st = mesos__err(err, MESOS_EINVAL, "--fetcher_cache_dir must be absolute");
      goto fail;
    }
    if ((f->cache_dir = mesos__strdup(o->cache_dir)) == NULL) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      goto fail;
    }
    if ((st = mesos__fs_mkdirs(f->cache_dir, 0700, err)) != MESOS_OK) goto fail;
  }
  mesos__http_client_options ho = {0};
  ho.max_redirects = 5;
  if (o && o->tls_ca_file) {
    mesos__tls_config_options to;
    memset(&to, 0, sizeof to);
    to.ca_file = o->tls_ca_file;
    to.verify_peer = 1;
    if ((st = mesos__tls_config_new(&ho.tls, &to, err)) != MESOS_OK) goto fail;
  }
  st = mesos__http_client_new(&f->http, loop, &ho, err);
  mesos__tls_config_unref(ho.tls); /* the client holds its own reference */
  if (st != MESOS_OK) goto fail;
  *out = f;
  return MESOS_OK;
fail:
  pthread_mutex_destroy(&f->cache_mu);
  mesos__free(f->cache_dir);
  mesos__free(f);
  return st;
}

static void fetcher_release(mesos__fetcher *f) {
  pthread_mutex_destroy(&f->cache_mu);
  mesos__free(f->cache_dir);
  mesos__free(f);
}

uint64_t mesos__fetcher_cache_hits(const mesos__fetcher *f) {
  return atomic_load(&((mesos__fetcher *)f)->hits);
}
uint64_t mesos__fetcher_downloads(const mesos__fetcher *f) {
  return atomic_load(&((mesos__fetcher *)f)->downloads);
}

/* ------------------------------------------------------------ jobs */

static void job_free(fjob *j) {
  for (size_t i = 0; i < j->n; i++) {
    mesos__free(j->u[i].value);
    mesos__free(j->u[i].local);
    mesos__free(j->u[i].name);
  }
  mesos__free(j->u);
  mesos__free(j->sandbox);
  mesos__free(j->cache_path);
  mesos__free(j->tmp);
  if (j->tmpfd >= 0) close(j->tmpfd);
  mesos_error_free(j->err);
  mesos__free(j);
}

static void job_finish(fjob *j, mesos_status st, mesos_error *err) {
  mesos__fetcher *f = j->f;
  for (fjob **pp = &f->jobs; *pp; pp = &(*pp)->next)
    if (*pp == j) {
      *pp = j->next;
      break;
    }
  if (j->tmp != NULL) unlink(j->tmp);
  if (st != MESOS_OK)
    LOG_WARN("fetcher: %s: %s", j->i < j->n ? j->u[j->i].value : "",
             err ? mesos_error_message(err) : mesos_status_name(st));
  j->cb(st, err, j->ud);
  job_free(j);
}

/* ------------------------------------------------------------ file work (pool) */

static mesos_status copy_fd(int in, int out, const char *what, mesos_error **err) {
  char buf[65536];
  for (;;) {
    ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)1 << 30, 0);
    if (n == 0) return MESOS_OK;
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
      return mesos__err_errno(err, MESOS_EIO, errno, what);
    break;
  }
  for (;;) {
    ssize_t r = read(in, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return mesos__err_errno(err, MESOS_EIO, errno, what);
    if (r == 0) return MESOS_OK;
    for (ssize_t o = 0; o < r;) {
      ssize_t w = write(out, buf + o, (size_t)(r - o));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return mesos__err_errno(err, MESOS_EIO, errno, what);
      o += w;
    }
  }
}

/* Opens `name` (clean, relative) below the sandbox for writing without
 * following any symbolic link, creating parent directories. */
static mesos_status open_dest(const char *sandbox, const char *name, int *out, mesos_error **err) {
  const char *slash = strrchr(name, '/');
  if (slash != NULL) {
    char *rel = mesos__strndup(name, (size_t)(slash - name));
    char *dir = rel ? fmt_path(sandbox, rel) : NULL;
    mesos_status st = dir ? mesos__fs_mkdirs(dir, 0755, err)
                          : mesos__err(err, MESOS_ENOMEM, "out of memory");
    mesos__free(rel);
    mesos__free(dir);
    if (st != MESOS_OK) return st;
  }
  int sfd = open(sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sfd < 0) return mesos__err_errno(err, MESOS_EIO, errno, sandbox);
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
  how.mode = 0644;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd = (int)syscall(SYS_openat2, sfd, name, &how, sizeof how);
  int e = errno;
  close(sfd);
  if (fd < 0) {
    if (e == ELOOP || e == EXDEV)
      return mesos__err(err, MESOS_EINVAL, "output '%s' would leave the sandbox", name);
    return mesos__err_errno(err, MESOS_EIO, e, name);
  }
  *out = fd;
  return MESOS_OK;
}

static mesos_status copy_path(const char *src, const char *sandbox, const char *name,
                              mesos_error **err) {
  int in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    if (errno == ENOENT) return mesos__err(err, MESOS_ENOTFOUND, "%s: no such file", src);
    return mesos__err_errno(err, MESOS_EIO, errno, src);
  }
  struct stat sb;
  if (fstat(in, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(in);
    return mesos__err(err, MESOS_EINVAL, "%s: not a regular file", src);
  }
  int out = -1;
  mesos_status st = open_dest(sandbox, name, &out, err);
  if (st == MESOS_OK) {
    st = copy_fd(in, out, name, err);
    close(out);
  }
  close(in);
  return st;
}

/* Copies (or moves) src to a temporary file in the cache and renames it to
 * `cache_path`: readers never see half a file. */
static mesos_status cache_insert(mesos__fetcher *f, const char *src, const char *cache_path,
                                 bool move, mesos_error **err) {
  mesos_status st = MESOS_OK;
  if (move) {
    if (rename(src, cache_path) != 0) return mesos__err_errno(err, MESOS_EIO, errno, cache_path);
  } else {
    char uuid[MESOS__UUID_STR_LEN + 1], name[64];
    if (mesos__uuid_random_str(uuid) != MESOS_OK)
      return mesos__err(err, MESOS_EIO, "no randomness for a temporary name");
    snprintf(name, sizeof name, ".tmp-%s", uuid);
    if ((st = copy_path(src, f->cache_dir, name, err)) != MESOS_OK) return st;
    char *tmp = fmt_path(f->cache_dir, name);
    if (tmp == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
    if (rename(tmp, cache_path) != 0) {
      st = mesos__err_errno(err, MESOS_EIO, errno, cache_path);
      unlink(tmp);
    }
    mesos__free(tmp);
    if (st != MESOS_OK) return st;
  }
  return MESOS_OK;
}

/* Removes least recently used files until the cache fits its bound (run
 * after the new file was copied out, so even a file larger than the whole
 * cache is fetched once). */
static void cache_evict(mesos__fetcher *f) {
  pthread_mutex_lock(&f->cache_mu);
  for (int round = 0; round < 100000; round++) {
    DIR *d = opendir(f->cache_dir);
    if (d == NULL) break;
    uint64_t total = 0;
    char oldest[NAME_MAX + 1] = "";
    struct timespec otime = {0, 0};
    struct dirent *de;
    struct stat sb;
    while ((de = readdir(d)) != NULL) {
      if (de->d_name[0] == '.') continue;
      if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
        continue;
      total += (uint64_t)sb.st_size;
      if (oldest[0] == '\0' || sb.st_mtim.tv_sec < otime.tv_sec ||
          (sb.st_mtim.tv_sec == otime.tv_sec && sb.st_mtim.tv_nsec < otime.tv_nsec)) {
        snprintf(oldest, sizeof oldest, "%s", de->d_name);
        otime = sb.st_mtim;
      }
    }
    if (total > f->cache_size && oldest[0] != '\0') {
      LOG_INFO("fetcher: cache over %llu bytes, evicting %s", (unsigned long long)f->cache_size,
               oldest);
      unlinkat(dirfd(d), oldest, 0);
    } else {
      round = 100000;
    }
    closedir(d);
  }
  pthread_mutex_unlock(&f->cache_mu);
}

static bool ends_with(const char *s, const char *suf) {
  size_t n = strlen(s), m = strlen(suf);
  return n >= m && strcmp(s + n - m, suf) == 0;
}

static mesos_status post_process(mesos__fetcher *f, fjob *j, const furi *u, mesos_error **err) {
  char *dest = fmt_path(j->sandbox, u->name);
  if (dest == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos_status st = MESOS_OK;
  if (u->executable) {
    if (chmod(dest, 0755) != 0) st = mesos__err_errno(err, MESOS_EIO, errno, dest);
  } else if (u->extract) {
    if (ends_with(u->name, ".zip")) {
      st = mesos__err(err, MESOS_EUNSUPPORTED, "%s: unsupported archive (zip)", u->name);
    } else if (ends_with(u->name, ".tar") || ends_with(u->name, ".tar.gz") ||
               ends_with(u->name, ".tgz")) {
      int fd = open(dest, O_RDONLY | O_CLOEXEC);
      int dfd = open(j->sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      mesos__zin *z = NULL;
      if (fd < 0 || dfd < 0) {
        st = mesos__err_errno(err, MESOS_EIO, errno, dest);
      } else if ((st = mesos__zin_open(fd, 0, UINT64_MAX, f->max_bytes, &z, err)) == MESOS_OK) {
        st = mesos__tar_extract_zin(dfd, z, &f->limits, NULL, err);
        if (st != MESOS_OK) {
          mesos_error *cause = err ? *err : NULL;
          if (err) *err = NULL;
          st = mesos__err_wrap(err, st, cause, "extracting %s: %s", u->name,
                               cause ? mesos_error_message(cause) : "");
        }
      }
      mesos__zin_free(z);
      if (fd >= 0) close(fd);
      if (dfd >= 0) close(dfd);
    }
  }
  mesos__free(dest);
  return st;
}

static void work(uv_work_t *w) {
  fjob *j = (fjob *)((char *)w - offsetof(fjob, w));
  mesos__fetcher *f = j->f;
  const furi *u = &j->u[j->i];
  mesos_status st = MESOS_OK;
  mesos_error **err = &j->err;
  switch (j->step) {
    case STEP_CACHED:
      st = copy_path(j->cache_path, j->sandbox, u->name, err);
      if (st == MESOS_OK) {
        utimensat(AT_FDCWD, j->cache_path, NULL, 0); /* most recently used */
        atomic_fetch_add(&f->hits, 1);
      }
      break;
    case STEP_LOCAL:
      atomic_fetch_add(&f->downloads, 1);
      if (j->cache_path != NULL) {
        st = cache_insert(f, u->local, j->cache_path, false, err);
        if (st == MESOS_OK) st = copy_path(j->cache_path, j->sandbox, u->name, err);
        cache_evict(f);
      } else {
        st = copy_path(u->local, j->sandbox, u->name, err);
      }
      break;
    case STEP_DOWNLOADED:
      atomic_fetch_add(&f->downloads, 1);
      if (j->cache_path != NULL) {
        st = cache_insert(f, j->tmp, j->cache_path, true, err);
        if (st == MESOS_OK) st = copy_path(j->cache_path, j->sandbox, u->name, err);
        cache_evict(f);
      } else {
        st = copy_path(j->tmp, j->sandbox, u->name, err);
      }
      break;
  }
  if (st == MESOS_OK) st = post_process(f, j, u, err);
  j->st = st;
}

static void start_uri(fjob *j);

static void work_done(uv_work_t *w, int status) {
  fjob *j = (fjob *)((char *)w - offsetof(fjob, w));
  mesos__fetcher *f = j->f;
  f->in_work--;
  if (j->tmp != NULL) {
    unlink(j->tmp);
    mesos__free(j->tmp);
    j->tmp = NULL;
  }
  if (f->closing) {
    mesos_error *e = NULL;
    mesos__err(&e, MESOS_ECLOSED, "fetcher freed");
    mesos_error_free(j->err);
    j->err = NULL;
    job_finish(j, MESOS_ECLOSED, e);
    if (f->in_work == 0 && f->jobs == NULL) fetcher_release(f);
    return;
  }
  if (status != 0 && j->st == MESOS_OK) j->st = mesos__uv_err(&j->err, status, "fetch");
  if (j->cancelled && j->st == MESOS_OK) j->st = mesos__err(&j->err, MESOS_EUSER, "fetch cancelled");
  if (j->st != MESOS_OK) {
    mesos_error *e = j->err;
    j->err = NULL;
    job_finish(j, j->st, e);
    return;
  }
  j->i++;
  start_uri(j);
}

static void run_work(fjob *j, step_kind step) {
  j->step = step;
  j->st = MESOS_OK;
  int r = uv_queue_work(mesos__loop_uv(j->f->loop), &j->w, work, work_done);
  if (r != 0) {
    mesos_error *e = NULL;
    mesos__uv_err(&e, r, "uv_queue_work");
    job_finish(j, mesos__uv_status(r), e);
    return;
  }
  j->f->in_work++;
}

/* ------------------------------------------------------------ downloads (loop) */

static void on_head(mesos__http_call *call, const mesos__http_response *resp, void *ud) {
  (void)call;
  fjob *j = ud;
  j->http_status = resp->status;
}

static void on_body(mesos__http_call *call, const char *data, size_t len, void *ud) {
  fjob *j = ud;
  if (j->http_status != 200 || j->too_big || j->write_failed) return;
  if (len > j->f->max_bytes - j->got) {
    j->too_big = true;
    mesos__http_call_cancel(call);
    return;
  }
  j->got += len;
  while (len > 0) {
    ssize_t w = write(j->tmpfd, data, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      j->write_failed = true;
      mesos__http_call_cancel(call);
      return;
    }
    data += w;
    len -= (size_t)w;
  }
}

static void on_done(mesos__http_call *call, mesos_status status, const mesos__http_response *resp,
                    const mesos_error *herr, void *ud) {
  (void)call;
  (void)resp;
  fjob *j = ud;
  j->call = NULL;
  close(j->tmpfd);
  j->tmpfd = -1;
  const char *uri = j->u[j->i].value;
  mesos_error *e = NULL;
  if (j->too_big) {
    {
    mesos_status fst_ = mesos__err(&e, MESOS_ELIMIT, "%s: download larger than %llu bytes", uri,
                             (unsigned long long)j->f->max_bytes);
    job_finish(j, fst_, e);
  }
  } else if (j->write_failed) {
    {
    mesos_status fst_ = mesos__err(&e, MESOS_EIO, "%s: writing the download failed", uri);
    job_finish(j, fst_, e);
  }
  } else if (j->cancelled && !j->f->closing) {
    mesos_status fst_ = mesos__err(&e, MESOS_EUSER, "%s: fetch cancelled", uri);
    job_finish(j, fst_, e);
  } else if (j->f->closing || status == MESOS_ECLOSED) {
    {
    mesos_status fst_ = mesos__err(&e, MESOS_ECLOSED, "%s: fetch cancelled", uri);
    job_finish(j, fst_, e);
  }
  } else if (status != MESOS_OK) {
    {
    mesos_status fst_ = mesos__err(&e, status, "%s: %s", uri, herr ? mesos_error_message(herr) : "");
    job_finish(j, fst_, e);
  }
  } else if (j->http_status != 200) {
    {
    mesos_status fst_ = mesos__err(&e, MESOS_ENOTFOUND, "%s: HTTP %d", uri, j->http_status);
    job_finish(j, fst_, e);
  }
  } else {
    run_work(j, STEP_DOWNLOADED);
  }
}

static void start_download(fjob *j) {
  const furi *u = &j->u[j->i];
  char uuid[MESOS__UUID_STR_LEN + 1], name[64];
  mesos_error *e = NULL;
  if (mesos__uuid_random_str(uuid) != MESOS_OK) {
    {
    mesos_status fst_ = mesos__err(&e, MESOS_EIO, "no randomness");
    job_finish(j, fst_, e);
  }
    return;
  }
  snprintf(name, sizeof name, ".fetch-%s", uuid);
  j->tmp = fmt_path(j->cache_path ? j->f->cache_dir : j->sandbox, name);
  if (j->tmp == NULL) {
    {
    mesos_status fst_ = mesos__err(&e, MESOS_ENOMEM, "out of memory");
    job_finish(j, fst_, e);
  }
    return;
  }
  j->tmpfd = open(j->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (j->tmpfd < 0) {
    mesos_status st = mesos__err_errno(&e, MESOS_EIO, errno, j->tmp);
    mesos__free(j->tmp);
    j->tmp = NULL;
    job_finish(j, st, e);
    return;
  }
  j->got = 0;
  j->http_status = 0;
  j->too_big = j->write_failed = false;
  mesos__http_client_request req = {0};
  req.url = u->value;
  req.stream = 1;
  req.timeout_ms = j->f->timeout_ms;
  static const mesos__http_client_cbs cbs = {on_head, on_body, on_done};
  mesos_status st = mesos__http_client_send(j->f->http, &req, &cbs, j, &j->call, &e);
  if (st != MESOS_OK) job_finish(j, st, e);
}

static void start_uri(fjob *j) {
  if (j->i == j->n) {
    job_finish(j, MESOS_OK, NULL);
    return;
  }
  const furi *u = &j->u[j->i];
  mesos__free(j->cache_path);
  j->cache_path = NULL;
  if (u->cache && j->f->cache_dir != NULL) {
    char hex[65];
    mesos__sha256_hex(u->value, strlen(u->value), hex);
    j->cache_path = fmt_path(j->f->cache_dir, hex);
    if (j->cache_path == NULL) {
      mesos_error *e = NULL;
      {
    mesos_status fst_ = mesos__err(&e, MESOS_ENOMEM, "out of memory");
    job_finish(j, fst_, e);
  }
      return;
    }
    struct stat sb;
    if (stat(j->cache_path, &sb) == 0) {
      run_work(j, STEP_CACHED);
      return;
    }
  }
  if (u->kind == SRC_HTTP) start_download(j);
  else run_work(j, STEP_LOCAL);
}

/* ------------------------------------------------------------ API */

/* Fills u from a URI message; EINVAL / EUNSUPPORTED with the reason. */
static mesos_status parse_uri(const Mesos__V1__CommandInfo__URI *m, furi *u, mesos_error **err) {
  const char *v = m->value;
  if (v == NULL || v[0] == '\0') return mesos__err(err, MESOS_EINVAL, "URI without a value");
  for (const char *c = v; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f)
      return mesos__err(err, MESOS_EINVAL, "URI with a control character");
  u->executable = m->has_executable && m->executable;
  u->extract = m->has_extract ? m->extract : true;
  u->cache = m->has_cache && m->cache;
  const char *path;
  if (strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0) {
    u->kind = SRC_HTTP;
    const char *host = strstr(v, "://") + 3;
    path = strchr(host, '/');
    if (path == NULL) path = "";
  } else if (strncmp(v, "file://", 7) == 0 || v[0] == '/') {
    u->kind = SRC_LOCAL;
    path = v[0] == '/' ? v : v + 7;
    if (path[0] != '/')
      return mesos__err(err, MESOS_EINVAL, "%s: file URIs need an absolute path", v);
    if ((u->local = mesos__strdup(path)) == NULL)
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
  } else if (strstr(v, "://") != NULL) {
    return mesos__err(err, MESOS_EUNSUPPORTED, "%s: only file, http and https URIs are supported",
                      v);
  } else {
    return mesos__err(err, MESOS_EINVAL,
                      "%s: relative paths need --frameworks_home, which is not supported", v);
  }
  char *base = NULL;
  if (m->output_file != NULL && m->output_file[0] != '\0') {
    base = mesos__strdup(m->output_file);
  } else {
    /* The last path component, without query or fragment. */
    size_t pl = strcspn(path, "?#");
    const char *e = path + pl, *s = e;
    while (s > path && s[-1] != '/') s--;
    base = mesos__strndup(s, (size_t)(e - s));
  }
  if (base == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos_status st = mesos__tar_clean_path(base, &u->name, NULL);
  mesos__free(base);
  if (st != MESOS_OK) return mesos__err(err, MESOS_EINVAL, "%s: output name leaves the sandbox", v);
  if (u->name[0] == '\0' || strncmp(u->name, ".fetch-", 7) == 0)
    return mesos__err(err, MESOS_EINVAL, "%s: no file name to save as (set output_file)", v);
  if ((u->value = mesos__strdup(v)) == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  return MESOS_OK;
}

mesos_status mesos__fetcher_fetch(mesos__fetcher *f, Mesos__V1__CommandInfo__URI *const *uris,
                                  size_t n, const char *sandbox, mesos__fetch_cb cb, void *ud,
                                  mesos_error **err) {
  if (f == NULL || sandbox == NULL || cb == NULL || (n > 0 && uris == NULL))
    return mesos__err(err, MESOS_EINVAL, "fetch: fetcher, sandbox and callback are required");
  if (f->closing) return mesos__err(err, MESOS_ECLOSED, "fetcher freed");
  fjob *j = MESOS__NEW(fjob);
  if (j == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  j->f = f;
  j->cb = cb;
  j->ud = ud;
  j->tmpfd = -1;
  j->n = n;
  j->sandbox = mesos__strdup(sandbox);
  j->u = mesos__calloc(n ? n : 1, sizeof *j->u);
  if (j->sandbox == NULL || j->u == NULL) {
    job_free(j);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    mesos_status st = parse_uri(uris[i], &j->u[i], err);
    if (st != MESOS_OK) {
      job_free(j);
      return st;
    }
  }
  j->next = f->jobs;
  f->jobs = j;
  start_uri(j);
  return MESOS_OK;
}

void mesos__fetcher_cancel(mesos__fetcher *f, const char *sandbox) {
  if (f == NULL || sandbox == NULL) return;
  for (fjob *j = f->jobs; j; j = j->next) {
    if (j->cancelled || strcmp(j->sandbox, sandbox) != 0) continue;
    j->cancelled = true;
    /* A download ends now (its on_done runs from the loop); a pool step
     * cannot be interrupted and ends the job when it returns. */
    if (j->call) mesos__http_call_cancel(j->call);
  }
}

void mesos__fetcher_free(mesos__fetcher *f) {
  if (f == NULL) return;
  f->closing = true;
  /* Downloads end now: freeing the client runs their on_done with
   * ECLOSED.  Pool steps cannot be interrupted, so the fetcher lives until
   * the last one reports. */
  mesos__http_client_free(f->http);
  f->http = NULL;
  if (f->in_work == 0 && f->jobs == NULL) fetcher_release(f);
}
