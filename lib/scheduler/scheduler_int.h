/* Internals of the scheduler client that tests look at. */
#ifndef MESOS_SCHEDULER_INT_H
#define MESOS_SCHEDULER_INT_H

#include "mesos/scheduler.h"

/* The current subscription's Mesos-Stream-Id, or NULL (borrowed). */
const char *mesos__scheduler_stream_id(const mesos_scheduler *s);

/* The URL that answered the last SUBSCRIBE (after redirects), or NULL. */
const char *mesos__scheduler_leader(const mesos_scheduler *s);

/* Calls sent and not answered yet, and calls waiting behind them. */
unsigned mesos__scheduler_calls_inflight(const mesos_scheduler *s);
unsigned mesos__scheduler_calls_queued(const mesos_scheduler *s);

#endif
