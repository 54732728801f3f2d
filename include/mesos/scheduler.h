/*
 * mesos/scheduler.h - a client of the v1 scheduler API, for frameworks
 * written in C or wrapped through FFI.
 *
 * A mesos_scheduler subscribes to a master (POST /api/v1/scheduler,
 * SUBSCRIBE), delivers every event of the stream to a callback, sends calls
 * on separate connections with the subscription's Mesos-Stream-Id, and keeps
 * the subscription alive: when the stream breaks or heartbeats stop, it
 * resubscribes with the framework id it was given (a failover, so tasks
 * survive), with exponential backoff, trying the masters of its list in turn
 * and following 307 redirects from a master that is not the leader.
 *
 * No protobuf types appear here.  FrameworkInfo is given as protobuf bytes
 * or JSON text of mesos.v1.FrameworkInfo; calls as protobuf bytes or JSON of
 * mesos.v1.scheduler.Call; events arrive as the protobuf encoding of
 * mesos.v1.scheduler.Event whatever the wire encoding is.  Binding authors
 * decode them with their own protobuf library; C programs use the small
 * accessors below (offers, status updates) or mesos_codec_protobuf_to_json()
 * from mesos/codec.h.
 *
 * Lifecycle: mesos_scheduler_new() starts subscribing at once.
 * on_connected runs when SUBSCRIBED arrives, on_disconnected when a
 * subscription ends (or an attempt fails).  Calls other than SUBSCRIBE are
 * accepted only while subscribed (MESOS_EAGAIN otherwise: nothing is queued,
 * because after a resubscription offers are stale and the scheduler should
 * reconcile rather than replay).
 *
 * Thread safety: a scheduler belongs to its loop's thread; all callbacks run
 * inside mesos_loop_run*() on that thread.  Freeing the scheduler inside one
 * of its own callbacks is safe.
 *
 * Since 1.0.
 */
#ifndef MESOS_SCHEDULER_H
#define MESOS_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mesos_scheduler mesos_scheduler;

/* Wire encoding of calls and events (events reach on_event as protobuf
 * either way). */
#define MESOS_SCHEDULER_CONTENT_PROTOBUF 0u
#define MESOS_SCHEDULER_CONTENT_JSON 1u

/* Version 2 appended on_offers, on_update and auto_acknowledge; version 3
 * appended tls_cert_file and tls_key_file; version 1 and 2 structs are
 * still accepted. */
#define MESOS_SCHEDULER_OPTIONS_VERSION 3

/* Defined below (reading events in C). */
struct mesos_scheduler_offer;
struct mesos_scheduler_task_status;

typedef struct mesos_scheduler_options {
  uint32_t version; /* MESOS_SCHEDULER_OPTIONS_VERSION */

  /* REQUIRED.  Masters to try in turn, comma-separated:
   * "http://m1:5050,http://m2:5050" (https:// for TLS).  A path, if given,
   * is ignored: the API lives at /api/v1/scheduler. */
  const char *masters;

  /* MESOS_SCHEDULER_CONTENT_PROTOBUF (default) or _JSON. */
  uint32_t content_type;

  /* REQUIRED, exactly one of: mesos.v1.FrameworkInfo as protobuf bytes, or
   * as JSON text (NUL-terminated).  `user` and `name` are required fields.
   * Set `id` to fail over from an earlier scheduler instance.  Copied. */
  const uint8_t *framework_info;
  size_t framework_info_len;
  const char *framework_info_json;

  /* Reconnect backoff: the first retry waits backoff_min_ms, each failure
   * doubles it up to backoff_max_ms; a successful subscription resets it.
   * 0: 500 ms and 30 s. */
  uint32_t backoff_min_ms;
  uint32_t backoff_max_ms;

  /* A subscription that has been silent for this many heartbeat intervals
   * (announced in SUBSCRIBED) is taken as dead and replaced.  0: 5, as the
   * Mesos documentation advises. */
  uint32_t heartbeat_misses;

  /* https masters: a PEM CA bundle to verify them against; NULL: the
   * system bundle. */
  const char *tls_ca_file;

  /* All callbacks are optional and get `ud` last. */

  /* SUBSCRIBED arrived: the framework id is known (again) and calls may be
   * sent.  Runs before on_event for the SUBSCRIBED event. */
  void (*on_connected)(mesos_scheduler *s, void *ud);
  /* A subscription ended, or an attempt failed; `reason` is a human
   * readable sentence (borrowed for the call).  Unless the scheduler was
   * stopped (ERROR event, teardown), it retries after the backoff. */
  void (*on_disconnected)(mesos_scheduler *s, const char *reason, void *ud);
  /* One event.  `type_name` is the Event.Type name ("OFFERS", "UPDATE",
   * "HEARTBEAT", ...; "UNKNOWN" for types newer than this library);
   * `event`/`len` is the protobuf encoding of mesos.v1.scheduler.Event,
   * borrowed for the call. */
  void (*on_event)(mesos_scheduler *s, const char *type_name, const uint8_t *event, size_t len,
                   void *ud);
  void *ud;

  /* Since version 2: typed events, for C programs that would otherwise
   * decode every OFFERS and UPDATE themselves.  Each runs after on_event
   * (when both are set) with the event flattened as
   * mesos_scheduler_event_offers/_update would give it, borrowed for the
   * call (the library frees it). */
  /* The offers of an OFFERS event (count >= 1). */
  void (*on_offers)(mesos_scheduler *s, const struct mesos_scheduler_offer *offers,
                    size_t count, void *ud);
  /* The status of an UPDATE event. */
  void (*on_update)(mesos_scheduler *s, const struct mesos_scheduler_task_status *status,
                    void *ud);
  /* Non-zero: every update that needs an acknowledgement (has_uuid) is
   * acknowledged by the library right after on_update returns, as the
   * old Mesos scheduler driver's implicit acknowledgements did (the agent
   * resends an update until it is acknowledged).  A scheduler that must
   * persist an update first leaves this 0 and calls
   * mesos_scheduler_acknowledge itself; with it set, it must not (the
   * master would see the acknowledgement twice).  A teardown from inside
   * on_update sends the acknowledgement first; none is sent once the
   * scheduler was freed inside on_update. */
  uint32_t auto_acknowledge;

  /* Since version 3: https masters that verify clients
   * (--tls_verify_client): a PEM client certificate (may hold its chain)
   * and its unencrypted PEM private key, presented in the TLS handshake.
   * Both or neither; NULL: no client certificate.  The files are read by
   * mesos_scheduler_new (MESOS_EINVAL when unreadable, not PEM, or the key
   * does not match). */
  const char *tls_cert_file;
  const char *tls_key_file;
} mesos_scheduler_options;

#define MESOS_SCHEDULER_OPTIONS_INIT                                                         \
  { MESOS_SCHEDULER_OPTIONS_VERSION, NULL, 0, NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, \
    NULL, NULL, NULL, 0, NULL, NULL }

/* FFI twin of MESOS_SCHEDULER_OPTIONS_INIT.  `version` 1 or 2 fills only
 * the fields that version has (a caller built against an older header
 * passes a smaller struct).  MESOS_EINVAL (opts NULL), MESOS_EVERSION (unknown
 * version).  Since 1.0. */
MESOS_EXTERN(mesos_status) mesos_scheduler_options_init(mesos_scheduler_options *opts,
                                                        uint32_t version);

/*
 * Creates a scheduler on `loop` and starts subscribing (the first attempt
 * is made from the loop, never inside this function).  `opts` is copied.
 * Errors: MESOS_EINVAL (no masters, a master URL that does not parse, no or
 * two FrameworkInfos, a FrameworkInfo that does not decode, bad content
 * type; the message says which), MESOS_EVERSION, MESOS_ENOMEM.
 * Since 1.0.
 */
MESOS_EXTERN(mesos_status) mesos_scheduler_new(mesos_scheduler **out, mesos_loop *loop,
                                               const mesos_scheduler_options *opts,
                                               mesos_error **err);

/*
 * Closes the subscription and every call in flight and frees the scheduler.
 * Nothing is torn down on the master: the framework stays registered until
 * its failover_timeout passes, so another instance can take over (see
 * mesos_scheduler_teardown to end the framework).  No callback runs after
 * this returns.  NULL is accepted.  Since 1.0.
 */
MESOS_EXTERN(void) mesos_scheduler_free(mesos_scheduler *s);

/* The framework id (borrowed; valid until the scheduler is freed), or NULL
 * before the first SUBSCRIBED.  Since 1.0. */
MESOS_EXTERN(const char *) mesos_scheduler_framework_id(const mesos_scheduler *s);

/* 1 while subscribed (between on_connected and on_disconnected).  Since 1.0. */
MESOS_EXTERN(int) mesos_scheduler_connected(const mesos_scheduler *s);

/* Outcome of one call: `status` is MESOS_OK when the master accepted it
 * (202, or 200), MESOS_EPROTO for any other HTTP status (`http_status`
 * says which and `message` holds the master's plain-text answer), or the
 * transport failure (MESOS_EIO, MESOS_ETIMEDOUT, MESOS_ECLOSED when the
 * subscription ended first, ...) with `http_status` 0.  `message` is
 * borrowed for the call. */
typedef void (*mesos_scheduler_call_fn)(mesos_scheduler *s, mesos_status status, int http_status,
                                        const char *message, void *ud);

/*
 * Sends one mesos.v1.scheduler.Call given as protobuf bytes.  The library
 * sets framework_id and the Mesos-Stream-Id header and posts it to the
 * master holding the subscription, encoded as the options say.  At most 8
 * calls are in flight at once (each needs a connection); later ones wait
 * in order, and fail with MESOS_ECLOSED through `cb` if the subscription
 * ends first.  `cb` (optional) learns the outcome; without one, failures
 * are logged.
 * Errors (then `cb` never runs; nothing was sent):
 *   MESOS_EINVAL: the bytes are not a valid Call, or it is a SUBSCRIBE (the
 *   library subscribes itself);
 *   MESOS_EAGAIN: not subscribed right now;
 *   MESOS_ECLOSED: the scheduler was stopped (ERROR event or teardown);
 *   MESOS_ELIMIT: 65536 calls already wait;
 *   MESOS_ENOMEM.
 * Since 1.0.
 */
MESOS_EXTERN(mesos_status) mesos_scheduler_call(mesos_scheduler *s, const uint8_t *call,
                                                size_t len, mesos_scheduler_call_fn cb,
                                                void *cb_ud, mesos_error **err);

/* The same with the Call as JSON text (Mesos' JSON mapping; framework_id may
 * be left out).  Same errors.  Since 1.0. */
MESOS_EXTERN(mesos_status) mesos_scheduler_call_json(mesos_scheduler *s, const char *json,
                                                     mesos_scheduler_call_fn cb, void *cb_ud,
                                                     mesos_error **err);

/* Typed helpers for the common calls; same errors as mesos_scheduler_call,
 * failures reported later are logged. */

/* DECLINE one offer; resources are not offered again to this framework for
 * `refuse_seconds` (negative: the master's default, 5 s).  Since 1.0. */
MESOS_EXTERN(mesos_status) mesos_scheduler_decline(mesos_scheduler *s, const char *offer_id,
                                                   double refuse_seconds, mesos_error **err);

/* ACKNOWLEDGE a status update (its agent id, task id and 16-byte uuid).
 * Since 1.0. */
MESOS_EXTERN(mesos_status) mesos_scheduler_acknowledge(mesos_scheduler *s, const char *agent_id,
                                                       const char *task_id,
                                                       const uint8_t uuid[16],
                                                       mesos_error **err);

/* RECONCILE: `task_id` NULL asks for all tasks (implicit reconciliation),
 * else for that one task (`agent_id` optional).  Since 1.0. */
MESOS_EXTERN(mesos_status) mesos_scheduler_reconcile(mesos_scheduler *s, const char *task_id,
                                                     const char *agent_id, mesos_error **err);

/* KILL a task (`agent_id` optional).  Since 1.0. */
MESOS_EXTERN(mesos_status) mesos_scheduler_kill(mesos_scheduler *s, const char *task_id,
                                                const char *agent_id, mesos_error **err);

/* REVIVE / SUPPRESS offers for all the framework's roles.  Since 1.0. */
MESOS_EXTERN(mesos_status) mesos_scheduler_revive(mesos_scheduler *s, mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_scheduler_suppress(mesos_scheduler *s, mesos_error **err);

/*
 * TEARDOWN: ends the framework on the master (its tasks are killed and its
 * id can never subscribe again) and stops the scheduler: when the master
 * has answered, the subscription is closed and on_disconnected runs with
 * reason "torn down" (or the failure); no reconnect follows.  The
 * scheduler must still be freed.  Errors as mesos_scheduler_call.
 * Since 1.0.
 */
MESOS_EXTERN(mesos_status) mesos_scheduler_teardown(mesos_scheduler *s, mesos_error **err);

/* ------------------------------------------------- reading events in C */

/* One offer, flattened.  Scalars add up every resource of that name in the
 * offer (reserved or not). */
typedef struct mesos_scheduler_offer {
  const char *id;
  const char *agent_id;
  const char *hostname;
  double cpus;
  double mem;  /* MB */
  double disk; /* MB */
} mesos_scheduler_offer;

/*
 * The offers of an OFFERS event (`event`/`len` as given to on_event).
 * *offers is one block holding *count entries and their strings, freed
 * with mesos_free(); with no offers it is NULL and *count 0.
 * Errors: MESOS_EINVAL (not an Event, or not of type OFFERS), MESOS_ENOMEM.
 * Thread safety: any thread.  Since 1.0.
 */
MESOS_EXTERN(mesos_status) mesos_scheduler_event_offers(const uint8_t *event, size_t len,
                                                        mesos_scheduler_offer **offers,
                                                        size_t *count, mesos_error **err);

/* The TaskStatus of an UPDATE event, flattened. */
typedef struct mesos_scheduler_task_status {
  const char *task_id;
  const char *agent_id; /* NULL if the update names no agent */
  const char *state;    /* "TASK_RUNNING", ... */
  const char *reason;   /* "REASON_RECONCILIATION", ... or NULL */
  const char *message;  /* or NULL */
  const char *source;   /* "SOURCE_EXECUTOR", ... or NULL */
  /* 1 when the update must be acknowledged (with this uuid). */
  int has_uuid;
  uint8_t uuid[16];
  /* 1 for a terminal state (FINISHED, FAILED, KILLED, ERROR, LOST, DROPPED,
   * GONE, GONE_BY_OPERATOR, UNKNOWN). */
  int terminal;
} mesos_scheduler_task_status;

/*
 * The status of an UPDATE event.  *status is one block freed with
 * mesos_free().  Errors: MESOS_EINVAL (not an Event, or not an UPDATE),
 * MESOS_ENOMEM.  Thread safety: any thread.  Since 1.0.
 */
MESOS_EXTERN(mesos_status) mesos_scheduler_event_update(const uint8_t *event, size_t len,
                                                        mesos_scheduler_task_status **status,
                                                        mesos_error **err);

/* The message of an ERROR event, in a new string freed with mesos_free().
 * Errors: MESOS_EINVAL, MESOS_ENOMEM.  Thread safety: any thread.
 * Since 1.0. */
MESOS_EXTERN(mesos_status) mesos_scheduler_event_error(const uint8_t *event, size_t len,
                                                       char **message, mesos_error **err);

#ifdef __cplusplus
}
#endif

#endif /* MESOS_SCHEDULER_H */
