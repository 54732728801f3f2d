/*
 * The v1 scheduler API client: one subscription stream plus short calls.
 *
 * States:
 *   WAIT         no subscription; the retry timer will start one
 *   SUBSCRIBING  SUBSCRIBE sent, SUBSCRIBED not seen yet
 *   SUBSCRIBED   events flow, calls may be sent
 *   STOPPED      an ERROR event or TEARDOWN ended the framework for this
 *                handle; nothing is retried
 *
 * Why the pieces are the way they are:
 *  - The stream and the calls use one HTTP client: its keep-alive pool
 *    gives calls their own reused connections, never the stream's (the
 *    spec forbids calls on the subscription connection, and the client
 *    never pipelines).
 *  - Calls go to the URL that answered SUBSCRIBE (after redirects): that is
 *    the leader holding our Mesos-Stream-Id; another master would refuse
 *    them.
 *  - Liveness is our own timer, re-armed by every byte of the stream,
 *    because only SUBSCRIBED tells how often heartbeats come.
 *  - Events are decoded once here (we need SUBSCRIBED's framework id and
 *    interval, and ERROR) and handed on as protobuf; protobuf streams are
 *    passed through byte for byte.
 *  - Re-entrancy: user callbacks may free the scheduler.  Every entry from
 *    the loop counts `depth`; a free inside a callback closes everything
 *    at once (so no callback runs after it) but releases the struct only
 *    when the outermost entry unwinds.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/list.h"
#include "base/log.h"
#include "codec/json.h"
#include "codec/negotiate.h"
#include "codec/pb.h"
#include "codec/recordio.h"
#include "http/client.h"
#include "http/tls.h"
#include "http/url.h"
#include "mesos/scheduler.h"
#include "mesos/v1/scheduler.pb-c.h"
#include "scheduler/scheduler_int.h"

/* Defaults, and why:
 *  - backoff 500 ms .. 30 s: a restarting master is back within a second
 *    or two, so the first retries are quick; 30 s caps the load a fleet of
 *    schedulers puts on a master that stays down;
 *  - 5 missed heartbeats: the Mesos documentation's advice;
 *  - 15 s heartbeat until SUBSCRIBED says otherwise: Mesos' default;
 *  - 15 s for the SUBSCRIBE head: masters send stream headers at once, and
 *    clients in the field give up after a few seconds;
 *  - 64 KiB of a refused SUBSCRIBE's body kept for the message: error
 *    bodies are one sentence;
 *  - 64 masters, 2 KiB per URL: far beyond any real HA setup, small enough
 *    that a bad string cannot make us allocate much. */
#define BACKOFF_MIN_MS 500u
#define BACKOFF_MAX_MS 30000u
#define HEARTBEAT_MISSES 5u
#define DEFAULT_HEARTBEAT_MS 15000u
#define SUBSCRIBE_HEAD_TIMEOUT_MS 15000u
#define MAX_ERROR_BODY 1024u
#define MAX_MASTERS 64u
#define MAX_MASTER_URL 2048u
#define API_PATH "/api/v1/scheduler"
/* Calls in flight at once, and waiting behind them.  Each call in flight
 * holds a connection of its own (HTTP/1.1 without pipelining), so a
 * scheduler answering a big OFFERS event with a thousand DECLINEs must not
 * open a thousand sockets on the master: 8 connections hide the round
 * trip, and the master handles calls one at a time on its loop anyway.
 * 65536 waiting calls bound the memory a runaway caller can pin. */
#define MAX_INFLIGHT_CALLS 8u
#define MAX_QUEUED_CALLS 65536u

typedef enum { S_WAIT, S_SUBSCRIBING, S_SUBSCRIBED, S_STOPPED } sched_state;

struct mesos_scheduler {
  mesos_loop *loop;
  mesos__http_client *http;
  mesos_timer *retry_timer;
  mesos_timer *hb_timer;

  char **masters; /* "http://host:port/api/v1/scheduler" */
  size_t n_masters, next_master;
  mesos__media media;
  Mesos__V1__FrameworkInfo *info; /* as given; its id is ours to replace */

  uint32_t backoff_min_ms, backoff_max_ms, backoff_ms, misses;
  void (*on_connected)(mesos_scheduler *, void *);
  void (*on_disconnected)(mesos_scheduler *, const char *, void *);
  void (*on_event)(mesos_scheduler *, const char *, const uint8_t *, size_t, void *);
  void (*on_offers)(mesos_scheduler *, const mesos_scheduler_offer *, size_t, void *);
  void (*on_update)(mesos_scheduler *, const mesos_scheduler_task_status *, void *);
  int auto_ack;
  /* The update on_update is looking at, to acknowledge when it returns
   * (auto_ack), or earlier when it calls TEARDOWN. */
  const mesos_scheduler_task_status *ack_pending;
  void *ud;

  sched_state state;
  mesos__http_call *sub;      /* the SUBSCRIBE call, while it lives */
  int sub_http_status;        /* its response status, 0 before the head */
  mesos__media event_media;   /* encoding of the stream's records */
  mesos__recordio_decoder dec;
  int dec_live;
  mesos__buf error_body;      /* body of a refused SUBSCRIBE */
  char *leader;               /* URL that answered SUBSCRIBE */
  char *stream_id;
  char *framework_id;
  uint64_t heartbeat_ms;
  char *cancel_reason;        /* why we cancelled the stream ourselves */
  char *stop_reason;          /* set once the scheduler is STOPPED */
  int teardown_pending;
  uint64_t stream_gen;        /* counts SUBSCRIBEDs: a queued call's stream */
  unsigned inflight;          /* calls sent, not answered */
  mesos__list queue;          /* call_ctx waiting for a free slot */
  unsigned n_queued;

  unsigned depth;
  int freeing;
};

/* ------------------------------------------------------------ helpers */

static void enter(mesos_scheduler *s) { s->depth++; }

static void destroy(mesos_scheduler *s);

/* Leaves a loop entry; returns 1 if the scheduler is gone (or going). */
static int leave(mesos_scheduler *s) {
  int gone = s->freeing;
  if (--s->depth == 0 && s->freeing) destroy(s);
  return gone;
}

static void set_str(char **slot, const char *v) {
  mesos__free(*slot);
  *slot = v ? mesos__strdup(v) : NULL;
}

/* Encodes a Call (or any message) in the scheduler's wire encoding. */
static mesos_status encode_msg(const mesos_scheduler *s, const ProtobufCMessage *m,
                               mesos__buf *out, mesos_error **err) {
  mesos__buf_init(out, MESOS__PB_MAX_SIZE);
  if (s->media == MESOS__MEDIA_JSON) return mesos__json_encode(m, out, err);
  return mesos__pb_pack_buf(m, out, err);
}

static void notify_disconnected(mesos_scheduler *s, const char *reason) {
  LOG_INFO("scheduler: disconnected: %s", reason);
  if (s->on_disconnected && !s->freeing) s->on_disconnected(s, reason, s->ud);
}

/* ------------------------------------------------------------ subscription */

static void subscribe_start(mesos_scheduler *s);
static void fail_queued(mesos_scheduler *s);

static void schedule_retry(mesos_scheduler *s) {
  s->state = S_WAIT;
  uint32_t wait = s->backoff_ms;
  s->backoff_ms = wait >= s->backoff_max_ms / 2 ? s->backoff_max_ms : wait * 2;
  if (s->backoff_ms < s->backoff_min_ms) s->backoff_ms = s->backoff_min_ms;
  mesos_timer_start(s->retry_timer, wait, 0);
}

static void arm_heartbeat(mesos_scheduler *s) {
  uint64_t ms = s->heartbeat_ms * s->misses;
  mesos_timer_start(s->hb_timer, ms, 0);
}

/* Ends the current stream from our side; on_done follows from the loop. */
static void cancel_stream(mesos_scheduler *s, const char *why) {
  if (s->sub == NULL) return;
  if (s->cancel_reason == NULL) set_str(&s->cancel_reason, why);
  mesos__http_call *c = s->sub;
  mesos__http_call_cancel(c);
}

static void stop(mesos_scheduler *s, const char *why) {
  s->state = S_STOPPED;
  if (s->stop_reason == NULL) set_str(&s->stop_reason, why);
  mesos_timer_stop(s->retry_timer);
  mesos_timer_stop(s->hb_timer);
}

static const char *event_type_name(int type) {
  const ProtobufCEnumValue *v =
      protobuf_c_enum_descriptor_get_value(&mesos__v1__scheduler__event__type__descriptor, type);
  return v ? v->name : "UNKNOWN";
}

/* The implicit acknowledgement of the update on_update is looking at, if
 * one is due and the subscription still takes calls. */
static void send_pending_ack(mesos_scheduler *s) {
  const mesos_scheduler_task_status *st = s->ack_pending;
  s->ack_pending = NULL;
  if (st == NULL || s->state != S_SUBSCRIBED || s->teardown_pending) return;
  mesos_error *e = NULL;
  if (mesos_scheduler_acknowledge(s, st->agent_id, st->task_id, st->uuid, &e) != MESOS_OK) {
    LOG_WARN("scheduler: implicit acknowledgement of %s failed: %s", st->task_id,
             mesos_error_message(e));
    mesos_error_free(e);
  }
}

/* The typed callbacks of an OFFERS or UPDATE event (options version 2),
 * and the implicit acknowledgement.  Returns -1 when the scheduler was
 * freed inside a callback. */
static int typed_event(mesos_scheduler *s, const Mesos__V1__Scheduler__Event *ev, int type) {
  mesos_error *e = NULL;
  if (type == MESOS__V1__SCHEDULER__EVENT__TYPE__OFFERS && s->on_offers) {
    mesos_scheduler_offer *offers = NULL;
    size_t n = 0;
    if (mesos__scheduler_offers_of(ev, &offers, &n, &e) != MESOS_OK) {
      /* Only memory or size limits get here: the event decoded already. */
      LOG_WARN("scheduler: OFFERS not passed to on_offers: %s", mesos_error_message(e));
      mesos_error_free(e);
      return 0;
    }
    if (n > 0) s->on_offers(s, offers, n, s->ud);
    mesos__free(offers);
    return s->freeing ? -1 : 0;
  }
  if (type != MESOS__V1__SCHEDULER__EVENT__TYPE__UPDATE || (!s->on_update && !s->auto_ack))
    return 0;
  mesos_scheduler_task_status *st = NULL;
  if (mesos__scheduler_status_of(ev, &st, &e) != MESOS_OK) {
    LOG_WARN("scheduler: UPDATE not passed on: %s", mesos_error_message(e));
    mesos_error_free(e);
    return 0;
  }
  /* Acknowledged after the callback, as the old driver did: an update is
   * acknowledged only once the scheduler has seen it.  A TEARDOWN sent
   * from the callback sends it first (send_call), so the update that
   * ended a framework's work is acknowledged too; a scheduler freed or
   * stopped meanwhile has nothing left to acknowledge for. */
  s->ack_pending = s->auto_ack && st->has_uuid && st->agent_id ? st : NULL;
  if (s->on_update) s->on_update(s, st, s->ud);
  int rc = s->freeing ? -1 : 0;
  if (rc == 0) send_pending_ack(s);
  s->ack_pending = NULL;
  mesos__free(st);
  return rc;
}

/* One record of the stream.  Returns 0 to go on, -1 when the stream must
 * stop being read (cancelled, stopped or freed). */
static int handle_record(mesos_scheduler *s, const uint8_t *rec, size_t len) {
  ProtobufCMessage *msg = NULL;
  mesos_error *e = NULL;
  mesos_status st;
  if (s->event_media == MESOS__MEDIA_JSON)
    st = mesos__json_decode(&mesos__v1__scheduler__event__descriptor, (const char *)rec, len,
                            NULL, &msg, &e);
  else
    st = mesos__pb_unpack(&mesos__v1__scheduler__event__descriptor, rec, len, 0, 0, &msg, &e);
  if (st != MESOS_OK) {
    char why[512];
    snprintf(why, sizeof why, "undecodable event from the master: %s", mesos_error_message(e));
    mesos_error_free(e);
    cancel_stream(s, why);
    return -1;
  }
  Mesos__V1__Scheduler__Event *ev = (Mesos__V1__Scheduler__Event *)msg;
  const uint8_t *pb = rec;
  size_t pb_len = len;
  mesos__buf packed;
  mesos__buf_init(&packed, MESOS__PB_MAX_SIZE);
  if (s->event_media == MESOS__MEDIA_JSON) {
    if (mesos__pb_pack_buf(msg, &packed, &e) != MESOS_OK) {
      char why[512];
      snprintf(why, sizeof why, "cannot re-encode an event: %s", mesos_error_message(e));
      mesos_error_free(e);
      mesos__pb_free(msg);
      mesos__buf_free(&packed);
      cancel_stream(s, why);
      return -1;
    }
    pb = (const uint8_t *)packed.data;
    pb_len = packed.len;
  }
  int type = ev->has_type ? (int)ev->type : 0;
  int rc = 0;
  if (type == MESOS__V1__SCHEDULER__EVENT__TYPE__SUBSCRIBED && s->state == S_SUBSCRIBING) {
    Mesos__V1__Scheduler__Event__Subscribed *sub = ev->subscribed;
    if (sub == NULL || sub->framework_id == NULL || sub->framework_id->value == NULL) {
      cancel_stream(s, "SUBSCRIBED event without a framework id");
      rc = -1;
      goto out;
    }
    set_str(&s->framework_id, sub->framework_id->value);
    if (s->framework_id == NULL) {
      cancel_stream(s, "out of memory");
      rc = -1;
      goto out;
    }
    double hb = sub->has_heartbeat_interval_seconds ? sub->heartbeat_interval_seconds : 15.0;
    /* A silly interval from the master must not make us spin or never
     * notice a dead stream: clamp to 100 ms .. 1 day. */
    if (!(hb >= 0.1)) hb = 0.1;
    if (hb > 86400.0) hb = 86400.0;
    s->heartbeat_ms = (uint64_t)(hb * 1000.0);
    arm_heartbeat(s);
    s->state = S_SUBSCRIBED;
    s->stream_gen++;
    s->backoff_ms = s->backoff_min_ms;
    LOG_INFO("scheduler: subscribed as framework %s at %s", s->framework_id, s->leader);
    if (s->on_connected) s->on_connected(s, s->ud);
    if (s->freeing) {
      rc = -1;
      goto out;
    }
  }
  if (s->on_event) s->on_event(s, event_type_name(type), pb, pb_len, s->ud);
  if (s->freeing || typed_event(s, ev, type) != 0) {
    rc = -1;
    goto out;
  }
  if (type == MESOS__V1__SCHEDULER__EVENT__TYPE__ERROR) {
    char why[600];
    snprintf(why, sizeof why, "the master sent ERROR: %.500s",
             ev->error && ev->error->message ? ev->error->message : "(no message)");
    /* Framework failed over to another instance, removed, or refused:
     * retrying with the same id cannot succeed and would fight the new
     * instance. */
    stop(s, why);
    cancel_stream(s, why);
    rc = -1;
  }
out:
  mesos__buf_free(&packed);
  mesos__pb_free(msg);
  return rc;
}

static void sub_on_head(mesos__http_call *call, const mesos__http_response *resp, void *ud) {
  mesos_scheduler *s = ud;
  enter(s);
  s->sub_http_status = resp->status;
  if (resp->status == 200) {
    set_str(&s->leader, resp->url);
    set_str(&s->stream_id, mesos__http_headers_get(&resp->headers, "Mesos-Stream-Id"));
    const char *ct = mesos__http_headers_get(&resp->headers, "Content-Type");
    mesos__media m = ct ? mesos__media_parse(ct, strlen(ct)) : MESOS__MEDIA_NONE;
    s->event_media = (m == MESOS__MEDIA_JSON || m == MESOS__MEDIA_PROTOBUF) ? m : s->media;
    if (mesos__http_headers_get(&resp->headers, "Mesos-Stream-Id") == NULL)
      cancel_stream(s, "SUBSCRIBE answered without Mesos-Stream-Id");
    else if (s->stream_id == NULL || s->leader == NULL)
      cancel_stream(s, "out of memory");
    else
      arm_heartbeat(s);
  }
  leave(s);
}

static void sub_on_body(mesos__http_call *call, const char *data, size_t len, void *ud) {
  mesos_scheduler *s = ud;
  enter(s);
  if (s->sub_http_status != 200) {
    size_t room = MAX_ERROR_BODY - s->error_body.len;
    if (room > 0) mesos__buf_append(&s->error_body, data, len < room ? len : room);
    leave(s);
    return;
  }
  if (s->state == S_SUBSCRIBED) arm_heartbeat(s);
  mesos_error *e = NULL;
  if (mesos__recordio_decoder_feed(&s->dec, data, len, &e) != MESOS_OK) {
    mesos_error_free(e);
    cancel_stream(s, "event stream framing lost");
    leave(s);
    return;
  }
  for (;;) {
    const uint8_t *rec;
    size_t rlen;
    mesos_status st = mesos__recordio_decoder_next(&s->dec, &rec, &rlen, &e);
    if (st == MESOS_EAGAIN) break;
    if (st != MESOS_OK) {
      char why[512];
      snprintf(why, sizeof why, "bad event stream: %s", mesos_error_message(e));
      mesos_error_free(e);
      cancel_stream(s, why);
      break;
    }
    if (handle_record(s, rec, rlen) != 0) break;
  }
  leave(s);
}

static void sub_on_done(mesos__http_call *call, mesos_status status,
                        const mesos__http_response *resp, const mesos_error *err, void *ud) {
  mesos_scheduler *s = ud;
  enter(s);
  s->sub = NULL;
  if (s->freeing) {
    leave(s);
    return;
  }
  mesos_timer_stop(s->hb_timer);
  char why[1400];
  if (s->stop_reason) {
    snprintf(why, sizeof why, "%s", s->stop_reason);
  } else if (s->cancel_reason) {
    snprintf(why, sizeof why, "%s", s->cancel_reason);
  } else if (s->sub_http_status == 200) {
    if (status == MESOS_OK) snprintf(why, sizeof why, "the master closed the event stream");
    else snprintf(why, sizeof why, "event stream broken: %.1300s", mesos_error_message(err));
  } else if (status == MESOS_OK || s->sub_http_status != 0) {
    int code = resp ? resp->status : s->sub_http_status;
    snprintf(why, sizeof why, "SUBSCRIBE answered HTTP %d: %.*s", code,
             (int)(s->error_body.len > 1000 ? 1000 : s->error_body.len),
             s->error_body.data ? s->error_body.data : "");
  } else {
    snprintf(why, sizeof why, "SUBSCRIBE failed: %.1300s", mesos_error_message(err));
  }
  set_str(&s->cancel_reason, NULL);
  set_str(&s->stream_id, NULL);
  mesos__buf_clear(&s->error_body);
  if (s->dec_live) {
    mesos__recordio_decoder_free(&s->dec);
    s->dec_live = 0;
  }
  if (s->teardown_pending) {
    /* The master closes the stream when it has torn the framework down;
     * the TEARDOWN answer reports the end. */
    s->state = S_STOPPED;
    leave(s);
    return;
  }
  if (s->state != S_STOPPED) schedule_retry(s);
  /* Their stream id died with the stream. */
  fail_queued(s);
  if (!s->freeing) notify_disconnected(s, why);
  leave(s);
}

static void subscribe_start(mesos_scheduler *s) {
  const char *url = s->masters[s->next_master];
  s->next_master = (s->next_master + 1) % s->n_masters;

  Mesos__V1__Scheduler__Call call = MESOS__V1__SCHEDULER__CALL__INIT;
  Mesos__V1__Scheduler__Call__Subscribe sub = MESOS__V1__SCHEDULER__CALL__SUBSCRIBE__INIT;
  Mesos__V1__FrameworkInfo info = *s->info; /* shallow: only `id` differs */
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  if (s->framework_id) {
    fid.value = s->framework_id;
    info.id = &fid;
    call.framework_id = &fid;
  } else if (info.id) {
    call.framework_id = info.id;
  }
  sub.framework_info = &info;
  call.has_type = 1;
  call.type = MESOS__V1__SCHEDULER__CALL__TYPE__SUBSCRIBE;
  call.subscribe = &sub;

  mesos_error *e = NULL;
  mesos__buf body;
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  const char *mt = mesos__media_name(s->media);
  mesos_status st = encode_msg(s, &call.base, &body, &e);
  if (st == MESOS_OK) st = mesos__http_headers_set(&h, "Content-Type", mt);
  if (st == MESOS_OK) st = mesos__http_headers_set(&h, "Accept", mt);
  if (st == MESOS_OK) {
    mesos__http_client_request req = {0};
    req.method = "POST";
    req.url = url;
    req.headers = &h;
    req.body = body.data;
    req.body_len = body.len;
    req.stream = 1;
    req.timeout_ms = SUBSCRIBE_HEAD_TIMEOUT_MS;
    mesos__http_client_cbs cbs = {sub_on_head, sub_on_body, sub_on_done};
    mesos__recordio_decoder_init(&s->dec, 0);
    s->dec_live = 1;
    s->sub_http_status = 0;
    s->state = S_SUBSCRIBING;
    st = mesos__http_client_send(s->http, &req, &cbs, s, &s->sub, &e);
    if (st != MESOS_OK) {
      s->sub = NULL;
      mesos__recordio_decoder_free(&s->dec);
      s->dec_live = 0;
    }
  }
  mesos__http_headers_free(&h);
  mesos__buf_free(&body);
  if (st == MESOS_OK) {
    LOG_DEBUG("scheduler: subscribing at %s", url);
    return;
  }
  char why[1200];
  snprintf(why, sizeof why, "SUBSCRIBE to %s not sent: %.1000s", url, mesos_error_message(e));
  mesos_error_free(e);
  schedule_retry(s);
  notify_disconnected(s, why);
}

static void retry_fire(mesos_timer *t, void *ud) {
  mesos_scheduler *s = ud;
  enter(s);
  if (s->state == S_WAIT && s->sub == NULL) subscribe_start(s);
  leave(s);
}

static void heartbeat_fire(mesos_timer *t, void *ud) {
  mesos_scheduler *s = ud;
  enter(s);
  char why[160];
  snprintf(why, sizeof why, "no event from the master for %llu ms (%u heartbeat intervals)",
           (unsigned long long)(s->heartbeat_ms * s->misses), s->misses);
  cancel_stream(s, why);
  leave(s);
}

/* ------------------------------------------------------------ calls */

typedef struct call_ctx {
  mesos__list link;     /* in s->queue while waiting */
  mesos_scheduler *s;
  mesos_scheduler_call_fn cb;
  void *ud;
  int teardown;
  uint64_t stream_gen;  /* the subscription it was encoded for */
  char *body;           /* encoded call, until sent */
  size_t body_len;
  char type[40];
} call_ctx;

static void ctx_free(call_ctx *c) {
  mesos__free(c->body);
  mesos__free(c);
}

/* The end of one call, sent or not: tell the user, and for TEARDOWN stop
 * the scheduler. */
static void call_complete(mesos_scheduler *s, call_ctx *c, mesos_status out, int http,
                          const char *msg) {
  if (out != MESOS_OK && c->cb == NULL)
    LOG_WARN("scheduler: %s call failed: %s%d: %s", c->type, http ? "HTTP " : "status ",
             http ? http : (int)out, msg);
  if (c->cb) c->cb(s, out, http, msg, c->ud);
  if (c->teardown && !s->freeing) {
    char why[1200];
    if (out == MESOS_OK) snprintf(why, sizeof why, "torn down");
    else snprintf(why, sizeof why, "TEARDOWN failed (%s%d): %.1000s", http ? "HTTP " : "status ",
                  http ? http : (int)out, msg);
    s->teardown_pending = 0;
    stop(s, why);
    if (s->sub) cancel_stream(s, why);
    else notify_disconnected(s, why);
  }
  ctx_free(c);
}

static void call_on_done(mesos__http_call *call, mesos_status status,
                         const mesos__http_response *resp, const mesos_error *err, void *ud);

/* Posts a call to the leader.  On failure nothing was sent. */
static mesos_status dispatch(mesos_scheduler *s, call_ctx *c, mesos_error **err) {
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  const char *mt = mesos__media_name(s->media);
  mesos_status st = MESOS_OK;
  if (mesos__http_headers_set(&h, "Content-Type", mt) != MESOS_OK ||
      mesos__http_headers_set(&h, "Accept", mt) != MESOS_OK ||
      mesos__http_headers_set(&h, "Mesos-Stream-Id", s->stream_id) != MESOS_OK)
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  if (st == MESOS_OK) {
    mesos__http_client_request req = {0};
    req.method = "POST";
    req.url = s->leader;
    req.headers = &h;
    req.body = c->body;
    req.body_len = c->body_len;
    /* A master that moved does not redirect our stream id with us. */
    req.max_redirects = -1;
    mesos__http_client_cbs cbs = {NULL, NULL, call_on_done};
    st = mesos__http_client_send(s->http, &req, &cbs, c, NULL, err);
  }
  mesos__http_headers_free(&h);
  if (st == MESOS_OK) {
    s->inflight++;
    mesos__free(c->body); /* the client copied it */
    c->body = NULL;
  }
  return st;
}

/* Sends queued calls while the window has room.  Runs inside loop
 * callbacks only, so it may call user callbacks. */
static void pump(mesos_scheduler *s) {
  while (!s->freeing && s->inflight < MAX_INFLIGHT_CALLS && !mesos__list_empty(&s->queue)) {
    call_ctx *c = mesos__container_of(s->queue.next, call_ctx, link);
    mesos__list_remove(&c->link);
    s->n_queued--;
    mesos_error *e = NULL;
    if (c->stream_gen != s->stream_gen || s->state != S_SUBSCRIBED) {
      call_complete(s, c, MESOS_ECLOSED, 0, "the subscription ended before the call was sent");
      continue;
    }
    if (dispatch(s, c, &e) != MESOS_OK) {
      call_complete(s, c, mesos_error_code(e), 0, mesos_error_message(e));
      mesos_error_free(e);
    }
  }
}

static void call_on_done(mesos__http_call *call, mesos_status status,
                         const mesos__http_response *resp, const mesos_error *err, void *ud) {
  call_ctx *c = ud;
  mesos_scheduler *s = c->s;
  enter(s);
  s->inflight--;
  if (s->freeing) {
    ctx_free(c);
    leave(s);
    return;
  }
  int http = resp ? resp->status : 0;
  char msg[1100];
  mesos_status out;
  if (status == MESOS_OK && (http == 202 || http == 200)) {
    out = MESOS_OK;
    msg[0] = '\0';
  } else if (status == MESOS_OK) {
    out = MESOS_EPROTO;
    snprintf(msg, sizeof msg, "%.*s", (int)(resp->body_len > 1000 ? 1000 : resp->body_len),
             resp->body ? resp->body : "");
  } else {
    out = status;
    http = 0;
    snprintf(msg, sizeof msg, "%.1000s", mesos_error_message(err));
  }
  call_complete(s, c, out, http, msg);
  pump(s);
  leave(s);
}

/* Fails every queued call: their stream id died with the subscription. */
static void fail_queued(mesos_scheduler *s) {
  while (!s->freeing && !mesos__list_empty(&s->queue)) {
    call_ctx *c = mesos__container_of(s->queue.next, call_ctx, link);
    mesos__list_remove(&c->link);
    s->n_queued--;
    call_complete(s, c, MESOS_ECLOSED, 0, "the subscription ended before the call was sent");
  }
}

/* Sends `call` (borrowed; its framework_id is replaced for the duration),
 * or queues it behind the calls in flight. */
static mesos_status send_call(mesos_scheduler *s, Mesos__V1__Scheduler__Call *call,
                              mesos_scheduler_call_fn cb, void *cb_ud, int teardown,
                              mesos_error **err) {
  if (!call->has_type || call->type == MESOS__V1__SCHEDULER__CALL__TYPE__UNKNOWN)
    return mesos__err(err, MESOS_EINVAL, "scheduler call: `type` is not set");
  if (call->type == MESOS__V1__SCHEDULER__CALL__TYPE__SUBSCRIBE)
    return mesos__err(err, MESOS_EINVAL,
                      "scheduler call: SUBSCRIBE is sent by the library itself");
  /* TEARDOWN from inside on_update: that update's implicit
   * acknowledgement goes out before it (see typed_event). */
  if (teardown && s->ack_pending) send_pending_ack(s);
  if (s->state == S_STOPPED || s->teardown_pending)
    return mesos__err(err, MESOS_ECLOSED, "scheduler stopped: %s",
                      s->stop_reason ? s->stop_reason : "teardown in progress");
  if (s->state != S_SUBSCRIBED)
    return mesos__err(err, MESOS_EAGAIN, "scheduler call: not subscribed to a master yet");
  if (s->n_queued >= MAX_QUEUED_CALLS)
    return mesos__err(err, MESOS_ELIMIT,
                      "scheduler call: %u calls already wait for the master to answer",
                      MAX_QUEUED_CALLS);
  const ProtobufCEnumValue *tv =
      protobuf_c_enum_descriptor_get_value(&mesos__v1__scheduler__call__type__descriptor,
                                           (int)call->type);
  call_ctx *c = MESOS__NEW(call_ctx);
  if (c == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos__list_init(&c->link);
  c->s = s;
  c->cb = cb;
  c->ud = cb_ud;
  c->teardown = teardown;
  c->stream_gen = s->stream_gen;
  snprintf(c->type, sizeof c->type, "%s", tv ? tv->name : "UNKNOWN");

  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  fid.value = s->framework_id;
  Mesos__V1__FrameworkID *saved = call->framework_id;
  call->framework_id = &fid;
  mesos__buf body;
  mesos_status st = encode_msg(s, &call->base, &body, err);
  call->framework_id = saved;
  if (st == MESOS_OK) {
    c->body = mesos__buf_detach(&body, &c->body_len);
    if (c->body == NULL) st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  mesos__buf_free(&body);
  if (st == MESOS_OK) {
    if (s->inflight < MAX_INFLIGHT_CALLS) {
      st = dispatch(s, c, err);
    } else {
      mesos__list_insert_tail(&s->queue, &c->link);
      s->n_queued++;
    }
  }
  if (st != MESOS_OK) {
    ctx_free(c);
    return st;
  }
  if (teardown) s->teardown_pending = 1;
  return MESOS_OK;
}

/* send_call for a Call the user gave (bytes or JSON), freed here. */
static mesos_status send_decoded(mesos_scheduler *s, Mesos__V1__Scheduler__Call *call,
                                 mesos_scheduler_call_fn cb, void *cb_ud, mesos_error **err) {
  int teardown = call->has_type && call->type == MESOS__V1__SCHEDULER__CALL__TYPE__TEARDOWN;
  mesos_status st = send_call(s, call, cb, cb_ud, teardown, err);
  mesos__pb_free(call);
  return st;
}

MESOS_EXTERN(mesos_status) mesos_scheduler_call(mesos_scheduler *s, const uint8_t *data,
                                                size_t len, mesos_scheduler_call_fn cb,
                                                void *cb_ud, mesos_error **err) {
  if (s == NULL || (data == NULL && len > 0))
    return mesos__err(err, MESOS_EINVAL, "mesos_scheduler_call: NULL argument");
  ProtobufCMessage *msg = NULL;
  mesos_error *e = NULL;
  if (mesos__pb_unpack(&mesos__v1__scheduler__call__descriptor, data ? data : (const uint8_t *)"",
                       len, 0, 0, &msg, &e) != MESOS_OK)
    return mesos__err_wrap(err, MESOS_EINVAL, e,
                           "scheduler call: not a mesos.v1.scheduler.Call: %s",
                           mesos_error_message(e));
  return send_decoded(s, (Mesos__V1__Scheduler__Call *)msg, cb, cb_ud, err);
}

MESOS_EXTERN(mesos_status) mesos_scheduler_call_json(mesos_scheduler *s, const char *json,
                                                     mesos_scheduler_call_fn cb, void *cb_ud,
                                                     mesos_error **err) {
  if (s == NULL || json == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_scheduler_call_json: NULL argument");
  ProtobufCMessage *msg = NULL;
  mesos_error *e = NULL;
  if (mesos__json_decode(&mesos__v1__scheduler__call__descriptor, json, strlen(json), NULL, &msg,
                         &e) != MESOS_OK)
    return mesos__err_wrap(err, MESOS_EINVAL, e, "scheduler call: bad JSON Call: %s",
                           mesos_error_message(e));
  return send_decoded(s, (Mesos__V1__Scheduler__Call *)msg, cb, cb_ud, err);
}

static mesos_status typed(mesos_scheduler *s, Mesos__V1__Scheduler__Call *call, int teardown,
                          mesos_error **err) {
  if (s == NULL) return mesos__err(err, MESOS_EINVAL, "scheduler is NULL");
  return send_call(s, call, NULL, NULL, teardown, err);
}

MESOS_EXTERN(mesos_status) mesos_scheduler_decline(mesos_scheduler *s, const char *offer_id,
                                                   double refuse_seconds, mesos_error **err) {
  if (offer_id == NULL) return mesos__err(err, MESOS_EINVAL, "decline: offer_id is NULL");
  Mesos__V1__Scheduler__Call call = MESOS__V1__SCHEDULER__CALL__INIT;
  Mesos__V1__Scheduler__Call__Decline d = MESOS__V1__SCHEDULER__CALL__DECLINE__INIT;
  Mesos__V1__OfferID oid = MESOS__V1__OFFER_ID__INIT, *oids[1] = {&oid};
  Mesos__V1__Filters f = MESOS__V1__FILTERS__INIT;
  oid.value = (char *)offer_id;
  d.n_offer_ids = 1;
  d.offer_ids = oids;
  if (refuse_seconds >= 0 && isfinite(refuse_seconds)) {
    f.has_refuse_seconds = 1;
    f.refuse_seconds = refuse_seconds;
    d.filters = &f;
  }
  call.has_type = 1;
  call.type = MESOS__V1__SCHEDULER__CALL__TYPE__DECLINE;
  call.decline = &d;
  return typed(s, &call, 0, err);
}

MESOS_EXTERN(mesos_status) mesos_scheduler_acknowledge(mesos_scheduler *s, const char *agent_id,
                                                       const char *task_id,
                                                       const uint8_t uuid[16],
                                                       mesos_error **err) {
  if (agent_id == NULL || task_id == NULL || uuid == NULL)
    return mesos__err(err, MESOS_EINVAL, "acknowledge: agent_id, task_id and uuid are required");
  Mesos__V1__Scheduler__Call call = MESOS__V1__SCHEDULER__CALL__INIT;
  Mesos__V1__Scheduler__Call__Acknowledge a = MESOS__V1__SCHEDULER__CALL__ACKNOWLEDGE__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  aid.value = (char *)agent_id;
  tid.value = (char *)task_id;
  a.agent_id = &aid;
  a.task_id = &tid;
  a.uuid.data = (uint8_t *)uuid;
  a.uuid.len = 16;
  call.has_type = 1;
  call.type = MESOS__V1__SCHEDULER__CALL__TYPE__ACKNOWLEDGE;
  call.acknowledge = &a;
  return typed(s, &call, 0, err);
}

MESOS_EXTERN(mesos_status) mesos_scheduler_reconcile(mesos_scheduler *s, const char *task_id,
                                                     const char *agent_id, mesos_error **err) {
  Mesos__V1__Scheduler__Call call = MESOS__V1__SCHEDULER__CALL__INIT;
  Mesos__V1__Scheduler__Call__Reconcile r = MESOS__V1__SCHEDULER__CALL__RECONCILE__INIT;
  Mesos__V1__Scheduler__Call__Reconcile__Task t =
      MESOS__V1__SCHEDULER__CALL__RECONCILE__TASK__INIT,
      *tp[1] = {&t};
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  if (task_id) {
    tid.value = (char *)task_id;
    t.task_id = &tid;
    if (agent_id) {
      aid.value = (char *)agent_id;
      t.agent_id = &aid;
    }
    r.n_tasks = 1;
    r.tasks = tp;
  }
  call.has_type = 1;
  call.type = MESOS__V1__SCHEDULER__CALL__TYPE__RECONCILE;
  call.reconcile = &r;
  return typed(s, &call, 0, err);
}

MESOS_EXTERN(mesos_status) mesos_scheduler_kill(mesos_scheduler *s, const char *task_id,
                                                const char *agent_id, mesos_error **err) {
  if (task_id == NULL) return mesos__err(err, MESOS_EINVAL, "kill: task_id is NULL");
  Mesos__V1__Scheduler__Call call = MESOS__V1__SCHEDULER__CALL__INIT;
  Mesos__V1__Scheduler__Call__Kill k = MESOS__V1__SCHEDULER__CALL__KILL__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  tid.value = (char *)task_id;
  k.task_id = &tid;
  if (agent_id) {
    aid.value = (char *)agent_id;
    k.agent_id = &aid;
  }
  call.has_type = 1;
  call.type = MESOS__V1__SCHEDULER__CALL__TYPE__KILL;
  call.kill = &k;
  return typed(s, &call, 0, err);
}

static mesos_status bare_call(mesos_scheduler *s, Mesos__V1__Scheduler__Call__Type type,
                              mesos_error **err) {
  Mesos__V1__Scheduler__Call call = MESOS__V1__SCHEDULER__CALL__INIT;
  call.has_type = 1;
  call.type = type;
  return typed(s, &call, type == MESOS__V1__SCHEDULER__CALL__TYPE__TEARDOWN, err);
}

MESOS_EXTERN(mesos_status) mesos_scheduler_revive(mesos_scheduler *s, mesos_error **err) {
  return bare_call(s, MESOS__V1__SCHEDULER__CALL__TYPE__REVIVE, err);
}

MESOS_EXTERN(mesos_status) mesos_scheduler_suppress(mesos_scheduler *s, mesos_error **err) {
  return bare_call(s, MESOS__V1__SCHEDULER__CALL__TYPE__SUPPRESS, err);
}

MESOS_EXTERN(mesos_status) mesos_scheduler_teardown(mesos_scheduler *s, mesos_error **err) {
  return bare_call(s, MESOS__V1__SCHEDULER__CALL__TYPE__TEARDOWN, err);
}

/* ------------------------------------------------------------ lifecycle */

MESOS_EXTERN(mesos_status) mesos_scheduler_options_init(mesos_scheduler_options *opts,
                                                        uint32_t version) {
  if (opts == NULL) return MESOS_EINVAL;
  if (version < 1 || version > MESOS_SCHEDULER_OPTIONS_VERSION) return MESOS_EVERSION;
  mesos_scheduler_options d = MESOS_SCHEDULER_OPTIONS_INIT;
  d.version = version;
  size_t n = version == 1   ? offsetof(mesos_scheduler_options, on_offers)
             : version == 2 ? offsetof(mesos_scheduler_options, tls_cert_file)
                            : sizeof d;
  memcpy(opts, &d, n);
  return MESOS_OK;
}

/* Splits the comma-separated master list into API URLs. */
static mesos_status parse_masters(mesos_scheduler *s, const char *list, mesos_error **err) {
  size_t total = strlen(list);
  if (total > MAX_MASTERS * MAX_MASTER_URL)
    return mesos__err(err, MESOS_EINVAL, "scheduler: master list too long");
  s->masters = mesos__calloc(MAX_MASTERS, sizeof *s->masters);
  if (s->masters == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  const char *p = list;
  while (*p) {
    while (*p == ' ' || *p == ',') p++;
    if (*p == '\0') break;
    const char *end = p;
    while (*end && *end != ',' && *end != ' ') end++;
    size_t n = (size_t)(end - p);
    if (n >= MAX_MASTER_URL) return mesos__err(err, MESOS_EINVAL, "scheduler: master URL too long");
    if (s->n_masters == MAX_MASTERS)
      return mesos__err(err, MESOS_EINVAL, "scheduler: more than %u masters", MAX_MASTERS);
    char one[MAX_MASTER_URL];
    memcpy(one, p, n);
    one[n] = '\0';
    mesos__url u;
    mesos_error *e = NULL;
    mesos_status st = mesos__url_parse(&u, one, &e);
    if (st != MESOS_OK) {
      mesos__url_free(&u);
      return mesos__err_wrap(err, st == MESOS_ENOMEM ? st : MESOS_EINVAL, e,
                             "scheduler: bad master URL '%s': %s", one, mesos_error_message(e));
    }
    size_t cap = strlen(u.authority) + sizeof "https://" + sizeof API_PATH;
    char *url = mesos__malloc(cap);
    if (url) snprintf(url, cap, "%s://%s%s", u.tls ? "https" : "http", u.authority, API_PATH);
    mesos__url_free(&u);
    if (url == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
    s->masters[s->n_masters++] = url;
    p = end;
  }
  if (s->n_masters == 0) return mesos__err(err, MESOS_EINVAL, "scheduler: no master URL given");
  return MESOS_OK;
}

static mesos_status parse_info(mesos_scheduler *s, const mesos_scheduler_options *o,
                               mesos_error **err) {
  int have_pb = o->framework_info != NULL, have_json = o->framework_info_json != NULL;
  if (have_pb == have_json)
    return mesos__err(err, MESOS_EINVAL,
                      "scheduler: give exactly one of framework_info and framework_info_json");
  ProtobufCMessage *m = NULL;
  mesos_error *e = NULL;
  mesos_status st =
      have_pb ? mesos__pb_unpack(&mesos__v1__framework_info__descriptor, o->framework_info,
                                 o->framework_info_len, 0, 0, &m, &e)
              : mesos__json_decode(&mesos__v1__framework_info__descriptor, o->framework_info_json,
                                   strlen(o->framework_info_json), NULL, &m, &e);
  if (st != MESOS_OK)
    return mesos__err_wrap(err, st == MESOS_ENOMEM ? st : MESOS_EINVAL, e,
                           "scheduler: bad FrameworkInfo: %s", mesos_error_message(e));
  s->info = (Mesos__V1__FrameworkInfo *)m;
  if (s->info->id && s->info->id->value && s->info->id->value[0]) {
    set_str(&s->framework_id, s->info->id->value);
    if (s->framework_id == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  return MESOS_OK;
}

static void destroy(mesos_scheduler *s) {
  if (s->dec_live) mesos__recordio_decoder_free(&s->dec);
  for (size_t i = 0; i < s->n_masters; i++) mesos__free(s->masters[i]);
  mesos__free(s->masters);
  mesos__pb_free(s->info);
  mesos__buf_free(&s->error_body);
  mesos__free(s->leader);
  mesos__free(s->stream_id);
  mesos__free(s->framework_id);
  mesos__free(s->cancel_reason);
  mesos__free(s->stop_reason);
  mesos__free(s);
}

/* Closes everything that could call back. */
static void close_all(mesos_scheduler *s) {
  s->freeing = 1;
  mesos_timer_free(s->retry_timer);
  mesos_timer_free(s->hb_timer);
  s->retry_timer = s->hb_timer = NULL;
  mesos__http_client *h = s->http;
  s->http = NULL;
  mesos__http_client_free(h); /* runs the calls' on_done, which see `freeing` */
  while (!mesos__list_empty(&s->queue)) {
    call_ctx *c = mesos__container_of(s->queue.next, call_ctx, link);
    mesos__list_remove(&c->link);
    ctx_free(c);
  }
  s->n_queued = 0;
}

MESOS_EXTERN(void) mesos_scheduler_free(mesos_scheduler *s) {
  if (s == NULL || s->freeing) return;
  enter(s);
  close_all(s);
  leave(s);
}

MESOS_EXTERN(mesos_status) mesos_scheduler_new(mesos_scheduler **out, mesos_loop *loop,
                                               const mesos_scheduler_options *o,
                                               mesos_error **err) {
  if (out == NULL || loop == NULL || o == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_scheduler_new: NULL argument");
  if (o->version < 1 || o->version > MESOS_SCHEDULER_OPTIONS_VERSION)
    return mesos__err(err, MESOS_EVERSION,
                      "mesos_scheduler_options: version %u not supported (this library: %u)",
                      o->version, MESOS_SCHEDULER_OPTIONS_VERSION);
  if (o->masters == NULL) return mesos__err(err, MESOS_EINVAL, "scheduler: masters is NULL");
  if (o->content_type != MESOS_SCHEDULER_CONTENT_PROTOBUF &&
      o->content_type != MESOS_SCHEDULER_CONTENT_JSON)
    return mesos__err(err, MESOS_EINVAL, "scheduler: unknown content_type %u", o->content_type);
  mesos_scheduler *s = MESOS__NEW(mesos_scheduler);
  if (s == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  s->loop = loop;
  s->media = o->content_type == MESOS_SCHEDULER_CONTENT_JSON ? MESOS__MEDIA_JSON
                                                             : MESOS__MEDIA_PROTOBUF;
  s->backoff_min_ms = o->backoff_min_ms ? o->backoff_min_ms : BACKOFF_MIN_MS;
  s->backoff_max_ms = o->backoff_max_ms ? o->backoff_max_ms : BACKOFF_MAX_MS;
  if (s->backoff_max_ms < s->backoff_min_ms) s->backoff_max_ms = s->backoff_min_ms;
  s->backoff_ms = s->backoff_min_ms;
  s->misses = o->heartbeat_misses ? o->heartbeat_misses : HEARTBEAT_MISSES;
  s->heartbeat_ms = DEFAULT_HEARTBEAT_MS;
  s->on_connected = o->on_connected;
  s->on_disconnected = o->on_disconnected;
  s->on_event = o->on_event;
  if (o->version >= 2) {
    /* Fields a version 1 struct does not have: never read them there. */
    s->on_offers = o->on_offers;
    s->on_update = o->on_update;
    s->auto_ack = o->auto_acknowledge != 0;
  }
  s->ud = o->ud;
  mesos__buf_init(&s->error_body, MAX_ERROR_BODY);
  mesos__list_init(&s->queue);

  mesos_status st = parse_masters(s, o->masters, err);
  if (st == MESOS_OK) st = parse_info(s, o, err);
  mesos__tls_config *tls = NULL;
  /* Fields a version 1 or 2 struct does not have: never read them there. */
  const char *cert = o->version >= 3 ? o->tls_cert_file : NULL;
  const char *key = o->version >= 3 ? o->tls_key_file : NULL;
  if (st == MESOS_OK && (cert != NULL) != (key != NULL))
    st = mesos__err(err, MESOS_EINVAL,
                    "scheduler: tls_cert_file and tls_key_file go together (%s given alone)",
                    cert ? "tls_cert_file" : "tls_key_file");
  if (st == MESOS_OK && (o->tls_ca_file || cert)) {
    mesos__tls_config_options to = {0};
    to.ca_file = o->tls_ca_file; /* NULL: the system bundle */
    to.cert_file = cert;
    to.key_file = key;
    to.verify_peer = 1;
    st = mesos__tls_config_new(&tls, &to, err);
  }
  if (st == MESOS_OK) {
    mesos__http_client_options ho = {0};
    ho.tls = tls;
    st = mesos__http_client_new(&s->http, loop, &ho, err);
  }
  mesos__tls_config_unref(tls);
  if (st == MESOS_OK) st = mesos_timer_new(&s->retry_timer, loop, retry_fire, s, err);
  if (st == MESOS_OK) st = mesos_timer_new(&s->hb_timer, loop, heartbeat_fire, s, err);
  if (st == MESOS_OK) st = mesos_timer_start(s->retry_timer, 0, 0);
  if (st != MESOS_OK) {
    enter(s);
    close_all(s);
    leave(s);
    return st;
  }
  s->state = S_WAIT;
  *out = s;
  return MESOS_OK;
}

MESOS_EXTERN(const char *) mesos_scheduler_framework_id(const mesos_scheduler *s) {
  return s ? s->framework_id : NULL;
}

MESOS_EXTERN(int) mesos_scheduler_connected(const mesos_scheduler *s) {
  return s != NULL && s->state == S_SUBSCRIBED;
}

const char *mesos__scheduler_stream_id(const mesos_scheduler *s) {
  return s ? s->stream_id : NULL;
}

const char *mesos__scheduler_leader(const mesos_scheduler *s) { return s ? s->leader : NULL; }

unsigned mesos__scheduler_calls_inflight(const mesos_scheduler *s) { return s->inflight; }

unsigned mesos__scheduler_calls_queued(const mesos_scheduler *s) { return s->n_queued; }
