/* mesos__fs_mkdirs from two threads creating the same directories (the
 * agent's update stream and forked.pid jobs both make runs/<container>/):
 * the thread whose mkdir finds a directory the other one just created must
 * not return before that directory is durable (its parent fsynced), or a
 * crash of the host could lose the directory with a file the second
 * thread made durable in it.  The test-only hook widens the window between
 * the mkdir and the fsync to 400 ms, so the ordering is deterministic. */
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "registry/fsutil.h"
#include "support/testutil.h"

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct job {
  char path[600];
  mesos_status st;
  long long done_ms;
} job;

static void *run(void *ud) {
  job *j = ud;
  j->st = mesos__fs_mkdirs(j->path, 0700, NULL);
  j->done_ms = now_ms();
  return NULL;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

START_TEST(test_mkdirs_race__existing_means_durable) {
  char base[] = "/tmp/mesos-mkdirs-race-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(base));
  job a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  snprintf(a.path, sizeof a.path, "%s/runs/C/pids", base);
  snprintf(b.path, sizeof b.path, "%s/runs/C", base);
  /* A creates runs/, runs/C and runs/C/pids, each followed by a 400 ms
   * wait before its parent's fsync; B starts once A made runs/C, finds
   * every directory it asks for, and would return at once without the
   * lock (it creates nothing, so it has no delay of its own). */
  mesos__fs_mkdirs_test_delay_ms = 400;
  char c_dir[600];
  snprintf(c_dir, sizeof c_dir, "%s/runs/C", base);
  pthread_t ta, tb;
  ck_assert_int_eq(pthread_create(&ta, NULL, run, &a), 0);
  struct stat st;
  for (int i = 0; i < 3000 && stat(c_dir, &st) != 0; i++) usleep(1000);
  ck_assert_int_eq(stat(c_dir, &st), 0);
  long long b_start = now_ms();
  ck_assert_int_eq(pthread_create(&tb, NULL, run, &b), 0);
  pthread_join(tb, NULL);
  pthread_join(ta, NULL);
  mesos__fs_mkdirs_test_delay_ms = 0;
  ck_assert_int_eq(a.st, MESOS_OK);
  ck_assert_int_eq(b.st, MESOS_OK);
  /* B waited for A's fsync of runs/ (the rest of A's 400 ms), so it
   * returned no earlier than ~A's creation of runs/C plus the delay. */
  ck_assert_msg(b.done_ms - b_start >= 200, "B returned after %lld ms, before runs/C was durable",
                b.done_ms - b_start);
  ck_assert_int_eq(stat(b.path, &st), 0);
  ck_assert_int_eq(stat(a.path, &st), 0);
  nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
END_TEST

START_TEST(test_mkdirs_race__the_hook_is_off_by_default) {
  ck_assert_uint_eq(mesos__fs_mkdirs_test_delay_ms, 0);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("mkdirs_race");
  TCase *tc = tcase_create("mkdirs");
  tcase_set_timeout(tc, 20);
  tcase_add_test(tc, test_mkdirs_race__existing_means_durable);
  tcase_add_test(tc, test_mkdirs_race__the_hook_is_off_by_default);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
