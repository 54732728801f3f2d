/* Credentials files, the HTTP Basic header and the authenticator table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authz/authz_int.h"
#include "base/alloc.h"
#include "support/oom.h"
#include "support/testutil.h"

static mesos_credentials *creds_ok(const char *text) {
  mesos_credentials *c = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_credentials_parse(&c, text, strlen(text), &err), &err);
  return c;
}

static void creds_bad(const char *text, mesos_status want, const char *needle) {
  mesos_credentials *c = NULL;
  mesos_error *err = NULL;
  mesos_status st = mesos_credentials_parse(&c, text, strlen(text), &err);
  ck_assert_msg(st == want, "'%s': %s", text, mesos_status_name(st));
  ck_assert_ptr_null(c);
  if (needle)
    ck_assert_msg(strstr(mesos_error_message(err), needle) != NULL, "%s",
                  mesos_error_message(err));
  mesos_error_free(err);
}

START_TEST(test_credentials__json_text_and_empty_forms) {
  mesos_credentials *c = creds_ok(
      "{\"credentials\": [{\"principal\": \"ops\", \"secret\": \"s3cret\"},"
      " {\"principal\": \"nosecret\"}, {\"principal\": \"dup\", \"secret\": \"one\"},"
      " {\"principal\": \"dup\", \"secret\": \"two\"}]}");
  ck_assert_uint_eq(mesos_credentials_count(c), 3);
  ck_assert_int_eq(mesos_credentials_verify(c, "ops", "s3cret", 6), 1);
  ck_assert_int_eq(mesos_credentials_verify(c, "ops", "s3cre", 5), 0);
  ck_assert_int_eq(mesos_credentials_verify(c, "ops", "s3cret!", 7), 0);
  ck_assert_int_eq(mesos_credentials_verify(c, "ops", "", 0), 0);
  ck_assert_int_eq(mesos_credentials_verify(c, "unknown", "s3cret", 6), 0);
  ck_assert_int_eq(mesos_credentials_verify(c, "nosecret", "", 0), 0); /* never verifies */
  ck_assert_int_eq(mesos_credentials_verify(c, "dup", "one", 3), 0);   /* later one wins */
  ck_assert_int_eq(mesos_credentials_verify(c, "dup", "two", 3), 1);
  mesos_credentials_free(c);

  c = creds_ok("alice secret1\r\n\n  bob\tsecret2  \n");
  ck_assert_uint_eq(mesos_credentials_count(c), 2);
  ck_assert_int_eq(mesos_credentials_verify(c, "alice", "secret1", 7), 1);
  ck_assert_int_eq(mesos_credentials_verify(c, "bob", "secret2", 7), 1);
  mesos_credentials_free(c);

  c = creds_ok("");
  ck_assert_uint_eq(mesos_credentials_count(c), 0);
  mesos_credentials_free(c);
  c = creds_ok(" \n\n");
  ck_assert_uint_eq(mesos_credentials_count(c), 0);
  mesos_credentials_free(c);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_credentials__malformed_files_are_refused_without_quoting_secrets) {
  creds_bad("alice secret extra\n", MESOS_EINVAL, "line 1");
  creds_bad("ok pw\nlonely\n", MESOS_EINVAL, "line 2");
  creds_bad("{\"credentials\": [{\"secret\": \"hidden-pw\"}]}", MESOS_EINVAL, "principal");
  creds_bad("{\"credentials\": {\"principal\": \"a\"}}", MESOS_EINVAL, NULL);
  creds_bad("{\"credentials\": [{\"principal\": 5, \"secret\": \"x\"}]}", MESOS_EINVAL, NULL);
  creds_bad("{\"credentials\": [{\"principal\": \"\", \"secret\": \"x\"}]}", MESOS_EINVAL,
            "empty principal");
  creds_bad("{\"credentials\": [", MESOS_EINVAL, NULL);
  /* The message never carries the secret. */
  mesos_credentials *c = NULL;
  mesos_error *err = NULL;
  const char *t = "{\"credentials\": [{\"principal\": [\"p\"], \"secret\": \"TOPSECRET\"}]}";
  ck_assert_int_eq(mesos_credentials_parse(&c, t, strlen(t), &err), MESOS_EINVAL);
  ck_assert_ptr_null(strstr(mesos_error_message(err), "TOPSECRET"));
  mesos_error_free(err);
  err = NULL;
  /* Deep nesting and huge input. */
  char deep[2100];
  size_t o = 0;
  o += (size_t)snprintf(deep, sizeof deep, "{\"credentials\":");
  while (o < 2000) deep[o++] = '[';
  deep[o] = '\0';
  ck_assert(mesos_credentials_parse(&c, deep, o, &err) != MESOS_OK);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos_credentials_parse(&c, "x", (size_t)MESOS_CREDENTIALS_MAX_BYTES + 1,
                                           &err), MESOS_ELIMIT);
  mesos_error_free(err);
  /* A principal too long to be a name. */
  char *longp = malloc(3000);
  memset(longp, 'a', 2000);
  memcpy(longp + 2000, " pw\n", 5);
  creds_bad(longp, MESOS_EINVAL, "longer");
  free(longp);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_credentials__load_reads_plain_and_file_url_paths) {
  char dir[] = "/tmp/authn-test-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[128], url[160];
  snprintf(path, sizeof path, "%s/creds", dir);
  snprintf(url, sizeof url, "file://%s", path);
  FILE *f = fopen(path, "w");
  fputs("{\"credentials\": [{\"principal\": \"a\", \"secret\": \"b\"}]}", f);
  fclose(f);
  chmod(path, 0600);
  mesos_credentials *c = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_credentials_load(&c, path, &err), &err);
  ck_assert_int_eq(mesos_credentials_verify(c, "a", "b", 1), 1);
  mesos_credentials_free(c);
  ck_assert_mesos_ok(mesos_credentials_load(&c, url, &err), &err);
  mesos_credentials_free(c);
  ck_assert_int_eq(mesos_credentials_load(&c, dir, &err), MESOS_EINVAL); /* a directory */
  mesos_error_free(err);
  err = NULL;
  unlink(path);
  ck_assert_int_eq(mesos_credentials_load(&c, path, &err), MESOS_EIO);
  ck_assert_msg(strstr(mesos_error_message(err), "creds") != NULL, "%s",
                mesos_error_message(err));
  mesos_error_free(err);
  rmdir(dir);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

static mesos_status basic(const char *h, char **p, char **s) {
  mesos_error *err = NULL;
  mesos_status st = mesos_basic_auth_parse(h, p, s, &err);
  if (st != MESOS_OK) {
    ck_assert_ptr_nonnull(err);
    mesos_error_free(err);
  }
  return st;
}

START_TEST(test_basic__header_parsing_is_strict) {
  char *p = NULL, *s = NULL;
  /* "user:pass" */
  ck_assert_int_eq(basic("Basic dXNlcjpwYXNz", &p, &s), MESOS_OK);
  ck_assert_str_eq(p, "user");
  ck_assert_str_eq(s, "pass");
  mesos_free(p);
  mesos_free(s);
  /* "u:" (empty secret) and ":p" (empty principal) decode. */
  ck_assert_int_eq(basic("Basic dTo=", &p, &s), MESOS_OK);
  ck_assert_str_eq(s, "");
  mesos_free(p);
  mesos_free(s);
  static const char *const bad[] = {
    "",                        /* empty */
    "Basic",                   /* no credentials */
    "Basic ",                  /* empty credentials */
    "basic dXNlcjpwYXNz",      /* scheme is case-sensitive in Mesos */
    "Bearer dXNlcjpwYXNz",     /* other scheme */
    "Basic  dXNlcjpwYXNz",     /* two spaces: three parts */
    "Basic dXNlcjpwYXNz extra",
    "Basic dXNlcjpwYXN",       /* length not a multiple of 4 */
    "Basic dXNlcjpwYXNz=",
    "Basic dXNl cjpwYXNz",
    "Basic dXNlcjpw!XNz",      /* bad character */
    "Basic dXNlcjpwYX=z",      /* padding in the middle */
    "Basic dTp=",              /* non-zero unused bits ("u:" would be dTo=) */
    "Basic dXNlcg==",          /* "user": no colon */
    "Basic YTpiOmM=",          /* "a:b:c": more than two parts */
    "Basic dQB4OnA=",          /* "u\0x:p": NUL */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    p = s = NULL;
    ck_assert_msg(basic(bad[i], &p, &s) != MESOS_OK, "accepted '%s'", bad[i]);
    ck_assert_ptr_null(p);
  }
  /* Too long. */
  size_t n = MESOS_BASIC_AUTH_MAX_HEADER + 10;
  char *h = malloc(n + 1);
  memcpy(h, "Basic ", 6);
  memset(h + 6, 'A', n - 6);
  h[n] = '\0';
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos_basic_auth_parse(h, &p, &s, &err), MESOS_ELIMIT);
  mesos_error_free(err);
  free(h);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_basic__encode_round_trips) {
  const char *pairs[][2] = {{"ops", "s3cret"}, {"a", ""}, {"x", "y z"}, {"pr", "sé€"}};
  for (size_t i = 0; i < 4; i++) {
    char *h = NULL, *p = NULL, *s = NULL;
    mesos_error *err = NULL;
    ck_assert_mesos_ok(mesos_basic_auth_encode(pairs[i][0], pairs[i][1], &h, &err), &err);
    ck_assert_mesos_ok(mesos_basic_auth_parse(h, &p, &s, &err), &err);
    ck_assert_str_eq(p, pairs[i][0]);
    ck_assert_str_eq(s, pairs[i][1]);
    mesos_free(h);
    mesos_free(p);
    mesos_free(s);
  }
  char *h = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos_basic_auth_encode("a:b", "c", &h, &err), MESOS_EINVAL);
  mesos_error_free(err);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

/* ------------------------------------------------------------ authenticator */

typedef struct result {
  int calls;
  mesos_status st;
  char principal[64];
} result;

static void on_done(mesos_status st, const char *principal, const char *message, void *ud) {
  result *r = ud;
  (void)message;
  r->calls++;
  r->st = st;
  snprintf(r->principal, sizeof r->principal, "%s", principal ? principal : "");
}

static result authn(mesos_authenticator *a, const char *header) {
  mesos_authn_request req = MESOS_AUTHN_REQUEST_INIT;
  req.realm = "mesos-master-readwrite";
  req.method = "GET";
  req.path = "/state";
  req.authorization = header;
  result r = {0, 0, ""};
  ck_assert_int_eq(mesos_authenticator_authenticate(a, &req, on_done, &r), MESOS_OK);
  ck_assert_int_eq(r.calls, 1);
  return r;
}

START_TEST(test_basic_authenticator__verifies_and_reloads) {
  char dir[] = "/tmp/authn-test-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[128];
  snprintf(path, sizeof path, "%s/creds", dir);
  FILE *f = fopen(path, "w");
  fputs("ops pw1\n", f);
  fclose(f);
  chmod(path, 0600);
  mesos_authenticator *a = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_basic_authenticator_new(&a, path, &err), &err);
  ck_assert_str_eq(mesos_authenticator_scheme(a), "Basic");
  char *h = NULL;
  ck_assert_mesos_ok(mesos_basic_auth_encode("ops", "pw1", &h, &err), &err);
  result r = authn(a, h);
  ck_assert_int_eq(r.st, MESOS_OK);
  ck_assert_str_eq(r.principal, "ops");
  mesos_free(h);
  ck_assert_mesos_ok(mesos_basic_auth_encode("ops", "wrong", &h, &err), &err);
  ck_assert_int_eq(authn(a, h).st, MESOS_EPERM);
  mesos_free(h);
  ck_assert_int_eq(authn(a, NULL).st, MESOS_EPERM);
  ck_assert_int_eq(authn(a, "Basic !!!!").st, MESOS_EPERM);

  /* Reload: new secret works, then a malformed file keeps it. */
  f = fopen(path, "w");
  fputs("ops pw2\n", f);
  fclose(f);
  ck_assert_mesos_ok(mesos_authenticator_reload(a, &err), &err);
  ck_assert_mesos_ok(mesos_basic_auth_encode("ops", "pw2", &h, &err), &err);
  ck_assert_int_eq(authn(a, h).st, MESOS_OK);
  f = fopen(path, "w");
  fputs("ops pw3 extra\n", f);
  fclose(f);
  ck_assert_int_eq(mesos_authenticator_reload(a, &err), MESOS_EINVAL);
  ck_assert_msg(strstr(mesos_error_message(err), "line 1") != NULL, "%s",
                mesos_error_message(err));
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(authn(a, h).st, MESOS_OK);
  mesos_free(h);
  mesos_authenticator_free(a);
  unlink(path);
  rmdir(dir);

  /* No credentials: nobody authenticates. */
  ck_assert_mesos_ok(mesos_basic_authenticator_new(&a, NULL, &err), &err);
  ck_assert_int_eq(authn(a, "Basic dXNlcjpwYXNz").st, MESOS_EPERM);
  mesos_authenticator_free(a);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

static int fake_frees;
static void fake_auth(void *ud, const mesos_authn_request *req, mesos_authn_done_fn done,
                      void *done_ud) {
  (void)ud;
  if (req->authorization && strcmp(req->authorization, "Bearer good") == 0)
    done(MESOS_OK, "token-user", NULL, done_ud);
  else
    done(MESOS_EPERM, NULL, "bad token", done_ud);
}
static void fake_free(void *ud) {
  (void)ud;
  fake_frees++;
}

START_TEST(test_authenticator__vendor_table_is_checked_and_used) {
  mesos_authenticator_ops ops = {MESOS_AUTHENTICATOR_OPS_VERSION, "Bearer", fake_auth, NULL,
                                 fake_free};
  mesos_authenticator *a = NULL;
  mesos_error *err = NULL;
  mesos_authenticator_ops bad = ops;
  bad.version = 2;
  ck_assert_int_eq(mesos_authenticator_new(&a, &bad, NULL, &err), MESOS_EVERSION);
  mesos_error_free(err);
  err = NULL;
  bad = ops;
  bad.authenticate = NULL;
  ck_assert_int_eq(mesos_authenticator_new(&a, &bad, NULL, &err), MESOS_EINVAL);
  ck_assert_msg(strstr(mesos_error_message(err), "authenticate") != NULL, "%s",
                mesos_error_message(err));
  mesos_error_free(err);
  err = NULL;
  bad = ops;
  bad.scheme = "Bad Scheme";
  ck_assert_int_eq(mesos_authenticator_new(&a, &bad, NULL, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(fake_frees, 0);
  ck_assert_mesos_ok(mesos_authenticator_new(&a, &ops, NULL, &err), &err);
  result r = authn(a, "Bearer good");
  ck_assert_int_eq(r.st, MESOS_OK);
  ck_assert_str_eq(r.principal, "token-user");
  ck_assert_int_eq(authn(a, "Bearer bad").st, MESOS_EPERM);
  ck_assert_mesos_ok(mesos_authenticator_reload(a, &err), &err); /* NULL reload: no-op */
  mesos_authn_request req = MESOS_AUTHN_REQUEST_INIT;
  req.version = 9;
  ck_assert_int_eq(mesos_authenticator_authenticate(a, &req, on_done, &r), MESOS_EINVAL);
  mesos_authenticator_free(a);
  ck_assert_int_eq(fake_frees, 1);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

static mesos_status oom_creds_op(void *ud) {
  (void)ud;
  const char *text = "{\"credentials\": [{\"principal\": \"a\", \"secret\": \"b\"},"
                     " {\"principal\": \"c\", \"secret\": \"d\"}]}";
  mesos_credentials *c = NULL;
  mesos_error *err = NULL;
  mesos_status st = mesos_credentials_parse(&c, text, strlen(text), &err);
  if (st != MESOS_OK) {
    mesos_error_free(err);
    return st;
  }
  mesos_credentials_free(c);
  st = mesos_credentials_parse(&c, "x y\nz w\n", 8, &err);
  if (st != MESOS_OK) {
    mesos_error_free(err);
    return st;
  }
  mesos_credentials_free(c);
  char *h = NULL, *p = NULL, *s = NULL;
  st = mesos_basic_auth_encode("user", "pass", &h, &err);
  if (st == MESOS_OK) st = mesos_basic_auth_parse(h, &p, &s, &err);
  if (st != MESOS_OK) mesos_error_free(err);
  mesos_free(h);
  mesos_free(p);
  mesos_free(s);
  return st;
}

START_TEST(test_credentials__out_of_memory_anywhere_fails_cleanly) {
  ck_assert_uint_gt(mesos_test_oom_torture(oom_creds_op, NULL, 100000), 5);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("credentials");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_credentials__json_text_and_empty_forms);
  tcase_add_test(tc, test_credentials__malformed_files_are_refused_without_quoting_secrets);
  tcase_add_test(tc, test_credentials__load_reads_plain_and_file_url_paths);
  tcase_add_test(tc, test_basic__header_parsing_is_strict);
  tcase_add_test(tc, test_basic__encode_round_trips);
  tcase_add_test(tc, test_basic_authenticator__verifies_and_reloads);
  tcase_add_test(tc, test_authenticator__vendor_table_is_checked_and_used);
  tcase_add_test(tc, test_credentials__out_of_memory_anywhere_fails_cleanly);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
