#include <stdio.h>
#include <string.h>

#include "support/testutil.h"

START_TEST(test_version__run_time_number_equals_compile_time_number) {
  ck_assert_uint_eq(mesos_version_number(), MESOS_VERSION_NUMBER);
}
END_TEST

START_TEST(test_version__run_time_string_equals_compile_time_string) {
  ck_assert_str_eq(mesos_version_string(), MESOS_VERSION_STRING);
}
END_TEST

START_TEST(test_version__number_and_string_encode_the_same_parts) {
  ck_assert_uint_eq(MESOS_VERSION_NUMBER,
                    MESOS_VERSION_MAJOR * 1000000 + MESOS_VERSION_MINOR * 1000 + MESOS_VERSION_PATCH);
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", MESOS_VERSION_MAJOR, MESOS_VERSION_MINOR,
           MESOS_VERSION_PATCH);
  ck_assert_str_eq(mesos_version_string(), want);
  unsigned major = 0, minor = 0, patch = 0;
  ck_assert_int_eq(sscanf(mesos_version_string(), "%u.%u.%u", &major, &minor, &patch), 3);
  ck_assert_uint_eq(mesos_version_number(), major * 1000000u + minor * 1000u + patch);
  /* MINOR and PATCH must fit their three digits for the encoding to order. */
  ck_assert_int_lt(MESOS_VERSION_MINOR, 1000);
  ck_assert_int_lt(MESOS_VERSION_PATCH, 1000);
}
END_TEST

START_TEST(test_version__api_version_is_v1) {
  ck_assert_str_eq(mesos_api_version(), "v1");
  /* Static storage: the same pointer every time. */
  ck_assert_ptr_eq(mesos_api_version(), mesos_api_version());
  ck_assert_ptr_eq(mesos_version_string(), mesos_version_string());
}
END_TEST

static Suite *version_suite(void) {
  Suite *s = suite_create("version");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_version__run_time_number_equals_compile_time_number);
  tcase_add_test(tc, test_version__run_time_string_equals_compile_time_string);
  tcase_add_test(tc, test_version__number_and_string_encode_the_same_parts);
  tcase_add_test(tc, test_version__api_version_is_v1);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(version_suite()); }
