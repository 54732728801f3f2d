/* Protobuf decoded into an arena (mesos__pb_unpack_arena) and compact deep
 * copies (mesos__pb_clone_compact): byte-exact round trips of a message
 * that has every label, type, default, oneof and map; independence of the
 * copy from its source; the unknown-field fallback; bad input and the
 * depth limit; a failure at every allocation leaks nothing.  (Built with
 * ASan the arena is a pass-through; these hold in both modes.) */
#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "codec/arena.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "support/testutil.h"
#include "tests/codec/codec_test.pb-c.h"

#define D(name) (&mesos__test__codec__##name##__descriptor)

static const char *EVERYTHING =
    "{\"scalars\":{\"f_double\":1.5,\"f_float\":2.5,\"f_int32\":-3,\"f_int64\":\"-4\","
    "\"f_uint32\":5,\"f_uint64\":\"6\",\"f_sint32\":-7,\"f_sint64\":\"-8\",\"f_fixed32\":9,"
    "\"f_fixed64\":\"10\",\"f_sfixed32\":-11,\"f_sfixed64\":\"-12\",\"f_bool\":true,"
    "\"f_string\":\"hello\",\"f_bytes\":\"AAECAwQ=\",\"f_enum\":\"BLUE\","
    "\"f_inner\":{\"value\":\"in\",\"n\":1}},"
    "\"repeats\":{\"r_double\":[1,2],\"r_int32\":[3,4,5],\"r_string\":[\"a\",\"\",\"ccc\"],"
    "\"r_bytes\":[\"AQ==\",\"\"],\"r_enum\":[\"RED\",\"GREEN\"],"
    "\"r_inner\":[{\"value\":\"x\"},{\"value\":\"y\",\"n\":2}],\"r_packed\":[7,8,9]},"
    "\"required\":{\"id\":1,\"name\":\"req\",\"color\":\"RED\",\"inner\":{\"value\":\"r\"},"
    "\"inners\":[{\"value\":\"r2\"}]},"
    "\"defaults\":{\"timeout\":6.0},"
    "\"tree\":{\"name\":\"root\",\"children\":[{\"name\":\"c1\",\"children\":[{\"name\":\"g\"}]},"
    "{\"name\":\"c2\",\"parent\":{\"name\":\"p\"}}]},"
    "\"choice\":{\"text\":\"picked\",\"after\":4},"
    "\"maps\":{\"limits\":{\"cpus\":2.5},\"inners\":{\"k\":{\"value\":\"v\"}},"
    "\"names\":{\"1\":\"one\"},\"flags\":{\"true\":\"3\"}}}";

/* The binary encoding of EVERYTHING (free with mesos__free). */
static uint8_t *everything_bytes(size_t *len) {
  ProtobufCMessage *m = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(
      mesos__json_decode(D(everything), EVERYTHING, strlen(EVERYTHING), NULL, &m, &err), &err);
  uint8_t *b = NULL;
  ck_assert_mesos_ok(mesos__pb_pack(m, 0, &b, len, &err), &err);
  mesos__pb_free(m);
  return b;
}

static void assert_packs_to(const ProtobufCMessage *m, const uint8_t *want, size_t want_len) {
  uint8_t *b = NULL;
  size_t len = 0;
  ck_assert_mesos_ok(mesos__pb_pack(m, 0, &b, &len, NULL), NULL);
  ck_assert_uint_eq(len, want_len);
  ck_assert_int_eq(memcmp(b, want, len), 0);
  mesos__free(b);
}

START_TEST(test_pb_compact__arena_decode_and_copy_round_trip_every_field_kind) {
  int64_t live = mesos__alloc_live();
  size_t len = 0;
  uint8_t *bytes = everything_bytes(&len);
  ProtobufCMessage *m = NULL, *c = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__pb_unpack_arena(D(everything), bytes, len, 0, 0, &m, &err), &err);
  ck_assert_ptr_nonnull(mesos__pb_arena_of(m));
  assert_packs_to(m, bytes, len);
  const Mesos__Test__Codec__Everything *e = (const Mesos__Test__Codec__Everything *)m;
  ck_assert_str_eq(e->defaults->role, "*"); /* the default, never copied */
  ck_assert_str_eq(e->choice->text, "picked");

  ck_assert_mesos_ok(mesos__pb_clone_compact(m, &c, &err), &err);
  ck_assert_ptr_nonnull(mesos__pb_arena_of(c));
  /* The copy owns everything: the source goes first. */
  mesos__pb_free(m);
  assert_packs_to(c, bytes, len);
  const Mesos__Test__Codec__Everything *ce = (const Mesos__Test__Codec__Everything *)c;
  ck_assert_str_eq(ce->tree->children[1]->parent->name, "p");
  ck_assert_uint_eq(ce->scalars->f_bytes.len, 5);
  ck_assert_int_eq(ce->scalars->f_bytes.data[4], 4);
  ck_assert_str_eq(ce->repeats->r_string[2], "ccc");
  /* A copy of a copy of a protobuf-c (malloc'ed) message is the same. */
  ProtobufCMessage *plain = NULL, *c2 = NULL;
  ck_assert_mesos_ok(mesos__pb_unpack(D(everything), bytes, len, 0, 0, &plain, &err), &err);
  ck_assert_ptr_null(mesos__pb_arena_of(plain));
  ck_assert_mesos_ok(mesos__pb_clone_compact(plain, &c2, &err), &err);
  mesos__pb_free(plain);
  assert_packs_to(c2, bytes, len);
  mesos__pb_free(c2);
  mesos__pb_free(c);
  mesos__free(bytes);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_pb_compact__unknown_top_level_fields_take_the_usual_path) {
  int64_t live = mesos__alloc_live();
  /* Inner{value:"v"} followed by field 4 (varint 7), unknown to Inner. */
  static const uint8_t bytes[] = {0x0a, 0x01, 'v', 0x20, 0x07};
  ProtobufCMessage *m = NULL, *c = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__pb_unpack_arena(D(inner), bytes, sizeof bytes, 0, 0, &m, &err), &err);
  ck_assert_uint_eq(m->n_unknown_fields, 1);
  ck_assert_ptr_null(mesos__pb_arena_of(m));
  ck_assert_mesos_ok(mesos__pb_clone_compact(m, &c, &err), &err);
  ck_assert_uint_eq(c->n_unknown_fields, 1);
  mesos__pb_free(m);
  assert_packs_to(c, bytes, sizeof bytes);
  mesos__pb_free(c);
  /* Unknown fields below the top level (in Scalars.f_inner, field 17)
   * are copied into the arena. */
  static const uint8_t sc[] = {0x8a, 0x01, 0x05, 0x0a, 0x01, 'v', 0x20, 0x07};
  ck_assert_mesos_ok(mesos__pb_unpack_arena(D(scalars), sc, sizeof sc, 0, 0, &m, &err), &err);
  ck_assert_ptr_nonnull(mesos__pb_arena_of(m));
  ck_assert_uint_eq(((Mesos__Test__Codec__Scalars *)m)->f_inner->base.n_unknown_fields, 1);
  ck_assert_mesos_ok(mesos__pb_clone_compact(m, &c, &err), &err);
  mesos__pb_free(m);
  assert_packs_to(c, sc, sizeof sc);
  mesos__pb_free(c);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_pb_compact__bad_input_and_deep_nesting_are_refused_without_leaks) {
  int64_t live = mesos__alloc_live();
  ProtobufCMessage *m = NULL;
  mesos_error *err = NULL;
  static const uint8_t truncated[] = {0x0a, 0x09, 'v'};
  ck_assert_int_eq(mesos__pb_unpack_arena(D(inner), truncated, sizeof truncated, 0, 0, &m, &err),
                   MESOS_EINVAL);
  ck_assert_ptr_null(m);
  mesos_error_free(err);
  err = NULL;
  static const uint8_t missing_required[] = {0x10, 0x02};
  ck_assert_int_eq(
      mesos__pb_unpack_arena(D(inner), missing_required, sizeof missing_required, 0, 0, &m, &err),
      MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos__pb_unpack_arena(D(inner), missing_required, sizeof missing_required, 1,
                                          0, &m, &err),
                   MESOS_ELIMIT);
  mesos_error_free(err);
  err = NULL;
  /* Tree.parent nested 100 deep: refused by the depth check. */
  enum { DEPTH = 100 };
  uint8_t deep[DEPTH * 3]; /* tag, then the length as a 2-byte varint */
  for (size_t i = 0; i < DEPTH; i++) {
    size_t inner = 3 * (DEPTH - 1 - i);
    deep[3 * i] = 0x12;
    deep[3 * i + 1] = (uint8_t)(0x80 | (inner & 0x7f));
    deep[3 * i + 2] = (uint8_t)(inner >> 7);
  }
  ck_assert_int_eq(mesos__pb_unpack_arena(D(tree), deep, sizeof deep, 0, 0, &m, &err),
                   MESOS_ELIMIT);
  mesos_error_free(err);
  err = NULL;
  /* A tree built in memory deeper than the limit cannot be copied. */
  Mesos__Test__Codec__Tree t[DEPTH];
  for (size_t i = 0; i < DEPTH; i++) {
    mesos__test__codec__tree__init(&t[i]);
    t[i].parent = i + 1 < DEPTH ? &t[i + 1] : NULL;
  }
  ck_assert_int_eq(mesos__pb_clone_compact(&t[0].base, &m, &err), MESOS_ELIMIT);
  mesos_error_free(err);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_pb_compact__every_failed_allocation_leaks_nothing) {
  int64_t live = mesos__alloc_live();
  size_t len = 0;
  uint8_t *bytes = everything_bytes(&len);
  ProtobufCMessage *src = NULL;
  ck_assert_mesos_ok(mesos__pb_unpack(D(everything), bytes, len, 0, 0, &src, NULL), NULL);
  int64_t base = mesos__alloc_live();
  for (uint64_t n = 1;; n++) {
    ProtobufCMessage *m = NULL, *c = NULL;
    mesos__alloc_fail_after(n);
    mesos_status a = mesos__pb_unpack_arena(D(everything), bytes, len, 0, 0, &m, NULL);
    mesos_status b = mesos__pb_clone_compact(src, &c, NULL);
    mesos__alloc_fail_after(0);
    ck_assert(a == MESOS_OK || a == MESOS_ENOMEM);
    ck_assert(b == MESOS_OK || b == MESOS_ENOMEM);
    if (a == MESOS_OK) assert_packs_to(m, bytes, len);
    if (b == MESOS_OK) assert_packs_to(c, bytes, len);
    mesos__pb_free(m);
    mesos__pb_free(c);
    ck_assert_int_eq(mesos__alloc_live(), base);
    if (a == MESOS_OK && b == MESOS_OK) break;
    ck_assert_uint_lt(n, 100000);
  }
  mesos__pb_free(src);
  mesos__free(bytes);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

static Suite *compact_suite(void) {
  Suite *s = suite_create("codec_pb_compact");
  TCase *tc = tcase_create("compact");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_pb_compact__arena_decode_and_copy_round_trip_every_field_kind);
  tcase_add_test(tc, test_pb_compact__unknown_top_level_fields_take_the_usual_path);
  tcase_add_test(tc, test_pb_compact__bad_input_and_deep_nesting_are_refused_without_leaks);
  tcase_add_test(tc, test_pb_compact__every_failed_allocation_leaks_nothing);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(compact_suite()); }
