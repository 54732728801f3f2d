/* Streaming tar reader and safe extractor: see tar.h for the rules. */
#include "provisioner/tar.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"

#define BLOCK 512
/* Read-ahead of the tar stream: one syscall / inflate call per 128 KiB. */
#define TIN_BUF (128 * 1024)
/* Directory depth for rmtree (each level holds one fd while it runs); a
 * PATH_MAX path has at most 2048 components, real trees far fewer. */
#define RMTREE_MAX_DEPTH 512
/* Directories whose metadata is applied at the end, bounded by the entry
 * limit. */

/* ------------------------------------------------------------ input */

typedef struct {
  mesos__tar_read_fn rd;
  mesos__tar_skip_fn sk;
  void *ud;
  unsigned char *buf;
  size_t len, pos;
  bool eof;
  uint64_t off; /* stream bytes consumed by the parser */
} tin;

static mesos_status tin_fill(tin *t, mesos_error **err) {
  if (t->pos < t->len || t->eof) return MESOS_OK;
  size_t got = 0;
  mesos_status st = t->rd(t->ud, t->buf, TIN_BUF, &got, err);
  if (st != MESOS_OK) return st;
  t->pos = 0;
  t->len = got;
  if (got == 0) t->eof = true;
  return MESOS_OK;
}

/* Borrows up to `max` buffered bytes (at least one unless at the end). */
static mesos_status tin_get(tin *t, size_t max, const unsigned char **p, size_t *got,
                            mesos_error **err) {
  mesos_status st = tin_fill(t, err);
  if (st != MESOS_OK) return st;
  size_t n = t->len - t->pos;
  if (n > max) n = max;
  *p = t->buf + t->pos;
  *got = n;
  t->pos += n;
  t->off += n;
  return MESOS_OK;
}

static mesos_status tin_read(tin *t, void *dst, size_t n, mesos_error **err) {
  unsigned char *d = dst;
  while (n > 0) {
    const unsigned char *p;
    size_t got;
    mesos_status st = tin_get(t, n, &p, &got, err);
    if (st != MESOS_OK) return st;
    if (got == 0) return mesos__err(err, MESOS_EPROTO, "tar archive is truncated");
    memcpy(d, p, got);
    d += got;
    n -= got;
  }
  return MESOS_OK;
}

static mesos_status tin_skip(tin *t, uint64_t n, mesos_error **err) {
  size_t have = t->len - t->pos;
  if ((uint64_t)have >= n) {
    t->pos += (size_t)n;
    t->off += n;
    return MESOS_OK;
  }
  t->pos = t->len;
  t->off += have;
  n -= have;
  if (t->sk != NULL) {
    mesos_status st = t->sk(t->ud, n, err);
    if (st == MESOS_OK) t->off += n;
    return st;
  }
  while (n > 0) {
    const unsigned char *p;
    size_t got;
    mesos_status st = tin_get(t, n > TIN_BUF ? TIN_BUF : (size_t)n, &p, &got, err);
    if (st != MESOS_OK) return st;
    if (got == 0) return mesos__err(err, MESOS_EPROTO, "tar archive is truncated");
    n -= got;
  }
  return MESOS_OK;
}

static uint64_t padding(uint64_t size) { return (BLOCK - size % BLOCK) % BLOCK; }

/* Skips the padding after an entry's data.  The stream may end inside it:
 * umoci 0.4 (and other writers that never close their tar writer) end the
 * archive right after the last file's data, with neither padding nor the
 * end-of-archive blocks; tar(1) reads such archives with a warning, and
 * nothing is lost, so they are accepted. */
static mesos_status tin_skip_pad(tin *t, uint64_t n, mesos_error **err) {
  while (n > 0) {
    const unsigned char *p;
    size_t got;
    mesos_status st = tin_get(t, (size_t)n, &p, &got, err);
    if (st != MESOS_OK) return st;
    if (got == 0) return MESOS_OK;
    n -= got;
  }
  return MESOS_OK;
}

static mesos_status skip_data(tin *t, uint64_t dlen, mesos_error **err) {
  mesos_status st = tin_skip(t, dlen, err);
  return st == MESOS_OK ? tin_skip_pad(t, padding(dlen), err) : st;
}

/* ------------------------------------------------------------ headers */

/* Extended attributes kept per entry (pax SCHILY.xattr.*).  Only file
 * capabilities and user.* are applied: trusted.* and security.* others
 * could steer overlayfs (trusted.overlay.redirect, .opaque) or the LSM,
 * which no image layer may do. */
#define TAR_MAX_XATTRS 16

typedef struct {
  char *name;
  char *value;
  size_t len;
} txattr;

typedef struct {
  char *name, *linkname;
  char type;
  uint32_t mode;
  uint64_t uid, gid, size, dlen;
  int64_t mtime;
  txattr xa[TAR_MAX_XATTRS];
  size_t nxa;
} tent;

static void xattrs_clear(txattr *xa, size_t *n) {
  for (size_t i = 0; i < *n; i++) {
    mesos__free(xa[i].name);
    mesos__free(xa[i].value);
  }
  *n = 0;
}

static void tent_clear(tent *e) {
  mesos__free(e->name);
  mesos__free(e->linkname);
  xattrs_clear(e->xa, &e->nxa);
  memset(e, 0, sizeof *e);
}

static bool xattr_allowed(const char *name) {
  return strcmp(name, "security.capability") == 0 || strncmp(name, "user.", 5) == 0;
}

/* Octal (space/NUL padded) or GNU base-256 (high bit of the first byte). */
static bool parse_num(const unsigned char *f, size_t len, uint64_t *out) {
  uint64_t v = 0;
  if (len > 0 && (f[0] & 0x80)) {
    if (f[0] & 0x40) return false; /* negative */
    v = f[0] & 0x3f;
    for (size_t i = 1; i < len; i++) {
      if (v > (UINT64_MAX >> 8)) return false;
      v = (v << 8) | f[i];
    }
    *out = v;
    return true;
  }
  size_t i = 0;
  while (i < len && f[i] == ' ') i++;
  bool any = false;
  for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
    if (v > (UINT64_MAX >> 3)) return false;
    v = (v << 3) | (uint64_t)(f[i] - '0');
    any = true;
  }
  for (; i < len; i++)
    if (f[i] != ' ' && f[i] != '\0') return false;
  (void)any; /* an all-blank field is 0 (old tars leave some empty) */
  *out = v;
  return true;
}

static bool parse_dec(const char *s, size_t n, uint64_t *out) {
  uint64_t v = 0;
  if (n == 0) return false;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *out = v;
  return true;
}

typedef struct {
  char *path, *linkpath;
  bool has_size, has_uid, has_gid, has_mtime;
  uint64_t size, uid, gid;
  int64_t mtime;
  txattr xa[TAR_MAX_XATTRS];
  size_t nxa;
} pax;

static void pax_clear(pax *x) {
  mesos__free(x->path);
  mesos__free(x->linkpath);
  xattrs_clear(x->xa, &x->nxa);
  memset(x, 0, sizeof *x);
}

/* pax records: "<len> <key>=<value>\n", len counting the whole record. */
static mesos_status parse_pax(const char *d, size_t n, pax *x, mesos_error **err) {
  size_t i = 0;
  while (i < n) {
    if (d[i] == '\0') break; /* some writers pad with NULs */
    size_t j = i;
    while (j < n && d[j] >= '0' && d[j] <= '9') j++;
    uint64_t rl;
    if (j >= n || d[j] != ' ' || !parse_dec(d + i, j - i, &rl) || rl > n - i || rl < 4 ||
        d[i + rl - 1] != '\n')
      return mesos__err(err, MESOS_EPROTO, "malformed pax extended header");
    const char *kv = d + j + 1, *end = d + i + rl - 1;
    const char *eq = memchr(kv, '=', (size_t)(end - kv));
    if (eq == NULL) return mesos__err(err, MESOS_EPROTO, "malformed pax record (no '=')");
    size_t kl = (size_t)(eq - kv), vl = (size_t)(end - eq - 1);
    const char *v = eq + 1;
#define KEY(s) (kl == sizeof(s) - 1 && memcmp(kv, s, kl) == 0)
    if (KEY("path") || KEY("linkpath")) {
      if (memchr(v, '\0', vl) != NULL)
        return mesos__err(err, MESOS_EINVAL, "pax path contains a NUL byte");
      char *s = mesos__strndup(v, vl);
      if (s == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
      char **slot = KEY("path") ? &x->path : &x->linkpath;
      mesos__free(*slot);
      *slot = s;
    } else if (KEY("size") || KEY("uid") || KEY("gid")) {
      uint64_t val;
      if (!parse_dec(v, vl, &val))
        return mesos__err(err, MESOS_EPROTO, "malformed pax number for %.*s", (int)kl, kv);
      if (KEY("size")) {
        x->size = val;
        x->has_size = true;
      } else if (KEY("uid")) {
        x->uid = val;
        x->has_uid = true;
      } else {
        x->gid = val;
        x->has_gid = true;
      }
    } else if (kl > 13 && memcmp(kv, "SCHILY.xattr.", 13) == 0) {
      char *name = mesos__strndup(kv + 13, kl - 13);
      if (name == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
      if (!xattr_allowed(name) || x->nxa == TAR_MAX_XATTRS || vl > 65536 ||
          memchr(name, '\0', kl - 13) != NULL) {
        mesos__free(name); /* ignored, see TAR_MAX_XATTRS */
      } else {
        char *val = mesos__memdup(v, vl ? vl : 1);
        if (val == NULL) {
          mesos__free(name);
          return mesos__err(err, MESOS_ENOMEM, "out of memory");
        }
        x->xa[x->nxa++] = (txattr){name, val, vl};
      }
    } else if (KEY("mtime")) {
      /* Seconds, optionally negative, optionally with a fraction. */
      size_t k = 0;
      bool neg = vl > 0 && v[0] == '-';
      if (neg) k = 1;
      size_t s = k;
      while (k < vl && v[k] >= '0' && v[k] <= '9') k++;
      uint64_t sec;
      if (parse_dec(v + s, k - s, &sec) && sec < (uint64_t)INT64_MAX) {
        x->mtime = neg ? -(int64_t)sec : (int64_t)sec;
        x->has_mtime = true;
      }
    }
#undef KEY
    i += rl;
  }
  return MESOS_OK;
}

/* Reads a metadata entry's data (pax header, GNU long name) into a new
 * NUL-terminated string. */
static mesos_status read_meta(tin *t, uint64_t size, char **out, mesos_error **err) {
  if (size > MESOS__TAR_MAX_META)
    return mesos__err(err, MESOS_ELIMIT, "tar metadata entry of %llu bytes is over the limit",
                      (unsigned long long)size);
  char *d = mesos__malloc((size_t)size + 1);
  if (d == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos_status st = tin_read(t, d, (size_t)size, err);
  if (st == MESOS_OK) st = tin_skip_pad(t, padding(size), err);
  if (st != MESOS_OK) {
    mesos__free(d);
    return st;
  }
  d[size] = '\0';
  *out = d;
  return MESOS_OK;
}

/* Reads the next real entry (consuming pax / GNU long-name entries in
 * front of it).  *end at the end-of-archive block or a clean EOF. */
static mesos_status next_entry(tin *t, tent *e, bool *end, mesos_error **err) {
  pax x;
  memset(&x, 0, sizeof x);
  char *longname = NULL, *longlink = NULL;
  mesos_status st = MESOS_OK;
  unsigned char h[BLOCK];
  *end = false;
  for (;;) {
    uint64_t at = t->off;
    const unsigned char *p;
    size_t got;
    /* A clean end of stream between entries counts as the end (some
     * writers omit the zero blocks). */
    if ((st = tin_get(t, BLOCK, &p, &got, err)) != MESOS_OK) goto out;
    if (got == 0) {
      if (x.path || x.linkpath || longname || longlink) {
        st = mesos__err(err, MESOS_EPROTO, "tar archive is truncated after an extended header");
        goto out;
      }
      *end = true;
      goto out;
    }
    memcpy(h, p, got);
    if (got < BLOCK && (st = tin_read(t, h + got, BLOCK - got, err)) != MESOS_OK) goto out;
    bool zero = true;
    for (int i = 0; i < BLOCK && zero; i++) zero = h[i] == 0;
    if (zero) {
      *end = true;
      goto out;
    }
    uint64_t sum;
    if (!parse_num(h + 148, 8, &sum)) {
      st = mesos__err(err, MESOS_EPROTO, "malformed tar header at offset %llu",
                      (unsigned long long)at);
      goto out;
    }
    uint64_t u = 0;
    int64_t s = 0;
    for (int i = 0; i < BLOCK; i++) {
      unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
      u += c;
      s += (signed char)c;
    }
    if (sum != u && (int64_t)sum != s) {
      st = mesos__err(err, MESOS_EPROTO, "bad tar header checksum at offset %llu",
                      (unsigned long long)at);
      goto out;
    }
    uint64_t size, mode, uid, gid, mtime;
    if (!parse_num(h + 124, 12, &size) || !parse_num(h + 100, 8, &mode) ||
        !parse_num(h + 108, 8, &uid) || !parse_num(h + 116, 8, &gid) ||
        !parse_num(h + 136, 12, &mtime)) {
      st = mesos__err(err, MESOS_EPROTO, "malformed number in tar header at offset %llu",
                      (unsigned long long)at);
      goto out;
    }
    char type = (char)h[156];
    if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
      char *d = NULL;
      if ((st = read_meta(t, size, &d, err)) != MESOS_OK) goto out;
      if (type == 'x') {
        st = parse_pax(d, (size_t)size, &x, err);
        mesos__free(d);
        if (st != MESOS_OK) goto out;
      } else if (type == 'g') {
        mesos__free(d); /* global defaults: nothing we use */
      } else if (type == 'L') {
        mesos__free(longname);
        longname = d;
      } else {
        mesos__free(longlink);
        longlink = d;
      }
      continue;
    }
    /* The entry itself. */
    const char *hn = (const char *)h;
    bool posix = memcmp(h + 257, "ustar\0", 6) == 0;
    char namebuf[256 + 1 + 100 + 1];
    size_t nl = strnlen(hn, 100);
    if (posix && h[345] != '\0') {
      size_t pl = strnlen(hn + 345, 155);
      memcpy(namebuf, hn + 345, pl);
      namebuf[pl] = '/';
      memcpy(namebuf + pl + 1, hn, nl);
      namebuf[pl + 1 + nl] = '\0';
    } else {
      memcpy(namebuf, hn, nl);
      namebuf[nl] = '\0';
    }
    char linkbuf[101];
    size_t ll = strnlen(hn + 157, 100);
    memcpy(linkbuf, hn + 157, ll);
    linkbuf[ll] = '\0';

    const char *name = x.path ? x.path : longname ? longname : namebuf;
    const char *link = x.linkpath ? x.linkpath : longlink ? longlink : linkbuf;
    e->name = mesos__strdup(name);
    e->linkname = link[0] ? mesos__strdup(link) : NULL;
    memcpy(e->xa, x.xa, sizeof x.xa);
    e->nxa = x.nxa;
    x.nxa = 0;
    if (e->name == NULL || (link[0] && e->linkname == NULL)) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      goto out;
    }
    e->type = type == '\0' ? '0' : type;
    size_t fl = strlen(e->name);
    if ((e->type == '0' || e->type == '7') && fl > 0 && e->name[fl - 1] == '/') e->type = '5';
    e->mode = (uint32_t)(mode & 07777);
    e->uid = x.has_uid ? x.uid : uid;
    e->gid = x.has_gid ? x.gid : gid;
    e->mtime = x.has_mtime ? x.mtime : (int64_t)mtime;
    e->size = x.has_size ? x.size : size;
    /* Only regular files carry data; for every other type the size field
     * is informational (ustar) and no data blocks follow.  Unknown types
     * (sparse, multi-volume, ...) are skipped by their size. */
    switch (e->type) {
      case '0': case '7': e->dlen = e->size; break;
      case '1': case '2': case '3': case '4': case '5': case '6': e->dlen = 0; break;
      default: e->dlen = e->size; break;
    }
    goto out;
  }
out:
  pax_clear(&x);
  mesos__free(longname);
  mesos__free(longlink);
  if (st != MESOS_OK) tent_clear(e);
  return st;
}

/* ------------------------------------------------------------ paths */

mesos_status mesos__tar_clean_path(const char *in, char **out, mesos_error **err) {
  size_t n = strlen(in);
  if (n >= PATH_MAX) return mesos__err(err, MESOS_ELIMIT, "path of %zu bytes is too long", n);
  if (in[0] == '/')
    return mesos__err(err, MESOS_EINVAL, "'%s': absolute path refused", in);
  char *o = mesos__malloc(n + 1);
  if (o == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  size_t w = 0;
  const char *p = in;
  while (*p) {
    while (*p == '/') p++;
    const char *c = p;
    while (*p && *p != '/') p++;
    size_t cl = (size_t)(p - c);
    if (cl == 0 || (cl == 1 && c[0] == '.')) continue;
    if (cl == 2 && c[0] == '.' && c[1] == '.') {
      mesos__free(o);
      return mesos__err(err, MESOS_EINVAL, "'%s': path with '..' refused", in);
    }
    if (cl > NAME_MAX) {
      mesos__free(o);
      return mesos__err(err, MESOS_ELIMIT, "'%s': path component too long", in);
    }
    if (w > 0) o[w++] = '/';
    memcpy(o + w, c, cl);
    w += cl;
  }
  o[w] = '\0';
  *out = o;
  return MESOS_OK;
}

/* ------------------------------------------------------------ removal */

static mesos_status rmtree_depth(int dirfd, const char *name, int depth, mesos_error **err) {
  if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return MESOS_OK;
  if (errno != EISDIR && errno != EPERM)
    return mesos__err_errno(err, MESOS_EIO, errno, name);
  if (depth >= RMTREE_MAX_DEPTH)
    return mesos__err(err, MESOS_ELIMIT, "directory tree deeper than %d levels", RMTREE_MAX_DEPTH);
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return mesos__err_errno(err, MESOS_EIO, errno, name);
  struct stat pst, cst;
  /* Never descend into another file system: a mount point below a tree
   * being removed (a rootfs still mounted) must stop the removal. */
  if (fstat(dirfd, &pst) == 0 && fstat(fd, &cst) == 0 && pst.st_dev != cst.st_dev) {
    close(fd);
    return mesos__err(err, MESOS_EBUSY, "'%s' is a mount point", name);
  }
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return mesos__err_errno(err, MESOS_EIO, errno, name);
  }
  mesos_status st = MESOS_OK;
  struct dirent *de;
  while (st == MESOS_OK && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    st = rmtree_depth(fd, de->d_name, depth + 1, err);
  }
  closedir(d);
  if (st != MESOS_OK) return st;
  if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
    return mesos__err_errno(err, MESOS_EIO, errno, name);
  return MESOS_OK;
}

mesos_status mesos__rmtree_at(int dirfd, const char *name, mesos_error **err) {
  return rmtree_depth(dirfd, name, 0, err);
}

/* ------------------------------------------------------------ extraction */

typedef struct {
  char *path;
  uint32_t mode;
  uint64_t uid, gid;
  int64_t mtime;
} dirmeta;

typedef struct {
  int root;
  mesos__tar_opts o;
  char *cache_path; /* parent directory last walked to */
  int cache_fd;
  dirmeta *dirs;
  size_t ndirs, capdirs;
  uint64_t entries, total;
  uint64_t euid, egid;
} xctx;

/* Opens directory `path` (clean, "" = root) below the root without
 * following links, creating missing components when `create`.  Returns an
 * fd the caller owns. */
static mesos_status walk_open(xctx *x, int start, const char *path, bool create, int *out,
                              mesos_error **err) {
  int cur = start;
  bool own = false;
  const char *p = path;
  while (*p) {
    const char *c = p;
    while (*p && *p != '/') p++;
    char comp[NAME_MAX + 1];
    size_t cl = (size_t)(p - c);
    memcpy(comp, c, cl);
    comp[cl] = '\0';
    if (*p == '/') p++;
    int nfd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (nfd < 0 && errno == ENOENT && create) {
      if (mkdirat(cur, comp, 0755) != 0 && errno != EEXIST) {
        int e = errno;
        if (own) close(cur);
        return mesos__err_errno(err, MESOS_EIO, e, path);
      }
      nfd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (nfd < 0) {
      int e = errno;
      if (own) close(cur);
      if (e == ELOOP || e == ENOTDIR)
        return mesos__err(err, MESOS_EINVAL,
                          "'%s': path goes through a symbolic link or a non-directory", path);
      if (e == ENOENT) return mesos__err(err, MESOS_ENOTFOUND, "'%s': no such directory", path);
      return mesos__err_errno(err, MESOS_EIO, e, path);
    }
    if (own) close(cur);
    cur = nfd;
    own = true;
  }
  if (!own) {
    cur = dup(start);
    if (cur < 0) return mesos__err_errno(err, MESOS_EIO, errno, "dup");
  }
  (void)x;
  *out = cur;
  return MESOS_OK;
}

/* The parent directory `path`, through the one-entry cache: archives list
 * a directory's files together, so most entries reuse the last walk, and a
 * child directory is walked from its parent. */
static mesos_status parent_fd(xctx *x, const char *path, int *out, mesos_error **err) {
  if (x->cache_path != NULL && strcmp(x->cache_path, path) == 0) {
    *out = x->cache_fd;
    return MESOS_OK;
  }
  int start = x->root;
  const char *rest = path;
  size_t cl = x->cache_path ? strlen(x->cache_path) : 0;
  if (x->cache_path != NULL && cl > 0 && strncmp(path, x->cache_path, cl) == 0 && path[cl] == '/') {
    start = x->cache_fd;
    rest = path + cl + 1;
  }
  int fd;
  mesos_status st = walk_open(x, start, rest, true, &fd, err);
  if (st != MESOS_OK) return st;
  char *np = mesos__strdup(path);
  if (np == NULL) {
    close(fd);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  if (x->cache_path != NULL) close(x->cache_fd);
  mesos__free(x->cache_path);
  x->cache_path = np;
  x->cache_fd = fd;
  *out = fd;
  return MESOS_OK;
}

/* Any cached fd may point into a directory about to be removed or
 * replaced; drop it. */
static void cache_drop(xctx *x) {
  if (x->cache_path != NULL) close(x->cache_fd);
  mesos__free(x->cache_path);
  x->cache_path = NULL;
}

static void split(char *path, char **parent, char **base) {
  char *s = strrchr(path, '/');
  if (s == NULL) {
    *parent = (char *)"";
    *base = path;
  } else {
    *s = '\0';
    *parent = path;
    *base = s + 1;
  }
}

static mesos_status set_meta_fd(xctx *x, int fd, const tent *e, const char *name,
                                mesos_error **err) {
  /* New files already belong to us; most image files are root's, so the
   * chown is skipped when it would change nothing. */
  if (x->o.preserve_owner && (e->uid != x->euid || e->gid != x->egid) &&
      fchown(fd, (uid_t)e->uid, (gid_t)e->gid) != 0)
    return mesos__err_errno(err, MESOS_EIO, errno, name);
  if (fchmod(fd, e->mode) != 0) return mesos__err_errno(err, MESOS_EIO, errno, name);
  struct timespec ts[2] = {{e->mtime, 0}, {e->mtime, 0}};
  if (futimens(fd, ts) != 0) return mesos__err_errno(err, MESOS_EIO, errno, name);
  return MESOS_OK;
}

static mesos_status write_all(int fd, const unsigned char *p, size_t n, const char *name,
                              mesos_error **err) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return mesos__err_errno(err, MESOS_EIO, errno, name);
    }
    p += w;
    n -= (size_t)w;
  }
  return MESOS_OK;
}

/* Removes whatever is at `base` unless both it and the new entry are
 * directories (then the directory is merged, as tar does). */
static mesos_status clear_slot(xctx *x, int pfd, const char *base, bool want_dir,
                               mesos_error **err) {
  struct stat st;
  if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return MESOS_OK;
    return mesos__err_errno(err, MESOS_EIO, errno, base);
  }
  if (want_dir && S_ISDIR(st.st_mode)) return MESOS_OK;
  /* The parent cache points at pfd itself, never below base, so it stays
   * valid across this removal. */
  (void)x;
  return mesos__rmtree_at(pfd, base, err);
}

static mesos_status add_dirmeta(xctx *x, const char *path, const tent *e, mesos_error **err) {
  if (x->ndirs == x->capdirs) {
    size_t nc = x->capdirs ? x->capdirs * 2 : 64;
    dirmeta *nd = mesos__realloc(x->dirs, nc * sizeof *nd);
    if (nd == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
    x->dirs = nd;
    x->capdirs = nc;
  }
  char *p = mesos__strdup(path);
  if (p == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  x->dirs[x->ndirs++] = (dirmeta){p, e->mode, e->uid, e->gid, e->mtime};
  return MESOS_OK;
}

static mesos_status extract_entry(xctx *x, tin *t, tent *e, mesos_error **err) {
  char *path = NULL;
  /* umoci (and Go's archive/tar users generally) write the root directory
   * as "/"; that one absolute name names the extraction root itself. */
  if (e->type == '5' && e->name[0] == '/' && strspn(e->name, "/.") == strlen(e->name))
    return skip_data(t, e->dlen, err);
  mesos_status st = mesos__tar_clean_path(e->name, &path, err);
  if (st != MESOS_OK) return st;
  if (path[0] == '\0') {
    /* "./" itself: the root's metadata is the store's business. */
    mesos__free(path);
    if (e->type != '5')
      return mesos__err(err, MESOS_EINVAL, "'%s': entry without a name", e->name);
    return skip_data(t, e->dlen, err);
  }
  char *full = mesos__strdup(path);
  if (full == NULL) {
    mesos__free(path);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  char *parent, *base;
  split(path, &parent, &base);
  int pfd = -1;

  if (e->type == '3' || e->type == '4') {
    st = mesos__err(err, MESOS_EPERM, "'%s': device node refused", full);
    goto out;
  }
  if (e->type != '0' && e->type != '7' && e->type != '1' && e->type != '2' && e->type != '5' &&
      e->type != '6') {
    st = mesos__err(err, MESOS_EUNSUPPORTED, "'%s': unsupported tar entry type '%c'", full,
                    e->type);
    goto out;
  }
  if ((st = parent_fd(x, parent, &pfd, err)) != MESOS_OK) goto out;

  if (x->o.whiteouts == MESOS__TAR_WHITEOUT_OVERLAY && strncmp(base, ".wh.", 4) == 0) {
    if (strcmp(base, ".wh..wh..opq") == 0) {
      if (fsetxattr(pfd, "trusted.overlay.opaque", "y", 1, 0) != 0)
        st = mesos__err_errno(err, MESOS_EIO, errno, "setting trusted.overlay.opaque");
    } else if (strncmp(base, ".wh..wh.", 8) != 0) {
      const char *victim = base + 4;
      if (victim[0] == '\0') {
        st = mesos__err(err, MESOS_EINVAL, "'%s': whiteout without a name", full);
      } else if ((st = clear_slot(x, pfd, victim, false, err)) == MESOS_OK &&
                 mknodat(pfd, victim, S_IFCHR | 0, makedev(0, 0)) != 0) {
        st = mesos__err_errno(err, MESOS_EIO, errno, "creating an overlay whiteout");
      }
    }
    if (st == MESOS_OK) st = skip_data(t, e->dlen, err);
    goto out;
  }

  /* Regular files are created first and the slot cleared only when that
   * finds something in the way: one syscall less per file in the usual
   * case of a fresh tree. */
  if (e->type != '0' && e->type != '7' &&
      (st = clear_slot(x, pfd, base, e->type == '5', err)) != MESOS_OK)
    goto out;

  switch (e->type) {
    case '0':
    case '7': {
      if (e->size > x->o.max_file_size) {
        st = mesos__err(err, MESOS_ELIMIT, "'%s': file of %llu bytes is over the %llu byte limit",
                        full, (unsigned long long)e->size, (unsigned long long)x->o.max_file_size);
        goto out;
      }
      if (e->size > x->o.max_total_size - x->total) {
        st = mesos__err(err, MESOS_ELIMIT, "'%s': layer is over the %llu byte limit", full,
                        (unsigned long long)x->o.max_total_size);
        goto out;
      }
      x->total += e->size;
      int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0 && errno == EEXIST) {
        if ((st = clear_slot(x, pfd, base, false, err)) != MESOS_OK) goto out;
        fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      }
      if (fd < 0) {
        st = mesos__err_errno(err, MESOS_EIO, errno, full);
        goto out;
      }
      uint64_t left = e->size;
      while (left > 0 && st == MESOS_OK) {
        const unsigned char *p;
        size_t got;
        if (x->o.cancel && atomic_load(x->o.cancel)) {
          st = mesos__err(err, MESOS_ECLOSED, "extraction cancelled (shutting down)");
          break;
        }
        st = tin_get(t, left > TIN_BUF ? TIN_BUF : (size_t)left, &p, &got, err);
        if (st != MESOS_OK) break;
        if (got == 0) {
          st = mesos__err(err, MESOS_EPROTO, "'%s': tar archive is truncated", full);
          break;
        }
        st = write_all(fd, p, got, full, err);
        left -= got;
      }
      if (st == MESOS_OK) st = tin_skip_pad(t, padding(e->size), err);
      if (st == MESOS_OK) st = set_meta_fd(x, fd, e, full, err);
      /* After the chown (which drops file capabilities). */
      for (size_t k = 0; st == MESOS_OK && k < e->nxa; k++)
        if (fsetxattr(fd, e->xa[k].name, e->xa[k].value, e->xa[k].len, 0) != 0 &&
            errno != ENOTSUP && errno != EPERM)
          st = mesos__err_errno(err, MESOS_EIO, errno, full);
      close(fd);
      goto out;
    }
    case '1': {
      if (e->linkname == NULL) {
        st = mesos__err(err, MESOS_EINVAL, "'%s': hard link without a target", full);
        goto out;
      }
      char *target = NULL;
      if ((st = mesos__tar_clean_path(e->linkname, &target, err)) != MESOS_OK) {
        mesos_error *cause = err ? *err : NULL;
        if (err) *err = NULL;
        st = mesos__err_wrap(err, st, cause, "'%s': hard link target refused", full);
        goto out;
      }
      char *tp, *tb;
      split(target, &tp, &tb);
      int tfd;
      if (tb[0] == '\0') {
        st = mesos__err(err, MESOS_EINVAL, "'%s': hard link to the root", full);
      } else if ((st = walk_open(x, x->root, tp, false, &tfd, err)) == MESOS_OK) {
        if (linkat(tfd, tb, pfd, base, 0) != 0) {
          int en = errno;
          if (en == ENOENT)
            st = mesos__err(err, MESOS_EINVAL, "'%s': hard link target '%s' is not in this layer",
                            full, e->linkname);
          else
            st = mesos__err_errno(err, MESOS_EIO, en, full);
        }
        close(tfd);
      } else if (st == MESOS_ENOTFOUND) {
        mesos_error *cause = err ? *err : NULL;
        if (err) *err = NULL;
        st = mesos__err_wrap(err, MESOS_EINVAL, cause,
                             "'%s': hard link target '%s' is not in this layer", full,
                             e->linkname);
      }
      mesos__free(target);
      goto out;
    }
    case '2': {
      if (e->linkname == NULL) {
        st = mesos__err(err, MESOS_EINVAL, "'%s': symbolic link without a target", full);
        goto out;
      }
      if (symlinkat(e->linkname, pfd, base) != 0) {
        st = mesos__err_errno(err, MESOS_EIO, errno, full);
        goto out;
      }
      if (x->o.preserve_owner &&
          fchownat(pfd, base, (uid_t)e->uid, (gid_t)e->gid, AT_SYMLINK_NOFOLLOW) != 0) {
        st = mesos__err_errno(err, MESOS_EIO, errno, full);
        goto out;
      }
      struct timespec ts[2] = {{e->mtime, 0}, {e->mtime, 0}};
      if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) != 0)
        st = mesos__err_errno(err, MESOS_EIO, errno, full);
      goto out;
    }
    case '5':
      if (mkdirat(pfd, base, 0700) != 0 && errno != EEXIST) {
        st = mesos__err_errno(err, MESOS_EIO, errno, full);
        goto out;
      }
      st = add_dirmeta(x, full, e, err);
      goto out;
    case '6': {
      if (mkfifoat(pfd, base, 0600) != 0) {
        st = mesos__err_errno(err, MESOS_EIO, errno, full);
        goto out;
      }
      /* The FIFO was just created in this private tree (no link to follow). */
      if (fchmodat(pfd, base, e->mode, 0) != 0) st = mesos__err_errno(err, MESOS_EIO, errno, full);
      if (st == MESOS_OK && x->o.preserve_owner &&
          fchownat(pfd, base, (uid_t)e->uid, (gid_t)e->gid, AT_SYMLINK_NOFOLLOW) != 0)
        st = mesos__err_errno(err, MESOS_EIO, errno, full);
      goto out;
    }
    default:
      break;
  }
out:
  mesos__free(full);
  mesos__free(path);
  return st;
}

static mesos_status finish_dirs(xctx *x, mesos_error **err) {
  mesos_status st = MESOS_OK;
  /* Children before parents, so a parent's mtime is set after its last
   * change and a read-only parent is made read-only last. */
  for (size_t i = x->ndirs; i > 0 && st == MESOS_OK; i--) {
    dirmeta *d = &x->dirs[i - 1];
    int fd;
    mesos_error *e2 = NULL;
    if (walk_open(x, x->root, d->path, false, &fd, &e2) != MESOS_OK) {
      /* Replaced by a later entry of the archive: nothing to apply. */
      mesos_error_free(e2);
      continue;
    }
    tent e = {0};
    e.mode = d->mode;
    e.uid = d->uid;
    e.gid = d->gid;
    e.mtime = d->mtime;
    st = set_meta_fd(x, fd, &e, d->path, err);
    close(fd);
  }
  return st;
}

mesos_status mesos__tar_extract(int rootfd, mesos__tar_read_fn rd, void *ud,
                                const mesos__tar_opts *opts, mesos__tar_stats *stats,
                                mesos_error **err) {
  xctx x;
  memset(&x, 0, sizeof x);
  x.root = rootfd;
  x.euid = geteuid();
  x.egid = getegid();
  if (opts != NULL) x.o = *opts;
  if (x.o.max_file_size == 0) x.o.max_file_size = MESOS__TAR_MAX_FILE;
  if (x.o.max_total_size == 0) x.o.max_total_size = MESOS__TAR_MAX_TOTAL;
  if (x.o.max_entries == 0) x.o.max_entries = MESOS__TAR_MAX_ENTRIES;
  tin t = {rd, NULL, ud, NULL, 0, 0, false, 0};
  t.buf = mesos__malloc(TIN_BUF);
  if (t.buf == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos_status st = MESOS_OK;
  for (;;) {
    tent e;
    memset(&e, 0, sizeof e);
    bool end;
    if (x.o.cancel && atomic_load(x.o.cancel)) {
      st = mesos__err(err, MESOS_ECLOSED, "extraction cancelled (shutting down)");
      break;
    }
    if ((st = next_entry(&t, &e, &end, err)) != MESOS_OK) break;
    if (end) break;
    if (++x.entries > x.o.max_entries) {
      tent_clear(&e);
      st = mesos__err(err, MESOS_ELIMIT, "layer has more than %llu entries",
                      (unsigned long long)x.o.max_entries);
      break;
    }
    st = extract_entry(&x, &t, &e, err);
    tent_clear(&e);
    if (st != MESOS_OK) break;
  }
  cache_drop(&x);
  if (st == MESOS_OK) st = finish_dirs(&x, err);
  for (size_t i = 0; i < x.ndirs; i++) mesos__free(x.dirs[i].path);
  mesos__free(x.dirs);
  mesos__free(t.buf);
  if (stats != NULL) {
    stats->entries = x.entries;
    stats->bytes = x.total;
  }
  return st;
}

static mesos_status zin_rd(void *ud, void *buf, size_t cap, size_t *got, mesos_error **err) {
  return mesos__zin_read(ud, buf, cap, got, err);
}

mesos_status mesos__tar_extract_zin(int rootfd, mesos__zin *z, const mesos__tar_opts *opts,
                                    mesos__tar_stats *stats, mesos_error **err) {
  mesos_status st = mesos__tar_extract(rootfd, zin_rd, z, opts, stats, err);
  if (st == MESOS_OK) st = mesos__zin_drain(z, err);
  return st;
}

/* ------------------------------------------------------------ index */

typedef struct {
  int fd;
  uint64_t off, size;
} fdin;

static mesos_status fd_rd(void *ud, void *buf, size_t cap, size_t *got, mesos_error **err) {
  fdin *f = ud;
  ssize_t n;
  do {
    n = pread(f->fd, buf, cap, (off_t)f->off);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return mesos__err_errno(err, MESOS_EIO, errno, "reading archive");
  f->off += (uint64_t)n;
  *got = (size_t)n;
  return MESOS_OK;
}

static mesos_status fd_sk(void *ud, uint64_t n, mesos_error **err) {
  fdin *f = ud;
  if (n > f->size || f->off > f->size - n)
    return mesos__err(err, MESOS_EPROTO, "tar archive is truncated");
  f->off += n;
  return MESOS_OK;
}

void mesos__tar_index_free(mesos__tar_index *ix) {
  if (ix == NULL) return;
  for (size_t i = 0; i < ix->n; i++) {
    mesos__free(ix->m[i].name);
    mesos__free(ix->m[i].linkname);
  }
  mesos__free(ix->m);
  ix->m = NULL;
  ix->n = 0;
}

mesos_status mesos__tar_index_fd(int fd, size_t max_members, mesos__tar_index *out,
                                 mesos_error **err) {
  struct stat sb;
  if (fstat(fd, &sb) != 0) return mesos__err_errno(err, MESOS_EIO, errno, "stat archive");
  fdin f = {fd, 0, (uint64_t)sb.st_size};
  tin t = {fd_rd, fd_sk, &f, NULL, 0, 0, false, 0};
  /* Small reads: the index only looks at headers. */
  t.buf = mesos__malloc(TIN_BUF);
  if (t.buf == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos__tar_index ix = {NULL, 0};
  size_t cap = 0;
  mesos_status st = MESOS_OK;
  for (;;) {
    tent e;
    memset(&e, 0, sizeof e);
    bool end;
    if ((st = next_entry(&t, &e, &end, err)) != MESOS_OK || end) break;
    char *clean = NULL;
    if ((st = mesos__tar_clean_path(e.name, &clean, err)) != MESOS_OK) {
      tent_clear(&e);
      break;
    }
    if (ix.n == max_members) {
      mesos__free(clean);
      tent_clear(&e);
      st = mesos__err(err, MESOS_ELIMIT, "archive has more than %zu members", max_members);
      break;
    }
    if (ix.n == cap) {
      size_t nc = cap ? cap * 2 : 32;
      mesos__tar_member *nm = mesos__realloc(ix.m, nc * sizeof *nm);
      if (nm == NULL) {
        mesos__free(clean);
        tent_clear(&e);
        st = mesos__err(err, MESOS_ENOMEM, "out of memory");
        break;
      }
      ix.m = nm;
      cap = nc;
    }
    mesos__tar_member *m = &ix.m[ix.n++];
    m->name = clean;
    m->linkname = e.linkname;
    e.linkname = NULL;
    m->type = e.type;
    m->offset = t.off;
    m->size = e.dlen;
    if (m->offset > f.size || m->size > f.size - m->offset) {
      tent_clear(&e);
      st = mesos__err(err, MESOS_EPROTO, "'%s': member extends past the end of the archive",
                      m->name);
      break;
    }
    st = tin_skip(&t, e.dlen, err);
    if (st == MESOS_OK) st = tin_skip_pad(&t, padding(e.dlen), err);
    tent_clear(&e);
    if (st != MESOS_OK) break;
  }
  mesos__free(t.buf);
  if (st != MESOS_OK) {
    mesos__tar_index_free(&ix);
    return st;
  }
  *out = ix;
  return MESOS_OK;
}
