/* mesos__fs_mkdirs: makes every missing directory of a path (walking back
 * from the whole path first, then forwards), accepts what exists, refuses
 * a file in the way, and leaves nothing half-made. */
#include "registry/fsutil.h"
#include "unit/registry/regtest.h"

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

START_TEST(test_mkdirs__creates_every_missing_component) {
  char dir[PATH_MAX], path[PATH_MAX + 64];
  regtest_path(dir, sizeof dir, "mk");
  snprintf(path, sizeof path, "%s/a/b/c/d", dir);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__fs_mkdirs(path, 0700, &err), &err);
  ck_assert(is_dir(path));
  snprintf(path, sizeof path, "%s/a/b", dir);
  ck_assert(is_dir(path));
  /* Again: everything exists. */
  snprintf(path, sizeof path, "%s/a/b/c/d", dir);
  ck_assert_mesos_ok(mesos__fs_mkdirs(path, 0700, &err), &err);
  /* A sibling branch below an existing prefix. */
  snprintf(path, sizeof path, "%s/a/b/x/y", dir);
  ck_assert_mesos_ok(mesos__fs_mkdirs(path, 0700, &err), &err);
  ck_assert(is_dir(path));
  /* Only the last component missing. */
  snprintf(path, sizeof path, "%s/a/b/x/z", dir);
  ck_assert_mesos_ok(mesos__fs_mkdirs(path, 0700, &err), &err);
  ck_assert(is_dir(path));
}
END_TEST

START_TEST(test_mkdirs__double_and_trailing_slashes) {
  char dir[PATH_MAX], path[PATH_MAX + 64], want[PATH_MAX + 64];
  regtest_path(dir, sizeof dir, "mk");
  snprintf(path, sizeof path, "%s//p//q/r//", dir);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__fs_mkdirs(path, 0700, &err), &err);
  snprintf(want, sizeof want, "%s/p/q/r", dir);
  ck_assert(is_dir(want));
  ck_assert_mesos_ok(mesos__fs_mkdirs("/", 0700, &err), &err);
  ck_assert_mesos_ok(mesos__fs_mkdirs("///", 0700, &err), &err);
}
END_TEST

START_TEST(test_mkdirs__a_file_in_the_way_is_refused) {
  char dir[PATH_MAX], file[PATH_MAX + 64], path[PATH_MAX + 64];
  regtest_dir(dir, sizeof dir, "mk");
  snprintf(file, sizeof file, "%s/f", dir);
  int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert_int_ge(fd, 0);
  close(fd);
  mesos_error *err = NULL;
  /* The file is the path itself. */
  ck_assert_int_eq(mesos__fs_mkdirs(file, 0700, &err), MESOS_EEXIST);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "not a directory"));
  mesos_error_free(err);
  err = NULL;
  /* The file is a parent: nothing below it can be made. */
  snprintf(path, sizeof path, "%s/f/g/h", dir);
  ck_assert_int_ne(mesos__fs_mkdirs(path, 0700, &err), MESOS_OK);
  ck_assert_ptr_nonnull(err);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos__fs_mkdirs("", 0700, &err), MESOS_EINVAL);
  mesos_error_free(err);
}
END_TEST

START_TEST(test_mkdirs__relative_path) {
  char dir[PATH_MAX], cwd[PATH_MAX];
  regtest_dir(dir, sizeof dir, "mk");
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  ck_assert_int_eq(chdir(dir), 0);
  mesos_error *err = NULL;
  mesos_status st = mesos__fs_mkdirs("r1/r2", 0700, &err);
  int ok = is_dir("r1/r2");
  ck_assert_int_eq(chdir(cwd), 0);
  ck_assert_mesos_ok(st, &err);
  ck_assert(ok);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("registry_fsutil");
  TCase *tc = tcase_create("mkdirs");
  tcase_add_test(tc, test_mkdirs__creates_every_missing_component);
  tcase_add_test(tc, test_mkdirs__double_and_trailing_slashes);
  tcase_add_test(tc, test_mkdirs__a_file_in_the_way_is_refused);
  tcase_add_test(tc, test_mkdirs__relative_path);
  REGTEST_TCASE(s, tc, 30);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
