/* A vendor authorizer that answers later, for the tests of issue 8's
 * asynchronous answers (late_authz.h). */
#include "support/late_authz.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "authz/authz_int.h"
#include "master/master_int.h"
#include "mesos/agent.h"
#include "mesos/master.h"
#include "support/daemon.h"
#include "support/testutil.h"



typedef struct answer {
  struct answer *next;
  late *l;
  mesos_timer *timer;
  int allowed;
  int is_approver;
  char *subject;
  mesos_authz_done_fn done;
  mesos_authz_approver_fn ap_done;
  void *ud;
} answer;

static int allowed_for(const char *subject) { return subject && strcmp(subject, "ops") == 0; }

static int ap_approved(void *aud, const mesos_authz_object *o) {
  (void)o;
  return allowed_for(aud);
}
static void ap_free(void *aud) { free(aud); }
static const mesos_authz_approver_ops AP_OPS = {MESOS_AUTHZ_APPROVER_OPS_VERSION, ap_approved,
                                                ap_free};

static void unlink_answer(late *l, answer *a) {
  for (answer **pp = &l->pending; *pp; pp = &(*pp)->next)
    if (*pp == a) {
      *pp = a->next;
      return;
    }
}

static void give(answer *a, mesos_status st) {
  late *l = a->l;
  unlink_answer(l, a);
  mesos_timer_free(a->timer);
  atomic_fetch_add(&l->answered, 1);
  if (a->is_approver) {
    if (st == MESOS_OK) a->ap_done(MESOS_OK, &AP_OPS, a->subject, a->ud);
    else {
      free(a->subject);
      a->ap_done(st, NULL, NULL, a->ud);
    }
  } else {
    free(a->subject);
    a->done(st, a->allowed, a->ud);
  }
  free(a);
}

static void fire(mesos_timer *t, void *ud) {
  (void)t;
  answer *a = ud;
  if (atomic_load(&a->l->hold)) { /* asked again later */
    mesos_timer_start(a->timer, 20, 0);
    return;
  }
  give(a, MESOS_OK);
}

static answer *later(late *l, const char *subject, int32_t action, const char *value) {
  answer *a = calloc(1, sizeof *a);
  ck_assert_ptr_nonnull(a);
  a->l = l;
  a->subject = subject ? strdup(subject) : NULL;
  /* Agents register without a principal here. */
  a->allowed = allowed_for(subject) || action == MESOS_AUTHZ_REGISTER_AGENT;
  if (value && strcmp(value, "nobody") == 0) a->allowed = 0; /* RUN_TASK as nobody */
  ck_assert_int_eq(mesos_timer_new(&a->timer, l->loop, fire, a, NULL), MESOS_OK);
  a->next = l->pending;
  l->pending = a;
  atomic_fetch_add(&l->asked, 1);
  mesos_timer_start(a->timer, LATE_AUTHZ_DELAY_MS, 0);
  return a;
}

static void late_authorized(void *ud, const mesos_authz_request *req, mesos_authz_done_fn done,
                            void *done_ud) {
  answer *a = later(ud, req->subject, req->action, req->object ? req->object->value : NULL);
  a->done = done;
  a->ud = done_ud;
}

static void late_approver(void *ud, const char *subject, int32_t action,
                          mesos_authz_approver_fn done, void *done_ud) {
  answer *a = later(ud, subject, action, NULL);
  a->is_approver = 1;
  a->ap_done = done;
  a->ud = done_ud;
}

/* Freed with the master: the answers still owed are given as failures
 * (a vendor may do that; the master must not replay anything then). */
static void late_free(void *ud) {
  late *l = ud;
  while (l->pending) give(l->pending, MESOS_ECLOSED);
}

static const mesos_authorizer_ops LATE_OPS = {MESOS_AUTHORIZER_OPS_VERSION, late_authorized,
                                              late_approver, NULL, late_free};

mesos_authorizer *late_authz_new(late *l, mesos_loop *loop) {
  memset(l, 0, sizeof *l);
  l->loop = loop;
  mesos_authorizer *az = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_authorizer_new(&az, &LATE_OPS, l, &err), &err);
  return az;
}

void late_authz_credentials(const char *dir, char *path, size_t cap) {
  snprintf(path, cap, "%s/credentials", dir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("{\"credentials\":[{\"principal\":\"ops\",\"secret\":\"s1\"},"
        "{\"principal\":\"guest\",\"secret\":\"s2\"}]}",
        f);
  fclose(f);
  chmod(path, 0600);
}

/* ------------------------------------------------------------ an in-process master */

static void world_wakeup(mesos_loop *loop, void *ud) {
  late_world *w = ud;
  if (atomic_load(&w->stop)) mesos_loop_stop(loop);
}

static void *world_loop(void *arg) {
  late_world *w = arg;
  mesos_loop_run(w->loop, NULL);
  return NULL;
}

/* The directory with the credentials file (its path in `cred`) and the
 * loop, stopped from another thread through its wake-up. */
static void world_begin(late_world *w, const char *name, char *cred, size_t cap) {
  memset(w, 0, sizeof *w);
  snprintf(w->dir, sizeof w->dir, "/tmp/%s.XXXXXX", name);
  ck_assert_ptr_nonnull(mkdtemp(w->dir));
  late_authz_credentials(w->dir, cred, cap);
  mesos_loop_options lo;
  ck_assert_int_eq(mesos_loop_options_init(&lo, MESOS_LOOP_OPTIONS_VERSION), MESOS_OK);
  lo.wakeup_cb = world_wakeup;
  lo.wakeup_ud = w;
  ck_assert_int_eq(mesos_loop_new(&w->loop, &lo, NULL), MESOS_OK);
}

void late_world_start(late_world *w, const char *name, uint64_t timeout_ms) {
  char cred[320];
  world_begin(w, name, cred, sizeof cred);
  char credflag[400];
  snprintf(credflag, sizeof credflag, "--credentials=%s", cred);
  char *argv[] = {"test", "--ip=127.0.0.1", "--port=0", "--logging_level=WARNING",
                  "--allocation_interval=50ms", credflag, NULL};
  mesos_master_flags *flags = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_master_flags_parse(&flags, 6, argv, NULL, &err), &err);
  ck_assert_mesos_ok(mesos_master_new(&w->m, w->loop, NULL, flags, &err), &err);
  mesos_master_flags_free(flags);
  mesos_authorizer *az = late_authz_new(&w->l, w->loop);
  ck_assert_mesos_ok(mesos_master_set_authorizer(w->m, az, &err), &err);
  if (timeout_ms) mesos__auth_set_timeout(w->m->auth, timeout_ms);
  w->port = (int)mesos_master_port(w->m);
  ck_assert_int_eq(pthread_create(&w->thread, NULL, world_loop, w), 0);
}

void late_world_start_agent(late_world *w, const char *name) {
  char cred[320];
  world_begin(w, name, cred, sizeof cred);
  char credflag[400], wd[400];
  snprintf(credflag, sizeof credflag, "--http_credentials=%s", cred);
  snprintf(wd, sizeof wd, "--work_dir=%s/work", w->dir);
  char *argv[] = {"mesos-agent", "--master=http://127.0.0.1:1", wd, "--ip=127.0.0.1",
                  "--port=0", "--logging_level=WARNING", credflag, NULL};
  mesos_agent_flags *flags = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_agent_flags_parse(&flags, 7, argv, NULL, &err), &err);
  ck_assert_mesos_ok(mesos_agent_new(&w->a, w->loop, NULL, flags, &err), &err);
  mesos_agent_flags_free(flags);
  ck_assert_mesos_ok(mesos_agent_set_authorizer(w->a, late_authz_new(&w->l, w->loop), &err),
                     &err);
  w->port = (int)mesos_agent_port(w->a);
  ck_assert_int_eq(pthread_create(&w->thread, NULL, world_loop, w), 0);
}

void late_world_stop(late_world *w) {
  atomic_store(&w->stop, 1);
  mesos_loop_wakeup(w->loop);
  pthread_join(w->thread, NULL);
  if (w->m) mesos_master_free(w->m);
  if (w->a) mesos_agent_free(w->a);
  while (mesos_loop_run_once(w->loop) > 0) {
  }
  mesos_loop_free(w->loop);
  mesos_test_kill_under(w->dir);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", w->dir);
  ck_assert_int_eq(system(cmd), 0);
}

int late_world_http(late_world *w, const char *method, const char *who, const char *path,
                      const char *json, char *out, size_t cap) {
  mesos_test_response r;
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(mesos_test_http(w->port, method, path, json ? "application/json" : NULL, who,
                                   json, &r),
                   0);
  if (out) snprintf(out, cap, "%s", r.body ? r.body : "");
  int st = r.status;
  mesos_test_response_free(&r);
  return st;
}

int late_world_call(late_world *w, const char *who, const char *json, char *out, size_t cap) {
  return late_world_http(w, "POST", who, "/api/v1", json, out, cap);
}

int late_world_get(late_world *w, const char *who, const char *path, char *out, size_t cap) {
  return late_world_http(w, "GET", who, path, NULL, out, cap);
}
