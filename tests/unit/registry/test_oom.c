/* OOM torture (tests/support/oom.h) over the registry module: every
 * allocation of open, apply, replay, compaction, checkpoints and update
 * streams fails in turn, and each run must fail cleanly with MESOS_ENOMEM,
 * leak nothing and leave the durable state consistent. */
#include "codec/pb.h"
#include "mesos/internal/checkpoint.pb-c.h"
#include "registry/checkpoint.h"
#include "registry/log.h"
#include "registry/registry.h"
#include "support/oom.h"
#include "unit/registry/regops.h"
#include "unit/registry/regtest.h"

#define TY(x) MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__##x

/* Applies `op`; on failure checks that nothing changed. */
static mesos_status try_apply(mesos__registry *r, const Op *op) {
  uint64_t seq = mesos__registry_sequence(r);
  size_t agents = mesos__registry_state(r)->n_agents;
  mesos_error *err = NULL;
  mesos_status s = mesos__registry_apply(r, op, &err);
  mesos_error_free(err);
  if (s != MESOS_OK) {
    ck_assert_uint_eq(mesos__registry_sequence(r), seq);
    ck_assert_uint_eq(mesos__registry_state(r)->n_agents, agents);
  }
  return s;
}

static mesos_status registry_run(void *ud) {
  const char *dir = ud; /* NULL: in memory */
  char path[PATH_MAX];
  if (dir != NULL) {
    regtest_path(path, sizeof path, dir);
    dir = path;
  }
  mesos__registry_options o = {dir, 3, 0};
  mesos__registry *r = NULL;
  mesos_error *err = NULL;
  mesos_status s = mesos__registry_open(&r, &o, &err);
  mesos_error_free(err);
  if (s != MESOS_OK) return s;
  opbuf b;
  const Op *ops[9];
  int n = 0;
  if ((s = try_apply(r, agent_op(&b, TY(ADMIT_AGENT), "a1"))) == MESOS_OK) n++;
  if (s == MESOS_OK && (s = try_apply(r, agent_op(&b, TY(ADMIT_AGENT), "a2"))) == MESOS_OK) n++;
  if (s == MESOS_OK && (s = try_apply(r, update_agent_op(&b, "a1", 4, 1))) == MESOS_OK) n++;
  if (s == MESOS_OK &&
      (s = try_apply(r, agent_op(&b, TY(MARK_AGENT_UNREACHABLE), "a2"))) == MESOS_OK)
    n++;
  if (s == MESOS_OK &&
      (s = try_apply(r, weights_op(&b, 1, (const char *[]){"r"}, (double[]){2}))) == MESOS_OK)
    n++;
  if (s == MESOS_OK && (s = try_apply(r, quota_op(&b, "q", 1, 2))) == MESOS_OK) n++;
  if (s == MESOS_OK &&
      (s = try_apply(r, schedule_op(&b, 2, (const char *[]){"m1", "m2"}, 1))) == MESOS_OK)
    n++;
  if (s == MESOS_OK && (s = try_apply(r, maintenance_op(&b, TY(START_MAINTENANCE), 1,
                                                        (const char *[]){"m1"}))) == MESOS_OK)
    n++;
  if (s == MESOS_OK && (s = try_apply(r, maintenance_op(&b, TY(STOP_MAINTENANCE), 1,
                                                        (const char *[]){"m1"}))) == MESOS_OK)
    n++;
  (void)ops;
  mesos__registry_close(r);
  if (dir == NULL) return s;
  /* Whatever was acknowledged is recovered, however far the run got. */
  mesos__registry *r2 = NULL;
  mesos_status s2 = mesos__registry_open(&r2, &o, &err);
  mesos_error_free(err);
  if (s2 != MESOS_OK) return s2;
  ck_assert_uint_eq(mesos__registry_sequence(r2), (uint64_t)n);
  mesos__registry_close(r2);
  return s;
}

START_TEST(test_registry_oom__durable_registry_fails_cleanly_at_every_allocation) {
  uint64_t n = mesos_test_oom_torture(registry_run, "oom-reg", 100000);
  ck_assert_uint_gt(n, 50);
}
END_TEST

START_TEST(test_registry_oom__in_memory_registry_fails_cleanly_at_every_allocation) {
  uint64_t n = mesos_test_oom_torture(registry_run, NULL, 100000);
  ck_assert_uint_gt(n, 20);
}
END_TEST

static mesos_status checkpoint_run(void *ud) {
  char dir[PATH_MAX], path[PATH_MAX];
  regtest_path(dir, sizeof dir, "oom-ckpt");
  ck_assert_int_lt(snprintf(path, sizeof path, "%s/a/b/ckpt", dir), (int)sizeof path);
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  Mesos__V1__AgentInfo info = MESOS__V1__AGENT_INFO__INIT;
  Mesos__Internal__AgentCheckpoint c = MESOS__INTERNAL__AGENT_CHECKPOINT__INIT;
  aid.value = "a1";
  info.hostname = "h";
  info.id = &aid;
  c.info = &info;
  mesos_error *err = NULL;
  mesos_status s = mesos__checkpoint_write(path, &c.base, &err);
  if (s == MESOS_OK) {
    ProtobufCMessage *m = NULL;
    s = mesos__checkpoint_read(path, &mesos__internal__agent_checkpoint__descriptor, &m, &err);
    mesos__pb_free(m);
  }
  mesos_error_free(err);
  return s;
}

START_TEST(test_checkpoint_oom__write_and_read_fail_cleanly_at_every_allocation) {
  ck_assert_uint_gt(mesos_test_oom_torture(checkpoint_run, NULL, 10000), 3);
}
END_TEST

static mesos_status drop_update(ProtobufCMessage *msg, void *ud) {
  mesos__pb_free(msg);
  return MESOS_OK;
}

static mesos_status stream_run(void *ud) {
  char path[PATH_MAX];
  regtest_path(path, sizeof path, "oom-stream");
  Mesos__Internal__StatusUpdateRecord rec = MESOS__INTERNAL__STATUS_UPDATE_RECORD__INIT;
  rec.type = MESOS__INTERNAL__STATUS_UPDATE_RECORD__TYPE__ACK;
  const ProtobufCMessageDescriptor *d = &mesos__internal__status_update_record__descriptor;
  mesos__update_stream *st = NULL;
  mesos_error *err = NULL;
  mesos_status s = mesos__update_stream_open(&st, path, d, drop_update, NULL, &err);
  for (int i = 0; s == MESOS_OK && i < 2; i++) s = mesos__update_stream_append(st, &rec.base, &err);
  mesos__update_stream_close(st);
  st = NULL;
  if (s == MESOS_OK) s = mesos__update_stream_open(&st, path, d, drop_update, NULL, &err);
  mesos__update_stream_close(st);
  if (s == MESOS_OK) s = mesos__update_stream_read(path, d, drop_update, NULL, NULL, &err);
  mesos_error_free(err);
  return s;
}

START_TEST(test_update_stream_oom__open_append_read_fail_cleanly_at_every_allocation) {
  ck_assert_uint_gt(mesos_test_oom_torture(stream_run, NULL, 10000), 5);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("registry_oom");
  TCase *tc = tcase_create("oom");
  tcase_add_test(tc, test_registry_oom__durable_registry_fails_cleanly_at_every_allocation);
  tcase_add_test(tc, test_registry_oom__in_memory_registry_fails_cleanly_at_every_allocation);
  tcase_add_test(tc, test_checkpoint_oom__write_and_read_fail_cleanly_at_every_allocation);
  tcase_add_test(tc, test_update_stream_oom__open_append_read_fail_cleanly_at_every_allocation);
  REGTEST_TCASE_WITH(s, tc, 120, regtest_setup_fast);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
