/* The built-in allocator under memory exhaustion: a whole scenario run
 * once per allocation it makes, with that allocation failing; every run
 * must fail with MESOS_ENOMEM (or cope) and leave nothing allocated once
 * the allocator is freed. */
#include "support/oom.h"
#include "unit/allocator/alloc_fake_master.h"

static int offers_seen;

static void count_offer(const char *fw, const char *role, const char *agent,
                        const mesos_resources *res, void *ud) {
  (void)fw, (void)role, (void)agent, (void)res, (void)ud;
  offers_seen++;
}

#define TRY(expr)                   \
  do {                              \
    st = (expr);                    \
    if (st != MESOS_OK) goto out;   \
  } while (0)

static mesos_status parse(mesos_resources **r, const char *text) {
  mesos_status st = mesos_resources_new(r, NULL);
  if (st == MESOS_OK) st = mesos_resources_parse(*r, text, NULL, NULL);
  return st;
}

static mesos_status scenario(void *ud) {
  (void)ud;
  mesos_allocator *a = NULL;
  mesos_resources *total = NULL, *used = NULL, *quota = NULL, *part = NULL;
  mesos_status st;
  TRY(parse(&total, "cpus:4;mem:1024;ports:[31000-31100]"));
  TRY(parse(&used, "cpus:1;mem:128;ports:[31000-31000]"));
  TRY(parse(&quota, "cpus:2"));
  TRY(parse(&part, "cpus:1"));
  TRY(mesos_hierarchical_allocator_new(&a, NULL, NULL));
  TRY(mesos_allocator_initialize(a, count_offer, NULL, NULL, NULL));
  const char *r1[] = {"eng/web"}, *r2[] = {"ops"};
  mesos_allocator_framework f1 = MESOS_ALLOCATOR_FRAMEWORK_INIT, f2 = f1;
  f1.id = "f1";
  f1.roles = r1;
  f1.nroles = 1;
  f2.id = "f2";
  f2.roles = r2;
  f2.nroles = 1;
  TRY(mesos_allocator_add_framework(a, &f1, 1, NULL));
  mesos_allocator_allocation u = {"old", NULL, "ops", used};
  mesos_allocator_agent ag = MESOS_ALLOCATOR_AGENT_INIT;
  ag.id = "a1";
  ag.total = total;
  ag.used = &u;
  ag.nused = 1;
  TRY(mesos_allocator_add_agent(a, &ag, NULL));
  ag.id = "a2";
  ag.nused = 0;
  TRY(mesos_allocator_add_agent(a, &ag, NULL));
  TRY(mesos_allocator_set_quota(a, "ops", quota, NULL));
  TRY(mesos_allocator_add_framework(a, &f2, 1, NULL));
  TRY(mesos_allocator_allocate(a, NULL));
  TRY(mesos_allocator_recover_resources(a, "old", "a1", "ops", used, 0, NULL));
  TRY(mesos_allocator_recover_resources(a, "f1", "a2", NULL, part, 10, NULL));
  mesos_allocator_conversion c = {part, part};
  TRY(mesos_allocator_update_available(a, "a2", &c, 1, NULL));
  TRY(mesos_allocator_allocate(a, NULL));
  TRY(mesos_allocator_remove_framework(a, "f2", NULL));
  TRY(mesos_allocator_remove_agent(a, "a1", NULL));
  TRY(mesos_allocator_allocate(a, NULL));
out:
  mesos_allocator_free(a);
  mesos_resources_free(total);
  mesos_resources_free(used);
  mesos_resources_free(quota);
  mesos_resources_free(part);
  return st;
}

START_TEST(test_oom__every_failed_allocation_fails_cleanly_without_leaks) {
  uint64_t n = mesos_test_oom_torture(scenario, NULL, 20000);
  ck_assert_uint_gt(n, 100);
  ck_assert_int_gt(offers_seen, 0);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("allocator/oom");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_oom__every_failed_allocation_fails_cleanly_without_leaks);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
