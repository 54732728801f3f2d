/*
 * mesos-agent's flags from issue 5's list, in-process (mesos_agent_new on
 * flags, no master needed): resource detection when --resources leaves a
 * resource out, --default_role for resources given without a role, and a
 * malformed value of every listed flag refused with MESOS_EINVAL and a
 * message naming the flag (nothing created, nothing leaked).
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "mesos/agent.h"
#include "support/testutil.h"

static char dir[256];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static void make_dir(void) {
  snprintf(dir, sizeof dir, "/tmp/mesos-agent-fix2-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void) {
  if (dir[0] && !getenv("MESOS_TEST_KEEP")) nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* mesos_agent_new on the usual flags plus `extra` (NULL-terminated);
 * returns its status, the error text in `msg`, and the agent (or NULL)
 * in *out when `out` is given, else frees it. */
static mesos_status agent_with(char *const *extra, mesos_loop *loop, mesos_agent **out, char *msg,
                               size_t cap) {
  char wd_arg[320];
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s/wd", dir);
  char *argv[32] = {"mesos-agent", "--master=127.0.0.1:1", wd_arg, "--ip=127.0.0.1", "--port=0"};
  int argc = 5;
  for (size_t i = 0; extra && extra[i]; i++) argv[argc++] = extra[i];
  argv[argc] = NULL;
  mesos_agent_flags *flags = NULL;
  mesos_error *err = NULL;
  mesos_status st = mesos_agent_flags_parse(&flags, argc, argv, NULL, &err);
  mesos_agent *a = NULL;
  if (st == MESOS_OK) st = mesos_agent_new(&a, loop, NULL, flags, &err);
  snprintf(msg, cap, "%s", err ? mesos_error_message(err) : "");
  mesos_error_free(err);
  mesos_agent_flags_free(flags);
  if (out) *out = a;
  else mesos_agent_free(a);
  return st;
}

static const Mesos__V1__Resource *resource(const mesos_agent *a, const char *name) {
  for (size_t i = 0; i < a->info->n_resources; i++)
    if (strcmp(a->info->resources[i]->name, name) == 0) return a->info->resources[i];
  return NULL;
}

/* A loop, and the allocation count to come back to. */
static mesos_loop *loop_new(int64_t *live) {
  *live = mesos__alloc_live();
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  return loop;
}

/* Runs what is left, frees the loop, and checks nothing leaked. */
static void loop_done(mesos_loop *loop, int64_t live) {
  for (int i = 0; i < 200 && mesos_loop_run_once(loop) > 0; i++) usleep(1000);
  mesos_loop_free(loop);
  ck_assert_int_eq(mesos__alloc_live(), live);
}

START_TEST(test_agent_fix2__resources_left_out_are_detected) {
  int64_t live = 0;
  mesos_loop *loop = loop_new(&live);
  char msg[512];
  mesos_agent *a = NULL;
  ck_assert_msg(agent_with(NULL, loop, &a, msg, sizeof msg) == MESOS_OK, "%s", msg);
  /* Every CPU, memory and the work_dir's disk less what the system keeps,
   * ports 31000-32000 (spec/versioning.md). */
  const Mesos__V1__Resource *cpus = resource(a, "cpus"), *mem = resource(a, "mem"),
                            *disk = resource(a, "disk"), *ports = resource(a, "ports");
  ck_assert_ptr_nonnull(cpus);
  ck_assert_ptr_nonnull(mem);
  ck_assert_ptr_nonnull(disk);
  ck_assert_ptr_nonnull(ports);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  ck_assert_double_eq(cpus->scalar->value, (double)ncpu);
  double phys_mb =
      (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
  ck_assert(mem->scalar->value > 0 && mem->scalar->value < phys_mb);
  ck_assert(disk->scalar->value > 0);
  ck_assert_uint_eq(ports->ranges->n_range, 1);
  ck_assert_uint_eq(ports->ranges->range[0]->begin, 31000);
  ck_assert_uint_eq(ports->ranges->range[0]->end, 32000);
  mesos_agent_free(a);
  /* What --resources names is kept; only the rest is detected. */
  char *some[] = {"--resources=cpus:0.5;ports:[4000-4001]", NULL};
  ck_assert_msg(agent_with(some, loop, &a, msg, sizeof msg) == MESOS_OK, "%s", msg);
  ck_assert_double_eq(resource(a, "cpus")->scalar->value, 0.5);
  ck_assert_uint_eq(resource(a, "ports")->ranges->range[0]->begin, 4000);
  ck_assert_ptr_nonnull(resource(a, "mem"));
  ck_assert_ptr_nonnull(resource(a, "disk"));
  mesos_agent_free(a);
  loop_done(loop, live);
}
END_TEST

START_TEST(test_agent_fix2__default_role_applies_to_resources_without_one) {
  int64_t live = 0;
  mesos_loop *loop = loop_new(&live);
  char msg[512];
  mesos_agent *a = NULL;
  char *extra[] = {"--default_role=web", "--resources=cpus:2;mem(ops):64;disk:10;ports:[1-2]",
                   NULL};
  ck_assert_msg(agent_with(extra, loop, &a, msg, sizeof msg) == MESOS_OK, "%s", msg);
  ck_assert_str_eq(resource(a, "cpus")->role, "web");
  ck_assert_str_eq(resource(a, "mem")->role, "ops");
  ck_assert_str_eq(resource(a, "disk")->role, "web");
  mesos_agent_free(a);
  loop_done(loop, live);
}
END_TEST

/* One malformed value per flag of issue 5's list. */
static const struct {
  const char *arg;
  const char *names; /* what the message must contain */
} bad[] = {
    {"--port=70000", "port"},
    {"--port=http", "port"},
    {"--ip=not-an-address", "ip"},
    {"--hostname=", "hostname"},
    {"--resources=cpus:-1", "--resources"},
    {"--resources=[{\"name\":\"cpus\"", "--resources"},
    {"--attributes=rack", "--attributes"},
    {"--isolation=posix/nothing", "isolation"},
    {"--containerizers=docker", "containerizers"},
    {"--recover=sometimes", "recover"},
    {"--strict=maybe", "strict"},
    {"--executor_registration_timeout=soon", "executor_registration_timeout"},
    {"--executor_shutdown_grace_period=5", "executor_shutdown_grace_period"},
    {"--default_role=..", "default_role"},
    {"--default_role=-web", "default_role"},
    {"--registration_backoff_factor=fast", "registration_backoff_factor"},
    {"--status_update_retry_interval=0secs", "status_update_retry_interval"},
};

START_TEST(test_agent_fix2__a_malformed_flag_is_refused_naming_it) {
  int64_t live = 0;
  mesos_loop *loop = loop_new(&live);
  char msg[512];
  char *extra[] = {(char *)bad[_i].arg, NULL};
  mesos_status st = agent_with(extra, loop, NULL, msg, sizeof msg);
  ck_assert_msg(st == MESOS_EINVAL, "%s: status %s (%s)", bad[_i].arg, mesos_status_str(st), msg);
  ck_assert_msg(strstr(msg, bad[_i].names) != NULL, "%s: the message does not name it: %s",
                bad[_i].arg, msg);
  loop_done(loop, live);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_fix2");
  TCase *tc = tcase_create("flags");
  tcase_set_timeout(tc, 30);
  tcase_add_unchecked_fixture(tc, make_dir, remove_dir);
  tcase_add_test(tc, test_agent_fix2__resources_left_out_are_detected);
  tcase_add_test(tc, test_agent_fix2__default_role_applies_to_resources_without_one);
  tcase_add_loop_test(tc, test_agent_fix2__a_malformed_flag_is_refused_naming_it, 0,
                      (int)(sizeof bad / sizeof bad[0]));
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
