/* Internal state of a master.  Everything here is owned by the loop thread. */
#ifndef MESOS_MASTER_INT_H
#define MESOS_MASTER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/flags.h"
#include "base/map.h"
#include "codec/negotiate.h"
#include "http/server.h"
#include "mesos/master.h"
#include "mesos/v1/mesos.pb-c.h"
#include "mesos/v1/scheduler.pb-c.h"

struct mesos_master_flags {
  mesos__flags *f;
};

typedef struct mesos__framework mesos__framework;

struct mesos_master {
  mesos_loop *loop;
  mesos__flags *flags;
  mesos__http_server *http;
  char id[40];
  char hostname[256];
  char ip[64];
  uint32_t port;
  uint64_t start_ms;          /* loop clock at start */
  double start_time;          /* wall clock, seconds */
  uint64_t heartbeat_ms;
  uint64_t next_framework;    /* sequence for framework ids */
  mesos__map frameworks;      /* id -> mesos__framework*: active and disconnected */
  mesos__map removed;         /* ids of frameworks torn down: never again */
  Mesos__V1__MasterInfo info; /* points into the fields above */
  Mesos__V1__Address address;
};

struct mesos__framework {
  mesos_master *master;
  char *id;
  Mesos__V1__FrameworkInfo *info; /* owned (mesos__pb_free) */
  /* The subscription: the open SUBSCRIBE response, or NULL while
   * disconnected. */
  mesos__http_request *stream;
  mesos__media media;
  char stream_id[40];
  mesos_timer *heartbeat;
  mesos_timer *failover;
  double registered_time;
  double reregistered_time;
};

/* framework.c */
mesos_status mesos__framework_new(mesos__framework **out, mesos_master *m, const char *id,
                                  const Mesos__V1__FrameworkInfo *info);
/* Attaches a SUBSCRIBE response as the framework's event stream: 200 with
 * the stream headers, then SUBSCRIBED.  An older stream gets ERROR and is
 * closed first. */
mesos_status mesos__framework_attach(mesos__framework *fw, mesos__http_request *req,
                                     mesos__media media);
/* Sends one event on the framework's stream (dropped when disconnected). */
mesos_status mesos__framework_send(mesos__framework *fw, const Mesos__V1__Scheduler__Event *ev);
/* Removes the framework for good (TEARDOWN or failover timeout): ends its
 * stream, forgets it, remembers the id as removed.  Frees `fw`. */
void mesos__framework_remove(mesos__framework *fw, const char *why);
/* Frees without side effects (master shutdown). */
void mesos__framework_free(mesos__framework *fw);

/* Writes a complete event as a one-off stream: 200, the event, end.  Used
 * for SUBSCRIBE requests refused with an ERROR event. */
void mesos__scheduler_error_stream(mesos__http_request *req, mesos__media media,
                                   const char *message);

/* Encodes `ev` as one RecordIO record in `media` and appends it to `out`. */
mesos_status mesos__encode_event_record(const ProtobufCMessage *ev, mesos__media media,
                                        mesos__buf *out, mesos_error **err);

/* scheduler_api.c */
void mesos__scheduler_api_handler(mesos__http_request *req, void *ud);

/* master.c */
double mesos__master_now(void);
/* Plain-text error answer, Mesos style. */
void mesos__respond_text(mesos__http_request *req, int status, const char *text);

/* Validates an id chosen by a framework (framework, task, executor ids):
 * NULL when valid, else a static reason. */
const char *mesos__validate_id(const char *id);
/* NULL when `role` is a valid role name, else a static reason. */
const char *mesos__validate_role(const char *role);

#endif
