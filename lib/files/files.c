/*
 * The files service (see files.h for the contract).  Everything that opens
 * a file goes through open_beneath(), the one place that decides what a
 * request may reach.
 */
#include "files/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"
#include "base/map.h"
#include "base/units.h"
#include "authz/authz_int.h"
#include "http/query.h"
#include "loop/loop_int.h"

/* Tests set it to exercise the O_NOFOLLOW walk on kernels with openat2. */
int mesos__files_force_walk;

struct mesos__files {
  mesos__map roots; /* normalised virtual path -> real path (owned char*) */
  mesos__files_resolver resolver;
  int has_resolver;
  mesos__files_auth auth; /* zeroed: no authentication, everything allowed */
};

mesos_status mesos__files_new(mesos__files **out, mesos_error **err) {
  if (out == NULL) return mesos__err(err, MESOS_EINVAL, "mesos__files_new: out is NULL");
  mesos__files *f = MESOS__NEW(mesos__files);
  if (f == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos__map_init(&f->roots);
  *out = f;
  return MESOS_OK;
}

void mesos__files_free(mesos__files *f) {
  if (f == NULL) return;
  size_t it = 0;
  void *v;
  while (mesos__map_next(&f->roots, &it, NULL, &v)) mesos__free(v);
  mesos__map_free(&f->roots);
  mesos__free(f);
}

mesos_status mesos__files_normalize(const char *path, char *out, size_t cap, mesos_error **err) {
  if (path == NULL || path[0] != '/')
    return mesos__err(err, MESOS_EINVAL, "path must be absolute (start with '/')");
  if (cap < 2) return mesos__err(err, MESOS_ELIMIT, "path buffer too small");
  size_t o = 0;
  const char *p = path;
  while (*p) {
    while (*p == '/') p++;
    if (*p == '\0') break;
    size_t n = strcspn(p, "/");
    if (n == 1 && p[0] == '.') {
      p += n;
      continue;
    }
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return mesos__err(err, MESOS_EINVAL, "path must not contain '..'");
    for (size_t i = 0; i < n; i++)
      if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
        return mesos__err(err, MESOS_EINVAL, "path must not contain control characters");
    if (o + 1 + n + 1 > cap || o + 1 + n > MESOS__FILES_MAX_PATH)
      return mesos__err(err, MESOS_EINVAL, "path is longer than %d bytes", MESOS__FILES_MAX_PATH);
    out[o++] = '/';
    memcpy(out + o, p, n);
    o += n;
    p += n;
  }
  if (o == 0) out[o++] = '/';
  out[o] = '\0';
  return MESOS_OK;
}

mesos_status mesos__files_attach(mesos__files *f, const char *real, const char *virt,
                                 mesos_error **err) {
  if (f == NULL || real == NULL || real[0] == '\0' || virt == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos__files_attach: missing argument");
  char norm[MESOS__FILES_MAX_PATH + 2];
  mesos_status st = mesos__files_normalize(virt, norm, sizeof norm, err);
  if (st != MESOS_OK) return st;
  if (mesos__map_get(&f->roots, norm) == NULL && mesos__map_count(&f->roots) >= MESOS__FILES_MAX_ROOTS)
    return mesos__err(err, MESOS_ELIMIT, "more than %u attached paths", MESOS__FILES_MAX_ROOTS);
  char *copy;
  if (real[0] == '/') {
    copy = mesos__strdup(real);
  } else {
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd) == NULL) return mesos__err_errno(err, MESOS_EIO, errno, "getcwd");
    size_t n = strlen(cwd) + 1 + strlen(real) + 1;
    copy = mesos__malloc(n);
    if (copy) snprintf(copy, n, "%s/%s", cwd, real);
  }
  if (copy == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  void *old = mesos__map_get(&f->roots, norm);
  if (mesos__map_put(&f->roots, norm, copy) != MESOS_OK) {
    mesos__free(copy);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  mesos__free(old);
  return MESOS_OK;
}

void mesos__files_detach(mesos__files *f, const char *virt) {
  if (f == NULL || virt == NULL) return;
  char norm[MESOS__FILES_MAX_PATH + 2];
  if (mesos__files_normalize(virt, norm, sizeof norm, NULL) != MESOS_OK) return;
  mesos__free(mesos__map_remove(&f->roots, norm));
}

void mesos__files_set_resolver(mesos__files *f, const mesos__files_resolver *r) {
  if (f == NULL) return;
  if (r && r->resolve) {
    f->resolver = *r;
    f->has_resolver = 1;
  } else {
    memset(&f->resolver, 0, sizeof f->resolver);
    f->has_resolver = 0;
  }
}

/* ------------------------------------------------------------ resolution */

/* errno of a failed open below a root -> our status, naming only the
 * virtual path. */
static mesos_status open_error(mesos_error **err, int e, const char *virt) {
  switch (e) {
    case ENOENT:
    case ENOTDIR:
      return mesos__err(err, MESOS_ENOTFOUND, "'%s' not found", virt);
    case EXDEV:
    case ELOOP:
      return mesos__err(err, MESOS_EPERM,
                        "'%s' resolves outside the directory it belongs to (symbolic link)",
                        virt);
    case EACCES:
    case EPERM:
      return mesos__err(err, MESOS_EPERM, "'%s': permission denied", virt);
    case ENAMETOOLONG:
      return mesos__err(err, MESOS_EINVAL, "'%s': name too long", virt);
    default:
      return mesos__err(err, MESOS_EIO, "'%s': %s", virt, strerror(e));
  }
}

/* The fallback without openat2: one component at a time, never following
 * a symlink.  Returns an fd or -1 with errno set (ELOOP for a symlink). */
static int walk_nofollow(int rootfd, const char *rest, int flags) {
  int cur = dup(rootfd);
  if (cur < 0) return -1;
  const char *p = rest;
  for (;;) {
    size_t n = strcspn(p, "/");
    char comp[256];
    if (n == 0 || n >= sizeof comp) {
      close(cur);
      errno = n == 0 ? ENOENT : ENAMETOOLONG;
      return -1;
    }
    memcpy(comp, p, n);
    comp[n] = '\0';
    int last = p[n] == '\0';
    int next;
    if (last) {
      next = openat(cur, comp, flags | O_NOFOLLOW);
    } else {
      next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0 && errno == ENOTDIR) {
        struct stat sb;
        if (fstatat(cur, comp, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode))
          errno = ELOOP;
        else
          errno = ENOTDIR;
      }
    }
    int e = errno;
    close(cur);
    if (next < 0) {
      errno = e;
      return -1;
    }
    if (last) return next;
    cur = next;
    p += n + 1;
  }
}

/* Opens `rest` (relative, normalised, may be "") beneath the trusted root
 * `root` with `flags`.  Returns an fd or -1 with errno set. */
static int open_beneath(const char *root, const char *rest, int flags) {
  if (rest[0] == '\0') return open(root, flags);
  int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return -1;
  int fd = -1;
  if (!mesos__files_force_walk) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)flags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    fd = (int)syscall(SYS_openat2, rootfd, rest, &how, sizeof how);
    /* ENOSYS: an old kernel; EPERM may be a seccomp filter refusing the
     * unknown syscall.  Both fall back to the walk, which is stricter. */
    if (fd < 0 && errno != ENOSYS && errno != EPERM) {
      int e = errno;
      close(rootfd);
      errno = e;
      return -1;
    }
  }
  if (fd < 0) fd = walk_nofollow(rootfd, rest, flags);
  int e = errno;
  close(rootfd);
  errno = e;
  return fd;
}

/* Finds the root of `norm`: the resolver first, then the longest attached
 * prefix.  *root is allocated; *rest points into `norm` (no leading '/'). */
static mesos_status find_root(mesos__files *f, const char *norm, char **root, const char **rest,
                              mesos_error **err) {
  if (f->has_resolver) {
    size_t consumed = 0;
    char *r = NULL;
    mesos_status st = f->resolver.resolve(f->resolver.ud, norm, &r, &consumed, err);
    if (st == MESOS_OK) {
      size_t len = strlen(norm);
      if (consumed > len || (norm[consumed] != '\0' && norm[consumed] != '/') || r == NULL) {
        mesos__free(r);
        return mesos__err(err, MESOS_ERROR, "files resolver returned a bad prefix");
      }
      *root = r;
      *rest = norm + consumed + (norm[consumed] == '/');
      return MESOS_OK;
    }
    if (st != MESOS_ENOTFOUND) return st;
  }
  char prefix[MESOS__FILES_MAX_PATH + 2];
  size_t len = strlen(norm);
  memcpy(prefix, norm, len + 1);
  for (;;) {
    const char *real = mesos__map_get(&f->roots, prefix);
    if (real) {
      *root = mesos__strdup(real);
      if (*root == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
      *rest = norm + len + (norm[len] == '/');
      if (len == 1) *rest = norm + 1; /* the root "/" itself */
      return MESOS_OK;
    }
    if (len <= 1) break;
    char *slash = strrchr(prefix, '/');
    len = (size_t)(slash - prefix);
    if (len == 0) {
      prefix[1] = '\0';
      len = 1;
    } else {
      *slash = '\0';
    }
  }
  return mesos__err(err, MESOS_ENOTFOUND, "'%s' not found", norm);
}

/* Normalises `path` into `norm` and opens it with `flags`. */
static mesos_status open_virtual(mesos__files *f, const char *path, char *norm, size_t cap,
                                 int flags, int *fd, mesos_error **err) {
  if (f == NULL || path == NULL) return mesos__err(err, MESOS_EINVAL, "path is required");
  mesos_status st = mesos__files_normalize(path, norm, cap, err);
  if (st != MESOS_OK) return st;
  char *root = NULL;
  const char *rest = NULL;
  if ((st = find_root(f, norm, &root, &rest, err)) != MESOS_OK) return st;
  *fd = open_beneath(root, rest, flags);
  int e = errno;
  mesos__free(root);
  if (*fd < 0) return open_error(err, e, norm);
  return MESOS_OK;
}

/* ------------------------------------------------------------ authorization */

void mesos__files_set_auth(mesos__files *f, const mesos__files_auth *a) {
  if (f == NULL) return;
  if (a) f->auth = *a;
  else memset(&f->auth, 0, sizeof f->auth);
}

bool mesos__files_auth_waits(const mesos__files *f, mesos_status st) {
  return st == MESOS_EAGAIN && f && f->auth.auth && mesos__auth_parked(f->auth.auth);
}

/* Asks the owner's hook about `path` (normalised first, so the hook sees
 * exactly the path that will be resolved); any answer but MESOS_OK stops
 * the request before anything is opened. */
static mesos_status authorize(mesos__files *f, const char *principal, const char *path,
                              mesos_error **err) {
  if (f == NULL || path == NULL) return mesos__err(err, MESOS_EINVAL, "path is required");
  if (f->auth.authorize == NULL) return MESOS_OK;
  char norm[MESOS__FILES_MAX_PATH + 2];
  mesos_status st = mesos__files_normalize(path, norm, sizeof norm, err);
  if (st != MESOS_OK) return st;
  return f->auth.authorize(f->auth.ud, principal, norm, err);
}

/* ------------------------------------------------------------ browse, read */

static void fill_entry(mesos__file_entry *e, const struct stat *sb) {
  e->mode = (uint32_t)sb->st_mode;
  e->nlink = (uint64_t)sb->st_nlink;
  e->size = (uint64_t)sb->st_size;
  e->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
  char buf[1024];
  struct passwd pw, *pwp = NULL;
  if (getpwuid_r(sb->st_uid, &pw, buf, sizeof buf, &pwp) == 0 && pwp)
    snprintf(e->uid, sizeof e->uid, "%s", pw.pw_name);
  else
    snprintf(e->uid, sizeof e->uid, "%u", (unsigned)sb->st_uid);
  struct group gr, *grp = NULL;
  if (getgrgid_r(sb->st_gid, &gr, buf, sizeof buf, &grp) == 0 && grp)
    snprintf(e->gid, sizeof e->gid, "%s", gr.gr_name);
  else
    snprintf(e->gid, sizeof e->gid, "%u", (unsigned)sb->st_gid);
}

void mesos__files_entries_free(mesos__file_entry *e, size_t n) {
  if (e == NULL) return;
  for (size_t i = 0; i < n; i++) mesos__free(e[i].path);
  mesos__free(e);
}

static int entry_cmp(const void *a, const void *b) {
  return strcmp(((const mesos__file_entry *)a)->path, ((const mesos__file_entry *)b)->path);
}

static char *join_virtual(const char *dir, const char *name) {
  size_t dl = strlen(dir), nl = strlen(name);
  int slash = !(dl == 1 && dir[0] == '/');
  char *p = mesos__malloc(dl + (size_t)slash + nl + 1);
  if (p == NULL) return NULL;
  memcpy(p, dir, dl);
  if (slash) p[dl] = '/';
  memcpy(p + dl + (size_t)slash, name, nl + 1);
  return p;
}

mesos_status mesos__files_browse(mesos__files *f, const char *path, mesos__file_entry **out,
                                 size_t *n, mesos_error **err) {
  if (out == NULL || n == NULL) return mesos__err(err, MESOS_EINVAL, "out is NULL");
  char norm[MESOS__FILES_MAX_PATH + 2];
  int fd = -1;
  mesos_status st = open_virtual(f, path, norm, sizeof norm,
                                 O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, &fd, err);
  if (st != MESOS_OK) return st;
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    st = open_error(err, errno, norm);
    close(fd);
    return st;
  }
  if (!S_ISDIR(sb.st_mode)) {
    mesos__file_entry *e = MESOS__NEW(mesos__file_entry);
    if (e) e->path = mesos__strdup(norm);
    close(fd);
    if (e == NULL || e->path == NULL) {
      mesos__files_entries_free(e, 1);
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
    }
    fill_entry(e, &sb);
    *out = e;
    *n = 1;
    return MESOS_OK;
  }
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    st = open_error(err, errno, norm);
    close(fd);
    return st;
  }
  mesos__file_entry *v = NULL;
  size_t count = 0, cap = 0;
  struct dirent *de;
  st = MESOS_OK;
  errno = 0;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    if (count >= MESOS__FILES_MAX_ENTRIES) {
      st = mesos__err(err, MESOS_ELIMIT, "'%s' has more than %u entries", norm,
                      MESOS__FILES_MAX_ENTRIES);
      break;
    }
    struct stat es;
    if (fstatat(dirfd(d), de->d_name, &es, AT_SYMLINK_NOFOLLOW) != 0) continue; /* gone */
    if (count == cap) {
      size_t ncap = cap ? cap * 2 : 16, bytes;
      mesos__file_entry *g = NULL;
      if (mesos__size_mul(&bytes, ncap, sizeof *v)) g = mesos__realloc(v, bytes);
      if (g == NULL) {
        st = mesos__err(err, MESOS_ENOMEM, "out of memory");
        break;
      }
      v = g;
      cap = ncap;
    }
    memset(&v[count], 0, sizeof v[count]);
    v[count].path = join_virtual(norm, de->d_name);
    if (v[count].path == NULL) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      break;
    }
    fill_entry(&v[count], &es);
    count++;
  }
  closedir(d);
  if (st != MESOS_OK) {
    mesos__files_entries_free(v, count);
    return st;
  }
  if (count > 1) qsort(v, count, sizeof *v, entry_cmp);
  *out = v;
  *n = count;
  return MESOS_OK;
}

/* Opens `path` as a regular file for reading. */
static mesos_status open_regular(mesos__files *f, const char *path, char *norm, size_t cap,
                                 int *fd, struct stat *sb, mesos_error **err) {
  mesos_status st = open_virtual(f, path, norm, cap, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                                 fd, err);
  if (st != MESOS_OK) return st;
  if (fstat(*fd, sb) != 0) {
    st = open_error(err, errno, norm);
  } else if (S_ISDIR(sb->st_mode)) {
    st = mesos__err(err, MESOS_EINVAL, "Cannot read '%s': it is a directory", norm);
  } else if (!S_ISREG(sb->st_mode)) {
    st = mesos__err(err, MESOS_EINVAL, "Cannot read '%s': not a regular file", norm);
  }
  if (st != MESOS_OK) {
    close(*fd);
    *fd = -1;
  }
  return st;
}

static mesos_status read_at(int fd, const char *norm, uint64_t off, size_t want, char **data,
                            size_t *len, mesos_error **err) {
  char *buf = mesos__malloc(want + 1);
  if (buf == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  size_t got = 0;
  while (got < want) {
    ssize_t r = pread(fd, buf + got, want - got, (off_t)(off + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      mesos__free(buf);
      return mesos__err(err, MESOS_EIO, "reading '%s': %s", norm, strerror(errno));
    }
    if (r == 0) break; /* truncated meanwhile */
    got += (size_t)r;
  }
  buf[got] = '\0';
  *data = buf;
  *len = got;
  return MESOS_OK;
}

mesos_status mesos__files_read(mesos__files *f, const char *path, int64_t offset, int64_t length,
                               size_t max, char **data, size_t *len, uint64_t *size,
                               mesos_error **err) {
  if (data == NULL || len == NULL || size == NULL)
    return mesos__err(err, MESOS_EINVAL, "out is NULL");
  if (offset < 0) return mesos__err(err, MESOS_EINVAL, "Negative offset provided: %lld", (long long)offset);
  char norm[MESOS__FILES_MAX_PATH + 2];
  int fd = -1;
  struct stat sb;
  mesos_status st = open_regular(f, path, norm, sizeof norm, &fd, &sb, err);
  if (st != MESOS_OK) return st;
  uint64_t fsize = (uint64_t)sb.st_size;
  uint64_t off = (uint64_t)offset;
  uint64_t avail = off >= fsize ? 0 : fsize - off;
  uint64_t want = length < 0 ? avail : (uint64_t)length;
  if (want > avail) want = avail;
  if (want > max) want = max;
  st = read_at(fd, norm, off, (size_t)want, data, len, err);
  close(fd);
  if (st == MESOS_OK) *size = fsize;
  return st;
}

int mesos__files_http_status(mesos_status st) {
  switch (st) {
    case MESOS_EINVAL:
    case MESOS_ELIMIT:
      return 400;
    case MESOS_ENOTFOUND:
      return 404;
    case MESOS_EPERM:
      return 403;
    default:
      return 500;
  }
}

/* ------------------------------------------------------------ HTTP */

/* Appends `s` (n bytes) as a JSON string.  Valid UTF-8 passes through;
 * any other byte becomes \u00XX (files hold arbitrary bytes, JSON text
 * must be UTF-8). */
static mesos_status json_string(mesos__buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  mesos_status st = mesos__buf_putc(b, '"');
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (st == MESOS_OK && i < n) {
    unsigned char c = p[i];
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      st = mesos__buf_append(b, esc, 2);
      i++;
      continue;
    }
    if (c < 0x20 || c == 0x7f) {
      char esc[7];
      const char *short_esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
      if (short_esc) {
        st = mesos__buf_puts(b, short_esc);
      } else {
        snprintf(esc, sizeof esc, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
        st = mesos__buf_append(b, esc, 6);
      }
      i++;
      continue;
    }
    if (c < 0x80) {
      size_t run = i + 1;
      while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\') run++;
      st = mesos__buf_append(b, s + i, run - i);
      i = run;
      continue;
    }
    /* A UTF-8 sequence: lead byte, continuation count, no overlongs or
     * surrogates (RFC 3629). */
    size_t need = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    int ok = need > 0 && i + need < n;
    for (size_t k = 1; ok && k <= need; k++)
      if ((p[i + k] & 0xc0) != 0x80) ok = 0;
    if (ok && need == 2) {
      if (c == 0xe0 && p[i + 1] < 0xa0) ok = 0;
      if (c == 0xed && p[i + 1] >= 0xa0) ok = 0;
    }
    if (ok && need == 3) {
      if (c == 0xf0 && p[i + 1] < 0x90) ok = 0;
      if (c == 0xf4 && p[i + 1] >= 0x90) ok = 0;
    }
    if (ok) {
      st = mesos__buf_append(b, s + i, need + 1);
      i += need + 1;
    } else {
      char esc[7];
      snprintf(esc, sizeof esc, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
      st = mesos__buf_append(b, esc, 6);
      i++;
    }
  }
  if (st == MESOS_OK) st = mesos__buf_putc(b, '"');
  return st;
}

mesos_status mesos__files_browse_as(mesos__files *f, const char *principal, const char *path,
                                    mesos__file_entry **out, size_t *n, mesos_error **err) {
  mesos_status st = authorize(f, principal, path, err);
  if (st != MESOS_OK) return st;
  return mesos__files_browse(f, path, out, n, err);
}

mesos_status mesos__files_read_as(mesos__files *f, const char *principal, const char *path,
                                  int64_t offset, int64_t length, size_t max, char **data,
                                  size_t *len, uint64_t *size, mesos_error **err) {
  mesos_status st = authorize(f, principal, path, err);
  if (st != MESOS_OK) return st;
  return mesos__files_read(f, path, offset, length, max, data, len, size, err);
}


static void respond_error(mesos__http_request *req, mesos_status st, mesos_error *e) {
  mesos__http_respond_text(req, mesos__files_http_status(st), e ? mesos_error_message(e) : mesos_status_str(st));
  mesos_error_free(e);
}

static void respond_json(mesos__http_request *req, mesos__buf *b) {
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_set(&h, "Content-Type", "application/json");
  mesos__http_respond(req, 200, &h, b->data ? b->data : "", b->len);
  mesos__http_headers_free(&h);
}

/* The `path` query parameter, or an answered 400. */
static char *path_param(mesos__http_request *req) {
  char *path = NULL;
  mesos_error *e = NULL;
  mesos_status st = mesos__query_get(mesos__http_request_query(req), "path",
                                     MESOS__FILES_MAX_PATH, &path, &e);
  if (st == MESOS_ENOTFOUND) {
    mesos__http_respond_text(req, 400, "Expecting 'path' in query string");
    return NULL;
  }
  if (st != MESOS_OK) {
    respond_error(req, MESOS_EINVAL, e);
    return NULL;
  }
  return path;
}

static void mode_string(uint32_t mode, char out[11]) {
  out[0] = S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'l' : S_ISFIFO(mode) ? 'p' : S_ISSOCK(mode) ? 's'
           : S_ISCHR(mode) ? 'c' : S_ISBLK(mode) ? 'b' : '-';
  static const char rwx[] = "rwxrwxrwx";
  for (int i = 0; i < 9; i++) out[1 + i] = (mode & (1u << (8 - i))) ? rwx[i] : '-';
  if (mode & S_ISUID) out[3] = (mode & S_IXUSR) ? 's' : 'S';
  if (mode & S_ISGID) out[6] = (mode & S_IXGRP) ? 's' : 'S';
  if (mode & S_ISVTX) out[9] = (mode & S_IXOTH) ? 't' : 'T';
  out[10] = '\0';
}

/* Bound of a JSON answer: a full listing is ~200 bytes per entry. */
#define JSON_ANSWER_MAX ((size_t)MESOS__FILES_MAX_ENTRIES * 512)

static void browse_handler(mesos__http_request *req, void *ud) {
  mesos__files *f = ud;
  char *path = path_param(req);
  if (path == NULL) return;
  mesos__file_entry *v = NULL;
  size_t n = 0;
  mesos_error *e = NULL;
  mesos_status st =
      mesos__files_browse_as(f, mesos__http_request_principal(req), path, &v, &n, &e);
  mesos__free(path);
  if (mesos__files_auth_waits(f, st)) return;
  if (st != MESOS_OK) {
    respond_error(req, st, e);
    return;
  }
  mesos__buf b = MESOS__BUF_INIT(JSON_ANSWER_MAX);
  st = mesos__buf_putc(&b, '[');
  for (size_t i = 0; i < n && st == MESOS_OK; i++) {
    char mode[11];
    mode_string(v[i].mode, mode);
    if (i) st = mesos__buf_putc(&b, ',');
    if (st == MESOS_OK) st = mesos__buf_puts(&b, "{\"gid\":");
    if (st == MESOS_OK) st = json_string(&b, v[i].gid, strlen(v[i].gid));
    if (st == MESOS_OK)
      st = mesos__buf_printf(&b, ",\"mode\":\"%s\",\"mtime\":%lld,\"nlink\":%llu,\"path\":", mode,
                             (long long)(v[i].mtime_ns / 1000000000), (unsigned long long)v[i].nlink);
    if (st == MESOS_OK) st = json_string(&b, v[i].path, strlen(v[i].path));
    if (st == MESOS_OK) st = mesos__buf_printf(&b, ",\"size\":%llu,\"uid\":", (unsigned long long)v[i].size);
    if (st == MESOS_OK) st = json_string(&b, v[i].uid, strlen(v[i].uid));
    if (st == MESOS_OK) st = mesos__buf_putc(&b, '}');
  }
  if (st == MESOS_OK) st = mesos__buf_putc(&b, ']');
  mesos__files_entries_free(v, n);
  if (st != MESOS_OK) mesos__http_respond_text(req, 500, "listing too large");
  else respond_json(req, &b);
  mesos__buf_free(&b);
}

/* An optional integer query parameter >= -1 (Mesos's offset/length).
 * Returns 0 and answers 400 when bad. */
static int int_param(mesos__http_request *req, const char *name, int64_t *out) {
  char *s = NULL;
  mesos_error *e = NULL;
  mesos_status st = mesos__query_get(mesos__http_request_query(req), name, 64, &s, &e);
  if (st == MESOS_ENOTFOUND) return 1;
  if (st == MESOS_OK) st = mesos__parse_int64(s, out, name, &e);
  mesos__free(s);
  char msg[256];
  if (st != MESOS_OK) {
    snprintf(msg, sizeof msg, "Failed to parse %s: %s", name,
             e ? mesos_error_message(e) : mesos_status_str(st));
    mesos_error_free(e);
    mesos__http_respond_text(req, 400, msg);
    return 0;
  }
  if (*out < -1) {
    snprintf(msg, sizeof msg, "Negative %s provided: %lld", name, (long long)*out);
    mesos__http_respond_text(req, 400, msg);
    return 0;
  }
  return 1;
}

static void read_handler(mesos__http_request *req, void *ud) {
  mesos__files *f = ud;
  int64_t offset = -1, length = -1;
  if (!int_param(req, "offset", &offset) || !int_param(req, "length", &length)) return;
  char *path = path_param(req);
  if (path == NULL) return;
  char *data = NULL;
  size_t len = 0;
  uint64_t size = 0;
  mesos_error *e = NULL;
  /* offset -1 asks for the size only (Mesos: how tails find the end). */
  mesos_status st = mesos__files_read_as(f, mesos__http_request_principal(req), path,
                                         offset < 0 ? 0 : offset, offset < 0 ? 0 : length,
                                         MESOS__FILES_MAX_HTTP_READ, &data, &len, &size, &e);
  mesos__free(path);
  if (mesos__files_auth_waits(f, st)) return;
  if (st != MESOS_OK) {
    respond_error(req, st, e);
    return;
  }
  uint64_t at = offset < 0 ? size : (uint64_t)offset > size ? size : (uint64_t)offset;
  mesos__buf b = MESOS__BUF_INIT(MESOS__FILES_MAX_HTTP_READ * 6 + 128);
  st = mesos__buf_puts(&b, "{\"data\":");
  if (st == MESOS_OK) st = json_string(&b, data, len);
  if (st == MESOS_OK) st = mesos__buf_printf(&b, ",\"offset\":%llu}", (unsigned long long)at);
  mesos__free(data);
  if (st != MESOS_OK) mesos__http_respond_text(req, 500, "out of memory");
  else respond_json(req, &b);
  mesos__buf_free(&b);
}

/*
 * /files/download streams the file, so its size is not bounded by memory.
 * The answer has a Content-Length (the size when the file was opened: a
 * log growing meanwhile ends there; one truncated meanwhile ends the
 * connection early, so the client sees a short body, not a wrong one).
 * It goes out in DOWNLOAD_CHUNK pieces written while the kernel takes
 * them all; once it queues some (the client is behind), nothing more is
 * read until the server's drain callback says the queue went out.  So one
 * download holds at most DOWNLOAD_CHUNK bytes of file data in its buffer
 * plus one chunk queued, whatever the file's size, a slow client slows
 * only its own download, and nothing waits by polling.  A client that
 * keeps up gets DOWNLOAD_TURN bytes a loop turn and the rest on the next
 * turns, from a libuv idle handle (it never waits for the client, it only
 * lets other connections run between turns; not a 0 ms timer, which libuv
 * 1.44 runs again in the same turn when restarted from its own callback:
 * see state.c).
 */
#define DOWNLOAD_CHUNK ((size_t)256 << 10)
#define DOWNLOAD_TURN ((size_t)4 << 20)

typedef struct download {
  mesos__http_request *req;
  int fd;
  uint64_t off, size;
  uv_idle_t *next_turn; /* active only while a fast client is served */
  char *buf;
  char name[MESOS__FILES_MAX_PATH + 2]; /* virtual path, for log lines */
} download;

static void idle_close_cb(uv_handle_t *h) { mesos__free(h); }

static void download_free(download *d) {
  /* Closed like the loop's own handles: freed on the loop's next turn. */
  if (d->next_turn) uv_close((uv_handle_t *)d->next_turn, idle_close_cb);
  if (d->fd >= 0) close(d->fd);
  mesos__free(d->buf);
  mesos__free(d);
}

static void download_aborted(mesos__http_request *req, void *ud) {
  (void)req;
  download_free(ud); /* the client went away; the server releases req */
}

static void download_next_turn(uv_idle_t *h);

static void download_pump(download *d) {
  size_t turn = 0;
  while (d->off < d->size) {
    if (mesos__http_request_pending(d->req) > 0) {
      uv_idle_stop(d->next_turn); /* resumed by download_drained */
      return;
    }
    if (turn >= DOWNLOAD_TURN) {
      if (!uv_is_active((uv_handle_t *)d->next_turn))
        uv_idle_start(d->next_turn, download_next_turn);
      return;
    }
    uint64_t left = d->size - d->off;
    size_t want = left < DOWNLOAD_CHUNK ? (size_t)left : DOWNLOAD_CHUNK;
    ssize_t r = pread(d->fd, d->buf, want, (off_t)d->off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      /* Truncated meanwhile (or unreadable): ending short of the
       * Content-Length closes the connection. */
      if (r < 0) LOG_WARN("download of %s: %s", d->name, strerror(errno));
      else LOG_WARN("download of %s: the file shrank while being sent", d->name);
      break;
    }
    if (mesos__http_stream_send(d->req, d->buf, (size_t)r) != MESOS_OK) break;
    d->off += (uint64_t)r;
    turn += (size_t)r;
  }
  mesos__http_request_on_abort(d->req, NULL, NULL);
  mesos__http_request_on_drain(d->req, NULL, NULL);
  mesos__http_stream_end(d->req);
  download_free(d);
}

static void download_drained(mesos__http_request *req, void *ud) {
  (void)req;
  download_pump(ud);
}

static void download_next_turn(uv_idle_t *h) { download_pump(h->data); }

static void download_handler(mesos__http_request *req, void *ud) {
  mesos__files *f = ud;
  char *path = path_param(req);
  if (path == NULL) return;
  download *d = MESOS__NEW(download);
  if (d == NULL) {
    mesos__free(path);
    mesos__http_respond_text(req, 503, "out of memory");
    return;
  }
  d->fd = -1;
  struct stat sb;
  mesos_error *e = NULL;
  mesos_status st = authorize(f, mesos__http_request_principal(req), path, &e);
  if (mesos__files_auth_waits(f, st)) {
    mesos__free(path);
    mesos__free(d);
    return;
  }
  if (st == MESOS_OK) st = open_regular(f, path, d->name, sizeof d->name, &d->fd, &sb, &e);
  mesos__free(path);
  if (st == MESOS_OK) {
    d->buf = mesos__malloc(DOWNLOAD_CHUNK);
    if (d->buf == NULL) st = mesos__err(&e, MESOS_ENOMEM, "out of memory");
  }
  if (st == MESOS_OK) {
    d->next_turn = MESOS__NEW(uv_idle_t);
    if (d->next_turn == NULL) {
      st = mesos__err(&e, MESOS_ENOMEM, "out of memory");
    } else {
      uv_idle_init(mesos__loop_uv(mesos__http_server_loop(mesos__http_request_server(req))),
                   d->next_turn);
      d->next_turn->data = d;
    }
  }
  if (st != MESOS_OK) {
    download_free(d);
    respond_error(req, st, e);
    return;
  }
  d->req = req;
  d->size = (uint64_t)sb.st_size;
  /* The file name for the attachment, kept to characters that need no
   * quoting rules. */
  const char *base = strrchr(d->name, '/');
  base = base ? base + 1 : d->name;
  char fname[256];
  size_t o = 0;
  for (const char *p = base; *p && o + 1 < sizeof fname; p++)
    fname[o++] = (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' && *p != ';') ? *p : '_';
  fname[o] = '\0';
  char disp[320];
  snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", fname);
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_set(&h, "Content-Type", "application/octet-stream");
  mesos__http_headers_set(&h, "Content-Disposition", disp);
  st = mesos__http_stream_start_length(req, 200, &h, d->size);
  mesos__http_headers_free(&h);
  if (st != MESOS_OK) {
    download_free(d); /* ECLOSED: the request is released */
    return;
  }
  mesos__http_request_on_abort(req, download_aborted, d);
  mesos__http_request_on_drain(req, download_drained, d);
  download_pump(d);
}

typedef struct debug_ctx {
  mesos__buf *b;
  mesos_status st;
  int first;
} debug_ctx;

static void debug_emit(const char *virt, const char *real, void *ctx) {
  debug_ctx *d = ctx;
  if (d->st != MESOS_OK) return;
  if (!d->first) d->st = mesos__buf_putc(d->b, ',');
  d->first = 0;
  if (d->st == MESOS_OK) d->st = json_string(d->b, virt, strlen(virt));
  if (d->st == MESOS_OK) d->st = mesos__buf_putc(d->b, ':');
  if (d->st == MESOS_OK) d->st = json_string(d->b, real, strlen(real));
}

static void debug_handler(mesos__http_request *req, void *ud) {
  mesos__files *f = ud;
  mesos__buf b = MESOS__BUF_INIT(JSON_ANSWER_MAX);
  debug_ctx d = {&b, mesos__buf_putc(&b, '{'), 1};
  size_t it = 0;
  const char *k;
  void *v;
  while (mesos__map_next(&f->roots, &it, &k, &v)) debug_emit(k, v, &d);
  if (f->has_resolver && f->resolver.list) f->resolver.list(f->resolver.ud, debug_emit, &d);
  if (d.st == MESOS_OK) d.st = mesos__buf_putc(&b, '}');
  if (d.st != MESOS_OK) mesos__http_respond_text(req, 500, "too many attached paths");
  else respond_json(req, &b);
  mesos__buf_free(&b);
}

mesos_status mesos__files_routes(mesos__files *f, mesos__http_server *srv,
                                 const char *alias_prefix, mesos_error **err) {
  static const struct {
    const char *name;
    mesos__http_handler fn;
  } routes[] = {
      {"/files/browse", browse_handler},     {"/files/browse.json", browse_handler},
      {"/files/read", read_handler},         {"/files/read.json", read_handler},
      {"/files/download", download_handler}, {"/files/download.json", download_handler},
      {"/files/debug", debug_handler},       {"/files/debug.json", debug_handler},
  };
  if (f == NULL || srv == NULL) return mesos__err(err, MESOS_EINVAL, "mesos__files_routes: NULL");
  for (int pass = 0; pass < (alias_prefix ? 2 : 1); pass++) {
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
      char path[256];
      snprintf(path, sizeof path, "%s%s", pass ? alias_prefix : "", routes[i].name);
      /* With an auth: the read-only realm, and /files/debug (which shows
       * real paths) also GET_ENDPOINT_WITH_PATH "/files/debug". */
      int debug = routes[i].fn == debug_handler;
      mesos_status st =
          f->auth.auth
              ? mesos__auth_route(f->auth.auth, srv, "GET", path, 0, MESOS__REALM_READONLY,
                                  debug ? MESOS_AUTHZ_GET_ENDPOINT_WITH_PATH : 0,
                                  debug ? "/files/debug" : NULL, routes[i].fn, f)
              : mesos__http_server_route(srv, "GET", path, 0, routes[i].fn, f);
      if (st != MESOS_OK) return mesos__err(err, st, "cannot route %s", path);
    }
  }
  return MESOS_OK;
}
