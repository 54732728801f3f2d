#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/map.h"
#include "base/uuid.h"
#include "support/testutil.h"

START_TEST(test_map__put_get_remove_survive_growth_and_deletion) {
  mesos__map m;
  mesos__map_init(&m);
  enum { N = 5000 };
  static int values[N];
  char key[32];
  for (int i = 0; i < N; i++) {
    values[i] = i;
    snprintf(key, sizeof key, "agent-%d-S%d", i * 7, i);
    ck_assert_int_eq(mesos__map_put(&m, key, &values[i]), MESOS_OK);
  }
  ck_assert_uint_eq(mesos__map_count(&m), N);
  /* Remove every third, then all others must still be found. */
  for (int i = 0; i < N; i += 3) {
    snprintf(key, sizeof key, "agent-%d-S%d", i * 7, i);
    ck_assert_ptr_eq(mesos__map_remove(&m, key), &values[i]);
    ck_assert_ptr_null(mesos__map_remove(&m, key));
  }
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "agent-%d-S%d", i * 7, i);
    void *v = mesos__map_get(&m, key);
    if (i % 3 == 0) ck_assert_ptr_null(v);
    else ck_assert_ptr_eq(v, &values[i]);
  }
  size_t it = 0, seen = 0;
  const char *k;
  void *v;
  while (mesos__map_next(&m, &it, &k, &v)) seen++;
  ck_assert_uint_eq(seen, mesos__map_count(&m));
  /* Replacing keeps the count. */
  snprintf(key, sizeof key, "agent-%d-S%d", 7, 1);
  ck_assert_int_eq(mesos__map_put(&m, key, &values[0]), MESOS_OK);
  ck_assert_uint_eq(seen, mesos__map_count(&m));
  ck_assert_ptr_eq(mesos__map_get(&m, key), &values[0]);
  mesos__map_free(&m);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_uuid__random_uuids_are_version_4_and_distinct) {
  char a[37], b[37];
  ck_assert_int_eq(mesos__uuid_random_str(a), MESOS_OK);
  ck_assert_int_eq(mesos__uuid_random_str(b), MESOS_OK);
  ck_assert_uint_eq(strlen(a), 36);
  ck_assert_int_eq(a[14], '4');
  ck_assert(strchr("89ab", a[19]) != NULL);
  ck_assert_str_ne(a, b);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("map");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_map__put_get_remove_survive_growth_and_deletion);
  tcase_add_test(tc, test_uuid__random_uuids_are_version_4_and_distinct);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
