/*
 * Fuzz target for the ACL parser and matcher (lib/authz/acls.c).
 *
 * Input: ACL JSON text.  Checked: no crash or sanitizer report; a document
 * that loads answers a fixed set of requests for every action without
 * crashing, and answers them the same way twice (decisions are pure); a
 * document that fails gives an error with a message; every allocation is
 * released.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "authz/acls.h"
#include "base/alloc.h"
#include "mesos/authz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const subjects[] = {NULL, "p", "ops", "a", ""};
  static const char *const objects[] = {NULL, "x", "eng/a", "root", "/metrics/snapshot", ""};
  mesos__acls *a = NULL;
  mesos_error *err = NULL;
  mesos_status st = mesos__acls_parse(&a, (const char *)data, size, &err);
  if (st == MESOS_OK) {
    for (int32_t act = 0; act <= 55; act++)
      for (size_t s = 0; s < sizeof subjects / sizeof *subjects; s++)
        for (size_t o = 0; o < sizeof objects / sizeof *objects; o++) {
          int d1 = mesos__acls_check(a, act, subjects[s], objects[o]);
          int d2 = mesos__acls_check(a, act, subjects[s], objects[o]);
          if (d1 != d2 || (d1 != 0 && d1 != 1)) {
            fprintf(stderr, "fuzz_acls: unstable decision %d/%d\n", d1, d2);
            abort();
          }
        }
    mesos__acls_unref(a);
  } else {
    if (!err || !mesos_error_message(err)[0]) {
      fprintf(stderr, "fuzz_acls: failure without a message\n");
      abort();
    }
    mesos_error_free(err);
  }
  if (mesos__alloc_live() != 0) {
    fprintf(stderr, "fuzz_acls: %lld allocations leaked\n", (long long)mesos__alloc_live());
    abort();
  }
  return 0;
}
