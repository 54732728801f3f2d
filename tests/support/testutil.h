/* Shared helpers for the Check test programs. */
#ifndef MESOS_TESTUTIL_H
#define MESOS_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "mesos/mesos.h"

/*
 * Marks the running test as skipped, with a reason, and returns from it.
 * The runner (scripts/run-tests.sh) reads the skip file and reports the test
 * as SKIPPED instead of passed.  Use only for a capability the machine lacks
 * (no cgroup v2, not root, no GPU), never to hide a failure.
 */
#define MESOS_TEST_SKIP(...)                                  \
  do {                                                        \
    mesos_test_record_skip(__func__, __VA_ARGS__);            \
    return;                                                   \
  } while (0)

void mesos_test_record_skip(const char *test, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Asserts a mesos_status is MESOS_OK, printing the error message if not. */
#define ck_assert_mesos_ok(expr, errp)                                          \
  do {                                                                          \
    mesos_status s_ = (expr);                                                   \
    ck_assert_msg(s_ == MESOS_OK, "%s = %s: %s", #expr, mesos_status_name(s_),  \
                  mesos_test_errmsg(errp));                                     \
  } while (0)

/*
 * Runs `suite` with Check in fork mode and returns the process exit status.
 * Every test program's main() is `return mesos_test_main(make_suite());`.
 */
int mesos_test_main(Suite *suite);

/* The message of *errp, or "" (for assertion messages). */
const char *mesos_test_errmsg(mesos_error **errp);

/* Runs the loop until `*flag` becomes non-zero or `timeout_ms` passes.
 * Returns 1 when the flag was set, 0 on time-out. */
int mesos_test_run_until(mesos_loop *loop, volatile int *flag, int timeout_ms);

/* Binds a TCP socket on 0.0.0.0 port 0, returns the chosen port: free on
 * every address (so also for a daemon listening on all of them). */
int mesos_test_free_port(void);

#endif
