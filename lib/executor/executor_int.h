/*
 * Internal additions to the executor client (mesos/executor.h) for the
 * executors shipped with libmesos-core that link the static library
 * (mesos-default-executor): the whole TaskInfo of a launched task, a copy
 * of a task that outlives the launch callback (for work done before the
 * task starts, such as fetching its URIs), and updates with a reason.
 */
#ifndef MESOS_EXECUTOR_EXECUTOR_INT_H
#define MESOS_EXECUTOR_EXECUTOR_INT_H

#include "mesos/executor.h"
#include "mesos/v1/mesos.pb-c.h"

/* The task's TaskInfo (borrowed from `task`). */
const Mesos__V1__TaskInfo *mesos__executor_task_info(const mesos_executor_task *task);
/* A deep copy of `task`, valid until mesos__executor_task_free; NULL when
 * out of memory. */
mesos_executor_task *mesos__executor_task_copy(const mesos_executor_task *task);
void mesos__executor_task_free(mesos_executor_task *task);
/* mesos_executor_update with TaskStatus.reason set (`reason` < 0: none). */
mesos_status mesos__executor_update_reason(mesos_executor *e, const char *task_id,
                                           const char *state, int reason, const char *message,
                                           mesos_error **err);

#endif
