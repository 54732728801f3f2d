/* The public resources API, used the way a binding author would. */
#include <string.h>

#include "mesos/mesos.h"
#include "support/testutil.h"

START_TEST(test_resources_api__parse_add_subtract_and_format) {
  mesos_resources *a = NULL, *b = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_resources_new(&a, &err), &err);
  ck_assert_mesos_ok(mesos_resources_new(&b, &err), &err);
  ck_assert_mesos_ok(mesos_resources_parse(a, "cpus:4;mem:2048;ports:[1000-2000]", NULL, &err),
                     &err);
  ck_assert_mesos_ok(mesos_resources_parse(b, "cpus:1.5;ports:[1500-1600]", NULL, &err), &err);
  ck_assert_int_eq(mesos_resources_contains(a, b), 1);
  ck_assert_mesos_ok(mesos_resources_subtract(a, b, &err), &err);
  ck_assert(mesos_resources_scalar(a, "cpus") == 2.5);
  char *s = NULL;
  ck_assert_mesos_ok(mesos_resources_format(a, &s, &err), &err);
  ck_assert_str_eq(s, "cpus(*):2.5; mem(*):2048; ports(*):[1000-1499, 1601-2000]");
  mesos_free(s);
  /* Subtracting what is not there fails and changes nothing. */
  ck_assert_int_eq(mesos_resources_subtract(a, b, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "not contained"));
  mesos_error_free(err);
  err = NULL;
  ck_assert(mesos_resources_scalar(a, "cpus") == 2.5);
  ck_assert_mesos_ok(mesos_resources_add(a, b, &err), &err);
  ck_assert(mesos_resources_scalar(a, "cpus") == 4.0);
  mesos_resources_free(a);
  mesos_resources_free(b);
}
END_TEST

START_TEST(test_resources_api__protobuf_bytes_round_trip) {
  mesos_resources *a = NULL, *b = NULL;
  ck_assert_int_eq(mesos_resources_new(&a, NULL), MESOS_OK);
  ck_assert_int_eq(mesos_resources_new(&b, NULL), MESOS_OK);
  ck_assert_int_eq(mesos_resources_parse(a, "cpus(eng):2;disks:{x,y}", NULL, NULL), MESOS_OK);
  ck_assert_uint_eq(mesos_resources_count(a), 2);
  for (size_t i = 0; i < mesos_resources_count(a); i++) {
    uint8_t *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(mesos_resources_get_protobuf(a, i, &buf, &len, NULL), MESOS_OK);
    ck_assert_int_eq(mesos_resources_add_protobuf(b, buf, len, NULL), MESOS_OK);
    mesos_free(buf);
  }
  ck_assert_int_eq(mesos_resources_equal(a, b), 1);
  mesos_resources *c = NULL;
  ck_assert_int_eq(mesos_resources_clone(&c, a, NULL), MESOS_OK);
  ck_assert_int_eq(mesos_resources_equal(a, c), 1);
  uint8_t *buf = NULL;
  size_t len = 0;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos_resources_get_protobuf(a, 2, &buf, &len, &err), MESOS_ENOTFOUND);
  mesos_error_free(err);
  const uint8_t junk[] = {0x0a, 0xff, 0x01};
  err = NULL;
  ck_assert_int_eq(mesos_resources_add_protobuf(b, junk, sizeof junk, &err), MESOS_EINVAL);
  mesos_error_free(err);
  ck_assert_int_eq(mesos_resources_equal(a, b), 1);
  mesos_resources_free(a);
  mesos_resources_free(b);
  mesos_resources_free(c);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("resources_api");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_resources_api__parse_add_subtract_and_format);
  tcase_add_test(tc, test_resources_api__protobuf_bytes_round_trip);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
