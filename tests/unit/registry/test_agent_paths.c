/* The agent's checkpoint and sandbox paths, and the id checks that keep
 * hostile ids inside the work directory. */
#include "registry/agent_paths.h"
#include "unit/registry/regtest.h"

static const mesos__agent_path_ids ids = {"A", "F", "E", "C", "T"};

static void expect_path(mesos__agent_path_kind kind, const char *want) {
  char *p = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__agent_path(&p, "/w", kind, &ids, &err), &err);
  ck_assert_str_eq(p, want);
  mesos__free(p);
}

START_TEST(test_agent_paths__every_kind_follows_the_mesos_layout) {
  int64_t live = mesos__alloc_live();
  expect_path(MESOS__AGENT_PATH_META, "/w/meta");
  expect_path(MESOS__AGENT_PATH_BOOT_ID, "/w/meta/boot_id");
  expect_path(MESOS__AGENT_PATH_RESOURCES_INFO, "/w/meta/resources/resources.info");
  expect_path(MESOS__AGENT_PATH_LATEST_AGENT, "/w/meta/slaves/latest");
  expect_path(MESOS__AGENT_PATH_AGENT_DIR, "/w/meta/slaves/A");
  expect_path(MESOS__AGENT_PATH_AGENT_INFO, "/w/meta/slaves/A/slave.info");
  expect_path(MESOS__AGENT_PATH_FRAMEWORK_DIR, "/w/meta/slaves/A/frameworks/F");
  expect_path(MESOS__AGENT_PATH_FRAMEWORK_INFO, "/w/meta/slaves/A/frameworks/F/framework.info");
  expect_path(MESOS__AGENT_PATH_FRAMEWORK_PID, "/w/meta/slaves/A/frameworks/F/framework.pid");
  expect_path(MESOS__AGENT_PATH_EXECUTOR_DIR, "/w/meta/slaves/A/frameworks/F/executors/E");
  expect_path(MESOS__AGENT_PATH_EXECUTOR_INFO,
              "/w/meta/slaves/A/frameworks/F/executors/E/executor.info");
  expect_path(MESOS__AGENT_PATH_LATEST_RUN,
              "/w/meta/slaves/A/frameworks/F/executors/E/runs/latest");
  expect_path(MESOS__AGENT_PATH_RUN_DIR, "/w/meta/slaves/A/frameworks/F/executors/E/runs/C");
  expect_path(MESOS__AGENT_PATH_FORKED_PID,
              "/w/meta/slaves/A/frameworks/F/executors/E/runs/C/pids/forked.pid");
  expect_path(MESOS__AGENT_PATH_LIBPROCESS_PID,
              "/w/meta/slaves/A/frameworks/F/executors/E/runs/C/pids/libprocess.pid");
  expect_path(MESOS__AGENT_PATH_HTTP_MARKER,
              "/w/meta/slaves/A/frameworks/F/executors/E/runs/C/http.marker");
  expect_path(MESOS__AGENT_PATH_EXECUTOR_SENTINEL,
              "/w/meta/slaves/A/frameworks/F/executors/E/runs/C/executor.sentinel");
  expect_path(MESOS__AGENT_PATH_TASK_DIR,
              "/w/meta/slaves/A/frameworks/F/executors/E/runs/C/tasks/T");
  expect_path(MESOS__AGENT_PATH_TASK_INFO,
              "/w/meta/slaves/A/frameworks/F/executors/E/runs/C/tasks/T/task.info");
  expect_path(MESOS__AGENT_PATH_TASK_UPDATES,
              "/w/meta/slaves/A/frameworks/F/executors/E/runs/C/tasks/T/task.updates");
  expect_path(MESOS__AGENT_PATH_SANDBOX, "/w/slaves/A/frameworks/F/executors/E/runs/C");
  expect_path(MESOS__AGENT_PATH_SANDBOX_LATEST, "/w/slaves/A/frameworks/F/executors/E/runs/latest");
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_agent_paths__ids_a_path_does_not_need_may_be_missing) {
  char *p = NULL;
  mesos__agent_path_ids only_agent = {"A", NULL, NULL, NULL, NULL};
  ck_assert_int_eq(mesos__agent_path(&p, "/w", MESOS__AGENT_PATH_AGENT_INFO, &only_agent, NULL),
                   MESOS_OK);
  ck_assert_str_eq(p, "/w/meta/slaves/A/slave.info");
  mesos__free(p);
  p = NULL;
  ck_assert_int_eq(mesos__agent_path(&p, "/w", MESOS__AGENT_PATH_BOOT_ID, NULL, NULL), MESOS_OK);
  ck_assert_str_eq(p, "/w/meta/boot_id");
  mesos__free(p);
  p = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__agent_path(&p, "/w", MESOS__AGENT_PATH_TASK_INFO, &only_agent, &err),
                   MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "framework id"));
  mesos_error_free(err);
  ck_assert_ptr_null(p);
}
END_TEST

static void expect_bad_task_id(const char *task_id, const char *needle) {
  mesos__agent_path_ids bad = ids;
  bad.task_id = task_id;
  char *p = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__agent_path(&p, "/w", MESOS__AGENT_PATH_TASK_UPDATES, &bad, &err),
                   MESOS_EINVAL);
  ck_assert_ptr_null(p);
  ck_assert_msg(strstr(mesos_error_message(err), needle) != NULL, "%s: %s", task_id,
                mesos_error_message(err));
  mesos_error_free(err);
}

START_TEST(test_agent_paths__ids_that_could_escape_the_work_dir_are_refused) {
  int64_t live = mesos__alloc_live();
  expect_bad_task_id("", "task id is empty");
  expect_bad_task_id(".", "not allowed");
  expect_bad_task_id("..", "not allowed");
  expect_bad_task_id("../../etc", "slash");
  expect_bad_task_id("a/b", "slash");
  expect_bad_task_id("a\\b", "slash");
  expect_bad_task_id("tab\there", "printable");
  expect_bad_task_id("caf\xc3\xa9", "printable");
  char longid[300];
  memset(longid, 'x', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0';
  expect_bad_task_id(longid, "longer than 255");
  longid[255] = '\0';
  char *p = NULL;
  mesos__agent_path_ids ok = ids;
  ok.task_id = longid;
  ck_assert_int_eq(mesos__agent_path(&p, "/w", MESOS__AGENT_PATH_TASK_DIR, &ok, NULL), MESOS_OK);
  mesos__free(p);
  /* Dots inside an id are fine: only "." and ".." name other directories. */
  ck_assert_int_eq(mesos__agent_path_check_id("task id", "my.task..1", NULL), MESOS_OK);
  ck_assert_int_eq(mesos__agent_path_check_id("task id", "...", NULL), MESOS_OK);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_agent_paths__bad_work_dir_kind_or_length_is_refused) {
  char *p = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__agent_path(&p, "", MESOS__AGENT_PATH_META, NULL, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos__agent_path(&p, "/w", MESOS__AGENT_PATH_KIND_COUNT, NULL, &err),
                   MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  char *deep = malloc(PATH_MAX);
  memset(deep, 'd', PATH_MAX - 1);
  deep[0] = '/';
  deep[PATH_MAX - 1] = '\0';
  ck_assert_int_eq(mesos__agent_path(&p, deep, MESOS__AGENT_PATH_TASK_UPDATES, &ids, &err),
                   MESOS_ELIMIT);
  mesos_error_free(err);
  ck_assert_ptr_null(p);
  free(deep);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("registry_agent_paths");
  TCase *tc = tcase_create("agent_paths");
  tcase_add_test(tc, test_agent_paths__every_kind_follows_the_mesos_layout);
  tcase_add_test(tc, test_agent_paths__ids_a_path_does_not_need_may_be_missing);
  tcase_add_test(tc, test_agent_paths__ids_that_could_escape_the_work_dir_are_refused);
  tcase_add_test(tc, test_agent_paths__bad_work_dir_kind_or_length_is_refused);
  REGTEST_TCASE(s, tc, 10);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
