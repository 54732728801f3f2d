/* The durable record log: replay, torn tails, corruption, snapshots,
 * limits, and kill -9 at random moments. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include "registry/crc32c.h"
#include "registry/log.h"
#include "registry/log_int.h"
#include "unit/registry/regtest.h"

/* What a replay delivered: each item copied out. */
typedef struct {
  int n;
  int kinds[512];
  unsigned char *data[512];
  size_t len[512];
} collected;

static mesos_status collect_cb(mesos__rlog_item item, const uint8_t *data, size_t len,
                               void *ud) {
  collected *c = ud;
  ck_assert_int_lt(c->n, 512);
  c->kinds[c->n] = (int)item;
  c->data[c->n] = malloc(len + 1);
  memcpy(c->data[c->n], data, len);
  c->len[c->n] = len;
  c->n++;
  return MESOS_OK;
}

static void collected_free(collected *c) {
  for (int i = 0; i < c->n; i++) free(c->data[i]);
  c->n = 0;
}

/* Record i's payload: i bytes-ish of a pattern derived from i. */
static size_t payload(int i, unsigned char *buf, size_t cap) {
  size_t n = (size_t)(i * 37) % 700;
  if (n > cap) n = cap;
  for (size_t k = 0; k < n; k++) buf[k] = (unsigned char)(i * 31 + k * 7);
  return n;
}

static void check_record(const collected *c, int idx, int i) {
  unsigned char buf[1024];
  size_t n = payload(i, buf, sizeof buf);
  ck_assert_int_eq(c->kinds[idx], MESOS__RLOG_ITEM_RECORD);
  ck_assert_uint_eq(c->len[idx], n);
  ck_assert_msg(memcmp(c->data[idx], buf, n) == 0, "record %d differs", i);
}

static mesos__rlog *open_log(const char *dir, collected *c) {
  mesos__rlog_options o = {0, true};
  mesos__rlog *log = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__rlog_open(&log, dir, &o, collect_cb, c, &err), &err);
  return log;
}

static void append_n(mesos__rlog *log, int from, int to) {
  unsigned char buf[1024];
  mesos_error *err = NULL;
  for (int i = from; i < to; i++) {
    size_t n = payload(i, buf, sizeof buf);
    ck_assert_mesos_ok(mesos__rlog_append(log, buf, n, &err), &err);
  }
}

static void seg_path(char *out, size_t n, const char *dir, const char *prefix, unsigned gen) {
  ck_assert_int_lt(snprintf(out, n, "%s/%s%016x", dir, prefix, gen), (int)n);
}

START_TEST(test_crc32c__matches_the_published_check_value) {
  /* RFC 3720 B.4 and every CRC catalogue: CRC-32C("123456789") = e3069283. */
  ck_assert_uint_eq(mesos__crc32c(0, "123456789", 9), 0xE3069283u);
  ck_assert_uint_eq(mesos__crc32c(mesos__crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
  unsigned char zeros[32] = {0};
  ck_assert_uint_eq(mesos__crc32c(0, zeros, 32), 0x8A9136AAu);
}
END_TEST

START_TEST(test_log__appended_records_are_replayed_in_order_after_reopen) {
  int64_t live = mesos__alloc_live();
  char dir[PATH_MAX];
  regtest_path(dir, sizeof dir, "log"); /* open creates it */
  collected c = {0};
  mesos__rlog *log = open_log(dir, &c);
  ck_assert_int_eq(c.n, 0);
  append_n(log, 0, 200);
  ck_assert_uint_eq(mesos__rlog_records_since_snapshot(log), 200);
  mesos__rlog_close(log);

  log = open_log(dir, &c);
  ck_assert_int_eq(c.n, 200);
  for (int i = 0; i < 200; i++) check_record(&c, i, i);
  ck_assert_uint_eq(mesos__rlog_records_since_snapshot(log), 200);
  collected_free(&c);
  append_n(log, 200, 210);
  mesos__rlog_close(log);
  log = open_log(dir, &c);
  ck_assert_int_eq(c.n, 210);
  check_record(&c, 209, 209);
  collected_free(&c);
  mesos__rlog_close(log);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_log__missing_directory_without_create_is_not_found) {
  char dir[PATH_MAX];
  regtest_path(dir, sizeof dir, "absent");
  mesos__rlog *log = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__rlog_open(&log, dir, NULL, NULL, NULL, &err), MESOS_ENOTFOUND);
  ck_assert_ptr_null(log);
  mesos_error_free(err);
  ck_assert(!regtest_exists(dir));
}
END_TEST

/* Cuts the segment at `cut` bytes from its end, reopens, and checks that
 * exactly `expect` records survive and appending continues cleanly. */
static void check_truncated_tail(size_t cut_from_end) {
  char dir[PATH_MAX], seg[PATH_MAX];
  regtest_path(dir, sizeof dir, "torn");
  collected c = {0};
  mesos__rlog *log = open_log(dir, &c);
  append_n(log, 1, 4); /* record 3 is 111 bytes: 127 on disk */
  mesos__rlog_close(log);
  seg_path(seg, sizeof seg, dir, "log.", 0);
  size_t size = regtest_file_size(seg);
  ck_assert_int_eq(truncate(seg, (off_t)(size - cut_from_end)), 0);

  log = open_log(dir, &c);
  ck_assert_int_eq(c.n, 2);
  check_record(&c, 0, 1);
  check_record(&c, 1, 2);
  collected_free(&c);
  /* The torn bytes are gone, so the next record follows the last good one. */
  ck_assert_uint_eq(regtest_file_size(seg), size - 127);
  append_n(log, 3, 5);
  mesos__rlog_close(log);
  log = open_log(dir, &c);
  ck_assert_int_eq(c.n, 4);
  for (int i = 0; i < 4; i++) check_record(&c, i, i + 1);
  collected_free(&c);
  mesos__rlog_close(log);
}

START_TEST(test_log__record_cut_mid_payload_is_dropped_as_a_torn_tail) {
  check_truncated_tail(50);
}
END_TEST

START_TEST(test_log__record_cut_mid_header_is_dropped_as_a_torn_tail) {
  check_truncated_tail(127 - 7);
}
END_TEST

START_TEST(test_log__garbage_after_the_last_record_is_dropped) {
  char dir[PATH_MAX], seg[PATH_MAX];
  regtest_path(dir, sizeof dir, "garbage");
  collected c = {0};
  mesos__rlog *log = open_log(dir, &c);
  append_n(log, 0, 3);
  mesos__rlog_close(log);
  seg_path(seg, sizeof seg, dir, "log.", 0);
  size_t size = regtest_file_size(seg);
  /* Random bytes, then a plausible header (our magic, a length that fits)
   * whose checksum is wrong: both are what a torn write can leave. */
  unsigned char junk[300];
  srand(7);
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)rand();
  regtest_write(seg, junk, 100, O_APPEND);
  unsigned char fake[16 + 40] = {0x93, 'M', 'R', 'C', 1, 1, 0, 0, 40, 0, 0, 0, 1, 2, 3, 4};
  regtest_write(seg, fake, sizeof fake, O_APPEND);

  log = open_log(dir, &c);
  ck_assert_int_eq(c.n, 3);
  collected_free(&c);
  ck_assert_uint_eq(regtest_file_size(seg), size);
  append_n(log, 3, 4);
  mesos__rlog_close(log);
  log = open_log(dir, &c);
  ck_assert_int_eq(c.n, 4);
  check_record(&c, 3, 3);
  collected_free(&c);
  mesos__rlog_close(log);
}
END_TEST

/* Flips the byte at `off` of a 5-record segment and expects open to refuse
 * with EPROTO naming `bad_off`, leaving the file byte-for-byte as it was. */
static void check_corrupt_middle(size_t off, size_t bad_off) {
  char dir[PATH_MAX], seg[PATH_MAX];
  regtest_path(dir, sizeof dir, "corrupt");
  collected c = {0};
  mesos__rlog *log = open_log(dir, &c);
  append_n(log, 1, 6);
  mesos__rlog_close(log);
  seg_path(seg, sizeof seg, dir, "log.", 0);
  regtest_flip(seg, off);
  size_t before_len, after_len;
  unsigned char *before = regtest_read(seg, &before_len);

  mesos__rlog_options o = {0, true};
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__rlog_open(&log, dir, &o, collect_cb, &c, &err), MESOS_EPROTO);
  char want[64];
  snprintf(want, sizeof want, "offset %zu", bad_off);
  ck_assert_msg(strstr(mesos_error_message(err), want) != NULL, "message: %s",
                mesos_error_message(err));
  mesos_error_free(err);
  collected_free(&c);
  unsigned char *after = regtest_read(seg, &after_len);
  ck_assert_uint_eq(after_len, before_len);
  ck_assert(memcmp(before, after, before_len) == 0);
  free(before);
  free(after);
}

/* Records 1..5 are 37, 74, 111, 148, 185 payload bytes: record 3 starts at
 * 16+37 + 16+74 = 143. */
START_TEST(test_log__flipped_payload_byte_in_a_middle_record_refuses_open) {
  check_corrupt_middle(143 + 16 + 50, 143);
}
END_TEST

START_TEST(test_log__flipped_length_byte_in_a_middle_record_refuses_open) {
  check_corrupt_middle(143 + 8, 143);
}
END_TEST

START_TEST(test_log__flipped_magic_byte_in_a_middle_record_refuses_open) {
  check_corrupt_middle(143 + 1, 143);
}
END_TEST

START_TEST(test_log__snapshot_replaces_earlier_records_on_replay) {
  int64_t live = mesos__alloc_live();
  char dir[PATH_MAX], p[PATH_MAX];
  regtest_path(dir, sizeof dir, "snap");
  collected c = {0};
  mesos__rlog *log = open_log(dir, &c);
  append_n(log, 0, 10);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__rlog_snapshot(log, "state-10", 8, &err), &err);
  ck_assert_uint_eq(mesos__rlog_generation(log), 1);
  ck_assert_uint_eq(mesos__rlog_records_since_snapshot(log), 0);
  append_n(log, 10, 13);
  mesos__rlog_close(log);
  seg_path(p, sizeof p, dir, "log.", 0);
  ck_assert(!regtest_exists(p));
  seg_path(p, sizeof p, dir, "snapshot.", 1);
  ck_assert(regtest_exists(p));

  log = open_log(dir, &c);
  ck_assert_int_eq(c.n, 4);
  ck_assert_int_eq(c.kinds[0], MESOS__RLOG_ITEM_SNAPSHOT);
  ck_assert_uint_eq(c.len[0], 8);
  ck_assert(memcmp(c.data[0], "state-10", 8) == 0);
  for (int i = 0; i < 3; i++) check_record(&c, i + 1, 10 + i);
  collected_free(&c);
  ck_assert_uint_eq(mesos__rlog_records_since_snapshot(log), 3);
  /* A second snapshot, an empty one, and reopen again. */
  ck_assert_mesos_ok(mesos__rlog_snapshot(log, "", 0, &err), &err);
  mesos__rlog_close(log);
  log = open_log(dir, &c);
  ck_assert_int_eq(c.n, 1);
  ck_assert_uint_eq(c.len[0], 0);
  ck_assert_uint_eq(mesos__rlog_generation(log), 2);
  collected_free(&c);
  mesos__rlog_close(log);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_log__crash_before_old_segment_deletion_recovers_the_snapshot) {
  char dir[PATH_MAX], old_seg[PATH_MAX], new_seg[PATH_MAX], tmp[PATH_MAX];
  regtest_path(dir, sizeof dir, "crash");
  collected c = {0};
  mesos__rlog *log = open_log(dir, &c);
  append_n(log, 0, 5);
  seg_path(old_seg, sizeof old_seg, dir, "log.", 0);
  size_t old_len;
  unsigned char *old = regtest_read(old_seg, &old_len);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__rlog_snapshot(log, "S5", 2, &err), &err);
  append_n(log, 5, 7);
  mesos__rlog_close(log);
  /* The state a crash right after the rename would leave: old generation
   * still there, and a half-written temporary of a later snapshot. */
  regtest_write(old_seg, old, old_len, O_TRUNC);
  ck_assert_int_lt(snprintf(tmp, sizeof tmp, "%s/snapshot.%016x.tmp", dir, 2), (int)sizeof tmp);
  regtest_write(tmp, "half", 4, O_TRUNC);

  log = open_log(dir, &c);
  ck_assert_int_eq(c.n, 3);
  ck_assert_int_eq(c.kinds[0], MESOS__RLOG_ITEM_SNAPSHOT);
  ck_assert(memcmp(c.data[0], "S5", 2) == 0);
  check_record(&c, 1, 5);
  check_record(&c, 2, 6);
  collected_free(&c);
  mesos__rlog_close(log);
  ck_assert(!regtest_exists(old_seg));
  ck_assert(!regtest_exists(tmp));

  /* Earlier still: the snapshot renamed but its new segment not created. */
  seg_path(new_seg, sizeof new_seg, dir, "log.", 1);
  ck_assert_int_eq(unlink(new_seg), 0);
  regtest_write(old_seg, old, old_len, O_TRUNC | O_CREAT);
  log = open_log(dir, &c);
  ck_assert_int_eq(c.n, 1);
  ck_assert_int_eq(c.kinds[0], MESOS__RLOG_ITEM_SNAPSHOT);
  collected_free(&c);
  append_n(log, 5, 6);
  mesos__rlog_close(log);
  ck_assert(regtest_exists(new_seg));
  ck_assert(!regtest_exists(old_seg));
  log = open_log(dir, &c);
  ck_assert_int_eq(c.n, 2);
  check_record(&c, 1, 5);
  collected_free(&c);
  mesos__rlog_close(log);
  free(old);
}
END_TEST

START_TEST(test_log__segment_without_its_snapshot_refuses_open) {
  char dir[PATH_MAX], p[PATH_MAX];
  regtest_path(dir, sizeof dir, "nosnap");
  collected c = {0};
  mesos__rlog *log = open_log(dir, &c);
  append_n(log, 0, 2);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__rlog_snapshot(log, "S", 1, &err), &err);
  mesos__rlog_close(log);
  seg_path(p, sizeof p, dir, "snapshot.", 1);
  ck_assert_int_eq(unlink(p), 0);
  ck_assert_int_eq(mesos__rlog_open(&log, dir, NULL, collect_cb, &c, &err), MESOS_EPROTO);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "has no snapshot"));
  mesos_error_free(err);
  collected_free(&c);
}
END_TEST

START_TEST(test_log__damaged_snapshot_refuses_open) {
  char dir[PATH_MAX], p[PATH_MAX];
  regtest_path(dir, sizeof dir, "badsnap");
  collected c = {0};
  mesos__rlog *log = open_log(dir, &c);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__rlog_snapshot(log, "snapshot-payload", 16, &err), &err);
  mesos__rlog_close(log);
  seg_path(p, sizeof p, dir, "snapshot.", 1);
  regtest_flip(p, 20);
  ck_assert_int_eq(mesos__rlog_open(&log, dir, NULL, collect_cb, &c, &err), MESOS_EPROTO);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "snapshot"));
  mesos_error_free(err);
  collected_free(&c);
  /* A truncated one is damage too: snapshots appear whole or not at all. */
  regtest_flip(p, 20);
  ck_assert_int_eq(truncate(p, 20), 0);
  ck_assert_int_eq(mesos__rlog_open(&log, dir, NULL, collect_cb, &c, &err), MESOS_EPROTO);
  mesos_error_free(err);
  collected_free(&c);
}
END_TEST

START_TEST(test_log__record_over_the_limit_is_refused_and_nothing_written) {
  char dir[PATH_MAX], seg[PATH_MAX];
  regtest_path(dir, sizeof dir, "limit");
  mesos__rlog_options o = {100, true};
  mesos__rlog *log = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__rlog_open(&log, dir, &o, NULL, NULL, &err), &err);
  char big[101] = {0};
  ck_assert_mesos_ok(mesos__rlog_append(log, big, 100, &err), &err);
  seg_path(seg, sizeof seg, dir, "log.", 0);
  size_t size = regtest_file_size(seg);
  ck_assert_int_eq(mesos__rlog_append(log, big, 101, &err), MESOS_ELIMIT);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos__rlog_snapshot(log, big, 101, &err), MESOS_ELIMIT);
  mesos_error_free(err);
  err = NULL;
  ck_assert_uint_eq(regtest_file_size(seg), size);
  ck_assert_uint_eq(mesos__rlog_generation(log), 0);
  mesos__rlog_close(log);
  /* A complete record longer than a reader's limit is refused, not cut. */
  o.max_record = 50;
  ck_assert_int_eq(mesos__rlog_open(&log, dir, &o, NULL, NULL, &err), MESOS_ELIMIT);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "offset 0"));
  mesos_error_free(err);
  ck_assert_uint_eq(regtest_file_size(seg), size);
}
END_TEST

START_TEST(test_log__second_open_of_the_same_directory_is_busy) {
  char dir[PATH_MAX];
  regtest_path(dir, sizeof dir, "busy");
  collected c = {0};
  mesos__rlog *log = open_log(dir, &c), *log2 = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__rlog_open(&log2, dir, NULL, NULL, NULL, &err), MESOS_EBUSY);
  mesos_error_free(err);
  mesos__rlog_close(log);
  log = open_log(dir, &c);
  mesos__rlog_close(log);
}
END_TEST

static mesos_status failing_cb(mesos__rlog_item item, const uint8_t *data, size_t len,
                               void *ud) {
  return MESOS_EUSER;
}

START_TEST(test_log__replay_callback_failure_aborts_open_unchanged) {
  char dir[PATH_MAX];
  regtest_path(dir, sizeof dir, "cbfail");
  collected c = {0};
  mesos__rlog *log = open_log(dir, &c);
  append_n(log, 0, 2);
  mesos__rlog_close(log);
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__rlog_open(&log, dir, NULL, failing_cb, NULL, &err), MESOS_EUSER);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "stopped by the caller"));
  mesos_error_free(err);
  log = open_log(dir, &c);
  ck_assert_int_eq(c.n, 2);
  collected_free(&c);
  mesos__rlog_close(log);
}
END_TEST

START_TEST(test_log__record_of_a_newer_format_version_is_refused) {
  char dir[PATH_MAX], seg[PATH_MAX];
  regtest_path(dir, sizeof dir, "version");
  collected c = {0};
  mesos__rlog *log = open_log(dir, &c);
  append_n(log, 1, 2);
  mesos__rlog_close(log);
  seg_path(seg, sizeof seg, dir, "log.", 0);
  size_t len;
  unsigned char *rec = regtest_read(seg, &len);
  /* Version 2 with a checksum that matches: written by a newer build. */
  rec[4] = 2;
  uint32_t crc = mesos__crc32c(mesos__crc32c(0, rec + 4, 8), rec + 16, len - 16);
  for (int i = 0; i < 4; i++) rec[12 + i] = (unsigned char)(crc >> (8 * i));
  regtest_write(seg, rec, len, O_TRUNC);
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__rlog_open(&log, dir, NULL, collect_cb, &c, &err), MESOS_EVERSION);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "format version 2"));
  mesos_error_free(err);
  ck_assert_uint_eq(regtest_file_size(seg), len);
  collected_free(&c);
  free(rec);
}
END_TEST

START_TEST(test_log__record_of_another_kind_is_refused) {
  char dir[PATH_MAX], p[PATH_MAX], dir2[PATH_MAX], seg[PATH_MAX];
  regtest_path(dir, sizeof dir, "kind");
  collected c = {0};
  mesos__rlog *log = open_log(dir, &c);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__rlog_snapshot(log, "snap", 4, &err), &err);
  mesos__rlog_close(log);
  seg_path(p, sizeof p, dir, "snapshot.", 1);
  size_t len;
  unsigned char *snap = regtest_read(p, &len);
  /* A snapshot record where log records belong. */
  regtest_dir(dir2, sizeof dir2, "kind2");
  seg_path(seg, sizeof seg, dir2, "log.", 0);
  regtest_write(seg, snap, len, O_TRUNC);
  ck_assert_int_eq(mesos__rlog_open(&log, dir2, NULL, collect_cb, &c, &err), MESOS_EPROTO);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "kind"));
  mesos_error_free(err);
  free(snap);
}
END_TEST

/* ---- kill -9 at each step of a snapshot ----------------------------------
 * The child appends records 0..4, then snapshots "S5" and is killed at the
 * chosen step.  Recovery must give either the five records (the snapshot
 * never became visible) or the snapshot alone, and the log must go on. */

static mesos__rlog_point kill_point;

static void kill_at_point(mesos__rlog_point p) {
  if (p == kill_point) raise(SIGKILL);
}

START_TEST(test_log__kill_9_at_each_snapshot_step_recovers_a_consistent_log) {
  for (int point = MESOS__RLOG_POINT_SNAPSHOT_TMP_SYNCED; point < MESOS__RLOG_POINT_COUNT;
       point++) {
    char dir[PATH_MAX];
    regtest_path(dir, sizeof dir, "snapkill");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      collected cc = {0};
      mesos__rlog_options o = {0, true};
      mesos__rlog *log = NULL;
      if (mesos__rlog_open(&log, dir, &o, collect_cb, &cc, NULL) != MESOS_OK) _exit(3);
      unsigned char buf[1024];
      for (int i = 0; i < 5; i++)
        if (mesos__rlog_append(log, buf, payload(i, buf, sizeof buf), NULL) != MESOS_OK)
          _exit(4);
      kill_point = (mesos__rlog_point)point;
      mesos__rlog_test_hook = kill_at_point;
      mesos__rlog_snapshot(log, "S5", 2, NULL);
      _exit(5); /* not reached */
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "point %d: child exited with status %d", point, status);
    collected c = {0};
    mesos__rlog *log = open_log(dir, &c);
    bool snapshot = c.n > 0 && c.kinds[0] == MESOS__RLOG_ITEM_SNAPSHOT;
    if (point == MESOS__RLOG_POINT_SNAPSHOT_TMP_SYNCED) ck_assert(!snapshot);
    if (point >= MESOS__RLOG_POINT_SEGMENT_CREATED) ck_assert(snapshot);
    if (snapshot) {
      ck_assert_int_eq(c.n, 1);
      ck_assert(c.len[0] == 2 && memcmp(c.data[0], "S5", 2) == 0);
    } else {
      ck_assert_int_eq(c.n, 5);
      for (int i = 0; i < 5; i++) check_record(&c, i, i);
    }
    collected_free(&c);
    /* Leftovers are cleaned up and the log goes on. */
    char p[PATH_MAX];
    ck_assert_int_lt(snprintf(p, sizeof p, "%s/snapshot.%016x.tmp", dir, 1), (int)sizeof p);
    ck_assert(!regtest_exists(p));
    append_n(log, 5, 6);
    mesos__rlog_close(log);
    log = open_log(dir, &c);
    ck_assert_int_eq(c.n, snapshot ? 2 : 6);
    check_record(&c, c.n - 1, 5);
    collected_free(&c);
    mesos__rlog_close(log);
  }
}
END_TEST

/* ---- kill -9 ------------------------------------------------------------
 * The child appends records numbered from where the log ends, snapshotting
 * every 8, and after each acknowledged append writes the total count to a
 * pipe.  The parent kills it at a random moment; everything acknowledged
 * must be there, intact, plus at most the one append in flight. */

typedef struct {
  uint32_t snap; /* records covered by the snapshot */
  int n;         /* records after it */
  int first_bad; /* -1, or the index of a record that does not match */
} kill_state;

static mesos_status kill_cb(mesos__rlog_item item, const uint8_t *data, size_t len, void *ud) {
  kill_state *k = ud;
  if (item == MESOS__RLOG_ITEM_SNAPSHOT) {
    if (len != 4) return MESOS_EPROTO;
    memcpy(&k->snap, data, 4);
    return MESOS_OK;
  }
  unsigned char buf[1024];
  int i = (int)k->snap + k->n;
  size_t n = payload(i, buf, sizeof buf);
  if (k->first_bad < 0 && (len != n || memcmp(data, buf, n) != 0)) k->first_bad = i;
  k->n++;
  return MESOS_OK;
}

static void kill_child(const char *dir, int wfd) {
  kill_state k = {0, 0, -1};
  mesos__rlog_options o = {0, true};
  mesos__rlog *log = NULL;
  if (mesos__rlog_open(&log, dir, &o, kill_cb, &k, NULL) != MESOS_OK || k.first_bad >= 0)
    _exit(3);
  uint32_t total = k.snap + (uint32_t)k.n;
  unsigned char buf[1024];
  for (;;) {
    size_t n = payload((int)total, buf, sizeof buf);
    if (mesos__rlog_append(log, buf, n, NULL) != MESOS_OK) _exit(4);
    total++;
    if (write(wfd, &total, sizeof total) != sizeof total) _exit(5);
    if (total % 8 == 0 && mesos__rlog_snapshot(log, &total, 4, NULL) != MESOS_OK) _exit(6);
  }
}

START_TEST(test_log__kill_9_at_random_moments_loses_no_acknowledged_record) {
  char dir[PATH_MAX];
  regtest_path(dir, sizeof dir, "kill9");
  srand((unsigned)time(NULL) ^ (unsigned)getpid());
  uint32_t acked = 0;
  for (int round = 0; round < 8; round++) {
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      kill_child(dir, fds[1]);
    }
    close(fds[1]);
    /* Wait for at least one acknowledgement, then a random 0-60 ms. */
    uint32_t v;
    ck_assert_int_eq(read(fds[0], &v, sizeof v), (ssize_t)sizeof v);
    acked = v;
    usleep((useconds_t)(rand() % 60000));
    kill(pid, SIGKILL);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "child exited early with status %d", status);
    while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v) acked = v;
    close(fds[0]);

    kill_state k = {0, 0, -1};
    mesos__rlog *log = NULL;
    mesos_error *err = NULL;
    ck_assert_mesos_ok(mesos__rlog_open(&log, dir, NULL, kill_cb, &k, &err), &err);
    mesos__rlog_close(log);
    uint32_t have = k.snap + (uint32_t)k.n;
    ck_assert_int_eq(k.first_bad, -1);
    ck_assert_msg(have >= acked && have <= acked + 1,
                  "round %d: %u records acknowledged, %u recovered", round, acked, have);
  }
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("registry_log");
  TCase *tc = tcase_create("log");
  tcase_add_test(tc, test_crc32c__matches_the_published_check_value);
  tcase_add_test(tc, test_log__appended_records_are_replayed_in_order_after_reopen);
  tcase_add_test(tc, test_log__missing_directory_without_create_is_not_found);
  tcase_add_test(tc, test_log__record_cut_mid_payload_is_dropped_as_a_torn_tail);
  tcase_add_test(tc, test_log__record_cut_mid_header_is_dropped_as_a_torn_tail);
  tcase_add_test(tc, test_log__garbage_after_the_last_record_is_dropped);
  tcase_add_test(tc, test_log__flipped_payload_byte_in_a_middle_record_refuses_open);
  tcase_add_test(tc, test_log__flipped_length_byte_in_a_middle_record_refuses_open);
  tcase_add_test(tc, test_log__flipped_magic_byte_in_a_middle_record_refuses_open);
  tcase_add_test(tc, test_log__snapshot_replaces_earlier_records_on_replay);
  tcase_add_test(tc, test_log__crash_before_old_segment_deletion_recovers_the_snapshot);
  tcase_add_test(tc, test_log__segment_without_its_snapshot_refuses_open);
  tcase_add_test(tc, test_log__damaged_snapshot_refuses_open);
  tcase_add_test(tc, test_log__record_over_the_limit_is_refused_and_nothing_written);
  tcase_add_test(tc, test_log__second_open_of_the_same_directory_is_busy);
  tcase_add_test(tc, test_log__replay_callback_failure_aborts_open_unchanged);
  tcase_add_test(tc, test_log__record_of_a_newer_format_version_is_refused);
  tcase_add_test(tc, test_log__record_of_another_kind_is_refused);
  tcase_add_test(tc, test_log__kill_9_at_each_snapshot_step_recovers_a_consistent_log);
  tcase_add_test(tc, test_log__kill_9_at_random_moments_loses_no_acknowledged_record);
  REGTEST_TCASE(s, tc, 60);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
