/*
 * A simulated agent for integration tests: it registers with a real
 * mesos-master over our agent protocol (/api/v1/agent, protobuf) and runs
 * on its own thread, so the test's thread is free to drive a scheduler
 * loop or wait for a child process.
 *
 * What it does with the master's events:
 *  - PING: answers PONG;
 *  - RUN_TASK: reports TASK_RUNNING (with a uuid); when that update is
 *    acknowledged and `finish` was set, reports TASK_FINISHED (updates of a
 *    task are sent one at a time, each after the previous one's
 *    acknowledgement, as the real status update manager does);
 *  - KILL_TASK: reports TASK_KILLED;
 *  - STATUS_UPDATE_ACKNOWLEDGEMENT: counted;
 *  - SHUTDOWN_FRAMEWORK: counted, the framework's tasks are forgotten.
 *
 * The thread never calls ck_assert (Check's failure path is not meant for
 * other threads): problems are collected and read with
 * mesos_sim_agent_errors().
 */
#ifndef MESOS_TEST_SIM_AGENT_H
#define MESOS_TEST_SIM_AGENT_H

#include <stddef.h>

typedef struct mesos_sim_agent mesos_sim_agent;

/* Registers with the master on 127.0.0.1:`master_port` offering `cpus`
 * and `mem` and starts the agent's thread.  NULL on failure (a line on
 * stderr says why). */
mesos_sim_agent *mesos_sim_agent_start(int master_port, const char *hostname, double cpus,
                                       double mem, int finish);

/* Stops the thread, closes the agent's stream and frees it.  NULL is
 * accepted. */
void mesos_sim_agent_stop(mesos_sim_agent *a);

const char *mesos_sim_agent_id(const mesos_sim_agent *a);

/* Counters, safe to read from any thread. */
int mesos_sim_agent_launched(mesos_sim_agent *a);   /* RUN_TASKs received */
int mesos_sim_agent_acks(mesos_sim_agent *a);       /* acknowledgements received */
int mesos_sim_agent_running(mesos_sim_agent *a);    /* tasks now in TASK_RUNNING */
int mesos_sim_agent_finished(mesos_sim_agent *a);   /* TASK_FINISHED sent */
int mesos_sim_agent_shutdowns(mesos_sim_agent *a);  /* SHUTDOWN_FRAMEWORK received */

/* Copies the id of some task in TASK_RUNNING whose RUNNING update was
 * acknowledged into `out`; 1 if there was one. */
int mesos_sim_agent_some_running(mesos_sim_agent *a, char *out, size_t cap);

/* Reports a terminal `state` ("TASK_FAILED") for a running task, as if it
 * had ended on its own.  Returns the master's HTTP status (202), or -1. */
int mesos_sim_agent_end_task(mesos_sim_agent *a, const char *task_id, const char *state);

/* Problems seen by the thread so far: their count, the first one's text in
 * `buf` (may be NULL). */
int mesos_sim_agent_errors(mesos_sim_agent *a, char *buf, size_t cap);

/* Polls `cond(a)` every 10 ms until it returns non-zero or `timeout_ms`
 * passes; returns its last value. */
int mesos_sim_agent_wait(mesos_sim_agent *a, int (*cond)(mesos_sim_agent *), int timeout_ms);

#endif
