/*
 * The C client of the v1 executor API (spec/http-api.md section 3): one
 * streaming SUBSCRIBE request whose response is the RecordIO event stream,
 * and separate POSTs for UPDATE calls.  Protobuf on the wire both ways:
 * the agent speaks both encodings, and protobuf needs no JSON round trip
 * for TaskInfo.
 *
 * Agent restarts (as Mesos's executor library): with MESOS_CHECKPOINT=1 the
 * executor outlives its agent.  When the stream breaks, the client
 * subscribes again after a random delay in [0, b], b doubling from 100 ms up
 * to MESOS_SUBSCRIPTION_BACKOFF_MAX (2 s by default), for at most
 * MESOS_RECOVERY_TIMEOUT (15 min by default), and only then reports the
 * disconnection.  To make that lossless it keeps every task it was given
 * and every update it sent until the agent ACKNOWLEDGED it, and hands both
 * back in the re-SUBSCRIBE (unacknowledged_tasks, unacknowledged_updates);
 * updates sent while disconnected wait for that too.  The agent drops the
 * ones it has (same uuid).
 *
 * Executor authentication: when the agent put a token in
 * MESOS_EXECUTOR_AUTHENTICATION_TOKEN (agent --jwt_secret_key), every call
 * carries "Authorization: Bearer <token>".
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "base/units.h"
#include "base/uuid.h"
#include "codec/pb.h"
#include "codec/recordio.h"
#include "executor/executor_int.h"
#include "http/client.h"
#include "mesos/executor.h"
#include "mesos/v1/executor.pb-c.h"

#define MEDIA_PROTOBUF "application/x-protobuf"

/* Largest event accepted: a LAUNCH carries one TaskInfo, which the master
 * bounds far below this. */
#define EXECUTOR_MAX_EVENT ((size_t)16 << 20)

/* Updates and tasks kept for a re-subscription: an executor has a handful
 * in flight; beyond this it is not waiting for acknowledgements but
 * flooding the agent. */
#define EXECUTOR_MAX_UNACKED 1024u

/* First re-subscription back-off ceiling and the defaults of
 * MESOS_SUBSCRIPTION_BACKOFF_MAX and MESOS_RECOVERY_TIMEOUT (Mesos's). */
#define BACKOFF_MIN_MS 100u
#define DEFAULT_BACKOFF_MAX_MS 2000u
#define DEFAULT_RECOVERY_TIMEOUT_MS (15u * 60u * 1000u)

/* A call waiting to be POSTed.  Calls go out one at a time, in order: the
 * HTTP client may use several connections, and two UPDATEs sent at once
 * could reach the agent in the wrong order (TASK_FAILED before
 * TASK_RUNNING), which the executor API forbids. */
typedef struct pending_call {
  struct pending_call *next;
  size_t len;
  uint8_t bytes[];
} pending_call;

struct mesos_executor {
  mesos_loop *loop;
  mesos__http_client *client;
  mesos__http_call *stream;
  pending_call *q_head, *q_tail;
  int posting;   /* a POST is in flight */
  int freeing;
  mesos__recordio_decoder dec;
  mesos_executor_callbacks cbs;
  void *ud;
  char url[512];
  char *framework_id, *executor_id;
  /* "Bearer <MESOS_EXECUTOR_AUTHENTICATION_TOKEN>" when the agent gave a
   * token (executor authentication), sent with every call; else NULL. */
  char *authorization;
  int subscribed;
  int status;
  /* Re-subscription after an agent restart (MESOS_CHECKPOINT=1). */
  int checkpoint;
  int reconnecting;            /* between a lost stream and SUBSCRIBED */
  uint64_t recovery_timeout_ms;
  uint64_t backoff_max_ms;
  uint64_t backoff_ms;
  uint64_t lost_at_ms;         /* loop time the stream was lost */
  mesos_timer *reconnect;
  /* Kept until acknowledged (owned copies). */
  Mesos__V1__Executor__Call__Update **unacked;
  size_t nunacked;
  Mesos__V1__TaskInfo **tasks; /* launched, no terminal update acknowledged */
  size_t ntasks;
};

struct mesos_executor_task {
  const Mesos__V1__TaskInfo *info;
};

MESOS_EXTERN(mesos_status) mesos_executor_options_init(mesos_executor_options *opts,
                                                       uint32_t version) {
  if (opts == NULL) return MESOS_EINVAL;
  if (version != MESOS_EXECUTOR_OPTIONS_VERSION) return MESOS_EVERSION;
  mesos_executor_options d = MESOS_EXECUTOR_OPTIONS_INIT;
  *opts = d;
  return MESOS_OK;
}

static ProtobufCMessage *copy_msg(const ProtobufCMessage *m) {
  uint8_t *bytes = NULL;
  size_t len = 0;
  ProtobufCMessage *copy = NULL;
  if (mesos__pb_pack(m, 0, &bytes, &len, NULL) == MESOS_OK)
    mesos__pb_unpack(m->descriptor, bytes, len, 0, 0, &copy, NULL);
  mesos__free(bytes);
  return copy;
}

static int terminal(Mesos__V1__TaskState s) {
  return s == MESOS__V1__TASK_STATE__TASK_FINISHED || s == MESOS__V1__TASK_STATE__TASK_FAILED ||
         s == MESOS__V1__TASK_STATE__TASK_KILLED || s == MESOS__V1__TASK_STATE__TASK_LOST ||
         s == MESOS__V1__TASK_STATE__TASK_ERROR || s == MESOS__V1__TASK_STATE__TASK_DROPPED ||
         s == MESOS__V1__TASK_STATE__TASK_GONE ||
         s == MESOS__V1__TASK_STATE__TASK_GONE_BY_OPERATOR;
}

static void remember_task(mesos_executor *e, const Mesos__V1__TaskInfo *ti) {
  if (e->ntasks >= EXECUTOR_MAX_UNACKED) return;
  for (size_t i = 0; i < e->ntasks; i++)
    if (strcmp(e->tasks[i]->task_id->value, ti->task_id->value) == 0) return;
  Mesos__V1__TaskInfo **grown = mesos__realloc(e->tasks, (e->ntasks + 1) * sizeof *grown);
  if (grown == NULL) return;
  e->tasks = grown;
  ProtobufCMessage *copy = copy_msg(&ti->base);
  if (copy) e->tasks[e->ntasks++] = (Mesos__V1__TaskInfo *)copy;
}

/* ACKNOWLEDGED: the update leaves the list; a terminal one takes its task
 * along. */
static void forget_update(mesos_executor *e, const ProtobufCBinaryData *uuid) {
  for (size_t i = 0; i < e->nunacked; i++) {
    const Mesos__V1__TaskStatus *st = e->unacked[i]->status;
    if (st->uuid.len != uuid->len || memcmp(st->uuid.data, uuid->data, uuid->len) != 0) continue;
    if (terminal(st->state)) {
      for (size_t k = 0; k < e->ntasks; k++) {
        if (strcmp(e->tasks[k]->task_id->value, st->task_id->value) != 0) continue;
        mesos__pb_free(e->tasks[k]);
        memmove(e->tasks + k, e->tasks + k + 1, (e->ntasks - k - 1) * sizeof *e->tasks);
        e->ntasks--;
        break;
      }
    }
    mesos__pb_free(e->unacked[i]);
    memmove(e->unacked + i, e->unacked + i + 1, (e->nunacked - i - 1) * sizeof *e->unacked);
    e->nunacked--;
    return;
  }
}

static void drop_queued_calls(mesos_executor *e) {
  while (e->q_head) {
    pending_call *pc = e->q_head;
    e->q_head = pc->next;
    mesos__free(pc);
  }
  e->q_tail = NULL;
}

static mesos_status subscribe_now(mesos_executor *e, mesos_error **err);

/* The stream is gone for good: tell the executor. */
static void disconnected(mesos_executor *e, const char *why) {
  e->subscribed = 0;
  e->reconnecting = 0;
  if (e->cbs.disconnected) e->cbs.disconnected(e, why, e->ud);
}

static void schedule_reconnect(mesos_executor *e) {
  uint64_t delay = mesos__backoff_draw(&e->backoff_ms, e->backoff_max_ms);
  mesos_timer_start(e->reconnect, delay, 0);
}

/* The stream broke.  `refused`: the agent answered the SUBSCRIBE with an
 * error (it does not know this executor): retrying cannot help. */
static void lost(mesos_executor *e, const char *why, int refused) {
  e->subscribed = 0;
  mesos__recordio_decoder_free(&e->dec);
  mesos__recordio_decoder_init(&e->dec, EXECUTOR_MAX_EVENT);
  if (!e->checkpoint || refused || e->freeing) {
    disconnected(e, why);
    return;
  }
  uint64_t now = mesos_loop_now_ms(e->loop);
  if (!e->reconnecting) {
    e->reconnecting = 1;
    e->lost_at_ms = now;
    e->backoff_ms = BACKOFF_MIN_MS;
    /* Whatever was queued is in `unacked` and goes with the SUBSCRIBE. */
    drop_queued_calls(e);
    LOG_WARN("executor: lost the agent (%s); re-subscribing for up to %llu ms", why,
             (unsigned long long)e->recovery_timeout_ms);
  }
  if (now - e->lost_at_ms >= e->recovery_timeout_ms) {
    char msg[320];
    snprintf(msg, sizeof msg, "the agent did not come back within the recovery timeout (%llu ms): %s",
             (unsigned long long)e->recovery_timeout_ms, why);
    disconnected(e, msg);
    return;
  }
  schedule_reconnect(e);
}

static void reconnect_cb(mesos_timer *t, void *ud) {
  (void)t;
  mesos_executor *e = ud;
  if (e->stream || e->subscribed) return;
  mesos_error *err = NULL;
  if (subscribe_now(e, &err) != MESOS_OK) {
    char why[256];
    snprintf(why, sizeof why, "%s", err ? mesos_error_message(err) : "cannot subscribe");
    mesos_error_free(err);
    lost(e, why, 0);
  }
}

static void handle_event(mesos_executor *e, const Mesos__V1__Executor__Event *ev) {
  switch (ev->type) {
    case MESOS__V1__EXECUTOR__EVENT__TYPE__SUBSCRIBED:
      if (e->reconnecting) LOG_INFO("executor: re-subscribed to the agent");
      e->subscribed = 1;
      e->reconnecting = 0;
      e->backoff_ms = BACKOFF_MIN_MS;
      if (e->cbs.subscribed) e->cbs.subscribed(e, e->ud);
      break;
    case MESOS__V1__EXECUTOR__EVENT__TYPE__HEARTBEAT:
      break; /* only keeps the connection busy */
    case MESOS__V1__EXECUTOR__EVENT__TYPE__LAUNCH:
      if (ev->launch && ev->launch->task && ev->launch->task->task_id &&
          ev->launch->task->task_id->value)
        remember_task(e, ev->launch->task);
      if (ev->launch && ev->launch->task && e->cbs.launch) {
        mesos_executor_task t = {ev->launch->task};
        e->cbs.launch(e, &t, e->ud);
      }
      break;
    case MESOS__V1__EXECUTOR__EVENT__TYPE__LAUNCH_GROUP:
      /* Every task of the group is handed back in a re-SUBSCRIBE until its
       * terminal update is acknowledged, as a LAUNCH's task is. */
      if (ev->launch_group && ev->launch_group->task_group)
        for (size_t i = 0; i < ev->launch_group->task_group->n_tasks; i++) {
          const Mesos__V1__TaskInfo *ti = ev->launch_group->task_group->tasks[i];
          if (ti && ti->task_id && ti->task_id->value) remember_task(e, ti);
        }
      if (ev->launch_group && ev->launch_group->task_group && e->cbs.launch_group) {
        const Mesos__V1__TaskGroupInfo *g = ev->launch_group->task_group;
        size_t n = g->n_tasks;
        mesos_executor_task *ts = mesos__calloc(n ? n : 1, sizeof *ts);
        const mesos_executor_task **ptrs = mesos__calloc(n ? n : 1, sizeof *ptrs);
        if (ts && ptrs) {
          for (size_t i = 0; i < n; i++) {
            ts[i].info = g->tasks[i];
            ptrs[i] = &ts[i];
          }
          e->cbs.launch_group(e, ptrs, n, e->ud);
        } else {
          LOG_ERROR("executor: out of memory delivering LAUNCH_GROUP");
        }
        mesos__free(ts);
        mesos__free(ptrs);
      }
      break;
    case MESOS__V1__EXECUTOR__EVENT__TYPE__KILL:
      if (ev->kill && ev->kill->task_id && e->cbs.kill) {
        int64_t grace = -1;
        if (ev->kill->kill_policy && ev->kill->kill_policy->grace_period)
          grace = ev->kill->kill_policy->grace_period->nanoseconds / 1000000;
        e->cbs.kill(e, ev->kill->task_id->value, grace, e->ud);
      }
      break;
    case MESOS__V1__EXECUTOR__EVENT__TYPE__ACKNOWLEDGED:
      if (ev->acknowledged) forget_update(e, &ev->acknowledged->uuid);
      if (ev->acknowledged && ev->acknowledged->task_id && ev->acknowledged->uuid.len == 16 &&
          e->cbs.acknowledged)
        e->cbs.acknowledged(e, ev->acknowledged->task_id->value, ev->acknowledged->uuid.data,
                            e->ud);
      break;
    case MESOS__V1__EXECUTOR__EVENT__TYPE__SHUTDOWN:
      if (e->cbs.shutdown) e->cbs.shutdown(e, e->ud);
      break;
    case MESOS__V1__EXECUTOR__EVENT__TYPE__ERROR:
      LOG_ERROR("executor: error from the agent: %s",
                ev->error && ev->error->message ? ev->error->message : "");
      break;
    default:
      break;
  }
}

static void stream_head(mesos__http_call *call, const mesos__http_response *resp, void *ud) {
  (void)call;
  mesos_executor *e = ud;
  e->status = resp->status;
}

static void stream_body(mesos__http_call *call, const char *data, size_t len, void *ud) {
  mesos_executor *e = ud;
  if (call != e->stream) return;
  if (e->status != 200) {
    LOG_ERROR("executor: SUBSCRIBE refused (%d): %.*s", e->status, (int)(len > 300 ? 300 : len),
              data);
    return;
  }
  mesos_error *err = NULL;
  mesos_status st = mesos__recordio_decoder_feed(&e->dec, data, len, &err);
  while (st == MESOS_OK) {
    const uint8_t *rec = NULL;
    size_t rlen = 0;
    st = mesos__recordio_decoder_next(&e->dec, &rec, &rlen, &err);
    if (st != MESOS_OK) break;
    ProtobufCMessage *m = NULL;
    st = mesos__pb_unpack(&mesos__v1__executor__event__descriptor, rec, rlen, 0, 0, &m, &err);
    if (st != MESOS_OK) break;
    handle_event(e, (const Mesos__V1__Executor__Event *)m);
    mesos__pb_free(m);
    if (call != e->stream) break; /* freed or cancelled from a callback */
  }
  if (st != MESOS_EAGAIN && st != MESOS_OK && call == e->stream) {
    char why[256];
    snprintf(why, sizeof why, "bad event stream: %s",
             err ? mesos_error_message(err) : mesos_status_str(st));
    e->stream = NULL;
    mesos__http_call_cancel(call);
    lost(e, why, 0);
  }
  mesos_error_free(err);
}

static void stream_done(mesos__http_call *call, mesos_status status,
                        const mesos__http_response *resp, const mesos_error *err, void *ud) {
  (void)resp;
  mesos_executor *e = ud;
  if (call != e->stream) return;
  e->stream = NULL;
  char why[256];
  snprintf(why, sizeof why, "%s",
           status == MESOS_OK ? (e->status == 200 ? "the agent ended the event stream"
                                                  : "the agent refused the subscription")
           : err              ? mesos_error_message(err)
                              : mesos_status_str(status));
  lost(e, why, status == MESOS_OK && e->status >= 400 && e->status < 500);
}

static void post_next(mesos_executor *e);

static void post_done(mesos__http_call *call, mesos_status status,
                      const mesos__http_response *resp, const mesos_error *err, void *ud) {
  (void)call;
  mesos_executor *e = ud;
  if (status != MESOS_OK) {
    if (status != MESOS_ECLOSED)
      LOG_WARN("executor: call failed: %s", err ? mesos_error_message(err) : "");
  } else if (resp->status != 202) {
    LOG_WARN("executor: agent answered %d: %.*s", resp->status,
             (int)(resp->body_len > 200 ? 200 : resp->body_len), resp->body ? resp->body : "");
  }
  e->posting = 0;
  if (!e->freeing) post_next(e);
}

/* Sends the oldest queued call, if none is in flight. */
static void post_next(mesos_executor *e) {
  while (!e->posting && e->q_head) {
    pending_call *pc = e->q_head;
    e->q_head = pc->next;
    if (e->q_head == NULL) e->q_tail = NULL;
    mesos__http_headers h;
    mesos__http_headers_init(&h);
    mesos__http_headers_set(&h, "Content-Type", MEDIA_PROTOBUF);
    mesos__http_headers_set(&h, "Accept", MEDIA_PROTOBUF);
    if (e->authorization) mesos__http_headers_set(&h, "Authorization", e->authorization);
    mesos__http_client_request req;
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.url = e->url;
    req.headers = &h;
    req.body = (const char *)pc->bytes;
    req.body_len = pc->len;
    mesos__http_client_cbs cbs = {NULL, NULL, post_done};
    mesos_error *err = NULL;
    if (mesos__http_client_send(e->client, &req, &cbs, e, NULL, &err) == MESOS_OK) {
      e->posting = 1;
    } else {
      LOG_WARN("executor: cannot send a call: %s", err ? mesos_error_message(err) : "");
      mesos_error_free(err);
    }
    mesos__http_headers_free(&h);
    mesos__free(pc);
  }
}

static mesos_status send_call(mesos_executor *e, Mesos__V1__Executor__Call *call, int stream,
                              mesos_error **err) {
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__ExecutorID eid = MESOS__V1__EXECUTOR_ID__INIT;
  fid.value = e->framework_id;
  eid.value = e->executor_id;
  call->framework_id = &fid;
  call->executor_id = &eid;
  uint8_t *bytes = NULL;
  size_t len = 0;
  mesos_status st = mesos__pb_pack(&call->base, 0, &bytes, &len, err);
  if (st != MESOS_OK) return st;
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_set(&h, "Content-Type", MEDIA_PROTOBUF);
  mesos__http_headers_set(&h, "Accept", MEDIA_PROTOBUF);
  if (e->authorization) mesos__http_headers_set(&h, "Authorization", e->authorization);
  mesos__http_client_request req;
  memset(&req, 0, sizeof req);
  req.method = "POST";
  req.url = e->url;
  req.headers = &h;
  req.body = (const char *)bytes;
  req.body_len = len;
  req.stream = stream;
  if (stream) {
    mesos__http_client_cbs cbs = {stream_head, stream_body, stream_done};
    e->status = 0;
    st = mesos__http_client_send(e->client, &req, &cbs, e, &e->stream, err);
  } else {
    size_t total;
    pending_call *pc = NULL;
    if (mesos__size_add(&total, sizeof *pc, len)) pc = mesos__malloc(total);
    if (pc == NULL) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    } else {
      pc->next = NULL;
      pc->len = len;
      memcpy(pc->bytes, bytes, len);
      if (e->q_tail) e->q_tail->next = pc;
      else e->q_head = pc;
      e->q_tail = pc;
      post_next(e);
    }
  }
  mesos__http_headers_free(&h);
  mesos__free(bytes);
  return st;
}

static mesos_status subscribe_now(mesos_executor *e, mesos_error **err) {
  Mesos__V1__Executor__Call call = MESOS__V1__EXECUTOR__CALL__INIT;
  Mesos__V1__Executor__Call__Subscribe sub = MESOS__V1__EXECUTOR__CALL__SUBSCRIBE__INIT;
  sub.unacknowledged_tasks = e->tasks;
  sub.n_unacknowledged_tasks = e->ntasks;
  sub.unacknowledged_updates = e->unacked;
  sub.n_unacknowledged_updates = e->nunacked;
  call.has_type = 1;
  call.type = MESOS__V1__EXECUTOR__CALL__TYPE__SUBSCRIBE;
  call.subscribe = &sub;
  return send_call(e, &call, 1, err);
}

/* A duration from the environment ("2secs", "15mins"), or `dflt`. */
static uint64_t env_duration_ms(const char *name, uint64_t dflt) {
  const char *v = getenv(name);
  uint64_t ns = 0;
  if (v == NULL || *v == '\0') return dflt;
  if (mesos__parse_duration(v, &ns, NULL) != MESOS_OK) {
    LOG_WARN("executor: %s=%s is not a duration; using %llu ms", name, v, (unsigned long long)dflt);
    return dflt;
  }
  return ns / MESOS__NS_PER_MS;
}

static const char *pick(const char *given, const char *env) {
  if (given && *given) return given;
  const char *v = getenv(env);
  return v && *v ? v : NULL;
}

MESOS_EXTERN(mesos_status) mesos_executor_new(mesos_executor **out, mesos_loop *loop,
                                              const mesos_executor_options *opts,
                                              const mesos_executor_callbacks *cbs, void *ud,
                                              mesos_error **err) {
  if (out == NULL || loop == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_executor_new: out and loop are required");
  if (opts && opts->version != MESOS_EXECUTOR_OPTIONS_VERSION)
    return mesos__err(err, MESOS_EVERSION, "mesos_executor_options: version %u not supported",
                      opts->version);
  if (cbs && cbs->version != MESOS_EXECUTOR_CALLBACKS_VERSION && cbs->version != 1)
    return mesos__err(err, MESOS_EVERSION, "mesos_executor_callbacks: version %u not supported",
                      cbs->version);
  const char *endpoint = pick(opts ? opts->agent_endpoint : NULL, "MESOS_AGENT_ENDPOINT");
  const char *fid = pick(opts ? opts->framework_id : NULL, "MESOS_FRAMEWORK_ID");
  const char *eid = pick(opts ? opts->executor_id : NULL, "MESOS_EXECUTOR_ID");
  if (endpoint == NULL) return mesos__err(err, MESOS_EINVAL, "no agent endpoint (MESOS_AGENT_ENDPOINT)");
  if (fid == NULL) return mesos__err(err, MESOS_EINVAL, "no framework id (MESOS_FRAMEWORK_ID)");
  if (eid == NULL) return mesos__err(err, MESOS_EINVAL, "no executor id (MESOS_EXECUTOR_ID)");
  mesos_executor *e = MESOS__NEW(mesos_executor);
  if (e == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  e->loop = loop;
  e->ud = ud;
  /* A version 1 struct ends before launch_group: copy only what it has. */
  if (cbs)
    memcpy(&e->cbs, cbs,
           cbs->version == 1 ? offsetof(mesos_executor_callbacks, launch_group) : sizeof *cbs);
  mesos__recordio_decoder_init(&e->dec, EXECUTOR_MAX_EVENT);
  snprintf(e->url, sizeof e->url, "http://%s/api/v1/executor", endpoint);
  e->framework_id = mesos__strdup(fid);
  e->executor_id = mesos__strdup(eid);
  mesos_status st = e->framework_id && e->executor_id
                        ? MESOS_OK
                        : mesos__err(err, MESOS_ENOMEM, "out of memory");
  const char *token = getenv("MESOS_EXECUTOR_AUTHENTICATION_TOKEN");
  if (st == MESOS_OK && token && *token) {
    size_t n = strlen(token) + sizeof "Bearer ";
    if ((e->authorization = mesos__malloc(n)) != NULL)
      snprintf(e->authorization, n, "Bearer %s", token);
    else st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  const char *cp = getenv("MESOS_CHECKPOINT");
  e->checkpoint = cp && strcmp(cp, "1") == 0;
  e->recovery_timeout_ms = env_duration_ms("MESOS_RECOVERY_TIMEOUT", DEFAULT_RECOVERY_TIMEOUT_MS);
  e->backoff_max_ms = env_duration_ms("MESOS_SUBSCRIPTION_BACKOFF_MAX", DEFAULT_BACKOFF_MAX_MS);
  if (e->backoff_max_ms < BACKOFF_MIN_MS) e->backoff_max_ms = BACKOFF_MIN_MS;
  e->backoff_ms = BACKOFF_MIN_MS;
  if (st == MESOS_OK) st = mesos__http_client_new(&e->client, loop, NULL, err);
  if (st == MESOS_OK) st = mesos_timer_new(&e->reconnect, loop, reconnect_cb, e, err);
  if (st == MESOS_OK) st = subscribe_now(e, err);
  if (st != MESOS_OK) {
    mesos_executor_free(e);
    return st;
  }
  *out = e;
  return MESOS_OK;
}

MESOS_EXTERN(mesos_status) mesos_executor_update(mesos_executor *e, const char *task_id,
                                                 const char *state, const char *message,
                                                 mesos_error **err) {
  return mesos__executor_update_reason(e, task_id, state, -1, message, err);
}

mesos_status mesos__executor_update_reason(mesos_executor *e, const char *task_id,
                                           const char *state, int reason, const char *message,
                                           mesos_error **err) {
  if (e == NULL || task_id == NULL || state == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_executor_update: e, task_id and state are required");
  const ProtobufCEnumValue *v =
      protobuf_c_enum_descriptor_get_value_by_name(&mesos__v1__task_state__descriptor, state);
  if (v == NULL) return mesos__err(err, MESOS_EINVAL, "'%s' is not a task state", state);
  if (!e->subscribed && !e->reconnecting)
    return mesos__err(err, MESOS_ECLOSED, "not subscribed to the agent");
  if (e->nunacked >= EXECUTOR_MAX_UNACKED)
    return mesos__err(err, MESOS_ELIMIT, "%u status updates wait for acknowledgement already",
                      EXECUTOR_MAX_UNACKED);
  uint8_t uuid[16];
  mesos_status st = mesos__uuid_random(uuid);
  if (st != MESOS_OK) return mesos__err(err, st, "cannot generate a uuid");
  Mesos__V1__TaskStatus ts = MESOS__V1__TASK_STATUS__INIT;
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  tid.value = (char *)task_id;
  ts.task_id = &tid;
  ts.state = (Mesos__V1__TaskState)v->value;
  ts.message = (char *)message;
  ts.has_source = 1;
  ts.source = MESOS__V1__TASK_STATUS__SOURCE__SOURCE_EXECUTOR;
  if (reason >= 0) {
    if (protobuf_c_enum_descriptor_get_value(&mesos__v1__task_status__reason__descriptor,
                                             reason) == NULL)
      return mesos__err(err, MESOS_EINVAL, "%d is not a task status reason", reason);
    ts.has_reason = 1;
    ts.reason = (Mesos__V1__TaskStatus__Reason)reason;
  }
  ts.has_uuid = 1;
  ts.uuid.data = uuid;
  ts.uuid.len = 16;
  Mesos__V1__Executor__Call__Update up = MESOS__V1__EXECUTOR__CALL__UPDATE__INIT;
  up.status = &ts;
  Mesos__V1__Executor__Call call = MESOS__V1__EXECUTOR__CALL__INIT;
  call.has_type = 1;
  call.type = MESOS__V1__EXECUTOR__CALL__TYPE__UPDATE;
  call.update = &up;
  /* Kept until ACKNOWLEDGED, for a re-subscription. */
  Mesos__V1__Executor__Call__Update **grown =
      mesos__realloc(e->unacked, (e->nunacked + 1) * sizeof *grown);
  if (grown == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  e->unacked = grown;
  ProtobufCMessage *copy = copy_msg(&up.base);
  if (copy == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  e->unacked[e->nunacked++] = (Mesos__V1__Executor__Call__Update *)copy;
  /* While re-connecting it goes with the next SUBSCRIBE. */
  if (!e->subscribed) return MESOS_OK;
  return send_call(e, &call, 0, err);
}

const Mesos__V1__TaskInfo *mesos__executor_task_info(const mesos_executor_task *t) {
  return t ? t->info : NULL;
}

mesos_executor_task *mesos__executor_task_copy(const mesos_executor_task *t) {
  if (t == NULL) return NULL;
  mesos_executor_task *c = MESOS__NEW(mesos_executor_task);
  ProtobufCMessage *info = c ? copy_msg(&t->info->base) : NULL;
  if (info == NULL) {
    mesos__free(c);
    return NULL;
  }
  c->info = (const Mesos__V1__TaskInfo *)info;
  return c;
}

void mesos__executor_task_free(mesos_executor_task *t) {
  if (t == NULL) return;
  mesos__pb_free((ProtobufCMessage *)t->info);
  mesos__free(t);
}

MESOS_EXTERN(const char *) mesos_executor_task_id(const mesos_executor_task *t) {
  return t && t->info->task_id ? t->info->task_id->value : NULL;
}

MESOS_EXTERN(const char *) mesos_executor_task_command(const mesos_executor_task *t) {
  return t && t->info->command ? t->info->command->value : NULL;
}

MESOS_EXTERN(int) mesos_executor_task_shell(const mesos_executor_task *t) {
  if (t == NULL || t->info->command == NULL) return 1;
  return !t->info->command->has_shell || t->info->command->shell;
}

MESOS_EXTERN(size_t) mesos_executor_task_argc(const mesos_executor_task *t) {
  return t && t->info->command ? t->info->command->n_arguments : 0;
}

MESOS_EXTERN(const char *) mesos_executor_task_arg(const mesos_executor_task *t, size_t i) {
  return t && t->info->command && i < t->info->command->n_arguments
             ? t->info->command->arguments[i]
             : NULL;
}

MESOS_EXTERN(int64_t) mesos_executor_task_grace_ms(const mesos_executor_task *t) {
  if (t && t->info->kill_policy && t->info->kill_policy->grace_period)
    return t->info->kill_policy->grace_period->nanoseconds / 1000000;
  return -1;
}

MESOS_EXTERN(size_t) mesos_executor_task_env_count(const mesos_executor_task *t) {
  return t && t->info->command && t->info->command->environment
             ? t->info->command->environment->n_variables
             : 0;
}

static const Mesos__V1__Environment__Variable *env_var(const mesos_executor_task *t, size_t i) {
  return i < mesos_executor_task_env_count(t) ? t->info->command->environment->variables[i]
                                              : NULL;
}

MESOS_EXTERN(const char *) mesos_executor_task_env_name(const mesos_executor_task *t, size_t i) {
  const Mesos__V1__Environment__Variable *v = env_var(t, i);
  return v ? v->name : NULL;
}

MESOS_EXTERN(const char *) mesos_executor_task_env_value(const mesos_executor_task *t, size_t i) {
  const Mesos__V1__Environment__Variable *v = env_var(t, i);
  return v ? (v->value ? v->value : "") : NULL;
}

MESOS_EXTERN(const char *) mesos_executor_task_user(const mesos_executor_task *t) {
  return t && t->info->command && t->info->command->user && *t->info->command->user
             ? t->info->command->user
             : NULL;
}

MESOS_EXTERN(void) mesos_executor_free(mesos_executor *e) {
  if (e == NULL) return;
  e->stream = NULL;
  e->freeing = 1;
  mesos__http_client_free(e->client);
  mesos_timer_free(e->reconnect);
  drop_queued_calls(e);
  for (size_t i = 0; i < e->nunacked; i++) mesos__pb_free(e->unacked[i]);
  mesos__free(e->unacked);
  for (size_t i = 0; i < e->ntasks; i++) mesos__pb_free(e->tasks[i]);
  mesos__free(e->tasks);
  mesos__recordio_decoder_free(&e->dec);
  mesos__free(e->framework_id);
  mesos__free(e->executor_id);
  mesos__free(e->authorization);
  mesos__free(e);
}
