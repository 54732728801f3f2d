/*
 * mesos/agent.h and mesos/executor.h in-process: options and flags, the
 * errors mesos_agent_new documents, and the agent's own endpoints.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/daemon.h"
#include "support/testutil.h"

static char dir[256];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static void make_dir(void) {
  snprintf(dir, sizeof dir, "/tmp/mesos-agent-api-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void) {
  if (dir[0]) nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Creates an agent from `opts`; returns its status and frees everything. */
static mesos_status try_new(const mesos_agent_options *opts, const mesos_agent_flags *flags,
                            char *msg, size_t cap) {
  mesos_loop *loop = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&loop, NULL, &err), &err);
  mesos_agent *a = NULL;
  mesos_status st = mesos_agent_new(&a, loop, opts, flags, &err);
  snprintf(msg, cap, "%s", err ? mesos_error_message(err) : "");
  mesos_error_free(err);
  mesos_agent_free(a);
  while (mesos_loop_run_once(loop) > 0) {
  }
  mesos_loop_free(loop);
  return st;
}

START_TEST(test_agent_api__options_init_checks_its_version) {
  mesos_agent_options o;
  ck_assert_int_eq(mesos_agent_options_init(&o, MESOS_AGENT_OPTIONS_VERSION), MESOS_OK);
  ck_assert_uint_eq(o.port, 5051);
  ck_assert_int_eq(mesos_agent_options_init(&o, 99), MESOS_EVERSION);
  ck_assert_int_eq(mesos_agent_options_init(NULL, MESOS_AGENT_OPTIONS_VERSION), MESOS_EINVAL);
  mesos_executor_options e;
  ck_assert_int_eq(mesos_executor_options_init(&e, MESOS_EXECUTOR_OPTIONS_VERSION), MESOS_OK);
  ck_assert_int_eq(mesos_executor_options_init(&e, 7), MESOS_EVERSION);
}
END_TEST

START_TEST(test_agent_api__new_names_what_is_missing_or_malformed) {
  char msg[512], wd[300];
  snprintf(wd, sizeof wd, "%s/wd", dir);
  mesos_agent_options o = MESOS_AGENT_OPTIONS_INIT;
  o.port = 0;
  o.ip = "127.0.0.1";
  o.work_dir = wd;
  ck_assert_int_eq(try_new(&o, NULL, msg, sizeof msg), MESOS_EINVAL);
  ck_assert_msg(strstr(msg, "--master") != NULL, "%s", msg);
  o.master = "127.0.0.1:1";
  o.work_dir = NULL;
  ck_assert_int_eq(try_new(&o, NULL, msg, sizeof msg), MESOS_EINVAL);
  ck_assert_msg(strstr(msg, "--work_dir") != NULL, "%s", msg);
  o.work_dir = wd;
  o.master = "zk://somewhere/mesos";
  ck_assert_int_eq(try_new(&o, NULL, msg, sizeof msg), MESOS_EINVAL);
  ck_assert_msg(strstr(msg, "--master") != NULL, "%s", msg);
  o.master = "127.0.0.1:1";
  o.resources = "cpus:two";
  ck_assert_int_eq(try_new(&o, NULL, msg, sizeof msg), MESOS_EINVAL);
  ck_assert_msg(strstr(msg, "--resources") && strstr(msg, "cpus:two"), "%s", msg);
  o.resources = "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":2}}]";
  o.attributes = "rack";
  ck_assert_int_eq(try_new(&o, NULL, msg, sizeof msg), MESOS_EINVAL);
  ck_assert_msg(strstr(msg, "--attributes") != NULL, "%s", msg);
  o.attributes = "rack:r1;zone:{a,b};level:3;ports:[1-2]";
  ck_assert_int_eq(try_new(&o, NULL, msg, sizeof msg), MESOS_OK);
  o.version = 42;
  ck_assert_int_eq(try_new(&o, NULL, msg, sizeof msg), MESOS_EVERSION);
  ck_assert_int_eq(try_new(NULL, NULL, msg, sizeof msg), MESOS_EINVAL);
}
END_TEST

START_TEST(test_agent_api__flags_parse_warn_and_serve_health_and_version) {
  char wd[300], wd_arg[320];
  snprintf(wd, sizeof wd, "%s/flags", dir);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s", wd);
  char *argv[] = {"mesos-agent", "--master=http://127.0.0.1:1", wd_arg, "--ip=127.0.0.1",
                  "--port=0", "--isolation=posix/mem", "--no-strict", NULL};
  mesos_agent_flags *flags = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_agent_flags_parse(&flags, 7, argv, NULL, &err), &err);
  ck_assert_str_eq(mesos_agent_flags_get(flags, "isolation"), "posix/mem");
  ck_assert_int_eq(mesos_agent_flags_bool(flags, "strict"), 0);
  ck_assert_int_eq(mesos_agent_flags_bool(flags, "help"), 0);
  char *usage = NULL;
  ck_assert_mesos_ok(mesos_agent_flags_usage("mesos-agent", &usage, &err), &err);
  ck_assert_ptr_nonnull(strstr(usage, "--work_dir"));
  ck_assert_ptr_nonnull(strstr(usage, "not yet implemented"));
  mesos_free(usage);
  char *bad[] = {"mesos-agent", "--no-such-flag=1", NULL};
  mesos_agent_flags *f2 = NULL;
  ck_assert_int_eq(mesos_agent_flags_parse(&f2, 2, bad, NULL, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "no-such-flag"));
  mesos_error_free(err);
  err = NULL;

  mesos_loop *loop = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&loop, NULL, &err), &err);
  mesos_agent *a = NULL;
  ck_assert_mesos_ok(mesos_agent_new(&a, loop, NULL, flags, &err), &err);
  mesos_agent_flags_free(flags);
  ck_assert_uint_gt(mesos_agent_port(a), 0);
  ck_assert_ptr_null(mesos_agent_id(a)); /* no master: not registered */
  int port = (int)mesos_agent_port(a);
  pid_t child = fork();
  if (child == 0) {
    /* The blocking client runs in a child while the parent's loop serves. */
    mesos_test_response r;
    int ok = mesos_test_http(port, "GET", "/health", NULL, NULL, NULL, &r) == 0 && r.status == 200;
    mesos_test_response_free(&r);
    ok = ok && mesos_test_http(port, "GET", "/version", NULL, NULL, NULL, &r) == 0 &&
         r.status == 200 && strstr(r.body, "\"version\":\"1.0.0\"") != NULL;
    /* build_date "YYYY-MM-DD hh:mm:ss" and build_time (epoch seconds) as
     * the master's /version gives them. */
    const char *d = ok ? strstr(r.body, "\"build_date\":\"") : NULL;
    const char *t = ok ? strstr(r.body, "\"build_time\":") : NULL;
    int y = 0, mo = 0, da = 0, h = 0, mi = 0, se = 0;
    char end = 0;
    ok = ok && d && t &&
         sscanf(d + strlen("\"build_date\":\""), "%4d-%2d-%2d %2d:%2d:%2d%c", &y, &mo, &da, &h,
                &mi, &se, &end) == 7 &&
         end == '"' && y >= 2020 && mo >= 1 && mo <= 12 &&
         strtod(t + strlen("\"build_time\":"), NULL) > 1.5e9;
    mesos_test_response_free(&r);
    _exit(ok ? 0 : 1);
  }
  int done = 0, status = 0;
  for (int i = 0; i < 500 && !done; i++) {
    mesos_loop_run_once(loop);
    done = waitpid(child, &status, WNOHANG) == child;
    usleep(10000);
  }
  ck_assert_msg(done && WIFEXITED(status) && WEXITSTATUS(status) == 0, "health/version failed");
  mesos_agent_free(a);
  while (mesos_loop_run_once(loop) > 0) {
  }
  mesos_loop_free(loop);
}
END_TEST

START_TEST(test_agent_api__executor_client_needs_its_environment) {
  mesos_loop *loop = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&loop, NULL, &err), &err);
  unsetenv("MESOS_AGENT_ENDPOINT");
  unsetenv("MESOS_FRAMEWORK_ID");
  unsetenv("MESOS_EXECUTOR_ID");
  mesos_executor *e = NULL;
  ck_assert_int_eq(mesos_executor_new(&e, loop, NULL, NULL, NULL, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "MESOS_AGENT_ENDPOINT"));
  mesos_error_free(err);
  err = NULL;
  mesos_executor_options o = MESOS_EXECUTOR_OPTIONS_INIT;
  o.agent_endpoint = "127.0.0.1:1";
  o.framework_id = "f";
  ck_assert_int_eq(mesos_executor_new(&e, loop, &o, NULL, NULL, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "MESOS_EXECUTOR_ID"));
  mesos_error_free(err);
  err = NULL;
  o.executor_id = "e";
  ck_assert_mesos_ok(mesos_executor_new(&e, loop, &o, NULL, NULL, &err), &err);
  /* Not subscribed yet: updates are refused, bad states always. */
  ck_assert_int_eq(mesos_executor_update(e, "t", "TASK_RUNNING", NULL, NULL), MESOS_ECLOSED);
  ck_assert_int_eq(mesos_executor_update(e, "t", "TASK_BOGUS", NULL, NULL), MESOS_EINVAL);
  mesos_executor_free(e);
  while (mesos_loop_run_once(loop) > 0) {
  }
  mesos_loop_free(loop);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_api");
  TCase *tc = tcase_create("api");
  tcase_set_timeout(tc, 30);
  tcase_add_unchecked_fixture(tc, make_dir, remove_dir);
  tcase_add_test(tc, test_agent_api__options_init_checks_its_version);
  tcase_add_test(tc, test_agent_api__new_names_what_is_missing_or_malformed);
  tcase_add_test(tc, test_agent_api__flags_parse_warn_and_serve_health_and_version);
  tcase_add_test(tc, test_agent_api__executor_client_needs_its_environment);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
