/* Random damage to log files: whatever the bytes, open either recovers a
 * prefix of what was written (damage in the tail) or refuses with a clear
 * error; it never crashes, leaks, or hands out a damaged record.  Runs on
 * tmpfs: the subject is the parser, not the disk. */
#include "codec/pb.h"
#include "registry/log.h"
#include "registry/registry.h"
#include "unit/registry/regops.h"
#include "unit/registry/regtest.h"

#define TY(x) MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__##x
#define NREC 12
#define ROUNDS 300

static size_t rec_payload(int i, unsigned char *buf) {
  size_t n = (size_t)(i * 53) % 300;
  for (size_t k = 0; k < n; k++) buf[k] = (unsigned char)(i + k * 13);
  return n;
}

typedef struct {
  int n;
  int bad; /* a delivered record that is not the one written there */
} prefix_check;

static mesos_status prefix_cb(mesos__rlog_item item, const uint8_t *data, size_t len,
                              void *ud) {
  prefix_check *p = ud;
  unsigned char buf[512];
  size_t n = rec_payload(p->n, buf);
  if (item != MESOS__RLOG_ITEM_RECORD || len != n || memcmp(data, buf, n) != 0) p->bad++;
  p->n++;
  return MESOS_OK;
}

/* One random mutation of the file: flip bytes, cut, extend with garbage,
 * or overwrite a run with garbage. */
static void mutate(const char *path, unsigned *seed) {
  size_t len;
  unsigned char *d = regtest_read(path, &len);
  int kind = rand_r(seed) % 4;
  if (kind == 0 && len > 0) {
    int flips = 1 + rand_r(seed) % 3;
    for (int i = 0; i < flips; i++) d[(size_t)rand_r(seed) % len] ^= (unsigned char)(1 + rand_r(seed) % 255);
  } else if (kind == 1 && len > 0) {
    len = (size_t)rand_r(seed) % len;
  } else if (kind == 2) {
    size_t extra = 1 + (size_t)rand_r(seed) % 64;
    d = realloc(d, len + extra);
    for (size_t i = 0; i < extra; i++) d[len + i] = (unsigned char)rand_r(seed);
    len += extra;
  } else if (len > 0) {
    size_t at = (size_t)rand_r(seed) % len, run = 1 + (size_t)rand_r(seed) % 40;
    for (size_t i = at; i < len && i < at + run; i++) d[i] = (unsigned char)rand_r(seed);
  }
  regtest_write(path, d, len, O_TRUNC);
  free(d);
}

START_TEST(test_corruption__random_damage_recovers_a_prefix_or_is_refused) {
  int64_t live = mesos__alloc_live();
  char dir[PATH_MAX], seg[PATH_MAX];
  regtest_path(dir, sizeof dir, "orig");
  mesos__rlog_options o = {0, true};
  mesos__rlog *log = NULL;
  ck_assert_int_eq(mesos__rlog_open(&log, dir, &o, NULL, NULL, NULL), MESOS_OK);
  unsigned char buf[512];
  for (int i = 0; i < NREC; i++)
    ck_assert_int_eq(mesos__rlog_append(log, buf, rec_payload(i, buf), NULL), MESOS_OK);
  mesos__rlog_close(log);
  ck_assert_int_lt(snprintf(seg, sizeof seg, "%s/log.%016x", dir, 0), (int)sizeof seg);
  size_t orig_len;
  unsigned char *orig = regtest_read(seg, &orig_len);

  unsigned seed = 12345;
  int recovered = 0, refused = 0;
  for (int round = 0; round < ROUNDS; round++) {
    regtest_write(seg, orig, orig_len, O_TRUNC);
    mutate(seg, &seed);
    if (round % 3 == 0) mutate(seg, &seed);
    prefix_check p = {0, 0};
    mesos_error *err = NULL;
    mesos_status s = mesos__rlog_open(&log, dir, &o, prefix_cb, &p, &err);
    ck_assert_int_eq(p.bad, 0);
    if (s == MESOS_OK) {
      recovered++;
      ck_assert_int_le(p.n, NREC);
      mesos__rlog_close(log);
    } else {
      refused++;
      ck_assert_msg(s == MESOS_EPROTO || s == MESOS_EVERSION || s == MESOS_ELIMIT,
                    "round %d: %s", round, mesos_status_name(s));
      ck_assert_ptr_nonnull(err);
      mesos_error_free(err);
    }
  }
  /* Both outcomes must have been exercised for the test to mean anything. */
  ck_assert_int_gt(recovered, 20);
  ck_assert_int_gt(refused, 20);
  free(orig);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

/* The registry over a damaged log: a successful open yields exactly the
 * state after some prefix of the operations. */
START_TEST(test_corruption__damaged_registry_log_yields_a_prefix_state_or_is_refused) {
  int64_t live = mesos__alloc_live();
  char dir[PATH_MAX], seg[PATH_MAX];
  regtest_path(dir, sizeof dir, "reg");
  mesos__registry_options o = {dir, 1000, 0};
  mesos__registry *r = NULL, *mem = NULL;
  ck_assert_int_eq(mesos__registry_open(&r, &o, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__registry_open(&mem, NULL, NULL), MESOS_OK);
  /* prefix_state[k]: the encoded state after k operations. */
  uint8_t *prefix_state[NREC + 1];
  size_t prefix_len[NREC + 1];
  ck_assert_int_eq(mesos__pb_pack(&mesos__registry_state(mem)->base, 0, &prefix_state[0],
                                  &prefix_len[0], NULL),
                   MESOS_OK);
  for (int i = 0; i < NREC; i++) {
    char id[32];
    opbuf b;
    snprintf(id, sizeof id, "agent-%d", i);
    const Op *op = i % 4 == 3 ? agent_op(&b, TY(MARK_AGENT_UNREACHABLE), "agent-0")
                              : agent_op(&b, TY(ADMIT_AGENT), id);
    if (i == 7) op = agent_op(&b, TY(READMIT_AGENT), "agent-0");
    ck_assert_int_eq(mesos__registry_apply(r, op, NULL), MESOS_OK);
    ck_assert_int_eq(mesos__registry_apply(mem, op, NULL), MESOS_OK);
    ck_assert_int_eq(mesos__pb_pack(&mesos__registry_state(mem)->base, 0, &prefix_state[i + 1],
                                    &prefix_len[i + 1], NULL),
                     MESOS_OK);
  }
  mesos__registry_close(r);
  mesos__registry_close(mem);
  ck_assert_int_lt(snprintf(seg, sizeof seg, "%s/log.%016x", dir, 0), (int)sizeof seg);
  size_t orig_len;
  unsigned char *orig = regtest_read(seg, &orig_len);
  unsigned seed = 777;
  int recovered = 0, refused = 0;
  for (int round = 0; round < ROUNDS; round++) {
    regtest_write(seg, orig, orig_len, O_TRUNC);
    mutate(seg, &seed);
    mesos_error *err = NULL;
    mesos_status s = mesos__registry_open(&r, &o, &err);
    if (s != MESOS_OK) {
      refused++;
      ck_assert_msg(s == MESOS_EPROTO || s == MESOS_EVERSION || s == MESOS_ELIMIT,
                    "round %d: %s", round, mesos_status_name(s));
      mesos_error_free(err);
      continue;
    }
    recovered++;
    uint64_t k = mesos__registry_sequence(r);
    ck_assert_uint_le(k, NREC);
    uint8_t *got;
    size_t len;
    ck_assert_int_eq(mesos__pb_pack(&mesos__registry_state(r)->base, 0, &got, &len, NULL),
                     MESOS_OK);
    ck_assert_msg(len == prefix_len[k] && memcmp(got, prefix_state[k], len) == 0,
                  "round %d: state differs from the one after %llu operations", round,
                  (unsigned long long)k);
    mesos__free(got);
    mesos__registry_close(r);
  }
  ck_assert_int_gt(recovered, 20);
  ck_assert_int_gt(refused, 20);
  for (int i = 0; i <= NREC; i++) mesos__free(prefix_state[i]);
  free(orig);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("registry_corruption");
  TCase *tc = tcase_create("corruption");
  tcase_add_test(tc, test_corruption__random_damage_recovers_a_prefix_or_is_refused);
  tcase_add_test(tc, test_corruption__damaged_registry_log_yields_a_prefix_state_or_is_refused);
  REGTEST_TCASE_WITH(s, tc, 120, regtest_setup_fast);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
