/*
 * cgroups v1 / v2 / hybrid.  See cgroups.h.
 *
 * Everything here is plain file I/O under the cgroup mounts; nothing blocks
 * for long except mesos__cg_destroy, which waits (bounded) for the kernel
 * to finish killing a container's processes before removing its
 * directories, because a cgroup with tasks cannot be removed and a cgroup
 * left behind is a leak that survives the agent.
 */
#include "containerizer/cgroups.h"
#include "containerizer/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"

/* /proc/self/mountinfo of a busy host is a few hundred KiB at most; a
 * cgroup control file we read (memory.stat, cgroup.procs of a container
 * held under pids.max) is far smaller.  Larger reads are cut, not grown. */
#define MOUNTINFO_MAX (4u << 20)
#define CTRL_FILE_MAX (256u << 10)

/* How long destroy waits for the processes of a container to die (they
 * were SIGKILLed; only a process stuck in uninterruptible sleep takes
 * longer). */
#define DESTROY_WAIT_MS 10000

static const char *const cg_names[MESOS__CG_COUNT] = {
  "cpu", "cpuacct", "memory", "pids", "devices", "freezer",
};

const char *mesos__cg_name(int c) {
  return (c >= 0 && c < MESOS__CG_COUNT) ? cg_names[c] : "?";
}

static int cg_index(const char *name, size_t len) {
  for (int i = 0; i < MESOS__CG_COUNT; i++)
    if (strlen(cg_names[i]) == len && memcmp(cg_names[i], name, len) == 0) return i;
  return -1;
}

/* ------------------------------------------------------------ file helpers */

/* Reads a whole (small) file into a NUL-terminated heap buffer. */
static char *read_file(const char *path, size_t max, size_t *len_out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = mesos__malloc(cap + 1);
  if (buf == NULL) {
    close(fd);
    return NULL;
  }
  for (;;) {
    if (len == cap) {
      if (cap >= max) break;
      size_t ncap = cap * 2 > max ? max : cap * 2;
      char *nb = mesos__realloc(buf, ncap + 1);
      if (nb == NULL) {
        mesos__free(buf);
        close(fd);
        return NULL;
      }
      buf = nb;
      cap = ncap;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      mesos__free(buf);
      close(fd);
      errno = e;
      return NULL;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = '\0';
  if (len_out) *len_out = len;
  return buf;
}

/* Writes `s` to a control file; errno-style result (0 or an errno). */
static int write_ctl(const char *path, const char *s) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  size_t n = strlen(s);
  ssize_t w;
  do {
    w = write(fd, s, n);
  } while (w < 0 && errno == EINTR);
  int e = (w < 0) ? errno : ((size_t)w == n ? 0 : EIO);
  close(fd);
  return e;
}

static mesos_status write_ctlf(const char *dir, const char *file, const char *value,
                               mesos_error **err) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
    return mesos__err(err, MESOS_ELIMIT, "cgroups: path too long: %s/%s", dir, file);
  int e = write_ctl(path, value);
  if (e != 0)
    return mesos__err(err, MESOS_EIO, "cgroups: writing '%s' to %s: %s", value, path,
                      strerror(e));
  return MESOS_OK;
}

/* Reads "<key> <number>" from a flat-keyed file; 0 when absent. */
static int keyed_u64(const char *text, const char *key, uint64_t *out) {
  size_t kl = strlen(key);
  const char *p = text;
  while (p && *p) {
    if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
      *out = strtoull(p + kl + 1, NULL, 10);
      return 1;
    }
    p = strchr(p, '\n');
    if (p) p++;
  }
  return 0;
}

static int read_u64_file(const char *dir, const char *file, uint64_t *out) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path) return 0;
  char *t = read_file(path, CTRL_FILE_MAX, NULL);
  if (t == NULL) return 0;
  int ok = 0;
  if (strncmp(t, "max", 3) == 0) {
    *out = UINT64_MAX;
    ok = 1;
  } else if (t[0] >= '0' && t[0] <= '9') {
    *out = strtoull(t, NULL, 10);
    ok = 1;
  }
  mesos__free(t);
  return ok;
}

static char *read_ctl(const char *dir, const char *file) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path) return NULL;
  return read_file(path, CTRL_FILE_MAX, NULL);
}

/* ------------------------------------------------------------ layout */

void mesos__cg_layout_free(mesos__cg_layout *l) {
  if (l == NULL) return;
  for (int i = 0; i < MESOS__CG_COUNT; i++) {
    mesos__free(l->v1_mount[i]);
    mesos__free(l->v1_self[i]);
  }
  mesos__free(l->v2_mount);
  mesos__free(l->v2_self);
  memset(l, 0, sizeof *l);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape_field(const char *s, size_t n) {
  char *out = mesos__malloc(n + 1);
  if (out == NULL) return NULL;
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
        s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out[j++] = (char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
      i += 3;
    } else {
      out[j++] = s[i];
    }
  }
  out[j] = '\0';
  return out;
}

/* Splits one line into at most `max` space-separated fields. */
static int split_fields(const char *line, size_t len, const char **f, size_t *fl, int max) {
  int n = 0;
  size_t i = 0;
  while (i < len && n < max) {
    while (i < len && line[i] == ' ') i++;
    if (i >= len) break;
    size_t start = i;
    while (i < len && line[i] != ' ') i++;
    f[n] = line + start;
    fl[n] = i - start;
    n++;
  }
  return n;
}

/* Our cgroup path relative to a mount whose root is `root`: a cgroup
 * namespace or a bind mount of a subtree shows only part of the tree. */
static char *relative_self(const char *self, const char *root) {
  if (strcmp(root, "/") == 0) return mesos__strdup(self);
  size_t rl = strlen(root);
  if (strncmp(self, root, rl) == 0 && (self[rl] == '/' || self[rl] == '\0'))
    return mesos__strdup(self[rl] ? self + rl : "/");
  return mesos__strdup(self);
}

mesos_status mesos__cg_layout_parse(mesos__cg_layout *out, const char *mountinfo,
                                    const char *proc_cgroup, const char *v2_controllers,
                                    mesos_error **err) {
  if (out == NULL || mountinfo == NULL || proc_cgroup == NULL)
    return mesos__err(err, MESOS_EINVAL, "cgroups: NULL argument");
  memset(out, 0, sizeof *out);

  /* Our own cgroup per controller, and in the v2 hierarchy. */
  char *self[MESOS__CG_COUNT] = {0};
  char *self_v2 = NULL;
  mesos_status st = MESOS_OK;
  for (const char *p = proc_cgroup; *p;) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    const char *c1 = memchr(p, ':', len);
    const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - p)) : NULL;
    if (len > 0 && (c1 == NULL || c2 == NULL)) {
      st = mesos__err(err, MESOS_EINVAL, "cgroups: malformed /proc/self/cgroup line '%.*s'",
                      (int)(len > 200 ? 200 : len), p);
      goto fail;
    }
    if (len > 0) {
      const char *ctl = c1 + 1;
      size_t ctl_len = (size_t)(c2 - ctl);
      const char *path = c2 + 1;
      size_t path_len = len - (size_t)(path - p);
      if (ctl_len == 0) {
        mesos__free(self_v2);
        self_v2 = mesos__strndup(path, path_len);
        if (self_v2 == NULL) goto oom;
      } else {
        const char *q = ctl;
        while (q < ctl + ctl_len) {
          const char *comma = memchr(q, ',', (size_t)(ctl + ctl_len - q));
          size_t nl = comma ? (size_t)(comma - q) : (size_t)(ctl + ctl_len - q);
          int idx = cg_index(q, nl);
          if (idx >= 0 && self[idx] == NULL) {
            self[idx] = mesos__strndup(path, path_len);
            if (self[idx] == NULL) goto oom;
          }
          q += nl + 1;
        }
      }
    }
    p = eol ? eol + 1 : p + len;
  }

  for (const char *p = mountinfo; *p;) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    const char *f[64];
    size_t fl[64];
    int nf = split_fields(p, len, f, fl, 64);
    int sep = -1;
    for (int i = 6; i < nf; i++)
      if (fl[i] == 1 && f[i][0] == '-') {
        sep = i;
        break;
      }
    if (nf > 0 && (sep < 0 || sep + 3 >= nf)) {
      st = mesos__err(err, MESOS_EINVAL, "cgroups: malformed mountinfo line '%.*s'",
                      (int)(len > 200 ? 200 : len), p);
      goto fail;
    }
    if (nf > 0) {
      const char *fstype = f[sep + 1];
      size_t fsl = fl[sep + 1];
      if (fsl == 7 && memcmp(fstype, "cgroup2", 7) == 0 && out->v2_mount == NULL) {
        char *root = unescape_field(f[3], fl[3]);
        out->v2_mount = unescape_field(f[4], fl[4]);
        out->v2_self = relative_self(self_v2 ? self_v2 : "/", root ? root : "/");
        mesos__free(root);
        if (out->v2_mount == NULL || out->v2_self == NULL) goto oom;
      } else if (fsl == 6 && memcmp(fstype, "cgroup", 6) == 0) {
        const char *opts = f[sep + 3];
        size_t ol = fl[sep + 3];
        const char *q = opts;
        while (q < opts + ol) {
          const char *comma = memchr(q, ',', (size_t)(opts + ol - q));
          size_t nl = comma ? (size_t)(comma - q) : (size_t)(opts + ol - q);
          int idx = cg_index(q, nl);
          if (idx >= 0 && out->v1_mount[idx] == NULL) {
            char *root = unescape_field(f[3], fl[3]);
            out->v1_mount[idx] = unescape_field(f[4], fl[4]);
            out->v1_self[idx] = relative_self(self[idx] ? self[idx] : "/", root ? root : "/");
            mesos__free(root);
            if (out->v1_mount[idx] == NULL || out->v1_self[idx] == NULL) goto oom;
            out->where[idx] = MESOS__CG_V1;
          }
          q += nl + 1;
        }
      }
    }
    p = eol ? eol + 1 : p + len;
  }

  /* v2 controllers: those listed for our cgroup and not taken by v1 (a
   * controller is bound to one hierarchy at a time).  cpuacct is part of
   * cpu in v2; freezer is the core cgroup.freeze/cgroup.kill there. */
  if (out->v2_mount && v2_controllers) {
    for (const char *q = v2_controllers; *q;) {
      while (*q == ' ' || *q == '\n') q++;
      const char *e = q;
      while (*e && *e != ' ' && *e != '\n') e++;
      int idx = cg_index(q, (size_t)(e - q));
      if (idx >= 0 && out->where[idx] == MESOS__CG_NONE) out->where[idx] = MESOS__CG_V2;
      q = e;
    }
    if (out->where[MESOS__CG_CPU] == MESOS__CG_V2 && out->where[MESOS__CG_CPUACCT] == 0)
      out->where[MESOS__CG_CPUACCT] = MESOS__CG_V2;
  }
  /* v2 has no devices controller to list: device access is a BPF program
   * attached to any v2 cgroup, checked besides (not instead of) a v1
   * devices cgroup.  So without a v1 devices hierarchy, v2 does it. */
  if (out->v2_mount && out->where[MESOS__CG_DEVICES] == MESOS__CG_NONE)
    out->where[MESOS__CG_DEVICES] = MESOS__CG_V2;
  int any_v1 = 0;
  for (int i = 0; i < MESOS__CG_COUNT; i++)
    if (out->where[i] == MESOS__CG_V1) any_v1 = 1;
  out->mode = any_v1 ? (out->v2_mount ? MESOS__CG_MODE_HYBRID : MESOS__CG_MODE_V1)
                     : (out->v2_mount ? MESOS__CG_MODE_V2 : MESOS__CG_MODE_NONE);
  for (int i = 0; i < MESOS__CG_COUNT; i++) mesos__free(self[i]);
  mesos__free(self_v2);
  return MESOS_OK;
oom:
  st = mesos__err(err, MESOS_ENOMEM, "out of memory");
fail:
  for (int i = 0; i < MESOS__CG_COUNT; i++) mesos__free(self[i]);
  mesos__free(self_v2);
  mesos__cg_layout_free(out);
  return st;
}

mesos_status mesos__cg_layout_detect(mesos__cg_layout *out, mesos_error **err) {
  char *mi = read_file("/proc/self/mountinfo", MOUNTINFO_MAX, NULL);
  if (mi == NULL) return mesos__err_errno(err, MESOS_EIO, errno, "reading /proc/self/mountinfo");
  char *pc = read_file("/proc/self/cgroup", CTRL_FILE_MAX, NULL);
  if (pc == NULL) {
    mesos__free(mi);
    return mesos__err_errno(err, MESOS_EIO, errno, "reading /proc/self/cgroup");
  }
  /* First pass without v2 controllers, to learn where our v2 cgroup is. */
  mesos_status st = mesos__cg_layout_parse(out, mi, pc, NULL, err);
  if (st == MESOS_OK && out->v2_mount) {
    char dir[4096];
    char *ctl = NULL;
    if (snprintf(dir, sizeof dir, "%s%s", out->v2_mount,
                 strcmp(out->v2_self, "/") == 0 ? "" : out->v2_self) < (int)sizeof dir)
      ctl = read_ctl(dir, "cgroup.controllers");
    char path[4200];
    snprintf(path, sizeof path, "%s/cgroup.kill", dir);
    int has_kill = access(path, F_OK) == 0;
    if (ctl) {
      mesos__cg_layout_free(out);
      st = mesos__cg_layout_parse(out, mi, pc, ctl, err);
      mesos__free(ctl);
    }
    out->v2_has_kill = has_kill;
  }
  mesos__free(mi);
  mesos__free(pc);
  return st;
}

/* ------------------------------------------------------------ containers */

void mesos__cg_free(mesos__cgroup *cg) {
  if (cg == NULL) return;
  for (int i = 0; i < MESOS__CG_COUNT; i++) mesos__free(cg->v1[i]);
  mesos__free(cg->v2);
  if (cg->oom_efd >= 0) close(cg->oom_efd);
  mesos__free(cg);
}

static char *join3(const char *mount, const char *self, const char *root, const char *id) {
  size_t n = strlen(mount) + strlen(self) + strlen(root) + (id ? strlen(id) : 0) + 4;
  char *s = mesos__malloc(n);
  if (s == NULL) return NULL;
  const char *sep_self = strcmp(self, "/") == 0 ? "" : self;
  if (id)
    snprintf(s, n, "%s%s/%s/%s", mount, sep_self, root, id);
  else
    snprintf(s, n, "%s%s/%s", mount, sep_self, root);
  return s;
}

/* mkdir; EEXIST is fine for shared parents and, with `existing`, the leaf. */
static mesos_status make_dir(const char *path, int allow_exist, mesos_error **err) {
  if (mkdir(path, 0755) == 0) return MESOS_OK;
  if (errno == EEXIST && allow_exist) return MESOS_OK;
  if (errno == EEXIST)
    return mesos__err(err, MESOS_EEXIST, "cgroups: %s already exists", path);
  return mesos__err(err, MESOS_EIO, "cgroups: mkdir %s: %s", path, strerror(errno));
}

/* The v1 hierarchy used to find every process of a container. */
static int tracking(const mesos__cg_layout *l) {
  if (l->where[MESOS__CG_FREEZER] == MESOS__CG_V1) return MESOS__CG_V1;
  if (l->v2_mount) return MESOS__CG_V2;
  return MESOS__CG_NONE;
}

/* Enables `controllers` in cgroup.subtree_control from our own v2 cgroup
 * down to the mesos root, so the container directory gets their files. */
static mesos_status v2_enable(const mesos__cg_layout *l, const char *root, uint32_t controllers,
                              mesos_error **err) {
  char *dirs[2];
  dirs[0] = join3(l->v2_mount, l->v2_self, "", NULL);
  dirs[1] = join3(l->v2_mount, l->v2_self, root, NULL);
  mesos_status st = MESOS_OK;
  if (dirs[0] == NULL || dirs[1] == NULL) {
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto out;
  }
  size_t l0 = strlen(dirs[0]);
  if (l0 > 1 && dirs[0][l0 - 1] == '/') dirs[0][l0 - 1] = '\0';
  for (int d = 0; d < 2 && st == MESOS_OK; d++) {
    char *have = read_ctl(dirs[d], "cgroup.subtree_control");
    for (int c = 0; c < MESOS__CG_COUNT && st == MESOS_OK; c++) {
      if (!(controllers & MESOS__CG_BIT(c)) || l->where[c] != MESOS__CG_V2) continue;
      if (c == MESOS__CG_CPUACCT || c == MESOS__CG_FREEZER || c == MESOS__CG_DEVICES) continue;
      if (have && strstr(have, cg_names[c])) continue;
      char v[32];
      snprintf(v, sizeof v, "+%s", cg_names[c]);
      char path[4200];
      snprintf(path, sizeof path, "%s/cgroup.subtree_control", dirs[d]);
      int e = write_ctl(path, v);
      if (e == EBUSY)
        st = mesos__err(err, MESOS_EBUSY,
                        "cgroups: cannot enable %s in %s: the cgroup has processes of its own "
                        "(cgroup v2 allows controllers only for cgroups without processes: run "
                        "the agent in a leaf cgroup and delegate its parent)",
                        cg_names[c], dirs[d]);
      else if (e != 0)
        st = mesos__err(err, MESOS_EIO, "cgroups: writing '%s' to %s: %s", v, path,
                        strerror(e));
    }
    mesos__free(have);
  }
out:
  mesos__free(dirs[0]);
  mesos__free(dirs[1]);
  return st;
}

mesos_status mesos__cg_create(const mesos__cg_layout *l, const char *root, const char *id,
                              uint32_t controllers, int existing, mesos__cgroup **out,
                              mesos_error **err) {
  *out = NULL;
  int track = tracking(l);
  if (track == MESOS__CG_V1) controllers |= MESOS__CG_BIT(MESOS__CG_FREEZER);
  for (int c = 0; c < MESOS__CG_COUNT; c++) {
    if (!(controllers & MESOS__CG_BIT(c))) continue;
    if (l->where[c] == MESOS__CG_NONE && !(c == MESOS__CG_FREEZER && track == MESOS__CG_V2))
      return mesos__err(err, MESOS_EUNSUPPORTED,
                        "cgroups: the '%s' controller is not available on this host",
                        cg_names[c]);
  }
  mesos__cgroup *cg = MESOS__NEW(mesos__cgroup);
  if (cg == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  cg->oom_efd = -1;
  cg->controllers = controllers;
  mesos_status st = MESOS_OK;
  int need_v2 = track == MESOS__CG_V2;
  /* The directories this call made: only those are undone on an error (a
   * container id already in use must not lose its cgroups to a failed
   * second create). */
  uint32_t made_v1 = 0;
  int made_v2 = 0;
  for (int c = 0; c < MESOS__CG_COUNT && st == MESOS_OK; c++) {
    if (!(controllers & MESOS__CG_BIT(c))) continue;
    if (l->where[c] == MESOS__CG_V2) {
      need_v2 = 1;
      continue;
    }
    if (l->where[c] != MESOS__CG_V1) continue;
    /* Controllers mounted together (cpu,cpuacct) share the directory. */
    for (int o = 0; o < c; o++)
      if (cg->v1[o] && strcmp(l->v1_mount[o], l->v1_mount[c]) == 0) {
        cg->v1[c] = mesos__strdup(cg->v1[o]);
        break;
      }
    if (cg->v1[c]) continue;
    char *parent = join3(l->v1_mount[c], l->v1_self[c], root, NULL);
    cg->v1[c] = join3(l->v1_mount[c], l->v1_self[c], root, id);
    if (parent == NULL || cg->v1[c] == NULL) {
      mesos__free(parent);
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      break;
    }
    if (existing) {
      /* Recovery takes what is there: a hierarchy whose directory is gone
       * (removed by hand, or an earlier partial cleanup) is skipped. */
      if (access(cg->v1[c], F_OK) != 0) {
        mesos__free(cg->v1[c]);
        cg->v1[c] = NULL;
      }
    } else {
      st = make_dir(parent, 1, err);
      if (st == MESOS_OK) st = make_dir(cg->v1[c], 0, err);
      if (st == MESOS_OK) made_v1 |= MESOS__CG_BIT(c);
    }
    mesos__free(parent);
  }
  if (st == MESOS_OK && need_v2) {
    cg->v2 = join3(l->v2_mount, l->v2_self, root, id);
    char *parent = join3(l->v2_mount, l->v2_self, root, NULL);
    if (cg->v2 == NULL || parent == NULL) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    } else if (existing) {
      if (access(cg->v2, F_OK) != 0) {
        mesos__free(cg->v2);
        cg->v2 = NULL;
      }
    } else {
      st = make_dir(parent, 1, err);
      if (st == MESOS_OK) st = v2_enable(l, root, controllers, err);
      if (st == MESOS_OK) st = make_dir(cg->v2, 0, err);
      if (st == MESOS_OK) made_v2 = 1;
    }
    mesos__free(parent);
  }
  if (st == MESOS_OK && existing) {
    int any = cg->v2 != NULL;
    for (int c = 0; c < MESOS__CG_COUNT; c++)
      if (cg->v1[c]) any = 1;
    if (!any) st = mesos__err(err, MESOS_ENOTFOUND, "cgroups: no cgroup of container %s", id);
  }
  if (st != MESOS_OK) {
    if (!existing) {
      /* Undo what this call made (directories are empty). */
      for (int c = 0; c < MESOS__CG_COUNT; c++)
        if (made_v1 & MESOS__CG_BIT(c)) rmdir(cg->v1[c]);
      if (made_v2) rmdir(cg->v2);
    }
    mesos__cg_free(cg);
    return st;
  }
  *out = cg;
  return MESOS_OK;
}

/* Each distinct directory once. */
static int unique_dirs(const mesos__cgroup *cg, const char **dirs) {
  int n = 0;
  for (int c = 0; c < MESOS__CG_COUNT; c++) {
    if (cg->v1[c] == NULL) continue;
    int dup = 0;
    for (int i = 0; i < n; i++)
      if (strcmp(dirs[i], cg->v1[c]) == 0) dup = 1;
    if (!dup) dirs[n++] = cg->v1[c];
  }
  if (cg->v2) dirs[n++] = cg->v2;
  return n;
}

mesos_status mesos__cg_attach(mesos__cgroup *cg, pid_t pid, mesos_error **err) {
  const char *dirs[MESOS__CG_COUNT + 1];
  int n = unique_dirs(cg, dirs);
  char v[32];
  snprintf(v, sizeof v, "%d", (int)pid);
  for (int i = 0; i < n; i++) {
    mesos_status st = write_ctlf(dirs[i], "cgroup.procs", v, err);
    if (st != MESOS_OK) return st;
  }
  return MESOS_OK;
}

static const char *dir_of(const mesos__cgroup *cg, int c) {
  return cg->v1[c] ? cg->v1[c] : ((cg->controllers & MESOS__CG_BIT(c)) ? cg->v2 : NULL);
}

mesos_status mesos__cg_set_cpu(mesos__cgroup *cg, double cpus, int cfs, mesos_error **err) {
  const char *d = dir_of(cg, MESOS__CG_CPU);
  if (d == NULL) return mesos__err(err, MESOS_EINVAL, "cgroups: no cpu cgroup");
  if (!(cpus > 0) || cpus > 1e6) return mesos__err(err, MESOS_EINVAL, "cgroups: bad cpus %g", cpus);
  uint64_t shares = (uint64_t)(cpus * 1024.0);
  if (shares < 2) shares = 2;
  uint64_t quota = (uint64_t)(cpus * 100000.0);
  if (quota < 1000) quota = 1000;
  char v[64];
  if (cg->v1[MESOS__CG_CPU]) {
    snprintf(v, sizeof v, "%" PRIu64, shares);
    mesos_status st = write_ctlf(d, "cpu.shares", v, err);
    if (st != MESOS_OK || !cfs) return st;
    st = write_ctlf(d, "cpu.cfs_period_us", "100000", err);
    snprintf(v, sizeof v, "%" PRIu64, quota);
    if (st == MESOS_OK) st = write_ctlf(d, "cpu.cfs_quota_us", v, err);
    return st;
  }
  /* v2 weight from shares: the [2, 262144] -> [1, 10000] mapping systemd
   * and the OCI runtimes use, so a host mixing them stays consistent. */
  if (shares > 262144) shares = 262144;
  uint64_t weight = 1 + ((shares - 2) * 9999) / 262142;
  snprintf(v, sizeof v, "%" PRIu64, weight);
  mesos_status st = write_ctlf(d, "cpu.weight", v, err);
  if (st != MESOS_OK) return st;
  if (cfs)
    snprintf(v, sizeof v, "%" PRIu64 " 100000", quota);
  else
    snprintf(v, sizeof v, "max 100000");
  return write_ctlf(d, "cpu.max", v, err);
}

mesos_status mesos__cg_set_mem(mesos__cgroup *cg, uint64_t bytes, int swap, mesos_error **err) {
  const char *d = dir_of(cg, MESOS__CG_MEMORY);
  if (d == NULL) return mesos__err(err, MESOS_EINVAL, "cgroups: no memory cgroup");
  char v[32];
  snprintf(v, sizeof v, "%" PRIu64, bytes);
  if (cg->v1[MESOS__CG_MEMORY]) {
    /* memsw must stay >= the plain limit at every step: when growing,
     * memsw goes first; when shrinking, the plain limit. */
    uint64_t cur = 0;
    int grow = read_u64_file(d, "memory.limit_in_bytes", &cur) && bytes > cur;
    mesos_status st = MESOS_OK;
    if (swap && grow) st = write_ctlf(d, "memory.memsw.limit_in_bytes", v, err);
    if (st == MESOS_OK) st = write_ctlf(d, "memory.limit_in_bytes", v, err);
    if (st == MESOS_OK) st = write_ctlf(d, "memory.soft_limit_in_bytes", v, err);
    if (st == MESOS_OK && swap && !grow) st = write_ctlf(d, "memory.memsw.limit_in_bytes", v, err);
    return st;
  }
  mesos_status st = write_ctlf(d, "memory.max", v, err);
  if (st == MESOS_OK) st = write_ctlf(d, "memory.high", "max", err);
  if (st == MESOS_OK && !swap) {
    /* Without --cgroups_limit_swap the container may not swap at all, as
     * v1 without memsw: no swap means the limit is a real limit. */
    char path[4200];
    snprintf(path, sizeof path, "%s/memory.swap.max", d);
    if (access(path, F_OK) == 0) st = write_ctlf(d, "memory.swap.max", "0", err);
  }
  return st;
}

mesos_status mesos__cg_set_mem_soft(mesos__cgroup *cg, uint64_t bytes, mesos_error **err) {
  const char *d = dir_of(cg, MESOS__CG_MEMORY);
  if (d == NULL) return mesos__err(err, MESOS_EINVAL, "cgroups: no memory cgroup");
  char v[32], path[4200];
  snprintf(v, sizeof v, "%" PRIu64, bytes);
  if (cg->v1[MESOS__CG_MEMORY]) return write_ctlf(d, "memory.soft_limit_in_bytes", v, err);
  snprintf(path, sizeof path, "%s/memory.low", d);
  return access(path, F_OK) == 0 ? write_ctlf(d, "memory.low", v, err) : MESOS_OK;
}

mesos_status mesos__cg_set_pids(mesos__cgroup *cg, uint64_t max, mesos_error **err) {
  const char *d = dir_of(cg, MESOS__CG_PIDS);
  if (d == NULL) return mesos__err(err, MESOS_EINVAL, "cgroups: no pids cgroup");
  char v[32];
  if (max == 0)
    snprintf(v, sizeof v, "max");
  else
    snprintf(v, sizeof v, "%" PRIu64, max);
  return write_ctlf(d, "pids.max", v, err);
}

/* Mesos's default whitelist (devices.h): v1 takes the rules as text; v2
 * gets them compiled into a device program. */
mesos_status mesos__cg_set_devices(mesos__cgroup *cg, mesos_error **err) {
  const char *d = cg->v1[MESOS__CG_DEVICES];
  if (d) {
    mesos_status st = write_ctlf(d, "devices.deny", "a", err);
    for (size_t i = 0; st == MESOS_OK && i < mesos__dev_default_nrules; i++)
      st = write_ctlf(d, "devices.allow", mesos__dev_default_rules[i], err);
    return st;
  }
  if (cg->v2 == NULL || !(cg->controllers & MESOS__CG_BIT(MESOS__CG_DEVICES)))
    return mesos__err(err, MESOS_EINVAL, "cgroups: no devices cgroup");
  mesos__dev_rule rules[MESOS__DEV_RULES_MAX];
  size_t n = 0;
  for (size_t i = 0; i < mesos__dev_default_nrules && n < MESOS__DEV_RULES_MAX; i++) {
    mesos_status st = mesos__dev_rule_parse(mesos__dev_default_rules[i], &rules[n++], err);
    if (st != MESOS_OK) return st;
  }
  return mesos__dev_bpf_attach(cg->v2, rules, n, err);
}

mesos_status mesos__cg_oom_fd(mesos__cgroup *cg, int *fd, mesos_error **err) {
  *fd = -1;
  if (cg->v1[MESOS__CG_MEMORY]) {
    if (cg->oom_efd < 0) {
      int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (efd < 0) return mesos__err_errno(err, MESOS_EIO, errno, "eventfd");
      char path[4200];
      snprintf(path, sizeof path, "%s/memory.oom_control", cg->v1[MESOS__CG_MEMORY]);
      int ofd = open(path, O_RDONLY | O_CLOEXEC);
      if (ofd < 0) {
        close(efd);
        return mesos__err(err, MESOS_EIO, "cgroups: open %s: %s", path, strerror(errno));
      }
      char v[64];
      snprintf(v, sizeof v, "%d %d", efd, ofd);
      mesos_status st = write_ctlf(cg->v1[MESOS__CG_MEMORY], "cgroup.event_control", v, err);
      close(ofd); /* the registration holds its own reference */
      if (st != MESOS_OK) {
        close(efd);
        return st;
      }
      cg->oom_efd = efd;
    }
    *fd = cg->oom_efd;
    return MESOS_OK;
  }
  if (cg->v2 && (cg->controllers & MESOS__CG_BIT(MESOS__CG_MEMORY))) {
    if (cg->oom_efd < 0) {
      char path[4200];
      snprintf(path, sizeof path, "%s/memory.events", cg->v2);
      int efd = open(path, O_RDONLY | O_CLOEXEC);
      if (efd < 0) return mesos__err(err, MESOS_EIO, "cgroups: open %s: %s", path, strerror(errno));
      cg->oom_efd = efd;
    }
    *fd = cg->oom_efd;
    return MESOS_OK;
  }
  return mesos__err(err, MESOS_EINVAL, "cgroups: no memory cgroup");
}

uint64_t mesos__cg_oom_kills(const mesos__cgroup *cg) {
  uint64_t n = 0;
  char *t = NULL;
  if (cg->v1[MESOS__CG_MEMORY])
    t = read_ctl(cg->v1[MESOS__CG_MEMORY], "memory.oom_control");
  else if (cg->v2 && (cg->controllers & MESOS__CG_BIT(MESOS__CG_MEMORY)))
    t = read_ctl(cg->v2, "memory.events");
  if (t) keyed_u64(t, "oom_kill", &n);
  mesos__free(t);
  return n;
}

static uint64_t count_lines(const char *t) {
  uint64_t n = 0;
  for (const char *p = t; *p; p++)
    if (*p == '\n') n++;
  return n;
}

mesos_status mesos__cg_usage(const mesos__cgroup *cg, mesos_container_usage *u,
                             mesos_error **err) {
  (void)err;
  long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0) hz = 100;
  uint64_t v = 0;
  if (cg->v1[MESOS__CG_CPUACCT]) {
    char *t = read_ctl(cg->v1[MESOS__CG_CPUACCT], "cpuacct.stat");
    if (t) {
      uint64_t us = 0, sy = 0;
      keyed_u64(t, "user", &us);
      keyed_u64(t, "system", &sy);
      u->cpus_user_time_secs = (double)us / (double)hz;
      u->cpus_system_time_secs = (double)sy / (double)hz;
      u->fields |= MESOS_USAGE_CPU_TIMES;
      mesos__free(t);
    }
  }
  if (cg->v1[MESOS__CG_CPU]) {
    char *t = read_ctl(cg->v1[MESOS__CG_CPU], "cpu.stat");
    if (t) {
      keyed_u64(t, "nr_periods", &u->cpus_nr_periods);
      keyed_u64(t, "nr_throttled", &u->cpus_nr_throttled);
      if (keyed_u64(t, "throttled_time", &v)) u->cpus_throttled_time_secs = (double)v / 1e9;
      u->fields |= MESOS_USAGE_CPU_THROTTLING;
      mesos__free(t);
    }
  } else if (cg->v2 && (cg->controllers & MESOS__CG_BIT(MESOS__CG_CPU))) {
    char *t = read_ctl(cg->v2, "cpu.stat");
    if (t) {
      if (keyed_u64(t, "user_usec", &v)) u->cpus_user_time_secs = (double)v / 1e6;
      if (keyed_u64(t, "system_usec", &v)) u->cpus_system_time_secs = (double)v / 1e6;
      keyed_u64(t, "nr_periods", &u->cpus_nr_periods);
      keyed_u64(t, "nr_throttled", &u->cpus_nr_throttled);
      if (keyed_u64(t, "throttled_usec", &v)) u->cpus_throttled_time_secs = (double)v / 1e6;
      u->fields |= MESOS_USAGE_CPU_TIMES | MESOS_USAGE_CPU_THROTTLING;
      mesos__free(t);
    }
  }
  if (cg->v1[MESOS__CG_MEMORY]) {
    const char *d = cg->v1[MESOS__CG_MEMORY];
    if (read_u64_file(d, "memory.usage_in_bytes", &u->mem_total_bytes)) u->fields |= MESOS_USAGE_MEM;
    char *t = read_ctl(d, "memory.stat");
    if (t) {
      if (!keyed_u64(t, "total_rss", &u->mem_rss_bytes)) keyed_u64(t, "rss", &u->mem_rss_bytes);
      if (!keyed_u64(t, "total_cache", &u->mem_cache_bytes)) keyed_u64(t, "cache", &u->mem_cache_bytes);
      if (!keyed_u64(t, "total_swap", &u->mem_swap_bytes)) keyed_u64(t, "swap", &u->mem_swap_bytes);
      u->fields |= MESOS_USAGE_MEM | MESOS_USAGE_MEM_DETAIL;
      mesos__free(t);
    }
    if (read_u64_file(d, "memory.limit_in_bytes", &u->mem_limit_bytes))
      u->fields |= MESOS_USAGE_MEM_LIMIT;
    u->mem_oom_events = mesos__cg_oom_kills(cg);
    u->fields |= MESOS_USAGE_MEM_OOM;
  } else if (cg->v2 && (cg->controllers & MESOS__CG_BIT(MESOS__CG_MEMORY))) {
    if (read_u64_file(cg->v2, "memory.current", &u->mem_total_bytes)) u->fields |= MESOS_USAGE_MEM;
    char *t = read_ctl(cg->v2, "memory.stat");
    if (t) {
      keyed_u64(t, "anon", &u->mem_rss_bytes);
      keyed_u64(t, "file", &u->mem_cache_bytes);
      u->fields |= MESOS_USAGE_MEM | MESOS_USAGE_MEM_DETAIL;
      mesos__free(t);
    }
    read_u64_file(cg->v2, "memory.swap.current", &u->mem_swap_bytes);
    if (read_u64_file(cg->v2, "memory.max", &u->mem_limit_bytes)) u->fields |= MESOS_USAGE_MEM_LIMIT;
    u->mem_oom_events = mesos__cg_oom_kills(cg);
    u->fields |= MESOS_USAGE_MEM_OOM;
  }
  const char *pd = dir_of(cg, MESOS__CG_PIDS);
  const char *td = cg->v1[MESOS__CG_FREEZER] ? cg->v1[MESOS__CG_FREEZER] : cg->v2;
  if (td) {
    char *t = read_ctl(td, "cgroup.procs");
    if (t) {
      u->processes = count_lines(t);
      u->fields |= MESOS_USAGE_PROCESSES;
      mesos__free(t);
    }
    if (pd && read_u64_file(pd, "pids.current", &v))
      u->threads = v;
    else
      u->threads = u->processes;
  }
  return MESOS_OK;
}

int mesos__cg_pids(const mesos__cgroup *cg, pid_t *pids, int max) {
  const char *td = cg->v1[MESOS__CG_FREEZER] ? cg->v1[MESOS__CG_FREEZER] : cg->v2;
  for (int c = 0; c < MESOS__CG_COUNT && td == NULL; c++) td = cg->v1[c];
  if (td == NULL) return -1;
  char path[4200];
  snprintf(path, sizeof path, "%s/cgroup.procs", td);
  /* A stack buffer, no allocation: destroy runs this, and cleanup must
   * work when memory is exhausted. */
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  char buf[4096];
  int n = 0;
  long cur = 0;
  int digits = 0;
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    for (ssize_t i = 0; i < r; i++) {
      if (buf[i] >= '0' && buf[i] <= '9') {
        if (cur < 100000000L) cur = cur * 10 + (buf[i] - '0');
        digits = 1;
      } else {
        if (digits && cur > 0 && n < max) pids[n++] = (pid_t)cur;
        cur = 0;
        digits = 0;
      }
    }
  }
  if (digits && cur > 0 && n < max) pids[n++] = (pid_t)cur;
  close(fd);
  return n;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Freezes a v1 freezer cgroup and waits (bounded) until it is FROZEN, so
 * nothing in it can fork while we kill. */
static int freeze(const char *fz) {
  char path[4200];
  snprintf(path, sizeof path, "%s/freezer.state", fz);
  if (write_ctl(path, "FROZEN") != 0) return 0;
  uint64_t deadline = now_ms() + 1000;
  while (now_ms() < deadline) {
    char *t = read_file(path, 64, NULL);
    int done = t && strncmp(t, "FROZEN", 6) == 0;
    mesos__free(t);
    if (done) return 1;
    sleep_ms(1);
  }
  return 1; /* partly frozen still helps; the kill loop converges anyway */
}

/* Kills what is in the tracking cgroup until it is empty.  v2 with
 * cgroup.kill and v1 with the freezer are race-free against forks; the
 * plain SIGKILL loop converges because every round kills what exists and a
 * killed process forks no more. */
static mesos_status kill_all(mesos__cgroup *cg, mesos_error **err) {
  pid_t pids[1024];
  int n = mesos__cg_pids(cg, pids, 1024);
  if (n == 0) return MESOS_OK;
  const char *fz = cg->v1[MESOS__CG_FREEZER];
  const char *where = fz ? fz : cg->v2;
  int killed_by_kernel = 0;
  if (cg->v2 && !fz) {
    char path[4200];
    snprintf(path, sizeof path, "%s/cgroup.kill", cg->v2);
    killed_by_kernel = write_ctl(path, "1") == 0;
  }
  int frozen = (!killed_by_kernel && fz) ? freeze(fz) : 0;
  uint64_t deadline = now_ms() + DESTROY_WAIT_MS;
  long nap = 1;
  for (;;) {
    if (!killed_by_kernel) {
      n = mesos__cg_pids(cg, pids, 1024);
      for (int i = 0; i < n; i++) kill(pids[i], SIGKILL);
      if (frozen) {
        /* SIGKILL takes effect on frozen tasks once they thaw. */
        char path[4200];
        snprintf(path, sizeof path, "%s/freezer.state", fz);
        write_ctl(path, "THAWED");
        frozen = 0;
      }
    }
    if (mesos__cg_pids(cg, pids, 1) == 0) return MESOS_OK;
    if (now_ms() > deadline)
      return mesos__err(err, MESOS_EBUSY, "cgroups: processes still alive in %s after %d ms",
                        where ? where : "?", DESTROY_WAIT_MS);
    sleep_ms(nap);
    if (nap < 16) nap *= 2;
  }
}

/* rmdir, retried briefly: the kernel may still be tearing down the last
 * exited task's css references. */
static int remove_dir(const char *d) {
  for (int i = 0; i < 200; i++) {
    if (rmdir(d) == 0 || errno == ENOENT) return 0;
    if (errno != EBUSY) return errno;
    sleep_ms(i < 10 ? 1 : 10);
  }
  return EBUSY;
}

mesos_status mesos__cg_destroy(mesos__cgroup *cg, mesos_error **err) {
  if (cg == NULL) return MESOS_OK;
  mesos_status st = kill_all(cg, err);
  if (st != MESOS_OK) return st;
  if (cg->oom_efd >= 0) {
    close(cg->oom_efd);
    cg->oom_efd = -1;
  }
  const char *dirs[MESOS__CG_COUNT + 1];
  int n = unique_dirs(cg, dirs);
  for (int i = 0; i < n; i++) {
    int e = remove_dir(dirs[i]);
    if (e != 0 && st == MESOS_OK)
      st = mesos__err(err, e == EBUSY ? MESOS_EBUSY : MESOS_EIO, "cgroups: rmdir %s: %s",
                      dirs[i], strerror(e));
  }
  return st;
}
