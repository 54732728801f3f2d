/*
 * The snapshot-friendly state filter (mesos__master_auth_filter_response_view)
 * as an off-loop renderer uses it: a view made on this thread, handed to
 * another thread with a response tree, the tree filtered there, the view
 * freed there.  GET_TASKS / GET_EXECUTORS alone take the framework users
 * from a map; GET_STATE from its own framework lists.  A vendor
 * authorizer's view is not portable (it must be used on the loop).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "authz/authz_int.h"
#include "base/alloc.h"
#include "base/map.h"
#include "master/master_auth.h"
#include "support/testutil.h"

static const char *ACLS =
    "{\"view_frameworks\": ["
    " {\"principals\": {\"values\": [\"p1\"]}, \"users\": {\"values\": [\"alice\"]}},"
    " {\"principals\": {\"values\": [\"p2\"]}, \"users\": {\"type\": \"ANY\"}},"
    " {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}],"
    " \"view_executors\": ["
    " {\"principals\": {\"values\": [\"p1\"]}, \"users\": {\"values\": [\"alice\"]}},"
    " {\"principals\": {\"values\": [\"p3\"]}, \"users\": {\"type\": \"ANY\"}},"
    " {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}],"
    " \"view_tasks\": ["
    " {\"principals\": {\"values\": [\"p1\"]}, \"users\": {\"values\": [\"alice\"]}},"
    " {\"principals\": {\"values\": [\"p2\", \"p3\"]}, \"users\": {\"type\": \"ANY\"}},"
    " {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}]}";

/* Two frameworks (fa: alice, fb: bob), a task and an executor each, plus
 * an orphan task of an unknown framework run as alice. */
typedef struct tree {
  Mesos__V1__FrameworkID fid[3];
  Mesos__V1__Task task[3], *tasks[3];
  Mesos__V1__TaskID tid[3];
  Mesos__V1__ExecutorInfo ei[2];
  Mesos__V1__ExecutorID eid[2];
  Mesos__V1__Master__Response__GetExecutors__Executor ex[2], *exs[2];
  Mesos__V1__FrameworkInfo fi[2];
  Mesos__V1__Master__Response__GetFrameworks__Framework fw[2], *fws[2];
  Mesos__V1__Master__Response__GetTasks gt;
  Mesos__V1__Master__Response__GetExecutors ge;
  Mesos__V1__Master__Response__GetFrameworks gf;
  Mesos__V1__Master__Response__GetState gs;
} tree;

static void build(tree *t) {
  static const char *fids[] = {"fa", "fb", "fz"}, *users[] = {"alice", "bob"},
                    *tids[] = {"ta", "tb", "tz"}, *eids[] = {"ea", "eb"};
  memset(t, 0, sizeof *t);
  for (int i = 0; i < 3; i++) {
    mesos__v1__framework_id__init(&t->fid[i]);
    t->fid[i].value = (char *)fids[i];
    mesos__v1__task_id__init(&t->tid[i]);
    t->tid[i].value = (char *)tids[i];
    mesos__v1__task__init(&t->task[i]);
    t->task[i].task_id = &t->tid[i];
    t->task[i].framework_id = &t->fid[i];
    t->tasks[i] = &t->task[i];
  }
  t->task[2].user = "alice"; /* the orphan's own user */
  for (int i = 0; i < 2; i++) {
    mesos__v1__executor_id__init(&t->eid[i]);
    t->eid[i].value = (char *)eids[i];
    mesos__v1__executor_info__init(&t->ei[i]);
    t->ei[i].executor_id = &t->eid[i];
    t->ei[i].framework_id = &t->fid[i];
    mesos__v1__master__response__get_executors__executor__init(&t->ex[i]);
    t->ex[i].executor_info = &t->ei[i];
    t->exs[i] = &t->ex[i];
    mesos__v1__framework_info__init(&t->fi[i]);
    t->fi[i].id = &t->fid[i];
    t->fi[i].user = (char *)users[i];
    mesos__v1__master__response__get_frameworks__framework__init(&t->fw[i]);
    t->fw[i].framework_info = &t->fi[i];
    t->fws[i] = &t->fw[i];
  }
  mesos__v1__master__response__get_tasks__init(&t->gt);
  t->gt.tasks = t->tasks;
  t->gt.n_tasks = 3;
  mesos__v1__master__response__get_executors__init(&t->ge);
  t->ge.executors = t->exs;
  t->ge.n_executors = 2;
  mesos__v1__master__response__get_frameworks__init(&t->gf);
  t->gf.frameworks = t->fws;
  t->gf.n_frameworks = 2;
  mesos__v1__master__response__get_state__init(&t->gs);
  t->gs.get_tasks = &t->gt;
  t->gs.get_executors = &t->ge;
  t->gs.get_frameworks = &t->gf;
}

/* "ta,tz|ea|fa": what is left, for comparing. */
static void left(const tree *t, char *out, size_t cap) {
  out[0] = '\0';
  for (size_t i = 0; i < t->gt.n_tasks; i++)
    snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "," : "",
             t->gt.tasks[i]->task_id->value);
  snprintf(out + strlen(out), cap - strlen(out), "|");
  for (size_t i = 0; i < t->ge.n_executors; i++)
    snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "," : "",
             t->ge.executors[i]->executor_info->executor_id->value);
  snprintf(out + strlen(out), cap - strlen(out), "|");
  for (size_t i = 0; i < t->gf.n_frameworks; i++)
    snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "," : "",
             t->gf.frameworks[i]->framework_info->id->value);
}

typedef struct job {
  mesos__auth_view view; /* made on the test's thread, freed on the worker */
  const mesos__map *users;
  int state;             /* 1: GET_STATE, 0: GET_TASKS + GET_EXECUTORS alone */
  tree t;
  char out[128];
} job;

static void *worker(void *arg) {
  job *j = arg;
  Mesos__V1__Master__Response r = MESOS__V1__MASTER__RESPONSE__INIT;
  if (j->state) {
    r.get_state = &j->t.gs;
  } else {
    r.get_tasks = &j->t.gt;
    r.get_executors = &j->t.ge;
  }
  mesos__master_auth_filter_response_view(&j->view, j->users, &r);
  mesos__auth_view_free(&j->view);
  left(&j->t, j->out, sizeof j->out);
  return NULL;
}

START_TEST(test_filter_view__off_thread_with_framework_users_from_the_state_or_a_map) {
  int64_t live = mesos__alloc_live();
  mesos__auth_options o;
  memset(&o, 0, sizeof o);
  o.daemon = "master";
  o.acls = ACLS;
  mesos__auth *a = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__auth_new(&a, &o, &err), &err);
  mesos__map users;
  mesos__map_init(&users);
  ck_assert_int_eq(mesos__map_put(&users, "fa", "alice"), MESOS_OK);
  ck_assert_int_eq(mesos__map_put(&users, "fb", "bob"), MESOS_OK);
  static const struct {
    const char *principal;
    int state;
    const char *want;
  } cases[] = {
      /* (GET_TASKS + GET_EXECUTORS alone leave the framework list, which
       * is not part of their response, as it was.)
       * p1: alice's things, and the orphan (run as alice). */
      {"p1", 1, "ta,tz|ea|fa"},
      {"p1", 0, "ta,tz|ea|fa,fb"},
      /* p2: every framework and task, no executor. */
      {"p2", 1, "ta,tb,tz||fa,fb"},
      {"p2", 0, "ta,tb,tz||fa,fb"},
      /* p3: executors and tasks allowed, no framework: only the orphan. */
      {"p3", 1, "tz||"},
      {"p3", 0, "tz||fa,fb"},
      /* Nobody: nothing. */
      {NULL, 1, "||"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    job *j = mesos__calloc(1, sizeof *j);
    ck_assert_ptr_nonnull(j);
    build(&j->t);
    j->state = cases[i].state;
    j->users = cases[i].state ? NULL : &users;
    mesos__auth_view_init(&j->view, a, cases[i].principal);
    ck_assert(mesos__auth_view_portable(&j->view));
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, worker, j), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_msg(strcmp(j->out, cases[i].want) == 0, "%s state=%d: %s, want %s", cases[i].principal ? cases[i].principal : "-",
                  cases[i].state, j->out, cases[i].want);
    mesos__free(j);
  }
  mesos__map_free(&users);
  mesos__auth_free(a);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

/* A vendor authorizer's approvers belong to the loop thread. */
static int vendor_approved(void *aud, const mesos_authz_object *o) {
  (void)aud;
  (void)o;
  return 1;
}
static const mesos_authz_approver_ops VENDOR_APPROVER = {MESOS_AUTHZ_APPROVER_OPS_VERSION,
                                                         vendor_approved, NULL};
static void vendor_authorized(void *ud, const mesos_authz_request *req, mesos_authz_done_fn done,
                              void *done_ud) {
  (void)ud;
  (void)req;
  done(MESOS_OK, 1, done_ud);
}
static void vendor_approver(void *ud, const char *subject, int32_t action,
                            mesos_authz_approver_fn done, void *done_ud) {
  (void)ud;
  (void)subject;
  (void)action;
  done(MESOS_OK, &VENDOR_APPROVER, NULL, done_ud);
}

START_TEST(test_filter_view__a_vendor_authorizers_view_is_not_portable) {
  mesos_authorizer_ops ops = {MESOS_AUTHORIZER_OPS_VERSION, vendor_authorized, vendor_approver,
                              NULL, NULL};
  mesos_authorizer *az = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_authorizer_new(&az, &ops, NULL, &err), &err);
  mesos__auth_options o;
  memset(&o, 0, sizeof o);
  o.daemon = "master";
  o.authorizer = az;
  mesos__auth *a = NULL;
  ck_assert_mesos_ok(mesos__auth_new(&a, &o, &err), &err);
  mesos__auth_view v;
  mesos__auth_view_init(&v, a, "p1");
  ck_assert(!mesos__auth_view_portable(&v));
  mesos__auth_view_free(&v);
  mesos__auth_free(a);
  /* No authorizer at all: NULL approvers, portable (nothing to filter). */
  memset(&o, 0, sizeof o);
  o.daemon = "master";
  ck_assert_mesos_ok(mesos__auth_new(&a, &o, &err), &err);
  mesos__auth_view_init(&v, a, "p1");
  ck_assert(mesos__auth_view_portable(&v));
  ck_assert_ptr_null(v.framework);
  mesos__auth_view_free(&v);
  mesos__auth_free(a);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("filter_view");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_filter_view__off_thread_with_framework_users_from_the_state_or_a_map);
  tcase_add_test(tc, test_filter_view__a_vendor_authorizers_view_is_not_portable);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
