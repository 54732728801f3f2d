#include "registry/agent_paths.h"

#include <limits.h>
#include <string.h>

#include "base/buf.h"
#include "base/error.h"

/* Mesos's own limit on an id is none, but a path component longer than
 * NAME_MAX cannot be created on any Linux file system. */
#define MAX_ID_LEN 255

/* How deep in the meta tree a path lies: each level adds one id. */
enum { L_META, L_AGENT, L_FRAMEWORK, L_EXECUTOR, L_RUN, L_TASK };

static const struct {
  int level;
  int sandbox;        /* under <work_dir>/slaves rather than <work_dir>/meta/slaves */
  const char *suffix; /* file below the level's directory, or NULL */
} kinds[MESOS__AGENT_PATH_KIND_COUNT] = {
    [MESOS__AGENT_PATH_META] = {L_META, 0, NULL},
    [MESOS__AGENT_PATH_BOOT_ID] = {L_META, 0, "boot_id"},
    [MESOS__AGENT_PATH_RESOURCES_INFO] = {L_META, 0, "resources/resources.info"},
    [MESOS__AGENT_PATH_LATEST_AGENT] = {L_META, 0, "slaves/latest"},
    [MESOS__AGENT_PATH_AGENT_DIR] = {L_AGENT, 0, NULL},
    [MESOS__AGENT_PATH_AGENT_INFO] = {L_AGENT, 0, "slave.info"},
    [MESOS__AGENT_PATH_FRAMEWORK_DIR] = {L_FRAMEWORK, 0, NULL},
    [MESOS__AGENT_PATH_FRAMEWORK_INFO] = {L_FRAMEWORK, 0, "framework.info"},
    [MESOS__AGENT_PATH_FRAMEWORK_PID] = {L_FRAMEWORK, 0, "framework.pid"},
    [MESOS__AGENT_PATH_EXECUTOR_DIR] = {L_EXECUTOR, 0, NULL},
    [MESOS__AGENT_PATH_EXECUTOR_INFO] = {L_EXECUTOR, 0, "executor.info"},
    [MESOS__AGENT_PATH_LATEST_RUN] = {L_EXECUTOR, 0, "runs/latest"},
    [MESOS__AGENT_PATH_RUN_DIR] = {L_RUN, 0, NULL},
    [MESOS__AGENT_PATH_FORKED_PID] = {L_RUN, 0, "pids/forked.pid"},
    [MESOS__AGENT_PATH_LIBPROCESS_PID] = {L_RUN, 0, "pids/libprocess.pid"},
    [MESOS__AGENT_PATH_HTTP_MARKER] = {L_RUN, 0, "http.marker"},
    [MESOS__AGENT_PATH_EXECUTOR_SENTINEL] = {L_RUN, 0, "executor.sentinel"},
    [MESOS__AGENT_PATH_TASK_DIR] = {L_TASK, 0, NULL},
    [MESOS__AGENT_PATH_TASK_INFO] = {L_TASK, 0, "task.info"},
    [MESOS__AGENT_PATH_TASK_UPDATES] = {L_TASK, 0, "task.updates"},
    [MESOS__AGENT_PATH_SANDBOX] = {L_RUN, 1, NULL},
    [MESOS__AGENT_PATH_SANDBOX_LATEST] = {L_EXECUTOR, 1, "runs/latest"},
};

mesos_status mesos__agent_path_check_id(const char *what, const char *id, mesos_error **err) {
  if (id == NULL || id[0] == '\0') return mesos__err(err, MESOS_EINVAL, "%s is empty", what);
  size_t n = strnlen(id, MAX_ID_LEN + 1);
  if (n > MAX_ID_LEN)
    return mesos__err(err, MESOS_EINVAL, "%s is longer than %d bytes", what, MAX_ID_LEN);
  if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
    return mesos__err(err, MESOS_EINVAL, "%s '%s' is not allowed", what, id);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)id[i];
    if (c == '/' || c == '\\')
      return mesos__err(err, MESOS_EINVAL, "%s must not contain a slash or backslash", what);
    if (c < 0x20 || c > 0x7e)
      return mesos__err(err, MESOS_EINVAL,
                        "%s must only contain printable ASCII characters (byte 0x%02x at %zu)",
                        what, c, i);
  }
  return MESOS_OK;
}

mesos_status mesos__agent_path(char **out, const char *work_dir, mesos__agent_path_kind kind,
                               const mesos__agent_path_ids *ids, mesos_error **err) {
  if ((unsigned)kind >= MESOS__AGENT_PATH_KIND_COUNT)
    return mesos__err(err, MESOS_EINVAL, "unknown agent path kind %d", (int)kind);
  if (work_dir == NULL || work_dir[0] == '\0')
    return mesos__err(err, MESOS_EINVAL, "empty work directory");
  static const mesos__agent_path_ids none = {NULL, NULL, NULL, NULL, NULL};
  if (ids == NULL) ids = &none;
  static const char *const dirs[] = {NULL, "slaves", "frameworks", "executors", "runs", "tasks"};
  static const char *const names[] = {NULL, "agent id", "framework id", "executor id",
                                      "container id", "task id"};
  const char *vals[] = {NULL, ids->agent_id, ids->framework_id, ids->executor_id,
                        ids->container_id, ids->task_id};
  int level = kinds[kind].level;
  for (int l = 1; l <= level; l++) {
    mesos_status s = mesos__agent_path_check_id(names[l], vals[l], err);
    if (s != MESOS_OK) return s;
  }
  mesos__buf b = MESOS__BUF_INIT(PATH_MAX - 1);
  mesos_status s = mesos__buf_puts(&b, work_dir);
  if (s == MESOS_OK && !kinds[kind].sandbox) s = mesos__buf_puts(&b, "/meta");
  for (int l = 1; s == MESOS_OK && l <= level; l++)
    s = mesos__buf_printf(&b, "/%s/%s", dirs[l], vals[l]);
  if (s == MESOS_OK && kinds[kind].suffix != NULL)
    s = mesos__buf_printf(&b, "/%s", kinds[kind].suffix);
  if (s != MESOS_OK) {
    mesos__buf_free(&b);
    return s == MESOS_ELIMIT
               ? mesos__err(err, s, "agent path under %s is longer than %d bytes", work_dir,
                            PATH_MAX - 1)
               : mesos__err(err, s, "out of memory");
  }
  *out = mesos__buf_detach(&b, NULL);
  return MESOS_OK;
}
