/* mesos__resources_add_sharing: entries whose identity a long-lived bag
 * holds take it from there (same key and proto pointers, no copy); the
 * others are built as mesos__resources_add does; values and validation are
 * the same either way. */
#include <string.h>

#include "base/alloc.h"
#include "codec/pb.h"
#include "resources/resources.h"
#include "support/testutil.h"

START_TEST(test_resources_sharing__known_identities_are_shared_others_built) {
  int64_t live = mesos__alloc_live();
  mesos__resources total, a, b, part;
  mesos__resources_init(&total);
  mesos__resources_init(&part);
  mesos__resources_init(&a);
  mesos__resources_init(&b);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(
      mesos__resources_parse(&total, "cpus:8;mem:1024;ports:[31000-32000];disk(eng):50", NULL,
                             &err),
      &err);
  Mesos__V1__Resource **v = NULL;
  size_t n = 0;
  ck_assert_mesos_ok(
      mesos__resources_parse(&part, "cpus:0.5;ports:[31001-31002];disk(eng):5;gpus:1", NULL,
                             &err),
      &err);
  ck_assert_mesos_ok(mesos__resources_to_protos(&part, &v, &n, &err), &err);
  ck_assert_mesos_ok(mesos__resources_reserve(&a, n), NULL);
  for (size_t i = 0; i < n; i++) {
    ck_assert_mesos_ok(mesos__resources_add_sharing(&a, v[i], &total, &err), &err);
    ck_assert_mesos_ok(mesos__resources_add(&b, v[i], &err), &err);
  }
  ck_assert(mesos__resources_equal(&a, &b));
  ck_assert(mesos__resources_equal(&a, &part));
  size_t shared = 0;
  for (size_t i = 0; i < a.n; i++)
    for (size_t k = 0; k < total.n; k++)
      if (a.v[i].key == total.v[k].key) shared++;
  ck_assert_uint_eq(shared, 3); /* cpus, ports, disk(eng); gpus is not in total */
  /* Adding the same again merges into the entries already there. */
  ck_assert_mesos_ok(mesos__resources_add_sharing(&a, v[0], &total, &err), &err);
  ck_assert_mesos_ok(mesos__resources_add(&b, v[0], &err), &err);
  ck_assert_uint_eq(a.n, b.n);
  ck_assert(mesos__resources_equal(&a, &b));
  /* Invalid input is refused either way, the bag unchanged. */
  Mesos__V1__Resource bad = *v[0];
  Mesos__V1__Value__Scalar neg = *v[0]->scalar;
  neg.value = -1;
  bad.scalar = &neg;
  size_t before = a.n;
  ck_assert_int_eq(mesos__resources_add_sharing(&a, &bad, &total, &err), MESOS_EINVAL);
  ck_assert_uint_eq(a.n, before);
  mesos_error_free(err);
  for (size_t i = 0; i < n; i++) mesos__pb_free(v[i]);
  mesos__free(v);
  mesos__resources_free(&part);
  /* The shared identities outlive the bag they came from. */
  mesos__resources_free(&total);
  ck_assert(mesos__resources_equal(&a, &b));
  mesos__resources_free(&a);
  mesos__resources_free(&b);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

static Suite *sharing_suite(void) {
  Suite *s = suite_create("resources_sharing");
  TCase *tc = tcase_create("sharing");
  tcase_add_test(tc, test_resources_sharing__known_identities_are_shared_others_built);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(sharing_suite()); }
