/* The built-in hierarchical DRF allocator, driven through the public vtable
 * by a fake master that records offers (alloc_fake_master.h). */
#include <math.h>

#include "allocator/bag.h"
#include "resources/resources_int.h"
#include "unit/allocator/alloc_fake_master.h"

START_TEST(test_hierarchical__a_single_framework_gets_every_agent) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "f1", "*");
  fm_add_agent(&m, "a1", "cpus:4;mem:1024;ports:[31000-31009]");
  fm_add_agent(&m, "a2", "cpus:2;mem:512");
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 2);
  const fm_offer *o = fm_find(&m, "f1", "a1");
  ck_assert_ptr_nonnull(o);
  ck_assert_str_eq(o->role, "*");
  ck_assert(mesos_resources_equal(o->res, m.owned[0]));
  ck_assert_double_eq(fm_scalar(&m, "f1", "cpus"), 6);
  /* Everything is allocated now: the next cycle offers nothing. */
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 0);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__two_frameworks_in_one_role_alternate_by_dominant_share) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "fa", "web");
  fm_add_fw(&m, "fb", "web");
  for (int i = 0; i < 6; i++) {
    char id[16];
    snprintf(id, sizeof id, "a%d", i);
    fm_add_agent(&m, id, "cpus:1;mem:100");
  }
  fm_cycle(&m);
  ck_assert_int_eq(fm_count(&m, "fa"), 3);
  ck_assert_int_eq(fm_count(&m, "fb"), 3);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__dominant_share_uses_the_scarcest_resource) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "cpu-heavy", "r");
  fm_add_fw(&m, "other", "r");
  /* cpu-heavy already holds 3 of the 4 cpus of the cluster (75%), other
   * holds half the memory (50%): other has the lower dominant share. */
  mesos_allocator_allocation used[2] = {
      {"cpu-heavy", NULL, "r", fm_res(&m, "cpus:3;mem:1")},
      {"other", NULL, "r", fm_res(&m, "cpus:0.1;mem:500")}};
  mesos_allocator_agent ag = MESOS_ALLOCATOR_AGENT_INIT;
  ag.id = "big";
  ag.total = fm_res(&m, "cpus:3.1;mem:501");
  ag.used = used;
  ag.nused = 2;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_add_agent(m.a, &ag, &err), &err);
  fm_add_agent(&m, "free", "cpus:0.9;mem:499");
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_str_eq(m.offers[0].fw, "other");
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__weights_skew_role_shares) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "f1", "r1");
  fm_add_fw(&m, "f2", "r2");
  const char *roles[] = {"r1"};
  double w[] = {3};
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_update_weights(m.a, roles, w, 1, &err), &err);
  for (int i = 0; i < 8; i++) {
    char id[16];
    snprintf(id, sizeof id, "a%d", i);
    fm_add_agent(&m, id, "cpus:1;mem:100");
  }
  fm_cycle(&m);
  ck_assert_int_eq(fm_count(&m, "f1"), 6);
  ck_assert_int_eq(fm_count(&m, "f2"), 2);
  /* A weight must be positive. */
  double bad[] = {0};
  ck_assert_int_eq(mesos_allocator_update_weights(m.a, roles, bad, 1, &err), MESOS_EINVAL);
  mesos_error_free(err);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__hierarchical_roles_share_at_each_level) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "web", "eng/web");
  fm_add_fw(&m, "db", "eng/db");
  fm_add_fw(&m, "ops", "ops");
  for (int i = 0; i < 8; i++) {
    char id[16];
    snprintf(id, sizeof id, "a%d", i);
    fm_add_agent(&m, id, "cpus:1;mem:100");
  }
  fm_cycle(&m);
  /* eng and ops split the cluster; eng's half is split between its
   * sub-roles (not a third each, as flat roles would). */
  ck_assert_int_eq(fm_count(&m, "ops"), 4);
  ck_assert_int_eq(fm_count(&m, "web"), 2);
  ck_assert_int_eq(fm_count(&m, "db"), 2);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__quota_is_met_before_fair_share) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "a-fw", "analytics"); /* sorts first by name */
  fm_add_fw(&m, "q-fw", "quota");
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_set_quota(m.a, "quota", fm_res(&m, "cpus:3"), &err), &err);
  for (int i = 0; i < 4; i++) {
    char id[16];
    snprintf(id, sizeof id, "a%d", i);
    fm_add_agent(&m, id, "cpus:2;mem:1024");
  }
  fm_cycle(&m);
  ck_assert_double_ge(fm_scalar(&m, "q-fw", "cpus"), 3);
  ck_assert_double_eq(fm_scalar(&m, "q-fw", "cpus") + fm_scalar(&m, "a-fw", "cpus"), 8);
  /* Quota on "*" and non-scalar quota are refused. */
  ck_assert_int_eq(mesos_allocator_set_quota(m.a, "*", fm_res(&m, "cpus:1"), &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos_allocator_set_quota(m.a, "x", fm_res(&m, "ports:[1-2]"), &err),
                   MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "ports"));
  mesos_error_free(err);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__quota_headroom_is_held_back_from_other_roles) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "greedy", "other");
  mesos_error *err = NULL;
  /* The quota role has no framework yet: its 4 cpus stay unoffered. */
  ck_assert_mesos_ok(mesos_allocator_set_quota(m.a, "prod", fm_res(&m, "cpus:4"), &err), &err);
  for (int i = 0; i < 4; i++) {
    char id[16];
    snprintf(id, sizeof id, "a%d", i);
    fm_add_agent(&m, id, "cpus:2;mem:1024");
  }
  fm_cycle(&m);
  ck_assert_double_eq(fm_scalar(&m, "greedy", "cpus"), 4);
  /* Once the quota role has a framework it receives the headroom. */
  fm_add_fw(&m, "prod-fw", "prod");
  fm_cycle(&m);
  ck_assert_double_eq(fm_scalar(&m, "prod-fw", "cpus"), 4);
  /* Without quota, nothing is held back any more. */
  fake_master m2;
  fm_init(&m2, NULL);
  fm_add_fw(&m2, "greedy", "other");
  ck_assert_mesos_ok(mesos_allocator_set_quota(m2.a, "prod", fm_res(&m2, "cpus:4"), &err), &err);
  ck_assert_mesos_ok(mesos_allocator_remove_quota(m2.a, "prod", &err), &err);
  ck_assert_int_eq(mesos_allocator_remove_quota(m2.a, "prod", &err), MESOS_ENOTFOUND);
  mesos_error_free(err);
  fm_add_agent(&m2, "a0", "cpus:2;mem:1024");
  fm_cycle(&m2);
  ck_assert_double_eq(fm_scalar(&m2, "greedy", "cpus"), 2);
  fm_fini(&m2);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__statically_reserved_resources_go_to_their_role_only) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "dev", "dev");
  fm_add_fw(&m, "ops", "ops");
  fm_add_fw(&m, "web", "eng/web");
  fm_add_agent(&m, "ops-box", "cpus(ops):2;mem(ops):512");
  fm_add_agent(&m, "eng-box", "cpus(eng):2;mem(eng):512");
  fm_add_agent(&m, "mixed", "cpus(ops):1;mem(ops):256;cpus:1;mem:256");
  fm_cycle(&m);
  ck_assert_ptr_nonnull(fm_find(&m, "ops", "ops-box"));
  ck_assert_ptr_null(fm_find(&m, "dev", "ops-box"));
  ck_assert_ptr_null(fm_find(&m, "web", "ops-box"));
  /* Reserved to "eng": usable by its sub-role eng/web. */
  ck_assert_ptr_nonnull(fm_find(&m, "web", "eng-box"));
  ck_assert_ptr_null(fm_find(&m, "ops", "eng-box"));
  /* On the mixed agent ops' offer holds its reservation; nobody else
   * sees it. */
  double ops_reserved = 0, others_reserved = 0;
  for (int i = 0; i < m.noffers; i++) {
    if (strcmp(m.offers[i].agent, "mixed") != 0) continue;
    char *txt = NULL;
    ck_assert_int_eq(mesos_resources_format(m.offers[i].res, &txt, NULL), MESOS_OK);
    if (strstr(txt, "(ops)")) {
      if (strcmp(m.offers[i].fw, "ops") == 0) ops_reserved++;
      else others_reserved++;
    }
    mesos_free(txt);
  }
  ck_assert_double_eq(ops_reserved, 1);
  ck_assert_double_eq(others_reserved, 0);
  fm_fini(&m);
}
END_TEST

/* cpus:`v` dynamically reserved to `role`. */
static mesos_resources *dynamic(fake_master *m, double v, const char *role) {
  Mesos__V1__Resource r = MESOS__V1__RESOURCE__INIT;
  Mesos__V1__Value__Scalar s = MESOS__V1__VALUE__SCALAR__INIT;
  Mesos__V1__Resource__ReservationInfo ri = MESOS__V1__RESOURCE__RESERVATION_INFO__INIT;
  Mesos__V1__Resource__ReservationInfo *rp[1] = {&ri};
  ri.has_type = 1;
  ri.type = MESOS__V1__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC;
  ri.role = (char *)role;
  r.name = (char *)"cpus";
  r.type = MESOS__V1__VALUE__TYPE__SCALAR;
  r.scalar = &s;
  s.value = v;
  r.n_reservations = 1;
  r.reservations = rp;
  mesos_resources *out = fm_res(m, "");
  ck_assert_int_eq(mesos__resources_add(&out->r, &r, NULL), MESOS_OK);
  return out;
}

START_TEST(test_hierarchical__operations_reserve_and_unreserve_available_resources) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "dev", "dev");
  fm_add_agent(&m, "a1", "cpus:4;mem:1024");
  mesos_error *err = NULL;
  /* Reserve 3 of the 4 cpus for ops: dev is offered the rest only. */
  mesos_allocator_conversion reserve = {fm_res(&m, "cpus:3"), dynamic(&m, 3, "ops")};
  ck_assert_mesos_ok(mesos_allocator_update_available(m.a, "a1", &reserve, 1, &err), &err);
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_double_eq(fm_scalar(&m, "dev", "cpus"), 1);
  fm_decline_all(&m, 0);
  /* Unreserve: dev gets all 4 again. */
  mesos_allocator_conversion unreserve = {reserve.converted, reserve.consumed};
  ck_assert_mesos_ok(mesos_allocator_update_available(m.a, "a1", &unreserve, 1, &err), &err);
  fm_cycle(&m);
  ck_assert_double_eq(fm_scalar(&m, "dev", "cpus"), 4);
  /* Consumed resources that are not available: refused, nothing changes. */
  mesos_allocator_conversion bad = {fm_res(&m, "cpus:1"), dynamic(&m, 1, "ops")};
  ck_assert_int_eq(mesos_allocator_update_available(m.a, "a1", &bad, 1, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  /* The same conversion on dev's allocation works (a RESERVE on an offer)
   * and is what dev holds afterwards. */
  ck_assert_mesos_ok(mesos_allocator_update_allocation(m.a, "dev", "a1", "dev", &bad, 1, &err),
                     &err);
  mesos_resources *held = fm_res(&m, "cpus:3;mem:1024");
  ck_assert_int_eq(mesos_resources_add(held, bad.converted, NULL), MESOS_OK);
  ck_assert_mesos_ok(
      mesos_allocator_recover_resources(m.a, "dev", "a1", "dev", held, 0, &err), &err);
  ck_assert_int_eq(mesos_allocator_update_allocation(m.a, "dev", "a1", NULL, &bad, 1, &err),
                   MESOS_EINVAL);
  mesos_error_free(err);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__refuse_filter_expires_after_its_timeout) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "f1", "*");
  fm_add_agent(&m, "a1", "cpus:1;mem:128");
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  fm_decline(&m, 0, 5.0);
  m.now_ns += 4000000000ull;
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 0);
  m.now_ns += 1000000001ull;
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__unbounded_filter_lasts_until_revive) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "f1", "*");
  fm_add_fw(&m, "f2", "*");
  fm_add_agent(&m, "a1", "cpus:1;mem:128");
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_str_eq(m.offers[0].fw, "f1");
  fm_decline(&m, 0, MESOS_ALLOCATOR_REFUSE_FOREVER);
  fm_cycle(&m); /* f1 filtered: f2 gets it */
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_str_eq(m.offers[0].fw, "f2");
  fm_decline(&m, 0, INFINITY);
  m.now_ns += 3600ull * 24 * 365 * 1000000000ull;
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 0);
  mesos_allocator_stats st = MESOS_ALLOCATOR_STATS_INIT;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_stats_get(m.a, &st, &err), &err);
  ck_assert_uint_eq(st.filters, 2);
  ck_assert_mesos_ok(mesos_allocator_revive(m.a, "f2", NULL, &err), &err);
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_str_eq(m.offers[0].fw, "f2");
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__filter_does_not_hide_more_than_was_declined) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "f1", "*");
  mesos_allocator_allocation used = {"f1", NULL, "*", fm_res(&m, "cpus:1;mem:64")};
  mesos_allocator_agent ag = MESOS_ALLOCATOR_AGENT_INIT;
  ag.id = "a1";
  ag.total = fm_res(&m, "cpus:2;mem:128");
  ag.used = &used;
  ag.nused = 1;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_add_agent(m.a, &ag, &err), &err);
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  fm_decline(&m, 0, MESOS_ALLOCATOR_REFUSE_FOREVER);
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 0);
  /* The task ends: the agent now has more than f1 refused. */
  ck_assert_mesos_ok(
      mesos_allocator_recover_resources(m.a, "f1", "a1", "*", used.resources, 0, &err), &err);
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_double_eq(fm_scalar(&m, "f1", "cpus"), 2);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__suppressed_framework_gets_no_offers_until_revived) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "f1", "*");
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_suppress(m.a, "f1", NULL, &err), &err);
  fm_add_agent(&m, "a1", "cpus:1;mem:128");
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 0);
  ck_assert_int_eq(mesos_allocator_suppress(m.a, "f1", "no-such-role", &err), MESOS_ENOTFOUND);
  mesos_error_free(err);
  err = NULL;
  ck_assert_mesos_ok(mesos_allocator_revive(m.a, "f1", "*", &err), &err);
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__recovered_resources_are_offered_again) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "f1", "*");
  fm_add_agent(&m, "a1", "cpus:4;mem:1024");
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  /* f1 launches a task on part of it and gives the rest back. */
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_recover_resources(m.a, "f1", "a1", NULL,
                                                       fm_res(&m, "cpus:3;mem:512"), 0, &err),
                     &err);
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_double_eq(fm_scalar(&m, "f1", "cpus"), 3);
  ck_assert_double_eq(fm_scalar(&m, "f1", "mem"), 512);
  /* Giving back what it does not hold is refused. */
  ck_assert_int_eq(mesos_allocator_recover_resources(m.a, "f1", "a1", NULL,
                                                     fm_res(&m, "cpus:5"), 0, &err),
                   MESOS_EINVAL);
  mesos_error_free(err);
  /* A decline for an agent or framework that is gone is a no-op. */
  ck_assert_int_eq(mesos_allocator_recover_resources(m.a, "f1", "gone", NULL,
                                                     fm_res(&m, "cpus:1"), 0, NULL),
                   MESOS_OK);
  fm_fini(&m);
}
END_TEST

/* An ACCEPT may combine two offers of one agent made in different cycles
 * (two grants); the task launched from them and what the ACCEPT leaves
 * over each span both grants.  Both must come back exactly, so the whole
 * agent is offered again (the master's "cannot recover resources: not
 * allocated" warning at teardown came from here). */
START_TEST(test_hierarchical__resources_spanning_offers_of_two_cycles_come_back) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "f1", "*");
  fm_add_agent(&m, "a1", "cpus:4;mem:1024;ports:[31000-31009]");
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  /* Part of the first offer comes back (a task ended) and is offered in
   * the next cycle while the rest of the first one is still held. */
  mesos_error *err = NULL;
  ck_assert_mesos_ok(
      mesos_allocator_recover_resources(m.a, "f1", "a1", NULL,
                                        fm_res(&m, "cpus:1;mem:256;ports:[31000-31004]"), 0, &err),
      &err);
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_double_eq(fm_scalar(&m, "f1", "cpus"), 1);
  /* Giving back more than both grants hold together is refused, and
   * changes nothing. */
  ck_assert_int_eq(mesos_allocator_recover_resources(m.a, "f1", "a1", NULL,
                                                     fm_res(&m, "cpus:4.5"), 0, &err),
                   MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "not allocated"));
  mesos_error_free(err);
  err = NULL;
  /* The task takes cpus 3.5 of 1 + 3, ports 31003-31006 of both; the
   * ACCEPT's leftover (cpus 0.5, ports at both ends) goes back first. */
  ck_assert_mesos_ok(mesos_allocator_recover_resources(
                         m.a, "f1", "a1", NULL,
                         fm_res(&m, "cpus:0.5;mem:124;ports:[31000-31002,31007-31009]"), 0, &err),
                     &err);
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_double_eq(fm_scalar(&m, "f1", "cpus"), 0.5);
  /* That offer is declined; then the task ends. */
  fm_decline_all(&m, 0);
  ck_assert_mesos_ok(mesos_allocator_recover_resources(
                         m.a, "f1", "a1", NULL,
                         fm_res(&m, "cpus:3.5;mem:900;ports:[31003-31006]"), 0, &err),
                     &err);
  /* Exact accounting: the whole agent is offered again, nothing more. */
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert(mesos_resources_equal(m.offers[0].res,
                                  fm_res(&m, "cpus:4;mem:1024;ports:[31000-31009]")));
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__removing_a_framework_frees_its_allocation) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "f1", "*");
  fm_add_agent(&m, "a1", "cpus:1;mem:128");
  fm_cycle(&m);
  ck_assert_int_eq(fm_count(&m, "f1"), 1);
  fm_add_fw(&m, "f2", "*");
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 0);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_remove_framework(m.a, "f1", &err), &err);
  ck_assert_int_eq(mesos_allocator_remove_framework(m.a, "f1", &err), MESOS_ENOTFOUND);
  mesos_error_free(err);
  fm_cycle(&m);
  ck_assert_int_eq(fm_count(&m, "f2"), 1);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__removing_an_agent_frees_its_allocation) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "f1", "*");
  fm_add_agent(&m, "a1", "cpus:1;mem:128");
  fm_add_agent(&m, "a2", "cpus:1;mem:128");
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 2);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_remove_agent(m.a, "a1", &err), &err);
  ck_assert_int_eq(mesos_allocator_remove_agent(m.a, "a1", &err), MESOS_ENOTFOUND);
  mesos_error_free(err);
  /* f1's share is now a2 only; a new agent goes to it (alone) */
  mesos_allocator_stats st = MESOS_ALLOCATOR_STATS_INIT;
  ck_assert_mesos_ok(mesos_allocator_stats_get(m.a, &st, NULL), NULL);
  ck_assert_uint_eq(st.agents, 1);
  ck_assert_uint_eq(st.frameworks, 1);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__cycles_only_look_at_agents_that_changed) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "f1", "*");
  for (int i = 0; i < 10; i++) {
    char id[16];
    snprintf(id, sizeof id, "a%d", i);
    fm_add_agent(&m, id, "cpus:1;mem:128");
  }
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 10);
  fm_decline(&m, 3, MESOS_ALLOCATOR_REFUSE_FOREVER);
  fm_decline(&m, 4, 0);
  fm_cycle(&m);
  mesos_allocator_stats st = MESOS_ALLOCATOR_STATS_INIT;
  ck_assert_mesos_ok(mesos_allocator_stats_get(m.a, &st, NULL), NULL);
  ck_assert_uint_eq(st.last_cycle_agents, 2);
  ck_assert_int_eq(m.noffers, 1);
  fm_cycle(&m);
  ck_assert_mesos_ok(mesos_allocator_stats_get(m.a, &st, NULL), NULL);
  ck_assert_uint_eq(st.last_cycle_agents, 0);
  ck_assert_uint_eq(st.cycles, 3);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__agents_below_the_minimum_are_not_offered) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "f1", "*");
  fm_add_agent(&m, "tiny", "cpus:0.005;mem:16");
  fm_add_agent(&m, "mem-only", "mem:64");
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_str_eq(m.offers[0].agent, "mem-only");
  fm_fini(&m);
  /* A custom minimum. */
  mesos_hierarchical_allocator_options o = MESOS_HIERARCHICAL_ALLOCATOR_OPTIONS_INIT;
  o.min_allocatable_resources = "cpus:1;mem:100";
  fm_init(&m, &o);
  fm_add_fw(&m, "f1", "*");
  fm_add_agent(&m, "small", "cpus:2;mem:50");
  fm_add_agent(&m, "ok", "cpus:1;mem:100");
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_str_eq(m.offers[0].agent, "ok");
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__gpu_agents_go_to_gpu_capable_frameworks) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "plain", "*");
  fm_add_fw_caps(&m, "gpu", "*", MESOS_ALLOCATOR_CAP_GPU_RESOURCES);
  fm_add_agent(&m, "g1", "cpus:1;mem:128;gpus:1");
  fm_add_agent(&m, "g2", "cpus:1;mem:128;gpus:1");
  fm_add_agent(&m, "c1", "cpus:1;mem:128");
  fm_cycle(&m);
  ck_assert_ptr_nonnull(fm_find(&m, "gpu", "g1"));
  ck_assert_ptr_nonnull(fm_find(&m, "gpu", "g2"));
  ck_assert_ptr_null(fm_find(&m, "plain", "g1"));
  ck_assert_ptr_null(fm_find(&m, "plain", "g2"));
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__revocable_resources_only_to_frameworks_that_accept_them) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "plain", "*");
  fm_add_agent(&m, "a1", "cpus:1;mem:128");
  /* The agent gains 2 revocable cpus. */
  Mesos__V1__Resource r = MESOS__V1__RESOURCE__INIT;
  Mesos__V1__Value__Scalar s = MESOS__V1__VALUE__SCALAR__INIT;
  Mesos__V1__Resource__RevocableInfo rev = MESOS__V1__RESOURCE__REVOCABLE_INFO__INIT;
  r.name = (char *)"cpus";
  r.type = MESOS__V1__VALUE__TYPE__SCALAR;
  r.scalar = &s;
  s.value = 2;
  r.revocable = &rev;
  mesos_resources *total = fm_res(&m, "cpus:1;mem:128");
  ck_assert_int_eq(mesos__resources_add(&total->r, &r, NULL), MESOS_OK);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_update_agent(m.a, "a1", total, &err), &err);
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_double_eq(fm_scalar(&m, "plain", "cpus"), 1);
  fm_add_fw_caps(&m, "rev", "*", MESOS_ALLOCATOR_CAP_REVOCABLE_RESOURCES);
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_double_eq(fm_scalar(&m, "rev", "cpus"), 2);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__deactivated_agents_and_frameworks_get_nothing) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "f1", "*");
  fm_add_agent(&m, "a1", "cpus:1;mem:128");
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_deactivate_agent(m.a, "a1", &err), &err);
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 0);
  ck_assert_mesos_ok(mesos_allocator_activate_agent(m.a, "a1", &err), &err);
  ck_assert_mesos_ok(mesos_allocator_deactivate_framework(m.a, "f1", &err), &err);
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 0);
  ck_assert_mesos_ok(mesos_allocator_activate_framework(m.a, "f1", &err), &err);
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__resources_used_by_an_unknown_framework_count_for_its_role) {
  fake_master m;
  fm_init(&m, NULL);
  /* Master fail-over: the agent comes back before framework "old". */
  mesos_allocator_allocation used = {"old", NULL, "r", fm_res(&m, "cpus:3;mem:300")};
  mesos_allocator_agent ag = MESOS_ALLOCATOR_AGENT_INIT;
  ag.id = "a1";
  ag.total = fm_res(&m, "cpus:4;mem:400");
  ag.used = &used;
  ag.nused = 1;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_add_agent(m.a, &ag, &err), &err);
  fm_add_agent(&m, "a2", "cpus:4;mem:400");
  fm_add_fw(&m, "new-r", "r");
  fm_add_fw(&m, "s-fw", "s");
  fm_cycle(&m);
  /* r already holds 3/8 of the cpus: s is served first; the leftover of
   * a1 (1 cpu) goes next. */
  ck_assert_ptr_nonnull(fm_find(&m, "s-fw", "a2"));
  fm_add_fw(&m, "old", "r");
  ck_assert_mesos_ok(mesos_allocator_recover_resources(m.a, "old", "a1", "r", used.resources, 0,
                                                       &err),
                     &err);
  mesos_allocator_stats st = MESOS_ALLOCATOR_STATS_INIT;
  ck_assert_mesos_ok(mesos_allocator_stats_get(m.a, &st, NULL), NULL);
  ck_assert_uint_eq(st.frameworks, 3);
  /* Used resources that do not fit in the total are refused. */
  mesos_allocator_allocation too_much = {"x", NULL, "r", fm_res(&m, "cpus:5")};
  ag.id = "a3";
  ag.used = &too_much;
  ck_assert_int_eq(mesos_allocator_add_agent(m.a, &ag, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "a3"));
  mesos_error_free(err);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__maintenance_sends_one_inverse_offer_per_holder) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "f1", "*");
  fm_add_agent(&m, "a1", "cpus:1;mem:128");
  fm_cycle(&m);
  mesos_allocator_unavailability u = {5000000000ll, 0};
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_update_unavailability(m.a, "a1", &u, &err), &err);
  fm_cycle(&m);
  ck_assert_int_eq(m.ninverse, 1);
  ck_assert_str_eq(m.inv_fw[0], "f1");
  fm_cycle(&m);
  ck_assert_int_eq(m.ninverse, 0);
  /* Answered with a 10 s refusal: asked again after that. */
  ck_assert_mesos_ok(mesos_allocator_update_inverse_offer(m.a, "f1", "a1", 10, &err), &err);
  fm_cycle(&m);
  ck_assert_int_eq(m.ninverse, 0);
  m.now_ns += 11000000000ull;
  fm_cycle(&m);
  ck_assert_int_eq(m.ninverse, 1);
  ck_assert_mesos_ok(mesos_allocator_update_unavailability(m.a, "a1", NULL, &err), &err);
  fm_cycle(&m);
  ck_assert_int_eq(m.ninverse, 0);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__bad_input_is_refused_with_a_message) {
  fake_master m;
  fm_init(&m, NULL);
  mesos_error *err = NULL;
  fm_add_fw(&m, "f1", "*");
  const char *roles[] = {"a", "b"};
  mesos_allocator_framework fw = MESOS_ALLOCATOR_FRAMEWORK_INIT;
  fw.id = "f1";
  fw.roles = roles;
  fw.nroles = 1;
  ck_assert_int_eq(mesos_allocator_add_framework(m.a, &fw, 1, &err), MESOS_EEXIST);
  mesos_error_free(err);
  err = NULL;
  fw.id = "multi";
  fw.nroles = 2;
  ck_assert_int_eq(mesos_allocator_add_framework(m.a, &fw, 1, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "MULTI_ROLE"));
  mesos_error_free(err);
  err = NULL;
  const char *bad_roles[] = {"eng//web"};
  fw.roles = bad_roles;
  fw.nroles = 1;
  ck_assert_int_eq(mesos_allocator_add_framework(m.a, &fw, 1, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "eng//web"));
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos_allocator_activate_framework(m.a, "nope", &err), MESOS_ENOTFOUND);
  mesos_error_free(err);
  err = NULL;
  fm_add_agent(&m, "a1", "cpus:1");
  mesos_allocator_agent ag = MESOS_ALLOCATOR_AGENT_INIT;
  ag.id = "a1";
  ag.total = fm_res(&m, "cpus:1");
  ck_assert_int_eq(mesos_allocator_add_agent(m.a, &ag, &err), MESOS_EEXIST);
  mesos_error_free(err);
  err = NULL;
  ag.version = 7;
  ck_assert_int_eq(mesos_allocator_add_agent(m.a, &ag, &err), MESOS_EVERSION);
  mesos_error_free(err);
  err = NULL;
  /* Multi-role framework with the capability: offers carry the role. */
  const char *two[] = {"x", "y"};
  fw.id = "multi";
  fw.roles = two;
  fw.nroles = 2;
  fw.capabilities = MESOS_ALLOCATOR_CAP_MULTI_ROLE;
  ck_assert_mesos_ok(mesos_allocator_add_framework(m.a, &fw, 1, &err), &err);
  ck_assert_mesos_ok(mesos_allocator_update_framework(m.a, &fw, &err), &err);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__options_are_checked) {
  mesos_allocator *a = NULL;
  mesos_error *err = NULL;
  mesos_hierarchical_allocator_options o = MESOS_HIERARCHICAL_ALLOCATOR_OPTIONS_INIT;
  o.min_allocatable_resources = "cpus:x";
  ck_assert_int_eq(mesos_hierarchical_allocator_new(&a, &o, &err), MESOS_EINVAL);
  ck_assert_ptr_null(a);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "min_allocatable_resources"));
  mesos_error_free(err);
  err = NULL;
  o.min_allocatable_resources = NULL;
  o.fair_sharing_excluded_resource_names = "gpus,,x";
  ck_assert_int_eq(mesos_hierarchical_allocator_new(&a, &o, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "fair_sharing_excluded_resource_names"));
  mesos_error_free(err);
  err = NULL;
  o.fair_sharing_excluded_resource_names = NULL;
  o.version = 99;
  ck_assert_int_eq(mesos_hierarchical_allocator_new(&a, &o, &err), MESOS_EVERSION);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "mesos_hierarchical_allocator_options"));
  mesos_error_free(err);
  ck_assert_int_eq(mesos_hierarchical_allocator_options_init(&o, 99), MESOS_EVERSION);
  ck_assert_int_eq(mesos_hierarchical_allocator_options_init(NULL, 1), MESOS_EINVAL);
  ck_assert_int_eq(
      mesos_hierarchical_allocator_options_init(&o, MESOS_HIERARCHICAL_ALLOCATOR_OPTIONS_VERSION),
      MESOS_OK);
  ck_assert_int_eq(o.filter_gpu_resources, 1);
  ck_assert_mesos_ok(mesos_hierarchical_allocator_new(&a, NULL, &err), &err);
  mesos_allocator_free(a);
}
END_TEST

START_TEST(test_hierarchical__excluded_resources_do_not_count_for_fairness) {
  mesos_hierarchical_allocator_options o = MESOS_HIERARCHICAL_ALLOCATOR_OPTIONS_INIT;
  o.fair_sharing_excluded_resource_names = "gpus";
  fake_master m;
  fm_init(&m, &o);
  /* "a-gpu" holds all the GPUs but almost no cpu; without exclusion its
   * share would be 100%. */
  mesos_allocator_allocation used = {"a-gpu", NULL, "r1", fm_res(&m, "cpus:0.1;gpus:4")};
  mesos_allocator_agent ag = MESOS_ALLOCATOR_AGENT_INIT;
  ag.id = "g";
  ag.total = fm_res(&m, "cpus:0.1;gpus:4");
  ag.used = &used;
  ag.nused = 1;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_add_agent(m.a, &ag, &err), &err);
  mesos_allocator_allocation used2 = {"b-cpu", NULL, "r2", fm_res(&m, "cpus:1")};
  ag.id = "c";
  ag.total = fm_res(&m, "cpus:1");
  ag.used = &used2;
  ck_assert_mesos_ok(mesos_allocator_add_agent(m.a, &ag, &err), &err);
  fm_add_fw(&m, "a-gpu", "r1");
  fm_add_fw(&m, "b-cpu", "r2");
  fm_add_agent(&m, "free", "cpus:1;mem:128");
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_str_eq(m.offers[0].fw, "a-gpu");
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__a_large_cluster_is_handed_out_completely) {
  /* Many agents and frameworks, every offer declined for ever: after as
   * many cycles as frameworks, every framework has seen every agent once
   * and nothing is offered any more. */
  fake_master m;
  fm_init(&m, NULL);
  enum { AG = 24, FW = 6 };
  for (int f = 0; f < FW; f++) {
    char id[16];
    snprintf(id, sizeof id, "f%d", f);
    fm_add_fw(&m, id, "*");
  }
  for (int i = 0; i < AG; i++) {
    char id[16];
    snprintf(id, sizeof id, "a%d", i);
    fm_add_agent(&m, id, "cpus:2;mem:256;ports:[31000-31099]");
  }
  int seen[FW] = {0};
  for (int c = 0; c <= FW; c++) {
    fm_cycle(&m);
    ck_assert_int_eq(m.noffers, c < FW ? AG : 0);
    for (int i = 0; i < m.noffers; i++) seen[m.offers[i].fw[1] - '0']++;
    fm_decline_all(&m, MESOS_ALLOCATOR_REFUSE_FOREVER);
  }
  for (int f = 0; f < FW; f++) ck_assert_int_eq(seen[f], AG);
  fm_fini(&m);
}
END_TEST


START_TEST(test_hierarchical__too_many_scalar_names_are_refused) {
  fake_master m;
  fm_init(&m, NULL);
  char text[2048] = "";
  for (int i = 0; i < 40; i++) {
    char one[32];
    snprintf(one, sizeof one, "%sres%d:1", i ? ";" : "", i);
    strncat(text, one, sizeof text - strlen(text) - 1);
  }
  mesos_allocator_agent ag = MESOS_ALLOCATOR_AGENT_INIT;
  ag.id = "wide";
  ag.total = fm_res(&m, text);
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos_allocator_add_agent(m.a, &ag, &err), MESOS_ELIMIT);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "distinct scalar resource names"));
  mesos_error_free(err);
  fm_fini(&m);
}
END_TEST

START_TEST(test_hierarchical__a_framework_can_change_roles_and_keep_what_it_holds) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "f1", "a");
  fm_add_agent(&m, "a1", "cpus:1;mem:128");
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_str_eq(m.offers[0].role, "a");
  mesos_resources *held = NULL;
  ck_assert_int_eq(mesos_resources_clone(&held, m.offers[0].res, NULL), MESOS_OK);
  const char *roles[] = {"b"};
  mesos_allocator_framework fw = MESOS_ALLOCATOR_FRAMEWORK_INIT;
  fw.id = "f1";
  fw.roles = roles;
  fw.nroles = 1;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_update_framework(m.a, &fw, &err), &err);
  fm_add_agent(&m, "a2", "cpus:1;mem:128");
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_str_eq(m.offers[0].role, "b");
  /* Suppressing a role it left is an error; giving back what it got in
   * that role still works. */
  ck_assert_int_eq(mesos_allocator_suppress(m.a, "f1", "a", &err), MESOS_ENOTFOUND);
  mesos_error_free(err);
  err = NULL;
  ck_assert_mesos_ok(mesos_allocator_recover_resources(m.a, "f1", "a1", "a", held, 0, &err),
                     &err);
  mesos_resources_free(held);
  fm_cycle(&m);
  ck_assert_int_eq(m.noffers, 1);
  ck_assert_str_eq(m.offers[0].agent, "a1");
  ck_assert_str_eq(m.offers[0].role, "b");
  fm_fini(&m);
}
END_TEST


START_TEST(test_hierarchical__quota_of_a_parent_role_is_met_by_its_sub_roles) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "a-fw", "analytics");
  fm_add_fw(&m, "web", "eng/web");
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_set_quota(m.a, "eng", fm_res(&m, "cpus:6"), &err), &err);
  for (int i = 0; i < 4; i++) {
    char id[16];
    snprintf(id, sizeof id, "a%d", i);
    fm_add_agent(&m, id, "cpus:2;mem:1024");
  }
  fm_cycle(&m);
  /* eng's 6 cpus go to its sub-role first; analytics gets the rest. */
  ck_assert_double_eq(fm_scalar(&m, "web", "cpus"), 6);
  ck_assert_double_eq(fm_scalar(&m, "a-fw", "cpus"), 2);
  fm_fini(&m);
}
END_TEST


START_TEST(test_hierarchical__huge_resource_values_do_not_overflow) {
  fake_master m;
  fm_init(&m, NULL);
  fm_add_fw(&m, "f1", "r");
  fm_add_fw(&m, "f2", "q");
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_set_quota(m.a, "q", fm_res(&m, "cpus:1000000000000000"),
                                               &err),
                     &err);
  for (int i = 0; i < 20; i++) {
    char id[16];
    snprintf(id, sizeof id, "a%d", i);
    fm_add_agent(&m, id, "cpus:1000000000000000;cpus(r):1000000000000000;mem:1000000000000000");
  }
  fm_cycle(&m);
  ck_assert_int_ge(m.noffers, 20);
  fm_decline_all(&m, 0);
  fm_cycle(&m);
  ck_assert_int_ge(m.noffers, 20);
  fm_fini(&m);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("allocator/hierarchical");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_hierarchical__a_single_framework_gets_every_agent);
  tcase_add_test(tc, test_hierarchical__two_frameworks_in_one_role_alternate_by_dominant_share);
  tcase_add_test(tc, test_hierarchical__dominant_share_uses_the_scarcest_resource);
  tcase_add_test(tc, test_hierarchical__weights_skew_role_shares);
  tcase_add_test(tc, test_hierarchical__hierarchical_roles_share_at_each_level);
  tcase_add_test(tc, test_hierarchical__quota_is_met_before_fair_share);
  tcase_add_test(tc, test_hierarchical__quota_headroom_is_held_back_from_other_roles);
  tcase_add_test(tc, test_hierarchical__statically_reserved_resources_go_to_their_role_only);
  tcase_add_test(tc, test_hierarchical__operations_reserve_and_unreserve_available_resources);
  tcase_add_test(tc, test_hierarchical__refuse_filter_expires_after_its_timeout);
  tcase_add_test(tc, test_hierarchical__unbounded_filter_lasts_until_revive);
  tcase_add_test(tc, test_hierarchical__filter_does_not_hide_more_than_was_declined);
  tcase_add_test(tc, test_hierarchical__suppressed_framework_gets_no_offers_until_revived);
  tcase_add_test(tc, test_hierarchical__recovered_resources_are_offered_again);
  tcase_add_test(tc, test_hierarchical__resources_spanning_offers_of_two_cycles_come_back);
  tcase_add_test(tc, test_hierarchical__removing_a_framework_frees_its_allocation);
  tcase_add_test(tc, test_hierarchical__removing_an_agent_frees_its_allocation);
  tcase_add_test(tc, test_hierarchical__cycles_only_look_at_agents_that_changed);
  tcase_add_test(tc, test_hierarchical__agents_below_the_minimum_are_not_offered);
  tcase_add_test(tc, test_hierarchical__gpu_agents_go_to_gpu_capable_frameworks);
  tcase_add_test(tc, test_hierarchical__revocable_resources_only_to_frameworks_that_accept_them);
  tcase_add_test(tc, test_hierarchical__deactivated_agents_and_frameworks_get_nothing);
  tcase_add_test(tc, test_hierarchical__resources_used_by_an_unknown_framework_count_for_its_role);
  tcase_add_test(tc, test_hierarchical__maintenance_sends_one_inverse_offer_per_holder);
  tcase_add_test(tc, test_hierarchical__bad_input_is_refused_with_a_message);
  tcase_add_test(tc, test_hierarchical__options_are_checked);
  tcase_add_test(tc, test_hierarchical__excluded_resources_do_not_count_for_fairness);
  tcase_add_test(tc, test_hierarchical__a_large_cluster_is_handed_out_completely);
  tcase_add_test(tc, test_hierarchical__too_many_scalar_names_are_refused);
  tcase_add_test(tc, test_hierarchical__huge_resource_values_do_not_overflow);
  tcase_add_test(tc, test_hierarchical__quota_of_a_parent_role_is_met_by_its_sub_roles);
  tcase_add_test(tc, test_hierarchical__a_framework_can_change_roles_and_keep_what_it_holds);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
