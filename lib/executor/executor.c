/*
 * The C client of the v1 executor API (spec/http-api.md section 3): one
 * streaming SUBSCRIBE request whose response is the RecordIO event stream,
 * and separate POSTs for UPDATE calls.  Protobuf on the wire both ways:
 * the agent speaks both encodings, and protobuf needs no JSON round trip
 * for TaskInfo.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "base/uuid.h"
#include "codec/pb.h"
#include "codec/recordio.h"
#include "http/client.h"
#include "mesos/executor.h"
#include "mesos/v1/executor.pb-c.h"

#define MEDIA_PROTOBUF "application/x-protobuf"

/* Largest event accepted: a LAUNCH carries one TaskInfo, which the master
 * bounds far below this. */
#define EXECUTOR_MAX_EVENT ((size_t)16 << 20)

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
  int subscribed;
  int status;
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

static void disconnected(mesos_executor *e, const char *why) {
  e->subscribed = 0;
  if (e->cbs.disconnected) e->cbs.disconnected(e, why, e->ud);
}

static void handle_event(mesos_executor *e, const Mesos__V1__Executor__Event *ev) {
  switch (ev->type) {
    case MESOS__V1__EXECUTOR__EVENT__TYPE__SUBSCRIBED:
      e->subscribed = 1;
      if (e->cbs.subscribed) e->cbs.subscribed(e, e->ud);
      break;
    case MESOS__V1__EXECUTOR__EVENT__TYPE__LAUNCH:
      if (ev->launch && ev->launch->task && e->cbs.launch) {
        mesos_executor_task t = {ev->launch->task};
        e->cbs.launch(e, &t, e->ud);
      }
      break;
    case MESOS__V1__EXECUTOR__EVENT__TYPE__LAUNCH_GROUP:
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
    disconnected(e, why);
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
  disconnected(e, why);
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
  if (st == MESOS_OK) st = mesos__http_client_new(&e->client, loop, NULL, err);
  if (st == MESOS_OK) {
    Mesos__V1__Executor__Call call = MESOS__V1__EXECUTOR__CALL__INIT;
    Mesos__V1__Executor__Call__Subscribe sub = MESOS__V1__EXECUTOR__CALL__SUBSCRIBE__INIT;
    call.has_type = 1;
    call.type = MESOS__V1__EXECUTOR__CALL__TYPE__SUBSCRIBE;
    call.subscribe = &sub;
    st = send_call(e, &call, 1, err);
  }
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
  if (e == NULL || task_id == NULL || state == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_executor_update: e, task_id and state are required");
  const ProtobufCEnumValue *v =
      protobuf_c_enum_descriptor_get_value_by_name(&mesos__v1__task_state__descriptor, state);
  if (v == NULL) return mesos__err(err, MESOS_EINVAL, "'%s' is not a task state", state);
  if (!e->subscribed) return mesos__err(err, MESOS_ECLOSED, "not subscribed to the agent");
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
  ts.has_uuid = 1;
  ts.uuid.data = uuid;
  ts.uuid.len = 16;
  Mesos__V1__Executor__Call__Update up = MESOS__V1__EXECUTOR__CALL__UPDATE__INIT;
  up.status = &ts;
  Mesos__V1__Executor__Call call = MESOS__V1__EXECUTOR__CALL__INIT;
  call.has_type = 1;
  call.type = MESOS__V1__EXECUTOR__CALL__TYPE__UPDATE;
  call.update = &up;
  return send_call(e, &call, 0, err);
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

MESOS_EXTERN(void) mesos_executor_free(mesos_executor *e) {
  if (e == NULL) return;
  e->stream = NULL;
  e->freeing = 1;
  mesos__http_client_free(e->client);
  while (e->q_head) {
    pending_call *pc = e->q_head;
    e->q_head = pc->next;
    mesos__free(pc);
  }
  mesos__recordio_decoder_free(&e->dec);
  mesos__free(e->framework_id);
  mesos__free(e->executor_id);
  mesos__free(e);
}
