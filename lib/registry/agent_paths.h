/* Where the agent keeps its checkpoints and sandboxes under --work_dir.
 *
 * The layout follows Mesos (spec/containerizer.md, "Agent checkpointing and
 * recovery"), including its on-disk use of "slaves" and "slave.info", so an
 * operator's tools and habits carry over:
 *
 *   meta/boot_id
 *   meta/resources/resources.info
 *   meta/slaves/latest                      (symlink to the agent id)
 *   meta/slaves/<agent>/slave.info
 *     .../frameworks/<framework>/framework.info, framework.pid
 *     .../executors/<executor>/executor.info, runs/latest
 *     .../runs/<container>/pids/forked.pid, pids/libprocess.pid,
 *                          http.marker, executor.sentinel
 *     .../runs/<container>/tasks/<task>/task.info, task.updates
 *   slaves/<agent>/frameworks/<framework>/executors/<executor>/runs/<container>
 *                                           (the sandbox; runs/latest beside it)
 *
 * Byte compatibility with Mesos's files is not a goal: the contents are our
 * own checkpoint records (checkpoint.h, checkpoint.proto).
 *
 * Every id comes from the network (frameworks choose task and executor ids),
 * so each is checked before it becomes a path component: a hostile id must
 * not climb out of the work directory. */
#ifndef MESOS_REGISTRY_AGENT_PATHS_H
#define MESOS_REGISTRY_AGENT_PATHS_H

#include "mesos/error.h"

typedef enum mesos__agent_path_kind {
  MESOS__AGENT_PATH_META,              /* meta */
  MESOS__AGENT_PATH_BOOT_ID,           /* meta/boot_id */
  MESOS__AGENT_PATH_RESOURCES_INFO,    /* meta/resources/resources.info */
  MESOS__AGENT_PATH_LATEST_AGENT,      /* meta/slaves/latest */
  MESOS__AGENT_PATH_AGENT_DIR,         /* meta/slaves/<agent> */
  MESOS__AGENT_PATH_AGENT_INFO,        /* .../slave.info */
  MESOS__AGENT_PATH_FRAMEWORK_DIR,     /* .../frameworks/<framework> */
  MESOS__AGENT_PATH_FRAMEWORK_INFO,    /* .../framework.info */
  MESOS__AGENT_PATH_FRAMEWORK_PID,     /* .../framework.pid */
  MESOS__AGENT_PATH_EXECUTOR_DIR,      /* .../executors/<executor> */
  MESOS__AGENT_PATH_EXECUTOR_INFO,     /* .../executor.info */
  MESOS__AGENT_PATH_LATEST_RUN,        /* .../runs/latest */
  MESOS__AGENT_PATH_RUN_DIR,           /* .../runs/<container> */
  MESOS__AGENT_PATH_FORKED_PID,        /* .../pids/forked.pid */
  MESOS__AGENT_PATH_LIBPROCESS_PID,    /* .../pids/libprocess.pid */
  MESOS__AGENT_PATH_HTTP_MARKER,       /* .../http.marker */
  MESOS__AGENT_PATH_EXECUTOR_SENTINEL, /* .../executor.sentinel */
  MESOS__AGENT_PATH_TASK_DIR,          /* .../tasks/<task> */
  MESOS__AGENT_PATH_TASK_INFO,         /* .../task.info */
  MESOS__AGENT_PATH_TASK_UPDATES,      /* .../task.updates */
  MESOS__AGENT_PATH_SANDBOX,           /* slaves/<agent>/.../runs/<container> */
  MESOS__AGENT_PATH_SANDBOX_LATEST,    /* slaves/<agent>/.../executors/<executor>/runs/latest */
  MESOS__AGENT_PATH_KIND_COUNT
} mesos__agent_path_kind;

/* The ids a path needs; those a kind does not use are ignored (may be NULL). */
typedef struct mesos__agent_path_ids {
  const char *agent_id;
  const char *framework_id;
  const char *executor_id;
  const char *container_id;
  const char *task_id;
} mesos__agent_path_ids;

/* *out = the path of `kind` under `work_dir` (free with mesos__free).
 * Errors: MESOS_EINVAL (unknown kind, empty work_dir, a needed id missing or
 * unsafe, see mesos__agent_path_check_id; the message names the id),
 * MESOS_ELIMIT (longer than PATH_MAX), MESOS_ENOMEM. */
mesos_status mesos__agent_path(char **out, const char *work_dir, mesos__agent_path_kind kind,
                               const mesos__agent_path_ids *ids, mesos_error **err);

/* Checks that `id` is safe as one path component, with Mesos's rules for
 * ids: not empty, at most 255 bytes, not "." or "..", no '/' or '\\', only
 * printable ASCII.  `what` names it in the error ("task id").  MESOS_EINVAL. */
mesos_status mesos__agent_path_check_id(const char *what, const char *id, mesos_error **err);

#endif
