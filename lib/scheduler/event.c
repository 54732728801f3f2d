/*
 * Flattened views of scheduler events for C programs that carry no
 * protobuf library: the offers of OFFERS, the status of UPDATE, the
 * message of ERROR.
 *
 * Each result is one allocation (the structs first, then the strings they
 * point to), so the caller frees it with a single mesos_free() and a
 * binding needs no per-type destructor.  Sizes are summed with overflow
 * checks; the inputs are bounded by the codec's limits anyway.
 */
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "codec/pb.h"
#include "mesos/scheduler.h"
#include "mesos/v1/scheduler.pb-c.h"
#include "scheduler/scheduler_int.h"

static mesos_status unpack_event(const uint8_t *data, size_t len, int want_type,
                                 const char *want_name, Mesos__V1__Scheduler__Event **out,
                                 mesos_error **err) {
  if (data == NULL && len > 0) return mesos__err(err, MESOS_EINVAL, "event is NULL");
  ProtobufCMessage *m = NULL;
  mesos_error *e = NULL;
  mesos_status st = mesos__pb_unpack(&mesos__v1__scheduler__event__descriptor,
                                     data ? data : (const uint8_t *)"", len, 0, 0, &m, &e);
  if (st != MESOS_OK)
    return mesos__err_wrap(err, st == MESOS_ENOMEM ? st : MESOS_EINVAL, e,
                           "not a mesos.v1.scheduler.Event: %s", mesos_error_message(e));
  Mesos__V1__Scheduler__Event *ev = (Mesos__V1__Scheduler__Event *)m;
  if (!ev->has_type || (int)ev->type != want_type) {
    mesos__pb_free(m);
    return mesos__err(err, MESOS_EINVAL, "event is not of type %s", want_name);
  }
  *out = ev;
  return MESOS_OK;
}

/* Adds strlen(s)+1 to *total (0 for NULL); false on overflow. */
static bool add_str(size_t *total, const char *s) {
  return s == NULL || mesos__size_add(total, *total, strlen(s) + 1);
}

/* Copies `s` to *cursor and advances it; NULL stays NULL. */
static const char *put_str(char **cursor, const char *s) {
  if (s == NULL) return NULL;
  size_t n = strlen(s) + 1;
  memcpy(*cursor, s, n);
  const char *r = *cursor;
  *cursor += n;
  return r;
}

static double scalar_sum(const Mesos__V1__Offer *o, const char *name) {
  double sum = 0;
  for (size_t i = 0; i < o->n_resources; i++) {
    const Mesos__V1__Resource *r = o->resources[i];
    if (r->name && strcmp(r->name, name) == 0 && r->scalar) sum += r->scalar->value;
  }
  return sum;
}

static const char *id_of(const ProtobufCMessage *idmsg) {
  /* Every *ID message of the v1 API is { required string value = 1; }. */
  return idmsg ? ((const Mesos__V1__OfferID *)idmsg)->value : NULL;
}

mesos_status mesos__scheduler_offers_of(const Mesos__V1__Scheduler__Event *ev,
                                        mesos_scheduler_offer **offers, size_t *count,
                                        mesos_error **err) {
  size_t n = ev->offers ? ev->offers->n_offers : 0;
  if (n == 0) {
    *offers = NULL;
    *count = 0;
    return MESOS_OK;
  }
  size_t total = 0;
  bool ok = mesos__size_mul(&total, n, sizeof(mesos_scheduler_offer));
  for (size_t i = 0; ok && i < n; i++) {
    const Mesos__V1__Offer *o = ev->offers->offers[i];
    ok = add_str(&total, id_of(&o->id->base)) && add_str(&total, id_of(&o->agent_id->base)) &&
         add_str(&total, o->hostname);
  }
  mesos_scheduler_offer *arr = ok ? mesos__malloc(total) : NULL;
  if (arr == NULL)
    return mesos__err(err, ok ? MESOS_ENOMEM : MESOS_ELIMIT, "offers too large for memory");
  char *cursor = (char *)(arr + n);
  for (size_t i = 0; i < n; i++) {
    const Mesos__V1__Offer *o = ev->offers->offers[i];
    arr[i].id = put_str(&cursor, id_of(&o->id->base));
    arr[i].agent_id = put_str(&cursor, id_of(&o->agent_id->base));
    arr[i].hostname = put_str(&cursor, o->hostname);
    arr[i].cpus = scalar_sum(o, "cpus");
    arr[i].mem = scalar_sum(o, "mem");
    arr[i].disk = scalar_sum(o, "disk");
  }
  *offers = arr;
  *count = n;
  return MESOS_OK;
}

MESOS_EXTERN(mesos_status) mesos_scheduler_event_offers(const uint8_t *event, size_t len,
                                                        mesos_scheduler_offer **offers,
                                                        size_t *count, mesos_error **err) {
  if (offers == NULL || count == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_scheduler_event_offers: NULL output");
  Mesos__V1__Scheduler__Event *ev = NULL;
  mesos_status st = unpack_event(event, len, MESOS__V1__SCHEDULER__EVENT__TYPE__OFFERS, "OFFERS",
                                 &ev, err);
  if (st != MESOS_OK) return st;
  st = mesos__scheduler_offers_of(ev, offers, count, err);
  mesos__pb_free(ev);
  return st;
}

static const char *enum_name(const ProtobufCEnumDescriptor *d, int has, int v) {
  if (!has) return NULL;
  const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
  return ev ? ev->name : NULL;
}

static int terminal_state(Mesos__V1__TaskState s) {
  switch (s) {
    case MESOS__V1__TASK_STATE__TASK_FINISHED:
    case MESOS__V1__TASK_STATE__TASK_FAILED:
    case MESOS__V1__TASK_STATE__TASK_KILLED:
    case MESOS__V1__TASK_STATE__TASK_ERROR:
    case MESOS__V1__TASK_STATE__TASK_LOST:
    case MESOS__V1__TASK_STATE__TASK_DROPPED:
    case MESOS__V1__TASK_STATE__TASK_GONE:
    case MESOS__V1__TASK_STATE__TASK_GONE_BY_OPERATOR:
    case MESOS__V1__TASK_STATE__TASK_UNKNOWN:
      return 1;
    default:
      return 0;
  }
}

mesos_status mesos__scheduler_status_of(const Mesos__V1__Scheduler__Event *ev,
                                        mesos_scheduler_task_status **status, mesos_error **err) {
  const Mesos__V1__TaskStatus *ts = ev->update ? ev->update->status : NULL;
  if (ts == NULL) return mesos__err(err, MESOS_EINVAL, "UPDATE event without a status");
  const char *state = enum_name(&mesos__v1__task_state__descriptor, 1, (int)ts->state);
  const char *reason =
      enum_name(&mesos__v1__task_status__reason__descriptor, ts->has_reason, (int)ts->reason);
  const char *source =
      enum_name(&mesos__v1__task_status__source__descriptor, ts->has_source, (int)ts->source);
  const char *tid = id_of(&ts->task_id->base);
  const char *aid = ts->agent_id ? id_of(&ts->agent_id->base) : NULL;
  size_t total = sizeof(mesos_scheduler_task_status);
  bool ok = add_str(&total, tid) && add_str(&total, aid) && add_str(&total, state) &&
            add_str(&total, reason) && add_str(&total, ts->message) && add_str(&total, source);
  mesos_scheduler_task_status *out = ok ? mesos__calloc(1, total) : NULL;
  if (out == NULL)
    return mesos__err(err, ok ? MESOS_ENOMEM : MESOS_ELIMIT, "status too large for memory");
  char *cursor = (char *)(out + 1);
  out->task_id = put_str(&cursor, tid);
  out->agent_id = put_str(&cursor, aid);
  out->state = put_str(&cursor, state ? state : "TASK_UNKNOWN");
  out->reason = put_str(&cursor, reason);
  out->message = put_str(&cursor, ts->message);
  out->source = put_str(&cursor, source);
  /* Only a 16-byte uuid can be acknowledged (the master refuses others). */
  if (ts->has_uuid && ts->uuid.len == 16) {
    out->has_uuid = 1;
    memcpy(out->uuid, ts->uuid.data, 16);
  }
  out->terminal = terminal_state(ts->state);
  *status = out;
  return MESOS_OK;
}

MESOS_EXTERN(mesos_status) mesos_scheduler_event_update(const uint8_t *event, size_t len,
                                                        mesos_scheduler_task_status **status,
                                                        mesos_error **err) {
  if (status == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_scheduler_event_update: NULL output");
  Mesos__V1__Scheduler__Event *ev = NULL;
  mesos_status st = unpack_event(event, len, MESOS__V1__SCHEDULER__EVENT__TYPE__UPDATE, "UPDATE",
                                 &ev, err);
  if (st != MESOS_OK) return st;
  st = mesos__scheduler_status_of(ev, status, err);
  mesos__pb_free(ev);
  return st;
}

MESOS_EXTERN(mesos_status) mesos_scheduler_event_error(const uint8_t *event, size_t len,
                                                       char **message, mesos_error **err) {
  if (message == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_scheduler_event_error: NULL output");
  Mesos__V1__Scheduler__Event *ev = NULL;
  mesos_status st =
      unpack_event(event, len, MESOS__V1__SCHEDULER__EVENT__TYPE__ERROR, "ERROR", &ev, err);
  if (st != MESOS_OK) return st;
  const char *m = ev->error && ev->error->message ? ev->error->message : "";
  char *copy = mesos__strdup(m);
  mesos__pb_free(ev);
  if (copy == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  *message = copy;
  return MESOS_OK;
}
