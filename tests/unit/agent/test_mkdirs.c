/* mesos__agent_mkdirs_mode (lib/agent/task_runner.c): mkdir -p that starts
 * from the deepest directory recent calls made (shared by all threads).  Whatever
 * the hints say, the result must be the directories asked for, with the
 * mode asked for, also when a hinted directory was removed meanwhile or a
 * file is in the way. */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "support/testutil.h"

static char dir[64];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/test-mkdirs-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  umask(022);
}

static void teardown(void) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static int is_dir_mode(const char *path, mode_t mode) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 0777) == mode;
}

static void ok(const char *path, mode_t mode) {
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__agent_mkdirs_mode(path, mode, &err), &err);
  ck_assert_msg(is_dir_mode(path, mode), "%s is not a directory with mode %o", path, mode);
}

START_TEST(test_mkdirs__siblings_cousins_and_the_same_path_again) {
  char p[512], q[512];
  snprintf(p, sizeof p, "%s/fw/executors/e1/runs/c1", dir);
  ok(p, 0755);
  snprintf(q, sizeof q, "%s/fw/executors/e1/runs", dir);
  ck_assert(is_dir_mode(q, 0755));
  /* A sibling, a cousin, and the same path again (it exists). */
  snprintf(p, sizeof p, "%s/fw/executors/e1/runs/c2", dir);
  ok(p, 0755);
  snprintf(p, sizeof p, "%s/fw/executors/e2/runs/c3", dir);
  ok(p, 0755);
  ok(p, 0755);
  /* Another tree, alternating with the first (two hints). */
  snprintf(q, sizeof q, "%s/meta/fw/executors/e2/runs/c3/tasks/t3", dir);
  ok(q, 0700);
  snprintf(p, sizeof p, "%s/fw/executors/e3/runs/c4", dir);
  ok(p, 0755);
  snprintf(q, sizeof q, "%s/meta/fw/executors/e3/runs/c4/tasks/t4", dir);
  ok(q, 0700);
  /* A name that only starts like a hinted directory ("e3x" after "e3"). */
  snprintf(p, sizeof p, "%s/fw/executors/e3x/runs/c5", dir);
  ok(p, 0755);
  /* Doubled slashes. */
  snprintf(p, sizeof p, "%s/fw//executors/e4//runs/c6", dir);
  ok(p, 0755);
}
END_TEST

START_TEST(test_mkdirs__a_hinted_directory_removed_meanwhile) {
  char p[512], gone[512];
  snprintf(p, sizeof p, "%s/fw/executors/e1/runs/c1", dir);
  ok(p, 0755);
  /* Garbage collection removes the whole framework directory. */
  snprintf(gone, sizeof gone, "%s/fw", dir);
  ck_assert_int_eq(nftw(gone, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
  snprintf(p, sizeof p, "%s/fw/executors/e2/runs/c2", dir);
  ok(p, 0755);
  /* And the very path of the hint. */
  snprintf(p, sizeof p, "%s/fw/executors/e2/runs/c2", dir);
  ck_assert_int_eq(rmdir(p), 0);
  ok(p, 0755);
}
END_TEST

START_TEST(test_mkdirs__a_file_in_the_way_and_bad_paths) {
  char p[512], f[512];
  snprintf(p, sizeof p, "%s/fw/executors/e1", dir);
  ok(p, 0755);
  snprintf(f, sizeof f, "%s/fw/executors/file", dir);
  FILE *fp = fopen(f, "w");
  ck_assert_ptr_nonnull(fp);
  fclose(fp);
  snprintf(p, sizeof p, "%s/fw/executors/file/runs/c1", dir);
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__agent_mkdirs_mode(p, 0755, &err), MESOS_EIO);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "file"));
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos__agent_mkdirs_mode("", 0755, &err), MESOS_EINVAL);
  mesos_error_free(err);
}
END_TEST

/* Threads making sandboxes and streams of their own and of a shared
 * framework at once (pool threads do): every directory is there. */
static void *make_many(void *arg) {
  long k = (long)(intptr_t)arg;
  char p[512];
  int bad = 0;
  for (int i = 0; i < 12; i++) {
    snprintf(p, sizeof p, "%s/fw%ld/executors/e%d/runs/c%d", dir, i % 2 ? k : 0L, i, i);
    if (mesos__agent_mkdirs_mode(p, 0755, NULL) != MESOS_OK || !is_dir_mode(p, 0755)) bad++;
    snprintf(p, sizeof p, "%s/meta/fw%ld/executors/e%d/runs/c%d/tasks/t%d", dir, k, i, i, i);
    if (mesos__agent_mkdirs_mode(p, 0700, NULL) != MESOS_OK || !is_dir_mode(p, 0700)) bad++;
  }
  return (void *)(intptr_t)bad;
}

START_TEST(test_mkdirs__threads_at_once) {
  pthread_t th[4];
  for (long k = 0; k < 4; k++)
    ck_assert_int_eq(pthread_create(&th[k], NULL, make_many, (void *)(intptr_t)(k + 1)), 0);
  for (int k = 0; k < 4; k++) {
    void *bad = NULL;
    ck_assert_int_eq(pthread_join(th[k], &bad), 0);
    ck_assert_int_eq((intptr_t)bad, 0);
  }
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("mkdirs");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60); /* new directories cost ~1 ms each on a loaded VM */
  tcase_add_test(tc, test_mkdirs__siblings_cousins_and_the_same_path_again);
  tcase_add_test(tc, test_mkdirs__a_hinted_directory_removed_meanwhile);
  tcase_add_test(tc, test_mkdirs__a_file_in_the_way_and_bad_paths);
  tcase_add_test(tc, test_mkdirs__threads_at_once);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
