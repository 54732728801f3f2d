/* The allocator handle (mesos_allocator_*): registration checks the ops
 * table, and every call reaches its member exactly once, with its
 * arguments, through a fake plugin that counts calls. */
#include "unit/allocator/alloc_fake_master.h"

enum {
  C_INIT, C_DESTROY, C_ADD_FW, C_REMOVE_FW, C_ACT_FW, C_DEACT_FW, C_UPDATE_FW, C_ADD_AG,
  C_REMOVE_AG, C_UPDATE_AG, C_ACT_AG, C_DEACT_AG, C_UNAVAIL, C_INVERSE, C_UPDATE_ALLOC,
  C_UPDATE_AVAIL, C_RECOVER, C_SUPPRESS, C_REVIVE, C_WEIGHTS, C_SET_QUOTA, C_REMOVE_QUOTA,
  C_ALLOCATE, C_STATS, C_COUNT
};

typedef struct counting {
  int calls[C_COUNT];
  char last_id[64];
  mesos_allocator_offer_fn offer;
  void *cb_ud;
  mesos_allocator *self; /* for the re-entrancy test */
  mesos_status reentry;
} counting;

#define NOTE(c, k, id)                                                   \
  do {                                                                   \
    (c)->calls[k]++;                                                     \
    if (id) snprintf((c)->last_id, sizeof (c)->last_id, "%s", (char *)(id)); \
  } while (0)

static mesos_status f_init(void *ud, mesos_allocator_offer_fn offer,
                           mesos_allocator_inverse_offer_fn inv, void *cb_ud, mesos_error **err) {
  counting *c = ud;
  (void)inv, (void)err;
  c->offer = offer;
  c->cb_ud = cb_ud;
  NOTE(c, C_INIT, NULL);
  return MESOS_OK;
}
static void f_destroy(void *ud) { ((counting *)ud)->calls[C_DESTROY]++; }
static mesos_status f_add_fw(void *ud, const mesos_allocator_framework *fw, int active,
                             mesos_error **err) {
  (void)active, (void)err;
  NOTE((counting *)ud, C_ADD_FW, fw->id);
  return MESOS_OK;
}
#define BY_ID(fn, k)                                                     \
  static mesos_status fn(void *ud, const char *id, mesos_error **err) {  \
    (void)err;                                                           \
    NOTE((counting *)ud, k, id);                                         \
    return MESOS_OK;                                                     \
  }
BY_ID(f_remove_fw, C_REMOVE_FW)
BY_ID(f_act_fw, C_ACT_FW)
BY_ID(f_deact_fw, C_DEACT_FW)
BY_ID(f_remove_ag, C_REMOVE_AG)
BY_ID(f_act_ag, C_ACT_AG)
BY_ID(f_deact_ag, C_DEACT_AG)
BY_ID(f_remove_quota, C_REMOVE_QUOTA)
static mesos_status f_update_fw(void *ud, const mesos_allocator_framework *fw,
                                mesos_error **err) {
  (void)err;
  NOTE((counting *)ud, C_UPDATE_FW, fw->id);
  return MESOS_OK;
}
static mesos_status f_add_ag(void *ud, const mesos_allocator_agent *ag, mesos_error **err) {
  (void)err;
  NOTE((counting *)ud, C_ADD_AG, ag->id);
  return MESOS_OK;
}
static mesos_status f_update_ag(void *ud, const char *id, const mesos_resources *t,
                                mesos_error **err) {
  (void)t, (void)err;
  NOTE((counting *)ud, C_UPDATE_AG, id);
  return MESOS_OK;
}
static mesos_status f_unavail(void *ud, const char *id, const mesos_allocator_unavailability *u,
                              mesos_error **err) {
  (void)u, (void)err;
  NOTE((counting *)ud, C_UNAVAIL, id);
  return MESOS_OK;
}
static mesos_status f_inverse(void *ud, const char *fw, const char *ag, double r,
                              mesos_error **err) {
  (void)ag, (void)r, (void)err;
  NOTE((counting *)ud, C_INVERSE, fw);
  return MESOS_OK;
}
static mesos_status f_update_alloc(void *ud, const char *fw, const char *ag, const char *role,
                                   const mesos_allocator_conversion *ops, size_t n,
                                   mesos_error **err) {
  (void)ag, (void)role, (void)ops, (void)n, (void)err;
  NOTE((counting *)ud, C_UPDATE_ALLOC, fw);
  return MESOS_OK;
}
static mesos_status f_update_avail(void *ud, const char *ag,
                                   const mesos_allocator_conversion *ops, size_t n,
                                   mesos_error **err) {
  (void)ops, (void)n, (void)err;
  NOTE((counting *)ud, C_UPDATE_AVAIL, ag);
  return MESOS_OK;
}
static mesos_status f_recover(void *ud, const char *fw, const char *ag, const char *role,
                              const mesos_resources *r, double refuse, mesos_error **err) {
  (void)ag, (void)role, (void)r, (void)refuse, (void)err;
  NOTE((counting *)ud, C_RECOVER, fw);
  return MESOS_OK;
}
static mesos_status f_suppress(void *ud, const char *fw, const char *role, mesos_error **err) {
  (void)role, (void)err;
  NOTE((counting *)ud, C_SUPPRESS, fw);
  return MESOS_OK;
}
static mesos_status f_revive(void *ud, const char *fw, const char *role, mesos_error **err) {
  (void)role, (void)err;
  NOTE((counting *)ud, C_REVIVE, fw);
  return MESOS_OK;
}
static mesos_status f_weights(void *ud, const char *const *roles, const double *w, size_t n,
                              mesos_error **err) {
  (void)w, (void)n, (void)err;
  NOTE((counting *)ud, C_WEIGHTS, roles[0]);
  return MESOS_OK;
}
static mesos_status f_set_quota(void *ud, const char *role, const mesos_resources *g,
                                mesos_error **err) {
  (void)g, (void)err;
  NOTE((counting *)ud, C_SET_QUOTA, role);
  return MESOS_OK;
}
static mesos_status f_allocate(void *ud, mesos_error **err) {
  counting *c = ud;
  (void)err;
  NOTE(c, C_ALLOCATE, NULL);
  /* Offer one (empty) bag; the master's callback tries to call back in. */
  mesos_resources *r = NULL;
  mesos_resources_new(&r, NULL);
  c->offer("fw", "*", "agent", r, c->cb_ud);
  mesos_resources_free(r);
  return MESOS_OK;
}
static mesos_status f_stats(void *ud, mesos_allocator_stats *s, mesos_error **err) {
  (void)err;
  NOTE((counting *)ud, C_STATS, NULL);
  s->cycles = 42;
  return MESOS_OK;
}

static const mesos_allocator_ops full_ops = {
    .version = MESOS_ALLOCATOR_OPS_VERSION,
    .initialize = f_init,
    .destroy = f_destroy,
    .add_framework = f_add_fw,
    .remove_framework = f_remove_fw,
    .activate_framework = f_act_fw,
    .deactivate_framework = f_deact_fw,
    .update_framework = f_update_fw,
    .add_agent = f_add_ag,
    .remove_agent = f_remove_ag,
    .update_agent = f_update_ag,
    .activate_agent = f_act_ag,
    .deactivate_agent = f_deact_ag,
    .update_unavailability = f_unavail,
    .update_inverse_offer = f_inverse,
    .update_allocation = f_update_alloc,
    .update_available = f_update_avail,
    .recover_resources = f_recover,
    .suppress = f_suppress,
    .revive = f_revive,
    .update_weights = f_weights,
    .set_quota = f_set_quota,
    .remove_quota = f_remove_quota,
    .allocate = f_allocate,
    .stats = f_stats,
};

static void reentrant_offer(const char *fw, const char *role, const char *agent,
                            const mesos_resources *res, void *ud) {
  counting *c = ud;
  (void)fw, (void)role, (void)agent, (void)res;
  c->reentry = mesos_allocator_allocate(c->self, NULL);
}

START_TEST(test_allocator__every_call_reaches_its_member_once) {
  counting c = {0};
  mesos_allocator *a = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_new(&a, &full_ops, &c, &err), &err);
  ck_assert_ptr_eq(mesos_allocator_userdata(a), &c);
  c.self = a;
  ck_assert_mesos_ok(mesos_allocator_initialize(a, reentrant_offer, NULL, &c, &err), &err);
  ck_assert_int_eq(mesos_allocator_initialize(a, reentrant_offer, NULL, &c, &err), MESOS_EEXIST);
  mesos_error_free(err);
  err = NULL;

  mesos_resources *r = NULL;
  ck_assert_mesos_ok(mesos_resources_new(&r, &err), &err);
  const char *roles[] = {"r"};
  double w[] = {2};
  mesos_allocator_framework fw = MESOS_ALLOCATOR_FRAMEWORK_INIT;
  fw.id = "F";
  fw.roles = roles;
  fw.nroles = 1;
  mesos_allocator_agent ag = MESOS_ALLOCATOR_AGENT_INIT;
  ag.id = "A";
  ag.total = r;
  mesos_allocator_conversion conv = {r, r};
  mesos_allocator_unavailability u = {0, 0};
  mesos_allocator_stats st = MESOS_ALLOCATOR_STATS_INIT;

  ck_assert_mesos_ok(mesos_allocator_add_framework(a, &fw, 1, &err), &err);
  ck_assert_mesos_ok(mesos_allocator_remove_framework(a, "F", &err), &err);
  ck_assert_mesos_ok(mesos_allocator_activate_framework(a, "F", &err), &err);
  ck_assert_mesos_ok(mesos_allocator_deactivate_framework(a, "F", &err), &err);
  ck_assert_mesos_ok(mesos_allocator_update_framework(a, &fw, &err), &err);
  ck_assert_mesos_ok(mesos_allocator_add_agent(a, &ag, &err), &err);
  ck_assert_mesos_ok(mesos_allocator_remove_agent(a, "A", &err), &err);
  ck_assert_mesos_ok(mesos_allocator_update_agent(a, "A", r, &err), &err);
  ck_assert_mesos_ok(mesos_allocator_activate_agent(a, "A", &err), &err);
  ck_assert_mesos_ok(mesos_allocator_deactivate_agent(a, "A", &err), &err);
  ck_assert_mesos_ok(mesos_allocator_update_unavailability(a, "A", &u, &err), &err);
  ck_assert_mesos_ok(mesos_allocator_update_inverse_offer(a, "F", "A", 1, &err), &err);
  ck_assert_mesos_ok(mesos_allocator_update_allocation(a, "F", "A", NULL, &conv, 1, &err), &err);
  ck_assert_mesos_ok(mesos_allocator_update_available(a, "A", &conv, 1, &err), &err);
  ck_assert_mesos_ok(mesos_allocator_recover_resources(a, "F", "A", NULL, r, 0, &err), &err);
  ck_assert_mesos_ok(mesos_allocator_suppress(a, "F", NULL, &err), &err);
  ck_assert_mesos_ok(mesos_allocator_revive(a, "F", NULL, &err), &err);
  ck_assert_mesos_ok(mesos_allocator_update_weights(a, roles, w, 1, &err), &err);
  ck_assert_mesos_ok(mesos_allocator_set_quota(a, "r", r, &err), &err);
  ck_assert_mesos_ok(mesos_allocator_remove_quota(a, "r", &err), &err);
  ck_assert_mesos_ok(mesos_allocator_allocate(a, &err), &err);
  ck_assert_mesos_ok(mesos_allocator_stats_get(a, &st, &err), &err);
  ck_assert_uint_eq(st.cycles, 42);
  for (int k = 0; k < C_COUNT; k++)
    ck_assert_msg(c.calls[k] == (k == C_DESTROY ? 0 : 1), "member %d called %d times", k,
                  c.calls[k]);
  ck_assert_str_eq(c.last_id, "r"); /* remove_quota got its role */
  /* A call from inside the offer callback was refused. */
  ck_assert_int_eq(c.reentry, MESOS_EBUSY);
  mesos_resources_free(r);
  mesos_allocator_free(a);
  ck_assert_int_eq(c.calls[C_DESTROY], 1);
}
END_TEST

START_TEST(test_allocator__a_bad_version_is_refused) {
  counting c = {0};
  mesos_allocator_ops ops = full_ops;
  ops.version = 2;
  mesos_allocator *a = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos_allocator_new(&a, &ops, &c, &err), MESOS_EVERSION);
  ck_assert_ptr_null(a);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "mesos_allocator_ops"));
  mesos_error_free(err);
  ck_assert_int_eq(c.calls[C_DESTROY], 0);
  ck_assert_int_eq(mesos_allocator_new(&a, NULL, &c, NULL), MESOS_EINVAL);
}
END_TEST

START_TEST(test_allocator__a_missing_required_member_is_named) {
  static const struct {
    size_t off;
    const char *name;
  } required[] = {
      {offsetof(mesos_allocator_ops, initialize), "initialize"},
      {offsetof(mesos_allocator_ops, add_framework), "add_framework"},
      {offsetof(mesos_allocator_ops, remove_framework), "remove_framework"},
      {offsetof(mesos_allocator_ops, activate_framework), "activate_framework"},
      {offsetof(mesos_allocator_ops, deactivate_framework), "deactivate_framework"},
      {offsetof(mesos_allocator_ops, add_agent), "add_agent"},
      {offsetof(mesos_allocator_ops, remove_agent), "remove_agent"},
      {offsetof(mesos_allocator_ops, activate_agent), "activate_agent"},
      {offsetof(mesos_allocator_ops, deactivate_agent), "deactivate_agent"},
      {offsetof(mesos_allocator_ops, update_allocation), "update_allocation"},
      {offsetof(mesos_allocator_ops, update_available), "update_available"},
      {offsetof(mesos_allocator_ops, recover_resources), "recover_resources"},
      {offsetof(mesos_allocator_ops, suppress), "suppress"},
      {offsetof(mesos_allocator_ops, revive), "revive"},
      {offsetof(mesos_allocator_ops, allocate), "allocate"},
  };
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
    mesos_allocator_ops ops = full_ops;
    memset((char *)&ops + required[i].off, 0, sizeof(void (*)(void)));
    mesos_allocator *a = NULL;
    mesos_error *err = NULL;
    ck_assert_int_eq(mesos_allocator_new(&a, &ops, NULL, &err), MESOS_EINVAL);
    ck_assert_ptr_null(a);
    char want[64];
    snprintf(want, sizeof want, "'%s'", required[i].name);
    ck_assert_msg(strstr(mesos_error_message(err), want) != NULL, "%s: %s", required[i].name,
                  mesos_error_message(err));
    mesos_error_free(err);
  }
}
END_TEST

START_TEST(test_allocator__optional_members_left_null_answer_unsupported) {
  counting c = {0};
  mesos_allocator_ops ops = full_ops;
  ops.destroy = NULL;
  ops.update_framework = NULL;
  ops.update_agent = NULL;
  ops.update_unavailability = NULL;
  ops.update_inverse_offer = NULL;
  ops.update_weights = NULL;
  ops.set_quota = NULL;
  ops.remove_quota = NULL;
  ops.stats = NULL;
  mesos_allocator *a = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_new(&a, &ops, &c, &err), &err);
  /* Nothing but initialize works before initialize. */
  ck_assert_int_eq(mesos_allocator_allocate(a, NULL), MESOS_EAGAIN);
  ck_assert_int_eq(mesos_allocator_initialize(a, NULL, NULL, NULL, NULL), MESOS_EINVAL);
  ck_assert_mesos_ok(mesos_allocator_initialize(a, fm_offer_cb, NULL, NULL, &err), &err);
  mesos_resources *r = NULL;
  mesos_resources_new(&r, NULL);
  const char *roles[] = {"r"};
  double w[] = {1};
  mesos_allocator_framework fw = MESOS_ALLOCATOR_FRAMEWORK_INIT;
  fw.id = "F";
  fw.roles = roles;
  fw.nroles = 1;
  mesos_allocator_stats st = MESOS_ALLOCATOR_STATS_INIT;
  ck_assert_int_eq(mesos_allocator_update_framework(a, &fw, NULL), MESOS_EUNSUPPORTED);
  ck_assert_int_eq(mesos_allocator_update_agent(a, "A", r, NULL), MESOS_EUNSUPPORTED);
  ck_assert_int_eq(mesos_allocator_update_unavailability(a, "A", NULL, NULL), MESOS_EUNSUPPORTED);
  ck_assert_int_eq(mesos_allocator_update_inverse_offer(a, "F", "A", 0, NULL),
                   MESOS_EUNSUPPORTED);
  ck_assert_int_eq(mesos_allocator_update_weights(a, roles, w, 1, NULL), MESOS_EUNSUPPORTED);
  ck_assert_int_eq(mesos_allocator_set_quota(a, "r", r, NULL), MESOS_EUNSUPPORTED);
  ck_assert_int_eq(mesos_allocator_remove_quota(a, "r", &err), MESOS_EUNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "remove_quota"));
  mesos_error_free(err);
  ck_assert_int_eq(mesos_allocator_stats_get(a, &st, NULL), MESOS_EUNSUPPORTED);
  /* Argument checks happen before the plugin sees anything. */
  ck_assert_int_eq(mesos_allocator_add_framework(a, NULL, 1, NULL), MESOS_EINVAL);
  fw.nroles = 0;
  ck_assert_int_eq(mesos_allocator_add_framework(a, &fw, 1, NULL), MESOS_EINVAL);
  fw.version = 9;
  ck_assert_int_eq(mesos_allocator_add_framework(a, &fw, 1, NULL), MESOS_EVERSION);
  ck_assert_int_eq(mesos_allocator_remove_agent(a, NULL, NULL), MESOS_EINVAL);
  ck_assert_int_eq(mesos_allocator_recover_resources(a, "F", "A", NULL, NULL, 0, NULL),
                   MESOS_EINVAL);
  mesos_allocator_conversion half = {r, NULL};
  ck_assert_int_eq(mesos_allocator_update_available(a, "A", &half, 1, NULL), MESOS_EINVAL);
  ck_assert_int_eq(mesos_allocator_remove_framework(NULL, "F", NULL), MESOS_EINVAL);
  for (int k = 0; k < C_COUNT; k++)
    ck_assert_msg(c.calls[k] == (k == C_INIT ? 1 : 0), "member %d called %d times", k,
                  c.calls[k]);
  mesos_resources_free(r);
  mesos_allocator_free(a);
  mesos_allocator_free(NULL);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("allocator/vtable");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_allocator__every_call_reaches_its_member_once);
  tcase_add_test(tc, test_allocator__a_bad_version_is_refused);
  tcase_add_test(tc, test_allocator__a_missing_required_member_is_named);
  tcase_add_test(tc, test_allocator__optional_members_left_null_answer_unsupported);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
