/*
 * Linux launcher.  See launcher.h for the process model.
 *
 * The parent turns the spec into a flat list of steps (mount, mkdir,
 * mknod, symlink) with absolute host paths, plus argv/envp/ids, and
 * serializes it (init_plan.h).  It then clones with CLONE_VM|CLONE_VFORK
 * into the new namespaces: the child shares our memory (no page tables
 * are copied, however big the agent is) and only moves its descriptors
 * into place and execs the init helper, while we are suspended.  The
 * helper reads the plan from the sync socket and walks it.  Any failure
 * there is written as text ("<step> <path>: <errno text>") to an error
 * pipe whose write end is close-on-exec in the task: the parent reads it
 * to EOF, so an empty read means the task exec'ed.
 */
#include "containerizer/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <sys/mman.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"
#include "containerizer/init_plan.h"

/* Groups a user may have; more is refused rather than silently cut. */
#define MAX_GROUPS 256
/* Steps of the mount plan: fixed ones plus two per volume. */
#define MAX_VOLUMES 64

enum {
  STEP_MOUNT = INIT_STEP_MOUNT,
  STEP_MKDIR = INIT_STEP_MKDIR,
  STEP_MKNOD = INIT_STEP_MKNOD,
  STEP_SYMLINK = INIT_STEP_SYMLINK
};

typedef struct step {
  int kind;
  const char *src;     /* mount source / symlink target */
  const char *dst;     /* host path (before pivot) */
  const char *fstype;
  unsigned long flags;
  const char *data;
  mode_t mode;
  dev_t dev;
  int remount_ro;      /* after a bind: remount read-only */
} step;

struct mesos__launch {
  pid_t pid;
  int sync_fd;  /* parent end, -1 once released */
  int err_fd;   /* read end */
  char msg[1024];
  size_t len;
};

/* Everything the child touches, prepared by the parent. */
typedef struct plan {
  const mesos__launch_spec *spec;
  step steps[32 + 2 * MAX_VOLUMES];
  int nsteps;
  char *strings[16 + 2 * MAX_VOLUMES]; /* owned paths, freed after the clone */
  int nstrings;
  char *exe;           /* resolved argv[0] inside the container */
  const char *rootfs;  /* realpath'ed */
  const char *sandbox_in_rootfs; /* where the sandbox is mounted, resolved */
  const char *cwd;
  int switch_user;
  uid_t uid;
  gid_t gid;
  gid_t groups[MAX_GROUPS];
  int ngroups;
} plan;

/* ------------------------------------------------------------ parent side */

static char *own(plan *p, char *s) {
  if (s == NULL) return NULL;
  if (p->nstrings >= (int)(sizeof p->strings / sizeof *p->strings)) {
    mesos__free(s);
    return NULL;
  }
  p->strings[p->nstrings++] = s;
  return s;
}

static char *path2(plan *p, const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 2;
  char *s = mesos__malloc(n);
  if (s == NULL) return NULL;
  snprintf(s, n, "%s%s%s", a, (b[0] == '/' || a[strlen(a) - 1] == '/') ? "" : "/", b);
  return own(p, s);
}

static step *add_step(plan *p, int kind) {
  if (p->nsteps >= (int)(sizeof p->steps / sizeof *p->steps)) return NULL;
  step *s = &p->steps[p->nsteps++];
  memset(s, 0, sizeof *s);
  s->kind = kind;
  return s;
}

/* mkdir -p on the host, in the parent (inside the rootfs for mount points).
 * The mount points exist after a container's first launch, so one mkdir
 * of the whole path answers most calls; the walk is for the first. */
static int mkdirs(const char *path) {
  if (mkdir(path, 0755) == 0 || errno == EEXIST) return 0;
  if (errno != ENOENT) return errno;
  char buf[PATH_MAX];
  size_t n = strlen(path);
  if (n >= sizeof buf) return ENAMETOOLONG;
  memcpy(buf, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] == '/' || buf[i] == '\0') {
      char c = buf[i];
      buf[i] = '\0';
      if (mkdir(buf, 0755) != 0 && errno != EEXIST) return errno;
      buf[i] = c;
    }
  }
  return 0;
}

/* Opens `rel` below `rootfd` as the container will see it: a symbolic
 * link in the tree resolves inside that root (openat2 RESOLVE_IN_ROOT),
 * never to the host's files.  Kernels without openat2 walk one component
 * at a time and refuse symbolic links (ELOOP). */
static int open_in_root(int rootfd, const char *rel, int flags) {
  struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC),
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  int fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
  if (fd >= 0 || errno != ENOSYS) return fd;
  int cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  for (const char *q = rel; cur >= 0 && *q;) {
    while (*q == '/') q++;
    size_t n = strcspn(q, "/");
    if (n == 0) break;
    char comp[NAME_MAX + 1];
    if (n > NAME_MAX) {
      close(cur);
      errno = ENAMETOOLONG;
      return -1;
    }
    memcpy(comp, q, n);
    comp[n] = '\0';
    q += n;
    while (*q == '/') q++;
    int f = *q ? O_PATH | O_DIRECTORY : flags;
    int next = openat(cur, comp, f | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    close(cur);
    errno = e;
    cur = next;
  }
  return cur;
}

/* mkdir -p of `rel` inside the tree `root` (an image's root filesystem, or
 * a sandbox a task may have left symbolic links in), resolved as the
 * container resolves it: a link such as /data -> /etc in an image makes
 * the directory /etc/... of the image, not of the host.  With `file` the
 * last component is an empty file (the mount point of a file).  *real is
 * the host path of the result (below root, owned by the plan). */
static mesos_status mkdirs_in(plan *p, const char *root, const char *rel, int file, char **real,
                              mesos_error **err) {
  *real = NULL;
  char buf[PATH_MAX];
  while (*rel == '/') rel++;
  size_t n = strlen(rel);
  while (n > 0 && rel[n - 1] == '/') n--;
  if (n >= sizeof buf) return mesos__err(err, MESOS_EINVAL, "launcher: path too long: %s", rel);
  memcpy(buf, rel, n);
  buf[n] = '\0';
  int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return mesos__err(err, MESOS_EIO, "launcher: open %s: %s", root, strerror(errno));
  int dirfd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int fd = dirfd, e = dirfd < 0 ? errno : 0;
  for (size_t i = 1; e == 0 && i <= n; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    if (buf[i - 1] == '/') continue;
    size_t start = i;
    while (start > 0 && buf[start - 1] != '/') start--;
    char c = buf[i];
    buf[i] = '\0';
    int last = i == n, want = last && file ? O_PATH : O_PATH | O_DIRECTORY;
    fd = open_in_root(rootfd, buf, want);
    if (fd < 0 && errno == ENOENT) {
      /* Made in the resolved parent, then resolved again from the root. */
      int made;
      if (last && file) {
        int f = openat(dirfd, buf + start, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        made = f >= 0 || errno != EEXIST;
        if (f >= 0) close(f);
      } else {
        made = mkdirat(dirfd, buf + start, 0755) == 0 || errno != EEXIST;
      }
      fd = open_in_root(rootfd, buf, want);
      if (fd < 0 && errno == ENOENT && !made) {
        buf[i] = c;
        close(dirfd);
        close(rootfd);
        return mesos__err(err, MESOS_EINVAL,
                          "launcher: %s in %s: a symbolic link on the way leads nowhere", rel, root);
      }
    }
    if (fd < 0) e = errno;
    if (fd >= 0 && last && file) {
      struct stat sb;
      if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) e = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
    }
    buf[i] = c;
    close(dirfd);
    dirfd = fd;
  }
  char rootpath[PATH_MAX], got[PATH_MAX], link[64];
  ssize_t rl = -1, gl = -1;
  if (e == 0) {
    snprintf(link, sizeof link, "/proc/self/fd/%d", rootfd);
    rl = readlink(link, rootpath, sizeof rootpath - 1);
    snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
    gl = readlink(link, got, sizeof got - 1);
    if (rl < 0 || gl < 0) e = errno;
  }
  if (dirfd >= 0) close(dirfd);
  close(rootfd);
  if (e != 0)
    return mesos__err(err, MESOS_EIO, "launcher: %s %s in %s: %s", file ? "create" : "mkdir", rel,
                      root, strerror(e));
  rootpath[rl] = '\0';
  got[gl] = '\0';
  /* RESOLVE_IN_ROOT keeps it below root; the check costs nothing. */
  size_t k = (size_t)rl;
  if (strncmp(got, rootpath, k) != 0 || (got[k] != '\0' && got[k] != '/' && k > 1))
    return mesos__err(err, MESOS_EPERM, "launcher: %s resolves outside %s", rel, root);
  *real = own(p, mesos__strdup(got));
  return *real ? MESOS_OK : mesos__err(err, MESOS_ENOMEM, "out of memory");
}

/* A container path must not climb out of the rootfs with "..". */
static int safe_container_path(const char *s) {
  if (s == NULL || s[0] == '\0') return 0;
  for (const char *q = s; *q;) {
    const char *e = strchr(q, '/');
    size_t n = e ? (size_t)(e - q) : strlen(q);
    if (n == 2 && q[0] == '.' && q[1] == '.') return 0;
    q += n;
    while (*q == '/') q++;
  }
  return 1;
}

static const char *env_get(const char *const *envp, const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; envp && envp[i]; i++)
    if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=') return envp[i] + n + 1;
  return NULL;
}

mesos_status mesos__launch_resolve(const char *name, const char *const *envp,
                                   const char *rootfs, char **out, mesos_error **err) {
  *out = NULL;
  if (name == NULL || name[0] == '\0') return mesos__err(err, MESOS_EINVAL, "launcher: empty command");
  if (strchr(name, '/')) {
    *out = mesos__strdup(name);
    return *out ? MESOS_OK : mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  const char *path = env_get(envp, "PATH");
  if (path == NULL) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const char *q = path;;) {
    const char *e = strchr(q, ':');
    size_t n = e ? (size_t)(e - q) : strlen(q);
    if (n > 0) {
      char cand[PATH_MAX], host[PATH_MAX];
      if (snprintf(cand, sizeof cand, "%.*s/%s", (int)n, q, name) < (int)sizeof cand &&
          snprintf(host, sizeof host, "%s%s", rootfs ? rootfs : "", cand) < (int)sizeof host) {
        struct stat sb;
        /* Inside a rootfs an absolute symlink (busybox applets) points
         * into the container, so only check that the entry exists there. */
        int ok = rootfs ? lstat(host, &sb) == 0 : (access(host, X_OK) == 0 && stat(host, &sb) == 0 && S_ISREG(sb.st_mode));
        if (ok) {
          *out = mesos__strdup(cand);
          return *out ? MESOS_OK : mesos__err(err, MESOS_ENOMEM, "out of memory");
        }
      }
    }
    if (e == NULL) break;
    q = e + 1;
  }
  return mesos__err(err, MESOS_ENOTFOUND, "launcher: command '%s' not found in PATH %s%s", name,
                    path, rootfs ? " of the container's rootfs" : "");
}

/* A decimal id (uid_t/gid_t), not -1. */
static int parse_id(const char *s, size_t n, uint32_t *out) {
  if (n == 0 || n > 10) return 0;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v >= UINT32_MAX) return 0;
  *out = (uint32_t)v;
  return 1;
}

/* Splits a passwd/group line into at most `max` ':'-separated fields (in
 * place); returns how many. */
static int split_fields(char *line, char **fields, int max) {
  line[strcspn(line, "\n")] = '\0';
  int nf = 0;
  char *q = line;
  while (nf < max) {
    fields[nf++] = q;
    char *c = strchr(q, ':');
    if (c == NULL) break;
    *c = '\0';
    q = c + 1;
  }
  return nf;
}

/*
 * The user of a container with its own root filesystem, as Docker and
 * runc read an image's User: "name", "uid", "name:group", "uid:gid" (and
 * the mixes), names looked up in <rootfs>/etc/passwd and /etc/group, ids
 * taken as they are.  A numeric uid the image's passwd does not know runs
 * with gid 0 unless a group is given (what Docker does); a name must
 * exist.  Supplementary groups: every /etc/group entry listing the user's
 * name.
 */
static mesos_status user_from_files(plan *p, const char *rootfs, const char *spec,
                                    mesos_error **err) {
  const char *colon = strchr(spec, ':');
  size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
  const char *group = colon ? colon + 1 : NULL;
  if (ulen == 0 || (group && (*group == '\0' || strchr(group, ':'))))
    return mesos__err(err, MESOS_EINVAL, "launcher: bad user '%s' (user[:group])", spec);
  char uname[256];
  if (ulen >= sizeof uname) return mesos__err(err, MESOS_EINVAL, "launcher: user name too long");
  memcpy(uname, spec, ulen);
  uname[ulen] = '\0';
  uint32_t want_uid = 0;
  int numeric = parse_id(uname, ulen, &want_uid);
  char path[PATH_MAX], line[1024], name[256] = "";
  snprintf(path, sizeof path, "%s/etc/passwd", rootfs);
  FILE *f = fopen(path, "re");
  int found = 0;
  while (f && fgets(line, sizeof line, f)) {
    char *fields[7] = {0};
    int nf = split_fields(line, fields, 7);
    uint32_t uid, gid;
    if (nf < 4 || !parse_id(fields[2], strlen(fields[2]), &uid) ||
        !parse_id(fields[3], strlen(fields[3]), &gid))
      continue;
    if (numeric ? uid == want_uid : strcmp(fields[0], uname) == 0) {
      p->uid = (uid_t)uid;
      p->gid = (gid_t)gid;
      snprintf(name, sizeof name, "%s", fields[0]);
      found = 1;
      break;
    }
  }
  if (f) fclose(f);
  if (!found && !numeric)
    return mesos__err(err, MESOS_ENOTFOUND, "launcher: user '%s' not found in %s", uname, path);
  if (!found) {
    p->uid = (uid_t)want_uid;
    p->gid = 0;
  }
  /* The group, by id or by name, and the supplementary groups. */
  uint32_t want_gid = 0;
  int group_numeric = group ? parse_id(group, strlen(group), &want_gid) : 0;
  int group_found = group == NULL || group_numeric;
  p->ngroups = 0;
  snprintf(path, sizeof path, "%s/etc/group", rootfs);
  f = fopen(path, "re");
  gid_t extra[MAX_GROUPS];
  int nextra = 0;
  while (f && fgets(line, sizeof line, f)) {
    char *fields[4] = {0};
    int nf = split_fields(line, fields, 4);
    uint32_t gid;
    if (nf < 3 || !parse_id(fields[2], strlen(fields[2]), &gid)) continue;
    if (group && !group_numeric && !group_found && strcmp(fields[0], group) == 0) {
      want_gid = gid;
      group_found = 1;
    }
    if (name[0] == '\0' || nf < 4) continue;
    for (char *m = fields[3]; *m;) {
      size_t n = strcspn(m, ",");
      if (n == strlen(name) && strncmp(m, name, n) == 0 && nextra < MAX_GROUPS)
        extra[nextra++] = (gid_t)gid;
      m += n;
      if (*m == ',') m++;
    }
  }
  if (f) fclose(f);
  if (!group_found)
    return mesos__err(err, MESOS_ENOTFOUND, "launcher: group '%s' not found in %s", group, path);
  if (group) p->gid = (gid_t)want_gid;
  p->groups[p->ngroups++] = p->gid;
  for (int i = 0; i < nextra && p->ngroups < MAX_GROUPS; i++)
    if (extra[i] != p->gid) p->groups[p->ngroups++] = extra[i];
  return MESOS_OK;
}

static mesos_status resolve_user(plan *p, const char *rootfs, const char *user,
                                 mesos_error **err) {
  if (user == NULL) return MESOS_OK;
  p->switch_user = 1;
  if (rootfs) return user_from_files(p, rootfs, user, err);
  struct passwd pw, *res = NULL;
  char buf[4096];
  int e = getpwnam_r(user, &pw, buf, sizeof buf, &res);
  if (e != 0 || res == NULL) {
    /* "uid" or "uid:gid" on the host: taken as they are. */
    const char *colon = strchr(user, ':');
    uint32_t uid, gid = 0;
    size_t ulen = colon ? (size_t)(colon - user) : strlen(user);
    if (parse_id(user, ulen, &uid) && (colon == NULL || parse_id(colon + 1, strlen(colon + 1), &gid))) {
      p->uid = (uid_t)uid;
      p->gid = (gid_t)gid;
      p->groups[0] = p->gid;
      p->ngroups = 1;
      return MESOS_OK;
    }
    return mesos__err(err, MESOS_ENOTFOUND, "launcher: user '%s' not found on the host", user);
  }
  p->uid = pw.pw_uid;
  p->gid = pw.pw_gid;
  int n = MAX_GROUPS;
  if (getgrouplist(user, pw.pw_gid, p->groups, &n) < 0)
    return mesos__err(err, MESOS_ELIMIT, "launcher: user '%s' has more than %d groups", user,
                      MAX_GROUPS);
  p->ngroups = n;
  return MESOS_OK;
}

/* The container's /dev, /proc, /sys, sandbox and volumes, as steps. */
static mesos_status plan_rootfs(plan *p, mesos_error **err) {
  const mesos__launch_spec *s = p->spec;
  const char *r = p->rootfs;
#define NEED(x)                                                           \
  do {                                                                    \
    if ((x) == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory"); \
  } while (0)
  step *st;
  /* The rootfs must be a mount point for pivot_root. */
  NEED(st = add_step(p, STEP_MOUNT));
  st->src = r, st->dst = r, st->flags = MS_BIND | MS_REC;
  /* Mount points resolved inside the image: its symbolic links must not
   * lead a mkdir or a mount to the host's files. */
  static const char *const dirs[] = {"proc", "sys", "dev", "tmp"};
  char *at[4];
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
    mesos_status rc = mkdirs_in(p, r, dirs[i], 0, &at[i], err);
    if (rc != MESOS_OK) return rc;
  }
  NEED(st = add_step(p, STEP_MOUNT));
  st->src = "proc", st->dst = at[0], st->fstype = "proc";
  st->flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  NEED(st = add_step(p, STEP_MOUNT));
  st->src = "sysfs", st->dst = at[1], st->fstype = "sysfs";
  st->flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
  char *dev = at[2];
  NEED(st = add_step(p, STEP_MOUNT));
  st->src = "tmpfs", st->dst = dev, st->fstype = "tmpfs";
  st->flags = MS_NOSUID | MS_NOEXEC, st->data = "mode=755,size=65536k";
  static const struct {
    const char *name;
    unsigned maj, min;
  } nodes[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
               {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
    NEED(st = add_step(p, STEP_MKNOD));
    st->dst = path2(p, dev, nodes[i].name);
    NEED(st->dst);
    st->mode = S_IFCHR | 0666;
    st->dev = makedev(nodes[i].maj, nodes[i].min);
  }
  NEED(st = add_step(p, STEP_MKDIR));
  st->dst = path2(p, dev, "pts"), st->mode = 0755;
  NEED(st->dst);
  NEED(st = add_step(p, STEP_MOUNT));
  st->src = "devpts", st->dst = p->steps[p->nsteps - 2].dst, st->fstype = "devpts";
  st->flags = MS_NOSUID | MS_NOEXEC, st->data = "newinstance,ptmxmode=0666,mode=0620";
  NEED(st = add_step(p, STEP_SYMLINK));
  st->src = "pts/ptmx", st->dst = path2(p, dev, "ptmx");
  NEED(st->dst);
  NEED(st = add_step(p, STEP_MKDIR));
  st->dst = path2(p, dev, "shm"), st->mode = 01777;
  NEED(st->dst);
  NEED(st = add_step(p, STEP_MOUNT));
  st->src = "shm", st->dst = p->steps[p->nsteps - 2].dst, st->fstype = "tmpfs";
  st->flags = MS_NOSUID | MS_NODEV | MS_NOEXEC, st->data = "mode=1777,size=65536k";
  static const struct {
    const char *name, *target;
  } links[] = {{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"},
               {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}};
  for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
    NEED(st = add_step(p, STEP_SYMLINK));
    st->src = links[i].target, st->dst = path2(p, dev, links[i].name);
    NEED(st->dst);
  }
  if (s->sandbox) {
    const char *tgt = s->sandbox_target ? s->sandbox_target : "/mnt/mesos/sandbox";
    if (!safe_container_path(tgt) || tgt[0] != '/')
      return mesos__err(err, MESOS_EINVAL, "launcher: bad sandbox path '%s'", tgt);
    char *d;
    mesos_status rc = mkdirs_in(p, r, tgt, 0, &d, err);
    if (rc != MESOS_OK) return rc;
    p->sandbox_in_rootfs = d;
    NEED(st = add_step(p, STEP_MOUNT));
    st->src = s->sandbox, st->dst = d, st->flags = MS_BIND | MS_REC;
  }
  return MESOS_OK;
#undef NEED
}

/* The mount point of a volume at a host path (no image): mkdir -p for a
 * directory, the parent and an empty file for a file. */
static mesos_status host_mount_point(char *path, int file, mesos_error **err) {
  if (!file) {
    int e = mkdirs(path);
    return e ? mesos__err(err, MESOS_EIO, "launcher: mkdir %s: %s", path, strerror(e)) : MESOS_OK;
  }
  char *slash = strrchr(path, '/');
  if (slash && slash != path) {
    *slash = '\0';
    int e = mkdirs(path);
    *slash = '/';
    if (e) return mesos__err(err, MESOS_EIO, "launcher: mkdir for %s: %s", path, strerror(e));
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return mesos__err(err, MESOS_EIO, "launcher: create %s: %s", path, strerror(errno));
  close(fd);
  return MESOS_OK;
}

static mesos_status plan_volumes(plan *p, mesos_error **err) {
  const mesos__launch_spec *s = p->spec;
  if (s->nmounts > MAX_VOLUMES)
    return mesos__err(err, MESOS_ELIMIT, "launcher: more than %d volumes", MAX_VOLUMES);
  for (size_t i = 0; i < s->nmounts; i++) {
    const mesos__launch_mount *m = &s->mounts[i];
    if (m->source == NULL || m->source[0] != '/' || !safe_container_path(m->target))
      return mesos__err(err, MESOS_EINVAL, "launcher: volume %zu: bad source or target", i);
    if (!(s->namespaces & MESOS_NS_MOUNT))
      return mesos__err(err, MESOS_EINVAL,
                        "launcher: volumes need a mount namespace (filesystem/linux)");
    struct stat sb;
    if (stat(m->source, &sb) != 0)
      return mesos__err(err, MESOS_ENOTFOUND, "launcher: volume source %s: %s", m->source,
                        strerror(errno));
    /* The mount point: a directory for a directory, a file for a file.
     * Inside an image or a sandbox it is made and resolved below that
     * root (their symbolic links stay inside it); with a root filesystem
     * a relative target is mounted where the task sees the sandbox, below
     * the sandbox's own bind mount (an earlier step): a mount on the
     * host's sandbox path inside the container's namespace would not show
     * through that bind copy (agentvol: persistent volumes in images). */
    int file = !S_ISDIR(sb.st_mode);
    char *dst = NULL;
    mesos_status rc = MESOS_OK;
    if (m->target[0] == '/' && p->rootfs) {
      rc = mkdirs_in(p, p->rootfs, m->target, file, &dst, err);
    } else if (m->target[0] == '/') {
      /* No image: the host path the volume names, made as asked. */
      dst = own(p, mesos__strdup(m->target));
      if (dst == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
      rc = host_mount_point(dst, file, err);
    } else if (s->sandbox) {
      char *real;
      rc = mkdirs_in(p, s->sandbox, m->target, file, &real, err);
      dst = real;
      if (rc == MESOS_OK && p->rootfs) {
        if (p->sandbox_in_rootfs == NULL)
          return mesos__err(err, MESOS_EINVAL, "launcher: relative volume '%s' without a sandbox mount", m->target);
        /* real lies below the sandbox: the same suffix below its mount. */
        char sbreal[PATH_MAX];
        if (realpath(s->sandbox, sbreal) == NULL)
          return mesos__err(err, MESOS_EIO, "launcher: sandbox %s: %s", s->sandbox, strerror(errno));
        size_t k = strlen(sbreal);
        dst = path2(p, p->sandbox_in_rootfs, real[k] == '/' ? real + k + 1 : real + k);
        if (dst == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
      }
    } else {
      return mesos__err(err, MESOS_EINVAL, "launcher: relative volume path '%s' without a sandbox",
                        m->target);
    }
    if (rc != MESOS_OK) return rc;
    step *st = add_step(p, STEP_MOUNT);
    if (st == NULL) return mesos__err(err, MESOS_ELIMIT, "launcher: too many mounts");
    st->src = m->source, st->dst = dst, st->flags = MS_BIND | MS_REC, st->remount_ro = m->readonly;
  }
  return MESOS_OK;
}

static void plan_free(plan *p) {
  for (int i = 0; i < p->nstrings; i++) mesos__free(p->strings[i]);
  mesos__free(p->exe);
  mesos__free((char *)p->rootfs);
}

/* ------------------------------------------------------------ the clone */

static mesos_status put_u32(mesos__buf *b, uint32_t v) { return mesos__buf_append(b, &v, sizeof v); }

static mesos_status put_u64(mesos__buf *b, uint64_t v) { return mesos__buf_append(b, &v, sizeof v); }

static mesos_status put_str(mesos__buf *b, const char *s) {
  if (s == NULL) return put_u32(b, INIT_STR_NULL);
  size_t n = strlen(s);
  if (n >= INIT_STR_NULL) return MESOS_ELIMIT;
  mesos_status st = put_u32(b, (uint32_t)n);
  return st == MESOS_OK ? mesos__buf_append(b, s, n + 1) : st;
}

static mesos_status put_strv(mesos__buf *b, const char *const *v) {
  size_t n = 0;
  while (v && v[n]) n++;
  if (n > INIT_MAX_ARGS) return MESOS_ELIMIT;
  mesos_status st = put_u32(b, (uint32_t)n);
  for (size_t i = 0; i < n && st == MESOS_OK; i++) st = put_str(b, v[i]);
  return st;
}

/* The plan in init_plan.h's format. */
static mesos_status plan_serialize(const plan *p, mesos__buf *b, mesos_error **err) {
  const mesos__launch_spec *s = p->spec;
  mesos_status st = put_u32(b, INIT_PLAN_MAGIC);
  if (st == MESOS_OK) st = put_u32(b, 0); /* length, patched below */
  if (st == MESOS_OK) st = put_u32(b, s->namespaces);
  if (st == MESOS_OK) st = put_str(b, p->rootfs);
  if (st == MESOS_OK) st = put_str(b, (s->namespaces & MESOS_NS_UTS) ? s->hostname : NULL);
  if (st == MESOS_OK) st = put_str(b, p->cwd);
  if (st == MESOS_OK) st = put_str(b, p->exe);
  if (st == MESOS_OK) st = put_u32(b, (uint32_t)p->switch_user);
  if (st == MESOS_OK) st = put_u32(b, (uint32_t)p->uid);
  if (st == MESOS_OK) st = put_u32(b, (uint32_t)p->gid);
  if (st == MESOS_OK) st = put_u32(b, (uint32_t)(p->switch_user ? p->ngroups : 0));
  for (int i = 0; p->switch_user && i < p->ngroups && st == MESOS_OK; i++)
    st = put_u32(b, (uint32_t)p->groups[i]);
  if (st == MESOS_OK) st = put_u32(b, (uint32_t)p->nsteps);
  for (int i = 0; i < p->nsteps && st == MESOS_OK; i++) {
    const step *x = &p->steps[i];
    st = put_u32(b, (uint32_t)x->kind);
    if (st == MESOS_OK) st = put_str(b, x->src);
    if (st == MESOS_OK) st = put_str(b, x->dst);
    if (st == MESOS_OK) st = put_str(b, x->fstype);
    if (st == MESOS_OK) st = put_u64(b, (uint64_t)x->flags);
    if (st == MESOS_OK) st = put_str(b, x->data);
    if (st == MESOS_OK) st = put_u32(b, (uint32_t)x->mode);
    if (st == MESOS_OK) st = put_u64(b, (uint64_t)x->dev);
    if (st == MESOS_OK) st = put_u32(b, (uint32_t)x->remount_ro);
  }
  if (st == MESOS_OK) st = put_strv(b, s->argv);
  if (st == MESOS_OK) st = put_strv(b, s->envp);
  if (st != MESOS_OK)
    return mesos__err(err, st, "launcher: the container's command, environment and mounts %s",
                      st == MESOS_ENOMEM ? "do not fit in memory" : "are too large");
  uint32_t len = (uint32_t)(b->len - 8);
  memcpy(b->data + 4, &len, sizeof len);
  return MESOS_OK;
}

/* What the clone child needs; it lives on our stack, which the child can
 * see (CLONE_VM) and which stays put while we are suspended (CLONE_VFORK). */
typedef struct tramp {
  const char *path;
  int fds[INIT_NFDS]; /* the descriptor each of 0..INIT_NFDS-1 becomes */
  int err;            /* set by the child when it could not exec */
} tramp;

/*
 * The clone child.  It runs on its own small stack in our address space,
 * with our thread's TLS, while the parent thread is suspended: so it only
 * makes raw system calls (no allocation, no locks, nothing ASan would
 * instrument against the foreign stack) and then execs.  Each source
 * descriptor is first duplicated above the targets (close-on-exec), so a
 * source that happens to be a target number is not overwritten before it
 * is moved.
 */
__attribute__((no_sanitize("address", "undefined"))) static int tramp_main(void *arg) {
  tramp *t = arg;
  int tmp[INIT_NFDS];
  for (int i = 0; i < INIT_NFDS; i++) {
    tmp[i] = (int)syscall(SYS_fcntl, t->fds[i], F_DUPFD_CLOEXEC, 16);
    if (tmp[i] < 0) goto out;
  }
  for (int i = 0; i < INIT_NFDS; i++)
    if (syscall(SYS_dup3, tmp[i], i, 0) < 0) goto out;
  {
    char *const argv[] = {(char *)INIT_HELPER_NAME, NULL};
    char *const envp[] = {NULL};
    syscall(SYS_execve, t->path, argv, envp);
  }
out:
  t->err = errno ? errno : EIO;
  syscall(SYS_exit, 127);
  return 127;
}

#define TRAMP_STACK (64 * 1024)

/* Clones the init helper into the namespaces, sends it the plan and
 * returns the launch handle. */
static mesos_status clone_init(const mesos__launch_spec *s, const mesos__buf *wire,
                               mesos__launch **out, pid_t *pid_out, mesos_error **err) {
  mesos__launch *l = MESOS__NEW(mesos__launch);
  if (l == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  int sp[2] = {-1, -1}, ep[2] = {-1, -1}, devnull = -1;
  void *stack = MAP_FAILED;
  mesos_status st = MESOS_OK;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
    st = mesos__err_errno(err, MESOS_EIO, errno, "launcher: socketpair");
    goto fail;
  }
  if (pipe2(ep, O_CLOEXEC) != 0) {
    st = mesos__err_errno(err, MESOS_EIO, errno, "launcher: pipe");
    goto fail;
  }
  devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) {
    st = mesos__err_errno(err, MESOS_EIO, errno, "launcher: open /dev/null");
    goto fail;
  }
  stack = mmap(NULL, TRAMP_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
               -1, 0);
  if (stack == MAP_FAILED) {
    st = mesos__err_errno(err, MESOS_ENOMEM, errno, "launcher: stack for the clone");
    goto fail;
  }
  tramp t;
  t.path = s->init_path;
  t.fds[0] = devnull;
  t.fds[1] = s->stdout_fd >= 0 ? s->stdout_fd : devnull;
  t.fds[2] = s->stderr_fd >= 0 ? s->stderr_fd : devnull;
  t.fds[INIT_FD_SYNC] = sp[1];
  t.fds[INIT_FD_ERR] = ep[1];
  t.fds[INIT_FD_STATUS] = s->status_fd >= 0 ? s->status_fd : devnull;
  t.err = 0;
  int flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
  if (s->namespaces & MESOS_NS_MOUNT) flags |= CLONE_NEWNS;
  if (s->namespaces & MESOS_NS_PID) flags |= CLONE_NEWPID;
  if (s->namespaces & MESOS_NS_UTS) flags |= CLONE_NEWUTS;
  if (s->namespaces & MESOS_NS_IPC) flags |= CLONE_NEWIPC;
  if (s->namespaces & MESOS_NS_NET) flags |= CLONE_NEWNET;
  /* No signal handler of ours may run in the child (it would run on our
   * memory with the child's stack): every signal stays blocked until the
   * helper has exec'ed and set its own mask. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = clone(tramp_main, (char *)stack + TRAMP_STACK, flags, &t);
  int e = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  munmap(stack, TRAMP_STACK);
  stack = MAP_FAILED;
  if (pid < 0) {
    st = mesos__err(err, MESOS_EIO, "launcher: clone: %s", strerror(e));
    goto fail;
  }
  if (t.err != 0) {
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    st = mesos__err(err, t.err == ENOENT ? MESOS_ENOTFOUND : MESOS_EIO,
                    "launcher: cannot start the init helper %s: %s", s->init_path,
                    strerror(t.err));
    goto fail;
  }
  close(sp[1]);
  close(ep[1]);
  close(devnull);
  sp[1] = ep[1] = devnull = -1;
  /* The helper reads the plan at once; a plan larger than the socket
   * buffer just takes a few round trips. */
  size_t off = 0;
  while (off < wire->len) {
    ssize_t w = send(sp[0], wire->data + off, wire->len - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  /* A short send means the helper died: its error (if it had time to say
   * one) is on the error pipe, which collect reads. */
  l->pid = pid;
  l->sync_fd = sp[0];
  l->err_fd = ep[0];
  *out = l;
  *pid_out = pid;
  return MESOS_OK;
fail:
  if (stack != MAP_FAILED) munmap(stack, TRAMP_STACK);
  for (int i = 0; i < 2; i++) {
    if (sp[i] >= 0) close(sp[i]);
    if (ep[i] >= 0) close(ep[i]);
  }
  if (devnull >= 0) close(devnull);
  mesos__free(l);
  return st;
}

mesos_status mesos__launch_start(const mesos__launch_spec *spec, mesos__launch **out,
                                 pid_t *pid_out, mesos_error **err) {
  *out = NULL;
  if (spec == NULL || spec->argv == NULL || spec->argv[0] == NULL)
    return mesos__err(err, MESOS_EINVAL, "launcher: no command");
  plan *p = MESOS__NEW(plan);
  if (p == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  p->spec = spec;
  mesos_status st = MESOS_OK;
  mesos__launch_spec s2 = *spec;
  /* A PID namespace needs its own /proc, hence its own mount namespace;
   * so does a rootfs. */
  if (s2.namespaces & MESOS_NS_PID) s2.namespaces |= MESOS_NS_MOUNT;
  if (s2.rootfs) s2.namespaces |= MESOS_NS_MOUNT;
  p->spec = &s2;
  if (s2.rootfs) {
    char *real = realpath(s2.rootfs, NULL);
    if (real == NULL) {
      st = mesos__err(err, MESOS_ENOTFOUND, "launcher: rootfs %s: %s", s2.rootfs, strerror(errno));
      goto fail;
    }
    p->rootfs = mesos__strdup(real);
    free(real);
    if (p->rootfs == NULL || strcmp(p->rootfs, "/") == 0) {
      st = mesos__err(err, p->rootfs ? MESOS_EINVAL : MESOS_ENOMEM,
                      "launcher: the rootfs may not be the host's /");
      goto fail;
    }
  }
  st = mesos__launch_resolve(s2.path ? s2.path : s2.argv[0], s2.envp, p->rootfs, &p->exe, err);
  if (st != MESOS_OK) goto fail;
  st = resolve_user(p, p->rootfs, s2.user, err);
  if (st != MESOS_OK) goto fail;
  if (p->rootfs) {
    st = plan_rootfs(p, err);
    if (st != MESOS_OK) goto fail;
  } else if (s2.namespaces & MESOS_NS_PID) {
    step *ps = add_step(p, STEP_MOUNT);
    ps->src = "proc", ps->dst = "/proc", ps->fstype = "proc";
    ps->flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  }
  st = plan_volumes(p, err);
  if (st != MESOS_OK) goto fail;
  p->cwd = s2.cwd ? s2.cwd : (s2.sandbox ? (p->rootfs ? (s2.sandbox_target ? s2.sandbox_target : "/mnt/mesos/sandbox") : s2.sandbox) : "/");

  if (s2.init_path == NULL || s2.init_path[0] != '/') {
    st = mesos__err(err, MESOS_EINVAL, "launcher: no absolute path of %s", INIT_HELPER_NAME);
    goto fail;
  }
  mesos__buf wire = MESOS__BUF_INIT(INIT_PLAN_MAX + 8);
  st = plan_serialize(p, &wire, err);
  plan_free(p);
  mesos__free(p);
  p = NULL;
  if (st != MESOS_OK) {
    mesos__buf_free(&wire);
    return st;
  }
  st = clone_init(&s2, &wire, out, pid_out, err);
  mesos__buf_free(&wire);
  return st;
fail:
  plan_free(p);
  mesos__free(p);
  return st;
}

mesos_status mesos__launch_go(mesos__launch *l, int *fd, mesos_error **err) {
  char go = 'g';
  ssize_t w;
  do {
    w = send(l->sync_fd, &go, 1, MSG_NOSIGNAL);
  } while (w < 0 && errno == EINTR);
  /* A failed send means the init is gone; its error (or the lack of one)
   * is on the error pipe all the same. */
  close(l->sync_fd);
  l->sync_fd = -1;
  int fl = fcntl(l->err_fd, F_GETFL);
  if (fl < 0 || fcntl(l->err_fd, F_SETFL, fl | O_NONBLOCK) != 0)
    return mesos__err_errno(err, MESOS_EIO, errno, "launcher: error pipe");
  if (fd) *fd = l->err_fd;
  return MESOS_OK;
}

int mesos__launch_fd(const mesos__launch *l) { return l->err_fd; }

int mesos__launch_collect(mesos__launch *l, mesos_status *st, mesos_error **err) {
  for (;;) {
    if (l->len == sizeof l->msg - 1) break; /* enough to say what failed */
    ssize_t r = read(l->err_fd, l->msg + l->len, sizeof l->msg - 1 - l->len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return 0;
    if (r <= 0) break;
    l->len += (size_t)r;
  }
  l->msg[l->len] = '\0';
  /* The helper writes "<step> <path>", a NUL and the errno in decimal
   * (it has no C library to spell it out). */
  size_t text = strlen(l->msg);
  int e = 0;
  for (size_t i = text + 1; i < l->len && l->msg[i] >= '0' && l->msg[i] <= '9' && e < 100000; i++)
    e = e * 10 + (l->msg[i] - '0');
  if (l->len == 0)
    *st = MESOS_OK;
  else if (text < l->len && e > 0)
    *st = mesos__err(err, MESOS_EIO, "launcher: container start failed: %s: %s", l->msg,
                     strerror(e));
  else
    *st = mesos__err(err, MESOS_EIO, "launcher: container start failed: %s", l->msg);
  close(l->err_fd);
  if (l->sync_fd >= 0) close(l->sync_fd);
  mesos__free(l);
  return 1;
}

mesos_status mesos__launch_release(mesos__launch *l, mesos_error **err) {
  int fd;
  mesos_status st = mesos__launch_go(l, &fd, err);
  if (st != MESOS_OK) {
    mesos__launch_abort(l);
    return st;
  }
  for (;;) {
    if (mesos__launch_collect(l, &st, err)) return st;
    struct pollfd pfd = {fd, POLLIN, 0};
    while (poll(&pfd, 1, -1) < 0 && errno == EINTR) {
    }
  }
}

void mesos__launch_abort(mesos__launch *l) {
  if (l == NULL) return;
  if (l->sync_fd >= 0) close(l->sync_fd);
  close(l->err_fd);
  mesos__free(l);
}

uint64_t mesos__proc_starttime(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  /* The command name may contain spaces and ')': fields start after the
   * last ')'.  starttime is field 22, the 20th after it. */
  char *q = strrchr(buf, ')');
  if (q == NULL) return 0;
  q++;
  for (int field = 3; field < 22 && q; field++) {
    q = strchr(q + 1, ' ');
  }
  return q ? strtoull(q + 1, NULL, 10) : 0;
}
