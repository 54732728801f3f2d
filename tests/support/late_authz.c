/* A vendor authorizer that answers later, for the tests of issue 8's
 * asynchronous answers (late_authz.h). */
#include "support/late_authz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

