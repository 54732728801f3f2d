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

typedef struct sim_fw {
  mesos_test_conn stream; /* the SUBSCRIBE response's event stream */
  int master_port;
  char id[160];           /* the framework id SUBSCRIBED gave */
  char sid[64];           /* Mesos-Stream-Id */
  char *offers;           /* the last OFFERS event skipped while waiting for another */
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
 * last OFFERS among them kept in f->offers. */
char *sim_fw_next(sim_fw *f, int timeout_ms, ...);
/* The next event containing `want`, or NULL on time-out; only heartbeats,
 * offers and rescinds may come before it (anything else fails the test). */
char *sim_fw_next_strict(sim_fw *f, const char *want, int timeout_ms);

/* POSTs the printf-formatted call with the stream id; its HTTP status. */
int sim_fw_call(sim_fw *f, const char *json_fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, with the answer's body copied to `out`. */
int sim_fw_call_body(sim_fw *f, char *out, size_t cap, const char *json_fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* `"key":{"value":"X"}` and `"key":"X"` out of an event (asserted present). */
void sim_fw_json_id(const char *rec, const char *key, char *out, size_t cap);
void sim_fw_json_str(const char *rec, const char *key, char *out, size_t cap);

/* Waits (10 s) for an offer from the agent with `hostname` (f->offers
 * first); its offer id and agent id. */
void sim_fw_wait_offer(sim_fw *f, const char *hostname, char *offer, char *agent, size_t cap);
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
