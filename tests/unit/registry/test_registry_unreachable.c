/* What an unreachable agent's registry entry keeps for its readmission:
 * the admitted record's reservations and volumes, drain state and
 * deactivation go over to the unreachable entry and back (as Mesos's
 * registry carries drain_info/deactivated), UPDATE_AGENT by agent_id
 * alone changes the unreachable entry (DRAIN/DEACTIVATE of an unreachable
 * agent), and all of it is the same after a reopen (log replay) and after
 * compaction (snapshot). */
#include "codec/pb.h"
#include "registry/registry.h"
#include "unit/registry/regops.h"
#include "unit/registry/regtest.h"

static mesos__registry *open_reg(const char *dir, uint32_t compact_every) {
  mesos__registry_options o = {dir, compact_every, 0};
  mesos__registry *r = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__registry_open(&r, &o, &err), &err);
  return r;
}

static void apply_ok(mesos__registry *r, const Op *op) {
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__registry_apply(r, op, &err), &err);
}

/* Admits agent a1, records cpus:2 and a drain with deactivation, marks it
 * unreachable. */
static void admit_drain_unreach(mesos__registry *r) {
  opbuf b;
  apply_ok(r, agent_op(&b, T(ADMIT_AGENT), "a1"));
  Mesos__V1__DrainInfo di = MESOS__V1__DRAIN_INFO__INIT;
  Mesos__V1__DrainConfig dc = MESOS__V1__DRAIN_CONFIG__INIT;
  dc.has_mark_gone = 1;
  di.state = MESOS__V1__DRAIN_STATE__DRAINING;
  di.config = &dc;
  Op *op = update_agent_op(&b, "a1", 2, 1);
  op->drain_info = &di;
  apply_ok(r, op);
  apply_ok(r, agent_op(&b, T(MARK_AGENT_UNREACHABLE), "a1"));
}

static void check_unreachable(mesos__registry *r, int draining, int deactivated) {
  ck_assert_ptr_null(mesos__registry_find_agent(r, "a1"));
  const Mesos__Internal__Registry__UnreachableAgent *u = mesos__registry_find_unreachable(r, "a1");
  ck_assert_ptr_nonnull(u);
  ck_assert_uint_eq(u->n_resources, 1);
  ck_assert_str_eq(u->resources[0]->name, "cpus");
  ck_assert_int_eq(u->has_deactivated && u->deactivated, deactivated);
  if (draining) {
    ck_assert_ptr_nonnull(u->drain_info);
    ck_assert_int_eq(u->drain_info->state, MESOS__V1__DRAIN_STATE__DRAINING);
  } else {
    ck_assert_ptr_null(u->drain_info);
  }
}

START_TEST(test_registry__unreachable_entry_keeps_the_record_for_readmission) {
  char dir[PATH_MAX];
  regtest_dir(dir, sizeof dir, "unreach");
  mesos__registry *r = open_reg(dir, 0);
  admit_drain_unreach(r);
  check_unreachable(r, 1, 1);
  mesos__registry_close(r);
  r = open_reg(dir, 0); /* replayed from the log */
  check_unreachable(r, 1, 1);
  opbuf b;
  apply_ok(r, agent_op(&b, T(READMIT_AGENT), "a1"));
  ck_assert_ptr_null(mesos__registry_find_unreachable(r, "a1"));
  const Mesos__Internal__Registry__Agent *a = mesos__registry_find_agent(r, "a1");
  ck_assert_ptr_nonnull(a);
  ck_assert_uint_eq(a->n_resources, 1);
  ck_assert_double_eq(a->resources[0]->scalar->value, 2);
  ck_assert(a->has_deactivated && a->deactivated);
  ck_assert_ptr_nonnull(a->drain_info);
  ck_assert_int_eq(a->drain_info->state, MESOS__V1__DRAIN_STATE__DRAINING);
  mesos__registry_close(r);
}
END_TEST

START_TEST(test_registry__update_agent_by_id_changes_the_unreachable_entry) {
  char dir[PATH_MAX];
  regtest_dir(dir, sizeof dir, "unreach-update");
  mesos__registry *r = open_reg(dir, 2); /* compacts: snapshot + replay */
  admit_drain_unreach(r);
  /* UPDATE_AGENT without agent_info names the unreachable entry. */
  opbuf b;
  Op *op = update_agent_op(&b, "a1", 2, 0);
  op->agent_info = NULL;
  op->agent_id = &b.id;
  apply_ok(r, op);
  check_unreachable(r, 0, 0);
  /* An id that is neither admitted nor unreachable is refused. */
  op = update_agent_op(&b, "nope", 1, 1);
  op->agent_info = NULL;
  op->agent_id = &b.id;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__registry_apply(r, op, &err), MESOS_ENOTFOUND);
  mesos_error_free(err);
  mesos__registry_close(r);
  r = open_reg(dir, 2);
  check_unreachable(r, 0, 0);
  mesos__registry_close(r);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("registry_unreachable");
  TCase *tc = tcase_create("unreachable");
  tcase_add_unchecked_fixture(tc, regtest_setup_fast, regtest_teardown);
  tcase_add_test(tc, test_registry__unreachable_entry_keeps_the_record_for_readmission);
  tcase_add_test(tc, test_registry__update_agent_by_id_changes_the_unreachable_entry);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
