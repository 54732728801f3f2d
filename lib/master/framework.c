/*
 * Frameworks: the subscription stream, heartbeats, disconnection and the
 * failover timer, removal.
 *
 * A framework exists from its first SUBSCRIBE until TEARDOWN or until its
 * failover timeout runs out while disconnected.  The event stream is the
 * SUBSCRIBE response itself; its abort callback is how the master learns
 * that the scheduler went away (Mesos has no other liveness signal).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "base/uuid.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "master/master_int.h"

/* The largest event we put on a stream.  Clients cap a RecordIO record at a
 * few MiB (spec: 4 MiB is common); an event above that would break them. */
#define EVENT_MAX_BYTES ((size_t)4 << 20)

mesos_status mesos__encode_event_record(const ProtobufCMessage *ev, mesos__media media,
                                        mesos__buf *out, mesos_error **err) {
  mesos__buf payload = MESOS__BUF_INIT(EVENT_MAX_BYTES);
  mesos_status st = media == MESOS__MEDIA_PROTOBUF ? mesos__pb_pack_buf(ev, &payload, err)
                                                   : mesos__json_encode(ev, &payload, err);
  if (st == MESOS_OK) st = mesos__buf_printf(out, "%zu\n", payload.len);
  if (st == MESOS_OK) st = mesos__buf_append(out, payload.data, payload.len);
  mesos__buf_free(&payload);
  return st;
}

static mesos_status stream_headers(mesos__http_headers *h, mesos__media media,
                                   const char *stream_id) {
  mesos_status st = mesos__http_headers_set(
      h, "Content-Type",
      media == MESOS__MEDIA_PROTOBUF ? MESOS__MEDIA_TYPE_PROTOBUF : MESOS__MEDIA_TYPE_JSON);
  if (st == MESOS_OK && stream_id) st = mesos__http_headers_set(h, "Mesos-Stream-Id", stream_id);
  return st;
}

void mesos__scheduler_error_stream(mesos__http_request *req, mesos__media media,
                                   const char *message) {
  Mesos__V1__Scheduler__Event ev = MESOS__V1__SCHEDULER__EVENT__INIT;
  Mesos__V1__Scheduler__Event__Error e = MESOS__V1__SCHEDULER__EVENT__ERROR__INIT;
  ev.has_type = 1;
  ev.type = MESOS__V1__SCHEDULER__EVENT__TYPE__ERROR;
  e.message = (char *)message;
  ev.error = &e;
  mesos__buf rec = MESOS__BUF_INIT(EVENT_MAX_BYTES + 32);
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  if (mesos__encode_event_record(&ev.base, media, &rec, NULL) != MESOS_OK ||
      stream_headers(&h, media, NULL) != MESOS_OK) {
    mesos__http_respond_text(req, 500, "Failed to encode the ERROR event");
  } else if (mesos__http_stream_start(req, 200, &h) == MESOS_OK) {
    mesos__http_stream_send(req, rec.data, rec.len);
    mesos__http_stream_end(req);
  }
  mesos__http_headers_free(&h);
  mesos__buf_free(&rec);
}

mesos_status mesos__framework_send(mesos__framework *fw, const Mesos__V1__Scheduler__Event *ev) {
  if (fw->stream == NULL) return MESOS_ECLOSED;
  mesos__buf rec = MESOS__BUF_INIT(EVENT_MAX_BYTES + 32);
  mesos_error *e = NULL;
  mesos_status st = mesos__encode_event_record(&ev->base, fw->media, &rec, &e);
  if (st != MESOS_OK) {
    LOG_ERROR("framework %s: cannot encode event: %s", fw->id, e ? mesos_error_message(e) : "");
    mesos_error_free(e);
  } else {
    st = mesos__http_stream_send(fw->stream, rec.data, rec.len);
  }
  mesos__buf_free(&rec);
  return st;
}

static void heartbeat_cb(mesos_timer *t, void *ud) {
  (void)t;
  mesos__framework *fw = ud;
  Mesos__V1__Scheduler__Event ev = MESOS__V1__SCHEDULER__EVENT__INIT;
  ev.has_type = 1;
  ev.type = MESOS__V1__SCHEDULER__EVENT__TYPE__HEARTBEAT;
  mesos__framework_send(fw, &ev);
}

static void failover_cb(mesos_timer *t, void *ud) {
  (void)t;
  mesos__framework *fw = ud;
  LOG_INFO("Framework %s failover timeout expired: removing it", fw->id);
  mesos__framework_remove(fw, "failover timeout");
}

/* FrameworkInfo.failover_timeout in seconds, clamped to what a timer can
 * hold (validation already refused negative and non-finite values). */
static uint64_t failover_ms(const mesos__framework *fw) {
  if (!fw->info->has_failover_timeout) return 0;
  double s = fw->info->failover_timeout;
  if (!(s > 0)) return 0;
  if (s > 1e12) s = 1e12;
  return (uint64_t)llround(s * 1000.0);
}

/* The scheduler's connection went away: the framework stays, disconnected,
 * until it resubscribes or its failover timeout expires. */
static void stream_aborted(mesos__http_request *req, void *ud) {
  mesos__framework *fw = ud;
  if (fw->stream != req) return;
  fw->stream = NULL;
  mesos_timer_stop(fw->heartbeat);
  mesos__offers_rescind_framework(fw, 1);
  mesos__allocator_framework_set_active(fw, 0);
  uint64_t ms = failover_ms(fw);
  LOG_INFO("Framework %s disconnected; failover timeout %llu ms", fw->id,
           (unsigned long long)ms);
  /* Even a zero timeout goes through the timer, so removal never happens
   * inside the HTTP layer's callback. */
  mesos_timer_start(fw->failover, ms, 0);
  mesos__master_framework_updated(fw);
}

/* A deep copy of `info` with the id set to `id`. */
static mesos_status copy_info(const Mesos__V1__FrameworkInfo *info, const char *id,
                              Mesos__V1__FrameworkInfo **out) {
  Mesos__V1__FrameworkInfo tmp = *info;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  fid.value = (char *)id;
  tmp.id = &fid;
  uint8_t *bytes = NULL;
  size_t len = 0;
  ProtobufCMessage *copy = NULL;
  mesos_status st = mesos__pb_pack(&tmp.base, 0, &bytes, &len, NULL);
  if (st == MESOS_OK)
    st = mesos__pb_unpack(&mesos__v1__framework_info__descriptor, bytes, len, 0, 0, &copy, NULL);
  mesos__free(bytes);
  if (st == MESOS_OK) *out = (Mesos__V1__FrameworkInfo *)copy;
  return st;
}

mesos_status mesos__framework_set_info(mesos__framework *fw,
                                       const Mesos__V1__FrameworkInfo *info) {
  Mesos__V1__FrameworkInfo *copy = NULL;
  mesos_status st = copy_info(info, fw->id, &copy);
  if (st != MESOS_OK) return st;
  mesos__pb_free(fw->info);
  fw->info = copy;
  mesos__framework_changed(fw);
  return MESOS_OK;
}

bool mesos__framework_partition_aware(const mesos__framework *fw) {
  for (size_t i = 0; i < fw->info->n_capabilities; i++)
    if (fw->info->capabilities[i]->has_type &&
        fw->info->capabilities[i]->type ==
            MESOS__V1__FRAMEWORK_INFO__CAPABILITY__TYPE__PARTITION_AWARE)
      return true;
  return false;
}

void mesos__master_framework_updated(mesos__framework *fw) {
  /* The operator event stream: FRAMEWORK_ADDED the first time, then
   * FRAMEWORK_UPDATED.  Called after the change. */
  mesos__operator_on_framework_updated(fw);
}

mesos_status mesos__framework_new(mesos__framework **out, mesos_master *m, const char *id,
                                  const Mesos__V1__FrameworkInfo *info) {
  mesos__framework *fw = MESOS__NEW(mesos__framework);
  if (fw == NULL) return MESOS_ENOMEM;
  fw->master = m;
  mesos__map_init(&fw->offers);
  mesos__map_init_borrowed(&fw->tasks); /* keyed by the task id in each t->key */
  mesos__map_init(&fw->suppressed);
  fw->id = mesos__strdup(id);
  mesos_status st = fw->id ? MESOS_OK : MESOS_ENOMEM;
  /* Own a deep copy, with the id filled in. */
  if (st == MESOS_OK) st = copy_info(info, fw->id, &fw->info);
  if (st == MESOS_OK) st = mesos_timer_new(&fw->heartbeat, m->loop, heartbeat_cb, fw, NULL);
  if (st == MESOS_OK) st = mesos_timer_new(&fw->failover, m->loop, failover_cb, fw, NULL);
  if (st == MESOS_OK) st = mesos__map_put(&m->frameworks, fw->id, fw);
  if (st != MESOS_OK) {
    mesos_timer_free(fw->heartbeat);
    mesos_timer_free(fw->failover);
    mesos__pb_free(fw->info);
    mesos__free(fw->id);
    mesos__free(fw);
    return st;
  }
  fw->registered_time = mesos__master_now();
  *out = fw;
  return MESOS_OK;
}

/* Ends the current stream, optionally after an ERROR event. */
static void detach_stream(mesos__framework *fw, const char *error) {
  mesos__http_request *req = fw->stream;
  if (req == NULL) return;
  fw->stream = NULL;
  mesos__http_request_on_abort(req, NULL, NULL);
  if (error) {
    Mesos__V1__Scheduler__Event ev = MESOS__V1__SCHEDULER__EVENT__INIT;
    Mesos__V1__Scheduler__Event__Error e = MESOS__V1__SCHEDULER__EVENT__ERROR__INIT;
    ev.has_type = 1;
    ev.type = MESOS__V1__SCHEDULER__EVENT__TYPE__ERROR;
    e.message = (char *)error;
    ev.error = &e;
    mesos__buf rec = MESOS__BUF_INIT(EVENT_MAX_BYTES + 32);
    if (mesos__encode_event_record(&ev.base, fw->media, &rec, NULL) == MESOS_OK)
      mesos__http_stream_send(req, rec.data, rec.len);
    mesos__buf_free(&rec);
  }
  mesos__http_stream_end(req);
  mesos_timer_stop(fw->heartbeat);
}

mesos_status mesos__framework_attach(mesos__framework *fw, mesos__http_request *req,
                                     mesos__media media) {
  mesos_master *m = fw->master;
  if (fw->stream) {
    LOG_INFO("Framework %s failed over to a new subscription", fw->id);
    detach_stream(fw, "Framework failed over");
    fw->reregistered_time = mesos__master_now();
  }
  mesos_timer_stop(fw->failover);
  fw->recovered = 0;
  mesos_status st = mesos__uuid_random_str(fw->stream_id);
  if (st != MESOS_OK) return st;
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  st = stream_headers(&h, media, fw->stream_id);
  if (st == MESOS_OK) st = mesos__http_stream_start(req, 200, &h);
  mesos__http_headers_free(&h);
  if (st != MESOS_OK) return st;
  fw->stream = req;
  fw->media = media;
  mesos__http_request_on_abort(req, stream_aborted, fw);

  Mesos__V1__Scheduler__Event ev = MESOS__V1__SCHEDULER__EVENT__INIT;
  Mesos__V1__Scheduler__Event__Subscribed sub = MESOS__V1__SCHEDULER__EVENT__SUBSCRIBED__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  fid.value = fw->id;
  sub.framework_id = &fid;
  sub.has_heartbeat_interval_seconds = 1;
  sub.heartbeat_interval_seconds = (double)m->heartbeat_ms / 1000.0;
  sub.master_info = &m->info;
  ev.has_type = 1;
  ev.type = MESOS__V1__SCHEDULER__EVENT__TYPE__SUBSCRIBED;
  ev.subscribed = &sub;
  st = mesos__framework_send(fw, &ev);
  mesos_timer_start(fw->heartbeat, m->heartbeat_ms, m->heartbeat_ms);
  mesos__allocator_framework_set_active(fw, 1);
  LOG_INFO("Framework %s (%s) subscribed, stream %s", fw->id,
           fw->info->name ? fw->info->name : "", fw->stream_id);
  mesos__master_framework_updated(fw);
  return st;
}

/* Frees every task of the framework; `released` says the allocator already
 * forgot their resources (or is gone). */
static void free_tasks(mesos__framework *fw) { mesos__tasks_free_all(&fw->tasks); }

void mesos__framework_free(mesos__framework *fw) {
  if (fw == NULL) return;
  detach_stream(fw, NULL);
  free_tasks(fw);
  mesos__map_free(&fw->tasks);
  mesos__map_free(&fw->offers);
  mesos__map_free(&fw->suppressed);
  mesos_timer_free(fw->heartbeat);
  mesos_timer_free(fw->failover);
  mesos__pb_free(fw->info);
  mesos__free(fw->id);
  mesos__free(fw);
}

void mesos__framework_remove(mesos__framework *fw, const char *why) {
  mesos_master *m = fw->master;
  LOG_INFO("Removing framework %s: %s", fw->id, why);
  mesos__offers_rescind_framework(fw, 0);
  /* Every agent running its tasks shuts the framework's executors down. */
  mesos__map agents;
  mesos__map_init(&agents);
  size_t it = 0;
  void *v;
  while (mesos__map_next(&fw->tasks, &it, NULL, &v)) {
    mesos__task *t = v;
    mesos__map_put(&agents, t->agent->id, t->agent);
  }
  /* ... and every agent running one of its executors (their tasks may all
   * be gone already). */
  mesos__agents_forget_framework(m, fw->id, &agents);
  Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
  Mesos__Internal__ShutdownFramework sf = MESOS__INTERNAL__SHUTDOWN_FRAMEWORK__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  fid.value = fw->id;
  sf.framework_id = &fid;
  ev.protocol_version = MESOS__AGENT_PROTOCOL_VERSION;
  ev.has_type = 1;
  ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__SHUTDOWN_FRAMEWORK;
  ev.shutdown_framework = &sf;
  it = 0;
  while (mesos__map_next(&agents, &it, NULL, &v)) mesos__agent_send(v, &ev);
  mesos__map_free(&agents);
  mesos__operator_on_framework_removed(fw);
  /* The allocator forgets everything the framework held at once. */
  mesos__allocator_framework_remove(fw);
  free_tasks(fw);
  mesos__map_remove(&m->frameworks, fw->id);
  /* Remember the id so it can never subscribe again (Mesos keeps removed
   * ids in its completed-frameworks list); a failure to remember is logged,
   * not fatal. */
  if (mesos__map_put(&m->removed, fw->id, m) != MESOS_OK)
    LOG_WARN("cannot remember removed framework %s", fw->id);
  mesos__framework_free(fw);
}
