/*
 * The unified containerizer.  See containerizer.h.
 *
 * Termination is detected the same way for containers we started and for
 * containers recovered after a restart: a pidfd of the init polled on the
 * loop.  The task's wait status comes from the status file the init
 * writes (launcher.h), so it is known even when we are not the init's
 * parent; when we are, the init is reaped too.
 */
#include "containerizer/containerizer.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "base/map.h"
#include "containerizer/isolator_int.h"
#include "containerizer/init_plan.h"
#include "containerizer/launcher.h"
#include "loop/loop_int.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define MAX_ISOLATORS 32
#define ID_MAX 128
/* How long a slow isolator member may take before the launch gives up. */
#define PENDING_TIMEOUT_MS 60000
/* How long destroy waits for a killed init to exit. */
#define KILL_WAIT_MS 10000
#define MAX_ENV 4096

typedef struct container container;

/* An asynchronous launch's outcome, allocated with the launch so that
 * reporting it never needs memory (a launch callback lost to ENOMEM would
 * leave the caller waiting forever). */
typedef struct launch_result {
  uv_timer_t timer;
  char id[ID_MAX + 1];
  mesos_status status;
  char message[512];
  pid_t pid;
  mesos__container_launch_fn cb;
  void *ud;
  /* While its timer is pending (defer_launch_result): linked into
   * cz->deferred, so a containerizer freed first drops it uncalled. */
  struct launch_result *prev, *next;
  mesos__containerizer *cz;
} launch_result;

struct mesos__containerizer {
  mesos_loop *loop;
  char *runtime_dir;   /* <runtime_dir>/containers */
  char *sandbox_dir;
  mesos__isolator isolators[MAX_ISOLATORS];
  int nisolators;
  int vol_host, vol_sandbox;
  mesos__builtin_ctx *ctx;
  char *init_path;     /* mesos-container-init */
  launch_result *deferred; /* launch outcomes waiting for the loop */
  mesos__map containers;  /* id -> container */
};

struct container {
  mesos__containerizer *cz;
  char *id;
  char *dir;
  pid_t pid;
  int is_child;
  int pidfd;
  uv_poll_t *poll;
  uv_timer_t *deliver;
  int terminated;
  mesos__container_termination term;
  mesos__container_wait_fn cb;
  void *cb_ud;
  /* Between clone and exec: the init runs the mounts and the exec while
   * the loop goes on (launch_async), or the caller blocks (launch). */
  mesos__launch *l;
  uv_poll_t *lpoll;
  int killed;  /* kill or destroy came while launching */
  launch_result *lres;  /* launch_async's, until reported */
};

/* ------------------------------------------------------------ helpers */

static int id_ok(const char *id) {
  size_t n = id ? strlen(id) : 0;
  if (n == 0 || n > ID_MAX || strcmp(id, ".") == 0 || strcmp(id, "..") == 0) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '-' || c == '.'))
      return 0;
  }
  return 1;
}

static char *join(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 2;
  char *s = mesos__malloc(n);
  if (s) snprintf(s, n, "%s/%s", a, b);
  return s;
}

static int mkdirs(const char *path) {
  char buf[4096];
  size_t n = strlen(path);
  if (n >= sizeof buf) return ENAMETOOLONG;
  memcpy(buf, path, n + 1);
  for (size_t i = 1; i <= n; i++)
    if (buf[i] == '/' || buf[i] == '\0') {
      char c = buf[i];
      buf[i] = '\0';
      if (mkdir(buf, 0755) != 0 && errno != EEXIST) return errno;
      buf[i] = c;
    }
  return 0;
}

static void rm_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
      unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
  }
  rmdir(dir);
}

/* Runs the loop until `p` completes (or gives up); returns its status. */
static mesos_status await(mesos__containerizer *cz, mesos_isolator_pending *p, const char *what,
                          const char *iso, mesos_error **err) {
  if (!p->done) {
    uv_loop_t *uv = mesos__loop_uv(cz->loop);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!p->done) {
      uv_run(uv, UV_RUN_NOWAIT);
      if (p->done) break;
      clock_gettime(CLOCK_MONOTONIC, &t);
      /* A pending on our stack cannot be abandoned: wait for it. */
      if (!p->on_stack &&
          (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > PENDING_TIMEOUT_MS) {
        mesos__pending_unref(p);
        return mesos__err(err, MESOS_ETIMEDOUT, "isolator %s: %s did not complete in %d ms", iso,
                          what, PENDING_TIMEOUT_MS);
      }
      struct timespec nap = {0, 1000000};
      nanosleep(&nap, NULL);
    }
  }
  mesos_status st = p->status;
  if (st != MESOS_OK)
    mesos__err(err, st, "isolator %s: %s failed: %s", iso, what,
               p->message[0] ? p->message : mesos_status_str(st));
  mesos__pending_unref(p);
  return st;
}

/* ------------------------------------------------------------ create / free */

static mesos_status add_isolator(mesos__containerizer *cz, const char *name, mesos_error **err) {
  for (int i = 0; i < cz->nisolators; i++)
    if (strcmp(cz->isolators[i].name, name) == 0) return MESOS_OK; /* listed twice */
  if (cz->nisolators >= MAX_ISOLATORS)
    return mesos__err(err, MESOS_ELIMIT, "--isolation: more than %d isolators", MAX_ISOLATORS);
  mesos__isolator *iso = &cz->isolators[cz->nisolators];
  mesos_status st = mesos__builtin_isolator(cz->ctx, name, iso, err);
  if (st == MESOS_ENOTFOUND) {
    if (mesos__isolator_get(name, iso) != MESOS_OK)
      return mesos__err(err, MESOS_EINVAL, "--isolation: unknown isolator '%s'", name);
    st = MESOS_OK;
  }
  if (st != MESOS_OK) return st;
  if (strcmp(name, "volume/host_path") == 0) cz->vol_host = 1;
  if (strcmp(name, "volume/sandbox_path") == 0) cz->vol_sandbox = 1;
  cz->nisolators++;
  return MESOS_OK;
}

static void container_free(container *c);
static void launch_result_closed(uv_handle_t *h);
static void deferred_unlink(launch_result *r);

/* The init helper: in `dir`, else beside the running program (where make
 * and make install put it, next to mesos-agent).  Looked for once, so a
 * missing helper is a start-up error rather than a failed launch. */
static mesos_status find_init(mesos__containerizer *cz, const char *dir, mesos_error **err) {
  char self[PATH_MAX];
  if (dir == NULL) {
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return mesos__err_errno(err, MESOS_EIO, errno, "containerizer: /proc/self/exe");
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) *slash = '\0';
    dir = self;
  }
  char *path = join(dir, INIT_HELPER_NAME);
  if (path == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  char *real = realpath(path, NULL);
  if (real == NULL || access(real, X_OK) != 0) {
    mesos_status st = mesos__err(err, MESOS_ENOTFOUND,
                                 "containerizer: the container init helper %s is missing or not "
                                 "executable (build it with make; --launcher_dir names its "
                                 "directory)",
                                 path);
    free(real);
    mesos__free(path);
    return st;
  }
  mesos__free(path);
  cz->init_path = mesos__strdup(real);
  free(real);
  return cz->init_path ? MESOS_OK : mesos__err(err, MESOS_ENOMEM, "out of memory");
}

mesos_status mesos__containerizer_new(mesos__containerizer **out, mesos_loop *loop,
                                      const mesos__containerizer_options *opts,
                                      mesos_error **err) {
  if (out == NULL || loop == NULL) return mesos__err(err, MESOS_EINVAL, "containerizer: NULL argument");
  *out = NULL;
  mesos__containerizer_options o = {0};
  if (opts) o = *opts;
  const char *rt = o.runtime_dir ? o.runtime_dir : "/var/run/mesos";
  const char *isolation = o.isolation ? o.isolation : "posix/cpu,posix/mem";
  const char *root = o.cgroups_root ? o.cgroups_root : "mesos";
  if (root[0] == '\0' || strstr(root, "..") || root[0] == '/')
    return mesos__err(err, MESOS_EINVAL, "--cgroups_root: bad value '%s'", root);
  mesos__containerizer *cz = MESOS__NEW(mesos__containerizer);
  if (cz == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  cz->loop = loop;
  mesos__map_init(&cz->containers);
  cz->runtime_dir = join(rt, "containers");
  cz->sandbox_dir = mesos__strdup(o.sandbox_directory ? o.sandbox_directory : "/mnt/mesos/sandbox");
  mesos_status st;
  if (cz->runtime_dir == NULL || cz->sandbox_dir == NULL) {
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto fail;
  }
  st = mesos__builtin_ctx_new(&cz->ctx, loop, root, o.cgroups_enable_cfs, o.cgroups_limit_swap, err);
  if (st != MESOS_OK) goto fail;
  /* Parse the list; "cgroups" is Mesos's old alias of cpu + mem. */
  for (const char *q = isolation; *q;) {
    const char *e = strchr(q, ',');
    size_t n = e ? (size_t)(e - q) : strlen(q);
    char name[MESOS__ISOLATOR_NAME_MAX + 1];
    if (n == 0 || n > MESOS__ISOLATOR_NAME_MAX) {
      st = mesos__err(err, MESOS_EINVAL, "--isolation: bad entry in '%s'", isolation);
      goto fail;
    }
    memcpy(name, q, n);
    name[n] = '\0';
    if (strcmp(name, "cgroups") == 0) {
      st = add_isolator(cz, "cgroups/cpu", err);
      if (st == MESOS_OK) st = add_isolator(cz, "cgroups/mem", err);
    } else {
      st = add_isolator(cz, name, err);
    }
    if (st != MESOS_OK) goto fail;
    q += n;
    if (*q == ',') q++;
  }
  int fs = 0;
  for (int i = 0; i < cz->nisolators; i++)
    if (strncmp(cz->isolators[i].name, "filesystem/", 11) == 0) fs++;
  if (fs > 1) {
    st = mesos__err(err, MESOS_EINVAL, "--isolation: at most one filesystem/* isolator");
    goto fail;
  }
  int e = mkdirs(cz->runtime_dir);
  if (e) {
    st = mesos__err(err, MESOS_EIO, "containerizer: mkdir %s: %s", cz->runtime_dir, strerror(e));
    goto fail;
  }
  st = find_init(cz, o.launcher_dir, err);
  if (st != MESOS_OK) goto fail;
  *out = cz;
  return MESOS_OK;
fail:
  mesos__containerizer_free(cz);
  return st;
}

void mesos__containerizer_free(mesos__containerizer *cz) {
  if (cz == NULL) return;
  const char *k;
  void *v;
  for (size_t it = 0; mesos__map_next(&cz->containers, &it, &k, &v);) container_free(v);
  mesos__map_free(&cz->containers);
  /* Outcomes of launches destroyed just before: never called (see
   * launch_async), their timers closed on the loop's next turn. */
  while (cz->deferred) {
    launch_result *r = cz->deferred;
    deferred_unlink(r);
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, launch_result_closed);
  }
  for (int i = 0; i < cz->nisolators; i++)
    if (cz->isolators[i].vendor) mesos__isolator_put(cz->isolators[i].name);
  if (cz->ctx) mesos__builtin_remove_roots(cz->ctx);
  mesos__builtin_ctx_free(cz->ctx);
  mesos__free(cz->runtime_dir);
  mesos__free(cz->sandbox_dir);
  mesos__free(cz->init_path);
  mesos__free(cz);
}

/* ------------------------------------------------------------ containers */

static void handle_closed(uv_handle_t *h) { mesos__free(h); }

static void container_free(container *c) {
  if (c == NULL) return;
  if (c->poll) {
    uv_poll_stop(c->poll);
    uv_close((uv_handle_t *)c->poll, handle_closed);
  }
  if (c->deliver) uv_close((uv_handle_t *)c->deliver, handle_closed);
  if (c->lpoll) {
    uv_poll_stop(c->lpoll);
    uv_close((uv_handle_t *)c->lpoll, handle_closed);
  }
  /* Freed while launching (containerizer_free): the init was released
   * already and runs on; only our ends of its pipes go. */
  if (c->l) mesos__launch_abort(c->l);
  mesos__free(c->lres);
  if (c->pidfd >= 0) close(c->pidfd);
  mesos__free(c->id);
  mesos__free(c->dir);
  mesos__free(c);
}

static void cleanup_isolators(mesos__containerizer *cz, const char *id, int upto) {
  for (int i = upto - 1; i >= 0; i--) {
    mesos__isolator *iso = &cz->isolators[i];
    /* Cleanup must run even when memory is exhausted. */
    mesos_isolator_pending fallback;
    mesos_isolator_pending *p = mesos__pending_new();
    if (p == NULL) {
      memset(&fallback, 0, sizeof fallback);
      fallback.refs = 2;
      fallback.on_stack = 1;
      p = &fallback;
    }
    iso->ops.cleanup(iso->ud, id, p);
    mesos_error *e = NULL;
    if (await(cz, p, "cleanup", iso->name, &e) != MESOS_OK)
      LOG_WARN("container %s: %s", id, mesos_error_message(e));
    mesos_error_free(e);
  }
  mesos_error *e = NULL;
  if (mesos__builtin_remove(cz->ctx, id, &e) != MESOS_OK)
    LOG_WARN("container %s: %s", id, mesos_error_message(e));
  mesos_error_free(e);
  mesos__builtin_set_pid(cz->ctx, id, 0);
}

/* Reads the task's wait status the init wrote. */
static int read_status(const char *dir, int *status) {
  char path[4200];
  snprintf(path, sizeof path, "%s/status", dir);
  FILE *f = fopen(path, "re");
  if (f == NULL) return 0;
  unsigned int v;
  int ok = fscanf(f, "%u", &v) == 1;
  fclose(f);
  if (ok) *status = (int)v;
  return ok;
}

static void deliver_cb(uv_timer_t *t) {
  container *c = t->data;
  mesos__containerizer *cz = c->cz;
  mesos__map_remove(&cz->containers, c->id);
  mesos__container_wait_fn cb = c->cb;
  void *ud = c->cb_ud;
  mesos__container_termination term = c->term;
  char id[ID_MAX + 1];
  snprintf(id, sizeof id, "%s", c->id);
  container_free(c);
  if (cb) cb(id, &term, ud);
}

static void schedule_delivery(container *c) {
  if (c->cb == NULL || c->deliver) return;
  uv_timer_t *t = mesos__malloc(sizeof *t);
  if (t == NULL) return;
  uv_timer_init(mesos__loop_uv(c->cz->loop), t);
  t->data = c;
  c->deliver = t;
  uv_timer_start(t, deliver_cb, 0, 0);
}

/* The init is gone: collect the status, clean up, tell the waiter. */
static void finish(container *c, int init_status, int have_init_status) {
  if (c->terminated) return;
  mesos__containerizer *cz = c->cz;
  if (c->poll) {
    uv_poll_stop(c->poll);
    uv_close((uv_handle_t *)c->poll, handle_closed);
    c->poll = NULL;
  }
  if (c->pidfd >= 0) {
    close(c->pidfd);
    c->pidfd = -1;
  }
  int status;
  if (read_status(c->dir, &status)) {
    c->term.has_status = 1;
    c->term.status = status;
  } else if (have_init_status) {
    c->term.has_status = 1;
    c->term.status = init_status;
  }
  /* An OOM kill seen only now (the event raced the exit) still counts.
   * The built-in memory cgroup is asked for just that one counter (a full
   * usage read is a dozen control files per isolator, on every exit);
   * vendor isolators only through their usage. */
  uint64_t oom = c->term.limited ? 0 : mesos__builtin_oom_kills(cz->ctx, c->id);
  if (oom > 0) {
    c->term.limited = 1;
    c->term.reason = MESOS_LIMITATION_MEMORY;
    snprintf(c->term.message, sizeof c->term.message,
             "Memory limit exceeded: %" PRIu64 " process(es) killed by the OOM killer", oom);
  }
  if (!c->term.limited) {
    for (int i = 0; i < cz->nisolators; i++) {
      mesos__isolator *iso = &cz->isolators[i];
      if (iso->ops.usage == NULL || !iso->vendor) continue;
      mesos_container_usage u;
      memset(&u, 0, sizeof u);
      u.version = MESOS_CONTAINER_USAGE_VERSION;
      if (iso->ops.usage(iso->ud, c->id, &u, NULL) == MESOS_OK &&
          (u.fields & MESOS_USAGE_MEM_OOM) && u.mem_oom_events > 0) {
        c->term.limited = 1;
        c->term.reason = MESOS_LIMITATION_MEMORY;
        snprintf(c->term.message, sizeof c->term.message,
                 "Memory limit exceeded: %" PRIu64 " process(es) killed by the OOM killer",
                 u.mem_oom_events);
        break;
      }
    }
  }
  cleanup_isolators(cz, c->id, cz->nisolators);
  rm_dir(c->dir);
  c->terminated = 1;
  schedule_delivery(c);
}

static void reap(container *c) {
  int st = 0, have = 0;
  /* Also for recovered containers: one may still be our child (a second
   * containerizer in the same process); otherwise ECHILD, which is fine. */
  siginfo_t info;
  memset(&info, 0, sizeof info);
  if (waitid(P_PID, (id_t)c->pid, &info, WEXITED | WNOHANG) == 0 && info.si_pid == c->pid) {
    have = 1;
    st = info.si_code == CLD_EXITED ? (info.si_status & 0xff) << 8 : (info.si_status & 0x7f);
  }
  finish(c, st, have);
}

static void pidfd_ready(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  reap(h->data);
}

static mesos_status watch_pid(container *c, mesos_error **err) {
  c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
  if (c->pidfd < 0) return mesos__err_errno(err, MESOS_EIO, errno, "pidfd_open");
  fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
  uv_poll_t *h = mesos__malloc(sizeof *h);
  if (h == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  int r = uv_poll_init(mesos__loop_uv(c->cz->loop), h, c->pidfd);
  if (r != 0) {
    mesos__free(h);
    return mesos__uv_err(err, r, "watching the container's init");
  }
  h->data = c;
  uv_poll_start(h, UV_READABLE, pidfd_ready);
  c->poll = h;
  return MESOS_OK;
}

static mesos_status launch_end(container *c, mesos_status st, mesos_error **err);
static void defer_launch_result(mesos__containerizer *cz, launch_result *r, const char *id,
                                mesos_status st, const mesos_error *e, pid_t pid);

/* Kills the init (and with it a PID namespace) and every process in the
 * container's cgroup; waits for the init to exit.  A container still
 * launching ends its launch with an error (reported to the launch
 * callback on the loop, never from inside this call). */
static void kill_container(container *c) {
  if (c->terminated || c->pid <= 0) return;
  kill(c->pid, SIGKILL);
  mesos__cgroup *cg = mesos__builtin_cgroup(c->cz->ctx, c->id);
  if (cg == NULL) kill(-c->pid, SIGKILL); /* its session/process group */
  if (c->l) {
    c->killed = 1;
    mesos_status st = MESOS_OK;
    mesos_error *e = NULL;
    /* Out of epoll before collect closes the pipe (see launch_ready). */
    if (c->lpoll) uv_poll_stop(c->lpoll);
    /* The init is dead or dying: its end of the error pipe closes soon. */
    while (!mesos__launch_collect(c->l, &st, &e)) {
      mesos_error_free(e);
      e = NULL;
      struct pollfd pfd = {mesos__launch_fd(c->l), POLLIN, 0};
      while (poll(&pfd, 1, KILL_WAIT_MS) < 0 && errno == EINTR) {
      }
    }
    c->l = NULL;
    mesos__containerizer *cz = c->cz;
    char id[ID_MAX + 1];
    snprintf(id, sizeof id, "%s", c->id);
    launch_result *r = c->lres;
    c->lres = NULL;
    st = launch_end(c, st, &e); /* frees c */
    if (r) defer_launch_result(cz, r, id, st, e, -1);
    mesos_error_free(e);
    return;
  }
  if (c->pidfd >= 0) {
    struct pollfd pfd = {c->pidfd, POLLIN, 0};
    while (poll(&pfd, 1, KILL_WAIT_MS) < 0 && errno == EINTR) {
    }
  }
  if (c->is_child) {
    int st;
    pid_t w;
    do {
      w = waitpid(c->pid, &st, 0);
    } while (w < 0 && errno == EINTR);
    finish(c, st, w == c->pid);
  } else {
    reap(c);
  }
}

static void on_limitation(const char *id, int32_t reason, const char *message, void *ud) {
  mesos__containerizer *cz = ud;
  container *c = mesos__map_get(&cz->containers, id);
  if (c == NULL || c->terminated || c->term.limited) return;
  c->term.limited = 1;
  c->term.reason = reason;
  snprintf(c->term.message, sizeof c->term.message, "%s", message ? message : "limitation");
  LOG_INFO("container %s: %s; destroying it", id, c->term.message);
  kill_container(c);
}

static mesos_status write_pid_file(const char *dir, pid_t pid, mesos_error **err) {
  char tmp[4200], path[4200], v[64];
  snprintf(tmp, sizeof tmp, "%s/pid.tmp", dir);
  snprintf(path, sizeof path, "%s/pid", dir);
  int n = snprintf(v, sizeof v, "%d %" PRIu64 "\n", (int)pid, mesos__proc_starttime(pid));
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return mesos__err(err, MESOS_EIO, "containerizer: create %s: %s", tmp, strerror(errno));
  /* No fsync: the runtime dir is tmpfs-like state that does not survive a
   * reboot, and a crash of the agent alone does not lose page cache. */
  int ok = write(fd, v, (size_t)n) == n;
  close(fd);
  if (!ok || rename(tmp, path) != 0)
    return mesos__err(err, MESOS_EIO, "containerizer: writing %s: %s", path, strerror(errno));
  return MESOS_OK;
}

static int open_log(const char *sandbox, const char *name) {
  if (sandbox == NULL) return -1;
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", sandbox, name);
  return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

/* Everything up to the init's release: validation, prepare, clone,
 * isolate, checkpoint, watches.  On success the container is in the map,
 * launching, and c->l's error pipe will tell how the exec went; on error
 * nothing is left. */
static mesos_status launch_begin(mesos__containerizer *cz, const char *id,
                                 const mesos__container_config *cfg, container **out,
                                 mesos_error **err) {
  *out = NULL;
  if (cz == NULL || cfg == NULL || cfg->argv == NULL || cfg->argv[0] == NULL)
    return mesos__err(err, MESOS_EINVAL, "containerizer launch: no command");
  if (!id_ok(id))
    return mesos__err(err, MESOS_EINVAL,
                      "containerizer launch: bad container id (1..%d of [A-Za-z0-9_.-])", ID_MAX);
  container *old = mesos__map_get(&cz->containers, id);
  if (old && !old->terminated)
    return mesos__err(err, MESOS_EEXIST, "container %s already exists", id);
  if (old) { /* terminated, never waited for: forget it */
    mesos__map_remove(&cz->containers, id);
    container_free(old);
  }
  if (cfg->sandbox && cfg->sandbox[0] != '/')
    return mesos__err(err, MESOS_EINVAL, "containerizer launch: the sandbox must be absolute");
  for (size_t i = 0; i < cfg->nvolumes; i++) {
    const mesos__volume *v = &cfg->volumes[i];
    if (v->type == MESOS__VOLUME_HOST_PATH && !cz->vol_host)
      return mesos__err(err, MESOS_EINVAL, "volume %zu: HOST_PATH volumes need volume/host_path", i);
    if (v->type == MESOS__VOLUME_SANDBOX_PATH && !cz->vol_sandbox)
      return mesos__err(err, MESOS_EINVAL,
                        "volume %zu: SANDBOX_PATH volumes need volume/sandbox_path", i);
    if (v->type != MESOS__VOLUME_HOST_PATH && v->type != MESOS__VOLUME_SANDBOX_PATH &&
        v->type != MESOS__VOLUME_PERSISTENT)
      return mesos__err(err, MESOS_EINVAL, "volume %zu: unknown type %d", i, v->type);
    if (v->host_path == NULL || v->container_path == NULL)
      return mesos__err(err, MESOS_EINVAL, "volume %zu: missing path", i);
    if (v->type == MESOS__VOLUME_PERSISTENT && v->host_path[0] != '/')
      return mesos__err(err, MESOS_EINVAL, "volume %zu: a persistent volume's path must be absolute",
                        i);
    if (v->type == MESOS__VOLUME_SANDBOX_PATH &&
        (cfg->sandbox == NULL || v->host_path[0] == '/' || strstr(v->host_path, "..")))
      return mesos__err(err, MESOS_EINVAL,
                        "volume %zu: a SANDBOX_PATH source is relative to the sandbox, without '..'",
                        i);
  }
  container *c = MESOS__NEW(container);
  if (c == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  c->cz = cz;
  c->pidfd = -1;
  c->id = mesos__strdup(id);
  c->dir = join(cz->runtime_dir, id);
  if (c->id == NULL || c->dir == NULL) {
    container_free(c);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  if (mkdir(c->dir, 0755) != 0) {
    mesos_status st = errno == EEXIST
                          ? mesos__err(err, MESOS_EEXIST, "container %s: %s exists (recover first)",
                                       id, c->dir)
                          : mesos__err(err, MESOS_EIO, "mkdir %s: %s", c->dir, strerror(errno));
    container_free(c);
    return st;
  }
  int prepared = 0;
  int status_fd = -1, out_fd = -1, err_fd = -1;
  char **envp = NULL;
  mesos__launch_mount *mounts = NULL;
  char **mount_srcs = NULL;
  mesos__launch *l = NULL;
  pid_t pid = -1;
  mesos_status st = mesos__builtin_track(cz->ctx, id, err);
  if (st != MESOS_OK) goto fail;

  mesos_isolator_container ci = {MESOS_ISOLATOR_CONTAINER_VERSION, id, cfg->sandbox, cfg->rootfs,
                                 cfg->user, cfg->cpus, cfg->mem_bytes, cfg->pids_max};
  mesos_isolator_launch_info info = {MESOS_ISOLATOR_LAUNCH_INFO_VERSION, 0};
  for (; prepared < cz->nisolators; prepared++) {
    mesos__isolator *iso = &cz->isolators[prepared];
    mesos_isolator_pending *p = mesos__pending_new();
    if (p == NULL) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      goto fail;
    }
    iso->ops.prepare(iso->ud, &ci, &info, p);
    st = await(cz, p, "prepare", iso->name, err);
    if (st != MESOS_OK) {
      prepared++; /* its cleanup runs too */
      goto fail;
    }
  }
  if (cfg->hostname) info.namespaces |= MESOS_NS_UTS;
  if (cfg->isolate_network) info.namespaces |= MESOS_NS_NET;
  if (cfg->rootfs && !(info.namespaces & MESOS_NS_MOUNT)) {
    st = mesos__err(err, MESOS_EINVAL, "container %s: a root filesystem needs filesystem/linux", id);
    goto fail;
  }

  /* Environment: the caller's, then MESOS_SANDBOX as the task sees it. */
  size_t nenv = 0;
  while (cfg->env && cfg->env[nenv]) nenv++;
  if (nenv > MAX_ENV) {
    st = mesos__err(err, MESOS_ELIMIT, "container %s: more than %d environment variables", id, MAX_ENV);
    goto fail;
  }
  envp = mesos__calloc(nenv + 2, sizeof *envp);
  if (envp == NULL) {
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto fail;
  }
  size_t ne = 0;
  for (size_t i = 0; i < nenv; i++)
    if (strncmp(cfg->env[i], "MESOS_SANDBOX=", 14) != 0) envp[ne++] = (char *)cfg->env[i];
  const char *sb = cfg->sandbox ? (cfg->rootfs ? cz->sandbox_dir : cfg->sandbox) : NULL;
  char *sbvar = NULL;
  if (sb) {
    size_t n = strlen(sb) + 15;
    sbvar = mesos__malloc(n);
    if (sbvar == NULL) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      goto fail;
    }
    snprintf(sbvar, n, "MESOS_SANDBOX=%s", sb);
    envp[ne++] = sbvar;
  }

  if (cfg->nvolumes) {
    mounts = mesos__calloc(cfg->nvolumes, sizeof *mounts);
    mount_srcs = mesos__calloc(cfg->nvolumes, sizeof *mount_srcs);
    if (mounts == NULL || mount_srcs == NULL) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      goto fail_env;
    }
    for (size_t i = 0; i < cfg->nvolumes; i++) {
      const mesos__volume *v = &cfg->volumes[i];
      if (v->type == MESOS__VOLUME_SANDBOX_PATH) {
        mount_srcs[i] = join(cfg->sandbox, v->host_path);
        if (mount_srcs[i] == NULL) {
          st = mesos__err(err, MESOS_ENOMEM, "out of memory");
          goto fail_env;
        }
        mkdirs(mount_srcs[i]);
      }
      mounts[i].source = mount_srcs[i] ? mount_srcs[i] : v->host_path;
      mounts[i].target = v->container_path;
      mounts[i].readonly = v->readonly;
    }
  }

  char spath[4200];
  snprintf(spath, sizeof spath, "%s/status", c->dir);
  status_fd = open(spath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (status_fd < 0) {
    st = mesos__err(err, MESOS_EIO, "create %s: %s", spath, strerror(errno));
    goto fail_env;
  }
  out_fd = open_log(cfg->sandbox, "stdout");
  err_fd = open_log(cfg->sandbox, "stderr");
  mesos__launch_spec spec = {
    .path = cfg->path,
    .argv = cfg->argv,
    .envp = (const char *const *)envp,
    .cwd = cfg->working_dir,
    .rootfs = cfg->rootfs,
    .sandbox = cfg->sandbox,
    .sandbox_target = cz->sandbox_dir,
    .hostname = cfg->hostname,
    .namespaces = info.namespaces,
    .mounts = mounts,
    .nmounts = cfg->nvolumes,
    .user = cfg->user,
    .stdout_fd = out_fd,
    .stderr_fd = err_fd,
    .status_fd = status_fd,
    .init_path = cz->init_path,
  };
  st = mesos__launch_start(&spec, &l, &pid, err);
  if (st != MESOS_OK) goto fail_env;
  c->pid = pid;
  c->is_child = 1;
  mesos__builtin_set_pid(cz->ctx, id, pid);
  for (int i = 0; i < cz->nisolators && st == MESOS_OK; i++) {
    mesos__isolator *iso = &cz->isolators[i];
    if (iso->ops.isolate == NULL) continue;
    mesos_isolator_pending *p = mesos__pending_new();
    if (p == NULL) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      break;
    }
    iso->ops.isolate(iso->ud, id, pid, p);
    st = await(cz, p, "isolate", iso->name, err);
  }
  if (st == MESOS_OK) st = mesos__builtin_attach(cz->ctx, id, pid, err);
  if (st == MESOS_OK) st = write_pid_file(c->dir, pid, err);
  /* Limitation watches are armed before the task runs, so none is missed;
   * a container that cannot be watched is not started. */
  for (int i = 0; i < cz->nisolators && st == MESOS_OK; i++) {
    mesos__isolator *iso = &cz->isolators[i];
    if (iso->ops.watch == NULL) continue;
    mesos_error *we = NULL;
    st = iso->ops.watch(iso->ud, id, on_limitation, cz, &we);
    if (st != MESOS_OK)
      mesos__err_wrap(err, st, we, "isolator %s: watch failed", iso->name);
  }
  if (st == MESOS_OK && mesos__map_put(&cz->containers, id, c) != MESOS_OK)
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  if (st != MESOS_OK) {
    mesos__launch_abort(l);
    goto fail_kill;
  }
  st = mesos__launch_go(l, NULL, err);
  if (st != MESOS_OK) {
    mesos__map_remove(&cz->containers, id);
    mesos__launch_abort(l);
    goto fail_kill;
  }
  c->l = l;
  close(status_fd);
  if (out_fd >= 0) close(out_fd);
  if (err_fd >= 0) close(err_fd);
  mesos__free(sbvar);
  mesos__free(envp);
  for (size_t i = 0; mount_srcs && i < cfg->nvolumes; i++) mesos__free(mount_srcs[i]);
  mesos__free(mount_srcs);
  mesos__free(mounts);
  *out = c;
  return MESOS_OK;

fail_kill:
  kill(pid, SIGKILL);
  {
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
  }
fail_env:
  if (status_fd >= 0) close(status_fd);
  if (out_fd >= 0) close(out_fd);
  if (err_fd >= 0) close(err_fd);
  mesos__free(sbvar);
  mesos__free(envp);
  for (size_t i = 0; mount_srcs && i < cfg->nvolumes; i++) mesos__free(mount_srcs[i]);
  mesos__free(mount_srcs);
  mesos__free(mounts);
  goto fail_iso;
fail:
  mesos__free(envp);
fail_iso:
  cleanup_isolators(cz, id, prepared);
  rm_dir(c->dir);
  container_free(c);
  return st;
}

/* The init's error pipe has spoken (or closed): the task exec'ed, or a
 * step failed, or the container was killed meanwhile.  On success the
 * init is watched from now on; on failure everything is undone (a waiter
 * gets a termination without status) and `c` is gone. */
static mesos_status launch_end(container *c, mesos_status st, mesos_error **err) {
  mesos__containerizer *cz = c->cz;
  c->l = NULL;
  if (c->lpoll) {
    uv_poll_stop(c->lpoll);
    uv_close((uv_handle_t *)c->lpoll, handle_closed);
    c->lpoll = NULL;
  }
  if (st == MESOS_OK && c->killed)
    st = mesos__err(err, MESOS_ECLOSED, "container %s was destroyed while it was starting", c->id);
  if (st == MESOS_OK) st = watch_pid(c, err);
  if (st == MESOS_OK) return MESOS_OK;
  kill(c->pid, SIGKILL);
  int ws;
  while (waitpid(c->pid, &ws, 0) < 0 && errno == EINTR) {
  }
  cleanup_isolators(cz, c->id, cz->nisolators);
  rm_dir(c->dir);
  if (c->pidfd >= 0) {
    close(c->pidfd);
    c->pidfd = -1;
  }
  c->terminated = 1;
  if (c->cb) {
    snprintf(c->term.message, sizeof c->term.message, "%s",
             err && *err ? mesos_error_message(*err) : "the container did not start");
    schedule_delivery(c);
  } else {
    mesos__map_remove(&cz->containers, c->id);
    container_free(c);
  }
  return st;
}

mesos_status mesos__containerizer_launch(mesos__containerizer *cz, const char *id,
                                         const mesos__container_config *cfg, pid_t *pid_out,
                                         mesos_error **err) {
  container *c;
  mesos_status st = launch_begin(cz, id, cfg, &c, err);
  if (st != MESOS_OK) return st;
  pid_t pid = c->pid;
  mesos__launch *l = c->l;
  int fd = -1;
  /* launch_begin left the pipe non-blocking: wait for it with poll. */
  for (;;) {
    mesos_error *e = NULL;
    if (mesos__launch_collect(l, &st, &e)) {
      if (st != MESOS_OK && err) *err = e;
      else mesos_error_free(e);
      break;
    }
    mesos_error_free(e);
    if (fd < 0) fd = mesos__launch_fd(l);
    struct pollfd pfd = {fd, POLLIN, 0};
    while (poll(&pfd, 1, -1) < 0 && errno == EINTR) {
    }
  }
  st = launch_end(c, st, err);
  if (st == MESOS_OK && pid_out) *pid_out = pid;
  return st;
}


static void launch_result_closed(uv_handle_t *h) { mesos__free(h->data); }

static void deferred_unlink(launch_result *r) {
  if (r->prev) r->prev->next = r->next;
  else if (r->cz && r->cz->deferred == r) r->cz->deferred = r->next;
  if (r->next) r->next->prev = r->prev;
  r->prev = r->next = NULL;
  r->cz = NULL;
}

static void launch_result_cb(uv_timer_t *t) {
  launch_result *r = t->data;
  deferred_unlink(r);
  r->cb(r->id, r->status, r->status == MESOS_OK ? NULL : r->message, r->pid, r->ud);
  uv_close((uv_handle_t *)&r->timer, launch_result_closed);
}

/* Reports through the loop: for outcomes known inside a call (destroy). */
static void defer_launch_result(mesos__containerizer *cz, launch_result *r, const char *id,
                                mesos_status st, const mesos_error *e, pid_t pid) {
  snprintf(r->id, sizeof r->id, "%s", id);
  r->status = st;
  snprintf(r->message, sizeof r->message, "%s", e ? mesos_error_message(e) : mesos_status_str(st));
  r->pid = pid;
  r->cz = cz;
  r->prev = NULL;
  r->next = cz->deferred;
  if (r->next) r->next->prev = r;
  cz->deferred = r;
  uv_timer_init(mesos__loop_uv(cz->loop), &r->timer);
  r->timer.data = r;
  uv_timer_start(&r->timer, launch_result_cb, 0, 0);
}

static void launch_ready(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  container *c = h->data;
  mesos_status st = MESOS_OK;
  mesos_error *e = NULL;
  /* The pipe leaves epoll before collect may close it: an fd closed while
   * registered stays registered as long as another process holds the
   * pipe (an init cloned at that moment does, briefly), and its events
   * would then go to whatever handle gets the same fd number next. */
  uv_poll_stop(h);
  if (!mesos__launch_collect(c->l, &st, &e)) {
    mesos_error_free(e);
    uv_poll_start(h, UV_READABLE, launch_ready);
    return;
  }
  c->l = NULL;
  char id[ID_MAX + 1];
  snprintf(id, sizeof id, "%s", c->id);
  pid_t pid = c->pid;
  launch_result *r = c->lres;
  c->lres = NULL;
  st = launch_end(c, st, &e); /* on failure c is gone */
  /* On the loop already: report at once. */
  r->cb(id, st, st == MESOS_OK ? NULL : (e ? mesos_error_message(e) : mesos_status_str(st)),
        st == MESOS_OK ? pid : -1, r->ud);
  mesos__free(r);
  mesos_error_free(e);
}

mesos_status mesos__containerizer_launch_async(mesos__containerizer *cz, const char *id,
                                               const mesos__container_config *cfg,
                                               mesos__container_launch_fn cb, void *ud,
                                               mesos_error **err) {
  if (cb == NULL) return mesos__err(err, MESOS_EINVAL, "containerizer launch: NULL callback");
  launch_result *r = MESOS__NEW(launch_result);
  if (r == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  r->cb = cb;
  r->ud = ud;
  container *c;
  mesos_status st = launch_begin(cz, id, cfg, &c, err);
  if (st != MESOS_OK) {
    mesos__free(r);
    return st;
  }
  c->lres = r;
  uv_poll_t *h = mesos__malloc(sizeof *h);
  int rc = h ? uv_poll_init(mesos__loop_uv(cz->loop), h, mesos__launch_fd(c->l)) : UV_ENOMEM;
  if (rc != 0) {
    mesos__free(h);
    /* Cannot watch it: wait here instead, and report on the loop. */
    mesos_error *e = NULL;
    st = MESOS_OK;
    for (;;) {
      if (mesos__launch_collect(c->l, &st, &e)) break;
      mesos_error_free(e);
      e = NULL;
      struct pollfd pfd = {mesos__launch_fd(c->l), POLLIN, 0};
      while (poll(&pfd, 1, -1) < 0 && errno == EINTR) {
      }
    }
    c->l = NULL;
    pid_t pid = c->pid;
    char cid[ID_MAX + 1];
    snprintf(cid, sizeof cid, "%s", id);
    c->lres = NULL;
    st = launch_end(c, st, &e);
    defer_launch_result(cz, r, cid, st, e, st == MESOS_OK ? pid : -1);
    mesos_error_free(e);
    return MESOS_OK;
  }
  h->data = c;
  c->lpoll = h;
  uv_poll_start(h, UV_READABLE, launch_ready);
  return MESOS_OK;
}

mesos_status mesos__containerizer_wait(mesos__containerizer *cz, const char *id,
                                       mesos__container_wait_fn cb, void *ud, mesos_error **err) {
  container *c = id ? mesos__map_get(&cz->containers, id) : NULL;
  if (c == NULL) return mesos__err(err, MESOS_ENOTFOUND, "no container %s", id ? id : "(null)");
  if (cb == NULL) return mesos__err(err, MESOS_EINVAL, "containerizer wait: NULL callback");
  if (c->cb) return mesos__err(err, MESOS_EEXIST, "container %s already has a waiter", id);
  c->cb = cb;
  c->cb_ud = ud;
  if (c->terminated) schedule_delivery(c);
  return MESOS_OK;
}

typedef struct sync_wait {
  int done;
  mesos__container_termination *t;
} sync_wait;

static void sync_cb(const char *id, const mesos__container_termination *t, void *ud) {
  (void)id;
  sync_wait *w = ud;
  if (w->t) *w->t = *t;
  w->done = 1;
}

static void timeout_cb(uv_timer_t *t) { (void)t; }

mesos_status mesos__containerizer_wait_sync(mesos__containerizer *cz, const char *id,
                                            int timeout_ms, mesos__container_termination *t,
                                            mesos_error **err) {
  container *c = id ? mesos__map_get(&cz->containers, id) : NULL;
  if (c == NULL) return mesos__err(err, MESOS_ENOTFOUND, "no container %s", id ? id : "(null)");
  if (c->terminated && c->cb == NULL) {
    if (t) *t = c->term;
    mesos__map_remove(&cz->containers, id);
    container_free(c);
    return MESOS_OK;
  }
  sync_wait w = {0, t};
  mesos_status st = mesos__containerizer_wait(cz, id, sync_cb, &w, err);
  if (st != MESOS_OK) return st;
  uv_loop_t *uv = mesos__loop_uv(cz->loop);
  uv_timer_t timer;
  /* The loop's clock is only refreshed when it runs; a caller that did
   * not run it for a while would otherwise get a timer already due. */
  uv_update_time(uv);
  uv_timer_init(uv, &timer);
  int fired = 0;
  timer.data = &fired;
  uv_timer_start(&timer, timeout_cb, (uint64_t)(timeout_ms > 0 ? timeout_ms : 0), 0);
  while (!w.done && uv_is_active((uv_handle_t *)&timer)) uv_run(uv, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&timer, NULL);
  uv_run(uv, UV_RUN_NOWAIT);
  if (!w.done) {
    c = mesos__map_get(&cz->containers, id);
    if (c) {
      c->cb = NULL;
      c->cb_ud = NULL;
    }
    return mesos__err(err, MESOS_ETIMEDOUT, "container %s still running after %d ms", id, timeout_ms);
  }
  return MESOS_OK;
}

mesos_status mesos__containerizer_destroy(mesos__containerizer *cz, const char *id,
                                          mesos_error **err) {
  container *c = id ? mesos__map_get(&cz->containers, id) : NULL;
  if (c == NULL) return mesos__err(err, MESOS_ENOTFOUND, "no container %s", id ? id : "(null)");
  kill_container(c);
  return MESOS_OK;
}

mesos_status mesos__containerizer_kill(mesos__containerizer *cz, const char *id,
                                       mesos_error **err) {
  container *c = id ? mesos__map_get(&cz->containers, id) : NULL;
  if (c == NULL) return mesos__err(err, MESOS_ENOTFOUND, "no container %s", id ? id : "(null)");
  if (c->terminated || c->pid <= 0) return MESOS_OK;
  if (c->l) c->killed = 1; /* the launch then ends with an error */
  kill(c->pid, SIGKILL);
  if (mesos__builtin_cgroup(cz->ctx, id) == NULL) kill(-c->pid, SIGKILL);
  return MESOS_OK;
}

mesos_status mesos__containerizer_update(mesos__containerizer *cz, const char *id,
                                         const mesos_container_limits *limits, mesos_error **err) {
  container *c = id ? mesos__map_get(&cz->containers, id) : NULL;
  if (c == NULL || c->terminated)
    return mesos__err(err, MESOS_ENOTFOUND, "no running container %s", id ? id : "(null)");
  if (limits == NULL || limits->version != MESOS_CONTAINER_LIMITS_VERSION)
    return mesos__err(err, MESOS_EVERSION, "mesos_container_limits: version not supported");
  if (limits->cpus < 0 || limits->cpus != limits->cpus)
    return mesos__err(err, MESOS_EINVAL, "container %s: bad cpus %g", id, limits->cpus);
  for (int i = 0; i < cz->nisolators; i++) {
    mesos__isolator *iso = &cz->isolators[i];
    if (iso->ops.update == NULL) continue;
    mesos_isolator_pending *p = mesos__pending_new();
    if (p == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
    iso->ops.update(iso->ud, id, limits, p);
    mesos_status st = await(cz, p, "update", iso->name, err);
    if (st != MESOS_OK) return st;
  }
  return MESOS_OK;
}

mesos_status mesos__containerizer_usage(mesos__containerizer *cz, const char *id,
                                        mesos_container_usage *u, mesos_error **err) {
  container *c = id ? mesos__map_get(&cz->containers, id) : NULL;
  if (c == NULL || c->terminated)
    return mesos__err(err, MESOS_ENOTFOUND, "no running container %s", id ? id : "(null)");
  if (u == NULL || u->version != MESOS_CONTAINER_USAGE_VERSION)
    return mesos__err(err, MESOS_EVERSION, "mesos_container_usage: version not supported");
  memset(u, 0, sizeof *u);
  u->version = MESOS_CONTAINER_USAGE_VERSION;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  u->timestamp = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
  for (int i = 0; i < cz->nisolators; i++) {
    mesos__isolator *iso = &cz->isolators[i];
    if (iso->ops.usage == NULL) continue;
    mesos_status st = iso->ops.usage(iso->ud, id, u, err);
    if (st != MESOS_OK) return st;
  }
  return MESOS_OK;
}

mesos_status mesos__containerizer_status(mesos__containerizer *cz, const char *id,
                                         mesos_isolator_status_fn cb, void *ud,
                                         mesos_error **err) {
  container *c = id ? mesos__map_get(&cz->containers, id) : NULL;
  if (c == NULL || c->terminated)
    return mesos__err(err, MESOS_ENOTFOUND, "no running container %s", id ? id : "(null)");
  char v[32];
  snprintf(v, sizeof v, "%d", (int)c->pid);
  cb("pid", v, ud);
  cb("runtime_dir", c->dir, ud);
  for (int i = 0; i < cz->nisolators; i++) {
    mesos__isolator *iso = &cz->isolators[i];
    if (iso->ops.status == NULL) continue;
    mesos_status st = iso->ops.status(iso->ud, id, cb, ud, err);
    if (st != MESOS_OK) return st;
  }
  return MESOS_OK;
}

int mesos__containerizer_ended(mesos__containerizer *cz, const char *id) {
  container *c = id ? mesos__map_get(&cz->containers, id) : NULL;
  return c != NULL && c->terminated;
}

pid_t mesos__containerizer_pid(mesos__containerizer *cz, const char *id) {
  container *c = id ? mesos__map_get(&cz->containers, id) : NULL;
  return (c && !c->terminated) ? c->pid : -1;
}

void mesos__containerizer_ids_free(char **ids) {
  for (size_t i = 0; ids && ids[i]; i++) mesos__free(ids[i]);
  mesos__free(ids);
}

/* At most this many checkpointed containers are recovered; an agent runs
 * far fewer, and the bound keeps a corrupt runtime dir from exhausting
 * memory. */
#define MAX_RECOVER 65536

mesos_status mesos__containerizer_recover(mesos__containerizer *cz, char ***ids_out,
                                          mesos_error **err) {
  if (ids_out) *ids_out = NULL;
  DIR *d = opendir(cz->runtime_dir);
  if (d == NULL) return mesos__err(err, MESOS_EIO, "opendir %s: %s", cz->runtime_dir, strerror(errno));
  size_t cap = 16, nlive = 0, ndead = 0;
  char **live = mesos__calloc(cap + 1, sizeof *live);
  container **dead = mesos__calloc(cap + 1, sizeof *dead);
  container **alive = mesos__calloc(cap + 1, sizeof *alive);
  mesos_status st = MESOS_OK;
  if (live == NULL || dead == NULL || alive == NULL) {
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto out;
  }
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!id_ok(de->d_name) || mesos__map_get(&cz->containers, de->d_name)) continue;
    if (nlive + ndead >= MAX_RECOVER) {
      st = mesos__err(err, MESOS_ELIMIT, "recover: more than %d containers", MAX_RECOVER);
      break;
    }
    if (nlive == cap || ndead == cap) {
      size_t ncap = cap * 2;
      char **nl = mesos__realloc(live, (ncap + 1) * sizeof *nl);
      if (nl) live = nl;
      container **nd = mesos__realloc(dead, (ncap + 1) * sizeof *nd);
      if (nd) dead = nd;
      container **na = mesos__realloc(alive, (ncap + 1) * sizeof *na);
      if (na) alive = na;
      if (!nl || !nd || !na) {
        st = mesos__err(err, MESOS_ENOMEM, "out of memory");
        break;
      }
      cap = ncap;
    }
    container *c = MESOS__NEW(container);
    if (c == NULL) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      break;
    }
    c->cz = cz;
    c->pidfd = -1;
    c->id = mesos__strdup(de->d_name);
    c->dir = join(cz->runtime_dir, de->d_name);
    if (c->id == NULL || c->dir == NULL || mesos__map_put(&cz->containers, c->id, c) != MESOS_OK) {
      container_free(c);
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      break;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/pid", c->dir);
    FILE *f = fopen(path, "re");
    int pid = 0;
    uint64_t start = 0;
    if (f) {
      if (fscanf(f, "%d %" SCNu64, &pid, &start) != 2) pid = 0;
      fclose(f);
    }
    /* Same pid and same start time: the very process we started. */
    if (pid > 0 && start != 0 && mesos__proc_starttime(pid) == start) {
      c->pid = pid;
      live[nlive] = mesos__strdup(c->id);
      if (live[nlive] == NULL) {
        st = mesos__err(err, MESOS_ENOMEM, "out of memory");
        break;
      }
      alive[nlive++] = c;
    } else {
      c->pid = pid;
      dead[ndead++] = c;
    }
  }
  closedir(d);
  d = NULL;
  if (st != MESOS_OK) goto out;
  for (int i = 0; i < cz->nisolators; i++) {
    mesos__isolator *iso = &cz->isolators[i];
    if (iso->ops.recover == NULL) continue;
    mesos_error *e = NULL;
    if (iso->ops.recover(iso->ud, (const char *const *)live, nlive, &e) != MESOS_OK) {
      st = mesos__err_wrap(err, MESOS_EIO, e, "isolator %s: recover failed", iso->name);
      goto out;
    }
  }
  st = mesos__builtin_recover_tracking(cz->ctx, (const char *const *)live, nlive, err);
  if (st != MESOS_OK) goto out;
  for (size_t i = 0; i < nlive; i++) {
    container *c = alive[i];
    mesos__builtin_set_pid(cz->ctx, c->id, c->pid);
    if (watch_pid(c, NULL) != MESOS_OK) {
      finish(c, 0, 0);
      continue;
    }
    for (int k = 0; k < cz->nisolators; k++) {
      mesos__isolator *iso = &cz->isolators[k];
      if (iso->ops.watch) iso->ops.watch(iso->ud, c->id, on_limitation, cz, NULL);
    }
  }
  for (size_t i = 0; i < ndead; i++) {
    LOG_INFO("container %s: its init is gone; cleaning up", dead[i]->id);
    finish(dead[i], 0, 0);
  }
  if (ids_out) {
    *ids_out = live;
    live = NULL;
  }
out:
  if (d) closedir(d);
  mesos__containerizer_ids_free(live);
  mesos__free(dead);
  mesos__free(alive);
  return st;
}
