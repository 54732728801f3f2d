/*
 * The agent's side of the unified ("mesos") containerizer: which command
 * tasks run in a container, the provision -> fetch -> launch pipeline,
 * the termination -> status update mapping, statistics from the cgroups,
 * and re-attaching to containers after an agent restart.  The runtime
 * itself is lib/containerizer (namespaces, cgroups, isolators) and
 * lib/provisioner (images, fetcher); this file only glues them to tasks.
 */
#ifndef MESOS_AGENT_CONTAINERS_H
#define MESOS_AGENT_CONTAINERS_H

#include "base/flags.h"
#include "mesos/containerizer.h"
#include "mesos/v1/mesos.pb-c.h"
#include "registry/agent_paths.h"

struct mesos_agent;
struct mesos__agent_task;

/* Mesos's names and defaults (spec/containerizer.md sections 1, 2, 4). */
#define MESOS__AGENT_CONTAINER_FLAGS                                                            \
  {"containerizers", MESOS__FLAG_STRING, "mesos",                                              \
   "Containerizers, comma-separated: only 'mesos' (the Docker daemon containerizer is not "    \
   "supported)", NULL, NULL},                                                                  \
  {"isolation", MESOS__FLAG_STRING, "posix/cpu,posix/mem",                                     \
   "Isolators of the mesos containerizer (cgroups/cpu, cgroups/mem, cgroups/pids, "            \
   "cgroups/devices, filesystem/linux, namespaces/pid, namespaces/ipc, docker/runtime, "       \
   "volume/host_path, volume/sandbox_path, posix/cpu, posix/mem). With only posix/* and no "   \
   "image, command tasks run as plain processes", NULL, NULL},                                 \
  {"image_providers", MESOS__FLAG_STRING, NULL,                                                \
   "Image providers: 'docker' (needs filesystem/linux and docker/runtime in --isolation)",     \
   NULL, NULL},                                                                                \
  {"docker_registry", MESOS__FLAG_STRING, "https://registry-1.docker.io",                      \
   "Where Docker images come from: a local directory of 'docker save' tarballs and OCI "       \
   "layouts (remote registries are not supported)", NULL, NULL},                               \
  {"docker_store_dir", MESOS__FLAG_STRING, "/tmp/mesos/store/docker",                          \
   "Content-addressed layer store", NULL, NULL},                                               \
  {"image_provisioner_backend", MESOS__FLAG_STRING, "overlay",                                 \
   "How a container's root filesystem is assembled: overlay or copy", NULL, NULL},             \
  {"sandbox_directory", MESOS__FLAG_STRING, "/mnt/mesos/sandbox",                              \
   "Where the sandbox is mounted inside containers with their own root filesystem", NULL,      \
   NULL},                                                                                      \
  {"runtime_dir", MESOS__FLAG_STRING, "/var/run/mesos",                                        \
   "Container runtime state (survives agent restarts, not reboots)", NULL, NULL},              \
  {"cgroups_hierarchy", MESOS__FLAG_STRING, "/sys/fs/cgroup",                                  \
   "Where the cgroup hierarchies are mounted (the layout itself is read from "                 \
   "/proc/self/mountinfo)", NULL, NULL},                                                       \
  {"cgroups_root", MESOS__FLAG_STRING, "mesos",                                                \
   "Name of the agent's cgroup subtree, below the agent's own cgroup", NULL, NULL},            \
  {"cgroups_enable_cfs", MESOS__FLAG_BOOL, "false",                                            \
   "Hard CPU limits with CFS quotas (cgroups/cpu)", NULL, NULL},                               \
  {"cgroups_limit_swap", MESOS__FLAG_BOOL, "false",                                            \
   "The memory limit covers swap too (cgroups/mem)", NULL, NULL},                              \
  {"fetcher_cache_dir", MESOS__FLAG_STRING, "/tmp/mesos/fetch",                                \
   "Cache of CommandInfo.URIs with cache=true (containerized tasks)", NULL, NULL},             \
  {"fetcher_cache_size", MESOS__FLAG_BYTES, "2GB", "Size bound of --fetcher_cache_dir", NULL,  \
   NULL},                                                                                      \
  {"default_container_info", MESOS__FLAG_STRING, NULL,                                         \
   "JSON ContainerInfo (type MESOS) for tasks that have none, e.g. an image or volumes",       \
   NULL, NULL}

typedef struct mesos__agent_containers mesos__agent_containers;

/* Checks the container flags (clear errors, nothing created on a bad one)
 * and, when the configuration can run containers at all (a non-posix
 * isolator or --image_providers), creates the containerizer, provisioner
 * and fetcher and recovers the containers a previous run left.  With the
 * defaults nothing is created and command tasks run as before. */
mesos_status mesos__agent_containers_init(struct mesos_agent *a, mesos_error **err);
/* After mesos__agent_recover_updates: destroys the containers no task
 * re-attached to (orphans) and their root filesystems. */
void mesos__agent_containers_recovered(struct mesos_agent *a);
/* Agent shutdown: destroys the running containers (as the agent kills its
 * other tasks), then frees everything.  NULL-safe; call before
 * mesos__agent_tasks_free. */
void mesos__agent_containers_fini(struct mesos_agent *a);

/* Whether command task `ti` runs in a container; 0 with *why set (a
 * static string) when it asks for something this agent cannot do (then
 * the task fails with *why), 0 with *why NULL for the plain process path. */
int mesos__agent_container_wanted(struct mesos_agent *a, const Mesos__V1__TaskInfo *ti,
                                  const char **why);
/* NULL, or why the default executor with ExecutorInfo `ei` (its
 * container) or its task `ti` (NULL: none; a task of a group in its own
 * ContainerInfo) cannot run here: the default executor in an image, volumes
 * or hostname and nested task containers are not supported yet, and
 * running them on the host instead would silently ignore what the
 * framework asked for.  The task then fails with
 * REASON_CONTAINER_LAUNCH_FAILED and this (static) text.  (Custom
 * executors: mesos__agent_exec_container_wanted.) */
const char *mesos__agent_executor_container_refusal(const Mesos__V1__ExecutorInfo *ei,
                                                    const Mesos__V1__TaskInfo *ti);
/*
 * Custom executors in containers (containers.c, "executors in containers").
 *
 * mesos__agent_exec_container_wanted: whether executor `ei` runs in a
 * container: its ExecutorInfo.container is type MESOS with an image,
 * volumes or a hostname, or --isolation names more than posix/cpu and
 * posix/mem (then every custom executor gets a container, as in Mesos).
 * 0 with *why (static) when it asks for what this agent cannot give (its
 * tasks then fail with *why), 0 with *why NULL for a plain process.
 *
 * mesos__agent_exec_container_launch: starts executor `key`
 * ("<framework>/<executor id>") as the task of container `container_id`:
 * provisions its image, fetches its CommandInfo.uris into `sandbox` (host
 * path), launches its command (spec 4.6 with an image), or `program`
 * when not NULL (the default executor: no CommandInfo, no image), with
 * `env` (the agent's MESOS_* variables, copied; they win over the image's
 * and the command's).  The outcome comes later, on the loop, through
 * mesos__agent_exec_container_started; an error here means nothing was
 * started (and no callback comes).
 *
 * mesos__agent_exec_container_kill: kills it, or stops its start (the
 * start then reports an error).  _adopt: after an agent restart, watches
 * the recovered container of executor `key` again (*pid: its init, 0 when
 * it ended while the agent was down: the end is reported at once).
 * _leave: agent shutdown, the container outlives the agent.
 */
int mesos__agent_exec_container_wanted(struct mesos_agent *a, const Mesos__V1__ExecutorInfo *ei,
                                       const char **why);
mesos_status mesos__agent_exec_container_launch(struct mesos_agent *a, const char *key,
                                                const char *container_id, const char *sandbox,
                                                const char *program, const char *const *env,
                                                mesos_error **err);
void mesos__agent_exec_container_kill(struct mesos_agent *a, const char *container_id);
mesos_status mesos__agent_exec_container_adopt(struct mesos_agent *a, const char *key,
                                               const char *container_id, int32_t *pid,
                                               mesos_error **err);
void mesos__agent_exec_container_leave(struct mesos_agent *a, const char *container_id);
/* Executor `key` got a task or one of its tasks ended: its container's
 * limits become the executor's resources plus its live tasks' again
 * (containerizer update: cpu shares/quota, memory), as Mesos updates an
 * executor's container.  Lowered memory moves the soft limit only (see
 * the cgroups/mem isolator).  Nothing for a container not started yet
 * (its start sizes it) or gone. */
void mesos__agent_exec_container_resize(struct mesos_agent *a, const char *key,
                                        const char *container_id);

/* What containers.c asks the executor table (executors.c).  Each takes
 * the executor key and, where given, its container id: an executor that
 * is gone or has another container answers NULL / 0 / nothing. */
/* The ExecutorInfo of the executor. */
const Mesos__V1__ExecutorInfo *mesos__agent_exec_info(struct mesos_agent *a, const char *key,
                                                      const char *container_id);
/* cpus and mem (MB) of the executor plus its live tasks: the container's
 * limits. */
void mesos__agent_exec_resources(struct mesos_agent *a, const char *key, double *cpus,
                                 double *mem_mb);
/* The container runs the executor (pid: its init), or could not start it
 * (pid <= 0, `error`).  Returns 0 when the executor no longer wants it
 * (the container is then destroyed). */
int mesos__agent_exec_container_started(struct mesos_agent *a, const char *key,
                                        const char *container_id, int32_t pid, const char *error);
/* The container ended: `wait_status` of the executor (-1: unknown);
 * `reason` >= 0 with `message` when an isolator's limitation ended it. */
void mesos__agent_exec_container_ended(struct mesos_agent *a, const char *key,
                                       const char *container_id, int wait_status, int reason,
                                       const char *message);

/* Starts task `t` (in a->tasks, STAGING) in a container: provision,
 * fetch, launch, asynchronously; failures become TASK_FAILED with
 * REASON_CONTAINER_LAUNCH_FAILED. */
void mesos__agent_container_launch(struct mesos__agent_task *t);
/* Kill: SIGTERM to the task (through the container's init), the whole
 * container after `grace_ms`. */
void mesos__agent_container_kill(struct mesos__agent_task *t, uint64_t grace_ms);
/* Recovery hook (recover.c): whether `container_id` is a live container
 * of the previous run nobody re-attached to yet. */
int mesos__agent_container_alive(struct mesos_agent *a, const char *container_id);
/* 1 when `container_id` of the previous run ended while the agent was
 * down and the containerizer kept its termination: adopting its task
 * (mesos__agent_container_adopt) reports the real exit status. */
int mesos__agent_container_ended(struct mesos_agent *a, const char *container_id);
/* Re-attaches task `ti` (ids from its checkpoint, last state `state`) to
 * its live container; a failure becomes TASK_FAILED on `updates_path`
 * and the container is destroyed with the orphans. */
void mesos__agent_container_adopt(struct mesos_agent *a, const mesos__agent_path_ids *ids,
                                  const Mesos__V1__TaskInfo *ti, Mesos__V1__TaskState state,
                                  const char *updates_path);
/* Fills `rs` from the cgroups of a containerized task's container;
 * 0 (rs untouched) when `t` is not running in one. */
int mesos__agent_container_statistics(struct mesos_agent *a, const struct mesos__agent_task *t,
                                      Mesos__V1__ResourceStatistics *rs);

/*
 * ContainerStatus for a status update of task `framework_id`/`task_id`
 * when it runs (or ran) in a container of this agent, as Mesos fills it:
 * container_id, executor_pid (the container's init while it runs) and one
 * NetworkInfo with the address the task is reached at (the agent's IP: a
 * container here shares the host's network; an address of 0.0.0.0 is
 * reported as 127.0.0.1, as the executor endpoint is).  cgroup_info stays
 * unset: Mesos fills it only from the cgroups/net_cls isolator, which we do
 * not have.  Everything points into `*st` and the task, valid until the
 * next call on the loop; NULL for other tasks.
 */
typedef struct mesos__agent_cstatus {
  Mesos__V1__ContainerStatus cs;
  Mesos__V1__ContainerID cid;
  Mesos__V1__NetworkInfo ni, *nis[1];
  Mesos__V1__NetworkInfo__IPAddress ip, *ips[1];
  char addr[64];
} mesos__agent_cstatus;
Mesos__V1__ContainerStatus *mesos__agent_container_status(struct mesos_agent *a,
                                                          const char *framework_id,
                                                          const char *task_id,
                                                          mesos__agent_cstatus *st);

#endif
