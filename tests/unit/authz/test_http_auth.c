/* The daemons' authentication step (authz_int.h) on an in-process HTTP
 * server: 401 challenges, optional realms, 403 from routes and checks, an
 * authenticator that answers later (also after the client went away),
 * approvers, and reload. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authz/authz_int.h"
#include "base/alloc.h"
#include "support/httptest.h"
#include "support/testutil.h"

#define WAIT_MS 3000

static struct {
  mesos_loop *loop;
  mesos__http_server *srv;
  mesos__auth *auth;
  int port;
  int64_t live_before;
  char seen_principal[64];
  int handled;
  /* The asynchronous authenticator's held answer. */
  mesos_authn_done_fn held;
  void *held_ud;
  int authenticate_calls;
  mesos_timer *answer_timer;
} T;

static void h_ok(mesos__http_request *req, void *ud) {
  (void)ud;
  const char *p = mesos__http_request_principal(req);
  snprintf(T.seen_principal, sizeof T.seen_principal, "%s", p ? p : "(none)");
  T.handled++;
  mesos__http_respond(req, 200, NULL, "ok", 2);
}

/* A handler that asks for VIEW_FLAGS itself. */
static void h_check(mesos__http_request *req, void *ud) {
  (void)ud;
  if (!mesos__auth_check(T.auth, req, MESOS_AUTHZ_VIEW_FLAGS, NULL)) return;
  mesos__http_respond(req, 200, NULL, "flags", 5);
}

static const char *ACLS =
    "{\"view_flags\": ["
    "  {\"principals\": {\"values\": [\"ops\"]}, \"flags\": {\"type\": \"ANY\"}},"
    "  {\"principals\": {\"type\": \"ANY\"}, \"flags\": {\"type\": \"NONE\"}}],"
    " \"view_tasks\": ["
    "  {\"principals\": {\"values\": [\"ops\"]}, \"users\": {\"values\": [\"alice\"]}},"
    "  {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}]}";

static void start(const mesos__auth_options *o) {
  memset(&T, 0, sizeof T);
  T.live_before = mesos__alloc_live();
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&T.loop, NULL, &err), &err);
  mesos__http_server_options so;
  memset(&so, 0, sizeof so);
  so.listen = "127.0.0.1:0";
  ck_assert_mesos_ok(mesos__http_server_new(&T.srv, T.loop, &so, &err), &err);
  T.port = mesos__http_server_port(T.srv);
  ck_assert_mesos_ok(mesos__auth_new(&T.auth, o, &err), &err);
  ck_assert_int_eq(mesos__auth_route(T.auth, T.srv, "GET", "/ro", 0, MESOS__REALM_READONLY, 0,
                                     NULL, h_ok, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__auth_route(T.auth, T.srv, "GET", "/rw", 0, MESOS__REALM_READWRITE,
                                     MESOS_AUTHZ_VIEW_FLAGS, NULL, h_ok, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__auth_route(T.auth, T.srv, "GET", "/check", 0, MESOS__REALM_READONLY,
                                     0, NULL, h_check, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__auth_route(T.auth, T.srv, "GET", "/open", 0, MESOS__REALM_NONE, 0,
                                     NULL, h_ok, NULL), MESOS_OK);
}

static void stop(void) {
  mesos__http_server_free(T.srv);
  mesos__auth_free(T.auth);
  mesos_timer_free(T.answer_timer);
  for (int i = 0; i < 20; i++) mesos_loop_run_once(T.loop);
  mesos_loop_free(T.loop);
  ck_assert_int_eq(mesos__alloc_live(), T.live_before);
}

/* GET path with an optional Authorization value; returns the status and
 * copies WWW-Authenticate. */
static int get(const char *path, const char *authz, char *www, size_t cap) {
  mesos_test_http_client c;
  ck_assert_int_eq(mesos_test_http_connect(&c, T.port), 0);
  char req[1024];
  snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n%s%s%sConnection: close\r\n\r\n", path,
           authz ? "Authorization: " : "", authz ? authz : "", authz ? "\r\n" : "");
  ck_assert_int_eq(mesos_test_http_sends(&c, req), 0);
  mesos_test_http_resp r;
  ck_assert_msg(mesos_test_http_recv(T.loop, &c, &r, 0, WAIT_MS), "no response for %s", path);
  int st = r.status;
  if (www) {
    const char *w = mesos_test_http_header(&r, "WWW-Authenticate");
    snprintf(www, cap, "%s", w ? w : "");
  }
  mesos_test_http_resp_free(&r);
  mesos_test_http_close(&c);
  return st;
}

static char *basic(const char *p, const char *s) {
  char *h = NULL;
  ck_assert_int_eq(mesos_basic_auth_encode(p, s, &h, NULL), MESOS_OK);
  return h;
}

START_TEST(test_http_auth__basic_realms_routes_and_checks) {
  char dir[] = "/tmp/http-auth-XXXXXX", path[128];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/creds", dir);
  FILE *f = fopen(path, "w");
  fputs("ops opspw\ndev devpw\n", f);
  fclose(f);
  chmod(path, 0600);
  mesos__auth_options o;
  memset(&o, 0, sizeof o);
  o.daemon = "master";
  o.credentials = path;
  o.acls = ACLS;
  o.authenticate[MESOS__REALM_READWRITE] = true;
  start(&o);
  char www[256];
  char *ops = basic("ops", "opspw"), *dev = basic("dev", "devpw"), *bad = basic("ops", "x");
  /* Read-write realm required: 401 with the realm's challenge. */
  ck_assert_int_eq(get("/rw", NULL, www, sizeof www), 401);
  ck_assert_str_eq(www, "Basic realm=\"mesos-master-readwrite\"");
  ck_assert_int_eq(get("/rw", bad, www, sizeof www), 401);
  ck_assert_int_eq(get("/rw", "Basic", www, sizeof www), 401);
  ck_assert_int_eq(get("/rw", ops, NULL, 0), 200);
  ck_assert_str_eq(T.seen_principal, "ops");
  /* The route's action: dev may not VIEW_FLAGS. */
  ck_assert_int_eq(get("/rw", dev, NULL, 0), 403);
  /* Read-only realm optional: no header or a bad one -> no principal. */
  ck_assert_int_eq(get("/ro", NULL, NULL, 0), 200);
  ck_assert_str_eq(T.seen_principal, "(none)");
  ck_assert_int_eq(get("/ro", bad, NULL, 0), 200);
  ck_assert_str_eq(T.seen_principal, "(none)");
  ck_assert_int_eq(get("/ro", dev, NULL, 0), 200);
  ck_assert_str_eq(T.seen_principal, "dev");
  /* A check inside the handler. */
  ck_assert_int_eq(get("/check", ops, NULL, 0), 200);
  ck_assert_int_eq(get("/check", dev, NULL, 0), 403);
  ck_assert_int_eq(get("/check", NULL, NULL, 0), 403);
  ck_assert_int_eq(get("/open", "garbage", NULL, 0), 200);
  /* Approvers: ops sees alice's tasks only; no principal sees none. */
  mesos_authz_approver *ap = mesos__auth_approver(T.auth, "ops", MESOS_AUTHZ_VIEW_TASK);
  ck_assert(mesos__auth_approved(ap, "alice"));
  ck_assert(!mesos__auth_approved(ap, "bob"));
  ck_assert(mesos__auth_approved(ap, "alice")); /* memoised answer, same */
  mesos_authz_approver_free(ap);
  mesos__auth_view v;
  mesos__auth_view_init(&v, T.auth, NULL);
  ck_assert(!mesos__auth_view_task(&v, "alice"));
  ck_assert(mesos__auth_view_framework(&v, "alice")); /* no view_frameworks rules */
  mesos__auth_view_free(&v);
  /* Reload: dev's new secret; a malformed credentials file keeps it. */
  f = fopen(path, "w");
  fputs("dev newpw\n", f);
  fclose(f);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__auth_reload(T.auth, &err), &err);
  char *dev2 = basic("dev", "newpw");
  ck_assert_int_eq(get("/ro", dev2, NULL, 0), 200);
  ck_assert_str_eq(T.seen_principal, "dev");
  f = fopen(path, "w");
  fputs("dev a b\n", f);
  fclose(f);
  ck_assert_int_eq(mesos__auth_reload(T.auth, &err), MESOS_EINVAL);
  ck_assert_msg(strstr(mesos_error_message(err), "credentials not reloaded"), "%s",
                mesos_error_message(err));
  mesos_error_free(err);
  ck_assert_int_eq(get("/ro", dev2, NULL, 0), 200);
  ck_assert_str_eq(T.seen_principal, "dev");
  mesos_free(ops);
  mesos_free(dev);
  mesos_free(bad);
  mesos_free(dev2);
  stop();
  unlink(path);
  rmdir(dir);
}
END_TEST

/* ------------------------------------------------------------ async */

static void answer_now(mesos_timer *t, void *ud) {
  (void)t;
  (void)ud;
  if (T.held) {
    mesos_authn_done_fn d = T.held;
    T.held = NULL;
    d(MESOS_OK, "late-user", NULL, T.held_ud);
  }
}

static void async_authenticate(void *ud, const mesos_authn_request *req,
                               mesos_authn_done_fn done, void *done_ud) {
  (void)ud;
  (void)req;
  T.authenticate_calls++;
  T.held = done;
  T.held_ud = done_ud;
  mesos_timer_start(T.answer_timer, 50, 0);
}

START_TEST(test_http_auth__an_authenticator_may_answer_later_even_after_the_client_left) {
  mesos_authenticator_ops ops = {MESOS_AUTHENTICATOR_OPS_VERSION, "Bearer", async_authenticate,
                                 NULL, NULL};
  int64_t before = mesos__alloc_live();
  mesos_authenticator *a = NULL;
  ck_assert_int_eq(mesos_authenticator_new(&a, &ops, NULL, NULL), MESOS_OK);
  mesos__auth_options o;
  memset(&o, 0, sizeof o);
  o.daemon = "agent";
  o.authenticator = a;
  o.authenticate[MESOS__REALM_READONLY] = true;
  start(&o);
  T.live_before = before; /* the authenticator is the auth's now */
  ck_assert_int_eq(mesos_timer_new(&T.answer_timer, T.loop, answer_now, NULL, NULL), MESOS_OK);
  /* Answered 50 ms later: the handler runs with the principal. */
  ck_assert_int_eq(get("/ro", "Bearer t", NULL, 0), 200);
  ck_assert_str_eq(T.seen_principal, "late-user");
  /* The client goes away before the answer: nothing runs, nothing leaks. */
  mesos_test_http_client c;
  ck_assert_int_eq(mesos_test_http_connect(&c, T.port), 0);
  ck_assert_int_eq(mesos_test_http_sends(&c, "GET /ro HTTP/1.1\r\nHost: x\r\n"
                                             "Authorization: Bearer t\r\n\r\n"), 0);
  int calls = T.authenticate_calls;
  for (int i = 0; i < 200 && T.authenticate_calls == calls; i++) mesos_loop_run_once(T.loop);
  ck_assert_int_eq(T.authenticate_calls, calls + 1);
  mesos_test_http_close(&c);
  int handled = T.handled;
  mesos_test_http_pump(T.loop, NULL, 200);
  ck_assert_int_eq(T.handled, handled);
  ck_assert_ptr_null(T.held); /* the answer was given, into the void */
  stop();
}
END_TEST

START_TEST(test_http_auth__required_realm_without_credentials_is_refused) {
  mesos__auth_options o;
  memset(&o, 0, sizeof o);
  o.daemon = "master";
  o.authenticate[MESOS__REALM_FRAMEWORK] = true;
  mesos__auth *a = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__auth_new(&a, &o, &err), MESOS_EINVAL);
  ck_assert_msg(strstr(mesos_error_message(err), "credentials"), "%s", mesos_error_message(err));
  mesos_error_free(err);
  err = NULL;
  o.authenticate[MESOS__REALM_FRAMEWORK] = false;
  o.acls = "{\"run_tasks\": {}}";
  ck_assert_int_eq(mesos__auth_new(&a, &o, &err), MESOS_EINVAL);
  mesos_error_free(err);
  /* No ACLs: everything is allowed, approvers are NULL (approve all). */
  o.acls = NULL;
  ck_assert_mesos_ok(mesos__auth_new(&a, &o, &err), &err);
  ck_assert(!mesos__auth_has_authorizer(a));
  ck_assert(mesos__auth_allowed(a, "anyone", MESOS_AUTHZ_RUN_TASK, "root"));
  ck_assert_ptr_null(mesos__auth_approver(a, "x", MESOS_AUTHZ_VIEW_TASK));
  ck_assert(mesos__auth_approved(NULL, "x"));
  ck_assert_str_eq(mesos__auth_realm_name(a, MESOS__REALM_FRAMEWORK), "mesos-master-scheduler");
  mesos__auth_free(a);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

/* A vendor authorizer that holds every answer until told to give it. */
static struct {
  mesos_authz_done_fn done;
  void *done_ud;
  mesos_authz_approver_fn ap_done;
  void *ap_ud;
} L;

static void late_authorized(void *ud, const mesos_authz_request *req, mesos_authz_done_fn done,
                            void *done_ud) {
  (void)ud, (void)req;
  L.done = done;
  L.done_ud = done_ud;
}

static int approve_all(void *aud, const mesos_authz_object *o) {
  (void)aud, (void)o;
  return 1;
}

static const mesos_authz_approver_ops APPROVE_ALL = {MESOS_AUTHZ_APPROVER_OPS_VERSION,
                                                     approve_all, NULL};

static void late_approver(void *ud, const char *subject, int32_t action,
                          mesos_authz_approver_fn done, void *done_ud) {
  (void)ud, (void)subject, (void)action;
  L.ap_done = done;
  L.ap_ud = done_ud;
}

/* authz.h: at the daemons' synchronous decision points an answer that
 * has not come when the call returns is a denial (an approver that shows
 * nothing); the late answer, when it comes, is discarded without a leak. */
START_TEST(test_http_auth__a_late_authorizer_answer_counts_as_a_denial) {
  int64_t live = mesos__alloc_live();
  memset(&L, 0, sizeof L);
  mesos_authorizer_ops ops = {MESOS_AUTHORIZER_OPS_VERSION, late_authorized, late_approver, NULL,
                              NULL};
  mesos_authorizer *az = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_authorizer_new(&az, &ops, NULL, &err), &err);
  mesos__auth_options o;
  memset(&o, 0, sizeof o);
  o.daemon = "agent";
  o.authorizer = az;
  mesos__auth *a = NULL;
  ck_assert_mesos_ok(mesos__auth_new(&a, &o, &err), &err);
  ck_assert(!mesos__auth_allowed(a, "ops", MESOS_AUTHZ_VIEW_FLAGS, NULL));
  ck_assert_ptr_nonnull(L.done);
  L.done(MESOS_OK, 1, L.done_ud); /* allowed, but too late: discarded */
  mesos_authz_approver *ap = mesos__auth_approver(a, "ops", MESOS_AUTHZ_VIEW_TASK);
  ck_assert_ptr_nonnull(ap);
  ck_assert(!mesos__auth_approved(ap, "alice")); /* the deny-all fallback */
  ck_assert_ptr_nonnull(L.ap_done);
  L.ap_done(MESOS_OK, &APPROVE_ALL, NULL, L.ap_ud); /* late: freed, not used */
  mesos_authz_approver_free(ap);
  mesos__auth_free(a);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("http_auth");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_http_auth__basic_realms_routes_and_checks);
  tcase_add_test(tc, test_http_auth__an_authenticator_may_answer_later_even_after_the_client_left);
  tcase_add_test(tc, test_http_auth__required_realm_without_credentials_is_refused);
  tcase_add_test(tc, test_http_auth__a_late_authorizer_answer_counts_as_a_denial);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
