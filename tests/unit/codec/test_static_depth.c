/* mesos__codec_static_depth computes a type's depth lazily, on first
 * use, for the type asked for and what it reaches (registry.c says why).
 * Its answers must not depend on the order in which types are asked for,
 * nor on threads asking at once: each is checked against a reference
 * computed here independently (a fixpoint over the whole type graph). */
#include <pthread.h>
#include <string.h>

#include "base/alloc.h"
#include "codec/pb.h"
#include "codec/registry.h"
#include "support/testutil.h"

#define INF (MESOS__PB_MAX_DEPTH + 1)

static const ProtobufCMessageDescriptor *const *all;
static size_t nall;
static unsigned *want; /* reference depth of all[i] */

static long index_of(const ProtobufCMessageDescriptor *d) {
  for (size_t i = 0; i < nall; i++)
    if (all[i] == d) return (long)i;
  return -1;
}

/* Round k holds the depth counting at most k levels; a type that is
 * still growing after INF + 1 rounds is deeper than INF or on a cycle. */
static void reference(void) {
  all = mesos__codec_messages(&nall);
  ck_assert_uint_gt(nall, 100);
  want = mesos__calloc(nall, sizeof *want);
  unsigned *next = mesos__calloc(nall, sizeof *next);
  ck_assert_ptr_nonnull(want);
  ck_assert_ptr_nonnull(next);
  for (size_t i = 0; i < nall; i++) want[i] = 1;
  for (unsigned round = 0; round <= INF + 1; round++) {
    for (size_t i = 0; i < nall; i++) {
      unsigned best = 1;
      for (unsigned f = 0; f < all[i]->n_fields; f++) {
        if (all[i]->fields[f].type != PROTOBUF_C_TYPE_MESSAGE) continue;
        long j = index_of(all[i]->fields[f].descriptor);
        unsigned sub = j < 0 ? INF : want[j];
        if (sub + 1 > best) best = sub + 1;
      }
      next[i] = best > INF + 1 ? INF + 1 : best;
    }
    memcpy(want, next, nall * sizeof *want);
  }
  for (size_t i = 0; i < nall; i++)
    if (want[i] > INF) want[i] = INF;
  mesos__free(next);
}

static void check(size_t i) {
  unsigned got = mesos__codec_static_depth(all[i]);
  ck_assert_msg(got == want[i], "%s: %u, expected %u", all[i]->name, got, want[i]);
}

/* Each test runs in a process of its own (Check's fork mode), so each
 * starts with nothing computed. */
START_TEST(test_static_depth__same_in_forward_order) {
  reference();
  for (size_t i = 0; i < nall; i++) check(i);
  mesos__free(want);
}
END_TEST

START_TEST(test_static_depth__same_in_reverse_order) {
  reference();
  for (size_t i = nall; i-- > 0;) check(i);
  mesos__free(want);
}
END_TEST

/* Starting from a recursive type first (its walk marks types in progress
 * and meets them again), then everything. */
START_TEST(test_static_depth__same_after_a_recursive_type_first) {
  reference();
  long c = index_of(mesos__codec_find_message("mesos.v1.ContainerID"));
  ck_assert_int_ge(c, 0);
  check((size_t)c);
  long e = index_of(mesos__codec_find_message("mesos.v1.executor.Event"));
  ck_assert_int_ge(e, 0);
  check((size_t)e);
  for (size_t i = 0; i < nall; i++) check((i * 7919) % nall);
  mesos__free(want);
}
END_TEST

static void *ask_all(void *arg) {
  size_t start = (size_t)(uintptr_t)arg;
  int bad = 0;
  for (size_t k = 0; k < nall; k++) {
    size_t i = (start + k * 31) % nall;
    if (mesos__codec_static_depth(all[i]) != want[i]) bad++;
  }
  return (void *)(uintptr_t)bad;
}

START_TEST(test_static_depth__same_when_threads_ask_at_once) {
  reference();
  pthread_t th[4];
  for (uintptr_t k = 0; k < 4; k++)
    ck_assert_int_eq(pthread_create(&th[k], NULL, ask_all, (void *)(k * (nall / 4))), 0);
  for (int k = 0; k < 4; k++) {
    void *bad = NULL;
    ck_assert_int_eq(pthread_join(th[k], &bad), 0);
    ck_assert_uint_eq((uintptr_t)bad, 0);
  }
  mesos__free(want);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("static_depth");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_static_depth__same_in_forward_order);
  tcase_add_test(tc, test_static_depth__same_in_reverse_order);
  tcase_add_test(tc, test_static_depth__same_after_a_recursive_type_first);
  tcase_add_test(tc, test_static_depth__same_when_threads_ask_at_once);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
