/*
 * Start-up recovery of status updates: nothing a previous run of this
 * agent generated is lost.
 *
 * The agent walks meta/slaves/<agent>/frameworks/<fw>/executors/<ex>/runs/
 * <container>/tasks/<task>/task.updates, replays each stream (UPDATE and
 * ACK records) and queues again every update the framework had not
 * acknowledged, in order; they are sent once the agent has re-registered.
 *
 * Running tasks are not recovered yet (the executor API re-subscription
 * that would let them keep running comes next).  A task whose stream has no
 * terminal update was still running when the previous agent died: its
 * leftover processes are killed (identified by the checkpointed pid whose
 * working directory is still the task's sandbox, so a recycled pid is never
 * hit) and the framework is told TASK_LOST with REASON_AGENT_RESTARTED.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "codec/pb.h"
#include "mesos/internal/checkpoint.pb-c.h"
#include "registry/agent_paths.h"
#include "registry/checkpoint.h"

/* Records one task's stream may hold: a handful per task in practice; the
 * bound keeps a damaged or hostile file from exhausting memory. */
#define MAX_STREAM_RECORDS 8192u

typedef struct replay {
  Mesos__Internal__StatusUpdateRecord **recs;
  size_t n;
} replay;

static mesos_status collect(ProtobufCMessage *msg, void *ud) {
  replay *r = ud;
  if (r->n >= MAX_STREAM_RECORDS) {
    mesos__pb_free(msg);
    return MESOS_ELIMIT;
  }
  Mesos__Internal__StatusUpdateRecord **grown = mesos__realloc(r->recs, (r->n + 1) * sizeof *grown);
  if (grown == NULL) {
    mesos__pb_free(msg);
    return MESOS_ENOMEM;
  }
  r->recs = grown;
  r->recs[r->n++] = (Mesos__Internal__StatusUpdateRecord *)msg;
  return MESOS_OK;
}

static int terminal(Mesos__V1__TaskState s) {
  return s == MESOS__V1__TASK_STATE__TASK_FINISHED || s == MESOS__V1__TASK_STATE__TASK_FAILED ||
         s == MESOS__V1__TASK_STATE__TASK_KILLED || s == MESOS__V1__TASK_STATE__TASK_LOST ||
         s == MESOS__V1__TASK_STATE__TASK_ERROR || s == MESOS__V1__TASK_STATE__TASK_DROPPED ||
         s == MESOS__V1__TASK_STATE__TASK_GONE ||
         s == MESOS__V1__TASK_STATE__TASK_GONE_BY_OPERATOR;
}

/* Kills what is left of the task's process tree, if the checkpointed pid
 * still names a process working in the sandbox. */
static void kill_leftovers(mesos_agent *a, const mesos__agent_path_ids *ids) {
  char *pid_path = NULL, *sandbox = NULL;
  uint8_t *bytes = NULL;
  size_t len = 0;
  if (mesos__agent_path(&pid_path, a->work_dir, MESOS__AGENT_PATH_FORKED_PID, ids, NULL) ==
          MESOS_OK &&
      mesos__agent_path(&sandbox, a->work_dir, MESOS__AGENT_PATH_SANDBOX, ids, NULL) == MESOS_OK &&
      mesos__checkpoint_read_bytes(pid_path, 64, &bytes, &len, NULL) == MESOS_OK && len < 32) {
    char text[32], link[64], cwd[4096];
    memcpy(text, bytes, len);
    text[len] = '\0';
    long pid = strtol(text, NULL, 10);
    snprintf(link, sizeof link, "/proc/%ld/cwd", pid);
    ssize_t n = pid > 1 ? readlink(link, cwd, sizeof cwd - 1) : -1;
    if (n > 0) {
      cwd[n] = '\0';
      if (strcmp(cwd, sandbox) == 0) {
        LOG_WARN("killing the leftover processes of pid %ld (%s)", pid, sandbox);
        kill(-(pid_t)pid, SIGKILL);
        mesos__agent_kill_session((int32_t)pid, SIGKILL);
      }
    }
  }
  mesos__free(bytes);
  mesos__free(pid_path);
  mesos__free(sandbox);
}

static mesos_status recover_task(mesos_agent *a, const mesos__agent_path_ids *ids,
                                 mesos_error **err) {
  char *path = NULL;
  mesos_status st = mesos__agent_path(&path, a->work_dir, MESOS__AGENT_PATH_TASK_UPDATES, ids, err);
  if (st != MESOS_OK) return st;
  replay r = {NULL, 0};
  mesos_error *e = NULL;
  bool torn = false;
  st = mesos__update_stream_read(path, &mesos__internal__status_update_record__descriptor, collect,
                                 &r, &torn, &e);
  if (st == MESOS_ENOTFOUND) {
    mesos_error_free(e);
    st = MESOS_OK;
  } else if (st != MESOS_OK) {
    st = mesos__err_wrap(err, st, e, "cannot recover the status updates in %s: %s", path,
                         e ? mesos_error_message(e) : mesos_status_str(st));
  } else {
    /* Acknowledgements arrive in order, each for the oldest pending one. */
    Mesos__Internal__StatusUpdate **pending = mesos__calloc(r.n ? r.n : 1, sizeof *pending);
    size_t head = 0, np = 0;
    int generated_terminal = 0;
    if (pending == NULL) st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    for (size_t i = 0; st == MESOS_OK && i < r.n; i++) {
      Mesos__Internal__StatusUpdateRecord *rec = r.recs[i];
      if (rec->type == MESOS__INTERNAL__STATUS_UPDATE_RECORD__TYPE__UPDATE && rec->update &&
          rec->update->status) {
        pending[np++] = rec->update;
        generated_terminal |= terminal(rec->update->status->state);
      } else if (rec->type == MESOS__INTERNAL__STATUS_UPDATE_RECORD__TYPE__ACK && head < np &&
                 rec->has_uuid && rec->uuid.len == pending[head]->uuid.len &&
                 memcmp(rec->uuid.data, pending[head]->uuid.data, rec->uuid.len) == 0) {
        head++;
      }
    }
    if (st == MESOS_OK && (head < np || !generated_terminal)) {
      LOG_INFO("Recovering task %s/%s: %zu unacknowledged status update(s)%s", ids->framework_id,
               ids->task_id, np - head, generated_terminal ? "" : ", task not recovered");
      st = mesos__agent_status_recover(a, ids->framework_id, ids->task_id, path, pending + head,
                                       np - head, err);
      if (st == MESOS_OK && !generated_terminal) {
        kill_leftovers(a, ids);
        st = mesos__agent_status_update(
            a, ids->framework_id, ids->executor_id, ids->task_id, path,
            MESOS__V1__TASK_STATE__TASK_LOST, MESOS__V1__TASK_STATUS__REASON__REASON_AGENT_RESTARTED,
            "The agent restarted; it does not recover running tasks yet", err);
      }
    }
    mesos__free(pending);
  }
  for (size_t i = 0; i < r.n; i++) mesos__pb_free(r.recs[i]);
  mesos__free(r.recs);
  mesos__free(path);
  return st;
}

/* Lists the ids under `dir` + `sub`; a missing directory is an empty list. */
static mesos_status list(const char *dir, const char *sub, char ***ids, size_t *n,
                         mesos_error **err) {
  size_t len = strlen(dir) + strlen(sub) + 2;
  char *p = mesos__malloc(len);
  if (p == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  snprintf(p, len, "%s/%s", dir, sub);
  mesos_error *e = NULL;
  mesos_status st = mesos__checkpoint_list_ids(p, 0, ids, n, &e);
  if (st == MESOS_ENOTFOUND) {
    *ids = NULL;
    *n = 0;
    st = MESOS_OK;
    mesos_error_free(e);
  } else if (st != MESOS_OK) {
    st = mesos__err_wrap(err, st, e, "%s: %s", p, e ? mesos_error_message(e) : "");
  }
  mesos__free(p);
  return st;
}

mesos_status mesos__agent_recover_updates(mesos_agent *a, mesos_error **err) {
  if (a->id == NULL) return MESOS_OK;
  mesos__agent_path_ids ids = {a->id, NULL, NULL, NULL, NULL};
  char *agent_dir = NULL, **fws = NULL;
  size_t nfw = 0;
  mesos_status st = mesos__agent_path(&agent_dir, a->work_dir, MESOS__AGENT_PATH_AGENT_DIR, &ids, err);
  if (st == MESOS_OK) st = list(agent_dir, "frameworks", &fws, &nfw, err);
  for (size_t f = 0; st == MESOS_OK && f < nfw; f++) {
    ids.framework_id = fws[f];
    char *fw_dir = NULL, **execs = NULL;
    size_t nex = 0;
    st = mesos__agent_path(&fw_dir, a->work_dir, MESOS__AGENT_PATH_FRAMEWORK_DIR, &ids, err);
    if (st == MESOS_OK) st = list(fw_dir, "executors", &execs, &nex, err);
    for (size_t x = 0; st == MESOS_OK && x < nex; x++) {
      ids.executor_id = execs[x];
      char *ex_dir = NULL, **runs = NULL;
      size_t nruns = 0;
      st = mesos__agent_path(&ex_dir, a->work_dir, MESOS__AGENT_PATH_EXECUTOR_DIR, &ids, err);
      if (st == MESOS_OK) st = list(ex_dir, "runs", &runs, &nruns, err);
      for (size_t c = 0; st == MESOS_OK && c < nruns; c++) {
        ids.container_id = runs[c];
        char *run_dir = NULL, **tasks = NULL;
        size_t ntasks = 0;
        st = mesos__agent_path(&run_dir, a->work_dir, MESOS__AGENT_PATH_RUN_DIR, &ids, err);
        if (st == MESOS_OK) st = list(run_dir, "tasks", &tasks, &ntasks, err);
        for (size_t t = 0; st == MESOS_OK && t < ntasks; t++) {
          ids.task_id = tasks[t];
          mesos_error *e = NULL;
          st = recover_task(a, &ids, &e);
          if (st != MESOS_OK && st != MESOS_ENOMEM && !mesos__flags_bool(a->flags, "strict")) {
            LOG_WARN("skipping a damaged checkpoint (--no-strict): %s", e ? mesos_error_message(e) : "");
            mesos_error_free(e);
            st = MESOS_OK;
          } else if (st != MESOS_OK) {
            mesos__err_wrap(err, st, e, "%s", e ? mesos_error_message(e) : mesos_status_str(st));
          }
        }
        mesos__checkpoint_free_ids(tasks, ntasks);
        mesos__free(run_dir);
      }
      mesos__checkpoint_free_ids(runs, nruns);
      mesos__free(ex_dir);
    }
    mesos__checkpoint_free_ids(execs, nex);
    mesos__free(fw_dir);
  }
  mesos__checkpoint_free_ids(fws, nfw);
  mesos__free(agent_dir);
  return st;
}
