#include <string.h>

#include "base/alloc.h"
#include "codec/pb.h"
#include "resources/resources.h"
#include "support/testutil.h"

static mesos__resources parse(const char *text) {
  mesos__resources r;
  mesos__resources_init(&r);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__resources_parse(&r, text, NULL, &err), &err);
  return r;
}

static void assert_format(const mesos__resources *r, const char *expect) {
  char *s = NULL;
  ck_assert_int_eq(mesos__resources_format(r, &s), MESOS_OK);
  ck_assert_str_eq(s, expect);
  mesos__free(s);
}

START_TEST(test_resources__agent_resource_string_parses_and_merges) {
  mesos__resources r = parse("cpus:2;mem:1024;ports:[31000-32000];cpus:1.5;disk(eng):10");
  assert_format(&r, "cpus(*):3.5; mem(*):1024; ports(*):[31000-32000]; disk(eng):10");
  ck_assert_int_eq(mesos__resources_scalar_milli(&r, "cpus"), 3500);
  mesos__resources_free(&r);
}
END_TEST

START_TEST(test_resources__scalar_arithmetic_uses_three_decimal_fixed_point) {
  mesos__resources r = parse("cpus:0.1");
  mesos__resources add = parse("cpus:0.2");
  ck_assert_int_eq(mesos__resources_add_all(&r, &add), MESOS_OK);
  mesos__resources three = parse("cpus:0.3");
  ck_assert(mesos__resources_equal(&r, &three));
  ck_assert_int_eq(mesos__resources_subtract_all(&r, &three, NULL), MESOS_OK);
  ck_assert(mesos__resources_empty(&r));
  mesos__resources_free(&r);
  mesos__resources_free(&add);
  mesos__resources_free(&three);
}
END_TEST

START_TEST(test_resources__ranges_split_and_coalesce) {
  mesos__resources r = parse("ports:[31000-32000]");
  mesos__resources take = parse("ports:[31005-31010, 32000-32000]");
  ck_assert(mesos__resources_contains_all(&r, &take));
  ck_assert_int_eq(mesos__resources_subtract_all(&r, &take, NULL), MESOS_OK);
  assert_format(&r, "ports(*):[31000-31004, 31011-31999]");
  ck_assert(!mesos__resources_contains_all(&r, &take));
  ck_assert_int_eq(mesos__resources_add_all(&r, &take), MESOS_OK);
  assert_format(&r, "ports(*):[31000-32000]");
  mesos__resources_free(&r);
  mesos__resources_free(&take);
}
END_TEST

START_TEST(test_resources__sets_are_unions_and_differences) {
  mesos__resources r = parse("disks:{sda, sdb}");
  mesos__resources more = parse("disks:{sdc,sda}");
  ck_assert_int_eq(mesos__resources_add_all(&r, &more), MESOS_OK);
  assert_format(&r, "disks(*):{sda, sdb, sdc}");
  mesos__resources one = parse("disks:{sdb}");
  ck_assert_int_eq(mesos__resources_subtract_all(&r, &one, NULL), MESOS_OK);
  assert_format(&r, "disks(*):{sda, sdc}");
  mesos__resources_free(&r);
  mesos__resources_free(&more);
  mesos__resources_free(&one);
}
END_TEST

START_TEST(test_resources__different_roles_do_not_merge_or_satisfy_each_other) {
  mesos__resources r = parse("cpus:4;cpus(eng):2");
  mesos__resources want = parse("cpus(eng):3");
  ck_assert(!mesos__resources_contains_all(&r, &want));
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__resources_subtract_all(&r, &want, &err), MESOS_EINVAL);
  mesos_error_free(err);
  /* Nothing was half-applied. */
  assert_format(&r, "cpus(*):4; cpus(eng):2");
  mesos__resources_free(&r);
  mesos__resources_free(&want);
}
END_TEST

START_TEST(test_resources__protobuf_round_trip_keeps_identity_and_value) {
  mesos__resources r = parse("cpus(eng/web):2;ports:[1-5,7-9];gpus:1");
  Mesos__V1__Resource **v = NULL;
  size_t n = 0;
  ck_assert_int_eq(mesos__resources_to_protos(&r, &v, &n, NULL), MESOS_OK);
  ck_assert_uint_eq(n, 3);
  ck_assert_str_eq(v[0]->name, "cpus");
  ck_assert_str_eq(mesos__resource_role(v[0]), "eng/web");
  ck_assert(v[0]->scalar && v[0]->scalar->value == 2.0);
  ck_assert_uint_eq(v[1]->ranges->n_range, 2);
  mesos__resources back;
  mesos__resources_init(&back);
  for (size_t i = 0; i < n; i++) {
    ck_assert_int_eq(mesos__resources_add(&back, v[i], NULL), MESOS_OK);
    mesos__pb_free(v[i]);
  }
  mesos__free(v);
  ck_assert(mesos__resources_equal(&r, &back));
  mesos__resources_free(&r);
  mesos__resources_free(&back);
}
END_TEST

START_TEST(test_resources__invalid_input_is_refused_with_a_reason) {
  const char *bad[] = {"cpus",        "cpus:abc",       "ports:[5-1]",     "ports:[1-2",
                       "cpus(:1",     ":1",             "cpus(a b):1",     "cpus(-x):1",
                       "cpus(a//b):1", "cpus:-1",       "disks:{a,,b}",    "ports:[x-y]",
                       "cpus(..):1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mesos__resources r;
    mesos__resources_init(&r);
    mesos_error *err = NULL;
    ck_assert_msg(mesos__resources_parse(&r, bad[i], NULL, &err) == MESOS_EINVAL, "%s accepted",
                  bad[i]);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(mesos_error_message(err), "resource") != NULL, "%s: %s", bad[i],
                  mesos_error_message(err));
    mesos_error_free(err);
    ck_assert(mesos__resources_empty(&r));
    mesos__resources_free(&r);
  }
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

static Suite *resources_suite(void) {
  Suite *s = suite_create("resources");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_resources__agent_resource_string_parses_and_merges);
  tcase_add_test(tc, test_resources__scalar_arithmetic_uses_three_decimal_fixed_point);
  tcase_add_test(tc, test_resources__ranges_split_and_coalesce);
  tcase_add_test(tc, test_resources__sets_are_unions_and_differences);
  tcase_add_test(tc, test_resources__different_roles_do_not_merge_or_satisfy_each_other);
  tcase_add_test(tc, test_resources__protobuf_round_trip_keeps_identity_and_value);
  tcase_add_test(tc, test_resources__invalid_input_is_refused_with_a_reason);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(resources_suite()); }
