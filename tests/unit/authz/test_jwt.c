/* Executor authentication tokens (lib/authz/jwt.c): HS256 JWTs as Mesos's
 * agent signs them (claims fid, eid, cid), and a strict verifier. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz/jwt.h"
#include "base/alloc.h"
#include "support/oom.h"
#include "support/testutil.h"

static const uint8_t KEY[] = "the agent's secret key\n";
#define KEYLEN (sizeof KEY - 1)
#define NOW 1700000000

static char *sign(const char *fid, const char *eid, const char *cid) {
  char *t = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__jwt_sign(KEY, KEYLEN, fid, eid, cid, &t, &err), &err);
  return t;
}

static mesos_status verify(const char *tok, mesos__jwt_claims *c, char *msg, size_t cap) {
  mesos_error *err = NULL;
  mesos_status st = mesos__jwt_verify(KEY, KEYLEN, tok, strlen(tok), NOW, c, &err);
  if (st != MESOS_OK) {
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_null(c->fid);
    ck_assert_ptr_null(c->eid);
    ck_assert_ptr_null(c->cid);
    if (msg) snprintf(msg, cap, "%s", mesos_error_message(err));
  } else {
    ck_assert_ptr_null(err);
  }
  mesos_error_free(err);
  return st;
}

/* base64url without padding, for hand-made headers and payloads. */
static void b64url(const char *in, char *out) {
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t n = strlen(in), o = 0, i = 0;
  const unsigned char *p = (const unsigned char *)in;
  for (; i + 3 <= n; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
    out[o++] = A[v >> 18 & 63], out[o++] = A[v >> 12 & 63];
    out[o++] = A[v >> 6 & 63], out[o++] = A[v & 63];
  }
  if (n - i == 1) {
    unsigned v = (unsigned)p[i] << 16;
    out[o++] = A[v >> 18 & 63], out[o++] = A[v >> 12 & 63];
  } else if (n - i == 2) {
    unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
    out[o++] = A[v >> 18 & 63], out[o++] = A[v >> 12 & 63], out[o++] = A[v >> 6 & 63];
  }
  out[o] = '\0';
}

/* A validly signed token with this header and payload JSON. */
static char *forge(const char *header, const char *payload) {
  char in[4096], h[1400], p[2600];
  b64url(header, h);
  b64url(payload, p);
  snprintf(in, sizeof in, "%s.%s", h, p);
  char *t = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__jwt_sign_raw(KEY, KEYLEN, in, strlen(in), &t, &err), &err);
  return t;
}

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

START_TEST(test_jwt__signed_token_verifies_to_its_claims) {
  char *t = sign("fw-1", "exec-1", "c0ffee");
  /* Three base64url parts, no padding. */
  ck_assert_ptr_null(strchr(t, '='));
  ck_assert_ptr_nonnull(strchr(strchr(t, '.') + 1, '.'));
  mesos__jwt_claims c;
  ck_assert_int_eq(verify(t, &c, NULL, 0), MESOS_OK);
  ck_assert_str_eq(c.fid, "fw-1");
  ck_assert_str_eq(c.eid, "exec-1");
  ck_assert_str_eq(c.cid, "c0ffee");
  mesos__jwt_claims_free(&c);
  mesos__free(t);
  /* Ids with JSON-special and non-ASCII characters survive the trip. */
  t = sign("f\"w\\1", "e\x01x\te\n", "c\xc3\xa9-\xe2\x82\xac");
  ck_assert_int_eq(verify(t, &c, NULL, 0), MESOS_OK);
  ck_assert_str_eq(c.fid, "f\"w\\1");
  ck_assert_str_eq(c.eid, "e\x01x\te\n");
  ck_assert_str_eq(c.cid, "c\xc3\xa9-\xe2\x82\xac");
  mesos__jwt_claims_free(&c);
  mesos__free(t);
  /* Escapes a JSON writer may use instead (\u, surrogate pairs, \/). */
  t = forge(HS256, "{\"fid\":\"a\\/b\\u00e9\",\"eid\":\"\\ud83d\\ude00\",\"cid\":\"x\",\"o\":[1,{\"k\":null}]}");
  ck_assert_int_eq(verify(t, &c, NULL, 0), MESOS_OK);
  ck_assert_str_eq(c.fid, "a/b\xc3\xa9");
  ck_assert_str_eq(c.eid, "\xf0\x9f\x98\x80");
  mesos__jwt_claims_free(&c);
  mesos__free(t);
  /* Bad arguments to sign. */
  char *out = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__jwt_sign(KEY, 0, "f", "e", "c", &out, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos__jwt_sign(KEY, KEYLEN, "f", "", "c", &out, &err), MESOS_EINVAL);
  mesos_error_free(err);
  ck_assert_ptr_null(out);
}
END_TEST

START_TEST(test_jwt__any_change_or_another_key_is_refused) {
  char *t = sign("fw-1", "exec-1", "c0ffee");
  size_t n = strlen(t);
  mesos__jwt_claims c;
  /* Every single-character change anywhere: never accepted. */
  for (size_t i = 0; i < n; i++) {
    char *m = mesos__strdup(t);
    m[i] = m[i] == 'A' ? 'B' : 'A';
    if (strcmp(m, t) != 0) ck_assert_int_ne(verify(m, &c, NULL, 0), MESOS_OK);
    mesos__free(m);
  }
  /* Signed with another key (a rotated one): the signature fails. */
  static const uint8_t OTHER[] = "the agent's secret key";
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__jwt_verify(OTHER, sizeof OTHER - 1, t, n, NOW, &c, &err), MESOS_EPERM);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "signature"));
  mesos_error_free(err);
  /* Claims of another executor under the first one's signature. */
  char *o = sign("fw-1", "exec-2", "c0ffee");
  char *dot1 = strchr(t, '.'), *dot2 = strchr(dot1 + 1, '.');
  char *odot1 = strchr(o, '.'), *odot2 = strchr(odot1 + 1, '.');
  char spliced[1024];
  snprintf(spliced, sizeof spliced, "%.*s%.*s%s", (int)(dot1 - t), t, (int)(odot2 - odot1), odot1,
           dot2);
  ck_assert_int_eq(verify(spliced, &c, NULL, 0), MESOS_EPERM);
  mesos__free(o);
  mesos__free(t);
}
END_TEST

START_TEST(test_jwt__header_must_be_hs256_without_extensions) {
  const char *p = "{\"fid\":\"f\",\"eid\":\"e\",\"cid\":\"c\"}";
  struct {
    const char *header;
    const char *why;
  } bad[] = {
      {"{\"alg\":\"none\",\"typ\":\"JWT\"}", "HS256"},
      {"{\"alg\":\"HS512\"}", "HS256"},
      {"{\"alg\":\"hs256\"}", "HS256"},
      {"{\"typ\":\"JWT\"}", "no 'alg'"},
      {"{\"alg\":\"HS256\",\"typ\":\"JOSE+JSON\"}", "JWT"},
      {"{\"alg\":\"HS256\",\"alg\":\"HS256\"}", "twice"},
      {"{\"alg\":\"HS256\",\"crit\":[\"b64\"]}", "crit"},
      {"{\"alg\":1}", "string"},
      {"[\"alg\",\"HS256\"]", "object"},
      {"{\"alg\":\"HS256\"} x", "after"},
      {"{\"alg\":\"HS256\",}", "malformed"},
  };
  mesos__jwt_claims c;
  char msg[256];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char *t = forge(bad[i].header, p);
    ck_assert_int_eq(verify(t, &c, msg, sizeof msg), MESOS_EINVAL);
    ck_assert_msg(strstr(msg, bad[i].why) != NULL, "%s: '%s' lacks '%s'", bad[i].header, msg,
                  bad[i].why);
    mesos__free(t);
  }
  /* typ is optional and compared without case; other members ignored. */
  char *t = forge("{\"kid\":{\"x\":[1,2.5e3,-0]},\"alg\":\"HS256\",\"typ\":\"jwt\"}", p);
  ck_assert_int_eq(verify(t, &c, NULL, 0), MESOS_OK);
  mesos__jwt_claims_free(&c);
  mesos__free(t);
}
END_TEST

START_TEST(test_jwt__payload_claims_expiry_and_duplicates) {
  mesos__jwt_claims c;
  char msg[256], pl[256];
  /* exp in the past: expired; in the future: fine.  nbf in the future. */
  snprintf(pl, sizeof pl, "{\"fid\":\"f\",\"exp\":%d}", NOW - 1);
  char *t = forge(HS256, pl);
  ck_assert_int_eq(verify(t, &c, msg, sizeof msg), MESOS_EPERM);
  ck_assert_ptr_nonnull(strstr(msg, "expired"));
  mesos__free(t);
  snprintf(pl, sizeof pl, "{\"fid\":\"f\",\"exp\":%d.5}", NOW + 60);
  t = forge(HS256, pl);
  ck_assert_int_eq(verify(t, &c, NULL, 0), MESOS_OK);
  ck_assert_str_eq(c.fid, "f");
  ck_assert_ptr_null(c.eid); /* absent claims stay NULL */
  mesos__jwt_claims_free(&c);
  mesos__free(t);
  snprintf(pl, sizeof pl, "{\"nbf\":%d}", NOW + 60);
  t = forge(HS256, pl);
  ck_assert_int_eq(verify(t, &c, msg, sizeof msg), MESOS_EPERM);
  ck_assert_ptr_nonnull(strstr(msg, "not valid yet"));
  mesos__free(t);
  /* A non-string id claim is no id; a claim twice, a non-number exp, a
   * NUL inside a string, bad JSON: malformed. */
  t = forge(HS256, "{\"fid\":7,\"eid\":[\"e\"],\"cid\":\"c\"}");
  ck_assert_int_eq(verify(t, &c, NULL, 0), MESOS_OK);
  ck_assert_ptr_null(c.fid);
  ck_assert_ptr_null(c.eid);
  ck_assert_str_eq(c.cid, "c");
  mesos__jwt_claims_free(&c);
  mesos__free(t);
  const char *bad[] = {
      "{\"fid\":\"a\",\"fid\":\"b\"}", "{\"exp\":\"soon\"}", "{\"exp\":1,\"exp\":2}",
      "{\"fid\":\"a\\u0000b\"}",       "{\"fid\":\"a\\ud800\"}", "{\"fid\":\"a\\x\"}",
      "{\"fid\":\"unterminated}",      "{\"a\":01}",          "{\"a\":1.}",
      "{\"a\":tru}",                   "{\"a\":[1,]}",        "{\"a\":{\"b\"}}",
      "{\"a\":\"\x01\"}",              "",                    "{",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    t = forge(HS256, bad[i]);
    ck_assert_msg(verify(t, &c, NULL, 0) == MESOS_EINVAL, "'%s' accepted", bad[i]);
    mesos__free(t);
  }
  /* Nesting is bounded (no recursion): 16 levels are skipped, 17 refused. */
  char deep[128];
  snprintf(deep, sizeof deep, "{\"x\":%.*s%.*s}", 16, "[[[[[[[[[[[[[[[[[[[[", 16,
           "]]]]]]]]]]]]]]]]]]]]");
  t = forge(HS256, deep);
  ck_assert_int_eq(verify(t, &c, NULL, 0), MESOS_OK);
  mesos__free(t);
  snprintf(deep, sizeof deep, "{\"x\":%.*s%.*s}", 17, "[[[[[[[[[[[[[[[[[[[[", 17,
           "]]]]]]]]]]]]]]]]]]]]");
  t = forge(HS256, deep);
  ck_assert_int_eq(verify(t, &c, NULL, 0), MESOS_EINVAL);
  mesos__free(t);
}
END_TEST

START_TEST(test_jwt__malformed_tokens_are_refused_with_a_reason) {
  char *good = sign("f", "e", "c");
  char tok[1024];
  mesos__jwt_claims c;
  char msg[256];
  const char *d1 = strchr(good, '.'), *d2 = strchr(d1 + 1, '.');
  struct {
    const char *fmt_what;
    mesos_status st;
  } cases[] = {{"two parts", MESOS_EINVAL},   {"four parts", MESOS_EINVAL},
               {"empty part", MESOS_EINVAL},  {"padding", MESOS_EINVAL},
               {"bad char", MESOS_EINVAL},    {"short mac", MESOS_EINVAL}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    switch (i) {
      case 0: snprintf(tok, sizeof tok, "%.*s", (int)(d2 - good), good); break;
      case 1: snprintf(tok, sizeof tok, "%s.AAAA", good); break;
      case 2: snprintf(tok, sizeof tok, "%.*s.%s", (int)(d1 - good), good, d2); break;
      case 3: snprintf(tok, sizeof tok, "%s=", good); break;
      case 4: snprintf(tok, sizeof tok, "%.*s+%s", (int)(d1 - good), good, d1 + 1); break;
      default: snprintf(tok, sizeof tok, "%.*s.AAAA", (int)(d2 - good), good); break;
    }
    ck_assert_msg(verify(tok, &c, msg, sizeof msg) == cases[i].st, "%s: %s", cases[i].fmt_what,
                  msg);
    ck_assert_ptr_null(strstr(msg, "AAAA")); /* the token is never quoted */
  }
  /* Longer than the limit: ELIMIT before anything is decoded. */
  size_t big = MESOS__JWT_MAX_TOKEN + 1;
  char *huge = mesos__malloc(big + 1);
  memset(huge, 'A', big);
  huge[big] = '\0';
  ck_assert_int_eq(verify(huge, &c, NULL, 0), MESOS_ELIMIT);
  mesos__free(huge);
  mesos__free(good);
}
END_TEST

static mesos_status sign_and_verify(void *ud) {
  (void)ud;
  char *t = NULL;
  mesos_status st = mesos__jwt_sign(KEY, KEYLEN, "framework", "executor", "container", &t, NULL);
  if (st != MESOS_OK) return st;
  mesos__jwt_claims c;
  st = mesos__jwt_verify(KEY, KEYLEN, t, strlen(t), NOW, &c, NULL);
  mesos__jwt_claims_free(&c);
  mesos__free(t);
  return st;
}

START_TEST(test_jwt__out_of_memory_anywhere_fails_cleanly) {
  ck_assert_uint_gt(mesos_test_oom_torture(sign_and_verify, NULL, 200), 4);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("jwt");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_jwt__signed_token_verifies_to_its_claims);
  tcase_add_test(tc, test_jwt__any_change_or_another_key_is_refused);
  tcase_add_test(tc, test_jwt__header_must_be_hs256_without_extensions);
  tcase_add_test(tc, test_jwt__payload_claims_expiry_and_duplicates);
  tcase_add_test(tc, test_jwt__malformed_tokens_are_refused_with_a_reason);
  tcase_add_test(tc, test_jwt__out_of_memory_anywhere_fails_cleanly);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
