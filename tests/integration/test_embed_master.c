/*
 * Embedding a master: examples/embed_master (own poll loop, own allocator
 * through mesos_master_options.allocator, an in-process agent, two
 * frameworks) run as a program, and the contract of the allocator option:
 * version 1 options still work, the master owns the allocator from the
 * call on (also when it fails), an allocator whose initialize fails fails
 * mesos_master_new.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mesos/sys/allocator.h"
#include "support/daemon.h"
#include "support/httptest.h"
#include "support/testutil.h"

START_TEST(test_embed_master__the_example_runs_two_tasks_through_its_own_allocator) {
  char bin[4096], path[4200];
  mesos_test_daemon_path("x", bin, sizeof bin);
  size_t n = strlen(bin);
  ck_assert(n > 6 && strcmp(bin + n - 6, "/bin/x") == 0);
  bin[n - 6] = '\0';
  snprintf(path, sizeof path, "%s/examples/embed_master", bin);
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  char *out = NULL;
  char *argv[] = {path, NULL};
  int rc = mesos_test_run_cmd(loop, argv, NULL, &out, 60000);
  ck_assert_msg(rc == 0, "embed_master exited with %d:\n%s", rc, out ? out : "");
  ck_assert_msg(strstr(out, "[alpha] task alpha-task: TASK_FINISHED"), "%s", out);
  ck_assert_msg(strstr(out, "[beta] task beta-task: TASK_FINISHED"), "%s", out);
  ck_assert_msg(strstr(out, "with the first-fit allocator"), "%s", out);
  free(out);
  mesos_loop_free(loop);
}
END_TEST

/* ---- a fake allocator that counts initialize and destroy */

static int destroyed, initialized;
static mesos_status fail_init;

static mesos_status fake_initialize(void *ud, mesos_allocator_offer_fn offer,
                                    mesos_allocator_inverse_offer_fn inverse, void *cb_ud,
                                    mesos_error **err) {
  (void)ud, (void)offer, (void)inverse, (void)cb_ud, (void)err;
  initialized++;
  return fail_init;
}
static void fake_destroy(void *ud) {
  (void)ud;
  destroyed++;
}
static mesos_status fake_fw(void *ud, const mesos_allocator_framework *fw, int active,
                            mesos_error **err) {
  (void)ud, (void)fw, (void)active, (void)err;
  return MESOS_OK;
}
static mesos_status fake_id(void *ud, const char *id, mesos_error **err) {
  (void)ud, (void)id, (void)err;
  return MESOS_OK;
}
static mesos_status fake_agent(void *ud, const mesos_allocator_agent *a, mesos_error **err) {
  (void)ud, (void)a, (void)err;
  return MESOS_OK;
}
static mesos_status fake_alloc(void *ud, const char *fw, const char *agent, const char *role,
                               const mesos_allocator_conversion *ops, size_t n, mesos_error **err) {
  (void)ud, (void)fw, (void)agent, (void)role, (void)ops, (void)n, (void)err;
  return MESOS_OK;
}
static mesos_status fake_avail(void *ud, const char *agent, const mesos_allocator_conversion *ops,
                               size_t n, mesos_error **err) {
  (void)ud, (void)agent, (void)ops, (void)n, (void)err;
  return MESOS_OK;
}
static mesos_status fake_recover(void *ud, const char *fw, const char *agent, const char *role,
                                 const mesos_resources *r, double s, mesos_error **err) {
  (void)ud, (void)fw, (void)agent, (void)role, (void)r, (void)s, (void)err;
  return MESOS_OK;
}
static mesos_status fake_role(void *ud, const char *fw, const char *role, mesos_error **err) {
  (void)ud, (void)fw, (void)role, (void)err;
  return MESOS_OK;
}
static mesos_status fake_allocate(void *ud, mesos_error **err) {
  (void)ud, (void)err;
  return MESOS_OK;
}

static mesos_allocator *fake_allocator(void) {
  static const mesos_allocator_ops ops = {
      .version = MESOS_ALLOCATOR_OPS_VERSION,
      .initialize = fake_initialize,
      .destroy = fake_destroy,
      .add_framework = fake_fw,
      .remove_framework = fake_id,
      .activate_framework = fake_id,
      .deactivate_framework = fake_id,
      .add_agent = fake_agent,
      .remove_agent = fake_id,
      .activate_agent = fake_id,
      .deactivate_agent = fake_id,
      .update_allocation = fake_alloc,
      .update_available = fake_avail,
      .recover_resources = fake_recover,
      .suppress = fake_role,
      .revive = fake_role,
      .allocate = fake_allocate,
  };
  mesos_allocator *a = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_allocator_new(&a, &ops, NULL, &err), &err);
  return a;
}

START_TEST(test_embed_master__the_master_initializes_and_frees_the_given_allocator) {
  destroyed = initialized = 0;
  fail_init = MESOS_OK;
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  mesos_master_options o = MESOS_MASTER_OPTIONS_INIT;
  o.ip = "127.0.0.1";
  o.port = 0;
  o.allocator = fake_allocator();
  mesos_master *m = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_master_new(&m, loop, &o, NULL, &err), &err);
  ck_assert_int_eq(initialized, 1);
  ck_assert_int_eq(destroyed, 0);
  mesos_master_free(m);
  ck_assert_int_eq(destroyed, 1);
  mesos_loop_free(loop);
}
END_TEST

START_TEST(test_embed_master__a_failing_new_frees_the_allocator_it_was_given) {
  destroyed = initialized = 0;
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  mesos_master *m = NULL;
  mesos_error *err = NULL;
  /* Options and flags together: refused at once. */
  mesos_master_flags *flags = NULL;
  char *argv[] = {"mesos-master", NULL};
  ck_assert_mesos_ok(mesos_master_flags_parse(&flags, 1, argv, NULL, &err), &err);
  mesos_master_options o = MESOS_MASTER_OPTIONS_INIT;
  o.allocator = fake_allocator();
  ck_assert_int_eq(mesos_master_new(&m, loop, &o, flags, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(destroyed, 1);
  mesos_master_flags_free(flags);
  /* An allocator whose initialize fails fails the master. */
  fail_init = MESOS_EIO;
  o = (mesos_master_options)MESOS_MASTER_OPTIONS_INIT;
  o.ip = "127.0.0.1";
  o.port = 0;
  o.allocator = fake_allocator();
  ck_assert_int_eq(mesos_master_new(&m, loop, &o, NULL, &err), MESOS_EIO);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(initialized, 1);
  ck_assert_int_eq(destroyed, 2);
  /* An unknown version cannot be read: the allocator stays the caller's. */
  fail_init = MESOS_OK;
  o.allocator = fake_allocator();
  o.version = 99;
  ck_assert_int_eq(mesos_master_new(&m, loop, &o, NULL, &err), MESOS_EVERSION);
  mesos_error_free(err);
  ck_assert_int_eq(destroyed, 2);
  mesos_allocator_free(o.allocator);
  ck_assert_int_eq(destroyed, 3);
  mesos_loop_free(loop);
}
END_TEST

START_TEST(test_embed_master__version_1_options_still_work_and_init_leaves_the_rest_alone) {
  mesos_master_options o;
  memset(&o, 0xab, sizeof o);
  ck_assert_int_eq(mesos_master_options_init(&o, 1), MESOS_OK);
  ck_assert_uint_eq(o.version, 1);
  ck_assert_uint_eq(o.port, 5050);
  /* The field version 1 does not have is not written. */
  unsigned char pattern[sizeof o.allocator];
  memset(pattern, 0xab, sizeof pattern);
  ck_assert_int_eq(memcmp(&o.allocator, pattern, sizeof pattern), 0);
  ck_assert_int_eq(mesos_master_options_init(&o, 2), MESOS_OK);
  ck_assert_ptr_null(o.allocator);
  ck_assert_int_eq(mesos_master_options_init(&o, 3), MESOS_EVERSION);
  ck_assert_int_eq(mesos_master_options_init(&o, 0), MESOS_EVERSION);

  /* A version 1 struct (its allocator bytes garbage) runs the built-in
   * allocator. */
  memset(&o, 0xab, sizeof o);
  ck_assert_int_eq(mesos_master_options_init(&o, 1), MESOS_OK);
  o.ip = "127.0.0.1";
  o.port = 0;
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  mesos_master *m = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_master_new(&m, loop, &o, NULL, &err), &err);
  ck_assert_uint_gt(mesos_master_port(m), 0);
  mesos_master_free(m);
  mesos_loop_free(loop);
}
END_TEST

static Suite *embed_suite(void) {
  Suite *s = suite_create("embed_master");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 90);
  tcase_add_test(tc, test_embed_master__the_example_runs_two_tasks_through_its_own_allocator);
  tcase_add_test(tc, test_embed_master__the_master_initializes_and_frees_the_given_allocator);
  tcase_add_test(tc, test_embed_master__a_failing_new_frees_the_allocator_it_was_given);
  tcase_add_test(tc, test_embed_master__version_1_options_still_work_and_init_leaves_the_rest_alone);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(embed_suite()); }
