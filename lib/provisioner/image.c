/* Local registry images: references, sources, layouts, configs. */
#include "provisioner/image.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"
#include "provisioner/pjson.h"

/* ------------------------------------------------------------ references */

void mesos__image_ref_clear(mesos__image_ref *r) {
  if (r == NULL) return;
  mesos__free(r->registry);
  mesos__free(r->repository);
  mesos__free(r->tag);
  mesos__free(r->digest);
  memset(r, 0, sizeof *r);
}

static bool is_hex64(const char *s) {
  if (strlen(s) != 64) return false;
  for (int i = 0; i < 64; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  return true;
}

static bool alnum_lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* Docker's grammar: components of lowercase alphanumerics joined by one
 * '.', one or two '_', or any number of '-'; every component starts and
 * ends with an alphanumeric (so no "." or ".." component can appear). */
static bool valid_component(const char *c, size_t n) {
  if (n == 0 || !alnum_lower(c[0]) || !alnum_lower(c[n - 1])) return false;
  for (size_t i = 0; i < n; i++) {
    char ch = c[i];
    if (alnum_lower(ch)) continue;
    if (ch == '.' || ch == '_' || ch == '-') {
      if (ch == '.' && (c[i + 1] == '.' || c[i + 1] == '_' || c[i + 1] == '-')) return false;
      continue;
    }
    return false;
  }
  return true;
}

static bool valid_host(const char *h, size_t n) {
  if (n == 0 || n > 255) return false;
  for (size_t i = 0; i < n; i++) {
    char c = h[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-' || c == ':'))
      return false;
  }
  if (h[0] == '.' || h[0] == '-' || h[0] == ':') return false;
  /* host[:port]: the port is decimal */
  const char *c = memchr(h, ':', n);
  if (c == NULL) return true;
  size_t pl = n - (size_t)(c - h) - 1;
  if (pl == 0 || pl > 5) return false;
  for (size_t i = 1; i <= pl; i++)
    if (c[i] < '0' || c[i] > '9') return false;
  return true;
}

mesos_status mesos__image_ref_parse(const char *s, mesos__image_ref *out, mesos_error **err) {
  memset(out, 0, sizeof *out);
  size_t n = strlen(s);
  if (n == 0 || n > 1024)
    return mesos__err(err, MESOS_EINVAL, "image reference must be 1 to 1024 characters");
  const char *name_end = s + n;
  const char *at = strchr(s, '@');
  mesos__image_ref r = {0};
  if (at != NULL) {
    const char *d = at + 1;
    if (strncmp(d, "sha256:", 7) != 0 || !is_hex64(d + 7))
      return mesos__err(err, MESOS_EINVAL, "'%s': digest must be sha256:<64 hex>", s);
    if ((r.digest = mesos__strdup(d)) == NULL) goto oom;
    name_end = at;
  }
  /* Registry: a first component with '.' or ':' or "localhost". */
  const char *slash = memchr(s, '/', (size_t)(name_end - s));
  const char *repo = s;
  if (slash != NULL) {
    size_t hl = (size_t)(slash - s);
    if (memchr(s, '.', hl) || memchr(s, ':', hl) || (hl == 9 && memcmp(s, "localhost", 9) == 0)) {
      if (!valid_host(s, hl)) {
        mesos__image_ref_clear(&r);
        return mesos__err(err, MESOS_EINVAL, "'%s': bad registry host", s);
      }
      if ((r.registry = mesos__strndup(s, hl)) == NULL) goto oom;
      repo = slash + 1;
    }
  }
  /* Tag: after the last ':' of the last component. */
  const char *last = repo;
  for (const char *p = repo; p < name_end; p++)
    if (*p == '/') last = p + 1;
  const char *colon = memchr(last, ':', (size_t)(name_end - last));
  const char *repo_end = name_end;
  if (colon != NULL) {
    size_t tl = (size_t)(name_end - colon - 1);
    if (tl == 0 || tl > 128) goto bad_tag;
    for (size_t i = 0; i < tl; i++) {
      char c = colon[1 + i];
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '.' || c == '-'))
        goto bad_tag;
    }
    if (colon[1] == '.' || colon[1] == '-') goto bad_tag;
    if ((r.tag = mesos__strndup(colon + 1, tl)) == NULL) goto oom;
    repo_end = colon;
  }
  for (const char *c = repo; c <= repo_end;) {
    const char *e = memchr(c, '/', (size_t)(repo_end - c));
    if (e == NULL) e = repo_end;
    if (!valid_component(c, (size_t)(e - c))) {
      mesos__image_ref_clear(&r);
      return mesos__err(err, MESOS_EINVAL,
                        "'%s': repository components are lowercase letters, digits and "
                        "single separators",
                        s);
    }
    c = e + 1;
  }
  if ((r.repository = mesos__strndup(repo, (size_t)(repo_end - repo))) == NULL) goto oom;
  *out = r;
  return MESOS_OK;
bad_tag:
  mesos__image_ref_clear(&r);
  return mesos__err(err, MESOS_EINVAL, "'%s': bad tag", s);
oom:
  mesos__image_ref_clear(&r);
  return mesos__err(err, MESOS_ENOMEM, "out of memory");
}

char *mesos__image_ref_str(const mesos__image_ref *r) {
  mesos__buf b = MESOS__BUF_INIT(4096);
  mesos_status st = MESOS_OK;
  if (r->registry) st = mesos__buf_printf(&b, "%s/", r->registry);
  if (st == MESOS_OK) st = mesos__buf_puts(&b, r->repository);
  if (st == MESOS_OK && r->digest) st = mesos__buf_printf(&b, "@%s", r->digest);
  else if (st == MESOS_OK && r->tag) st = mesos__buf_printf(&b, ":%s", r->tag);
  if (st != MESOS_OK) {
    mesos__buf_free(&b);
    return NULL;
  }
  return mesos__buf_detach(&b, NULL);
}

/* Strips what Docker adds to short names so "docker.io/library/busybox"
 * and "busybox" compare equal. */
static const char *short_repo(const char *r) {
  if (strncmp(r, "docker.io/", 10) == 0) r += 10;
  else if (strncmp(r, "index.docker.io/", 16) == 0) r += 16;
  if (strncmp(r, "library/", 8) == 0 && strchr(r + 8, '/') == NULL) r += 8;
  return r;
}

/* Does "repo:tag" (as in RepoTags / OCI ref names) name `ref`? */
static bool repotag_matches(const char *rt, const mesos__image_ref *ref) {
  const char *last = strrchr(rt, '/');
  const char *colon = strrchr(last ? last : rt, ':');
  const char *want_tag = ref->tag ? ref->tag : "latest";
  if (colon == NULL || strcmp(colon + 1, want_tag) != 0) return false;
  char *repo = mesos__strndup(rt, (size_t)(colon - rt));
  char *full = NULL;
  if (repo == NULL) return false;
  bool ok = false;
  if (ref->registry) {
    size_t fl = strlen(ref->registry) + 1 + strlen(ref->repository) + 1;
    full = mesos__malloc(fl);
    if (full) snprintf(full, fl, "%s/%s", ref->registry, ref->repository);
  }
  ok = strcmp(short_repo(repo), short_repo(ref->repository)) == 0 ||
       (full && strcmp(repo, full) == 0);
  mesos__free(repo);
  mesos__free(full);
  return ok;
}

/* ------------------------------------------------------------ sources */

/* An image is a directory (read with openat2 RESOLVE_BENEATH: symbolic
 * links inside it are followed only while they stay inside) or an
 * uncompressed tarball read in place through its member index. */
struct mesos__image_source {
  int dirfd;  /* directory source, else -1 */
  int tarfd;  /* tarball source, else -1 */
  mesos__tar_index ix;
};

static void src_free(mesos__image_source *s) {
  if (s == NULL) return;
  if (s->dirfd >= 0) close(s->dirfd);
  if (s->tarfd >= 0) close(s->tarfd);
  mesos__tar_index_free(&s->ix);
  mesos__free(s);
}

static mesos_status src_open(const char *path, mesos__image_source **out, mesos_error **err) {
  /* O_NONBLOCK: a FIFO (or a device) put in the registry would block a
   * plain open until a writer comes, holding a thread-pool thread and an
   * agent that wants to stop; it opens at once and is refused below.
   * (No effect on regular files and directories.) */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return mesos__err(err, MESOS_ENOTFOUND, "%s: not found", path);
    return mesos__err_errno(err, MESOS_EIO, errno, path);
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    close(fd);
    return mesos__err_errno(err, MESOS_EIO, errno, path);
  }
  mesos__image_source *s = MESOS__NEW(mesos__image_source);
  if (s == NULL) {
    close(fd);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  s->dirfd = s->tarfd = -1;
  if (S_ISDIR(sb.st_mode)) {
    s->dirfd = fd;
  } else if (S_ISREG(sb.st_mode)) {
    s->tarfd = fd;
    mesos_status st = mesos__tar_index_fd(fd, MESOS__IMAGE_MAX_MEMBERS, &s->ix, err);
    if (st != MESOS_OK) {
      src_free(s);
      return st;
    }
  } else {
    close(fd);
    mesos__free(s);
    return mesos__err(err, MESOS_EINVAL, "%s: not a file or directory", path);
  }
  *out = s;
  return MESOS_OK;
}

/* Resolves `target` (a symlink's text) relative to the directory of
 * `from`, both archive paths; refuses to leave the archive. */
static mesos_status resolve_link(const char *from, const char *target, char **out,
                                 mesos_error **err) {
  if (target[0] == '/')
    return mesos__err(err, MESOS_EINVAL, "'%s': link to an absolute path", from);
  size_t cap = strlen(from) + strlen(target) + 2;
  char *o = mesos__malloc(cap);
  if (o == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  const char *slash = strrchr(from, '/');
  size_t w = slash ? (size_t)(slash - from) : 0;
  memcpy(o, from, w);
  o[w] = '\0';
  const char *p = target;
  while (*p) {
    const char *c = p;
    while (*p && *p != '/') p++;
    size_t cl = (size_t)(p - c);
    if (*p == '/') p++;
    if (cl == 0 || (cl == 1 && c[0] == '.')) continue;
    if (cl == 2 && c[0] == '.' && c[1] == '.') {
      if (w == 0) {
        mesos__free(o);
        return mesos__err(err, MESOS_EINVAL, "'%s': link leaves the archive", from);
      }
      char *s = strrchr(o, '/');
      w = s ? (size_t)(s - o) : 0;
      o[w] = '\0';
      continue;
    }
    if (w > 0) o[w++] = '/';
    memcpy(o + w, c, cl);
    w += cl;
    o[w] = '\0';
  }
  *out = o;
  return MESOS_OK;
}

/* Opens member `name`: *fd (owned by the caller), *off, *len. */
static mesos_status src_member(mesos__image_source *s, const char *name, int *fd, uint64_t *off,
                               uint64_t *len, mesos_error **err) {
  if (s->dirfd >= 0) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK; /* as src_open: a FIFO must not block */
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    int f = (int)syscall(SYS_openat2, s->dirfd, name, &how, sizeof how);
    if (f < 0) {
      if (errno == ENOENT) return mesos__err(err, MESOS_ENOTFOUND, "image has no '%s'", name);
      if (errno == EXDEV || errno == ELOOP)
        return mesos__err(err, MESOS_EINVAL, "image file '%s' leads outside the image", name);
      return mesos__err_errno(err, MESOS_EIO, errno, name);
    }
    struct stat sb;
    if (fstat(f, &sb) != 0 || !S_ISREG(sb.st_mode)) {
      close(f);
      return mesos__err(err, MESOS_EINVAL, "image file '%s' is not a regular file", name);
    }
    *fd = f;
    *off = 0;
    *len = (uint64_t)sb.st_size;
    return MESOS_OK;
  }
  char *cur = mesos__strdup(name);
  if (cur == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  /* A few hops: skopeo links <id>/layer.tar to ../<sha>.tar. */
  for (int hop = 0; hop < 8; hop++) {
    const mesos__tar_member *m = NULL;
    for (size_t i = s->ix.n; i > 0 && m == NULL; i--)
      if (strcmp(s->ix.m[i - 1].name, cur) == 0) m = &s->ix.m[i - 1];
    if (m == NULL) {
      mesos_status st = mesos__err(err, MESOS_ENOTFOUND, "image has no '%s'", cur);
      mesos__free(cur);
      return st;
    }
    if (m->type == '0' || m->type == '7') {
      mesos__free(cur);
      *fd = dup(s->tarfd);
      if (*fd < 0) return mesos__err_errno(err, MESOS_EIO, errno, "dup");
      *off = m->offset;
      *len = m->size;
      return MESOS_OK;
    }
    char *next = NULL;
    mesos_status st;
    if (m->type == '2' && m->linkname != NULL) {
      st = resolve_link(cur, m->linkname, &next, err);
    } else if (m->type == '1' && m->linkname != NULL) {
      st = mesos__tar_clean_path(m->linkname, &next, err);
    } else {
      st = mesos__err(err, MESOS_EINVAL, "image member '%s' is not a file", cur);
    }
    mesos__free(cur);
    if (st != MESOS_OK) return st;
    cur = next;
  }
  mesos__free(cur);
  return mesos__err(err, MESOS_EINVAL, "image member '%s': too many links", name);
}

static mesos_status src_exists(mesos__image_source *s, const char *name) {
  int fd;
  uint64_t off, len;
  mesos_status st = src_member(s, name, &fd, &off, &len, NULL);
  if (st == MESOS_OK) close(fd);
  return st;
}

static mesos_status src_read(mesos__image_source *s, const char *name, char **out, size_t *outlen,
                             mesos_error **err) {
  int fd;
  uint64_t off, len;
  mesos_status st = src_member(s, name, &fd, &off, &len, err);
  if (st != MESOS_OK) return st;
  if (len > MESOS__IMAGE_MAX_DOC) {
    close(fd);
    return mesos__err(err, MESOS_ELIMIT, "image file '%s' of %llu bytes is over the %zu byte limit",
                      name, (unsigned long long)len, MESOS__IMAGE_MAX_DOC);
  }
  char *b = mesos__malloc((size_t)len + 1);
  if (b == NULL) {
    close(fd);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  size_t got = 0;
  while (got < len) {
    ssize_t n = pread(fd, b + got, (size_t)len - got, (off_t)(off + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      close(fd);
      mesos__free(b);
      return n == 0 ? mesos__err(err, MESOS_EPROTO, "image file '%s' is truncated", name)
                    : mesos__err_errno(err, MESOS_EIO, e, name);
    }
    got += (size_t)n;
  }
  close(fd);
  b[len] = '\0';
  *out = b;
  *outlen = (size_t)len;
  return MESOS_OK;
}

static mesos_status src_json(mesos__image_source *s, const char *name, mesos__pj **out,
                             char **raw, size_t *rawlen, mesos_error **err) {
  char *b;
  size_t n;
  mesos_status st = src_read(s, name, &b, &n, err);
  if (st != MESOS_OK) return st;
  st = mesos__pj_parse(b, n, out, err);
  if (st != MESOS_OK) {
    mesos_error *cause = err ? *err : NULL;
    if (err) *err = NULL;
    st = mesos__err_wrap(err, MESOS_EPROTO, cause, "image file '%s' is not valid JSON", name);
    mesos__free(b);
    return st;
  }
  if (raw != NULL) {
    *raw = b;
    *rawlen = n;
  } else {
    mesos__free(b);
  }
  return MESOS_OK;
}

/* ------------------------------------------------------------ config */

void mesos__image_config_clear(mesos__image_config *c) {
  if (c == NULL) return;
  char **lists[] = {c->entrypoint, c->cmd, c->env};
  for (int i = 0; i < 3; i++) {
    if (lists[i] == NULL) continue;
    for (char **p = lists[i]; *p; p++) mesos__free(*p);
    mesos__free(lists[i]);
  }
  mesos__free(c->working_dir);
  mesos__free(c->user);
  memset(c, 0, sizeof *c);
}

/* A JSON array of strings as a NULL-terminated list; a JSON null or an
 * absent key gives NULL; a single string gives a one-element list (old
 * Docker configs wrote Cmd that way). */
static mesos_status str_list(const mesos__pj *v, const char *what, char ***out, mesos_error **err) {
  *out = NULL;
  if (v == NULL || v->kind == MESOS__PJ_NULL) return MESOS_OK;
  size_t n = v->kind == MESOS__PJ_ARR ? v->n : 1;
  if (v->kind != MESOS__PJ_ARR && v->kind != MESOS__PJ_STR)
    return mesos__err(err, MESOS_EPROTO, "image config: %s is not a list of strings", what);
  char **l = mesos__calloc(n + 1, sizeof *l);
  if (l == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const char *s = mesos__pj_str(v->kind == MESOS__PJ_ARR ? v->items[i] : v);
    if (s == NULL || (l[i] = mesos__strdup(s)) == NULL) {
      for (size_t j = 0; j < i; j++) mesos__free(l[j]);
      mesos__free(l);
      return s == NULL ? mesos__err(err, MESOS_EPROTO, "image config: %s[%zu] is not a string",
                                    what, i)
                       : mesos__err(err, MESOS_ENOMEM, "out of memory");
    }
  }
  *out = l;
  return MESOS_OK;
}

static mesos_status opt_str(const mesos__pj *v, const char *what, char **out, mesos_error **err) {
  *out = NULL;
  if (v == NULL || v->kind == MESOS__PJ_NULL) return MESOS_OK;
  const char *s = mesos__pj_str(v);
  if (s == NULL) return mesos__err(err, MESOS_EPROTO, "image config: %s is not a string", what);
  if (s[0] == '\0') return MESOS_OK;
  if ((*out = mesos__strdup(s)) == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  return MESOS_OK;
}

static mesos_status config_from(const mesos__pj *root, mesos__image_config *out,
                                mesos_error **err) {
  mesos__image_config c;
  memset(&c, 0, sizeof c);
  if (root == NULL || root->kind != MESOS__PJ_OBJ)
    return mesos__err(err, MESOS_EPROTO, "image config is not a JSON object");
  const mesos__pj *cfg = mesos__pj_iget(root, "config");
  if (cfg == NULL || cfg->kind == MESOS__PJ_NULL) cfg = mesos__pj_iget(root, "container_config");
  mesos_status st = MESOS_OK;
  if (cfg != NULL && cfg->kind == MESOS__PJ_OBJ) {
    if ((st = str_list(mesos__pj_get(cfg, "Entrypoint"), "Entrypoint", &c.entrypoint, err)) ||
        (st = str_list(mesos__pj_get(cfg, "Cmd"), "Cmd", &c.cmd, err)) ||
        (st = str_list(mesos__pj_get(cfg, "Env"), "Env", &c.env, err)) ||
        (st = opt_str(mesos__pj_get(cfg, "WorkingDir"), "WorkingDir", &c.working_dir, err)) ||
        (st = opt_str(mesos__pj_get(cfg, "User"), "User", &c.user, err))) {
      mesos__image_config_clear(&c);
      return st;
    }
  } else if (cfg != NULL && cfg->kind != MESOS__PJ_NULL) {
    return mesos__err(err, MESOS_EPROTO, "image config: \"config\" is not an object");
  }
  if (c.env == NULL && (c.env = mesos__calloc(1, sizeof *c.env)) == NULL) {
    mesos__image_config_clear(&c);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  *out = c;
  return MESOS_OK;
}

mesos_status mesos__image_config_parse(const char *json, size_t len, mesos__image_config *out,
                                       mesos_error **err) {
  mesos__pj *root;
  mesos_status st = mesos__pj_parse(json, len, &root, err);
  if (st != MESOS_OK) return st;
  st = config_from(root, out, err);
  mesos__pj_free(root);
  return st;
}

/* ------------------------------------------------------------ layouts */

void mesos__image_free(mesos__image *img) {
  if (img == NULL) return;
  for (size_t i = 0; i < img->nlayers; i++) {
    mesos__free(img->layers[i].key);
    mesos__free(img->layers[i].digest);
    mesos__free(img->layers[i].member);
  }
  mesos__free(img->layers);
  mesos__image_config_clear(&img->config);
  src_free(img->src);
  mesos__free(img->name);
  mesos__free(img);
}

static mesos_status add_layer(mesos__image *img, const char *key, const char *digest,
                              mesos__layer_verify v, const char *member, mesos_error **err) {
  if (img->nlayers >= MESOS__IMAGE_MAX_LAYERS)
    return mesos__err(err, MESOS_ELIMIT, "image has more than %d layers", MESOS__IMAGE_MAX_LAYERS);
  mesos__image_layer *nl = mesos__realloc(img->layers, (img->nlayers + 1) * sizeof *nl);
  if (nl == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  img->layers = nl;
  mesos__image_layer *l = &nl[img->nlayers];
  memset(l, 0, sizeof *l);
  l->key = mesos__strdup(key);
  l->digest = digest ? mesos__strdup(digest) : NULL;
  l->member = mesos__strdup(member);
  l->verify = v;
  img->nlayers++;
  if (l->key == NULL || (digest && l->digest == NULL) || l->member == NULL)
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  return MESOS_OK;
}

/* "sha256:<hex>" -> hex, or NULL. */
static const char *sha256_hex(const char *d) {
  if (d == NULL || strncmp(d, "sha256:", 7) != 0 || !is_hex64(d + 7)) return NULL;
  return d + 7;
}

/* Reads an OCI blob named by a descriptor, checking size and digest. */
static mesos_status oci_blob(mesos__image *img, const mesos__pj *desc, const char *what,
                             mesos__pj **out, char **raw, size_t *rawlen, mesos_error **err) {
  const char *hex = sha256_hex(mesos__pj_str(mesos__pj_get(desc, "digest")));
  if (hex == NULL)
    return mesos__err(err, MESOS_EPROTO, "OCI %s descriptor has no sha256 digest", what);
  char path[80];
  snprintf(path, sizeof path, "blobs/sha256/%s", hex);
  char *b;
  size_t n;
  mesos_status st = src_read(img->src, path, &b, &n, err);
  if (st != MESOS_OK) return st;
  char got[65];
  mesos__sha256_hex(b, n, got);
  int64_t size;
  if (strcmp(got, hex) != 0) {
    st = mesos__err(err, MESOS_EPROTO, "OCI %s blob sha256:%s has digest sha256:%s", what, hex, got);
  } else if (mesos__pj_int(mesos__pj_get(desc, "size"), &size) && (uint64_t)size != n) {
    st = mesos__err(err, MESOS_EPROTO, "OCI %s blob sha256:%s is %zu bytes, descriptor says %lld",
                    what, hex, n, (long long)size);
  } else if ((st = mesos__pj_parse(b, n, out, err)) != MESOS_OK) {
    mesos_error *cause = err ? *err : NULL;
    if (err) *err = NULL;
    st = mesos__err_wrap(err, MESOS_EPROTO, cause, "OCI %s blob is not valid JSON", what);
  }
  if (st == MESOS_OK && raw != NULL) {
    *raw = b;
    *rawlen = n;
  } else {
    mesos__free(b);
  }
  return st;
}

static bool media_is_index(const char *mt) {
  return mt && (strcmp(mt, "application/vnd.oci.image.index.v1+json") == 0 ||
                strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

/* Picks the manifest descriptor for `ref` in an OCI index: the one whose
 * org.opencontainers.image.ref.name is the tag (or the full reference), or
 * the only one. */
static const mesos__pj *oci_pick(const mesos__pj *index, const mesos__image_ref *ref, bool top) {
  const mesos__pj *ms = mesos__pj_get(index, "manifests");
  if (ms == NULL || ms->kind != MESOS__PJ_ARR || ms->n == 0) return NULL;
  const char *tag = ref->tag ? ref->tag : "latest";
  bool named = false;
  for (size_t i = 0; i < ms->n; i++) {
    const mesos__pj *ann = mesos__pj_get(ms->items[i], "annotations");
    const char *rn = mesos__pj_str(mesos__pj_get(ann, "org.opencontainers.image.ref.name"));
    if (rn == NULL) continue;
    named = true;
    if (strcmp(rn, tag) == 0 || repotag_matches(rn, ref)) return ms->items[i];
  }
  if (ref->digest != NULL)
    for (size_t i = 0; i < ms->n; i++)
      if (strcmp(mesos__pj_str(mesos__pj_get(ms->items[i], "digest")) ?: "", ref->digest) == 0)
        return ms->items[i];
  if (!top) {
    /* Inside a nested index: the linux/amd64 entry, or the first. */
    for (size_t i = 0; i < ms->n; i++) {
      const mesos__pj *pl = mesos__pj_get(ms->items[i], "platform");
      const char *os = mesos__pj_str(mesos__pj_get(pl, "os"));
      const char *arch = mesos__pj_str(mesos__pj_get(pl, "architecture"));
      if (os && arch && strcmp(os, "linux") == 0 && strcmp(arch, "amd64") == 0) return ms->items[i];
    }
    return ms->items[0];
  }
  /* A single unnamed manifest is the image; a named one must match. */
  return ms->n == 1 && !named ? ms->items[0] : NULL;
}

static mesos_status load_oci(mesos__image *img, const mesos__image_ref *ref, mesos_error **err) {
  mesos__pj *index = NULL, *manifest = NULL, *cfg = NULL;
  mesos_status st = src_json(img->src, "index.json", &index, NULL, NULL, err);
  if (st != MESOS_OK) return st;
  const mesos__pj *desc = oci_pick(index, ref, true);
  mesos__pj *cur = index;
  index = NULL;
  /* Nested indexes (multi-platform images), a bounded number of levels. */
  for (int level = 0;; level++) {
    if (desc == NULL) {
      st = mesos__err(err, MESOS_ENOTFOUND, "OCI layout has no manifest for tag '%s'",
                      ref->tag ? ref->tag : "latest");
      goto out;
    }
    /* desc lives in cur, which the next blob replaces. */
    bool is_index = media_is_index(mesos__pj_str(mesos__pj_get(desc, "mediaType")));
    mesos__pj *next = NULL;
    if ((st = oci_blob(img, desc, is_index ? "index" : "manifest", &next, NULL, NULL, err)) !=
        MESOS_OK)
      goto out;
    mesos__pj_free(cur);
    cur = next;
    if (!is_index) break;
    if (level == 4) {
      st = mesos__err(err, MESOS_ELIMIT, "OCI indexes nested too deeply");
      goto out;
    }
    desc = oci_pick(cur, ref, false);
  }
  manifest = cur;
  cur = NULL;
  char *raw = NULL;
  size_t rawlen = 0;
  if ((st = oci_blob(img, mesos__pj_get(manifest, "config"), "config", &cfg, &raw, &rawlen, err)) !=
      MESOS_OK)
    goto out;
  mesos__free(raw);
  if ((st = config_from(cfg, &img->config, err)) != MESOS_OK) goto out;
  const mesos__pj *layers = mesos__pj_get(manifest, "layers");
  if (layers == NULL || layers->kind != MESOS__PJ_ARR) {
    st = mesos__err(err, MESOS_EPROTO, "OCI manifest has no layers list");
    goto out;
  }
  for (size_t i = 0; i < layers->n; i++) {
    const char *hex = sha256_hex(mesos__pj_str(mesos__pj_get(layers->items[i], "digest")));
    if (hex == NULL) {
      st = mesos__err(err, MESOS_EPROTO, "OCI layer %zu has no sha256 digest", i);
      goto out;
    }
    char member[80];
    snprintf(member, sizeof member, "blobs/sha256/%s", hex);
    if ((st = add_layer(img, hex, hex, MESOS__LAYER_VERIFY_RAW, member, err)) != MESOS_OK) goto out;
  }
out:
  mesos__pj_free(index);
  mesos__pj_free(cur);
  mesos__pj_free(manifest);
  mesos__pj_free(cfg);
  return st;
}

/* The 64-hex component of a docker-save config file name
 * ("<hex>.json" or "blobs/sha256/<hex>"), or NULL. */
static bool name_hex(const char *name, char hex[65]) {
  const char *b = strrchr(name, '/');
  b = b ? b + 1 : name;
  if (strlen(b) < 64) return false;
  memcpy(hex, b, 64);
  hex[64] = '\0';
  return is_hex64(hex) && (b[64] == '\0' || strcmp(b + 64, ".json") == 0);
}

static mesos_status load_docker(mesos__image *img, const mesos__image_ref *ref, mesos_error **err) {
  mesos__pj *man = NULL, *cfg = NULL;
  char *raw = NULL;
  size_t rawlen;
  mesos_status st = src_json(img->src, "manifest.json", &man, NULL, NULL, err);
  if (st != MESOS_OK) return st;
  const mesos__pj *entry = NULL;
  if (man->kind != MESOS__PJ_ARR || man->n == 0) {
    st = mesos__err(err, MESOS_EPROTO, "manifest.json is not a non-empty list");
    goto out;
  }
  for (size_t i = 0; i < man->n && entry == NULL; i++) {
    const mesos__pj *tags = mesos__pj_get(man->items[i], "RepoTags");
    for (size_t j = 0; tags && tags->kind == MESOS__PJ_ARR && j < tags->n; j++) {
      const char *t = mesos__pj_str(tags->items[j]);
      if (t && repotag_matches(t, ref)) entry = man->items[i];
    }
  }
  /* An untagged single image (docker save of an image id) is the image. */
  if (entry == NULL && man->n == 1) {
    const mesos__pj *tags = mesos__pj_get(man->items[0], "RepoTags");
    if (tags == NULL || tags->kind != MESOS__PJ_ARR || tags->n == 0) entry = man->items[0];
  }
  if (entry == NULL) {
    st = mesos__err(err, MESOS_ENOTFOUND, "manifest.json has no image tagged '%s'",
                    ref->tag ? ref->tag : "latest");
    goto out;
  }
  const char *cname = mesos__pj_str(mesos__pj_get(entry, "Config"));
  char want[65], got[65];
  if (cname == NULL || !name_hex(cname, want)) {
    st = mesos__err(err, MESOS_EPROTO, "manifest.json: Config must name a sha256 config blob");
    goto out;
  }
  if ((st = src_json(img->src, cname, &cfg, &raw, &rawlen, err)) != MESOS_OK) goto out;
  mesos__sha256_hex(raw, rawlen, got);
  if (strcmp(want, got) != 0) {
    st = mesos__err(err, MESOS_EPROTO, "image config '%s' has digest sha256:%s", cname, got);
    goto out;
  }
  if ((st = config_from(cfg, &img->config, err)) != MESOS_OK) goto out;
  const mesos__pj *layers = mesos__pj_get(entry, "Layers");
  const mesos__pj *diff = mesos__pj_get(mesos__pj_get(cfg, "rootfs"), "diff_ids");
  if (layers == NULL || layers->kind != MESOS__PJ_ARR || diff == NULL ||
      diff->kind != MESOS__PJ_ARR || diff->n != layers->n) {
    st = mesos__err(err, MESOS_EPROTO,
                    "manifest.json Layers and the config's rootfs.diff_ids do not match");
    goto out;
  }
  for (size_t i = 0; i < layers->n; i++) {
    const char *member = mesos__pj_str(layers->items[i]);
    const char *hex = sha256_hex(mesos__pj_str(diff->items[i]));
    if (member == NULL || hex == NULL) {
      st = mesos__err(err, MESOS_EPROTO, "manifest.json: layer %zu has no file or diff_id", i);
      goto out;
    }
    if ((st = add_layer(img, hex, hex, MESOS__LAYER_VERIFY_PLAIN, member, err)) != MESOS_OK)
      goto out;
  }
out:
  mesos__free(raw);
  mesos__pj_free(man);
  mesos__pj_free(cfg);
  return st;
}

static mesos_status load_legacy(mesos__image *img, const mesos__image_ref *ref, mesos_error **err) {
  mesos__pj *repos = NULL, *lj = NULL;
  char *raw = NULL;
  size_t rawlen;
  char *chain[MESOS__IMAGE_MAX_LAYERS];
  size_t nchain = 0;
  mesos_status st = src_json(img->src, "repositories", &repos, NULL, NULL, err);
  if (st != MESOS_OK) return st;
  const char *tag = ref->tag ? ref->tag : "latest";
  const mesos__pj *tags = NULL;
  /* Keys as written, then with the registry, then Docker's long forms. */
  for (size_t i = 0; repos->kind == MESOS__PJ_OBJ && i < repos->n && tags == NULL; i++) {
    const char *k = repos->keys[i];
    char *full = NULL;
    if (ref->registry) {
      size_t fl = strlen(ref->registry) + strlen(ref->repository) + 2;
      if ((full = mesos__malloc(fl)) != NULL)
        snprintf(full, fl, "%s/%s", ref->registry, ref->repository);
    }
    if (strcmp(k, ref->repository) == 0 || (full && strcmp(k, full) == 0) ||
        strcmp(short_repo(k), short_repo(ref->repository)) == 0)
      tags = repos->items[i];
    mesos__free(full);
  }
  const char *top = mesos__pj_str(mesos__pj_get(tags, tag));
  if (top == NULL) {
    st = mesos__err(err, MESOS_ENOTFOUND, "repositories has no '%s:%s'", ref->repository, tag);
    goto out;
  }
  const char *id = top;
  char idbuf[65];
  /* Follow `parent` from the top layer down; the chain is bounded by the
   * layer limit, which also ends a cycle. */
  for (;;) {
    if (!is_hex64(id)) {
      st = mesos__err(err, MESOS_EPROTO, "legacy layer id '%.80s' is not 64 hex characters", id);
      goto out;
    }
    if (nchain == MESOS__IMAGE_MAX_LAYERS) {
      st = mesos__err(err, MESOS_ELIMIT, "image has more than %d layers (or a parent cycle)",
                      MESOS__IMAGE_MAX_LAYERS);
      goto out;
    }
    memcpy(idbuf, id, 65);
    if ((chain[nchain] = mesos__strdup(idbuf)) == NULL) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      goto out;
    }
    nchain++;
    char path[80];
    snprintf(path, sizeof path, "%s/json", idbuf);
    mesos__pj_free(lj);
    lj = NULL;
    mesos__free(raw);
    raw = NULL;
    if ((st = src_json(img->src, path, &lj, &raw, &rawlen, err)) != MESOS_OK) goto out;
    if (nchain == 1 && (st = config_from(lj, &img->config, err)) != MESOS_OK) goto out;
    const mesos__pj *parent = mesos__pj_get(lj, "parent");
    if (parent == NULL || parent->kind == MESOS__PJ_NULL) break;
    id = mesos__pj_str(parent);
    if (id == NULL || id[0] == '\0') break;
  }
  for (size_t i = nchain; i > 0; i--) {
    char key[80], member[80];
    snprintf(key, sizeof key, "v1-%s", chain[i - 1]);
    snprintf(member, sizeof member, "%s/layer.tar", chain[i - 1]);
    if ((st = add_layer(img, key, NULL, MESOS__LAYER_VERIFY_NONE, member, err)) != MESOS_OK)
      goto out;
  }
out:
  for (size_t i = 0; i < nchain; i++) mesos__free(chain[i]);
  mesos__free(raw);
  mesos__pj_free(repos);
  mesos__pj_free(lj);
  return st;
}

mesos_status mesos__image_open_path(const char *path, const mesos__image_ref *ref,
                                    mesos__image **out, mesos_error **err) {
  mesos__image *img = MESOS__NEW(mesos__image);
  if (img == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos_status st = src_open(path, &img->src, err);
  if (st != MESOS_OK) {
    mesos__free(img);
    return st;
  }
  if ((img->name = mesos__image_ref_str(ref)) == NULL) {
    mesos__image_free(img);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  if (src_exists(img->src, "oci-layout") == MESOS_OK &&
      src_exists(img->src, "index.json") == MESOS_OK) {
    img->layout = MESOS__IMAGE_OCI;
    st = load_oci(img, ref, err);
  } else if (src_exists(img->src, "manifest.json") == MESOS_OK) {
    img->layout = MESOS__IMAGE_DOCKER;
    st = load_docker(img, ref, err);
  } else if (src_exists(img->src, "repositories") == MESOS_OK) {
    img->layout = MESOS__IMAGE_DOCKER_LEGACY;
    st = load_legacy(img, ref, err);
  } else {
    st = mesos__err(err, MESOS_EPROTO,
                    "%s: not an image (no oci-layout, manifest.json or repositories)", path);
  }
  if (st == MESOS_OK && img->nlayers == 0)
    st = mesos__err(err, MESOS_EPROTO, "%s: image has no layers", path);
  if (st != MESOS_OK) {
    mesos__image_free(img);
    return st;
  }
  *out = img;
  return MESOS_OK;
}

mesos_status mesos__image_open(const char *registry_dir, const char *refstr, mesos__image **out,
                               mesos_error **err) {
  mesos__image_ref ref;
  mesos_status st = mesos__image_ref_parse(refstr, &ref, err);
  if (st != MESOS_OK) return st;
  char *name = mesos__image_ref_str(&ref);
  mesos__image_ref bare = ref;
  bare.tag = NULL;
  bare.digest = NULL;
  char *barename = mesos__image_ref_str(&bare);
  if (name == NULL || barename == NULL) {
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto out;
  }
  const char *cands[4][2] = {
      {name, ".tar"}, {name, ""}, {barename, ".tar"}, {barename, ""}};
  int ncand = strcmp(name, barename) == 0 ? 2 : 4;
  st = MESOS_ENOTFOUND;
  for (int i = 0; i < ncand; i++) {
    size_t pl = strlen(registry_dir) + strlen(cands[i][0]) + 8;
    char *p = mesos__malloc(pl);
    if (p == NULL) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      goto out;
    }
    snprintf(p, pl, "%s/%s%s", registry_dir, cands[i][0], cands[i][1]);
    struct stat sb;
    if (stat(p, &sb) != 0) {
      mesos__free(p);
      continue;
    }
    st = mesos__image_open_path(p, &ref, out, err);
    mesos__free(p);
    goto out;
  }
  st = mesos__err(err, MESOS_ENOTFOUND, "image '%s' not found in %s (looked for %s.tar)", refstr,
                  registry_dir, name);
out:
  mesos__free(name);
  mesos__free(barename);
  mesos__image_ref_clear(&ref);
  return st;
}

mesos_status mesos__image_layer_open(mesos__image *img, size_t i, uint64_t max_out,
                                     mesos__zin **out, mesos_error **err) {
  int fd;
  uint64_t off, len;
  mesos_status st = src_member(img->src, img->layers[i].member, &fd, &off, &len, err);
  if (st != MESOS_OK) return st;
  /* zin reads with pread and keeps the fd borrowed: hand it a dup that
   * lives as long as the stream by closing ours after open fails only. */
  st = mesos__zin_open(fd, off, len, max_out, out, err);
  if (st != MESOS_OK) {
    close(fd);
    return st;
  }
  mesos__zin_set_owned_fd(*out);
  mesos__zin_hash(*out, img->layers[i].verify == MESOS__LAYER_VERIFY_RAW,
                  img->layers[i].verify == MESOS__LAYER_VERIFY_PLAIN);
  return MESOS_OK;
}

mesos_status mesos__image_layer_verify(const mesos__image *img, size_t i, mesos__zin *z,
                                       mesos_error **err) {
  const mesos__image_layer *l = &img->layers[i];
  char got[65];
  switch (l->verify) {
    case MESOS__LAYER_VERIFY_NONE:
      return MESOS_OK;
    case MESOS__LAYER_VERIFY_RAW:
      mesos__zin_raw_digest(z, got);
      break;
    case MESOS__LAYER_VERIFY_PLAIN:
      mesos__zin_plain_digest(z, got);
      break;
  }
  if (strcmp(got, l->digest) != 0)
    return mesos__err(err, MESOS_EPROTO, "layer '%s' has digest sha256:%s, the image says sha256:%s",
                      l->member, got, l->digest);
  return MESOS_OK;
}
