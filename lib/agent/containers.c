/*
 * Command tasks in containers (see containers.h).
 *
 * Design: Mesos runs the command executor in the container (on the host
 * filesystem) and lets it pivot the task into the image.  Here the
 * container's init (lib/containerizer/launcher.c) already does what that
 * executor would: it is the process the agent watches, it reaps the task,
 * forwards SIGTERM to it and writes its wait status to the runtime
 * directory, where a restarted agent finds it.  So a containerized command
 * task needs no executor process at all: the agent launches the task's
 * command itself as the container (rootfs = the provisioned image, sandbox
 * bind-mounted at --sandbox_directory, cgroups and namespaces per
 * --isolation) and turns the container's termination into the terminal
 * status update.  One process less per task, and no executor protocol to
 * keep alive across agent restarts: recovery is the containerizer's
 * recover plus re-attaching the task (mesos__agent_container_adopt).
 *
 * Which tasks: every command task once --isolation names anything beyond
 * posix/cpu and posix/mem (cgroups, namespaces, filesystem/linux), and
 * every task with ContainerInfo{type: MESOS, mesos.image}.  With the
 * default flags no containerizer is created and nothing changes (several
 * agents on one host, as in the tests, would otherwise share
 * /var/run/mesos and destroy each other's containers as orphans).
 *
 * Custom executors whose ExecutorInfo asks for a container of type MESOS
 * (an image, volumes or a hostname) run in one (the "executors in
 * containers" section below): the container's task is the executor itself,
 * its tasks are its children inside it.  So do all other custom
 * executors once --isolation names more than posix/cpu and posix/mem
 * (cgroups sized for the executor and its live tasks, updated as tasks
 * come and go), and so does the default executor (its group's tasks are
 * its children in its container; its own image, volumes or hostname, and
 * group tasks with their own, are refused: nested containers).
 */
#include "agent/containers.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "agent/volumes.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "base/map.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "containerizer/containerizer.h"
#include "provisioner/fetcher.h"
#include "provisioner/launch.h"
#include "provisioner/provisioner.h"

extern char **environ;

/* Bounds on what a TaskInfo can make the agent build (hostile input). */
#define MAX_ENV 4096u
#define MAX_ARGS 4096u
#define MAX_VOLUMES 64u

struct mesos__agent_containers {
  mesos_agent *a;
  mesos__containerizer *cz;
  mesos__provisioner *prov; /* NULL without --image_providers=docker */
  mesos__fetcher *fetcher;
  char *sandbox_dir;        /* --sandbox_directory */
  int isolating;            /* --isolation has more than posix/cpu, posix/mem */
  mesos__map running;       /* container id -> task key (strdup'ed) */
  mesos__map removing;      /* container id -> its pending asynchronous rootfs removal */
  mesos__map launching;     /* container id -> its launch_op, while launch_async runs */
  mesos__map exec_preparing; /* container id -> exec_op: an executor's container before it runs */
  mesos__map exec_running;  /* container id -> executor key (strdup'ed) */
  Mesos__V1__ContainerInfo *default_ci; /* --default_container_info, NULL: none */
  char **recovered;         /* live containers of the previous run not yet adopted */
  size_t nrecovered;
  int closing;
};

/* ------------------------------------------------------------ flags */

/* Whether the comma-separated `list` holds `item`. */
static int list_has(const char *list, const char *item) {
  size_t n = strlen(item);
  for (const char *p = list; p && *p;) {
    size_t len = strcspn(p, ",");
    if (len == n && strncmp(p, item, n) == 0) return 1;
    p += len;
    if (*p == ',') p++;
  }
  return 0;
}

static mesos_status check_flags(mesos__flags *f, int *isolating, int *images, mesos_error **err) {
  const char *cz = mesos__flags_get(f, "containerizers");
  for (const char *p = cz; p && *p;) {
    size_t len = strcspn(p, ",");
    if (!(len == 5 && strncmp(p, "mesos", 5) == 0)) {
      if (len == 6 && strncmp(p, "docker", 6) == 0)
        return mesos__err(err, MESOS_EINVAL,
                          "--containerizers: 'docker' (the Docker daemon containerizer) is not "
                          "supported; use 'mesos' with --image_providers=docker");
      return mesos__err(err, MESOS_EINVAL, "--containerizers: unknown containerizer '%.*s'",
                        (int)len, p);
    }
    p += len;
    if (*p == ',') p++;
  }
  if (cz == NULL || *cz == '\0')
    return mesos__err(err, MESOS_EINVAL, "--containerizers: must name 'mesos'");
  const char *iso = mesos__flags_get(f, "isolation");
  if (iso == NULL || *iso == '\0')
    return mesos__err(err, MESOS_EINVAL, "--isolation: must name at least one isolator");
  *isolating = 0;
  for (const char *p = iso; *p;) {
    size_t len = strcspn(p, ",");
    if (!(len == 9 && (strncmp(p, "posix/cpu", 9) == 0 || strncmp(p, "posix/mem", 9) == 0)))
      *isolating = 1;
    p += len;
    if (*p == ',') p++;
  }
  const char *prov = mesos__flags_get(f, "image_providers");
  *images = 0;
  for (const char *p = prov; p && *p;) {
    size_t len = strcspn(p, ",");
    if (len == 6 && strncmp(p, "docker", 6) == 0) *images = 1;
    else if (len == 4 && strncmp(p, "appc", 4) == 0)
      return mesos__err(err, MESOS_EUNSUPPORTED,
                        "--image_providers: 'appc' images are not supported (only 'docker')");
    else
      return mesos__err(err, MESOS_EINVAL, "--image_providers: unknown provider '%.*s'", (int)len,
                        p);
    p += len;
    if (*p == ',') p++;
  }
  if (*images && (!list_has(iso, "filesystem/linux") || !list_has(iso, "docker/runtime")))
    return mesos__err(err, MESOS_EINVAL,
                      "--image_providers=docker needs 'filesystem/linux' and 'docker/runtime' in "
                      "--isolation (they are '%s')", iso);
  const char *reg = mesos__flags_get(f, "docker_registry");
  if (*images) {
    if (reg && strncmp(reg, "file://", 7) == 0) reg += 7;
    struct stat sb;
    if (reg == NULL || reg[0] != '/' || stat(reg, &sb) != 0 || !S_ISDIR(sb.st_mode))
      return mesos__err(err, MESOS_EINVAL,
                        "--docker_registry: '%s' is not a local directory (remote registries are "
                        "not supported)", mesos__flags_get(f, "docker_registry"));
  }
  const char *backend = mesos__flags_get(f, "image_provisioner_backend");
  if (backend == NULL || (strcmp(backend, "overlay") != 0 && strcmp(backend, "copy") != 0))
    return mesos__err(err, MESOS_EINVAL,
                      "--image_provisioner_backend: '%s' is not one of overlay, copy",
                      backend ? backend : "");
  static const char *const abs_dirs[] = {"sandbox_directory", "runtime_dir", "cgroups_hierarchy",
                                         "docker_store_dir", "fetcher_cache_dir"};
  for (size_t i = 0; i < sizeof abs_dirs / sizeof *abs_dirs; i++) {
    const char *v = mesos__flags_get(f, abs_dirs[i]);
    if (v == NULL || v[0] != '/' || strlen(v) >= 1024)
      return mesos__err(err, MESOS_EINVAL, "--%s: '%s' is not an absolute path", abs_dirs[i],
                        v ? v : "");
  }
  const char *root = mesos__flags_get(f, "cgroups_root");
  if (root == NULL || *root == '\0' || root[0] == '/' || strstr(root, "..") ||
      strlen(root) > 255)
    return mesos__err(err, MESOS_EINVAL,
                      "--cgroups_root: '%s' must be a relative cgroup name without '..'",
                      root ? root : "");
  const char *hier = mesos__flags_get(f, "cgroups_hierarchy");
  struct stat sb;
  if (*isolating && (stat(hier, &sb) != 0 || !S_ISDIR(sb.st_mode)))
    return mesos__err(err, MESOS_EINVAL, "--cgroups_hierarchy: '%s' is not a directory", hier);
  return MESOS_OK;
}

/* ------------------------------------------------------------ lifecycle */

static void ids_free(char **ids, size_t n) {
  for (size_t i = 0; i < n; i++) mesos__free(ids[i]);
  mesos__free(ids);
}

/* --default_container_info: JSON of a ContainerInfo of type MESOS. */
static mesos_status parse_default_ci(mesos__flags *f, int isolating, int images,
                                     Mesos__V1__ContainerInfo **out, mesos_error **err) {
  *out = NULL;
  const char *json = mesos__flags_get(f, "default_container_info");
  if (json == NULL || *json == '\0') return MESOS_OK;
  if (!isolating && !images)
    return mesos__err(err, MESOS_EINVAL,
                      "--default_container_info needs the mesos containerizer's isolation (an "
                      "--isolation beyond posix/cpu,posix/mem, or --image_providers=docker)");
  ProtobufCMessage *m = NULL;
  mesos_error *e = NULL;
  mesos_status st =
      mesos__json_decode(&mesos__v1__container_info__descriptor, json, strlen(json), NULL, &m, &e);
  if (st != MESOS_OK)
    return mesos__err_wrap(err, st, e, "--default_container_info: %s",
                           e ? mesos_error_message(e) : mesos_status_str(st));
  Mesos__V1__ContainerInfo *ci = (Mesos__V1__ContainerInfo *)m;
  const char *bad = NULL;
  if (ci->type != MESOS__V1__CONTAINER_INFO__TYPE__MESOS)
    bad = "only type MESOS is supported (the Docker containerizer is not)";
  else if (ci->mesos && ci->mesos->image && !images)
    bad = "an image needs --image_providers=docker";
  else if (ci->mesos && ci->mesos->image &&
           (ci->mesos->image->type != MESOS__V1__IMAGE__TYPE__DOCKER ||
            ci->mesos->image->docker == NULL || ci->mesos->image->docker->name == NULL ||
            ci->mesos->image->docker->name[0] == '\0'))
    bad = "the image must be a DOCKER image with a name";
  if (bad) {
    mesos__pb_free(m);
    return mesos__err(err, MESOS_EINVAL, "--default_container_info: %s", bad);
  }
  *out = ci;
  return MESOS_OK;
}

mesos_status mesos__agent_containers_init(mesos_agent *a, mesos_error **err) {
  int isolating = 0, images = 0;
  mesos_status st = check_flags(a->flags, &isolating, &images, err);
  Mesos__V1__ContainerInfo *dci = NULL;
  if (st == MESOS_OK) st = parse_default_ci(a->flags, isolating, images, &dci, err);
  if (st != MESOS_OK || (!isolating && !images)) return st;
  mesos__agent_containers *c = MESOS__NEW(mesos__agent_containers);
  if (c == NULL) {
    mesos__pb_free(dci);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  c->a = a;
  c->isolating = isolating;
  c->default_ci = dci;
  mesos__map_init(&c->running);
  mesos__map_init(&c->removing);
  mesos__map_init(&c->launching);
  mesos__map_init(&c->exec_preparing);
  mesos__map_init(&c->exec_running);
  a->containers = c;
  c->sandbox_dir = mesos__strdup(mesos__flags_get(a->flags, "sandbox_directory"));
  if (c->sandbox_dir == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos__containerizer_options o;
  memset(&o, 0, sizeof o);
  o.runtime_dir = mesos__flags_get(a->flags, "runtime_dir");
  o.isolation = mesos__flags_get(a->flags, "isolation");
  o.cgroups_root = mesos__flags_get(a->flags, "cgroups_root");
  o.sandbox_directory = c->sandbox_dir;
  o.cgroups_enable_cfs = mesos__flags_bool(a->flags, "cgroups_enable_cfs");
  o.cgroups_limit_swap = mesos__flags_bool(a->flags, "cgroups_limit_swap");
  o.launcher_dir = mesos__flags_get(a->flags, "launcher_dir");
  mesos_error *e = NULL;
  st = mesos__containerizer_new(&c->cz, a->loop, &o, &e);
  if (st != MESOS_OK)
    return mesos__err_wrap(err, st, e, "--isolation=%s: %s", o.isolation,
                           e ? mesos_error_message(e) : mesos_status_str(st));
  if (images) {
    mesos__provisioner_opts po;
    memset(&po, 0, sizeof po);
    const char *reg = mesos__flags_get(a->flags, "docker_registry");
    po.registry_dir = strncmp(reg, "file://", 7) == 0 ? reg + 7 : reg;
    po.store_dir = mesos__flags_get(a->flags, "docker_store_dir");
    po.work_dir = a->work_dir;
    po.backend = mesos__flags_get(a->flags, "image_provisioner_backend");
    st = mesos__provisioner_new(&po, &c->prov, &e);
    if (st != MESOS_OK)
      return mesos__err_wrap(err, st, e, "cannot set up the image provisioner: %s",
                             e ? mesos_error_message(e) : mesos_status_str(st));
  }
  mesos__fetcher_opts fo;
  memset(&fo, 0, sizeof fo);
  fo.cache_dir = mesos__flags_get(a->flags, "fetcher_cache_dir");
  fo.cache_size = mesos__flags_bytes(a->flags, "fetcher_cache_size");
  st = mesos__fetcher_new(a->loop, &fo, &c->fetcher, &e);
  if (st != MESOS_OK)
    return mesos__err_wrap(err, st, e, "cannot set up the fetcher: %s",
                           e ? mesos_error_message(e) : mesos_status_str(st));
  /* Containers of the previous run: live ones wait for their task to be
   * re-attached by recover.c; mesos__agent_containers_recovered destroys
   * the rest. */
  char **ids = NULL;
  st = mesos__containerizer_recover(c->cz, &ids, &e);
  if (st != MESOS_OK)
    return mesos__err_wrap(err, st, e, "cannot recover the containers in %s: %s", o.runtime_dir,
                           e ? mesos_error_message(e) : mesos_status_str(st));
  size_t n = 0;
  while (ids && ids[n]) n++;
  c->recovered = mesos__calloc(n + 1, sizeof *c->recovered);
  if (c->recovered == NULL) {
    mesos__containerizer_ids_free(ids);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++)
    if ((c->recovered[c->nrecovered] = mesos__strdup(ids[i])) != NULL) c->nrecovered++;
  mesos__containerizer_ids_free(ids);
  LOG_INFO("Containerizer: --isolation=%s%s%s; %zu running container(s) recovered", o.isolation,
           images ? ", images from " : "", images ? mesos__flags_get(a->flags, "docker_registry") : "", c->nrecovered);
  return MESOS_OK;
}

/* Destroys `id` and its root filesystem now (orphans, shutdown). */
static void destroy_now(mesos__agent_containers *c, const char *id) {
  mesos_error *e = NULL;
  if (mesos__containerizer_destroy(c->cz, id, &e) != MESOS_OK && e) {
    LOG_WARN("container %s: %s", id, mesos_error_message(e));
  }
  mesos_error_free(e);
  e = NULL;
  if (c->prov && mesos__provisioner_destroy(c->prov, id, &e) != MESOS_OK)
    LOG_WARN("container %s: cannot remove its root filesystem: %s", id,
             e ? mesos_error_message(e) : "");
  mesos_error_free(e);
}

void mesos__agent_containers_recovered(mesos_agent *a) {
  mesos__agent_containers *c = a->containers;
  if (c == NULL) return;
  for (size_t i = 0; i < c->nrecovered; i++) {
    LOG_WARN("Destroying orphan container %s (no recovered task runs in it)", c->recovered[i]);
    destroy_now(c, c->recovered[i]);
  }
  ids_free(c->recovered, c->nrecovered);
  c->recovered = NULL;
  c->nrecovered = 0;
  if (c->prov) {
    /* Root filesystems of containers that are gone (the agent died
     * between their end and the removal) go too. */
    size_t n = mesos__map_count(&c->running) + mesos__map_count(&c->exec_running), k = 0, it = 0;
    const char **known = mesos__calloc(n ? n : 1, sizeof *known);
    const char *id;
    while (known && mesos__map_next(&c->running, &it, &id, NULL)) known[k++] = id;
    it = 0; /* and the executors' containers (executors in containers) */
    while (known && mesos__map_next(&c->exec_running, &it, &id, NULL)) known[k++] = id;
    mesos_error *e = NULL;
    if (known && mesos__provisioner_recover(c->prov, known, k, &e) != MESOS_OK)
      LOG_WARN("provisioner recovery: %s", e ? mesos_error_message(e) : "");
    mesos_error_free(e);
    mesos__free(known);
  }
}

typedef struct launch_op launch_op;
static void op_free(launch_op *op);
static void exec_containers_fini(mesos__agent_containers *c);
static const char *op_container_id(const launch_op *op);

void mesos__agent_containers_fini(mesos_agent *a) {
  mesos__agent_containers *c = a ? a->containers : NULL;
  if (c == NULL) return;
  c->closing = 1;
  /* The executor rule (mesos__agent_release_executors): containers of
   * checkpointing frameworks outlive the agent unless --recover=cleanup;
   * the next agent's recovery re-attaches them (freeing the containerizer
   * without destroy leaves them running).  The others are destroyed.
   * Destroying calls the waiter (which edits `running`): ids first. */
  int keep_ok = strcmp(mesos__flags_get(a->flags, "recover"), "cleanup") != 0;
  size_t n = mesos__map_count(&c->running), k = 0, it = 0;
  char **ids = mesos__calloc(n ? n : 1, sizeof *ids);
  const char *id;
  void *kv;
  while (ids && mesos__map_next(&c->running, &it, &id, &kv)) {
    mesos__agent_task *t = mesos__map_get(&a->tasks, kv);
    if (keep_ok && t && t->pid > 0 && mesos__agent_framework_checkpoints(a, t->framework_id)) {
      LOG_INFO("Leaving container %s of task %s running for the next agent", id, t->key);
      t->pid = 0; /* not ours to kill or wait for any more */
      continue;
    }
    if ((ids[k] = mesos__strdup(id)) != NULL) k++;
  }
  for (size_t i = 0; i < k; i++) destroy_now(c, ids[i]);
  ids_free(ids, k);
  /* Containers still starting: destroyed too; their launch outcome is
   * never reported once the containerizer is freed below. */
  it = 0;
  void *v;
  while (mesos__map_next(&c->launching, &it, NULL, &v)) {
    launch_op *op = v;
    destroy_now(c, op_container_id(op));
    op_free(op);
  }
  mesos__map_free(&c->launching);
  exec_containers_fini(c);
  it = 0;
  while (mesos__map_next(&c->running, &it, NULL, &v)) mesos__free(v);
  mesos__map_free(&c->running);
  ids_free(c->recovered, c->nrecovered);
  /* Pending provisions, fetches and rootfs removals: work already on the
   * thread pool runs to its end, and their callbacks come with ECLOSED,
   * possibly after this object is gone, so they touch nothing of it
   * (a rootfs left by a provision cut short is removed by the next
   * start's mesos__provisioner_recover). */
  mesos__fetcher_free(c->fetcher);
  mesos__provisioner_free(c->prov);
  mesos__containerizer_free(c->cz);
  mesos__map_free(&c->removing); /* the removals free themselves */
  mesos__free(c->sandbox_dir);
  mesos__pb_free(c->default_ci);
  mesos__free(c);
  a->containers = NULL;
}

/* ------------------------------------------------------------ selection */

/* The task's ContainerInfo, else --default_container_info's. */
static const Mesos__V1__ContainerInfo *task_container(const mesos__agent_containers *c,
                                                      const Mesos__V1__TaskInfo *ti) {
  return ti->container ? ti->container : c ? c->default_ci : NULL;
}

static const Mesos__V1__Image *task_image(const mesos__agent_containers *c,
                                          const Mesos__V1__TaskInfo *ti) {
  const Mesos__V1__ContainerInfo *ci = task_container(c, ti);
  if (ci == NULL || ci->type != MESOS__V1__CONTAINER_INFO__TYPE__MESOS || ci->mesos == NULL)
    return NULL;
  return ci->mesos->image;
}

int mesos__agent_container_wanted(mesos_agent *a, const Mesos__V1__TaskInfo *ti,
                                  const char **why) {
  *why = NULL;
  mesos__agent_containers *c = a->containers;
  const Mesos__V1__ContainerInfo *ci = task_container(c, ti);
  if (ci && ci->type == MESOS__V1__CONTAINER_INFO__TYPE__DOCKER) {
    *why = "ContainerInfo type DOCKER needs the Docker containerizer, which this agent does not "
           "have (use type MESOS with an image)";
    return 0;
  }
  const Mesos__V1__Image *img = task_image(c, ti);
  if (img) {
    if (img->type != MESOS__V1__IMAGE__TYPE__DOCKER) {
      *why = "Only DOCKER images are supported (appc is not)";
      return 0;
    }
    if (img->docker == NULL || img->docker->name == NULL || img->docker->name[0] == '\0') {
      *why = "The DOCKER image has no name";
      return 0;
    }
    if (c == NULL || c->prov == NULL) {
      *why = "This agent runs no images: it was started without --image_providers=docker";
      return 0;
    }
    return 1;
  }
  if (c == NULL) {
    if (ci && (ci->n_volumes > 0 || (ci->hostname && ci->hostname[0]))) {
      *why = "Volumes and hostnames need the mesos containerizer: start the agent with "
             "--isolation=filesystem/linux,...";
      return 0;
    }
    return 0;
  }
  return c->isolating || (ci && ci->type == MESOS__V1__CONTAINER_INFO__TYPE__MESOS);
}

const char *mesos__agent_executor_container_refusal(const Mesos__V1__ExecutorInfo *ei,
                                                    const Mesos__V1__TaskInfo *ti) {
  const Mesos__V1__ContainerInfo *ci = ei ? ei->container : NULL;
  if (ci && ci->type == MESOS__V1__CONTAINER_INFO__TYPE__DOCKER)
    return "ExecutorInfo.container of type DOCKER needs the Docker containerizer, which this "
           "agent does not have";
  if (ci && ci->mesos && ci->mesos->image)
    return "The default executor in an image (ExecutorInfo.container.mesos.image) is not "
           "supported by this agent yet; it would run the executor on the host, outside the "
           "image. Give the image to a custom executor or a command task instead";
  if (ci && (ci->n_volumes > 0 || (ci->hostname && ci->hostname[0])))
    return "Volumes and hostnames of the default executor's container (ExecutorInfo.container) "
           "are not supported by this agent yet";
  const Mesos__V1__ContainerInfo *tc = ti ? ti->container : NULL;
  if (tc && (tc->type == MESOS__V1__CONTAINER_INFO__TYPE__DOCKER || (tc->mesos && tc->mesos->image) ||
             tc->n_volumes > 0 || (tc->hostname && tc->hostname[0])))
    return "Tasks of a task group with their own image, volumes or hostname (TaskInfo.container: "
           "nested containers) are not supported by this agent yet";
  return NULL;
}

/* ------------------------------------------------------------ launch */

struct launch_op {
  mesos__agent_containers *c;
  char *key;
  char *container_id;
  mesos__provision_info *info; /* after provisioning; NULL without an image */
};

static const char *op_container_id(const launch_op *op) { return op->container_id; }

static void op_free(launch_op *op) {
  if (op == NULL) return;
  mesos__provision_info_free(op->info);
  mesos__free(op->key);
  mesos__free(op->container_id);
  mesos__free(op);
}

typedef struct removal {
  mesos__agent_containers *c;
  char *id;
} removal;

static void destroy_done(mesos_status st, mesos_error *err, void *ud) {
  removal *r = ud;
  if (st == MESOS_ECLOSED) { /* the agent is gone (see fini) */
    mesos_error_free(err);
    mesos__free(r->id);
    mesos__free(r);
    return;
  }
  if (st != MESOS_OK)
    LOG_WARN("container %s: cannot remove its root filesystem: %s", r->id,
             err ? mesos_error_message(err) : mesos_status_str(st));
  mesos_error_free(err);
  if (mesos__map_get(&r->c->removing, r->id) == r) mesos__map_remove(&r->c->removing, r->id);
  mesos__free(r->id);
  mesos__free(r);
}

/* Removes the root filesystem of `id` off the loop (a copy-backend rootfs
 * can take a while); synchronously when that cannot be queued. */
static void remove_rootfs(mesos__agent_containers *c, const char *id) {
  if (c->prov == NULL) return;
  removal *r = c->closing ? NULL : MESOS__NEW(removal);
  mesos_error *e = NULL;
  if (r) {
    r->c = c;
    r->id = mesos__strdup(id);
  }
  if (r && r->id && mesos__map_put(&c->removing, id, r) == MESOS_OK) {
    if (mesos__provisioner_destroy_async(c->prov, c->a->loop, id, destroy_done, r, &e) ==
        MESOS_OK)
      return;
    mesos__map_remove(&c->removing, id);
    mesos_error_free(e);
    e = NULL;
  }
  if (r) mesos__free(r->id);
  mesos__free(r);
  if (mesos__provisioner_destroy(c->prov, id, &e) != MESOS_OK)
    LOG_WARN("container %s: cannot remove its root filesystem: %s", id,
             e ? mesos_error_message(e) : "");
  mesos_error_free(e);
}

/* An update the agent generates about a task in a container: the agent is
 * its source (no executor ran it). */
static void agent_update(mesos__agent_task *t, Mesos__V1__TaskState state, int reason,
                         const char *message) {
  mesos_error *e = NULL;
  t->state = state;
  if (mesos__agent_status_update(t->agent, t->framework_id, NULL, t->task_id, t->updates_path,
                                 state, reason, message, &e) != MESOS_OK) {
    LOG_ERROR("task %s: cannot generate a status update: %s", t->key,
              e ? mesos_error_message(e) : "");
    mesos_error_free(e);
  }
}

static void launch_failed(launch_op *op, mesos__agent_task *t, const char *what,
                          const mesos_error *e, mesos_status st) {
  char msg[1024];
  snprintf(msg, sizeof msg, "%s: %s", what, e ? mesos_error_message(e) : mesos_status_str(st));
  LOG_WARN("task %s: %s", op->key, msg);
  remove_rootfs(op->c, op->container_id);
  if (t) {
    agent_update(t, MESOS__V1__TASK_STATE__TASK_FAILED,
                 MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED, msg);
    mesos__agent_task_maybe_done(t->agent, op->key);
  }
  op_free(op);
}

/* The task of `op` if it still wants to start; otherwise the op is ended
 * (rootfs removed) and NULL returned. */
static mesos__agent_task *op_task(launch_op *op) {
  mesos__agent_containers *c = op->c;
  mesos__agent_task *t = c->closing ? NULL : mesos__map_get(&c->a->tasks, op->key);
  if (t == NULL || t->killing) {
    if (!c->closing)
      LOG_INFO("Task %s: launch of container %s stopped (the task was killed or is gone)",
               op->key, op->container_id);
    remove_rootfs(c, op->container_id);
    op_free(op);
    return NULL;
  }
  return t;
}

static double scalar(const Mesos__V1__TaskInfo *ti, const char *name) {
  double v = 0;
  for (size_t i = 0; i < ti->n_resources; i++) {
    const Mesos__V1__Resource *r = ti->resources[i];
    if (r->name && strcmp(r->name, name) == 0 && r->scalar) v += r->scalar->value;
  }
  return v;
}

/* A growable NULL-terminated string array with a bound. */
typedef struct strv {
  char **v;
  size_t n, cap;
} strv;

static mesos_status strv_add(strv *s, char *str) {
  if (str == NULL) return MESOS_ENOMEM;
  if (s->n + 2 > s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 32;
    if (cap > MAX_ENV + 64) {
      mesos__free(str);
      return MESOS_ELIMIT;
    }
    char **grown = mesos__realloc(s->v, cap * sizeof *grown);
    if (grown == NULL) {
      mesos__free(str);
      return MESOS_ENOMEM;
    }
    s->v = grown;
    s->cap = cap;
  }
  s->v[s->n++] = str;
  s->v[s->n] = NULL;
  return MESOS_OK;
}

static void strv_free(strv *s) {
  for (size_t i = 0; i < s->n; i++) mesos__free(s->v[i]);
  mesos__free(s->v);
  memset(s, 0, sizeof *s);
}

static char *kv(const char *k, const char *v) {
  size_t n = strlen(k) + strlen(v) + 2;
  char *s = mesos__malloc(n);
  if (s) snprintf(s, n, "%s=%s", k, v);
  return s;
}

/* Adds "name=value" unless `env` has `name` already (earlier wins). */
static mesos_status env_add(strv *env, const char *name, const char *value) {
  size_t n = strlen(name);
  for (size_t i = 0; i < env->n; i++)
    if (strncmp(env->v[i], name, n) == 0 && env->v[i][n] == '=') return MESOS_OK;
  return strv_add(env, kv(name, value));
}

/* Adds the "NAME=value" entry `entry` as env_add does (names of 256
 * bytes or more, and entries without '=', are skipped). */
static mesos_status env_add_entry(strv *env, const char *entry) {
  const char *eq = strchr(entry, '=');
  char name[256];
  if (eq == NULL || (size_t)(eq - entry) >= sizeof name) return MESOS_OK;
  memcpy(name, entry, (size_t)(eq - entry));
  name[eq - entry] = '\0';
  return env_add(env, name, eq + 1);
}

/* A command on the host's filesystem (no image), for a command task's
 * container and an executor's alike: argv and the program from the
 * CommandInfo (through sh -c unless shell is false), the command's
 * environment first (it wins), then the agent's own minus its MESOS_
 * configuration, and the CommandInfo's user. */
static mesos_status host_command(const Mesos__V1__CommandInfo *cmd, strv *argv, strv *env,
                                 mesos__launch_cmd *lc, mesos_error **e) {
  mesos_status st = MESOS_OK;
  int shell = !cmd->has_shell || cmd->shell;
  if (cmd->n_arguments > MAX_ARGS) return mesos__err(e, MESOS_ELIMIT, "more than %u arguments", MAX_ARGS);
  if (shell) {
    st = strv_add(argv, mesos__strdup("sh"));
    if (st == MESOS_OK) st = strv_add(argv, mesos__strdup("-c"));
    if (st == MESOS_OK) st = strv_add(argv, mesos__strdup(cmd->value));
    lc->path = mesos__strdup("/bin/sh");
  } else if (cmd->n_arguments == 0) {
    st = strv_add(argv, mesos__strdup(cmd->value));
    lc->path = mesos__strdup(cmd->value);
  } else {
    for (size_t i = 0; st == MESOS_OK && i < cmd->n_arguments; i++)
      st = strv_add(argv, mesos__strdup(cmd->arguments[i]));
    lc->path = mesos__strdup(cmd->value);
  }
  if (st == MESOS_OK && lc->path == NULL) st = MESOS_ENOMEM;
  size_t ncmdenv = cmd->environment ? cmd->environment->n_variables : 0;
  if (st == MESOS_OK && ncmdenv > MAX_ENV)
    st = mesos__err(e, MESOS_ELIMIT, "more than %u environment variables", MAX_ENV);
  for (size_t i = 0; st == MESOS_OK && i < ncmdenv; i++) {
    const Mesos__V1__Environment__Variable *v = cmd->environment->variables[i];
    if (v->name == NULL || *v->name == '\0' || strchr(v->name, '=')) continue;
    st = env_add(env, v->name, v->value ? v->value : "");
  }
  for (size_t i = 0; st == MESOS_OK && environ && environ[i] && i < MAX_ENV; i++)
    if (strncmp(environ[i], "MESOS_", 6) != 0) st = env_add_entry(env, environ[i]);
  if (st == MESOS_OK && cmd->user && (lc->user = mesos__strdup(cmd->user)) == NULL)
    st = MESOS_ENOMEM;
  return st;
}

/* Volumes of the ContainerInfo in the containerizer's terms. */
static mesos_status volumes_of(const Mesos__V1__ContainerInfo *ci, mesos__volume *out, size_t *n,
                               mesos_error **err) {
  *n = 0;
  if (ci == NULL) return MESOS_OK;
  if (ci->n_volumes > MAX_VOLUMES)
    return mesos__err(err, MESOS_ELIMIT, "more than %u volumes", MAX_VOLUMES);
  for (size_t i = 0; i < ci->n_volumes; i++) {
    const Mesos__V1__Volume *v = ci->volumes[i];
    mesos__volume *o = &out[*n];
    memset(o, 0, sizeof *o);
    o->container_path = v->container_path;
    o->readonly = v->mode == MESOS__V1__VOLUME__MODE__RO;
    if (v->container_path == NULL || v->container_path[0] == '\0')
      return mesos__err(err, MESOS_EINVAL, "volume %zu has no container_path", i);
    if (v->host_path) {
      o->type = MESOS__VOLUME_HOST_PATH;
      o->host_path = v->host_path;
    } else if (v->source && v->source->type == MESOS__V1__VOLUME__SOURCE__TYPE__HOST_PATH &&
               v->source->host_path && v->source->host_path->path) {
      o->type = MESOS__VOLUME_HOST_PATH;
      o->host_path = v->source->host_path->path;
    } else if (v->source && v->source->type == MESOS__V1__VOLUME__SOURCE__TYPE__SANDBOX_PATH &&
               v->source->sandbox_path && v->source->sandbox_path->path &&
               (!v->source->sandbox_path->has_type ||
                v->source->sandbox_path->type ==
                    MESOS__V1__VOLUME__SOURCE__SANDBOX_PATH__TYPE__SELF)) {
      o->type = MESOS__VOLUME_SANDBOX_PATH;
      o->host_path = v->source->sandbox_path->path;
    } else {
      return mesos__err(err, MESOS_EUNSUPPORTED,
                        "volume %s: only host_path, HOST_PATH and SANDBOX_PATH (SELF) volumes "
                        "are supported", v->container_path);
    }
    (*n)++;
  }
  return MESOS_OK;
}

static void terminated(const char *id, const mesos__container_termination *term, void *ud);
static void launched(const char *id, mesos_status st, const char *message, pid_t pid, void *ud);

/* Builds the container's command and starts it. */
static void start(launch_op *op) {
  mesos__agent_task *t = op_task(op);
  if (t == NULL) return;
  mesos__agent_containers *c = op->c;
  mesos_agent *a = c->a;
  const Mesos__V1__CommandInfo *cmd = t->info->command;
  mesos__launch_cmd lc;
  memset(&lc, 0, sizeof lc);
  strv env = {NULL, 0, 0}, argv = {NULL, 0, 0};
  mesos__volume vols[MAX_VOLUMES];
  size_t nvols = 0;
  mesos_error *e = NULL;
  mesos_status st = MESOS_OK;
  const char *sandbox_in = op->info ? c->sandbox_dir : t->sandbox;
  if (op->info) {
    /* docker/runtime: Entrypoint/Cmd/Env/WorkingDir/User of the image
     * merged with the CommandInfo (spec section 4.6). */
    st = mesos__image_launch_command(&op->info->config, cmd, c->sandbox_dir, &lc, &e);
    for (size_t i = 0; st == MESOS_OK && lc.env && lc.env[i]; i++)
      st = strv_add(&env, mesos__strdup(lc.env[i]));
  } else {
    st = host_command(cmd, &argv, &env, &lc, &e);
  }
  const char *vars[][2] = {{"MESOS_DIRECTORY", sandbox_in},
                           {"MESOS_TASK_ID", t->task_id},
                           {"MESOS_FRAMEWORK_ID", t->framework_id},
                           {"MESOS_EXECUTOR_ID", t->executor_id},
                           {"MESOS_AGENT_ID", a->id ? a->id : ""},
                           {"MESOS_CONTAINER_ID", t->container_id}};
  for (size_t i = 0; st == MESOS_OK && i < sizeof vars / sizeof vars[0]; i++)
    st = env_add(&env, vars[i][0], vars[i][1]);
  if (st == MESOS_OK) st = volumes_of(task_container(c, t->info), vols, &nvols, &e);
  /* The task's persistent volumes (agentvol, volumes.c): bind mounts in
   * its mount namespace, else links in its sandbox. */
  char *vsrcs[MAX_VOLUMES];
  size_t nvsrcs = nvols;
  if (st == MESOS_OK) {
    if (list_has(mesos__flags_get(a->flags, "isolation"), "filesystem/linux")) {
      st = mesos__agent_volumes_mounts(a, t->info->resources, t->info->n_resources,
                                       op->info != NULL, vols, vsrcs, MAX_VOLUMES, &nvsrcs, &e);
      nvols = nvsrcs;
    } else {
      st = mesos__agent_volumes_link(a, t->sandbox, t->info->resources, t->info->n_resources, &e);
    }
  }
  if (st == MESOS_OK) {
    mesos__container_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.argv = (const char *const *)(op->info ? lc.argv : argv.v);
    cfg.path = lc.path;
    cfg.env = (const char *const *)env.v;
    cfg.user = lc.user;
    cfg.rootfs = op->info ? op->info->rootfs : NULL;
    cfg.sandbox = t->sandbox;
    cfg.working_dir = op->info ? lc.working_dir : NULL;
    const Mesos__V1__ContainerInfo *ci = task_container(c, t->info);
    cfg.hostname = ci && ci->hostname && ci->hostname[0] ? ci->hostname : NULL;
    cfg.cpus = scalar(t->info, "cpus");
    double mem = scalar(t->info, "mem");
    cfg.mem_bytes = mem > 0 ? (uint64_t)(mem * 1024.0 * 1024.0) : 0;
    cfg.volumes = vols;
    cfg.nvolumes = nvols;
    /* Asynchronously: the init builds the mounts, pivots and execs while
     * the loop serves (launched() goes on). */
    st = mesos__containerizer_launch_async(c->cz, t->container_id, &cfg, launched, op, &e);
  }
  mesos__launch_cmd_clear(&lc);
  strv_free(&env);
  strv_free(&argv);
  for (size_t i = nvols < nvsrcs ? nvols : nvsrcs; i-- > 0;)
    if (vols[i].type == MESOS__VOLUME_PERSISTENT) mesos__free(vsrcs[i]);
  if (st != MESOS_OK) {
    launch_failed(op, t, "Cannot launch the container", e, st);
    mesos_error_free(e);
    return;
  }
  if (mesos__map_put(&c->launching, op->container_id, op) != MESOS_OK) {
    /* Cannot track it: undo (the launch then never reports). */
    mesos_error *de = NULL;
    mesos__containerizer_destroy(c->cz, op->container_id, &de);
    mesos_error_free(de);
    launch_failed(op, t, "Cannot launch the container", NULL, MESOS_ENOMEM);
  }
}

/* The container's task has exec'ed, or its start failed (or it was
 * killed while starting: see mesos__agent_container_kill). */
static void launched(const char *id, mesos_status st, const char *message, pid_t pid, void *ud) {
  launch_op *op = ud;
  mesos__agent_containers *c = op->c;
  if (mesos__map_get(&c->launching, id) == op) mesos__map_remove(&c->launching, id);
  mesos__agent_task *t = c->closing ? NULL : mesos__map_get(&c->a->tasks, op->key);
  mesos_error *e = NULL;
  if (st != MESOS_OK) {
    if (t && t->killing) {
      LOG_INFO("Task %s killed while its container %s was starting", op->key, id);
      remove_rootfs(c, op->container_id);
      char key[600];
      snprintf(key, sizeof key, "%s", op->key);
      op_free(op);
      agent_update(t, MESOS__V1__TASK_STATE__TASK_KILLED,
                   MESOS__V1__TASK_STATUS__REASON__REASON_TASK_KILLED_DURING_LAUNCH,
                   "Killed while its container was starting");
      mesos__agent_task_maybe_done(c->a, key);
      return;
    }
    mesos__err(&e, st, "%s", message ? message : mesos_status_str(st));
    launch_failed(op, t, "Cannot launch the container", e, st);
    mesos_error_free(e);
    return;
  }
  if (t == NULL || t->killing) { /* gone meanwhile: the container goes too */
    mesos_error *de = NULL;
    mesos__containerizer_destroy(c->cz, id, &de);
    mesos_error_free(de);
    remove_rootfs(c, op->container_id);
    op_free(op);
    return;
  }
  char *key = mesos__strdup(t->key);
  st = key ? mesos__map_put(&c->running, t->container_id, key) : MESOS_ENOMEM;
  if (st != MESOS_OK) mesos__free(key);
  else if ((st = mesos__containerizer_wait(c->cz, t->container_id, terminated, c, &e)) != MESOS_OK)
    mesos__free(mesos__map_remove(&c->running, t->container_id));
  if (st != MESOS_OK) {
    mesos_error *de = NULL;
    mesos__containerizer_destroy(c->cz, t->container_id, &de);
    mesos_error_free(de);
    launch_failed(op, t, "Cannot watch the container", e, st);
    mesos_error_free(e);
    return;
  }
  t->pid = pid;
  /* executor.info + task.info: the container's init stands in for the
   * executor, so a restarted agent finds the task (recover.c). */
  mesos__agent_checkpoint_executor(t);
  LOG_INFO("Task %s started in container %s (init pid %d)%s%s", t->key, t->container_id, (int)pid,
           op->info ? " with image " : "",
           op->info ? task_image(c, t->info)->docker->name : "");
  op_free(op);
  mesos__agent_task_update(t, MESOS__V1__TASK_STATE__TASK_STARTING, -1, NULL);
  mesos__agent_task_update(t, MESOS__V1__TASK_STATE__TASK_RUNNING, -1, NULL);
}

static void fetched(mesos_status st, mesos_error *err, void *ud) {
  launch_op *op = ud;
  mesos_error_free(st == MESOS_ECLOSED ? err : NULL);
  if (st == MESOS_ECLOSED) { /* the agent is gone (see fini) */
    op_free(op);
    return;
  }
  mesos__agent_task *t = op_task(op);
  if (t == NULL) {
    mesos_error_free(err);
    return;
  }
  if (st != MESOS_OK) {
    launch_failed(op, t, "Cannot fetch the command's URIs", err, st);
    mesos_error_free(err);
    return;
  }
  mesos_error_free(err);
  start(op);
}

/* CommandInfo.uris into the sandbox, then start. */
static void fetch(launch_op *op) {
  mesos__agent_task *t = op_task(op);
  if (t == NULL) return;
  const Mesos__V1__CommandInfo *cmd = t->info->command;
  if (cmd->n_uris == 0) {
    start(op);
    return;
  }
  mesos_error *e = NULL;
  mesos_status st = mesos__fetcher_fetch(op->c->fetcher, cmd->uris, cmd->n_uris, t->sandbox,
                                         fetched, op, &e);
  if (st != MESOS_OK) {
    launch_failed(op, t, "Cannot fetch the command's URIs", e, st);
    mesos_error_free(e);
  }
}

static void provisioned(mesos_status st, mesos__provision_info *info, mesos_error *err,
                        void *ud) {
  launch_op *op = ud;
  op->info = info;
  if (st == MESOS_ECLOSED) { /* the agent is gone (see fini) */
    mesos_error_free(err);
    op_free(op);
    return;
  }
  mesos__agent_task *t = op_task(op);
  if (t == NULL) {
    mesos_error_free(err);
    return;
  }
  if (st != MESOS_OK) {
    char what[600];
    snprintf(what, sizeof what, "Failed to provision image '%s'",
             task_image(op->c, t->info)->docker->name);
    launch_failed(op, t, what, err, st);
    mesos_error_free(err);
    return;
  }
  mesos_error_free(err);
  fetch(op);
}

void mesos__agent_container_launch(mesos__agent_task *t) {
  mesos_agent *a = t->agent;
  mesos__agent_containers *c = a->containers;
  t->containerized = 1;
  launch_op *op = MESOS__NEW(launch_op);
  mesos_error *e = NULL;
  mesos_status st = op ? MESOS_OK : MESOS_ENOMEM;
  if (op) {
    op->c = c;
    op->key = mesos__strdup(t->key);
    op->container_id = mesos__strdup(t->container_id);
    if (op->key == NULL || op->container_id == NULL) st = MESOS_ENOMEM;
  }
  if (st == MESOS_OK) st = mesos__agent_mkdirs(t->sandbox, &e);
  if (st != MESOS_OK) {
    if (op == NULL || op->key == NULL) {
      /* Not even the op: fail the task directly. */
      agent_update(t, MESOS__V1__TASK_STATE__TASK_FAILED,
                   MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED, "out of memory");
      op_free(op);
      char key[600];
      snprintf(key, sizeof key, "%s", t->key);
      mesos__agent_task_maybe_done(a, key);
    } else {
      launch_failed(op, t, "Cannot create the sandbox", e, st);
    }
    mesos_error_free(e);
    return;
  }
  const Mesos__V1__Image *img = task_image(c, t->info);
  if (img == NULL) {
    fetch(op);
    return;
  }
  /* Provisioning (layer extraction) runs on the thread pool: the loop
   * keeps serving while a large image unpacks. */
  /* Image.cached (default true): the image as this agent last read it,
   * without reading the registry again; false reads it again. */
  st = mesos__provisioner_provision(c->prov, a->loop, t->container_id, img->docker->name,
                                    !img->has_cached || img->cached, provisioned, op, &e);
  if (st != MESOS_OK) {
    char what[600];
    snprintf(what, sizeof what, "Failed to provision image '%s'", img->docker->name);
    launch_failed(op, t, what, e, st);
    mesos_error_free(e);
  }
}

/* ------------------------------------------------------------ end */

static void terminated(const char *id, const mesos__container_termination *term, void *ud) {
  mesos__agent_containers *c = ud;
  char *key = mesos__map_remove(&c->running, id);
  mesos__agent_task *t = key ? mesos__map_get(&c->a->tasks, key) : NULL;
  remove_rootfs(c, id);
  if (t == NULL || c->closing) {
    if (t) t->pid = 0;
    mesos__free(key);
    return;
  }
  t->pid = 0;
  mesos_timer_stop(t->kill_timer);
  char msg[600];
  if (term->limited) {
    int reason = term->reason == MESOS_LIMITATION_MEMORY
                     ? MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY
                 : term->reason == MESOS_LIMITATION_DISK
                     ? MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_DISK
                     : MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION;
    snprintf(msg, sizeof msg, "%s", term->message[0] ? term->message : "Container limitation");
    LOG_INFO("Task %s: container %s: %s", t->key, id, msg);
    agent_update(t, MESOS__V1__TASK_STATE__TASK_FAILED, reason, msg);
  } else if (!term->has_status) {
    snprintf(msg, sizeof msg, "The container ended and its exit status is unknown");
    agent_update(t, t->killing ? MESOS__V1__TASK_STATE__TASK_KILLED
                               : MESOS__V1__TASK_STATE__TASK_FAILED,
                 t->killing ? -1 : MESOS__V1__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED, msg);
  } else {
    int ws = term->status;
    if (WIFEXITED(ws)) snprintf(msg, sizeof msg, "Command exited with status %d", WEXITSTATUS(ws));
    else if (WIFSIGNALED(ws))
      snprintf(msg, sizeof msg, "Command terminated with signal %s", strsignal(WTERMSIG(ws)));
    else snprintf(msg, sizeof msg, "Command ended with wait status %d", ws);
    Mesos__V1__TaskState s = t->killing ? MESOS__V1__TASK_STATE__TASK_KILLED
                             : WIFEXITED(ws) && WEXITSTATUS(ws) == 0
                                 ? MESOS__V1__TASK_STATE__TASK_FINISHED
                                 : MESOS__V1__TASK_STATE__TASK_FAILED;
    mesos__agent_task_update(t, s, -1, msg);
  }
  mesos__agent_task_maybe_done(c->a, key);
  mesos__free(key);
}

void mesos__agent_container_kill(mesos__agent_task *t, uint64_t grace_ms) {
  if (t->killing) return;
  t->killing = 1;
  mesos__agent_containers *c = t->agent->containers;
  if (t->pid <= 0 && c && mesos__map_get(&c->launching, t->container_id)) {
    /* Its init is starting: killed now, the launch ends with an error and
     * launched() sends TASK_KILLED. */
    LOG_INFO("Killing task %s while its container %s starts", t->key, t->container_id);
    mesos_error *e = NULL;
    if (mesos__containerizer_kill(c->cz, t->container_id, &e) != MESOS_OK) mesos_error_free(e);
    return;
  }
  if (t->pid <= 0) {
    /* Still provisioning or fetching: the pipeline sees `killing` and
     * stops; nothing runs yet.  A download (which may never end: a
     * stalled server) is cancelled, its partial file removed. */
    if (c) mesos__fetcher_cancel(c->fetcher, t->sandbox);
    char key[600];
    snprintf(key, sizeof key, "%s", t->key);
    mesos__agent_task_update(t, MESOS__V1__TASK_STATE__TASK_KILLED,
                             MESOS__V1__TASK_STATUS__REASON__REASON_TASK_KILLED_DURING_LAUNCH,
                             "Killed before its container started");
    mesos__agent_task_maybe_done(t->agent, key);
    return;
  }
  LOG_INFO("Killing task %s in container %s (SIGTERM, SIGKILL after %llu ms)", t->key,
           t->container_id, (unsigned long long)grace_ms);
  /* The init forwards SIGTERM to the task; after the grace period the
   * kill timer (task_runner.c) SIGKILLs the init's process group, and the
   * containerizer kills whatever is left in the cgroup. */
  kill(t->pid, SIGTERM);
  mesos_timer_start(t->kill_timer, grace_ms, 0);
}

/* ------------------------------------------------------------ executors in containers */

/*
 * A custom executor that asks for a container runs as that container's
 * task: provision the image of ExecutorInfo.container, fetch the
 * executor's CommandInfo.uris into its sandbox (the way a framework ships
 * an executor binary that is not in the image), then launch the executor's
 * command as Mesos does for an executor in an image (spec section 4.6:
 * the image's Entrypoint/Cmd/Env/WorkingDir merged with the CommandInfo),
 * with its sandbox at --sandbox_directory, cgroups per --isolation sized
 * for the executor and its tasks, and the host's network, so it subscribes
 * to the agent's executor endpoint as any executor does.  Its tasks are
 * its own children inside the container.  executors.c keeps the executor
 * record and hears how the container started and ended through the
 * mesos__agent_exec_* calls of containers.h: everything here is looked up
 * by executor key and container id, so an executor that is gone meanwhile
 * simply makes the container go too.
 */
typedef struct exec_op {
  mesos__agent_containers *c;
  char *key, *container_id, *sandbox;
  char *program;               /* the default executor's, else NULL */
  strv env;                    /* the agent's MESOS_* variables for the executor */
  mesos__provision_info *info; /* after provisioning; NULL without an image */
  int cancelled;               /* killed before it ran */
  int launching;               /* launch_async is running (its callback will come) */
} exec_op;

static void exec_op_free(exec_op *op) {
  if (op == NULL) return;
  mesos__provision_info_free(op->info);
  strv_free(&op->env);
  mesos__free(op->program);
  mesos__free(op->key);
  mesos__free(op->container_id);
  mesos__free(op->sandbox);
  mesos__free(op);
}

static const Mesos__V1__ContainerInfo *exec_ci(const Mesos__V1__ExecutorInfo *ei) {
  const Mesos__V1__ContainerInfo *ci = ei ? ei->container : NULL;
  return ci && ci->type == MESOS__V1__CONTAINER_INFO__TYPE__MESOS ? ci : NULL;
}

static const Mesos__V1__Image *exec_image(const Mesos__V1__ExecutorInfo *ei) {
  const Mesos__V1__ContainerInfo *ci = exec_ci(ei);
  return ci && ci->mesos ? ci->mesos->image : NULL;
}

int mesos__agent_exec_container_wanted(mesos_agent *a, const Mesos__V1__ExecutorInfo *ei,
                                       const char **why) {
  *why = NULL;
  mesos__agent_containers *c = a->containers;
  const Mesos__V1__ContainerInfo *ci = ei->container;
  if (ci && ci->type == MESOS__V1__CONTAINER_INFO__TYPE__DOCKER) {
    *why = "ExecutorInfo.container of type DOCKER needs the Docker containerizer, which this "
           "agent does not have (use type MESOS with an image)";
    return 0;
  }
  ci = exec_ci(ei);
  if (ci == NULL) return c != NULL && c->isolating; /* see the end */
  const Mesos__V1__Image *img = exec_image(ei);
  if (img) {
    if (img->type != MESOS__V1__IMAGE__TYPE__DOCKER) {
      *why = "Only DOCKER images are supported (appc is not)";
      return 0;
    }
    if (img->docker == NULL || img->docker->name == NULL || img->docker->name[0] == '\0') {
      *why = "The DOCKER image of the executor has no name";
      return 0;
    }
    if (c == NULL || c->prov == NULL) {
      *why = "This agent runs no images: it was started without --image_providers=docker";
      return 0;
    }
    return 1;
  }
  if (ci->n_volumes > 0 || (ci->hostname && ci->hostname[0])) {
    if (c == NULL) {
      *why = "Volumes and hostnames of an executor's container need the mesos containerizer: "
             "start the agent with --isolation=filesystem/linux,...";
      return 0;
    }
    return 1;
  }
  /* No image, volumes or hostname (or the default executor): Mesos still
   * puts every executor in a container with the isolators of --isolation (cgroups limits sized for
   * the executor and its tasks, a pid namespace if asked), as it does for
   * command tasks here (mesos__agent_container_wanted).  With only
   * posix/cpu,posix/mem (no containerizer) it stays a plain process. */
  return c != NULL && c->isolating;
}

/* Ends `op` before its container ran: the executor hears `why`. */
static void exec_op_fail(exec_op *op, const char *what, const mesos_error *e, mesos_status st) {
  mesos__agent_containers *c = op->c;
  char msg[1024];
  if (what && e) snprintf(msg, sizeof msg, "%s: %s", what, mesos_error_message(e));
  else if (what) snprintf(msg, sizeof msg, "%s: %s", what, mesos_status_str(st));
  else snprintf(msg, sizeof msg, "Killed before its container started");
  if (mesos__map_get(&c->exec_preparing, op->container_id) == op)
    mesos__map_remove(&c->exec_preparing, op->container_id);
  remove_rootfs(c, op->container_id);
  LOG_WARN("executor %s: container %s: %s", op->key, op->container_id, msg);
  mesos__agent_exec_container_started(c->a, op->key, op->container_id, -1, msg);
  exec_op_free(op);
}

/* The executor's ExecutorInfo if `op` is still wanted; otherwise the op is
 * ended (NULL). */
static const Mesos__V1__ExecutorInfo *exec_op_info(exec_op *op) {
  const Mesos__V1__ExecutorInfo *ei =
      mesos__agent_exec_info(op->c->a, op->key, op->container_id); /* executors.c */
  if (ei == NULL || op->cancelled) {
    exec_op_fail(op, NULL, NULL, MESOS_ECLOSED);
    return NULL;
  }
  return ei;
}

static void exec_terminated(const char *id, const mesos__container_termination *term, void *ud) {
  mesos__agent_containers *c = ud;
  char *key = mesos__map_remove(&c->exec_running, id);
  remove_rootfs(c, id);
  if (key && !c->closing) {
    int reason = -1;
    if (term->limited)
      reason = term->reason == MESOS_LIMITATION_MEMORY
                   ? MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY
               : term->reason == MESOS_LIMITATION_DISK
                   ? MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_DISK
                   : MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION;
    mesos__agent_exec_container_ended(c->a, key, id, term->has_status ? term->status : -1, reason,
                                      term->limited ? term->message : NULL);
  }
  mesos__free(key);
}

static void exec_launched(const char *id, mesos_status st, const char *message, pid_t pid,
                          void *ud) {
  exec_op *op = ud;
  mesos__agent_containers *c = op->c;
  op->launching = 0;
  if (st != MESOS_OK) {
    mesos_error *e = NULL;
    mesos__err(&e, st, "%s", message ? message : mesos_status_str(st));
    if (op->cancelled) exec_op_fail(op, NULL, NULL, st);
    else exec_op_fail(op, "Cannot launch the executor's container", e, st);
    mesos_error_free(e);
    return;
  }
  if (mesos__map_get(&c->exec_preparing, id) == op) mesos__map_remove(&c->exec_preparing, id);
  mesos_error *e = NULL;
  char *key = mesos__strdup(op->key);
  st = key ? mesos__map_put(&c->exec_running, id, key) : MESOS_ENOMEM;
  if (st != MESOS_OK) mesos__free(key);
  else if ((st = mesos__containerizer_wait(c->cz, id, exec_terminated, c, &e)) != MESOS_OK)
    mesos__free(mesos__map_remove(&c->exec_running, id));
  if (st == MESOS_OK && !op->cancelled &&
      mesos__agent_exec_container_started(c->a, op->key, id, pid, NULL)) {
    LOG_INFO("Executor %s started in container %s (init pid %d)", op->key, id, (int)pid);
    exec_op_free(op);
    return;
  }
  /* Not wanted any more (or not watchable): the container goes.  With
   * the waiter registered, exec_terminated removes the rootfs and tells
   * an executor that may still be there. */
  int waited = st == MESOS_OK;
  if (st != MESOS_OK) LOG_WARN("executor %s: cannot watch its container %s: %s", op->key, id,
                               e ? mesos_error_message(e) : mesos_status_str(st));
  mesos_error_free(e);
  e = NULL;
  if (mesos__containerizer_destroy(c->cz, id, &e) != MESOS_OK) mesos_error_free(e);
  if (!waited) {
    remove_rootfs(c, id);
    if (!op->cancelled)
      mesos__agent_exec_container_started(c->a, op->key, id, -1, "Cannot watch the executor's container");
  }
  exec_op_free(op);
}

/* Builds the executor's command and starts its container. */
static void exec_start(exec_op *op) {
  const Mesos__V1__ExecutorInfo *ei = exec_op_info(op);
  if (ei == NULL) return;
  mesos__agent_containers *c = op->c;
  /* The default executor: its program, on the host (shell=false). */
  Mesos__V1__CommandInfo prog = MESOS__V1__COMMAND_INFO__INIT;
  prog.value = op->program;
  prog.has_shell = 1;
  prog.shell = 0;
  const Mesos__V1__CommandInfo *cmd = op->program ? &prog : ei->command;
  mesos__launch_cmd lc;
  memset(&lc, 0, sizeof lc);
  strv env = {NULL, 0, 0}, argv = {NULL, 0, 0};
  mesos__volume vols[MAX_VOLUMES];
  size_t nvols = 0;
  mesos_error *e = NULL;
  mesos_status st = MESOS_OK;
  /* The agent's variables first: they win (as for executors outside
   * containers, whose token may not be overridden). */
  for (size_t i = 0; st == MESOS_OK && i < op->env.n; i++) st = env_add_entry(&env, op->env.v[i]);
  if (st == MESOS_OK && op->info) {
    st = mesos__image_launch_command(&op->info->config, cmd, c->sandbox_dir, &lc, &e);
    for (size_t i = 0; st == MESOS_OK && lc.env && lc.env[i]; i++) st = env_add_entry(&env, lc.env[i]);
  } else if (st == MESOS_OK) {
    /* The host's filesystem: as a command task's container (start()). */
    st = host_command(cmd, &argv, &env, &lc, &e);
  }
  const Mesos__V1__ContainerInfo *ci = exec_ci(ei);
  if (st == MESOS_OK) st = volumes_of(ci, vols, &nvols, &e);
  if (st == MESOS_OK) {
    double cpus = 0, mem_mb = 0;
    mesos__agent_exec_resources(c->a, op->key, &cpus, &mem_mb); /* executors.c */
    mesos__container_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.argv = (const char *const *)(op->info ? lc.argv : argv.v);
    cfg.path = lc.path;
    cfg.env = (const char *const *)env.v;
    cfg.user = lc.user;
    cfg.rootfs = op->info ? op->info->rootfs : NULL;
    cfg.sandbox = op->sandbox;
    cfg.working_dir = op->info ? lc.working_dir : NULL;
    cfg.hostname = ci && ci->hostname && ci->hostname[0] ? ci->hostname : NULL;
    cfg.cpus = cpus;
    cfg.mem_bytes = mem_mb > 0 ? (uint64_t)(mem_mb * 1024.0 * 1024.0) : 0;
    cfg.volumes = vols;
    cfg.nvolumes = nvols;
    op->launching = 1;
    st = mesos__containerizer_launch_async(c->cz, op->container_id, &cfg, exec_launched, op, &e);
    if (st != MESOS_OK) op->launching = 0;
  }
  mesos__launch_cmd_clear(&lc);
  strv_free(&env);
  strv_free(&argv);
  if (st != MESOS_OK) {
    exec_op_fail(op, "Cannot launch the executor's container", e, st);
    mesos_error_free(e);
  }
}

static void exec_fetched(mesos_status st, mesos_error *err, void *ud) {
  exec_op *op = ud;
  if (st == MESOS_ECLOSED) { /* the agent is gone (see fini) */
    mesos_error_free(err);
    exec_op_free(op);
    return;
  }
  if (exec_op_info(op) == NULL) {
    mesos_error_free(err);
    return;
  }
  if (st != MESOS_OK) exec_op_fail(op, "Cannot fetch the executor's URIs", err, st);
  else exec_start(op);
  mesos_error_free(err);
}

/* ExecutorInfo.command.uris into the sandbox, then start. */
static void exec_fetch(exec_op *op) {
  const Mesos__V1__ExecutorInfo *ei = exec_op_info(op);
  if (ei == NULL) return;
  const Mesos__V1__CommandInfo *cmd = ei->command;
  if (cmd == NULL || cmd->n_uris == 0) {
    exec_start(op);
    return;
  }
  mesos_error *e = NULL;
  mesos_status st = mesos__fetcher_fetch(op->c->fetcher, cmd->uris, cmd->n_uris, op->sandbox,
                                         exec_fetched, op, &e);
  if (st != MESOS_OK) {
    exec_op_fail(op, "Cannot fetch the executor's URIs", e, st);
    mesos_error_free(e);
  }
}

static void exec_provisioned(mesos_status st, mesos__provision_info *info, mesos_error *err,
                             void *ud) {
  exec_op *op = ud;
  op->info = info;
  if (st == MESOS_ECLOSED) { /* the agent is gone (see fini) */
    mesos_error_free(err);
    exec_op_free(op);
    return;
  }
  const Mesos__V1__ExecutorInfo *ei = exec_op_info(op);
  if (ei == NULL) {
    mesos_error_free(err);
    return;
  }
  if (st != MESOS_OK) {
    char what[600];
    snprintf(what, sizeof what, "Failed to provision image '%s'", exec_image(ei)->docker->name);
    exec_op_fail(op, what, err, st);
  } else {
    exec_fetch(op);
  }
  mesos_error_free(err);
}

mesos_status mesos__agent_exec_container_launch(mesos_agent *a, const char *key,
                                                const char *container_id, const char *sandbox,
                                                const char *program, const char *const *env,
                                                mesos_error **err) {
  mesos__agent_containers *c = a->containers;
  const Mesos__V1__ExecutorInfo *ei = mesos__agent_exec_info(a, key, container_id);
  if (c == NULL || ei == NULL)
    return mesos__err(err, MESOS_EINVAL, "executor %s cannot run in a container here", key);
  exec_op *op = MESOS__NEW(exec_op);
  if (op == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  op->c = c;
  op->key = mesos__strdup(key);
  op->container_id = mesos__strdup(container_id);
  op->sandbox = mesos__strdup(sandbox);
  op->program = program ? mesos__strdup(program) : NULL;
  mesos_status st = op->key && op->container_id && op->sandbox && (op->program || !program)
                        ? MESOS_OK
                        : MESOS_ENOMEM;
  for (size_t i = 0; st == MESOS_OK && env && env[i]; i++)
    st = strv_add(&op->env, mesos__strdup(env[i]));
  if (st == MESOS_OK) st = mesos__map_put(&c->exec_preparing, container_id, op);
  if (st != MESOS_OK) {
    exec_op_free(op);
    return mesos__err(err, st, "cannot start the executor's container: %s", mesos_status_str(st));
  }
  const Mesos__V1__Image *img = exec_image(ei);
  if (img == NULL) {
    exec_fetch(op); /* reports through mesos__agent_exec_container_started */
    return MESOS_OK;
  }
  mesos_error *e = NULL;
  st = mesos__provisioner_provision(c->prov, a->loop, container_id, img->docker->name,
                                    !img->has_cached || img->cached, exec_provisioned, op, &e);
  if (st != MESOS_OK) {
    mesos__map_remove(&c->exec_preparing, container_id);
    exec_op_free(op);
    remove_rootfs(c, container_id);
    return mesos__err_wrap(err, st, e, "Failed to provision image '%s': %s", img->docker->name,
                           e ? mesos_error_message(e) : mesos_status_str(st));
  }
  return MESOS_OK;
}

void mesos__agent_exec_container_kill(mesos_agent *a, const char *container_id) {
  mesos__agent_containers *c = a->containers;
  if (c == NULL || container_id == NULL) return;
  mesos_error *e = NULL;
  exec_op *op = mesos__map_get(&c->exec_preparing, container_id);
  if (op) {
    /* Provisioning or fetching: the pipeline stops at its next step (a
     * download is cancelled now); an init that is starting is killed and
     * its launch ends with an error. */
    op->cancelled = 1;
    if (op->launching) {
      if (mesos__containerizer_kill(c->cz, container_id, &e) != MESOS_OK) mesos_error_free(e);
    } else {
      mesos__fetcher_cancel(c->fetcher, op->sandbox);
    }
    return;
  }
  if (mesos__map_get(&c->exec_running, container_id) &&
      mesos__containerizer_kill(c->cz, container_id, &e) != MESOS_OK)
    mesos_error_free(e);
}

mesos_status mesos__agent_exec_container_adopt(mesos_agent *a, const char *key,
                                               const char *container_id, int32_t *pid,
                                               mesos_error **err) {
  mesos__agent_containers *c = a->containers;
  if (c == NULL || !(mesos__agent_container_alive(a, container_id) ||
                     mesos__agent_container_ended(a, container_id)))
    return mesos__err(err, MESOS_ENOTFOUND, "container %s of executor %s is gone",
                      container_id ? container_id : "?", key);
  char *k = mesos__strdup(key);
  mesos_status st = k ? mesos__map_put(&c->exec_running, container_id, k) : MESOS_ENOMEM;
  if (st != MESOS_OK) {
    mesos__free(k);
    return mesos__err(err, st, "out of memory");
  }
  st = mesos__containerizer_wait(c->cz, container_id, exec_terminated, c, err);
  if (st != MESOS_OK) {
    mesos__free(mesos__map_remove(&c->exec_running, container_id));
    return st;
  }
  for (size_t i = 0; i < c->nrecovered; i++)
    if (strcmp(c->recovered[i], container_id) == 0) {
      mesos__free(c->recovered[i]);
      c->recovered[i] = c->recovered[--c->nrecovered];
      break;
    }
  pid_t p = mesos__containerizer_pid(c->cz, container_id);
  *pid = p > 0 ? p : 0;
  LOG_INFO("Recovered executor %s: re-attached to its container %s (init pid %d)", key,
           container_id, (int)*pid);
  return MESOS_OK;
}

void mesos__agent_exec_container_resize(mesos_agent *a, const char *key,
                                        const char *container_id) {
  mesos__agent_containers *c = a->containers;
  if (c == NULL || key == NULL || container_id == NULL) return;
  /* Only a container that exists: one still provisioning or fetching is
   * sized when it starts (exec_start asks for the resources then). */
  exec_op *op = mesos__map_get(&c->exec_preparing, container_id);
  if (!(mesos__map_get(&c->exec_running, container_id) || (op && op->launching))) return;
  double cpus = 0, mem_mb = 0;
  mesos__agent_exec_resources(a, key, &cpus, &mem_mb); /* executors.c */
  mesos_container_limits l = {MESOS_CONTAINER_LIMITS_VERSION, cpus,
                              mem_mb > 0 ? (uint64_t)(mem_mb * 1024.0 * 1024.0) : 0, 0};
  mesos_error *e = NULL;
  if (mesos__containerizer_update(c->cz, container_id, &l, &e) != MESOS_OK) {
    LOG_WARN("executor %s: cannot update the limits of its container %s: %s", key, container_id,
             e ? mesos_error_message(e) : "");
    mesos_error_free(e);
    return;
  }
  LOG_INFO("Executor %s: container %s updated to cpus %.3g, mem %.0f MB (executor and live tasks)",
           key, container_id, cpus, mem_mb);
}

void mesos__agent_exec_container_leave(mesos_agent *a, const char *container_id) {
  mesos__agent_containers *c = a->containers;
  if (c == NULL || container_id == NULL) return;
  char *key = mesos__map_remove(&c->exec_running, container_id);
  if (key) LOG_INFO("Leaving container %s of executor %s running for the next agent", container_id, key);
  mesos__free(key);
}

/* Agent shutdown (containers_fini): executors' containers still in
 * exec_running are destroyed (those left to the next agent were taken out
 * by mesos__agent_exec_container_leave); ops whose init is starting are
 * destroyed and freed (their callback never comes once the containerizer
 * is freed); ops waiting for a provision or a fetch are freed by that
 * callback (ECLOSED). */
static void exec_containers_fini(mesos__agent_containers *c) {
  size_t n = mesos__map_count(&c->exec_running), k = 0, it = 0;
  char **ids = mesos__calloc(n ? n : 1, sizeof *ids);
  const char *id;
  void *v;
  while (ids && mesos__map_next(&c->exec_running, &it, &id, NULL))
    if ((ids[k] = mesos__strdup(id)) != NULL) k++;
  for (size_t i = 0; i < k; i++) destroy_now(c, ids[i]);
  ids_free(ids, k);
  it = 0;
  while (mesos__map_next(&c->exec_running, &it, NULL, &v)) mesos__free(v);
  mesos__map_free(&c->exec_running);
  it = 0;
  while (mesos__map_next(&c->exec_preparing, &it, NULL, &v)) {
    exec_op *op = v;
    if (!op->launching) continue;
    destroy_now(c, op->container_id);
    exec_op_free(op);
  }
  mesos__map_free(&c->exec_preparing);
}

/* ------------------------------------------------------------ recovery */

int mesos__agent_container_alive(mesos_agent *a, const char *container_id) {
  mesos__agent_containers *c = a->containers;
  if (c == NULL || container_id == NULL) return 0;
  for (size_t i = 0; i < c->nrecovered; i++)
    if (strcmp(c->recovered[i], container_id) == 0) return 1;
  return 0;
}

int mesos__agent_container_ended(mesos_agent *a, const char *container_id) {
  mesos__agent_containers *c = a->containers;
  return c != NULL && container_id != NULL && mesos__containerizer_ended(c->cz, container_id);
}

void mesos__agent_container_adopt(mesos_agent *a, const mesos__agent_path_ids *ids,
                                  const Mesos__V1__TaskInfo *ti, Mesos__V1__TaskState state,
                                  const char *updates_path) {
  mesos__agent_containers *c = a->containers;
  mesos__agent_task *t = NULL;
  mesos_error *e = NULL;
  char *key = NULL;
  mesos_status st = mesos__agent_task_new(a, ids->framework_id, ti, ids->executor_id,
                                          ids->container_id, &t, &e);
  if (st == MESOS_OK) {
    t->containerized = 1;
    t->checkpoint = 1;
    t->state = state;
    t->pid = mesos__containerizer_pid(c->cz, ids->container_id);
    if (t->pid < 0) t->pid = 0; /* ended while the agent was down: wait() reports it */
    key = mesos__strdup(t->key);
    st = key ? mesos__map_put(&c->running, ids->container_id, key) : MESOS_ENOMEM;
    if (st != MESOS_OK) mesos__free(key);
  }
  if (st == MESOS_OK) {
    st = mesos__containerizer_wait(c->cz, ids->container_id, terminated, c, &e);
    if (st != MESOS_OK) mesos__free(mesos__map_remove(&c->running, ids->container_id));
  }
  if (st == MESOS_OK) {
    /* Adopted: no longer an orphan. */
    for (size_t i = 0; i < c->nrecovered; i++)
      if (strcmp(c->recovered[i], ids->container_id) == 0) {
        mesos__free(c->recovered[i]);
        c->recovered[i] = c->recovered[--c->nrecovered];
        break;
      }
    LOG_INFO("Recovered task %s: re-attached to container %s (init pid %d)", t->key,
             ids->container_id, (int)t->pid);
    return;
  }
  char msg[1024];
  snprintf(msg, sizeof msg, "The agent restarted and cannot re-attach to the container: %s",
           e ? mesos_error_message(e) : mesos_status_str(st));
  mesos_error_free(e);
  LOG_ERROR("task %s/%s: %s", ids->framework_id, ids->task_id, msg);
  if (t) {
    char k[600];
    snprintf(k, sizeof k, "%s", t->key);
    t->pid = 0;
    agent_update(t, MESOS__V1__TASK_STATE__TASK_FAILED,
                 MESOS__V1__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED, msg);
    mesos__agent_task_maybe_done(a, k);
  } else {
    mesos_error *ue = NULL;
    if (mesos__agent_status_update(a, ids->framework_id, NULL, ids->task_id, updates_path,
                                   MESOS__V1__TASK_STATE__TASK_FAILED,
                                   MESOS__V1__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED, msg,
                                   &ue) != MESOS_OK)
      mesos_error_free(ue);
  }
  /* Left in `recovered`: destroyed with the orphans. */
}

/* ------------------------------------------------------------ status */

Mesos__V1__ContainerStatus *mesos__agent_container_status(mesos_agent *a,
                                                          const char *framework_id,
                                                          const char *task_id,
                                                          mesos__agent_cstatus *st) {
  if (a->containers == NULL || framework_id == NULL || task_id == NULL) return NULL;
  char key[600];
  snprintf(key, sizeof key, "%s/%s", framework_id, task_id);
  mesos__agent_task *t = mesos__map_get(&a->tasks, key);
  if (t == NULL || !t->containerized || t->container_id == NULL) return NULL;
  memset(st, 0, sizeof *st);
  mesos__v1__container_status__init(&st->cs);
  mesos__v1__container_id__init(&st->cid);
  mesos__v1__network_info__init(&st->ni);
  mesos__v1__network_info__ipaddress__init(&st->ip);
  st->cid.value = t->container_id;
  st->cs.container_id = &st->cid;
  if (t->pid > 0) {
    st->cs.has_executor_pid = 1;
    st->cs.executor_pid = (uint32_t)t->pid;
  }
  snprintf(st->addr, sizeof st->addr, "%s", strcmp(a->ip, "0.0.0.0") == 0 ? "127.0.0.1" : a->ip);
  st->ip.has_protocol = 1;
  st->ip.protocol = strchr(st->addr, ':') ? MESOS__V1__NETWORK_INFO__PROTOCOL__IPv6
                                          : MESOS__V1__NETWORK_INFO__PROTOCOL__IPv4;
  st->ip.ip_address = st->addr;
  st->ips[0] = &st->ip;
  st->ni.n_ip_addresses = 1;
  st->ni.ip_addresses = st->ips;
  st->nis[0] = &st->ni;
  st->cs.n_network_infos = 1;
  st->cs.network_infos = st->nis;
  return &st->cs;
}

/* ------------------------------------------------------------ statistics */

int mesos__agent_container_statistics(mesos_agent *a, const mesos__agent_task *t,
                                      Mesos__V1__ResourceStatistics *rs) {
  mesos__agent_containers *c = a->containers;
  /* A command task's own container, or the container of the custom
   * executor that runs the task (its container id is the executor's). */
  if (c == NULL || !((t->containerized && t->pid > 0) ||
                     (t->container_id && mesos__map_get(&c->exec_running, t->container_id))))
    return 0;
  mesos_container_usage u = MESOS_CONTAINER_USAGE_INIT;
  mesos_error *e = NULL;
  if (mesos__containerizer_usage(c->cz, t->container_id, &u, &e) != MESOS_OK) {
    mesos_error_free(e);
    return 0;
  }
  if (u.timestamp > 0) rs->timestamp = u.timestamp;
  if (u.fields & MESOS_USAGE_CPU_TIMES) {
    rs->has_cpus_user_time_secs = rs->has_cpus_system_time_secs = 1;
    rs->cpus_user_time_secs = u.cpus_user_time_secs;
    rs->cpus_system_time_secs = u.cpus_system_time_secs;
  }
  if (u.fields & MESOS_USAGE_CPU_LIMIT) {
    rs->has_cpus_limit = 1;
    rs->cpus_limit = u.cpus_limit;
  }
  if (u.fields & MESOS_USAGE_CPU_THROTTLING) {
    rs->has_cpus_nr_periods = rs->has_cpus_nr_throttled = rs->has_cpus_throttled_time_secs = 1;
    rs->cpus_nr_periods = (uint32_t)u.cpus_nr_periods;
    rs->cpus_nr_throttled = (uint32_t)u.cpus_nr_throttled;
    rs->cpus_throttled_time_secs = u.cpus_throttled_time_secs;
  }
  if (u.fields & MESOS_USAGE_MEM) {
    rs->has_mem_total_bytes = rs->has_mem_rss_bytes = 1;
    rs->mem_total_bytes = u.mem_total_bytes;
    rs->mem_rss_bytes = u.mem_rss_bytes;
  }
  if (u.fields & MESOS_USAGE_MEM_DETAIL) {
    rs->has_mem_cache_bytes = rs->has_mem_swap_bytes = 1;
    rs->mem_cache_bytes = u.mem_cache_bytes;
    rs->mem_swap_bytes = u.mem_swap_bytes;
  }
  if (u.fields & MESOS_USAGE_MEM_LIMIT) {
    rs->has_mem_limit_bytes = 1;
    rs->mem_limit_bytes = u.mem_limit_bytes;
  }
  if (u.fields & MESOS_USAGE_PROCESSES) {
    rs->has_processes = rs->has_threads = 1;
    rs->processes = (uint32_t)u.processes;
    rs->threads = (uint32_t)u.threads;
  }
  return 1;
}
