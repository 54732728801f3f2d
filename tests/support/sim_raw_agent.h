/*
 * A simulated agent driven step by step from the test's own thread: it
 * speaks our agent protocol (/api/v1/agent, protobuf) to a real
 * mesos-master and hands the test every event the master sends, so a test
 * can assert on the exact RUN_TASK, KILL_TASK or CHECKPOINT_RESOURCES it
 * expects and answer with the exact STATUS_UPDATE it wants to test.
 *
 * sim_agent.h is the other kind: an agent on its own thread that answers
 * everything by itself (for tests that need an agent, not a conversation
 * with one).  Here nothing happens unless the test asks; PINGs are
 * answered while the test reads events (sim_raw_agent_next/expect/pump),
 * so an agent the test does not read for longer than the master's ping
 * timeout is (on purpose) marked unreachable.
 *
 * Every helper asserts (Check) what it needs, as sim_fw.h does.
 */
#ifndef MESOS_TEST_SIM_RAW_AGENT_H
#define MESOS_TEST_SIM_RAW_AGENT_H

#include <stddef.h>

#include "mesos/internal/internal.pb-c.h"
#include "support/daemon.h"

typedef struct sim_raw_agent {
  mesos_test_conn stream; /* the REGISTER/REREGISTER response's event stream */
  int master_port;
  char id[160];           /* the agent id REGISTERED gave */
  const char *hostname;
  /* The scalar resources REGISTER and REREGISTER report; a resource of 0
   * is left out (sim_raw_agent_init sets 4, 1024, 1000). */
  double cpus, mem, disk;
  double ping_timeout_s;  /* REGISTERED's total_ping_timeout_seconds */
} sim_raw_agent;

/* Flags of sim_raw_agent_status. */
enum {
  /* A uuid (1..15 and the state's number): the update needs an
   * acknowledgement, which the master forwards to the agent. */
  SIM_RAW_UUID = 1,
  /* source SOURCE_EXECUTOR, as an executor's update has. */
  SIM_RAW_FROM_EXECUTOR = 2,
  /* reason REASON_EXECUTOR_TERMINATED (what an executor whose task was
   * killed might say; a drain's reason must replace it). */
  SIM_RAW_EXECUTOR_REASON = 4,
};

/* An agent that is not registered yet, of `hostname` (kept by pointer). */
void sim_raw_agent_init(sim_raw_agent *a, int master_port, const char *hostname);

/* POSTs one call (a fresh connection, as the real agent's calls); the
 * HTTP status. */
int sim_raw_agent_post(int master_port, const Mesos__Internal__AgentCall *call);

/* Opens a->stream with `call` (REGISTER or REREGISTER); the answer's
 * status.  The stream stays open on 200 and is closed otherwise. */
int sim_raw_agent_open(sim_raw_agent *a, const Mesos__Internal__AgentCall *call);

/* REGISTER with a's hostname and resources; the HTTP status (the stream
 * stays open on 200, no event read). */
int sim_raw_agent_register_status(sim_raw_agent *a);
/* REGISTER; asserts 200 and REGISTERED, keeps the agent id and the ping
 * timeout. */
void sim_raw_agent_register(sim_raw_agent *a);

/* REREGISTER as a->id with a's hostname and resources, reporting task
 * `task_id` (1 cpu, 64 mem) of framework `fw_id` as TASK_RUNNING when
 * both are given; the HTTP status (no event read). */
int sim_raw_agent_reregister_status(sim_raw_agent *a, const char *fw_id, const char *task_id);
/* The same; asserts 200 and REREGISTERED. */
void sim_raw_agent_reregister(sim_raw_agent *a, const char *fw_id, const char *task_id);
/* REREGISTER as a->id with the caller's message (its `agent` too) on a
 * new stream (the old one is closed first); asserts 200 and a
 * REREGISTERED for a->id. */
void sim_raw_agent_reregister_with(sim_raw_agent *a, Mesos__Internal__ReregisterAgent *rr);

/* Closes the event stream (the master notices at its next ping). */
void sim_raw_agent_close(sim_raw_agent *a);

/* The next event that is not a PING (PINGs are answered with PONG);
 * NULL when none came within `timeout_ms`.  Free with mesos__pb_free. */
Mesos__Internal__AgentEvent *sim_raw_agent_next(sim_raw_agent *a, int timeout_ms);
/* The next event of `type` within `timeout_ms`, other events skipped;
 * NULL when none came. */
Mesos__Internal__AgentEvent *sim_raw_agent_expect(sim_raw_agent *a,
                                                  Mesos__Internal__AgentEvent__Type type,
                                                  int timeout_ms);
/* Answers pings (dropping other events) for `ms`: keeps the agent alive
 * while the test does something else. */
void sim_raw_agent_pump(sim_raw_agent *a, int ms);

/* A STATUS_UPDATE of task `task` of framework `fw` in `state` (an enum
 * name, "TASK_RUNNING") with SIM_RAW_* `flags`; asserts 202. */
void sim_raw_agent_status(sim_raw_agent *a, const char *fw, const char *task, const char *state,
                          int flags);

/* EXITED_EXECUTOR of `executor` of framework `fw` with wait status
 * `status`; asserts 202. */
void sim_raw_agent_exited_executor(sim_raw_agent *a, const char *fw, const char *executor,
                                   int status);

#endif
