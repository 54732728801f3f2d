/* Internals of the scheduler client that tests look at. */
#ifndef MESOS_SCHEDULER_INT_H
#define MESOS_SCHEDULER_INT_H

#include "mesos/scheduler.h"
#include "mesos/v1/scheduler.pb-c.h"

/* The current subscription's Mesos-Stream-Id, or NULL (borrowed). */
const char *mesos__scheduler_stream_id(const mesos_scheduler *s);

/* The URL that answered the last SUBSCRIBE (after redirects), or NULL. */
const char *mesos__scheduler_leader(const mesos_scheduler *s);

/* Calls sent and not answered yet, and calls waiting behind them. */
unsigned mesos__scheduler_calls_inflight(const mesos_scheduler *s);
unsigned mesos__scheduler_calls_queued(const mesos_scheduler *s);

/* The flattened offers of an unpacked OFFERS event, and the status of an
 * UPDATE event (what mesos_scheduler_event_offers/_update give for the
 * event's bytes; the caller checked the type).  One block each, freed
 * with mesos_free(). */
mesos_status mesos__scheduler_offers_of(const Mesos__V1__Scheduler__Event *ev,
                                        mesos_scheduler_offer **offers, size_t *count,
                                        mesos_error **err);
mesos_status mesos__scheduler_status_of(const Mesos__V1__Scheduler__Event *ev,
                                        mesos_scheduler_task_status **status, mesos_error **err);

#endif
