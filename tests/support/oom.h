/*
 * OOM torture (STYLE.md section 7; SQLite's src/test_malloc.c and curl's
 * `runtests -t` do the same): run an operation once for every allocation it
 * makes, with that allocation failing, and check that every such run fails
 * cleanly with MESOS_ENOMEM and leaves nothing allocated.
 */
#ifndef MESOS_TEST_OOM_H
#define MESOS_TEST_OOM_H

#include <stdint.h>

#include "mesos/common.h"

/*
 * The operation under test.  It must be self-contained: create what it
 * needs, use it, free everything (including any mesos_error it received),
 * and return the status of the step that failed, or MESOS_OK.
 */
typedef mesos_status (*mesos_test_oom_fn)(void *ud);

/*
 * Runs fn(ud) with allocation N failing (and every allocation after it, as
 * mesos__alloc_fail_after does), for N = 1, 2, ... until a run completes
 * without reaching allocation N.  Check assertions fail the calling test
 * when:
 *  - a run that hit the failure returns anything but MESOS_ENOMEM or
 *    MESOS_OK (an operation may tolerate a failed optional allocation);
 *  - the final, undisturbed run does not return MESOS_OK;
 *  - any run changes mesos__alloc_live() (a leak, or a double free);
 *  - more than `max_allocs` allocations are needed (a runaway operation).
 * Returns the number of allocations the undisturbed run made, so callers can
 * assert that the torture covered something.
 */
uint64_t mesos_test_oom_torture(mesos_test_oom_fn fn, void *ud, uint64_t max_allocs);

#endif
