/* mesos__backoff_draw (base/units.h): the randomised exponential
 * back-off of the agent's registration and the executors' re-subscription. */
#include <stdint.h>

#include "base/units.h"
#include "support/testutil.h"

/* Every delay lies in [0, ceiling]; the ceiling doubles up to the cap and
 * stays there; the draws are spread out (not all 0 or all the ceiling). */
START_TEST(test_backoff__draws_within_the_ceiling_which_doubles_up_to_the_cap) {
  uint64_t b = 100;
  uint64_t want[] = {100, 200, 400, 800, 1000, 1000};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    ck_assert_uint_eq(b, want[i]);
    uint64_t d = mesos__backoff_draw(&b, 1000);
    ck_assert_uint_le(d, want[i]);
  }
  int low = 0, high = 0;
  for (int i = 0; i < 2000; i++) {
    uint64_t c = 1000;
    uint64_t d = mesos__backoff_draw(&c, 1000);
    ck_assert_uint_le(d, 1000);
    ck_assert_uint_eq(c, 1000);
    if (d < 500) low++;
    else high++;
  }
  ck_assert_int_gt(low, 500);
  ck_assert_int_gt(high, 500);
}
END_TEST

/* A zero ceiling draws 0 (no busy loop is the caller's floor); a huge one
 * does not overflow when doubled. */
START_TEST(test_backoff__zero_and_huge_ceilings) {
  uint64_t b = 0;
  ck_assert_uint_eq(mesos__backoff_draw(&b, 60000), 0);
  ck_assert_uint_eq(b, 0);
  b = UINT64_MAX - 1;
  (void)mesos__backoff_draw(&b, UINT64_MAX);
  ck_assert_uint_eq(b, UINT64_MAX);
  (void)mesos__backoff_draw(&b, UINT64_MAX);
  ck_assert_uint_eq(b, UINT64_MAX);
}
END_TEST

static Suite *backoff_suite(void) {
  Suite *s = suite_create("backoff");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_backoff__draws_within_the_ceiling_which_doubles_up_to_the_cap);
  tcase_add_test(tc, test_backoff__zero_and_huge_ceilings);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(backoff_suite()); }
