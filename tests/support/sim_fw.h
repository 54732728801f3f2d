/*
 * A simulated framework for integration tests: a scheduler speaking the
 * v1 API as JSON over raw HTTP to a real mesos-master on loopback (the
 * SUBSCRIBE stream read record by record, calls on fresh connections),
 * as sim_agent.h simulates an agent.  Every helper asserts (Check) what it
 * needs, so a test reads as the steps of a framework.
 */
#ifndef MESOS_TEST_SIM_FW_H
#define MESOS_TEST_SIM_FW_H

#include <stddef.h>

#include "support/daemon.h"

/* An offer the framework holds: seen in an OFFERS event that no caller
 * took, and not yet handed out, declined or rescinded.  Resources freed
 * on an agent (a task that ended, what an ACCEPT left unused) come as an
 * offer of their own beside the offers already outstanding for that
 * agent, so a framework can hold several offers of one agent at once: a
 * test must never assume the next offer has all of an agent's free
 * resources (see sim_fw_wait_offer_min). */
typedef struct sim_fw_offer {
  char id[160];
  char agent[160];
  char hostname[256];
  double cpus, mem;       /* the scalar cpus and mem resources, every role summed */
} sim_fw_offer;

/* More offers than any test holds; the oldest goes when it is full. */
#define SIM_FW_MAX_HELD 32

typedef struct sim_fw {
  mesos_test_conn stream; /* the SUBSCRIBE response's event stream */
  int master_port;
  char id[160];           /* the framework id SUBSCRIBED gave */
  char sid[64];           /* Mesos-Stream-Id */
  char *offers;           /* the last OFFERS event skipped while waiting for another */
  sim_fw_offer held[SIM_FW_MAX_HELD]; /* oldest first */
  size_t n_held;
} sim_fw;

/* SUBSCRIBE as a new framework whose framework_info has the members
 * `info` (JSON without the braces, e.g. "\"user\":\"nobody\",\"name\":\"t\"").
 * Asserts 200 and SUBSCRIBED; keeps the stream id and the framework id. */
void sim_fw_subscribe(sim_fw *f, int master_port, const char *info);
/* SUBSCRIBE again as the framework f->id (failover: the id in the call
 * and in framework_info), after sim_fw_close of the old stream. */
void sim_fw_resubscribe(sim_fw *f, int master_port, const char *info);
/* Closes the stream and drops the kept OFFERS event (f->id stays). */
void sim_fw_close(sim_fw *f);

/* The next event containing every one of the (NULL-terminated) strings,
 * malloc'd, or NULL after `timeout_ms`; other events are skipped, the
 * last OFFERS among them kept in f->offers and the offers of every
 * skipped OFFERS event held (sim_fw_note_event). */
char *sim_fw_next(sim_fw *f, int timeout_ms, ...);
/* The next event containing `want`, or NULL on time-out; only heartbeats,
 * offers and rescinds may come before it (anything else fails the test). */
char *sim_fw_next_strict(sim_fw *f, const char *want, int timeout_ms);

/* Keeps track of the offers the framework holds from an event read off
 * f->stream that no test step consumes: an OFFERS event's offers are
 * held, a RESCIND drops its offer; other events change nothing.  The
 * sim_fw readers call it for what they skip; a test that reads the stream
 * itself calls it for the events it passes over, so no offer is lost
 * (an offer nobody answers keeps its resources from every later offer). */
void sim_fw_note_event(sim_fw *f, const char *rec);
/* A test that ACCEPTs or DECLINEs `offer` with its own call (one it got
 * from an event) says so: the offer is no longer held. */
void sim_fw_take_offer(sim_fw *f, const char *offer);

/* POSTs the printf-formatted call with the stream id; its HTTP status. */
int sim_fw_call(sim_fw *f, const char *json_fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, with the answer's body copied to `out`. */
int sim_fw_call_body(sim_fw *f, char *out, size_t cap, const char *json_fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* `"key":{"value":"X"}` and `"key":"X"` out of an event (asserted present). */
void sim_fw_json_id(const char *rec, const char *key, char *out, size_t cap);
void sim_fw_json_str(const char *rec, const char *key, char *out, size_t cap);

/* Waits (20 s) for an offer from the agent whose hostname contains
 * `hostname` (the newest held one first, else the next to come); its
 * offer id and agent id.  It may be any of that agent's offers, however
 * small: use sim_fw_wait_offer_min before launching anything. */
void sim_fw_wait_offer(sim_fw *f, const char *hostname, char *offer, char *agent, size_t cap);
/* The same for an offer with at least `cpus` cpus and `mem` MB (the
 * newest such held one first).  While none is held, it DECLINEs (refuse 0
 * seconds) every held offer of that agent in one call, so the allocator
 * offers their resources together again, and waits for the next: enough
 * resources, split over several offers, become one offer.  Fails the test
 * after 20 s, naming what it was offered.  SIM_FW_DEBUG=1 in the
 * environment prints each DECLINE it makes on stderr. */
void sim_fw_wait_offer_min(sim_fw *f, const char *hostname, double cpus, double mem,
                           char *offer, char *agent, size_t cap);
/* ACCEPTs `offer` with one LAUNCH of a command task (0.5 cpus, `mem` MB,
 * `container` NULL or a "\"container\":{...}," member); asserts 202. */
void sim_fw_launch(sim_fw *f, const char *offer, const char *agent, const char *task,
                   const char *container, double mem, const char *command);
/* ACKNOWLEDGEs the UPDATE event `rec`; asserts 202. */
void sim_fw_ack(sim_fw *f, const char *rec);
/* The next UPDATE for `task`, acknowledged; it must be in `state` and carry
 * a uuid.  The caller frees it. */
char *sim_fw_expect_update(sim_fw *f, const char *task, const char *state, int timeout_ms);
/* The terminal UPDATE for `task`, acknowledged; it must be in `state`.
 * STARTING or RUNNING updates the agent re-sends first (delivery is at
 * least once until acknowledged) are acknowledged and skipped. */
char *sim_fw_expect_final(sim_fw *f, const char *task, const char *state, int timeout_ms);

/* Monotonic milliseconds, for deadlines. */
long long sim_fw_now_ms(void);

#endif
