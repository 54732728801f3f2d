#include "support/oom.h"

#include <check.h>

#include "base/alloc.h"
#include "mesos/error.h"

uint64_t mesos_test_oom_torture(mesos_test_oom_fn fn, void *ud, uint64_t max_allocs) {
  int64_t live_before = mesos__alloc_live();
  for (uint64_t n = 1; n <= max_allocs + 1; n++) {
    mesos__alloc_fail_after(n);
    mesos_status s = fn(ud);
    /* Resetting returns how many allocations the run attempted; the failing
     * one and those after it count too, so made >= n means the injected
     * failure was reached. */
    uint64_t made = mesos__alloc_fail_after(0);
    int64_t live = mesos__alloc_live();
    ck_assert_msg(live == live_before,
                  "OOM torture: with allocation %llu failing, %lld allocation(s) leaked "
                  "(status %s)",
                  (unsigned long long)n, (long long)(live - live_before), mesos_status_name(s));
    if (made < n) {
      ck_assert_msg(s == MESOS_OK, "OOM torture: the undisturbed run returned %s",
                    mesos_status_name(s));
      return made;
    }
    ck_assert_msg(s == MESOS_ENOMEM || s == MESOS_OK,
                  "OOM torture: with allocation %llu failing, the operation returned %s "
                  "instead of MESOS_ENOMEM",
                  (unsigned long long)n, mesos_status_name(s));
  }
  ck_abort_msg("OOM torture: the operation still allocates after %llu allocations",
               (unsigned long long)max_allocs);
  return 0;
}
