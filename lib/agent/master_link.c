/*
 * The agent's connection to the master (lib/proto/mesos/internal/
 * internal.proto): the agent POSTs REGISTER (no id yet) or REREGISTER (it
 * has one) to /api/v1/agent and keeps the response open: it is a RecordIO
 * stream of AgentEvent, the master's only way to reach the agent.  Every
 * other agent -> master message is a POSTed AgentCall, all of them on one
 * pipelined connection (http/pipe.h): written back to back in the order
 * sent, answered in order, written again on a new connection when it
 * breaks.  (Through the pooled client a burst of status updates opened
 * about two connections per task, and calls could overtake each other.)
 * The calls of a lost registration are dropped with the stream: the new
 * registration sends what still matters (status_update.c).
 *
 * Liveness: the master PINGs; the agent answers PONG.  No event at all for
 * total_ping_timeout_seconds (the master says how long in REGISTERED)
 * means the master or the path to it is gone: the agent drops the stream
 * and re-registers.  Attempts are spaced by a random delay in [0, b], b
 * starting at --registration_backoff_factor and doubling up to one minute,
 * as Mesos does, so a restarted master is not hit by every agent at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_auth.h"
#include "agent/agent_int.h"
#include "agent/volumes.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "base/units.h"
#include "codec/pb.h"
#include "http/pipe.h"
#include "mesos/memory.h"

#define MEDIA_PROTOBUF "application/x-protobuf"

/* Before the master said otherwise: Mesos's default agent ping timeout
 * (15 s) times max_agent_ping_timeouts (5). */
#define DEFAULT_PING_TIMEOUT_MS 75000u

static void link_reset(mesos_agent *a, const char *why);

static void post_done(mesos__http_pipe *p, mesos_status status, int http_status,
                      const char *body, size_t body_len, const char *message, void *ud) {
  (void)p;
  mesos_agent *a = ud;
  if (status != MESOS_OK) {
    LOG_WARN("call to the master failed: %s", message ? message : mesos_status_str(status));
    return;
  }
  if (http_status == 202 || http_status == 200) return;
  LOG_WARN("master answered %d to a call: %.*s", http_status,
           (int)(body_len > 200 ? 200 : body_len), body ? body : "");
  /* 404: the master does not know us (it failed over or removed us):
   * register again. */
  if (http_status == 404 && !a->closing)
    mesos__agent_link_reset(a, "the master does not know this agent");
  /* 409 "disconnected": the master has no event stream of ours, though
   * we hold one (it lost its end: a half-open connection, a proxy): no
   * ping will ever come on it, so re-register now rather than after the
   * ping timeout (Mesos's agent re-registers when a ping says it is not
   * connected).  An answer to a call sent before the current
   * registration says nothing about it: one within a second of it is
   * ignored (a 409 "older connection" always is: the agent has moved on
   * and sends again on the current one). */
  if (http_status == 409 && !a->closing && a->registered && body &&
      memmem(body, body_len, "disconnected", 12) &&
      mesos_loop_now_ms(a->loop) >= a->registered_ms + 1000)
    mesos__agent_link_reset(a, "the master says this agent is disconnected");
}

uint64_t mesos__agent_post(mesos_agent *a, Mesos__Internal__AgentCall *call) {
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  uint64_t seq = 0;
  if (a->pipe == NULL) return 0; /* shutting down */
  call->protocol_version = MESOS__AGENT_PROTOCOL;
  /* The master refuses a status update from an older connection: one
   * overtaken by the re-registration that sent it again. */
  call->has_connection_id = a->registered && a->conn_id != 0;
  call->connection_id = a->conn_id;
  if (a->id && call->agent_id == NULL) {
    aid.value = a->id;
    call->agent_id = &aid;
  }
  uint8_t *bytes = NULL;
  size_t len = 0;
  mesos_error *e = NULL;
  mesos_status st = mesos__pb_pack(&call->base, 0, &bytes, &len, &e);
  if (st == MESOS_OK) {
    mesos__http_headers h;
    mesos__http_headers_init(&h);
    mesos__agent_auth_headers(a, &h);
    st = mesos__http_pipe_post(a->pipe, &h, bytes, len, &seq, &e);
    mesos__http_headers_free(&h);
  }
  if (st != MESOS_OK)
    LOG_WARN("cannot send a call to the master: %s", e ? mesos_error_message(e) : mesos_status_str(st));
  if (call->agent_id == &aid) call->agent_id = NULL;
  mesos_error_free(e);
  mesos__free(bytes);
  return st == MESOS_OK ? seq : 0;
}

void mesos__agent_post_exited_executor(mesos_agent *a, const char *framework_id,
                                       const char *executor_id, int wait_status) {
  Mesos__Internal__AgentCall call = MESOS__INTERNAL__AGENT_CALL__INIT;
  Mesos__Internal__ExitedExecutor ee = MESOS__INTERNAL__EXITED_EXECUTOR__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__ExecutorID eid = MESOS__V1__EXECUTOR_ID__INIT;
  fid.value = (char *)framework_id;
  eid.value = (char *)executor_id;
  ee.framework_id = &fid;
  ee.executor_id = &eid;
  ee.has_status = 1;
  ee.status = wait_status;
  call.has_type = 1;
  call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__EXITED_EXECUTOR;
  call.exited_executor = &ee;
  mesos__agent_post(a, &call);
}

/* ------------------------------------------------------------ events */

/* The master lists tasks it believes run here; the ones this agent does
 * not know are reported lost, so the framework learns the truth. */
static void reconcile(mesos_agent *a, const Mesos__Internal__ReconcileTasks *rt) {
  const char *fw = rt->framework_id->value;
  for (size_t i = 0; i < rt->n_statuses; i++) {
    const Mesos__V1__TaskStatus *s = rt->statuses[i];
    if (s->task_id == NULL || s->task_id->value == NULL) continue;
    char key[600];
    snprintf(key, sizeof key, "%s/%s", fw, s->task_id->value);
    if (mesos__map_get(&a->tasks, key) || mesos__map_get(&a->streams, key)) continue;
    mesos__agent_status_update(a, fw, NULL, s->task_id->value, NULL,
                               MESOS__V1__TASK_STATE__TASK_LOST,
                               MESOS__V1__TASK_STATUS__REASON__REASON_RECONCILIATION,
                               "Task is unknown to the agent", NULL);
  }
}

static void registered(mesos_agent *a, const char *id, const Mesos__Internal__AgentConnection *c,
                       int has_conn_id, uint64_t conn_id, int re) {
  /* One (RE)REGISTERED per event stream.  A second one on the same stream
   * must not count as a new connection: that would bump link_gen and post
   * every unacknowledged update again while the first copies are still in
   * flight, and the framework would see them twice (Mesos's agent also
   * ignores a re-registration message once it is registered). */
  if (a->registered) {
    LOG_WARN("%s with the master again on the same connection; ignored",
             re ? "Re-registered" : "Registered");
    return;
  }
  if (a->id == NULL || strcmp(a->id, id) != 0) {
    char *copy = mesos__strdup(id);
    if (copy == NULL) {
      mesos__agent_link_reset(a, "out of memory");
      return;
    }
    mesos__free(a->id);
    a->id = copy;
    mesos_error *e = NULL;
    if (mesos__agent_checkpoint_id(a, id, &e) != MESOS_OK) {
      LOG_ERROR("cannot checkpoint the agent id: %s", e ? mesos_error_message(e) : "");
      mesos_error_free(e);
    }
  }
  a->registered = 1;
  a->registered_ms = mesos_loop_now_ms(a->loop);
  a->conn_id = has_conn_id ? conn_id : 0; /* 0: a master that names none */
  a->link_gen++;
  a->backoff_ms = a->backoff_factor_ms;
  a->ping_timeout_ms = DEFAULT_PING_TIMEOUT_MS;
  if (c && c->has_total_ping_timeout_seconds && c->total_ping_timeout_seconds > 0 &&
      c->total_ping_timeout_seconds < 86400.0)
    a->ping_timeout_ms = (uint64_t)(c->total_ping_timeout_seconds * 1000.0);
  mesos_timer_start(a->ping_timeout, a->ping_timeout_ms, 0);
  LOG_INFO("%s with the master as agent %s", re ? "Re-registered" : "Registered", a->id);
  mesos__agent_status_resend_all(a);
}

static void handle_event(mesos_agent *a, const Mesos__Internal__AgentEvent *ev) {
  if (a->registered) mesos_timer_start(a->ping_timeout, a->ping_timeout_ms, 0);
  if (!ev->has_type) return;
  switch (ev->type) {
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__REGISTERED:
      if (ev->agent_registered && ev->agent_registered->agent_id->value)
        registered(a, ev->agent_registered->agent_id->value, ev->agent_registered->connection,
                   ev->agent_registered->has_connection_id,
                   ev->agent_registered->connection_id, 0);
      break;
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__REREGISTERED:
      if (ev->agent_reregistered && ev->agent_reregistered->agent_id->value) {
        registered(a, ev->agent_reregistered->agent_id->value,
                   ev->agent_reregistered->connection, ev->agent_reregistered->has_connection_id,
                   ev->agent_reregistered->connection_id, 1);
        for (size_t i = 0; i < ev->agent_reregistered->n_reconciliations; i++)
          reconcile(a, ev->agent_reregistered->reconciliations[i]);
      }
      break;
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__PING:
      if (ev->ping && ev->ping->has_connected && !ev->ping->connected) {
        mesos__agent_link_reset(a, "the master considers this agent disconnected");
      } else {
        Mesos__Internal__AgentCall call = MESOS__INTERNAL__AGENT_CALL__INIT;
        Mesos__Internal__Pong pong = MESOS__INTERNAL__PONG__INIT;
        call.has_type = 1;
        call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__PONG;
        call.pong = &pong;
        mesos__agent_post(a, &call);
      }
      break;
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK:
      if (ev->run_task) mesos__agent_run_task(a, ev->run_task);
      break;
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK_GROUP:
      if (ev->run_task_group) mesos__agent_run_task_group(a, ev->run_task_group);
      break;
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__KILL_TASK:
      if (ev->kill_task)
        mesos__agent_kill_task(a, ev->kill_task->framework_id->value,
                               ev->kill_task->task_id->value, ev->kill_task->kill_policy);
      break;
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__STATUS_UPDATE_ACKNOWLEDGEMENT:
      if (ev->status_update_acknowledgement)
        mesos__agent_status_ack(a, ev->status_update_acknowledgement);
      break;
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__SHUTDOWN_FRAMEWORK:
      if (ev->shutdown_framework)
        mesos__agent_shutdown_framework(a, ev->shutdown_framework->framework_id->value);
      break;
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__SHUTDOWN_EXECUTOR:
      /* Custom and default executors, else a command task's executor,
       * which is named after the task. */
      if (ev->shutdown_executor &&
          !mesos__agent_exec_shutdown(a, ev->shutdown_executor->framework_id->value,
                                      ev->shutdown_executor->executor_id->value))
        mesos__agent_kill_task(a, ev->shutdown_executor->framework_id->value,
                               ev->shutdown_executor->executor_id->value, NULL);
      break;
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__UPDATE_FRAMEWORK:
      if (ev->update_framework && ev->update_framework->framework_info->id) {
        const char *fid = ev->update_framework->framework_info->id->value;
        uint8_t *bytes = NULL;
        size_t len = 0;
        ProtobufCMessage *copy = NULL;
        if (mesos__map_get(&a->frameworks, fid) &&
            mesos__pb_pack(&ev->update_framework->framework_info->base, 0, &bytes, &len,
                           NULL) == MESOS_OK &&
            mesos__pb_unpack(&mesos__v1__framework_info__descriptor, bytes, len, 0, 0, &copy,
                             NULL) == MESOS_OK) {
          mesos__pb_free(mesos__map_get(&a->frameworks, fid));
          mesos__map_put(&a->frameworks, fid, copy);
        }
        mesos__free(bytes);
      }
      break;
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__FRAMEWORK_MESSAGE:
      if (ev->framework_message) mesos__agent_exec_message(a, ev->framework_message);
      break;
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__RECONCILE_TASKS:
      if (ev->reconcile_tasks) reconcile(a, ev->reconcile_tasks);
      break;
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__SHUTDOWN_AGENT:
      LOG_ERROR("The master shut this agent down: %s",
                ev->error && ev->error->message ? ev->error->message : "(no reason given)");
      mesos__agent_tasks_free(a);
      mesos__agent_link_reset(a, "shut down by the master");
      break;
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__CHECKPOINT_RESOURCES:
      if (ev->checkpoint_resources) mesos__agent_volumes_checkpoint(a, ev->checkpoint_resources);
      break;
    case MESOS__INTERNAL__AGENT_EVENT__TYPE__ERROR:
      LOG_ERROR("The master refused this agent: %s",
                ev->error && ev->error->message ? ev->error->message : "(no reason given)");
      mesos__agent_link_reset(a, "error from the master");
      break;
    default:
      LOG_DEBUG("ignoring agent event of type %d", (int)ev->type);
      break;
  }
}

/* ------------------------------------------------------------ the stream */

static void stream_head(mesos__http_call *call, const mesos__http_response *resp, void *ud) {
  mesos_agent *a = ud;
  if (call != a->stream) return;
  a->stream_status = resp->status;
  if (resp->status != 200) LOG_WARN("master answered %d to the registration", resp->status);
}

static void stream_body(mesos__http_call *call, const char *data, size_t len, void *ud) {
  mesos_agent *a = ud;
  if (call != a->stream) return;
  if (a->stream_status != 200) {
    LOG_WARN("master: %.*s", (int)(len > 300 ? 300 : len), data);
    return;
  }
  mesos_error *e = NULL;
  mesos_status st = mesos__recordio_decoder_feed(&a->dec, data, len, &e);
  while (st == MESOS_OK) {
    const uint8_t *rec = NULL;
    size_t rlen = 0;
    st = mesos__recordio_decoder_next(&a->dec, &rec, &rlen, &e);
    if (st != MESOS_OK) break;
    ProtobufCMessage *m = NULL;
    st = mesos__pb_unpack(&mesos__internal__agent_event__descriptor, rec, rlen, 0, 0, &m, &e);
    if (st != MESOS_OK) break;
    handle_event(a, (const Mesos__Internal__AgentEvent *)m);
    mesos__pb_free(m);
    /* The handler may have dropped this stream. */
    if (a->stream != call) {
      mesos_error_free(e);
      return;
    }
  }
  if (st != MESOS_EAGAIN) {
    LOG_WARN("bad event stream from the master: %s", e ? mesos_error_message(e) : mesos_status_str(st));
    mesos_error_free(e);
    mesos__agent_link_reset(a, "bad event stream");
    return;
  }
  mesos_error_free(e);
}

static void stream_done(mesos__http_call *call, mesos_status status,
                        const mesos__http_response *resp, const mesos_error *err, void *ud) {
  (void)resp;
  mesos_agent *a = ud;
  if (call != a->stream) return;
  a->stream = NULL;
  if (a->closing) return;
  char why[300];
  snprintf(why, sizeof why, "%s", status == MESOS_OK ? "the master ended the event stream"
                                  : err              ? mesos_error_message(err)
                                                     : mesos_status_str(status));
  link_reset(a, why);
}

static mesos_status build_call(mesos_agent *a, uint8_t **bytes, size_t *len, mesos_error **err) {
  Mesos__Internal__AgentCall call = MESOS__INTERNAL__AGENT_CALL__INIT;
  Mesos__Internal__RegisterAgent ra = MESOS__INTERNAL__REGISTER_AGENT__INIT;
  Mesos__Internal__ReregisterAgent rr = MESOS__INTERNAL__REREGISTER_AGENT__INIT;
  Mesos__V1__AgentInfo info = *a->info;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  call.protocol_version = MESOS__AGENT_PROTOCOL;
  call.has_type = 1;
  Mesos__V1__Task **tasks = NULL;
  Mesos__V1__FrameworkInfo **fws = NULL;
  Mesos__V1__ExecutorInfo **execs = NULL;
  size_t ntasks = 0, nfws = 0, nexecs = 0;
  mesos_status st = MESOS_OK;
  if (a->id == NULL) {
    call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__REGISTER;
    ra.agent = &info;
    ra.version = (char *)"1.0.0";
    mesos__agent_volumes_reported(a, &ra.checkpointed_resources, &ra.n_checkpointed_resources);
    call.register_agent = &ra;
  } else {
    aid.value = a->id;
    info.id = &aid;
    call.agent_id = &aid;
    call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__REREGISTER;
    rr.agent = &info;
    rr.version = (char *)"1.0.0";
    /* What the master told this agent to keep: a master that lost its
     * registry learns the reservations and volumes back from it. */
    mesos__agent_volumes_reported(a, &rr.checkpointed_resources, &rr.n_checkpointed_resources);
    st = mesos__agent_tasks_report(a, &tasks, &ntasks, &fws, &nfws);
    /* Also the tasks that only have updates left to deliver (a previous
     * run's, after a restart): the master must not take them for unknown
     * and report them lost on its own. */
    if (st == MESOS_OK) st = mesos__agent_status_report(a, &tasks, &ntasks);
    /* The framework-supplied executors (custom and default; Mesos leaves
     * out the command executors it generates itself), so the master
     * accounts for them as it does after their launch. */
    if (st == MESOS_OK) st = mesos__agent_executors_report(a, &execs, &nexecs);
    if (st != MESOS_OK) {
      mesos__agent_tasks_report_free(tasks, ntasks);
      mesos__free(fws);
      mesos__free(execs);
      return mesos__err(err, st, "cannot list the tasks");
    }
    rr.executor_infos = execs;
    rr.n_executor_infos = nexecs;
    rr.tasks = tasks;
    rr.n_tasks = ntasks;
    rr.frameworks = fws;
    rr.n_frameworks = nfws;
    call.reregister_agent = &rr;
  }
  st = mesos__pb_pack(&call.base, 0, bytes, len, err);
  mesos__agent_tasks_report_free(tasks, ntasks);
  mesos__free(fws);
  mesos__free(execs);
  return st;
}

static void connect_now(mesos_agent *a) {
  if (a->closing || a->stream) return;
  uint8_t *bytes = NULL;
  size_t len = 0;
  mesos_error *e = NULL;
  mesos_status st = build_call(a, &bytes, &len, &e);
  if (st == MESOS_OK) {
    mesos__recordio_decoder_free(&a->dec);
    mesos__recordio_decoder_init(&a->dec, (size_t)16 << 20);
    a->registered = 0;
    a->stream_status = 0;
    mesos__http_headers h;
    mesos__http_headers_init(&h);
    mesos__http_headers_set(&h, "Content-Type", MEDIA_PROTOBUF);
    mesos__agent_auth_headers(a, &h);
    mesos__http_headers_set(&h, "Accept", MEDIA_PROTOBUF);
    mesos__http_client_request req;
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.url = a->master_url;
    req.headers = &h;
    req.body = (const char *)bytes;
    req.body_len = len;
    req.stream = 1;
    req.max_redirects = -1;
    mesos__http_client_cbs cbs = {stream_head, stream_body, stream_done};
    LOG_DEBUG("%s at %s", a->id ? "Re-registering" : "Registering", a->master_url);
    st = mesos__http_client_send(a->client, &req, &cbs, a, &a->stream, &e);
    mesos__http_headers_free(&h);
  }
  mesos__free(bytes);
  if (st != MESOS_OK) {
    char why[300];
    snprintf(why, sizeof why, "%s", e ? mesos_error_message(e) : mesos_status_str(st));
    mesos_error_free(e);
    a->stream = NULL;
    mesos__agent_link_reset(a, why);
    return;
  }
  /* Until REGISTERED arrives, the same watchdog guards against a master
   * that accepts the connection and never answers. */
  mesos_timer_start(a->ping_timeout, a->ping_timeout_ms ? a->ping_timeout_ms : DEFAULT_PING_TIMEOUT_MS, 0);
}

static void reconnect_cb(mesos_timer *t, void *ud) {
  (void)t;
  connect_now(ud);
}

static void ping_timeout_cb(mesos_timer *t, void *ud) {
  (void)t;
  mesos_agent *a = ud;
  char why[128];
  snprintf(why, sizeof why, "no event from the master for %.1f s", (double)a->ping_timeout_ms / 1000.0);
  mesos__agent_link_reset(a, why);
}

mesos_status mesos__agent_link_init(mesos_agent *a, struct mesos__tls_config *tls,
                                    mesos_error **err) {
  mesos_status st = mesos_timer_new(&a->reconnect, a->loop, reconnect_cb, a, err);
  if (st == MESOS_OK) st = mesos_timer_new(&a->ping_timeout, a->loop, ping_timeout_cb, a, err);
  mesos__http_pipe_options po;
  memset(&po, 0, sizeof po);
  po.tls = tls;
  po.content_type = MEDIA_PROTOBUF;
  if (st == MESOS_OK)
    st = mesos__http_pipe_new(&a->pipe, a->loop, a->master_url, &po, post_done, a, err);
  a->backoff_ms = a->backoff_factor_ms;
  return st;
}

void mesos__agent_link_start(mesos_agent *a) { connect_now(a); }

/* Drops the stream and its calls, and schedules the next attempt after a
 * random delay in [0, b] (b doubles after each attempt, from
 * --registration_backoff_factor up to a minute), as Mesos's agent does
 * while its registration goes unanswered: a master that is down is tried
 * about log2(downtime / factor) times, not once per factor (at 10,000
 * agents that was ~10,000 connection attempts every factor).  b starts
 * over at the factor on a registration, so whatever ends a registered
 * link (the event stream ending as the master goes away, a 409
 * "disconnected", a PING with connected=false, a 404 from a master that
 * lost us) is followed within the factor: a master back by then (a quick
 * restart) has the agent at once.  After a longer outage the agent comes
 * back within the ceiling b reached meanwhile: at most about twice the
 * downtime plus the factor, and never more than a minute (Mesos: the same
 * bound, as its retries also double blindly). */
static void link_reset(mesos_agent *a, const char *why) {
  mesos_timer_stop(a->ping_timeout);
  if (a->stream) {
    mesos__http_call *c = a->stream;
    a->stream = NULL;
    mesos__http_call_cancel(c);
  }
  /* Calls of this registration (see the top). */
  mesos__http_pipe_reset(a->pipe);
  a->registered = 0;
  if (a->closing) return;
  if (a->backoff_ms < 10) a->backoff_ms = 10; /* never a busy loop */
  uint64_t delay = mesos__backoff_draw(&a->backoff_ms, MESOS__AGENT_MAX_BACKOFF_MS);
  LOG_WARN("Lost the master (%s); %s in %llu ms", why,
           a->id ? "re-registering" : "registering", (unsigned long long)delay);
  mesos_timer_start(a->reconnect, delay, 0);
}

void mesos__agent_link_reset(mesos_agent *a, const char *why) { link_reset(a, why); }

void mesos__agent_link_stop(mesos_agent *a) {
  if (a->stream) {
    mesos__http_call *c = a->stream;
    a->stream = NULL;
    mesos__http_call_cancel(c);
  }
  mesos_timer_stop(a->reconnect);
  mesos_timer_stop(a->ping_timeout);
  mesos__http_pipe_free(a->pipe);
  a->pipe = NULL;
}
