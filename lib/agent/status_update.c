/*
 * The status update manager: no status update is ever dropped.
 *
 * Each update gets a fresh uuid (16 random bytes), is appended to the
 * task's update stream on disk (task.updates, fdatasync'ed) before anything
 * else sees it, and is queued per task.  Only the head of a task's queue is
 * in flight: the next update goes out once the framework acknowledged the
 * previous one (STATUS_UPDATE_ACKNOWLEDGEMENT carrying its uuid), so a
 * framework sees every task's updates in order, as Mesos guarantees.  The
 * head is re-sent after the retry interval (--status_update_retry_interval,
 * 10 s by default) doubling up to 10 minutes, and at once after every
 * (re-)registration; the acknowledgement is recorded in the stream too.
 *
 * Exactly one copy in flight per master connection: the head is posted
 * once on each registration (a->link_gen counts them; `sent_on` is the
 * one the head went out on), by whichever path makes it sendable first
 * (the registration, its record or the previous acknowledgement becoming
 * durable, recovery); every other path finding it sent on this connection
 * leaves it alone.  Only the retry timer sends it again, and not while
 * the copy it sent is still waiting for the master's answer in the pipe
 * (which writes it again itself, up to 3 times, on a new connection): a
 * master stopped for longer than the retry interval would otherwise get
 * (and forward) one copy per retry.  So a framework
 * sees an update twice only when its acknowledgement was lost: on the way
 * (the connection broke, the timer fired first), or not yet durable when
 * the agent died, which at-least-once delivery allows.
 *
 * While older updates wait, the one in flight carries latest_state (the
 * newest state the agent knows), so the master's view of the task is not
 * held back by a slow framework.
 *
 * Group commit, off the loop thread: an fdatasync costs milliseconds (more
 * on a busy disk), and with several per task (the stream's creation with
 * its directories, STARTING, RUNNING, the terminal update, the
 * acknowledgements) doing them on the loop thread capped the agent at a
 * few dozen tasks per second.  So records are queued per stream and one
 * job on the libuv thread pool opens the file (creating it and its
 * directories durably the first time), appends every queued record and
 * fdatasyncs once; records arriving meanwhile go with the next job.  An
 * update is still sent (to the master) only once its record is durable:
 * `undurable` counts the updates at the tail of the queue that are not
 * yet, and send_head waits for the head.
 *
 * Acknowledgement records are written but never fdatasync'ed, and the
 * next update does not wait for them (Mesos waits for a synced one).
 * Losing one to a crash of the host only makes the restarted agent send
 * that update once more, which the at-least-once delivery of status
 * updates allows; the next update's fdatasync makes it durable anyway (it
 * is earlier in the same file).  A crash of the agent alone loses nothing
 * once the record was written, and it is written at once, on the loop
 * thread (a page-cache append of ~100 bytes), unless a group commit is in
 * flight, when it goes first with the next one.  This took 2 of the 5
 * fdatasyncs a task cost and a thread-pool round trip off the path from
 * STARTING's acknowledgement to TASK_RUNNING.
 *
 * Frameworks without checkpointing: their streams are written the same
 * way, but nothing is fsync'ed or fdatasync'ed (neither the records nor
 * the file's creation with its directories).  Mesos writes no checkpoint
 * at all for them (spec/containerizer.md 7.1) and recovers none of their
 * tasks; we keep the stream so that a restarted agent still delivers
 * their unacknowledged updates and reports their tasks lost, which works
 * after a crash of the agent (the page cache holds the writes).  After a
 * crash of the host such a task is as lost as in Mesos: the master's
 * reconciliation reports it.  That was 8 fsyncs and 2-3 fdatasyncs per
 * task of such a framework (every task of bench_task_launch), one of them
 * on the way from TASK_STARTING to the framework.  With nothing to sync,
 * their updates are also appended on the loop thread once the file is
 * open (mesos__agent_status_update_uuid), without the thread-pool round
 * trip a job costs.
 *
 * Creating a stream's file durably takes several fsyncs (the file, and
 * each directory of meta/.../tasks/<task>/ that had to be made), more than
 * any later append.  mesos__agent_status_prepare starts that when the task
 * is created, so it overlaps the executor's start instead of delaying the
 * task's first update.  An empty stream reads like a missing one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "base/uuid.h"
#include "codec/pb.h"
#include "http/pipe.h"
#include "loop/loop_int.h"
#include "mesos/internal/checkpoint.pb-c.h"
#include "registry/checkpoint.h"
#include "registry/fsutil.h"

typedef struct su_job su_job;

struct mesos__su_stream {
  mesos_agent *agent;
  char *key;
  char *path;                         /* task.updates; NULL: not checkpointed */
  int durable;                        /* fsyncs (checkpointing framework; see the top) */
  mesos__update_stream *file;         /* opened by the first job; the job's while it runs */
  ProtobufCMessage **pend;            /* records for the next job (owned) */
  size_t npend, pend_updates;         /* ... and how many are UPDATE records */
  int pend_sync;                      /* ... and whether they need an fdatasync */
  size_t undurable;                   /* updates at the tail of q not durable yet */
  su_job *job;                        /* in flight on the thread pool, or NULL */
  Mesos__Internal__StatusUpdate **q;  /* owned; q[0] is in flight */
  size_t n;
  mesos_timer *retry;
  uint64_t interval_ms;
  uint64_t sent_on;                   /* a->link_gen q[0] was posted on; 0: not yet */
  uint64_t post_seq;                  /* ... as this call of a->pipe (0: not sent) */
  /* uuids of updates acknowledged already (newest last, at most
   * MAX_SEEN): an executor that re-subscribes after an agent restart sends
   * again every update it has no ACKNOWLEDGED for, and one the framework
   * already has must not reach it twice. */
  uint8_t (*seen)[16];
  size_t nseen;
};

/* Acknowledged uuids remembered per task: a task has a handful of updates;
 * the bound only matters for a hostile executor. */
#define MAX_SEEN 256u

int mesos__agent_state_terminal(Mesos__V1__TaskState s) {
  return s == MESOS__V1__TASK_STATE__TASK_FINISHED || s == MESOS__V1__TASK_STATE__TASK_FAILED ||
         s == MESOS__V1__TASK_STATE__TASK_KILLED || s == MESOS__V1__TASK_STATE__TASK_LOST ||
         s == MESOS__V1__TASK_STATE__TASK_ERROR || s == MESOS__V1__TASK_STATE__TASK_DROPPED ||
         s == MESOS__V1__TASK_STATE__TASK_GONE ||
         s == MESOS__V1__TASK_STATE__TASK_GONE_BY_OPERATOR;
}

/* One group commit on the thread pool (see the top of the file). */
struct su_job {
  uv_work_t req;
  mesos__su_stream *s;         /* NULL once the stream is gone */
  mesos__update_stream *file;  /* NULL: open `path` first */
  char *path;
  ProtobufCMessage **recs;
  size_t n, updates;
  int sync;                    /* fdatasync after appending */
  int durable;                 /* 0: create the file and its directories without fsyncs */
  mesos_status st;
  mesos_error *err;
};

static void job_free(su_job *j) {
  for (size_t i = 0; i < j->n; i++) mesos__pb_free(j->recs[i]);
  mesos__free(j->recs);
  mesos__free(j->path);
  mesos_error_free(j->err);
  mesos__free(j);
}

/* On a pool thread: touches only the job. */
static void job_work(uv_work_t *req) {
  su_job *j = req->data;
  j->st = MESOS_OK;
  if (j->file == NULL && !j->durable) {
    /* Create it here, without fsyncs: the open below then finds it (and
     * its directories) and syncs nothing.  A failure is left to the open
     * to report. */
    char *dir = NULL;
    if (mesos__fs_dirname(&dir, j->path, NULL) == MESOS_OK &&
        mesos__agent_mkdirs_nosync(dir, NULL) == MESOS_OK) {
      int fd = open(j->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      if (fd >= 0) close(fd);
    }
    mesos__free(dir);
  }
  if (j->file == NULL)
    j->st = mesos__update_stream_open(&j->file, j->path,
                                      &mesos__internal__status_update_record__descriptor, NULL,
                                      NULL, &j->err);
  for (size_t i = 0; i < j->n && j->st == MESOS_OK; i++)
    j->st = mesos__update_stream_append_nosync(j->file, j->recs[i], &j->err);
  /* No records: a job that only opened (created) the file, which the open
   * made durable already.  Records that need no sync: see
   * mesos__agent_status_ack. */
  if (j->st == MESOS_OK && j->n > 0 && j->sync && j->durable)
    j->st = mesos__update_stream_sync(j->file, &j->err);
}

static void send_head(mesos__su_stream *s);
static void flush(mesos__su_stream *s);

static void job_done(uv_work_t *req, int status) {
  (void)status;
  su_job *j = req->data;
  mesos__su_stream *s = j->s;
  if (s == NULL) { /* the stream went away meanwhile */
    mesos__update_stream_close(j->file);
    job_free(j);
    return;
  }
  s->job = NULL;
  s->file = j->file;
  j->file = NULL;
  if (j->st != MESOS_OK) {
    /* Nothing is sent before it is durable; the records go again, first,
     * with the next attempt (the retry timer's). */
    LOG_ERROR("task %s: cannot checkpoint status updates: %s", s->key,
              j->err ? mesos_error_message(j->err) : mesos_status_str(j->st));
    if (s->file) {
      /* A failed sync poisons the stream: reopen it next time. */
      mesos__update_stream_close(s->file);
      s->file = NULL;
    }
    ProtobufCMessage **all = mesos__realloc(j->recs, (j->n + s->npend + 1) * sizeof *all);
    if (all != NULL) {
      memcpy(all + j->n, s->pend, s->npend * sizeof *all);
      mesos__free(s->pend);
      s->pend = all;
      s->npend += j->n;
      s->pend_updates += j->updates;
      s->pend_sync |= j->sync;
      j->recs = NULL;
      j->n = 0;
    } else {
      LOG_ERROR("task %s: out of memory keeping status update records", s->key);
    }
    mesos_timer_start(s->retry, s->interval_ms, 0);
    job_free(j);
    return;
  }
  int could_send = s->n > s->undurable;
  s->undurable -= j->updates < s->undurable ? j->updates : s->undurable;
  job_free(j);
  if (!could_send && s->n > s->undurable) {
    s->interval_ms = s->agent->retry_base_ms;
    send_head(s);
  }
  flush(s);
}

/* Starts a job for the pending records, unless one is in flight (it
 * starts the next when done).  Without records, a checkpointed stream
 * whose file is not open yet gets a job that only opens it. */
static void flush(mesos__su_stream *s) {
  if (s->job || (s->npend == 0 && (s->file || s->path == NULL))) return;
  su_job *j = MESOS__NEW(su_job);
  if (j == NULL || (s->file == NULL && (j->path = mesos__strdup(s->path)) == NULL)) {
    mesos__free(j);
    LOG_ERROR("task %s: out of memory checkpointing status updates (retried)", s->key);
    mesos_timer_start(s->retry, s->interval_ms, 0);
    return;
  }
  j->req.data = j;
  j->s = s;
  j->file = s->file;
  j->recs = s->pend;
  j->n = s->npend;
  j->updates = s->pend_updates;
  j->sync = s->pend_sync;
  j->durable = s->durable;
  s->file = NULL;
  s->pend = NULL;
  s->npend = s->pend_updates = 0;
  s->pend_sync = 0;
  s->job = j;
  int r = uv_queue_work(mesos__loop_uv(s->agent->loop), &j->req, job_work, job_done);
  if (r != 0) { /* no thread pool: do it here */
    job_work(&j->req);
    job_done(&j->req, 0);
  }
}

/* Queues a record (copied) for the next job; `sync`: the job must
 * fdatasync it before it counts as written. */
static mesos_status pend_record(mesos__su_stream *s, const ProtobufCMessage *rec, int is_update,
                                int sync, mesos_error **err) {
  uint8_t *bytes = NULL;
  size_t len = 0;
  ProtobufCMessage *copy = NULL;
  mesos_status st = mesos__pb_pack(rec, 0, &bytes, &len, err);
  if (st == MESOS_OK) st = mesos__pb_unpack(rec->descriptor, bytes, len, 0, 0, &copy, err);
  mesos__free(bytes);
  if (st != MESOS_OK) return st;
  ProtobufCMessage **grown = mesos__realloc(s->pend, (s->npend + 1) * sizeof *grown);
  if (grown == NULL) {
    mesos__pb_free(copy);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  s->pend = grown;
  s->pend[s->npend++] = copy;
  if (is_update) s->pend_updates++;
  if (sync) s->pend_sync = 1;
  return MESOS_OK;
}

static void stream_free(mesos__su_stream *s) {
  if (s == NULL) return;
  /* A job in flight finishes on its own (and closes the file).  Records
   * not handed to one yet are acknowledgements only (a stream goes away
   * once everything was acknowledged): see the top of the file. */
  if (s->job) s->job->s = NULL;
  for (size_t i = 0; i < s->npend; i++) mesos__pb_free(s->pend[i]);
  mesos__free(s->pend);
  mesos__free(s->path);
  for (size_t i = 0; i < s->n; i++) mesos__pb_free(s->q[i]);
  mesos__free(s->q);
  mesos__free(s->seen);
  mesos_timer_free(s->retry);
  mesos__update_stream_close(s->file);
  mesos__free(s->key);
  mesos__free(s);
}

/* Remembers an acknowledged uuid (the oldest is forgotten beyond MAX_SEEN). */
static void remember_acked(mesos__su_stream *s, const uint8_t *uuid) {
  if (s->seen == NULL && (s->seen = mesos__calloc(MAX_SEEN, sizeof *s->seen)) == NULL) return;
  if (s->nseen == MAX_SEEN) {
    memmove(s->seen, s->seen + 1, (MAX_SEEN - 1) * sizeof *s->seen);
    s->nseen--;
  }
  memcpy(s->seen[s->nseen++], uuid, 16);
}

static int known(const mesos__su_stream *s, const uint8_t *uuid) {
  for (size_t i = 0; i < s->n; i++)
    if (s->q[i]->uuid.len == 16 && memcmp(s->q[i]->uuid.data, uuid, 16) == 0) return 1;
  for (size_t i = 0; i < s->nseen; i++)
    if (memcmp(s->seen[i], uuid, 16) == 0) return 2;
  return 0;
}

int mesos__agent_status_file_ready(mesos_agent *a, const char *key) {
  mesos__su_stream *s = mesos__map_get(&a->streams, key);
  return s && s->file && s->job == NULL && s->npend == 0;
}

int mesos__agent_status_known(mesos_agent *a, const char *key, const uint8_t *uuid) {
  mesos__su_stream *s = mesos__map_get(&a->streams, key);
  return s ? known(s, uuid) : 0;
}

int mesos__agent_status_resubscribed(mesos_agent *a, mesos__agent_task *t,
                                     const Mesos__V1__TaskStatus *s) {
  if (!s->has_uuid || s->uuid.len != 16 || s->state == MESOS__V1__TASK_STATE__TASK_STAGING ||
      protobuf_c_enum_descriptor_get_value(&mesos__v1__task_state__descriptor, (int)s->state) ==
          NULL)
    return -1;
  int k = mesos__agent_status_known(a, t->key, s->uuid.data);
  if (k == 2) return 1;
  if (k == 1 || t->terminal_seen) return 0;
  mesos_error *e = NULL;
  if (mesos__agent_status_update_uuid(a, t->framework_id, t->executor_id, t->task_id,
                                      t->updates_path, s->state,
                                      s->has_reason ? (int)s->reason : -1, s->message,
                                      s->uuid.data, &e) != MESOS_OK) {
    LOG_ERROR("task %s: cannot accept an unacknowledged update: %s", t->key,
              e ? mesos_error_message(e) : "");
    mesos_error_free(e);
    return 0;
  }
  t->state = s->state;
  if (mesos__agent_state_terminal(s->state)) t->terminal_seen = 1;
  return 0;
}

/* Posts the head unless it went out on this connection already (`retry`:
 * the retry timer, which sends it again regardless). */
static void send_head_again(mesos__su_stream *s, int retry) {
  mesos_agent *a = s->agent;
  if (s->n == 0) return;
  /* Sent once its record is durable (acknowledgements: see the top). */
  if (s->n <= s->undurable) return;
  if (!retry && a->registered && s->sent_on == a->link_gen) return; /* in flight */
  mesos_timer_start(s->retry, s->interval_ms, 0);
  if (!a->registered) return; /* re-sent on (re-)registration */
  /* The retry timer, while the copy it sent last is still on its way
   * (the master has not answered it: stopped, overloaded, or the pipe is
   * writing it again on a new connection): another copy would reach the
   * master too, and the framework would see the update twice.  The pipe
   * gives up on it after a few writes (pipe.h); this timer sends it
   * after that. */
  if (retry && s->sent_on == a->link_gen && s->post_seq &&
      mesos__http_pipe_unanswered(a->pipe, s->post_seq)) {
    LOG_DEBUG("task %s: status update still on its way to the master; not sent again", s->key);
    return;
  }
  s->sent_on = a->link_gen;
  Mesos__Internal__StatusUpdate *head = s->q[0];
  /* The newest state, when older updates are still queued behind. */
  Mesos__V1__TaskState latest = s->q[s->n - 1]->status->state;
  head->has_latest_state = latest != head->status->state;
  head->latest_state = latest;
  Mesos__Internal__AgentCall call = MESOS__INTERNAL__AGENT_CALL__INIT;
  call.has_type = 1;
  call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__STATUS_UPDATE;
  call.status_update = head;
  s->post_seq = mesos__agent_post(a, &call);
}

static void send_head(mesos__su_stream *s) { send_head_again(s, 0); }

static void retry_cb(mesos_timer *t, void *ud) {
  (void)t;
  mesos__su_stream *s = ud;
  uint64_t next = s->interval_ms * 2;
  s->interval_ms = next > MESOS__AGENT_MAX_RETRY_MS ? MESOS__AGENT_MAX_RETRY_MS : next;
  if (s->n)
    LOG_DEBUG("re-sending status update for %s (no acknowledgement yet)", s->key);
  flush(s); /* after a failed checkpoint */
  send_head_again(s, 1);
}

static mesos_status stream_get(mesos_agent *a, const char *framework_id, const char *key,
                               const char *path, mesos__su_stream **out, mesos_error **err) {
  mesos__su_stream *s = mesos__map_get(&a->streams, key);
  if (s) {
    *out = s;
    return MESOS_OK;
  }
  s = MESOS__NEW(mesos__su_stream);
  if (s == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  s->agent = a;
  s->interval_ms = a->retry_base_ms;
  /* A framework this agent does not know (yet): durable, to be safe. */
  s->durable = mesos__map_get(&a->frameworks, framework_id) == NULL ||
               mesos__agent_framework_checkpoints(a, framework_id);
  mesos_status st = (s->key = mesos__strdup(key)) ? MESOS_OK
                                                  : mesos__err(err, MESOS_ENOMEM, "out of memory");
  if (st == MESOS_OK) st = mesos_timer_new(&s->retry, a->loop, retry_cb, s, err);
  /* The file is opened (created) by the first group commit. */
  if (st == MESOS_OK && path && (s->path = mesos__strdup(path)) == NULL)
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  if (st == MESOS_OK) st = mesos__map_put(&a->streams, key, s);
  if (st != MESOS_OK) {
    stream_free(s);
    return st;
  }
  *out = s;
  return MESOS_OK;
}

void mesos__agent_status_prepare(mesos_agent *a, const char *framework_id, const char *task_id,
                                 const char *updates_path) {
  char key[600];
  snprintf(key, sizeof key, "%s/%s", framework_id, task_id);
  mesos__su_stream *s = NULL;
  mesos_error *e = NULL;
  if (updates_path == NULL) return;
  if (stream_get(a, framework_id, key, updates_path, &s, &e) != MESOS_OK) {
    /* Not fatal: the first update creates it (and reports a failure). */
    LOG_WARN("task %s: cannot prepare its status update stream: %s", key,
             e ? mesos_error_message(e) : "");
    mesos_error_free(e);
    return;
  }
  flush(s);
}

mesos_status mesos__agent_status_update(mesos_agent *a, const char *framework_id,
                                        const char *executor_id, const char *task_id,
                                        const char *updates_path, Mesos__V1__TaskState state,
                                        int reason, const char *message, mesos_error **err) {
  return mesos__agent_status_update_uuid(a, framework_id, executor_id, task_id, updates_path,
                                         state, reason, message, NULL, err);
}

mesos_status mesos__agent_status_update_uuid(mesos_agent *a, const char *framework_id,
                                             const char *executor_id, const char *task_id,
                                             const char *updates_path, Mesos__V1__TaskState state,
                                             int reason, const char *message,
                                             const uint8_t *given_uuid, mesos_error **err) {
  char key[600];
  snprintf(key, sizeof key, "%s/%s", framework_id, task_id);
  mesos__su_stream *s = NULL;
  mesos_status st = stream_get(a, framework_id, key, updates_path, &s, err);
  if (st != MESOS_OK) return st;
  if (s->n >= MESOS__AGENT_MAX_PENDING_UPDATES)
    return mesos__err(err, MESOS_ELIMIT,
                      "task %s: %u status updates wait for acknowledgement already", key,
                      MESOS__AGENT_MAX_PENDING_UPDATES);
  if (given_uuid && known(s, given_uuid)) {
    /* The same update again (an executor re-subscribing after an agent
     * restart): already checkpointed and queued or delivered. */
    LOG_DEBUG("task %s: duplicate status update ignored", key);
    return MESOS_OK;
  }
  uint8_t uuid[16];
  if (given_uuid) memcpy(uuid, given_uuid, 16);
  else if ((st = mesos__uuid_random(uuid)) != MESOS_OK)
    return mesos__err(err, st, "cannot generate a uuid");
  double now = mesos__agent_now();
  Mesos__V1__TaskStatus ts = MESOS__V1__TASK_STATUS__INIT;
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  Mesos__V1__ExecutorID eid = MESOS__V1__EXECUTOR_ID__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  tid.value = (char *)task_id;
  aid.value = a->id ? a->id : (char *)"";
  eid.value = (char *)executor_id;
  fid.value = (char *)framework_id;
  ts.task_id = &tid;
  ts.state = state;
  ts.message = (char *)message;
  ts.has_source = 1;
  ts.source = executor_id ? MESOS__V1__TASK_STATUS__SOURCE__SOURCE_EXECUTOR
                          : MESOS__V1__TASK_STATUS__SOURCE__SOURCE_AGENT;
  if (reason >= 0) {
    ts.has_reason = 1;
    ts.reason = (Mesos__V1__TaskStatus__Reason)reason;
  }
  ts.agent_id = &aid;
  if (executor_id) ts.executor_id = &eid;
  ts.has_timestamp = 1;
  ts.timestamp = now;
  ts.has_uuid = 1;
  ts.uuid.data = uuid;
  ts.uuid.len = 16;
  /* Tasks in containers: container id, init pid, address (containers.c). */
  mesos__agent_cstatus cst;
  ts.container_status = mesos__agent_container_status(a, framework_id, task_id, &cst);
  Mesos__Internal__StatusUpdate su = MESOS__INTERNAL__STATUS_UPDATE__INIT;
  su.framework_id = &fid;
  if (executor_id) su.executor_id = &eid;
  su.agent_id = &aid;
  su.status = &ts;
  su.timestamp = now;
  su.has_uuid = 1;
  su.uuid = ts.uuid;

  /* Durable first: the update is sent once its record is on disk (the
   * group commit below), so a crash cannot lose a sent update.  A stream
   * that is not durable (no checkpointing) with its file open and nothing
   * queued is appended to here instead, as acknowledgements are: the job
   * would write the same bytes without a sync, and its thread-pool round
   * trip (a wake-up of a pool thread, then of this loop) was on the way
   * of every update to the master, TASK_STARTING and TASK_RUNNING
   * included. */
  Mesos__Internal__StatusUpdateRecord rec = MESOS__INTERNAL__STATUS_UPDATE_RECORD__INIT;
  rec.type = MESOS__INTERNAL__STATUS_UPDATE_RECORD__TYPE__UPDATE;
  rec.update = &su;
  int write_here = s->path && !s->durable && s->job == NULL && s->npend == 0 && s->file != NULL;
  if (s->path && !write_here && (st = pend_record(s, &rec.base, 1, 1, err)) != MESOS_OK) return st;
  uint8_t *bytes = NULL;
  size_t len = 0;
  ProtobufCMessage *copy = NULL;
  st = mesos__pb_pack(&su.base, 0, &bytes, &len, err);
  if (st == MESOS_OK)
    st = mesos__pb_unpack(&mesos__internal__status_update__descriptor, bytes, len, 0, 0, &copy,
                          err);
  mesos__free(bytes);
  Mesos__Internal__StatusUpdate **grown =
      st == MESOS_OK ? mesos__realloc(s->q, (s->n + 1) * sizeof *grown) : NULL;
  if (grown == NULL) {
    mesos__pb_free(copy);
    if (s->path && !write_here) { /* not queued: not written either */
      mesos__pb_free(s->pend[--s->npend]);
      s->pend_updates--;
    }
    return st != MESOS_OK ? st : mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  s->q = grown;
  s->q[s->n++] = (Mesos__Internal__StatusUpdate *)copy;
  if (write_here) {
    mesos_error *e = NULL;
    if (mesos__update_stream_append_nosync(s->file, &rec.base, &e) != MESOS_OK) {
      /* A failed append poisons the stream: a job reopens it (truncating
       * a torn tail) and writes the record, and the update waits for it. */
      LOG_WARN("task %s: cannot write a status update here, retrying on the pool: %s", key,
               e ? mesos_error_message(e) : "");
      mesos_error_free(e);
      mesos__update_stream_close(s->file);
      s->file = NULL;
      write_here = 0;
      if ((st = pend_record(s, &rec.base, 1, 1, err)) != MESOS_OK) {
        mesos__pb_free(s->q[--s->n]); /* neither written nor queued */
        return st;
      }
    }
  }
  if (s->path && !write_here) {
    s->undurable++;
    flush(s);
  }
  const ProtobufCEnumValue *sv =
      protobuf_c_enum_descriptor_get_value(&mesos__v1__task_state__descriptor, (int)state);
  LOG_INFO("Task %s: %s%s%s", key, sv ? sv->name : "(unknown state)", message ? ": " : "",
           message ? message : "");
  if (s->n == 1) {
    s->interval_ms = a->retry_base_ms;
    send_head(s);
  }
  return MESOS_OK;
}

mesos_status mesos__agent_status_recover(mesos_agent *a, const char *framework_id,
                                         const char *task_id, const char *updates_path,
                                         Mesos__Internal__StatusUpdate *const *updates, size_t n,
                                         const uint8_t (*acked)[16], size_t nacked,
                                         mesos_error **err) {
  char key[600];
  snprintf(key, sizeof key, "%s/%s", framework_id, task_id);
  mesos__su_stream *s = NULL;
  mesos_status st = stream_get(a, framework_id, key, updates_path, &s, err);
  if (st != MESOS_OK) return st;
  if (s->n + n > MESOS__AGENT_MAX_PENDING_UPDATES)
    return mesos__err(err, MESOS_ELIMIT, "task %s: too many unacknowledged updates in %s", key,
                      updates_path);
  for (size_t i = 0; i < nacked; i++) remember_acked(s, acked[i]);
  for (size_t i = 0; i < n; i++) {
    uint8_t *bytes = NULL;
    size_t len = 0;
    ProtobufCMessage *copy = NULL;
    st = mesos__pb_pack(&updates[i]->base, 0, &bytes, &len, err);
    if (st == MESOS_OK)
      st = mesos__pb_unpack(&mesos__internal__status_update__descriptor, bytes, len, 0, 0, &copy,
                            err);
    mesos__free(bytes);
    if (st != MESOS_OK) return st;
    Mesos__Internal__StatusUpdate **grown = mesos__realloc(s->q, (s->n + 1) * sizeof *grown);
    if (grown == NULL) {
      mesos__pb_free(copy);
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
    }
    s->q = grown;
    s->q[s->n++] = (Mesos__Internal__StatusUpdate *)copy;
  }
  if (s->n) send_head(s);
  return MESOS_OK;
}

void mesos__agent_status_ack(mesos_agent *a,
                             const Mesos__Internal__StatusUpdateAcknowledgement *ack) {
  char key[600];
  snprintf(key, sizeof key, "%s/%s", ack->framework_id->value, ack->task_id->value);
  mesos__su_stream *s = mesos__map_get(&a->streams, key);
  if (s == NULL || s->n == 0) {
    LOG_DEBUG("acknowledgement for %s: no update pending", key);
    return;
  }
  const Mesos__Internal__StatusUpdate *head = s->q[0];
  if (ack->uuid.len != head->uuid.len ||
      memcmp(ack->uuid.data, head->uuid.data, ack->uuid.len) != 0) {
    LOG_WARN("acknowledgement for %s does not match the update in flight; ignored", key);
    return;
  }
  int was_terminal = mesos__agent_state_terminal(head->status->state);
  if (s->path) {
    Mesos__Internal__StatusUpdateRecord rec = MESOS__INTERNAL__STATUS_UPDATE_RECORD__INIT;
    rec.type = MESOS__INTERNAL__STATUS_UPDATE_RECORD__TYPE__ACK;
    rec.has_uuid = 1;
    rec.uuid = ack->uuid;
    mesos_error *e = NULL;
    /* Written, not synced, and nothing waits for it: see the top. */
    mesos_status wst;
    if (s->job == NULL && s->npend == 0 && s->file != NULL) {
      wst = mesos__update_stream_append_nosync(s->file, &rec.base, &e);
      if (wst != MESOS_OK) {
        /* A failed append poisons the stream: the next job reopens it
         * (truncating a torn tail). */
        mesos__update_stream_close(s->file);
        s->file = NULL;
      }
    } else {
      wst = pend_record(s, &rec.base, 0, 0, &e);
      if (wst == MESOS_OK) flush(s);
    }
    if (wst != MESOS_OK) {
      /* The update is delivered either way; a restart would only send it
       * once more, which frameworks must tolerate. */
      LOG_WARN("task %s: cannot checkpoint the acknowledgement: %s", key,
               e ? mesos_error_message(e) : "");
      mesos_error_free(e);
    }
  }
  if (head->uuid.len == 16) remember_acked(s, head->uuid.data);
  mesos__agent_executor_acked(a, key, &ack->uuid);
  mesos__pb_free(s->q[0]);
  memmove(s->q, s->q + 1, (s->n - 1) * sizeof *s->q);
  s->n--;
  s->sent_on = 0; /* the new head has not gone out */
  mesos_timer_stop(s->retry);
  s->interval_ms = a->retry_base_ms;
  if (s->n) {
    send_head(s);
    return;
  }
  if (was_terminal) {
    mesos__map_remove(&a->streams, key);
    stream_free(s);
    mesos__agent_task_maybe_done(a, key);
    if (a->cleanup_pending) mesos__agent_cleanup_check(a);
  }
}

void mesos__agent_status_resend_all(mesos_agent *a) {
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->streams, &it, NULL, &v)) {
    mesos__su_stream *s = v;
    s->interval_ms = a->retry_base_ms;
    send_head(s);
  }
}

int mesos__agent_status_pending(mesos_agent *a, const char *key) {
  mesos__su_stream *s = mesos__map_get(&a->streams, key);
  return s && s->n > 0;
}

mesos_status mesos__agent_status_report(mesos_agent *a, Mesos__V1__Task ***tasks, size_t *n) {
  size_t it = 0;
  const char *key;
  void *v;
  while (mesos__map_next(&a->streams, &it, &key, &v)) {
    mesos__su_stream *s = v;
    if (s->n == 0 || mesos__map_get(&a->tasks, key)) continue;
    const Mesos__Internal__StatusUpdate *last = s->q[s->n - 1];
    if (last->framework_id == NULL || last->status->task_id == NULL) continue;
    /* The layout of mesos__agent_tasks_report: the Task first, so one
     * mesos__free releases it; the ids are borrowed from the queue. */
    struct task_msg {
      Mesos__V1__Task task;
      Mesos__V1__AgentID aid;
    } *m = MESOS__NEW(struct task_msg);
    Mesos__V1__Task **grown = m ? mesos__realloc(*tasks, (*n + 1) * sizeof *grown) : NULL;
    if (grown == NULL) {
      mesos__free(m);
      return MESOS_ENOMEM;
    }
    *tasks = grown;
    mesos__v1__task__init(&m->task);
    mesos__v1__agent_id__init(&m->aid);
    m->aid.value = a->id;
    m->task.name = (char *)"";
    m->task.task_id = last->status->task_id;
    m->task.framework_id = last->framework_id;
    m->task.executor_id = last->executor_id;
    m->task.agent_id = &m->aid;
    m->task.state = last->status->state;
    (*tasks)[(*n)++] = &m->task;
  }
  return MESOS_OK;
}

int mesos__agent_status_any_pending(mesos_agent *a) {
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->streams, &it, NULL, &v))
    if (((mesos__su_stream *)v)->n > 0) return 1;
  return 0;
}

void mesos__agent_status_free_all(mesos_agent *a) {
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->streams, &it, NULL, &v)) stream_free(v);
  mesos__map_free(&a->streams);
  mesos__map_init(&a->streams);
}

mesos_status mesos__agent_mkdirs_nosync(const char *dir, mesos_error **err) {
  return mesos__agent_mkdirs_mode(dir, 0700, err); /* mesos__fs_mkdirs without its fsyncs */
}
