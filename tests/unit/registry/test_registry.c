/* The master's registry: every operation, its checks, durability across
 * reopen and kill -9, compaction, and the in-memory mode. */
#include <math.h>
#include <signal.h>
#include <sys/wait.h>

#include "codec/pb.h"
#include "registry/log.h"
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

/* The state's encoding, to compare states byte for byte. */
static uint8_t *state_bytes(mesos__registry *r, size_t *len) {
  uint8_t *buf = NULL;
  ck_assert_int_eq(mesos__pb_pack(&mesos__registry_state(r)->base, 0, &buf, len, NULL),
                   MESOS_OK);
  return buf;
}

static void assert_same_state(mesos__registry *a, mesos__registry *b) {
  size_t la, lb;
  uint8_t *pa = state_bytes(a, &la), *pb = state_bytes(b, &lb);
  ck_assert_uint_eq(la, lb);
  ck_assert(memcmp(pa, pb, la) == 0);
  mesos__free(pa);
  mesos__free(pb);
}

/* Applies one of every operation type (and a few twice). */
static void apply_everything(mesos__registry *r) {
  opbuf b;
  apply_ok(r, agent_op(&b, T(ADMIT_AGENT), "a1"));
  apply_ok(r, agent_op(&b, T(ADMIT_AGENT), "a2"));
  apply_ok(r, agent_op(&b, T(ADMIT_AGENT), "a3"));
  apply_ok(r, agent_op(&b, T(ADMIT_AGENT), "a4"));
  apply_ok(r, update_agent_op(&b, "a1", 8, 1));
  apply_ok(r, agent_op(&b, T(MARK_AGENT_UNREACHABLE), "a2"));
  apply_ok(r, agent_op(&b, T(READMIT_AGENT), "a2"));
  apply_ok(r, agent_op(&b, T(MARK_AGENT_UNREACHABLE), "a3"));
  apply_ok(r, agent_op(&b, T(MARK_AGENT_GONE), "a3"));
  apply_ok(r, agent_op(&b, T(REMOVE_AGENT), "a4"));
  apply_ok(r, weights_op(&b, 2, (const char *[]){"r1", "r2"}, (double[]){2.0, 3.5}));
  apply_ok(r, weights_op(&b, 2, (const char *[]){"r1", "r3"}, (double[]){1.0, 0.5}));
  apply_ok(r, quota_op(&b, "q1", 1, 2));
  apply_ok(r, quota_op(&b, "q2", 4, -1));
  apply_ok(r, quota_op(&b, "q2", -1, -1)); /* neither: removes */
  apply_ok(r, schedule_op(&b, 3, (const char *[]){"m1", "m2", "m3"}, 2));
  apply_ok(r, maintenance_op(&b, T(START_MAINTENANCE), 2, (const char *[]){"m1", "m3"}));
  apply_ok(r, maintenance_op(&b, T(STOP_MAINTENANCE), 1, (const char *[]){"m3"}));
}

/* What apply_everything leaves. */
static void check_everything(mesos__registry *r) {
  const Registry *st = mesos__registry_state(r);
  ck_assert_uint_eq(mesos__registry_sequence(r), 18);
  ck_assert_uint_eq(st->n_agents, 2);
  ck_assert_str_eq(st->agents[0]->info->id->value, "a1");
  ck_assert_str_eq(st->agents[0]->info->hostname, "host-a1");
  ck_assert(st->agents[0]->has_deactivated && st->agents[0]->deactivated);
  ck_assert_uint_eq(st->agents[0]->n_resources, 1);
  ck_assert(st->agents[0]->resources[0]->scalar->value == 8);
  ck_assert_str_eq(st->agents[1]->info->id->value, "a2");
  ck_assert_int_eq(mesos__registry_agent(r, "a1"), MESOS__REGISTRY_AGENT_ADMITTED);
  ck_assert_int_eq(mesos__registry_agent(r, "a2"), MESOS__REGISTRY_AGENT_ADMITTED);
  ck_assert_int_eq(mesos__registry_agent(r, "a3"), MESOS__REGISTRY_AGENT_GONE);
  ck_assert_int_eq(mesos__registry_agent(r, "a4"), MESOS__REGISTRY_AGENT_UNKNOWN);
  ck_assert_ptr_nonnull(mesos__registry_find_agent(r, "a2"));
  ck_assert_ptr_null(mesos__registry_find_agent(r, "a3"));
  ck_assert_uint_eq(st->n_unreachable, 0);
  ck_assert_uint_eq(st->n_gone, 1);
  ck_assert_int_eq(st->gone[0]->timestamp->nanoseconds, 1234567);
  ck_assert_uint_eq(st->n_weights, 2);
  ck_assert_str_eq(st->weights[0]->role, "r2");
  ck_assert(st->weights[0]->weight == 3.5);
  ck_assert_str_eq(st->weights[1]->role, "r3");
  ck_assert_uint_eq(st->n_quotas, 1);
  ck_assert_str_eq(st->quotas[0]->role, "q1");
  ck_assert(st->quotas[0]->limits[0]->value->value == 2);
  ck_assert_uint_eq(st->n_schedules, 1);
  ck_assert_uint_eq(st->schedules[0]->n_windows, 1); /* m3's window emptied */
  ck_assert_uint_eq(st->schedules[0]->windows[0]->n_machine_ids, 2);
  ck_assert_uint_eq(st->n_machines, 2);
  ck_assert_str_eq(st->machines[0]->id->hostname, "m1");
  ck_assert_int_eq(st->machines[0]->mode, MESOS__V1__MACHINE_INFO__MODE__DOWN);
  ck_assert_str_eq(st->machines[1]->id->hostname, "m2");
  ck_assert_int_eq(st->machines[1]->mode, MESOS__V1__MACHINE_INFO__MODE__DRAINING);
}

START_TEST(test_registry__every_operation_is_applied_and_survives_reopen) {
  int64_t live = mesos__alloc_live();
  char dir[PATH_MAX];
  regtest_path(dir, sizeof dir, "reg");
  mesos__registry *r = open_reg(dir, 0);
  ck_assert_uint_eq(mesos__registry_state(r)->n_agents, 0);
  apply_everything(r);
  check_everything(r);
  size_t len;
  uint8_t *before = state_bytes(r, &len);
  mesos__registry_close(r);

  r = open_reg(dir, 0);
  check_everything(r);
  size_t len2;
  uint8_t *after = state_bytes(r, &len2);
  ck_assert_uint_eq(len, len2);
  ck_assert(memcmp(before, after, len) == 0);
  mesos__free(before);
  mesos__free(after);
  /* And it goes on from there. */
  opbuf b;
  apply_ok(r, agent_op(&b, T(ADMIT_AGENT), "a5"));
  mesos__registry_close(r);
  r = open_reg(dir, 0);
  ck_assert_uint_eq(mesos__registry_sequence(r), 19);
  ck_assert_int_eq(mesos__registry_agent(r, "a5"), MESOS__REGISTRY_AGENT_ADMITTED);
  mesos__registry_close(r);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

static size_t segment_size(const char *dir) {
  char p[PATH_MAX];
  ck_assert_int_lt(snprintf(p, sizeof p, "%s/log.%016x", dir, 0), (int)sizeof p);
  return regtest_file_size(p);
}

static void expect_rejected(mesos__registry *r, const char *dir, const Op *op,
                            mesos_status want, const char *what) {
  size_t len, len2, seg = segment_size(dir);
  uint64_t seq = mesos__registry_sequence(r);
  uint8_t *before = state_bytes(r, &len);
  mesos_error *err = NULL;
  mesos_status s = mesos__registry_apply(r, op, &err);
  ck_assert_msg(s == want, "%s: got %s (%s), want %s", what, mesos_status_name(s),
                err ? mesos_error_message(err) : "", mesos_status_name(want));
  ck_assert_ptr_nonnull(err);
  mesos_error_free(err);
  uint8_t *after = state_bytes(r, &len2);
  ck_assert_msg(len == len2 && memcmp(before, after, len) == 0, "%s changed the state", what);
  ck_assert_uint_eq(mesos__registry_sequence(r), seq);
  ck_assert_msg(segment_size(dir) == seg, "%s was written to the log", what);
  mesos__free(before);
  mesos__free(after);
}

START_TEST(test_registry__invalid_operations_are_rejected_and_nothing_is_written) {
  int64_t live = mesos__alloc_live();
  char dir[PATH_MAX];
  regtest_path(dir, sizeof dir, "reject");
  mesos__registry *r = open_reg(dir, 0);
  apply_everything(r); /* a1, a2 admitted; a3 gone; m1 down, m2 draining */
  opbuf b;
  expect_rejected(r, dir, agent_op(&b, T(ADMIT_AGENT), "a1"), MESOS_EEXIST, "admit twice");
  expect_rejected(r, dir, agent_op(&b, T(ADMIT_AGENT), "a3"), MESOS_EPERM, "admit gone");
  expect_rejected(r, dir, agent_op(&b, T(READMIT_AGENT), "a1"), MESOS_EEXIST, "readmit admitted");
  expect_rejected(r, dir, agent_op(&b, T(READMIT_AGENT), "zz"), MESOS_ENOTFOUND,
                  "readmit unknown");
  expect_rejected(r, dir, agent_op(&b, T(READMIT_AGENT), "a3"), MESOS_EPERM, "readmit gone");
  expect_rejected(r, dir, agent_op(&b, T(MARK_AGENT_UNREACHABLE), "zz"), MESOS_ENOTFOUND,
                  "unreachable unknown");
  expect_rejected(r, dir, agent_op(&b, T(MARK_AGENT_GONE), "a3"), MESOS_EEXIST, "gone twice");
  expect_rejected(r, dir, agent_op(&b, T(MARK_AGENT_GONE), "zz"), MESOS_ENOTFOUND,
                  "gone unknown");
  expect_rejected(r, dir, agent_op(&b, T(REMOVE_AGENT), "zz"), MESOS_ENOTFOUND,
                  "remove unknown");
  expect_rejected(r, dir, update_agent_op(&b, "zz", 1, 0), MESOS_ENOTFOUND, "update unknown");
  Op *op = agent_op(&b, T(MARK_AGENT_UNREACHABLE), "a1");
  op->timestamp = NULL;
  expect_rejected(r, dir, op, MESOS_EINVAL, "unreachable without timestamp");
  op = agent_op(&b, T(ADMIT_AGENT), "a9");
  op->agent_info = NULL;
  expect_rejected(r, dir, op, MESOS_EINVAL, "admit without agent_info");
  op = agent_op(&b, T(ADMIT_AGENT), "");
  expect_rejected(r, dir, op, MESOS_EINVAL, "admit with an empty id");
  op = agent_op(&b, T(ADMIT_AGENT), "a9");
  b.info.hostname = NULL; /* required by AgentInfo */
  expect_rejected(r, dir, op, MESOS_EINVAL, "admit without a hostname");
  op = agent_op(&b, T(ADMIT_AGENT), "a9");
  op->type = (Mesos__Internal__RegistryOperation__Type)77;
  expect_rejected(r, dir, op, MESOS_EINVAL, "unknown type");
  expect_rejected(r, dir, weights_op(&b, 1, (const char *[]){"r"}, (double[]){NAN}),
                  MESOS_EINVAL, "NaN weight");
  expect_rejected(r, dir, weights_op(&b, 1, (const char *[]){"r"}, (double[]){-1}),
                  MESOS_EINVAL, "negative weight");
  expect_rejected(r, dir, weights_op(&b, 2, (const char *[]){"r", "r"}, (double[]){2, 3}),
                  MESOS_EINVAL, "role weighted twice");
  expect_rejected(r, dir, weights_op(&b, 1, (const char *[]){""}, (double[]){2}), MESOS_EINVAL,
                  "weight without role");
  expect_rejected(r, dir, quota_op(&b, "q", 4, 2), MESOS_EINVAL, "limit below guarantee");
  expect_rejected(r, dir, quota_op(&b, "q", -1, INFINITY), MESOS_EINVAL, "infinite limit");
  expect_rejected(r, dir, quota_op(&b, "", 1, 1), MESOS_EINVAL, "quota without role");
  expect_rejected(r, dir, schedule_op(&b, 2, (const char *[]){"m1", "m1"}, 1), MESOS_EINVAL,
                  "machine in two windows");
  expect_rejected(r, dir, schedule_op(&b, 1, (const char *[]){"m2"}, 1), MESOS_EINVAL,
                  "schedule dropping a down machine");
  expect_rejected(r, dir, schedule_op(&b, 1, (const char *[]){""}, 1), MESOS_EINVAL,
                  "machine without name");
  expect_rejected(r, dir, maintenance_op(&b, T(START_MAINTENANCE), 1, (const char *[]){"m9"}),
                  MESOS_ENOTFOUND, "start unscheduled");
  expect_rejected(r, dir, maintenance_op(&b, T(START_MAINTENANCE), 1, (const char *[]){"m1"}),
                  MESOS_EINVAL, "start twice");
  expect_rejected(r, dir, maintenance_op(&b, T(STOP_MAINTENANCE), 2,
                                         (const char *[]){"m1", "m2"}),
                  MESOS_EINVAL, "stop a draining machine");
  expect_rejected(r, dir, maintenance_op(&b, T(STOP_MAINTENANCE), 0, NULL), MESOS_EINVAL,
                  "stop nothing");
  mesos__registry_close(r);
  /* Nothing of that reached the disk. */
  r = open_reg(dir, 0);
  check_everything(r);
  mesos__registry_close(r);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_registry__operation_over_the_size_limit_is_refused) {
  char dir[PATH_MAX];
  regtest_path(dir, sizeof dir, "limit");
  mesos__registry_options o = {dir, 0, 64};
  mesos__registry *r = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__registry_open(&r, &o, &err), &err);
  opbuf b;
  Op *op = agent_op(&b, T(ADMIT_AGENT), "a-rather-long-agent-id-that-makes-the-record-big");
  ck_assert_int_eq(mesos__registry_apply(r, op, &err), MESOS_ELIMIT);
  mesos_error_free(err);
  ck_assert_uint_eq(mesos__registry_state(r)->n_agents, 0);
  ck_assert_uint_eq(segment_size(dir), 0);
  mesos__registry_close(r);
}
END_TEST

START_TEST(test_registry__compaction_keeps_the_state_identical) {
  int64_t live = mesos__alloc_live();
  char dir[PATH_MAX], p[PATH_MAX];
  regtest_path(dir, sizeof dir, "compact");
  mesos__registry *r = open_reg(dir, 4), *mem = open_reg(NULL, 0);
  apply_everything(r);
  apply_everything(mem);
  /* 18 operations, a snapshot every 4: four snapshots, 2 pending. */
  ck_assert_uint_eq(mesos__registry_pending_compaction(r), 2);
  ck_assert_int_lt(snprintf(p, sizeof p, "%s/snapshot.%016x", dir, 4), (int)sizeof p);
  ck_assert(regtest_exists(p));
  assert_same_state(r, mem);
  mesos__registry_close(r);
  r = open_reg(dir, 4);
  check_everything(r);
  assert_same_state(r, mem);
  /* An explicit compaction, then reopen from the snapshot alone. */
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__registry_compact(r, &err), &err);
  ck_assert_uint_eq(mesos__registry_pending_compaction(r), 0);
  mesos__registry_close(r);
  r = open_reg(dir, 4);
  assert_same_state(r, mem);
  ck_assert_uint_eq(mesos__registry_sequence(r), 18);
  opbuf b;
  apply_ok(r, agent_op(&b, T(ADMIT_AGENT), "a7"));
  mesos__registry_close(r);
  r = open_reg(dir, 4);
  ck_assert_uint_eq(mesos__registry_sequence(r), 19);
  ck_assert_int_eq(mesos__registry_agent(r, "a7"), MESOS__REGISTRY_AGENT_ADMITTED);
  mesos__registry_close(r);
  mesos__registry_close(mem);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_registry__in_memory_mode_checks_alike_and_leaves_no_files) {
  int64_t live = mesos__alloc_live();
  char dir[PATH_MAX], cwd[PATH_MAX];
  regtest_dir(dir, sizeof dir, "mem");
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  ck_assert_int_eq(chdir(dir), 0);
  mesos__registry *r = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__registry_open(&r, NULL, &err), &err);
  apply_everything(r);
  check_everything(r);
  opbuf b;
  ck_assert_int_eq(mesos__registry_apply(r, agent_op(&b, T(ADMIT_AGENT), "a1"), &err),
                   MESOS_EEXIST);
  mesos_error_free(err);
  err = NULL;
  ck_assert_mesos_ok(mesos__registry_compact(r, &err), &err);
  ck_assert_uint_eq(mesos__registry_pending_compaction(r), 0);
  mesos__registry_close(r);
  ck_assert_int_eq(chdir(cwd), 0);
  /* The directory it ran in is still empty: rmdir fails on anything else. */
  ck_assert_int_eq(rmdir(dir), 0);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

/* Writes raw registry entries with the log API, to build broken logs. */
static void write_entries(const char *dir, Mesos__Internal__RegistryEntry **e, int n) {
  mesos__rlog_options lo = {0, true};
  mesos__rlog *log = NULL;
  ck_assert_int_eq(mesos__rlog_open(&log, dir, &lo, NULL, NULL, NULL), MESOS_OK);
  for (int i = 0; i < n; i++) {
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(mesos__pb_pack(&e[i]->base, 0, &buf, &len, NULL), MESOS_OK);
    ck_assert_int_eq(mesos__rlog_append(log, buf, len, NULL), MESOS_OK);
    mesos__free(buf);
  }
  mesos__rlog_close(log);
}

static void expect_open_fails(const char *dir, mesos_status want, const char *needle) {
  mesos__registry_options o = {dir, 0, 0};
  mesos__registry *r = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__registry_open(&r, &o, &err), want);
  ck_assert_ptr_null(r);
  ck_assert_msg(strstr(mesos_error_message(err), needle) != NULL, "message: %s",
                mesos_error_message(err));
  mesos_error_free(err);
}

START_TEST(test_registry__log_with_a_sequence_gap_or_a_bad_operation_refuses_open) {
  int64_t live = mesos__alloc_live();
  char dir[PATH_MAX];
  opbuf b1, b2;
  Mesos__Internal__RegistryEntry e1 = MESOS__INTERNAL__REGISTRY_ENTRY__INIT, e2 = e1;
  Mesos__Internal__RegistryEntry *es[2] = {&e1, &e2};
  e1.sequence = 1;
  e1.operation = agent_op(&b1, T(ADMIT_AGENT), "a1");
  e2.sequence = 3;
  e2.operation = agent_op(&b2, T(ADMIT_AGENT), "a2");
  regtest_path(dir, sizeof dir, "gap");
  write_entries(dir, es, 2);
  expect_open_fails(dir, MESOS_EPROTO, "sequence 3 where 2 was expected");

  /* The same agent admitted twice: the log contradicts itself. */
  e2.sequence = 2;
  e2.operation = agent_op(&b2, T(ADMIT_AGENT), "a1");
  regtest_path(dir, sizeof dir, "twice");
  write_entries(dir, es, 2);
  expect_open_fails(dir, MESOS_EPROTO, "does not apply");

  /* A checksummed record that is not a RegistryEntry. */
  regtest_path(dir, sizeof dir, "notentry");
  mesos__rlog_options lo = {0, true};
  mesos__rlog *log = NULL;
  ck_assert_int_eq(mesos__rlog_open(&log, dir, &lo, NULL, NULL, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__rlog_append(log, "\xff\xff\xff", 3, NULL), MESOS_OK);
  mesos__rlog_close(log);
  expect_open_fails(dir, MESOS_EPROTO, "does not decode");
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

/* The state the churn below leaves agent i in. */
static mesos__registry_agent_state churn_expect(int i) {
  if (i % 7 == 0) return MESOS__REGISTRY_AGENT_UNKNOWN;     /* removed */
  if (i % 5 == 0) return MESOS__REGISTRY_AGENT_GONE;
  if (i % 3 == 0 && i % 2 == 1) return MESOS__REGISTRY_AGENT_UNREACHABLE;
  return MESOS__REGISTRY_AGENT_ADMITTED; /* never touched, or readmitted (even i % 3 == 0) */
}

static void churn_check(mesos__registry *r, int n) {
  const Registry *st = mesos__registry_state(r);
  size_t counts[4] = {0};
  for (int i = 0; i < n; i++) {
    char id[32];
    snprintf(id, sizeof id, "agent-%d", i);
    mesos__registry_agent_state want = churn_expect(i);
    ck_assert_msg(mesos__registry_agent(r, id) == want, "%s: state %d, want %d", id,
                  (int)mesos__registry_agent(r, id), (int)want);
    const Mesos__Internal__Registry__Agent *a = mesos__registry_find_agent(r, id);
    if (want == MESOS__REGISTRY_AGENT_ADMITTED) {
      ck_assert_ptr_nonnull(a);
      ck_assert_str_eq(a->info->id->value, id);
    } else {
      ck_assert_ptr_null(a);
    }
    counts[want]++;
  }
  ck_assert_uint_eq(st->n_agents, counts[MESOS__REGISTRY_AGENT_ADMITTED]);
  ck_assert_uint_eq(st->n_unreachable, counts[MESOS__REGISTRY_AGENT_UNREACHABLE]);
  ck_assert_uint_eq(st->n_gone, counts[MESOS__REGISTRY_AGENT_GONE]);
}

START_TEST(test_registry__agents_moving_between_lists_stay_findable_by_id) {
  int64_t live = mesos__alloc_live();
  char dir[PATH_MAX];
  regtest_path(dir, sizeof dir, "churn");
  mesos__registry *r = open_reg(dir, 50), *mem = open_reg(NULL, 0);
  const int n = 300;
  opbuf b;
  for (int pass = 0; pass < 5; pass++) {
    for (int i = 0; i < n; i++) {
      char id[32];
      snprintf(id, sizeof id, "agent-%d", i);
      const Op *op = NULL;
      if (pass == 0) op = agent_op(&b, T(ADMIT_AGENT), id);
      if (pass == 1 && i % 3 == 0) op = agent_op(&b, T(MARK_AGENT_UNREACHABLE), id);
      if (pass == 2 && i % 3 == 0 && i % 2 == 0) op = agent_op(&b, T(READMIT_AGENT), id);
      if (pass == 3 && i % 5 == 0) op = agent_op(&b, T(MARK_AGENT_GONE), id);
      if (pass == 4 && i % 7 == 0) op = agent_op(&b, T(REMOVE_AGENT), id);
      if (op == NULL) continue;
      apply_ok(r, op);
      apply_ok(mem, op);
    }
  }
  churn_check(r, n);
  churn_check(mem, n);
  assert_same_state(r, mem);
  mesos__registry_close(r);
  r = open_reg(dir, 50); /* snapshot + replay rebuild the index */
  churn_check(r, n);
  assert_same_state(r, mem);
  mesos__registry_close(r);
  mesos__registry_close(mem);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_registry__snapshot_naming_an_agent_twice_refuses_open) {
  int64_t live = mesos__alloc_live();
  char dir[PATH_MAX];
  regtest_path(dir, sizeof dir, "dupsnap");
  opbuf b;
  agent_op(&b, T(ADMIT_AGENT), "a1");
  Mesos__Internal__Registry__Agent ag = MESOS__INTERNAL__REGISTRY__AGENT__INIT;
  ag.info = &b.info;
  Mesos__Internal__Registry__Agent *two[2] = {&ag, &ag};
  Registry reg = MESOS__INTERNAL__REGISTRY__INIT;
  reg.n_agents = 2;
  reg.agents = two;
  Mesos__Internal__RegistryEntry e = MESOS__INTERNAL__REGISTRY_ENTRY__INIT;
  e.sequence = 2;
  e.snapshot = &reg;
  uint8_t *buf;
  size_t len;
  ck_assert_int_eq(mesos__pb_pack(&e.base, 0, &buf, &len, NULL), MESOS_OK);
  mesos__rlog_options lo = {0, true};
  mesos__rlog *log = NULL;
  ck_assert_int_eq(mesos__rlog_open(&log, dir, &lo, NULL, NULL, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__rlog_snapshot(log, buf, len, NULL), MESOS_OK);
  mesos__rlog_close(log);
  mesos__free(buf);
  expect_open_fails(dir, MESOS_EPROTO, "appears twice");
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_registry__snapshot_of_a_newer_format_is_refused) {
  char dir[PATH_MAX];
  regtest_path(dir, sizeof dir, "newformat");
  Registry reg = MESOS__INTERNAL__REGISTRY__INIT;
  reg.has_format_version = 1;
  reg.format_version = MESOS__REGISTRY_FORMAT_VERSION + 1;
  Mesos__Internal__RegistryEntry e = MESOS__INTERNAL__REGISTRY_ENTRY__INIT;
  e.snapshot = &reg;
  uint8_t *buf;
  size_t len;
  ck_assert_int_eq(mesos__pb_pack(&e.base, 0, &buf, &len, NULL), MESOS_OK);
  mesos__rlog_options lo = {0, true};
  mesos__rlog *log = NULL;
  ck_assert_int_eq(mesos__rlog_open(&log, dir, &lo, NULL, NULL, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__rlog_snapshot(log, buf, len, NULL), MESOS_OK);
  mesos__rlog_close(log);
  mesos__free(buf);
  expect_open_fails(dir, MESOS_EVERSION, "format version 2");
}
END_TEST

/* kill -9 of a "master" admitting agents: every acknowledged admission is
 * there after recovery. */
START_TEST(test_registry__kill_9_loses_no_acknowledged_operation) {
  char dir[PATH_MAX];
  regtest_path(dir, sizeof dir, "kill9");
  srand((unsigned)getpid());
  uint32_t acked = 0;
  for (int round = 0; round < 4; round++) {
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      mesos__registry_options o = {dir, 5, 0};
      mesos__registry *r = NULL;
      if (mesos__registry_open(&r, &o, NULL) != MESOS_OK) _exit(3);
      uint32_t n = (uint32_t)mesos__registry_state(r)->n_agents;
      for (;;) {
        char id[32];
        opbuf b;
        snprintf(id, sizeof id, "agent-%u", n);
        if (mesos__registry_apply(r, agent_op(&b, T(ADMIT_AGENT), id), NULL) != MESOS_OK)
          _exit(4);
        n++;
        if (write(fds[1], &n, sizeof n) != sizeof n) _exit(5);
      }
    }
    close(fds[1]);
    uint32_t v;
    ck_assert_int_eq(read(fds[0], &v, sizeof v), (ssize_t)sizeof v);
    acked = v;
    usleep((useconds_t)(rand() % 50000));
    kill(pid, SIGKILL);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status), "child exited early with status %d", status);
    while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v) acked = v;
    close(fds[0]);
    mesos__registry *r = open_reg(dir, 5);
    const Registry *st = mesos__registry_state(r);
    ck_assert_msg(st->n_agents >= acked && st->n_agents <= acked + 1,
                  "round %d: %u admissions acknowledged, %zu recovered", round, acked,
                  st->n_agents);
    for (size_t i = 0; i < st->n_agents; i++) {
      char id[32];
      snprintf(id, sizeof id, "agent-%zu", i);
      ck_assert_str_eq(st->agents[i]->info->id->value, id);
    }
    mesos__registry_close(r);
  }
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("registry");
  TCase *tc = tcase_create("registry");
  tcase_add_test(tc, test_registry__every_operation_is_applied_and_survives_reopen);
  tcase_add_test(tc, test_registry__invalid_operations_are_rejected_and_nothing_is_written);
  tcase_add_test(tc, test_registry__operation_over_the_size_limit_is_refused);
  tcase_add_test(tc, test_registry__compaction_keeps_the_state_identical);
  tcase_add_test(tc, test_registry__in_memory_mode_checks_alike_and_leaves_no_files);
  tcase_add_test(tc, test_registry__log_with_a_sequence_gap_or_a_bad_operation_refuses_open);
  tcase_add_test(tc, test_registry__kill_9_loses_no_acknowledged_operation);
  REGTEST_TCASE(s, tc, 60);
  /* Bookkeeping tests that need files but not fsync's real cost: tmpfs. */
  TCase *fast = tcase_create("registry_tmpfs");
  tcase_add_test(fast, test_registry__agents_moving_between_lists_stay_findable_by_id);
  tcase_add_test(fast, test_registry__snapshot_naming_an_agent_twice_refuses_open);
  tcase_add_test(fast, test_registry__snapshot_of_a_newer_format_is_refused);
  REGTEST_TCASE_WITH(s, fast, 60, regtest_setup_fast);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
