/*
 * The built-in isolators, written against the public mesos_isolator_ops
 * like a vendor's would be.
 *
 * All cgroups/<controller> isolators of one containerizer share one
 * cgroup per container (the union of their controllers, plus the tracking
 * hierarchy), kept here in the shared context: creating it once and
 * attaching the init once is cheaper than one directory dance per
 * isolator, and the containerizer needs the same cgroup to kill every
 * process of a container.  Limits are per isolator.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "base/map.h"
#include "containerizer/isolator_int.h"
#include "loop/loop_int.h"

/* Mesos's floor for the memory limit: below it the kernel and the
 * executor itself do not fit. */
#define MIN_MEMORY_BYTES (32ull << 20)

enum {
  K_CG_CPU, K_CG_MEM, K_CG_PIDS, K_CG_DEVICES, K_NS_PID, K_NS_IPC, K_FS_LINUX, K_FS_POSIX,
  K_VOL_HOST, K_VOL_SANDBOX, K_POSIX_CPU, K_POSIX_MEM, K_DOCKER_RUNTIME, K_COUNT
};

static const char *const kind_names[K_COUNT] = {
  "cgroups/cpu", "cgroups/mem", "cgroups/pids", "cgroups/devices", "namespaces/pid",
  "namespaces/ipc", "filesystem/linux", "filesystem/posix", "volume/host_path",
  "volume/sandbox_path", "posix/cpu", "posix/mem", "docker/runtime",
};

int mesos__builtin_isolator_known(const char *name) {
  for (int i = 0; i < K_COUNT; i++)
    if (strcmp(kind_names[i], name) == 0) return 1;
  return strcmp(name, "cgroups") == 0;
}

typedef struct cg_entry {
  mesos__builtin_ctx *ctx;
  char *id;
  mesos__cgroup *cg;
  int attached;
  uint64_t mem_bytes;
  uv_poll_t *poll;            /* OOM watch */
  mesos_isolator_limitation_fn cb;
  void *cb_ud;
  int reported;
} cg_entry;

typedef struct iso_ud {
  mesos__builtin_ctx *ctx;
  int kind;
} iso_ud;

struct mesos__builtin_ctx {
  mesos_loop *loop;
  char *root;
  int cfs, swap;
  int have_layout;
  mesos__cg_layout layout;
  uint32_t controllers;  /* union over the enabled cgroups isolators */
  mesos__map cgs;        /* id -> cg_entry */
  mesos__map pids;       /* id -> (void*)(intptr_t)pid, for posix usage */
  iso_ud uds[K_COUNT];
};

mesos_status mesos__builtin_ctx_new(mesos__builtin_ctx **out, mesos_loop *loop,
                                    const char *cgroups_root, int enable_cfs, int limit_swap,
                                    mesos_error **err) {
  mesos__builtin_ctx *c = MESOS__NEW(mesos__builtin_ctx);
  if (c == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  c->loop = loop;
  c->root = mesos__strdup(cgroups_root);
  c->cfs = enable_cfs;
  c->swap = limit_swap;
  mesos__map_init(&c->cgs);
  mesos__map_init(&c->pids);
  for (int i = 0; i < K_COUNT; i++) c->uds[i] = (iso_ud){c, i};
  if (c->root == NULL) {
    mesos__free(c);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  *out = c;
  return MESOS_OK;
}

static void poll_closed(uv_handle_t *h) { mesos__free(h); }

static void entry_free(cg_entry *e) {
  if (e == NULL) return;
  if (e->poll) {
    uv_poll_stop(e->poll);
    uv_close((uv_handle_t *)e->poll, poll_closed);
  }
  mesos__cg_free(e->cg);
  mesos__free(e->id);
  mesos__free(e);
}

void mesos__builtin_ctx_free(mesos__builtin_ctx *c) {
  if (c == NULL) return;
  const char *k;
  void *v;
  for (size_t it = 0; mesos__map_next(&c->cgs, &it, &k, &v);) entry_free(v);
  mesos__map_free(&c->cgs);
  mesos__map_free(&c->pids);
  mesos__cg_layout_free(&c->layout);
  mesos__free(c->root);
  mesos__free(c);
}

mesos__cgroup *mesos__builtin_cgroup(mesos__builtin_ctx *c, const char *id) {
  cg_entry *e = mesos__map_get(&c->cgs, id);
  return e ? e->cg : NULL;
}

uint64_t mesos__builtin_oom_kills(mesos__builtin_ctx *c, const char *id) {
  cg_entry *e = mesos__map_get(&c->cgs, id);
  if (e == NULL || !(e->cg->controllers & MESOS__CG_BIT(MESOS__CG_MEMORY))) return 0;
  return mesos__cg_oom_kills(e->cg);
}

void mesos__builtin_set_pid(mesos__builtin_ctx *c, const char *id, pid_t pid) {
  if (pid > 0)
    mesos__map_put(&c->pids, id, (void *)(intptr_t)pid);
  else
    mesos__map_remove(&c->pids, id);
}

/* ------------------------------------------------------------ cgroups */

static int cg_controller(int kind) {
  switch (kind) {
    case K_CG_CPU: return MESOS__CG_CPU;
    case K_CG_MEM: return MESOS__CG_MEMORY;
    case K_CG_PIDS: return MESOS__CG_PIDS;
    case K_CG_DEVICES: return MESOS__CG_DEVICES;
    default: return -1;
  }
}

/* The container's shared cgroup, created by the first isolator asking. */
static mesos_status ensure_cg(mesos__builtin_ctx *c, const char *id, cg_entry **out,
                              mesos_error **err) {
  cg_entry *e = mesos__map_get(&c->cgs, id);
  if (e == NULL) {
    e = MESOS__NEW(cg_entry);
    if (e == NULL || (e->id = mesos__strdup(id)) == NULL) {
      mesos__free(e);
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
    }
    e->ctx = c;
    mesos_status st = mesos__cg_create(&c->layout, c->root, id, c->controllers, 0, &e->cg, err);
    if (st == MESOS_OK && mesos__map_put(&c->cgs, id, e) != MESOS_OK) {
      mesos__cg_destroy(e->cg, NULL);
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    }
    if (st != MESOS_OK) {
      entry_free(e);
      return st;
    }
  }
  *out = e;
  return MESOS_OK;
}

static void cg_prepare(void *ud, const mesos_isolator_container *ci,
                       mesos_isolator_launch_info *info, mesos_isolator_pending *p) {
  iso_ud *u = ud;
  (void)info;
  mesos__builtin_ctx *c = u->ctx;
  mesos_error *e = NULL;
  cg_entry *ent;
  mesos_status st = ensure_cg(c, ci->id, &ent, &e);
  if (st == MESOS_OK) {
    switch (u->kind) {
      case K_CG_CPU:
        if (ci->cpus > 0) st = mesos__cg_set_cpu(ent->cg, ci->cpus, c->cfs, &e);
        break;
      case K_CG_MEM:
        if (ci->mem_bytes > 0) {
          ent->mem_bytes = ci->mem_bytes < MIN_MEMORY_BYTES ? MIN_MEMORY_BYTES : ci->mem_bytes;
          st = mesos__cg_set_mem(ent->cg, ent->mem_bytes, c->swap, &e);
        }
        break;
      case K_CG_PIDS:
        if (ci->pids_max > 0) st = mesos__cg_set_pids(ent->cg, ci->pids_max, &e);
        break;
      case K_CG_DEVICES:
        st = mesos__cg_set_devices(ent->cg, &e);
        break;
    }
  }
  mesos_isolator_pending_done(p, st, e ? mesos_error_message(e) : NULL);
  mesos_error_free(e);
}

static void cg_isolate(void *ud, const char *id, int32_t pid, mesos_isolator_pending *p) {
  iso_ud *u = ud;
  cg_entry *ent = mesos__map_get(&u->ctx->cgs, id);
  mesos_error *e = NULL;
  mesos_status st = MESOS_OK;
  if (ent == NULL)
    st = mesos__err(&e, MESOS_ENOTFOUND, "cgroups: container %s was not prepared", id);
  else if (!ent->attached) {
    st = mesos__cg_attach(ent->cg, pid, &e);
    if (st == MESOS_OK) ent->attached = 1;
  }
  mesos_isolator_pending_done(p, st, e ? mesos_error_message(e) : NULL);
  mesos_error_free(e);
}

static void oom_ready(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  cg_entry *e = h->data;
  uint64_t v;
  if (e->cg->v1[MESOS__CG_MEMORY]) {
    ssize_t r = read(e->cg->oom_efd, &v, sizeof v);
    (void)r;
  }
  /* The v1 eventfd also fires when the cgroup goes away, and v2's
   * memory.events changes for other counters: only a real kill counts. */
  if (e->reported || mesos__cg_oom_kills(e->cg) == 0) return;
  e->reported = 1;
  uv_poll_stop(h);
  mesos_container_usage u;
  memset(&u, 0, sizeof u);
  mesos__cg_usage(e->cg, &u, NULL);
  uint64_t peak = 0;
  char path[4200];
  snprintf(path, sizeof path, "%s/%s",
           e->cg->v1[MESOS__CG_MEMORY] ? e->cg->v1[MESOS__CG_MEMORY] : e->cg->v2,
           e->cg->v1[MESOS__CG_MEMORY] ? "memory.max_usage_in_bytes" : "memory.peak");
  FILE *f = fopen(path, "re");
  if (f) {
    if (fscanf(f, "%" SCNu64, &peak) != 1) peak = 0;
    fclose(f);
  }
  char msg[256];
  snprintf(msg, sizeof msg, "Memory limit exceeded: Requested: %" PRIu64 "MB Maximum Used: %" PRIu64 "MB",
           e->mem_bytes >> 20, (peak ? peak : u.mem_total_bytes) >> 20);
  if (e->cb) e->cb(e->id, MESOS_LIMITATION_MEMORY, msg, e->cb_ud);
}

static mesos_status cg_watch(void *ud, const char *id, mesos_isolator_limitation_fn cb,
                             void *cb_ud, mesos_error **err) {
  iso_ud *u = ud;
  if (u->kind != K_CG_MEM) return MESOS_OK;
  cg_entry *ent = mesos__map_get(&u->ctx->cgs, id);
  if (ent == NULL) return mesos__err(err, MESOS_ENOTFOUND, "cgroups/mem: unknown container %s", id);
  ent->cb = cb;
  ent->cb_ud = cb_ud;
  if (ent->poll) return MESOS_OK;
  int fd;
  mesos_status st = mesos__cg_oom_fd(ent->cg, &fd, err);
  if (st != MESOS_OK) return st;
  uv_poll_t *h = mesos__malloc(sizeof *h);
  if (h == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  int r = uv_poll_init(mesos__loop_uv(u->ctx->loop), h, fd);
  if (r != 0) {
    mesos__free(h);
    return mesos__uv_err(err, r, "cgroups/mem: watching OOM events");
  }
  h->data = ent;
  /* v2 memory.events signals changes as POLLPRI (kernfs notify). */
  uv_poll_start(h, ent->cg->v1[MESOS__CG_MEMORY] ? UV_READABLE : UV_PRIORITIZED, oom_ready);
  ent->poll = h;
  return MESOS_OK;
}

static void cg_update(void *ud, const char *id, const mesos_container_limits *l,
                      mesos_isolator_pending *p) {
  iso_ud *u = ud;
  cg_entry *ent = mesos__map_get(&u->ctx->cgs, id);
  mesos_error *e = NULL;
  mesos_status st = MESOS_OK;
  if (ent == NULL) {
    st = mesos__err(&e, MESOS_ENOTFOUND, "cgroups: unknown container %s", id);
  } else if (u->kind == K_CG_CPU && l->cpus > 0) {
    st = mesos__cg_set_cpu(ent->cg, l->cpus, u->ctx->cfs, &e);
  } else if (u->kind == K_CG_MEM && l->mem_bytes > 0) {
    uint64_t bytes = l->mem_bytes < MIN_MEMORY_BYTES ? MIN_MEMORY_BYTES : l->mem_bytes;
    /* As Mesos's cgroups/mem: the hard limit only grows.  Lowering it
     * under a container that uses more would OOM-kill it (v1 even
     * refuses), so a smaller size moves only the soft limit, which the
     * kernel reclaims towards under memory pressure. */
    if (ent->mem_bytes == 0 || bytes >= ent->mem_bytes) {
      ent->mem_bytes = bytes;
      st = mesos__cg_set_mem(ent->cg, bytes, u->ctx->swap, &e);
    } else {
      st = mesos__cg_set_mem_soft(ent->cg, bytes, &e);
    }
  } else if (u->kind == K_CG_PIDS && l->pids_max > 0) {
    st = mesos__cg_set_pids(ent->cg, l->pids_max, &e);
  }
  mesos_isolator_pending_done(p, st, e ? mesos_error_message(e) : NULL);
  mesos_error_free(e);
}

static mesos_status cg_usage(void *ud, const char *id, mesos_container_usage *usage,
                             mesos_error **err) {
  iso_ud *u = ud;
  cg_entry *ent = mesos__map_get(&u->ctx->cgs, id);
  if (ent == NULL) return mesos__err(err, MESOS_ENOTFOUND, "cgroups: unknown container %s", id);
  mesos_container_usage mine;
  memset(&mine, 0, sizeof mine);
  mesos_status st = mesos__cg_usage(ent->cg, &mine, err);
  if (st != MESOS_OK) return st;
  /* Each isolator reports its own controller's part. */
  if (u->kind == K_CG_CPU) {
    usage->cpus_user_time_secs = mine.cpus_user_time_secs;
    usage->cpus_system_time_secs = mine.cpus_system_time_secs;
    usage->cpus_nr_periods = mine.cpus_nr_periods;
    usage->cpus_nr_throttled = mine.cpus_nr_throttled;
    usage->cpus_throttled_time_secs = mine.cpus_throttled_time_secs;
    usage->fields |= mine.fields & (MESOS_USAGE_CPU_TIMES | MESOS_USAGE_CPU_THROTTLING);
  } else if (u->kind == K_CG_MEM) {
    usage->mem_total_bytes = mine.mem_total_bytes;
    usage->mem_rss_bytes = mine.mem_rss_bytes;
    usage->mem_cache_bytes = mine.mem_cache_bytes;
    usage->mem_swap_bytes = mine.mem_swap_bytes;
    usage->mem_limit_bytes = mine.mem_limit_bytes;
    usage->mem_oom_events = mine.mem_oom_events;
    usage->fields |= mine.fields & (MESOS_USAGE_MEM | MESOS_USAGE_MEM_DETAIL |
                                    MESOS_USAGE_MEM_LIMIT | MESOS_USAGE_MEM_OOM);
  } else if (u->kind == K_CG_PIDS) {
    usage->processes = mine.processes;
    usage->threads = mine.threads;
    usage->fields |= mine.fields & MESOS_USAGE_PROCESSES;
  }
  return MESOS_OK;
}

static mesos_status cg_status(void *ud, const char *id, mesos_isolator_status_fn cb, void *cb_ud,
                              mesos_error **err) {
  iso_ud *u = ud;
  cg_entry *ent = mesos__map_get(&u->ctx->cgs, id);
  if (ent == NULL) return mesos__err(err, MESOS_ENOTFOUND, "cgroups: unknown container %s", id);
  int c = cg_controller(u->kind);
  char key[64];
  snprintf(key, sizeof key, "cgroup.%s", mesos__cg_name(c));
  const char *path = ent->cg->v1[c] ? ent->cg->v1[c] : ent->cg->v2;
  if (path) cb(key, path, cb_ud);
  return MESOS_OK;
}

/* Kills what is left in the container's cgroup and removes it; shared by
 * every cgroups isolator's cleanup and the containerizer, first one wins. */
static mesos_status cg_remove(mesos__builtin_ctx *c, const char *id, mesos_error **err) {
  cg_entry *ent = mesos__map_get(&c->cgs, id);
  if (ent == NULL) return MESOS_OK;
  /* The OOM watch leaves epoll before destroy closes its fd: the v1
   * eventfd lives on in the cgroup's event registration until the kernel
   * tears that down (after rmdir, asynchronously, signalling it), and an
   * fd closed while still in epoll keeps firing, reported under its number
   * to whichever handle reuses it (another container's pidfd, which then
   * looked exited while it ran). */
  if (ent->poll) {
    uv_poll_stop(ent->poll);
    uv_close((uv_handle_t *)ent->poll, poll_closed);
    ent->poll = NULL;
  }
  mesos_status st = mesos__cg_destroy(ent->cg, err);
  if (st != MESOS_OK) return st;
  mesos__map_remove(&c->cgs, id);
  entry_free(ent);
  return MESOS_OK;
}

static void cg_cleanup(void *ud, const char *id, mesos_isolator_pending *p) {
  iso_ud *u = ud;
  mesos_error *e = NULL;
  mesos_status st = cg_remove(u->ctx, id, &e);
  mesos_isolator_pending_done(p, st, e ? mesos_error_message(e) : NULL);
  mesos_error_free(e);
}

static int in_list(const char *const *ids, size_t n, const char *id) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(ids[i], id) == 0) return 1;
  return 0;
}

/* Re-opens the cgroups of recovered containers and removes orphans (a
 * container directory under our root nobody knows: an agent crashed
 * between mkdir and checkpoint, or the runtime dir was wiped). */
static mesos_status cg_recover(void *ud, const char *const *ids, size_t n, mesos_error **err) {
  iso_ud *u = ud;
  mesos__builtin_ctx *c = u->ctx;
  for (size_t i = 0; i < n; i++) {
    if (mesos__map_get(&c->cgs, ids[i])) continue;
    cg_entry *e = MESOS__NEW(cg_entry);
    if (e == NULL || (e->id = mesos__strdup(ids[i])) == NULL) {
      mesos__free(e);
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
    }
    e->ctx = c;
    e->attached = 1;
    mesos_status st = mesos__cg_create(&c->layout, c->root, ids[i], c->controllers, 1, &e->cg, NULL);
    if (st != MESOS_OK || mesos__map_put(&c->cgs, ids[i], e) != MESOS_OK) {
      entry_free(e);
      continue; /* the container will be found dead or run unisolated */
    }
    uint64_t limit = 0;
    if (e->cg->v1[MESOS__CG_MEMORY]) {
      char path[4200];
      snprintf(path, sizeof path, "%s/memory.limit_in_bytes", e->cg->v1[MESOS__CG_MEMORY]);
      FILE *f = fopen(path, "re");
      if (f) {
        if (fscanf(f, "%" SCNu64, &limit) != 1) limit = 0;
        fclose(f);
      }
    }
    e->mem_bytes = limit;
  }
  /* Orphans, per hierarchy in use (MESOS__CG_COUNT stands for v2). */
  uint32_t v2_bits = 0;
  for (int ctl = 0; ctl < MESOS__CG_COUNT; ctl++)
    if (c->layout.where[ctl] == MESOS__CG_V2) v2_bits |= MESOS__CG_BIT(ctl);
  for (int ctl = 0; ctl <= MESOS__CG_COUNT; ctl++) {
    char dir[4200];
    uint32_t bits;
    if (ctl == MESOS__CG_COUNT) {
      /* v2 is our tracking hierarchy only without a v1 freezer. */
      if (c->layout.v2_mount == NULL || c->layout.where[MESOS__CG_FREEZER] == MESOS__CG_V1) continue;
      snprintf(dir, sizeof dir, "%s%s/%s", c->layout.v2_mount,
               strcmp(c->layout.v2_self, "/") == 0 ? "" : c->layout.v2_self, c->root);
      bits = c->controllers & v2_bits;
    } else if (c->layout.where[ctl] == MESOS__CG_V1 &&
               (c->controllers & MESOS__CG_BIT(ctl) || ctl == MESOS__CG_FREEZER)) {
      snprintf(dir, sizeof dir, "%s%s/%s", c->layout.v1_mount[ctl],
               strcmp(c->layout.v1_self[ctl], "/") == 0 ? "" : c->layout.v1_self[ctl], c->root);
      bits = MESOS__CG_BIT(ctl);
    } else {
      continue;
    }
    DIR *d = opendir(dir);
    if (d == NULL) continue;
    struct dirent *de;
    char *orphans[256];
    int no = 0;
    while ((de = readdir(d)) != NULL && no < 256) {
      if (de->d_type != DT_DIR || de->d_name[0] == '.') continue;
      if (in_list(ids, n, de->d_name)) continue;
      orphans[no] = mesos__strdup(de->d_name);
      if (orphans[no]) no++;
    }
    closedir(d);
    for (int i = 0; i < no; i++) {
      mesos__cgroup *cg = NULL;
      if (mesos__cg_create(&c->layout, c->root, orphans[i], bits, 1, &cg, NULL) ==
          MESOS_OK) {
        LOG_INFO("cgroups: removing orphan cgroup %s/%s", dir, orphans[i]);
        mesos__cg_destroy(cg, NULL);
        mesos__cg_free(cg);
      }
      mesos__free(orphans[i]);
    }
  }
  return MESOS_OK;
}

/* ------------------------------------------------------------ namespaces, fs */

static void ns_prepare(void *ud, const mesos_isolator_container *ci,
                       mesos_isolator_launch_info *info, mesos_isolator_pending *p) {
  iso_ud *u = ud;
  switch (u->kind) {
    case K_NS_PID: info->namespaces |= MESOS_NS_PID | MESOS_NS_MOUNT; break;
    case K_NS_IPC: info->namespaces |= MESOS_NS_IPC; break;
    case K_FS_LINUX: info->namespaces |= MESOS_NS_MOUNT; break;
    case K_FS_POSIX:
      if (ci->rootfs) {
        mesos_isolator_pending_done(p, MESOS_EINVAL,
                                    "filesystem/posix: a container with a root filesystem needs "
                                    "filesystem/linux");
        return;
      }
      break;
    default: break;
  }
  mesos_isolator_pending_done(p, MESOS_OK, NULL);
}

static void nop_cleanup(void *ud, const char *id, mesos_isolator_pending *p) {
  (void)ud;
  (void)id;
  mesos_isolator_pending_done(p, MESOS_OK, NULL);
}

/* ------------------------------------------------------------ posix usage */

/* Sums CPU times and RSS of every process in the container's session (the
 * init made itself session leader, and tasks rarely leave the session). */
/* Rss of /proc/<pid>/smaps_rollup in bytes, 0 when unreadable. */
static uint64_t smaps_rss_bytes(const char *pid) {
  char path[300], buf[2048];
  snprintf(path, sizeof path, "/proc/%s/smaps_rollup", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t r = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (r <= 0) return 0;
  buf[r] = '\0';
  const char *q = strstr(buf, "\nRss:");
  return q ? strtoull(q + 5, NULL, 10) * 1024u : 0;
}

static mesos_status posix_usage(void *ud, const char *id, mesos_container_usage *usage,
                                mesos_error **err) {
  iso_ud *u = ud;
  void *v = mesos__map_get(&u->ctx->pids, id);
  if (v == NULL) return mesos__err(err, MESOS_ENOTFOUND, "posix: unknown container %s", id);
  long sid = (long)(intptr_t)v;
  long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
  if (hz <= 0) hz = 100;
  if (page <= 0) page = 4096;
  DIR *d = opendir("/proc");
  if (d == NULL) return mesos__err_errno(err, MESOS_EIO, errno, "opendir /proc");
  uint64_t ut = 0, stt = 0, rss = 0, procs = 0, threads = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] < '1' || de->d_name[0] > '9') continue;
    char path[300], buf[1024];
    snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0) continue;
    buf[r] = '\0';
    char *q = strrchr(buf, ')');
    if (q == NULL) continue;
    /* Fields after the command: 3 state, 4 ppid, 5 pgrp, 6 session, ...
     * 14 utime, 15 stime, 20 num_threads, 24 rss. */
    unsigned long long f[25] = {0};
    int field = 3;
    for (char *s = q + 2; *s && field <= 24; field++) {
      f[field] = strtoull(s, NULL, 10);
      s = strchr(s, ' ');
      if (s == NULL) break;
      s++;
    }
    if ((long)f[6] != sid) continue;
    ut += f[14];
    stt += f[15];
    threads += f[20];
    /* The kernel keeps RSS in per-CPU counters and /proc/<pid>/stat
     * reads only their flushed part (Linux 6.2+): a small process (the
     * libc-free init touches a few pages) reads 0 there.  smaps_rollup
     * walks its mappings instead, exact and still cheap at that size. */
    rss += f[24] ? f[24] : smaps_rss_bytes(de->d_name) / (uint64_t)page;
    procs++;
  }
  closedir(d);
  if (u->kind == K_POSIX_CPU) {
    usage->cpus_user_time_secs = (double)ut / (double)hz;
    usage->cpus_system_time_secs = (double)stt / (double)hz;
    usage->fields |= MESOS_USAGE_CPU_TIMES;
  } else {
    usage->mem_rss_bytes = rss * (uint64_t)page;
    usage->mem_total_bytes = usage->mem_rss_bytes;
    usage->fields |= MESOS_USAGE_MEM;
  }
  usage->processes = procs;
  usage->threads = threads;
  usage->fields |= MESOS_USAGE_PROCESSES;
  return MESOS_OK;
}

static void posix_prepare(void *ud, const mesos_isolator_container *ci,
                          mesos_isolator_launch_info *info, mesos_isolator_pending *p) {
  (void)ud;
  (void)ci;
  (void)info;
  mesos_isolator_pending_done(p, MESOS_OK, NULL);
}

/* ------------------------------------------------------------ factory */

static mesos_status load_layout(mesos__builtin_ctx *c, mesos_error **err) {
  if (c->have_layout) return MESOS_OK;
  mesos_status st = mesos__cg_layout_detect(&c->layout, err);
  if (st == MESOS_OK) c->have_layout = 1;
  return st;
}

mesos_status mesos__builtin_isolator(mesos__builtin_ctx *c, const char *name,
                                     mesos__isolator *out, mesos_error **err) {
  int kind = -1;
  for (int i = 0; i < K_COUNT; i++)
    if (strcmp(kind_names[i], name) == 0) kind = i;
  if (kind < 0) return MESOS_ENOTFOUND;
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s", name);
  out->ops.version = MESOS_ISOLATOR_OPS_VERSION;
  out->ud = &c->uds[kind];
  int ctl = cg_controller(kind);
  if (ctl >= 0) {
    if (geteuid() != 0)
      return mesos__err(err, MESOS_EPERM, "%s: cgroups need the agent to run as root", name);
    mesos_status st = load_layout(c, err);
    if (st != MESOS_OK) return st;
    if (c->layout.where[ctl] == MESOS__CG_NONE)
      return mesos__err(err, MESOS_EUNSUPPORTED, "%s: the '%s' cgroup controller is not available on this host",
                        name, mesos__cg_name(ctl));
    c->controllers |= MESOS__CG_BIT(ctl);
    if (ctl == MESOS__CG_CPU && c->layout.where[MESOS__CG_CPUACCT] != MESOS__CG_NONE)
      c->controllers |= MESOS__CG_BIT(MESOS__CG_CPUACCT);
    out->ops.prepare = cg_prepare;
    out->ops.isolate = cg_isolate;
    out->ops.watch = cg_watch;
    out->ops.update = cg_update;
    out->ops.usage = cg_usage;
    out->ops.status = cg_status;
    out->ops.cleanup = cg_cleanup;
    out->ops.recover = cg_recover;
    return MESOS_OK;
  }
  switch (kind) {
    case K_POSIX_CPU:
    case K_POSIX_MEM:
      out->ops.prepare = posix_prepare;
      out->ops.usage = posix_usage;
      out->ops.cleanup = nop_cleanup;
      return MESOS_OK;
    case K_NS_PID:
    case K_NS_IPC:
    case K_FS_LINUX:
      if (geteuid() != 0)
        return mesos__err(err, MESOS_EPERM, "%s: namespaces need the agent to run as root", name);
      /* fall through */
    default:
      out->ops.prepare = ns_prepare;
      out->ops.cleanup = nop_cleanup;
      return MESOS_OK;
  }
}

/* Used by the containerizer for process tracking when no cgroups isolator
 * asked for a cgroup: the linux launcher always tracks with one. */
mesos_status mesos__builtin_track(mesos__builtin_ctx *c, const char *id, mesos_error **err) {
  if (geteuid() != 0) return MESOS_OK;
  if (load_layout(c, NULL) != MESOS_OK || c->layout.mode == MESOS__CG_MODE_NONE) return MESOS_OK;
  cg_entry *e;
  return ensure_cg(c, id, &e, err);
}

mesos_status mesos__builtin_attach(mesos__builtin_ctx *c, const char *id, pid_t pid,
                                   mesos_error **err) {
  cg_entry *e = mesos__map_get(&c->cgs, id);
  if (e == NULL || e->attached) return MESOS_OK;
  mesos_status st = mesos__cg_attach(e->cg, pid, err);
  if (st == MESOS_OK) e->attached = 1;
  return st;
}

mesos_status mesos__builtin_remove(mesos__builtin_ctx *c, const char *id, mesos_error **err) {
  return cg_remove(c, id, err);
}

mesos_status mesos__builtin_recover_tracking(mesos__builtin_ctx *c, const char *const *ids,
                                             size_t n, mesos_error **err) {
  if (geteuid() != 0) return MESOS_OK;
  if (load_layout(c, NULL) != MESOS_OK || c->layout.mode == MESOS__CG_MODE_NONE) return MESOS_OK;
  return cg_recover(&c->uds[K_CG_CPU], ids, n, err);
}

/* Removes the (empty) cgroups_root directories this containerizer used. */
void mesos__builtin_remove_roots(mesos__builtin_ctx *c) {
  if (!c->have_layout) return;
  for (int ctl = 0; ctl < MESOS__CG_COUNT; ctl++) {
    if (c->layout.where[ctl] != MESOS__CG_V1) continue;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s%s/%s", c->layout.v1_mount[ctl],
             strcmp(c->layout.v1_self[ctl], "/") == 0 ? "" : c->layout.v1_self[ctl], c->root);
    rmdir(dir);
  }
  if (c->layout.v2_mount) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s%s/%s", c->layout.v2_mount,
             strcmp(c->layout.v2_self, "/") == 0 ? "" : c->layout.v2_self, c->root);
    rmdir(dir);
  }
}
