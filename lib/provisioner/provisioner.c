/* Layer store and rootfs backends: see provisioner.h. */
#include "provisioner/provisioner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <uv.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"
#include "base/uuid.h"
#include "loop/loop_int.h"
#include "provisioner/pjson.h"
#include "registry/fsutil.h"

typedef enum { BACKEND_OVERLAY, BACKEND_COPY } backend_kind;

/* A layer being extracted by some thread; others wanting it wait. */
typedef struct inflight {
  char *key;
  struct inflight *next;
} inflight;

/* An image as last read from the registry: what a launch with
 * Image.cached=true needs (layer keys and config) without reading the
 * registry again. */
typedef struct cached_image {
  char *name; /* the reference as the task wrote it */
  char **keys;
  size_t nkeys;
  mesos__image_config config;
  struct cached_image *next;
} cached_image;

/* Images remembered; beyond this the least recently read goes. */
#define CACHE_MAX_IMAGES 1024

struct mesos__provisioner {
  char *registry, *store, *root; /* root: <work_dir>/provisioner */
  cached_image *cache;           /* most recently read first; under mu */
  atomic_uint_fast64_t registry_reads;
  backend_kind backend;
  mesos__tar_opts limits;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  inflight *busy;
  atomic_uint_fast64_t extractions;
  unsigned pending; /* async provisions not yet reported (loop thread only) */
  bool closing;
  /* Set by mesos__provisioner_free while provisions run on the thread
   * pool: extraction and copying stop at their next entry (ECLOSED), so
   * an agent told to stop is not held by a huge layer (its loop waits for
   * the pool's work before it can close). */
  atomic_bool cancel;
};

/* Copying descends this deep at most (one fd pair per level). */
#define COPY_MAX_DEPTH 256
/* overlayfs takes its options in one page. */
#define OVERLAY_MAX_OPTS 4095

static const char *backend_name(backend_kind b) { return b == BACKEND_OVERLAY ? "overlay" : "copy"; }
static const char *layer_dir_name(backend_kind b) {
  return b == BACKEND_OVERLAY ? "rootfs.overlay" : "rootfs";
}

static char *path_join(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 2;
  char *p = mesos__malloc(n);
  if (p != NULL) snprintf(p, n, "%s/%s", a, b);
  return p;
}

static char *path_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *path_fmt(const char *fmt, ...) {
  mesos__buf b = MESOS__BUF_INIT(PATH_MAX);
  va_list ap;
  va_start(ap, fmt);
  mesos_status st = mesos__buf_vprintf(&b, fmt, ap);
  va_end(ap);
  if (st != MESOS_OK) {
    mesos__buf_free(&b);
    return NULL;
  }
  return mesos__buf_detach(&b, NULL);
}

static bool valid_id(const char *id) {
  size_t n = strlen(id);
  if (n == 0 || n > 128 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0) return false;
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || c == '.'))
      return false;
  }
  return true;
}

/* Removes `path` (a tree) without following links or crossing mounts. */
static mesos_status rm_path(const char *path, mesos_error **err) {
  char *dir = mesos__strdup(path);
  if (dir == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  char *slash = strrchr(dir, '/');
  mesos_status st;
  if (slash == NULL || slash[1] == '\0') {
    st = mesos__err(err, MESOS_EINVAL, "%s: not removable", path);
  } else {
    *slash = '\0';
    int fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      st = errno == ENOENT ? MESOS_OK : mesos__err_errno(err, MESOS_EIO, errno, dir);
    } else {
      st = mesos__rmtree_at(fd, slash + 1, err);
      close(fd);
    }
  }
  mesos__free(dir);
  return st;
}

/* ------------------------------------------------------------ setup */

void mesos__provision_info_free(mesos__provision_info *info) {
  if (info == NULL) return;
  mesos__free(info->rootfs);
  mesos__image_config_clear(&info->config);
  if (info->layers)
    for (char **l = info->layers; *l; l++) mesos__free(*l);
  mesos__free(info->layers);
  mesos__free(info);
}

static void cached_image_free(cached_image *c) {
  if (c == NULL) return;
  for (size_t i = 0; i < c->nkeys; i++) mesos__free(c->keys[i]);
  mesos__free(c->keys);
  mesos__image_config_clear(&c->config);
  mesos__free(c->name);
  mesos__free(c);
}

static void prov_release(mesos__provisioner *p) {
  while (p->cache) {
    cached_image *c = p->cache;
    p->cache = c->next;
    cached_image_free(c);
  }
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  mesos__free(p->registry);
  mesos__free(p->store);
  mesos__free(p->root);
  mesos__free(p);
}

static mesos_status clear_staging(mesos__provisioner *p, mesos_error **err) {
  char *staging = path_join(p->store, "staging");
  if (staging == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos_status st = rm_path(staging, err);
  if (st == MESOS_OK) st = mesos__fs_mkdirs(staging, 0700, err);
  mesos__free(staging);
  return st;
}

mesos_status mesos__provisioner_new(const mesos__provisioner_opts *o, mesos__provisioner **out,
                                    mesos_error **err) {
  if (o == NULL || o->registry_dir == NULL || o->work_dir == NULL)
    return mesos__err(err, MESOS_EINVAL, "provisioner: registry_dir and work_dir are required");
  backend_kind b;
  if (o->backend == NULL || strcmp(o->backend, "overlay") == 0) b = BACKEND_OVERLAY;
  else if (strcmp(o->backend, "copy") == 0) b = BACKEND_COPY;
  else
    return mesos__err(err, MESOS_EINVAL,
                      "--image_provisioner_backend=%s: supported backends are overlay and copy",
                      o->backend);
  const char *store = o->store_dir ? o->store_dir : "/tmp/mesos/store/docker";
  if (store[0] != '/' || o->work_dir[0] != '/')
    return mesos__err(err, MESOS_EINVAL, "provisioner: store and work dirs must be absolute");
  /* overlayfs separates its options with ',' and lower dirs with ':'. */
  if (b == BACKEND_OVERLAY && (strpbrk(store, ",:") || strpbrk(o->work_dir, ",:")))
    return mesos__err(err, MESOS_EINVAL,
                      "provisioner: the overlay backend needs store and work dirs without ',' or ':'");
  mesos__provisioner *p = MESOS__NEW(mesos__provisioner);
  if (p == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  p->backend = b;
  p->limits = o->limits;
  p->limits.whiteouts = b == BACKEND_OVERLAY ? MESOS__TAR_WHITEOUT_OVERLAY : MESOS__TAR_WHITEOUT_KEEP;
  p->limits.preserve_owner = geteuid() == 0;
  atomic_init(&p->cancel, false);
  p->limits.cancel = &p->cancel;
  p->registry = mesos__strdup(o->registry_dir);
  p->store = mesos__strdup(store);
  p->root = path_join(o->work_dir, "provisioner");
  mesos_status st;
  if (p->registry == NULL || p->store == NULL || p->root == NULL) {
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto fail;
  }
  char *layers = path_join(p->store, "layers"), *containers = path_join(p->root, "containers");
  if (layers == NULL || containers == NULL) {
    mesos__free(layers);
    mesos__free(containers);
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto fail;
  }
  st = mesos__fs_mkdirs(layers, 0700, err);
  if (st == MESOS_OK) st = mesos__fs_mkdirs(containers, 0700, err);
  mesos__free(layers);
  mesos__free(containers);
  if (st == MESOS_OK) st = clear_staging(p, err);
  if (st != MESOS_OK) goto fail;
  *out = p;
  return MESOS_OK;
fail:
  prov_release(p);
  return st;
}

void mesos__provisioner_free(mesos__provisioner *p) {
  if (p == NULL) return;
  if (p->pending > 0) {
    p->closing = true;
    atomic_store(&p->cancel, true); /* provisions end soon, with ECLOSED */
    return;
  }
  prov_release(p);
}

uint64_t mesos__provisioner_registry_reads(const mesos__provisioner *p) {
  return atomic_load(&((mesos__provisioner *)p)->registry_reads);
}

uint64_t mesos__provisioner_extractions(const mesos__provisioner *p) {
  return atomic_load(&((mesos__provisioner *)p)->extractions);
}

const char *mesos__provisioner_store_dir(const mesos__provisioner *p) { return p->store; }

/* ------------------------------------------------------------ layer store */

static bool busy_has(mesos__provisioner *p, const char *key) {
  for (inflight *f = p->busy; f; f = f->next)
    if (strcmp(f->key, key) == 0) return true;
  return false;
}

static mesos_status extract_layer(mesos__provisioner *p, mesos__image *img, size_t i,
                                  const char *final, mesos_error **err) {
  char uuid[MESOS__UUID_STR_LEN + 1];
  mesos_status st = mesos__uuid_random_str(uuid);
  if (st != MESOS_OK) return mesos__err(err, st, "no randomness for a staging name");
  char *stage = path_fmt("%s/staging/%s", p->store, uuid);
  char *tree = stage ? path_join(stage, "rootfs") : NULL;
  mesos__zin *z = NULL;
  int fd = -1;
  if (tree == NULL) {
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto out;
  }
  if ((st = mesos__fs_mkdirs(tree, 0755, err)) != MESOS_OK) goto out;
  fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    st = mesos__err_errno(err, MESOS_EIO, errno, tree);
    goto out;
  }
  /* The decompressed stream may exceed the file data by headers and
   * padding; a quarter more (plus 1 MiB) bounds it. */
  uint64_t total = p->limits.max_total_size ? p->limits.max_total_size : MESOS__TAR_MAX_TOTAL;
  uint64_t max_out = total + total / 4 + (1u << 20);
  if ((st = mesos__image_layer_open(img, i, max_out, &z, err)) != MESOS_OK) goto out;
  mesos__tar_stats stats;
  if ((st = mesos__tar_extract_zin(fd, z, &p->limits, &stats, err)) != MESOS_OK) {
    mesos_error *cause = err ? *err : NULL;
    if (err) *err = NULL;
    st = mesos__err_wrap(err, st, cause, "layer %s of image %s refused: %s", img->layers[i].key,
                         img->name, cause ? mesos_error_message(cause) : "");
    goto out;
  }
  if ((st = mesos__image_layer_verify(img, i, z, err)) != MESOS_OK) goto out;
  /* The layer root: an image's layer is readable by the container. */
  if (fchmod(fd, 0755) != 0) {
    st = mesos__err_errno(err, MESOS_EIO, errno, tree);
    goto out;
  }
  char *ldir = path_fmt("%s/layers/%s", p->store, img->layers[i].key);
  if (ldir == NULL) {
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto out;
  }
  st = mesos__fs_mkdirs(ldir, 0755, err);
  mesos__free(ldir);
  if (st != MESOS_OK) goto out;
  /* Atomic publish: the layer appears complete or not at all.  Another
   * process that published it first wins; ours is discarded. */
  if (rename(tree, final) != 0 && errno != EEXIST && errno != ENOTEMPTY) {
    st = mesos__err_errno(err, MESOS_EIO, errno, final);
    goto out;
  }
  LOG_INFO("provisioner: extracted layer %s of %s (%llu entries, %llu bytes)", img->layers[i].key,
           img->name, (unsigned long long)stats.entries, (unsigned long long)stats.bytes);
out:
  if (fd >= 0) close(fd);
  mesos__zin_free(z);
  if (stage != NULL) {
    mesos_error *e2 = NULL;
    if (rm_path(stage, &e2) != MESOS_OK) {
      LOG_WARN("provisioner: cannot remove %s: %s", stage, mesos_error_message(e2));
      mesos_error_free(e2);
    }
  }
  mesos__free(stage);
  mesos__free(tree);
  return st;
}

/* Makes layer i of img present in the store; *extracted when this call
 * did the extraction. */
static mesos_status ensure_layer(mesos__provisioner *p, mesos__image *img, size_t i,
                                 bool *extracted, mesos_error **err) {
  const char *key = img->layers[i].key;
  char *final = path_fmt("%s/layers/%s/%s", p->store, key, layer_dir_name(p->backend));
  if (final == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  inflight *me = MESOS__NEW(inflight);
  if (me == NULL || (me->key = mesos__strdup(key)) == NULL) {
    mesos__free(me);
    mesos__free(final);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  struct stat sb;
  pthread_mutex_lock(&p->mu);
  while (busy_has(p, key)) pthread_cond_wait(&p->cv, &p->mu);
  bool present = stat(final, &sb) == 0;
  if (!present) {
    me->next = p->busy;
    p->busy = me;
  }
  pthread_mutex_unlock(&p->mu);
  mesos_status st = MESOS_OK;
  *extracted = false;
  if (!present) {
    st = extract_layer(p, img, i, final, err);
    if (st == MESOS_OK) {
      *extracted = true;
      atomic_fetch_add(&p->extractions, 1);
    }
    pthread_mutex_lock(&p->mu);
    for (inflight **pp = &p->busy; *pp; pp = &(*pp)->next)
      if (*pp == me) {
        *pp = me->next;
        break;
      }
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
  }
  mesos__free(me->key);
  mesos__free(me);
  mesos__free(final);
  return st;
}

/* ------------------------------------------------------------ copy backend */

static mesos_status copy_meta(int fd, const struct stat *sb, const char *name, mesos_error **err) {
  if (geteuid() == 0 && fchown(fd, sb->st_uid, sb->st_gid) != 0)
    return mesos__err_errno(err, MESOS_EIO, errno, name);
  if (fchmod(fd, sb->st_mode & 07777) != 0) return mesos__err_errno(err, MESOS_EIO, errno, name);
  struct timespec ts[2] = {sb->st_atim, sb->st_mtim};
  if (futimens(fd, ts) != 0) return mesos__err_errno(err, MESOS_EIO, errno, name);
  return MESOS_OK;
}

/* Copies the extended attributes the extractor applies (file
 * capabilities, user.*) from one open file to another. */
static void copy_xattrs(int in, int out) {
  char names[4096], val[65536];
  ssize_t nl = flistxattr(in, names, sizeof names);
  for (ssize_t i = 0; nl > 0 && i < nl; i += (ssize_t)strlen(names + i) + 1) {
    const char *n = names + i;
    if (strcmp(n, "security.capability") != 0 && strncmp(n, "user.", 5) != 0) continue;
    ssize_t vl = fgetxattr(in, n, val, sizeof val);
    if (vl >= 0) fsetxattr(out, n, val, (size_t)vl, 0);
  }
}

static mesos_status copy_file(int sfd_dir, int dfd_dir, const char *name, const struct stat *sb,
                              mesos_error **err) {
  int in = openat(sfd_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) return mesos__err_errno(err, MESOS_EIO, errno, name);
  int out = openat(dfd_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0) {
    int e = errno;
    close(in);
    return mesos__err_errno(err, MESOS_EIO, e, name);
  }
  mesos_status st = MESOS_OK;
  off_t left = sb->st_size;
  while (left > 0) {
    ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
      char buf[65536];
      ssize_t r = read(in, buf, sizeof buf);
      if (r <= 0) {
        st = mesos__err(err, MESOS_EIO, "%s: short read while copying", name);
        break;
      }
      if (write(out, buf, (size_t)r) != r) {
        st = mesos__err_errno(err, MESOS_EIO, errno, name);
        break;
      }
      n = r;
    } else if (n <= 0) {
      st = n == 0 ? mesos__err(err, MESOS_EIO, "%s: file shrank while copying", name)
                  : mesos__err_errno(err, MESOS_EIO, errno, name);
      break;
    }
    left -= n;
  }
  if (st == MESOS_OK) st = copy_meta(out, sb, name, err);
  if (st == MESOS_OK) copy_xattrs(in, out); /* after the chown, which drops capabilities */
  close(in);
  close(out);
  return st;
}

static mesos_status clear_dir(int dfd, mesos_error **err) {
  int fd = dup(dfd);
  if (fd < 0) return mesos__err_errno(err, MESOS_EIO, errno, "dup");
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return mesos__err_errno(err, MESOS_EIO, errno, "opendir");
  }
  mesos_status st = MESOS_OK;
  struct dirent *de;
  while (st == MESOS_OK && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    st = mesos__rmtree_at(dfd, de->d_name, err);
  }
  closedir(d);
  return st;
}

/* Hard links inside one layer stay hard links in the copy: the first copy
 * of an inode is remembered by its path relative to the rootfs. */
typedef struct {
  dev_t dev;
  ino_t ino;
  char *rel;
} hlink;

typedef struct {
  int droot; /* the container rootfs */
  hlink *v;
  size_t n, cap;
  char path[PATH_MAX]; /* current directory, relative to the rootfs */
  size_t plen;
  const atomic_bool *cancel; /* the provisioner's (stops the copy) */
} copyctx;

static void copyctx_reset(copyctx *c) {
  for (size_t i = 0; i < c->n; i++) mesos__free(c->v[i].rel);
  mesos__free(c->v);
  c->v = NULL;
  c->n = c->cap = 0;
  c->plen = 0;
  c->path[0] = '\0';
}

/* Pushes `name` onto c->path; false when it would not fit. */
static bool path_push(copyctx *c, const char *name, size_t *saved) {
  size_t nl = strlen(name);
  *saved = c->plen;
  if (c->plen + nl + 2 > sizeof c->path) return false;
  if (c->plen > 0) c->path[c->plen++] = '/';
  memcpy(c->path + c->plen, name, nl + 1);
  c->plen += nl;
  return true;
}

static void path_pop(copyctx *c, size_t saved) {
  c->plen = saved;
  c->path[saved] = '\0';
}

/* Links `n` in dfd to an earlier copy of the same inode; true if done. */
static bool link_earlier(copyctx *c, int dfd, const char *n, const struct stat *sb) {
  for (size_t i = 0; i < c->n; i++)
    if (c->v[i].dev == sb->st_dev && c->v[i].ino == sb->st_ino)
      return linkat(c->droot, c->v[i].rel, dfd, n, 0) == 0;
  return false;
}

static void remember(copyctx *c, const char *n, const struct stat *sb) {
  size_t saved;
  if (!path_push(c, n, &saved)) return;
  if (c->n == c->cap) {
    size_t nc = c->cap ? c->cap * 2 : 16;
    hlink *nv = mesos__realloc(c->v, nc * sizeof *nv);
    if (nv == NULL) goto out; /* then it is copied: correct, just bigger */
    c->v = nv;
    c->cap = nc;
  }
  char *rel = mesos__strdup(c->path);
  if (rel != NULL) c->v[c->n++] = (hlink){sb->st_dev, sb->st_ino, rel};
out:
  path_pop(c, saved);
}

/* Copies the layer directory sfd onto dfd, applying AUFS whiteouts.  Never
 * follows a link in either tree; depth-limited. */
static mesos_status copy_tree(copyctx *c, int sfd, int dfd, int depth, mesos_error **err) {
  if (depth > COPY_MAX_DEPTH)
    return mesos__err(err, MESOS_ELIMIT, "layer deeper than %d directories", COPY_MAX_DEPTH);
  struct stat sb;
  mesos_status st = MESOS_OK;
  if (fstatat(sfd, ".wh..wh..opq", &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
      (st = clear_dir(dfd, err)) != MESOS_OK)
    return st;
  int fd = dup(sfd);
  if (fd < 0) return mesos__err_errno(err, MESOS_EIO, errno, "dup");
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return mesos__err_errno(err, MESOS_EIO, errno, "opendir");
  }
  /* Two passes: whiteouts (they only hide lower layers), then entries. */
  for (int pass = 0; pass < 2 && st == MESOS_OK; pass++) {
    rewinddir(d);
    struct dirent *de;
    while (st == MESOS_OK && (de = readdir(d)) != NULL) {
      const char *n = de->d_name;
      if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0) continue;
      if (c->cancel && atomic_load(c->cancel)) {
        st = mesos__err(err, MESOS_ECLOSED, "copy cancelled (shutting down)");
        break;
      }
      bool wh = strncmp(n, ".wh.", 4) == 0;
      if (pass == 0) {
        if (wh && strncmp(n, ".wh..wh.", 8) != 0 && n[4] != '\0')
          st = mesos__rmtree_at(dfd, n + 4, err);
        continue;
      }
      if (wh) continue;
      if (fstatat(sfd, n, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
        st = mesos__err_errno(err, MESOS_EIO, errno, n);
        break;
      }
      struct stat db;
      bool exists = fstatat(dfd, n, &db, AT_SYMLINK_NOFOLLOW) == 0;
      if (exists && !(S_ISDIR(sb.st_mode) && S_ISDIR(db.st_mode))) {
        if ((st = mesos__rmtree_at(dfd, n, err)) != MESOS_OK) break;
        exists = false;
      }
      if (S_ISDIR(sb.st_mode)) {
        if (!exists && mkdirat(dfd, n, 0700) != 0) {
          st = mesos__err_errno(err, MESOS_EIO, errno, n);
          break;
        }
        int s2 = openat(sfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int d2 = openat(dfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s2 < 0 || d2 < 0) {
          st = mesos__err_errno(err, MESOS_EIO, errno, n);
        } else {
          size_t saved;
          if (!path_push(c, n, &saved)) {
            st = mesos__err(err, MESOS_ELIMIT, "layer path longer than PATH_MAX");
          } else {
            st = copy_tree(c, s2, d2, depth + 1, err);
            path_pop(c, saved);
          }
          if (st == MESOS_OK) st = copy_meta(d2, &sb, n, err);
        }
        if (s2 >= 0) close(s2);
        if (d2 >= 0) close(d2);
      } else if (S_ISREG(sb.st_mode)) {
        if (sb.st_nlink > 1 && link_earlier(c, dfd, n, &sb)) continue;
        st = copy_file(sfd, dfd, n, &sb, err);
        if (st == MESOS_OK && sb.st_nlink > 1) remember(c, n, &sb);
      } else if (S_ISLNK(sb.st_mode)) {
        char target[PATH_MAX];
        ssize_t tl = readlinkat(sfd, n, target, sizeof target - 1);
        if (tl < 0) {
          st = mesos__err_errno(err, MESOS_EIO, errno, n);
          break;
        }
        target[tl] = '\0';
        if (symlinkat(target, dfd, n) != 0 ||
            (geteuid() == 0 && fchownat(dfd, n, sb.st_uid, sb.st_gid, AT_SYMLINK_NOFOLLOW) != 0)) {
          st = mesos__err_errno(err, MESOS_EIO, errno, n);
          break;
        }
        struct timespec ts[2] = {sb.st_atim, sb.st_mtim};
        utimensat(dfd, n, ts, AT_SYMLINK_NOFOLLOW);
      } else if (S_ISFIFO(sb.st_mode)) {
        if (mkfifoat(dfd, n, sb.st_mode & 07777) != 0) st = mesos__err_errno(err, MESOS_EIO, errno, n);
      }
      /* Anything else cannot come out of our extractor. */
    }
  }
  closedir(d);
  return st;
}

/* ------------------------------------------------------------ image index */

/* Images the index keeps; an agent uses a handful to hundreds. */
#define INDEX_MAX_IMAGES 10000

/* Names and keys written to the index: image references and layer keys
 * only ever hold these, so no JSON escaping is needed, and entries of a
 * damaged index that hold anything else are dropped. */
static bool index_safe(const char *s) {
  if (s == NULL || *s == '\0' || strlen(s) > 1024) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          strchr("._:/@-", *s)))
      return false;
  return true;
}

static mesos_status index_entry(mesos__buf *b, bool *first, const char *name,
                                const char *const *keys, size_t n) {
  mesos_status st = mesos__buf_printf(b, "%s\n  \"%s\": [", *first ? "" : ",", name);
  for (size_t i = 0; i < n && st == MESOS_OK; i++)
    st = mesos__buf_printf(b, "%s\"%s\"", i ? ", " : "", keys[i]);
  if (st == MESOS_OK) st = mesos__buf_puts(b, "]");
  *first = false;
  return st;
}

/* Records image `name` -> its layer keys in <store>/storedImages (JSON:
 * {"images": {"<reference>": ["<key>", ...]}}), written to a temporary
 * file and renamed so a crash leaves the old or the new index.  The store
 * is usable without it; it tells operators (and a future image GC) which
 * layers an image needs. */
static mesos_status record_image(mesos__provisioner *p, const char *name,
                                 char *const *keys, size_t n, mesos_error **err) {
  if (!index_safe(name)) return MESOS_OK;
  char *path = path_join(p->store, "storedImages");
  char *tmp = path_join(p->store, "storedImages.tmp");
  mesos__buf b = MESOS__BUF_INIT((size_t)64 << 20);
  mesos__pj *old = NULL;
  mesos_status st = MESOS_OK;
  if (path == NULL || tmp == NULL) {
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto out;
  }
  pthread_mutex_lock(&p->mu);
  FILE *f = fopen(path, "re");
  if (f != NULL) {
    mesos__buf in = MESOS__BUF_INIT(MESOS__PJ_MAX_INPUT);
    char chunk[8192];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0 && mesos__buf_append(&in, chunk, r) == MESOS_OK) {
    }
    fclose(f);
    if (mesos__pj_parse(in.data ? in.data : "", in.len, &old, NULL) != MESOS_OK) {
      LOG_WARN("provisioner: %s is damaged; rewriting it", path);
      old = NULL;
    }
    mesos__buf_free(&in);
  }
  bool first = true;
  size_t count = 0;
  st = mesos__buf_puts(&b, "{\"images\": {");
  const mesos__pj *imgs = mesos__pj_get(old, "images");
  for (size_t i = 0; imgs && imgs->kind == MESOS__PJ_OBJ && i < imgs->n && st == MESOS_OK; i++) {
    const mesos__pj *l = imgs->items[i];
    if (strcmp(imgs->keys[i], name) == 0 || !index_safe(imgs->keys[i]) ||
        l->kind != MESOS__PJ_ARR || l->n == 0 || count >= INDEX_MAX_IMAGES - 1)
      continue;
    const char *ks[MESOS__IMAGE_MAX_LAYERS];
    size_t nk = 0;
    bool ok = l->n <= MESOS__IMAGE_MAX_LAYERS;
    for (size_t k = 0; ok && k < l->n; k++) ok = index_safe(ks[nk++] = mesos__pj_str(l->items[k]));
    if (!ok) continue;
    st = index_entry(&b, &first, imgs->keys[i], ks, nk);
    count++;
  }
  if (st == MESOS_OK) st = index_entry(&b, &first, name, (const char *const *)keys, n);
  if (st == MESOS_OK) st = mesos__buf_puts(&b, "\n}}\n");
  if (st != MESOS_OK) {
    st = mesos__err(err, st, "image index too large");
  } else {
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      st = mesos__err_errno(err, MESOS_EIO, errno, tmp);
    } else {
      st = mesos__fs_write_all(fd, b.data, b.len, tmp, err);
      if (st == MESOS_OK && fsync(fd) != 0) st = mesos__err_errno(err, MESOS_EIO, errno, tmp);
      close(fd);
      if (st == MESOS_OK && rename(tmp, path) != 0) st = mesos__err_errno(err, MESOS_EIO, errno, path);
    }
  }
  pthread_mutex_unlock(&p->mu);
out:
  mesos__pj_free(old);
  mesos__buf_free(&b);
  mesos__free(path);
  mesos__free(tmp);
  return st;
}

/* ------------------------------------------------------------ provision */

static mesos_status build_rootfs(mesos__provisioner *p, mesos__image *img, const char *cid,
                                 char **rootfs_out, mesos_error **err) {
  char rid[MESOS__UUID_STR_LEN + 1];
  mesos_status st = mesos__uuid_random_str(rid);
  if (st != MESOS_OK) return mesos__err(err, st, "no randomness for a rootfs id");
  const char *bn = backend_name(p->backend);
  char *rootfs = path_fmt("%s/containers/%s/backends/%s/rootfses/%s", p->root, cid, bn, rid);
  char *scratch = path_fmt("%s/containers/%s/backends/%s/scratch/%s", p->root, cid, bn, rid);
  char *upper = scratch ? path_join(scratch, "upperdir") : NULL;
  char *work = scratch ? path_join(scratch, "workdir") : NULL;
  mesos__buf opts = MESOS__BUF_INIT(OVERLAY_MAX_OPTS);
  if (rootfs == NULL || upper == NULL || work == NULL) {
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto out;
  }
  if ((st = mesos__fs_mkdirs(rootfs, 0755, err)) != MESOS_OK) goto out;
  if (p->backend == BACKEND_OVERLAY) {
    if ((st = mesos__fs_mkdirs(upper, 0755, err)) != MESOS_OK ||
        (st = mesos__fs_mkdirs(work, 0755, err)) != MESOS_OK)
      goto out;
    st = mesos__buf_puts(&opts, "lowerdir=");
    for (size_t i = img->nlayers; i > 0 && st == MESOS_OK; i--)
      st = mesos__buf_printf(&opts, "%s%s/layers/%s/rootfs.overlay", i == img->nlayers ? "" : ":",
                             p->store, img->layers[i - 1].key);
    if (st == MESOS_OK) st = mesos__buf_printf(&opts, ",upperdir=%s,workdir=%s", upper, work);
    if (st != MESOS_OK) {
      st = mesos__err(err, MESOS_ELIMIT,
                      "overlay options for %zu layers exceed a page; use shorter store paths",
                      img->nlayers);
      goto out;
    }
    if (mount("overlay", rootfs, "overlay", 0, opts.data) != 0) {
      st = mesos__err_errno(err, errno == EPERM ? MESOS_EPERM : MESOS_EIO, errno,
                            "mounting the overlay root filesystem");
      goto out;
    }
  } else {
    int dfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
      st = mesos__err_errno(err, MESOS_EIO, errno, rootfs);
      goto out;
    }
    copyctx *cc = MESOS__NEW(copyctx);
    if (cc == NULL) st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    for (size_t i = 0; i < img->nlayers && st == MESOS_OK; i++) {
      char *l = path_fmt("%s/layers/%s/rootfs", p->store, img->layers[i].key);
      int sfd = l ? open(l, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
      copyctx_reset(cc);
      cc->droot = dfd;
      cc->cancel = &p->cancel;
      if (sfd < 0) st = mesos__err(err, MESOS_EIO, "cannot open layer %s", img->layers[i].key);
      else st = copy_tree(cc, sfd, dfd, 0, err);
      if (sfd >= 0) close(sfd);
      mesos__free(l);
    }
    if (cc != NULL) copyctx_reset(cc);
    mesos__free(cc);
    close(dfd);
    if (st != MESOS_OK) goto out;
  }
  *rootfs_out = rootfs;
  rootfs = NULL;
out:
  mesos__buf_free(&opts);
  mesos__free(rootfs);
  mesos__free(scratch);
  mesos__free(upper);
  mesos__free(work);
  return st;
}

/* NULL-terminated list copy; NULL stays NULL. */
static char **strv_dup(char *const *v, bool *oom) {
  if (v == NULL) return NULL;
  size_t n = 0;
  while (v[n]) n++;
  char **c = mesos__calloc(n + 1, sizeof *c);
  if (c == NULL) {
    *oom = true;
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    if ((c[i] = mesos__strdup(v[i])) == NULL) *oom = true;
  return c;
}

static mesos_status config_dup(const mesos__image_config *from, mesos__image_config *to) {
  bool oom = false;
  memset(to, 0, sizeof *to);
  to->entrypoint = strv_dup(from->entrypoint, &oom);
  to->cmd = strv_dup(from->cmd, &oom);
  to->env = strv_dup(from->env, &oom);
  if (from->working_dir && (to->working_dir = mesos__strdup(from->working_dir)) == NULL) oom = true;
  if (from->user && (to->user = mesos__strdup(from->user)) == NULL) oom = true;
  if (oom) mesos__image_config_clear(to);
  return oom ? MESOS_ENOMEM : MESOS_OK;
}

/* Remembers what `img` (read for the reference `name`) needs; best
 * effort: without memory the next launch reads the registry again. */
static void cache_put(mesos__provisioner *p, const char *name, const mesos__image *img) {
  cached_image *c = MESOS__NEW(cached_image);
  if (c == NULL) return;
  c->name = mesos__strdup(name);
  c->keys = mesos__calloc(img->nlayers + 1, sizeof *c->keys);
  bool ok = c->name && c->keys && config_dup(&img->config, &c->config) == MESOS_OK;
  for (size_t i = 0; ok && i < img->nlayers; i++, c->nkeys++)
    ok = (c->keys[i] = mesos__strdup(img->layers[i].key)) != NULL;
  if (!ok) {
    cached_image_free(c);
    return;
  }
  pthread_mutex_lock(&p->mu);
  size_t n = 0;
  for (cached_image **pp = &p->cache; *pp;) {
    cached_image *x = *pp;
    if (strcmp(x->name, name) == 0 || ++n >= CACHE_MAX_IMAGES) {
      *pp = x->next;
      cached_image_free(x);
      continue;
    }
    pp = &x->next;
  }
  c->next = p->cache;
  p->cache = c;
  pthread_mutex_unlock(&p->mu);
}

/* Image.cached=true: the layer keys and config remembered for `name`, as
 * a registry-less image, when every layer is still in the store; NULL
 * otherwise (then the registry is read). */
static mesos__image *cache_get(mesos__provisioner *p, const char *name) {
  mesos__image *img = NULL;
  pthread_mutex_lock(&p->mu);
  cached_image *c = p->cache;
  while (c && strcmp(c->name, name) != 0) c = c->next;
  if (c != NULL && (img = MESOS__NEW(mesos__image)) != NULL) {
    bool ok = (img->name = mesos__strdup(name)) != NULL &&
              (img->layers = mesos__calloc(c->nkeys ? c->nkeys : 1, sizeof *img->layers)) != NULL &&
              config_dup(&c->config, &img->config) == MESOS_OK;
    for (size_t i = 0; ok && i < c->nkeys; i++, img->nlayers++)
      ok = (img->layers[i].key = mesos__strdup(c->keys[i])) != NULL;
    if (!ok) {
      mesos__image_free(img);
      img = NULL;
    }
  }
  pthread_mutex_unlock(&p->mu);
  for (size_t i = 0; img && i < img->nlayers; i++) {
    char *d = path_fmt("%s/layers/%s/%s", p->store, img->layers[i].key, layer_dir_name(p->backend));
    struct stat sb;
    bool there = d && stat(d, &sb) == 0;
    mesos__free(d);
    if (!there) {
      mesos__image_free(img);
      img = NULL;
    }
  }
  return img;
}

mesos_status mesos__provisioner_provision_sync(mesos__provisioner *p, const char *cid,
                                               const char *image, bool cached,
                                               mesos__provision_info **out, mesos_error **err) {
  if (cid == NULL || !valid_id(cid))
    return mesos__err(err, MESOS_EINVAL, "container id '%s' is not valid for a path",
                      cid ? cid : "(null)");
  if (image == NULL) return mesos__err(err, MESOS_EINVAL, "no image given");
  mesos__image *img = cached ? cache_get(p, image) : NULL;
  bool from_cache = img != NULL;
  mesos_status st = MESOS_OK;
  if (!from_cache) {
    atomic_fetch_add(&p->registry_reads, 1);
    st = mesos__image_open(p->registry, image, &img, err);
    if (st != MESOS_OK) return st;
  }
  mesos__provision_info *info = MESOS__NEW(mesos__provision_info);
  if (info == NULL || (info->layers = mesos__calloc(img->nlayers + 1, sizeof(char *))) == NULL) {
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < img->nlayers && st == MESOS_OK; i++) {
    bool ex = false;
    if (atomic_load(&p->cancel)) {
      st = mesos__err(err, MESOS_ECLOSED, "provisioning cancelled (shutting down)");
      break;
    }
    /* A remembered image has no registry source: its layers were found
     * in the store (cache_get), and nothing removes store layers. */
    if (!from_cache) st = ensure_layer(p, img, i, &ex, err);
    if (ex) info->extracted++;
    if (st == MESOS_OK && (info->layers[i] = mesos__strdup(img->layers[i].key)) == NULL)
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  if (st != MESOS_OK) goto out;
  if ((st = build_rootfs(p, img, cid, &info->rootfs, err)) != MESOS_OK) {
    mesos_error *e2 = NULL;
    if (mesos__provisioner_destroy(p, cid, &e2) != MESOS_OK) {
      LOG_WARN("provisioner: cleaning up %s: %s", cid, mesos_error_message(e2));
      mesos_error_free(e2);
    }
    goto out;
  }
  if (!from_cache) {
    cache_put(p, image, img);
    mesos_error *e2 = NULL;
    if (record_image(p, img->name, info->layers, img->nlayers, &e2) != MESOS_OK) {
      LOG_WARN("provisioner: image index not updated: %s", mesos_error_message(e2));
      mesos_error_free(e2);
    }
  }
  info->config = img->config;
  memset(&img->config, 0, sizeof img->config);
  *out = info;
  info = NULL;
out:
  mesos__provision_info_free(info);
  mesos__image_free(img);
  return st;
}

/* ------------------------------------------------------------ destroy */

/* Decodes the octal escapes of /proc/self/mountinfo in place. */
static void unescape(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
        r[3] <= '7') {
      *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
      r += 3;
    } else {
      *w++ = *r;
    }
  }
  *w = '\0';
}

/* Unmounts every mount at or below `dir`, deepest first. */
static mesos_status unmount_below(const char *dir, mesos_error **err) {
  size_t dl = strlen(dir);
  for (int round = 0; round < 64; round++) {
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f == NULL) return mesos__err_errno(err, MESOS_EIO, errno, "/proc/self/mountinfo");
    char line[8192], best[PATH_MAX] = "";
    while (fgets(line, sizeof line, f) != NULL) {
      /* id parent major:minor root mountpoint ... */
      char *save = NULL, *tok = strtok_r(line, " ", &save);
      for (int i = 0; i < 4 && tok; i++) tok = strtok_r(NULL, " ", &save);
      if (tok == NULL) continue;
      unescape(tok);
      if (strncmp(tok, dir, dl) == 0 && (tok[dl] == '\0' || tok[dl] == '/') &&
          strlen(tok) > strlen(best) && strlen(tok) < sizeof best)
        snprintf(best, sizeof best, "%s", tok);
    }
    fclose(f);
    if (best[0] == '\0') return MESOS_OK;
    if (umount2(best, UMOUNT_NOFOLLOW) != 0 && umount2(best, MNT_DETACH | UMOUNT_NOFOLLOW) != 0)
      return mesos__err_errno(err, MESOS_EIO, errno, best);
  }
  return mesos__err(err, MESOS_EBUSY, "%s: mounts keep reappearing", dir);
}

mesos_status mesos__provisioner_destroy(mesos__provisioner *p, const char *cid, mesos_error **err) {
  if (cid == NULL || !valid_id(cid))
    return mesos__err(err, MESOS_EINVAL, "container id '%s' is not valid for a path",
                      cid ? cid : "(null)");
  char *dir = path_fmt("%s/containers/%s", p->root, cid);
  if (dir == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos_status st = unmount_below(dir, err);
  if (st == MESOS_OK) st = rm_path(dir, err);
  mesos__free(dir);
  return st;
}

mesos_status mesos__provisioner_recover(mesos__provisioner *p, const char *const *known,
                                        size_t nknown, mesos_error **err) {
  char *dir = path_join(p->root, "containers");
  if (dir == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  DIR *d = opendir(dir);
  mesos__free(dir);
  if (d == NULL) return mesos__err_errno(err, MESOS_EIO, errno, "provisioner containers dir");
  mesos_status st = MESOS_OK;
  struct dirent *de;
  while (st == MESOS_OK && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    bool keep = false;
    for (size_t i = 0; i < nknown && !keep; i++) keep = strcmp(known[i], de->d_name) == 0;
    if (keep) continue;
    if (!valid_id(de->d_name)) continue;
    LOG_INFO("provisioner: removing orphan root filesystems of container %s", de->d_name);
    st = mesos__provisioner_destroy(p, de->d_name, err);
  }
  closedir(d);
  /* Staging holds only what a crash left, unless a provision of this
   * provisioner is extracting right now: then leave it alone. */
  pthread_mutex_lock(&p->mu);
  bool idle = p->busy == NULL;
  pthread_mutex_unlock(&p->mu);
  if (st == MESOS_OK && idle) st = clear_staging(p, err);
  return st;
}

/* ------------------------------------------------------------ async */

typedef struct {
  uv_work_t w;
  mesos__provisioner *p;
  char *cid, *image; /* image NULL: a destroy */
  bool cached;
  mesos__provision_cb cb;
  mesos__provision_destroy_cb dcb;
  void *ud;
  mesos_status st;
  mesos__provision_info *info;
  mesos_error *err;
} pjob;

static void pjob_work(uv_work_t *w) {
  pjob *j = (pjob *)w;
  if (j->image == NULL) j->st = mesos__provisioner_destroy(j->p, j->cid, &j->err);
  else j->st = mesos__provisioner_provision_sync(j->p, j->cid, j->image, j->cached, &j->info, &j->err);
}

static void pjob_done(uv_work_t *w, int status) {
  pjob *j = (pjob *)w;
  mesos__provisioner *p = j->p;
  p->pending--;
  if (p->closing) {
    mesos__provision_info_free(j->info);
    j->info = NULL;
    mesos_error_free(j->err);
    j->err = NULL;
    j->st = mesos__err(&j->err, MESOS_ECLOSED, "provisioner freed");
  } else if (status != 0 && j->st == MESOS_OK) {
    j->st = mesos__uv_err(&j->err, status, "provision");
  }
  if (j->dcb != NULL) j->dcb(j->st, j->err, j->ud);
  else j->cb(j->st, j->info, j->err, j->ud);
  if (p->closing && p->pending == 0) prov_release(p);
  mesos__free(j->cid);
  mesos__free(j->image);
  mesos__free(j);
}

mesos_status mesos__provisioner_provision(mesos__provisioner *p, mesos_loop *loop,
                                          const char *cid, const char *image, bool cached,
                                          mesos__provision_cb cb, void *ud, mesos_error **err) {
  if (p == NULL || loop == NULL || cb == NULL || cid == NULL || image == NULL)
    return mesos__err(err, MESOS_EINVAL, "provision: provisioner, loop, ids and callback required");
  if (!valid_id(cid))
    return mesos__err(err, MESOS_EINVAL, "container id '%s' is not valid for a path", cid);
  pjob *j = MESOS__NEW(pjob);
  if (j == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  j->p = p;
  j->cb = cb;
  j->ud = ud;
  j->cached = cached;
  j->cid = mesos__strdup(cid);
  j->image = mesos__strdup(image);
  if (j->cid == NULL || j->image == NULL) {
    mesos__free(j->cid);
    mesos__free(j->image);
    mesos__free(j);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  int r = uv_queue_work(mesos__loop_uv(loop), &j->w, pjob_work, pjob_done);
  if (r != 0) {
    mesos__free(j->cid);
    mesos__free(j->image);
    mesos__free(j);
    return mesos__uv_err(err, r, "uv_queue_work");
  }
  p->pending++;
  return MESOS_OK;
}

mesos_status mesos__provisioner_destroy_async(mesos__provisioner *p, mesos_loop *loop,
                                              const char *cid, mesos__provision_destroy_cb cb,
                                              void *ud, mesos_error **err) {
  if (p == NULL || loop == NULL || cb == NULL || cid == NULL)
    return mesos__err(err, MESOS_EINVAL, "destroy: provisioner, loop, id and callback required");
  if (!valid_id(cid))
    return mesos__err(err, MESOS_EINVAL, "container id '%s' is not valid for a path", cid);
  pjob *j = MESOS__NEW(pjob);
  if (j == NULL || (j->cid = mesos__strdup(cid)) == NULL) {
    mesos__free(j);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  j->p = p;
  j->dcb = cb;
  j->ud = ud;
  int r = uv_queue_work(mesos__loop_uv(loop), &j->w, pjob_work, pjob_done);
  if (r != 0) {
    mesos__free(j->cid);
    mesos__free(j);
    return mesos__uv_err(err, r, "uv_queue_work");
  }
  p->pending++;
  return MESOS_OK;
}
