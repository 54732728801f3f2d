/* The arena that decoded JSON messages live in (lib/codec/arena.c): bump
 * allocation across blocks, in-place and copying growth, failure at every
 * allocation, and the ownership mark that lets mesos__pb_free tell arena
 * messages from protobuf-c's.  (Built with ASan the arena is a
 * pass-through; these tests hold in both modes.) */
#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "codec/arena.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "support/testutil.h"
#include "tests/codec/codec_test.pb-c.h"

#define D(name) (&mesos__test__codec__##name##__descriptor)

START_TEST(test_arena__allocations_across_many_blocks_keep_their_contents) {
  int64_t live = mesos__alloc_live();
  mesos__pb_arena *a = mesos__pb_arena_new(0);
  ck_assert_ptr_nonnull(a);
  enum { N = 5000 };
  static unsigned char *ptrs[N];
  for (size_t i = 0; i < N; i++) {
    size_t n = 1 + i % 97;
    /* Mix unaligned byte runs with aligned ones. */
    ptrs[i] = i % 3 ? mesos__pb_arena_alloc(a, n) : mesos__pb_arena_alloc_bytes(a, n);
    ck_assert_ptr_nonnull(ptrs[i]);
    if (i % 3) ck_assert_uint_eq((uintptr_t)ptrs[i] % 8, 0);
    memset(ptrs[i], (int)(i & 0xff), n);
  }
  /* A request far larger than any block so far. */
  unsigned char *big = mesos__pb_arena_alloc(a, (size_t)8 << 20);
  ck_assert_ptr_nonnull(big);
  memset(big, 0x5a, (size_t)8 << 20);
  unsigned char *after = mesos__pb_arena_alloc(a, 16);
  ck_assert_ptr_nonnull(after);
  for (size_t i = 0; i < N; i++)
    for (size_t k = 0; k < 1 + i % 97; k++) ck_assert_uint_eq(ptrs[i][k], i & 0xff);
  ck_assert_uint_eq(big[((size_t)8 << 20) - 1], 0x5a);
  mesos__pb_arena_free(a);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_arena__growth_keeps_the_contents_in_place_or_copied) {
  int64_t live = mesos__alloc_live();
  mesos__pb_arena *a = mesos__pb_arena_new(4096);
  ck_assert_ptr_nonnull(a);
  /* Growing the latest allocation, then growing after another one came in
   * between (which must copy), from 1 to 64 KiB of 64-bit values. */
  void *arr = NULL;
  size_t n = 0;
  for (size_t cap = 4; cap <= 8192; cap *= 2) {
    ck_assert(mesos__pb_arena_grow(a, &arr, n * sizeof(uint64_t), cap * sizeof(uint64_t)));
    ck_assert_uint_eq((uintptr_t)arr % 8, 0);
    for (; n < cap; n++) ((uint64_t *)arr)[n] = n * 3;
    if (cap % 16 == 0) ck_assert_ptr_nonnull(mesos__pb_arena_alloc(a, 24));
    for (size_t i = 0; i < n; i++) ck_assert_uint_eq(((uint64_t *)arr)[i], i * 3);
  }
  mesos__pb_arena_free(a);
  mesos__pb_arena_free(NULL);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_arena__every_failed_allocation_leaves_a_freeable_arena) {
  int64_t live = mesos__alloc_live();
  for (uint64_t fail = 1;; fail++) {
    mesos__alloc_fail_after(fail);
    mesos__pb_arena *a = mesos__pb_arena_new(1024);
    bool failed = a == NULL;
    void *arr = NULL;
    size_t have = 0;
    for (size_t i = 0; a != NULL && i < 60 && !failed; i++) {
      failed = mesos__pb_arena_alloc(a, 100) == NULL ||
               mesos__pb_arena_alloc_bytes(a, 33) == NULL;
      if (!failed) {
        if (!mesos__pb_arena_grow(a, &arr, have, have + 64)) {
          failed = true;
        } else {
          memset((char *)arr + have, 7, 64);
          have += 64;
        }
      }
    }
    /* What was written before the failure is still there. */
    for (size_t i = 0; i < have; i++) ck_assert_uint_eq(((unsigned char *)arr)[i], 7);
    uint64_t made = mesos__alloc_fail_after(0);
    mesos__pb_arena_free(a);
    ck_assert_int_eq(mesos__alloc_live(), live);
    if (!failed) {
      ck_assert_uint_lt(made, fail);
      break;
    }
  }
}
END_TEST

START_TEST(test_arena__decoded_json_is_arena_owned_and_freed_whole) {
  int64_t live = mesos__alloc_live();
  const char *json =
      "{\"repeats\":{\"r_string\":[\"a\",\"bb\",\"ccc\",\"dddd\",\"eeeee\"],"
      "\"r_inner\":[{\"value\":\"x\"},{\"value\":\"y\"},{\"value\":\"z\"},{\"value\":\"w\"},"
      "{\"value\":\"v\"}],\"r_bytes\":[\"AQI=\",\"\"]},"
      "\"scalars\":{\"f_string\":\"first\",\"f_string\":\"second\",\"f_inner\":{\"value\":\"1\"},"
      "\"f_inner\":{\"value\":\"2\"}},"
      "\"choice\":{\"text\":\"t\",\"inner\":{\"value\":\"c\"}}}";
  ProtobufCMessage *m = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__json_decode(D(everything), json, strlen(json), NULL, &m, &err), &err);
  ck_assert_ptr_nonnull(mesos__pb_arena_of(m));
  const Mesos__Test__Codec__Everything *e = (const Mesos__Test__Codec__Everything *)m;
  /* Pieces carry no mark: only the whole is freed. */
  ck_assert_ptr_null(mesos__pb_arena_of(&e->repeats->base));
  ck_assert_uint_eq(e->repeats->n_r_string, 5);
  ck_assert_str_eq(e->repeats->r_string[4], "eeeee");
  ck_assert_uint_eq(e->repeats->n_r_inner, 5);
  ck_assert_str_eq(e->repeats->r_inner[4]->value, "v");
  ck_assert_uint_eq(e->repeats->r_bytes[0].len, 2);
  /* A repeated key and a second oneof member replace the earlier value. */
  ck_assert_str_eq(e->scalars->f_string, "second");
  ck_assert_str_eq(e->scalars->f_inner->value, "2");
  ck_assert_int_eq(e->choice->pick_case, MESOS__TEST__CODEC__CHOICE__PICK_INNER);
  ck_assert_str_eq(e->choice->inner->value, "c");
  /* The mark does not leak into the binary encoding. */
  uint8_t *pb = NULL;
  size_t pb_len = 0;
  ck_assert_mesos_ok(mesos__pb_pack(m, 0, &pb, &pb_len, &err), &err);
  ProtobufCMessage *u = NULL;
  ck_assert_mesos_ok(mesos__pb_unpack(D(everything), pb, pb_len, 0, 0, &u, &err), &err);
  ck_assert_ptr_null(mesos__pb_arena_of(u));
  ck_assert_uint_eq(u->n_unknown_fields, 0);
  ck_assert_uint_eq(protobuf_c_message_get_packed_size(u), pb_len);
  mesos__free(pb);
  mesos__pb_free(u);
  mesos__pb_free(m);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_arena__array_growth_counts_toward_the_memory_limit) {
  /* 1,000 int32s: the final array is 4 KiB, but every doubling is charged
   * in full (a copy may stay behind in the arena), 8 KiB in all; a limit
   * between the two refuses the message. */
  mesos__buf b = MESOS__BUF_INIT(1 << 20);
  mesos__buf_puts(&b, "{\"r_int32\":[");
  for (int i = 0; i < 1000; i++) mesos__buf_printf(&b, "%s%d", i ? "," : "", i);
  mesos__buf_puts(&b, "]}");
  ProtobufCMessage *m = NULL;
  mesos_error *err = NULL;
  mesos__json_limits lim = {0, 0, 6000};
  ck_assert_int_eq(mesos__json_decode(D(repeats), b.data, b.len, &lim, &m, &err), MESOS_ELIMIT);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "memory limit of 6000 bytes"));
  mesos_error_free(err);
  err = NULL;
  lim.max_alloc = 9000;
  ck_assert_mesos_ok(mesos__json_decode(D(repeats), b.data, b.len, &lim, &m, &err), &err);
  ck_assert_uint_eq(((Mesos__Test__Codec__Repeats *)m)->n_r_int32, 1000);
  ck_assert_int_eq(((Mesos__Test__Codec__Repeats *)m)->r_int32[999], 999);
  mesos__pb_free(m);
  mesos__buf_free(&b);
}
END_TEST

static Suite *arena_suite(void) {
  Suite *s = suite_create("codec_arena");
  TCase *tc = tcase_create("arena");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_arena__allocations_across_many_blocks_keep_their_contents);
  tcase_add_test(tc, test_arena__growth_keeps_the_contents_in_place_or_copied);
  tcase_add_test(tc, test_arena__every_failed_allocation_leaves_a_freeable_arena);
  tcase_add_test(tc, test_arena__decoded_json_is_arena_owned_and_freed_whole);
  tcase_add_test(tc, test_arena__array_growth_counts_toward_the_memory_limit);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(arena_suite()); }
