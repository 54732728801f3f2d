/*
 * Walks every message and enum descriptor protoc-c generated for lib/proto/
 * (the generated registry, not a hand-picked list) and checks that each one
 * is complete and usable: references resolve inside the registry, a sample
 * with every field set packs, unpacks to an equal message and re-packs to
 * the same bytes, unknown fields survive a round trip, enum lookups agree.
 */
#include <string.h>

#include "support/proto_sample.h"
#include "support/testutil.h"

/* Depth to which samples are filled completely (see mesos_test_proto_sample). */
#define SAMPLE_DEPTH 4
/* Seeds per type: enough to reach every member of the widest oneof
 * (AttributeConstraint.Predicate has 6). */
#define SEEDS 6

static int in_registry_message(const ProtobufCMessageDescriptor *d) {
  size_t n;
  const ProtobufCMessageDescriptor *const *all = mesos_test_proto_messages(&n);
  for (size_t i = 0; i < n; i++)
    if (all[i] == d) return 1;
  return 0;
}

static int in_registry_enum(const ProtobufCEnumDescriptor *d) {
  size_t n;
  const ProtobufCEnumDescriptor *const *all = mesos_test_proto_enums(&n);
  for (size_t i = 0; i < n; i++)
    if (all[i] == d) return 1;
  return 0;
}

START_TEST(test_proto__registry_holds_every_package_and_is_closed_under_references) {
  size_t n, ne;
  const ProtobufCMessageDescriptor *const *all = mesos_test_proto_messages(&n);
  const ProtobufCEnumDescriptor *const *enums = mesos_test_proto_enums(&ne);
  /* 400 Mesos types, map entries, google.protobuf.Duration, mesos.internal. */
  ck_assert_uint_ge(n, 400);
  ck_assert_uint_ge(ne, 52);
  static const char *const packages[] = {
      "mesos.v1",        "mesos.v1.scheduler", "mesos.v1.executor", "mesos.v1.master",
      "mesos.v1.agent",  "mesos.v1.maintenance", "mesos.v1.allocator", "mesos.v1.quota",
      "mesos",           "mesos.authorization", "mesos.internal",     "google.protobuf",
  };
  for (size_t k = 0; k < sizeof packages / sizeof packages[0]; k++) {
    int seen = 0;
    for (size_t i = 0; i < n; i++) seen |= strcmp(all[i]->package_name, packages[k]) == 0;
    ck_assert_msg(seen, "no message of package %s in the registry", packages[k]);
  }
  for (size_t i = 0; i < n; i++) {
    const ProtobufCMessageDescriptor *d = all[i];
    ck_assert_uint_eq(d->magic, PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    ck_assert_msg(strncmp(d->name, d->package_name, strlen(d->package_name)) == 0,
                  "%s is not in package %s", d->name, d->package_name);
    for (size_t j = i + 1; j < n; j++)
      ck_assert_msg(strcmp(d->name, all[j]->name) != 0, "%s listed twice", d->name);
    unsigned last = 0;
    for (unsigned f = 0; f < d->n_fields; f++) {
      const ProtobufCFieldDescriptor *fd = &d->fields[f];
      /* protobuf-c packs in field order: it must be by number, as protoc's. */
      ck_assert_msg(fd->id > last, "%s.%s: fields not sorted by number", d->name, fd->name);
      last = fd->id;
      if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
        ck_assert_msg(in_registry_message(fd->descriptor), "%s.%s: type %s not in the registry",
                      d->name, fd->name, ((const ProtobufCMessageDescriptor *)fd->descriptor)->name);
      if (fd->type == PROTOBUF_C_TYPE_ENUM)
        ck_assert_msg(in_registry_enum(fd->descriptor), "%s.%s: enum %s not in the registry",
                      d->name, fd->name, ((const ProtobufCEnumDescriptor *)fd->descriptor)->name);
    }
    ck_assert_ptr_eq(mesos_test_proto_find(d->name), d);
  }
  for (size_t i = 0; i < ne; i++)
    for (size_t j = i + 1; j < ne; j++)
      ck_assert_msg(strcmp(enums[i]->name, enums[j]->name) != 0, "%s listed twice", enums[i]->name);
}
END_TEST

START_TEST(test_proto__every_message_type_round_trips_with_every_field_set) {
  size_t n;
  const ProtobufCMessageDescriptor *const *all = mesos_test_proto_messages(&n);
  ck_assert_int_lt(_i, (int)n);
  const ProtobufCMessageDescriptor *d = all[_i];
  for (uint32_t seed = 0; seed < SEEDS; seed++) {
    ProtobufCMessage *m = mesos_test_proto_sample(d, seed, SAMPLE_DEPTH);
    ck_assert_msg(protobuf_c_message_check(m), "%s: sample fails protobuf_c_message_check", d->name);

    /* The sample really sets every field (one member per oneof). */
    for (unsigned f = 0; f < d->n_fields; f++) {
      const ProtobufCFieldDescriptor *fd = &d->fields[f];
      if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) continue;
      ck_assert_msg(mesos_test_proto_field_present(m, fd), "%s.%s: not set in the sample", d->name,
                    fd->name);
    }

    size_t size = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(size ? size : 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(protobuf_c_message_pack(m, buf), size);
    if (d->n_fields > 0) ck_assert_msg(size > 0, "%s: sample packs to nothing", d->name);

    ProtobufCMessage *u = protobuf_c_message_unpack(d, NULL, size, buf);
    ck_assert_msg(u != NULL, "%s (seed %u): cannot unpack its own packing", d->name, seed);
    ck_assert_uint_eq(mesos_test_proto_unknown_fields(u), 0);
    char why[1200];
    ck_assert_msg(mesos_test_proto_equal(m, u, why, sizeof why), "%s (seed %u): %s", d->name, seed,
                  why);

    size_t size2 = protobuf_c_message_get_packed_size(u);
    ck_assert_uint_eq(size2, size);
    uint8_t *buf2 = malloc(size2 ? size2 : 1);
    ck_assert_ptr_nonnull(buf2);
    ck_assert_uint_eq(protobuf_c_message_pack(u, buf2), size2);
    ck_assert_msg(memcmp(buf, buf2, size) == 0, "%s (seed %u): re-packing changed the bytes", d->name,
                  seed);

    free(buf2);
    free(buf);
    protobuf_c_message_free_unpacked(u, NULL);
    protobuf_c_message_free_unpacked(m, NULL);
  }
}
END_TEST

START_TEST(test_proto__samples_differ_between_seeds_and_match_for_the_same_seed) {
  /* Guards the comparison itself: it must be able to say "different". */
  const ProtobufCMessageDescriptor *d = mesos_test_proto_find("mesos.v1.Offer");
  ck_assert_ptr_nonnull(d);
  ProtobufCMessage *a = mesos_test_proto_sample(d, 1, SAMPLE_DEPTH);
  ProtobufCMessage *b = mesos_test_proto_sample(d, 1, SAMPLE_DEPTH);
  ProtobufCMessage *c = mesos_test_proto_sample(d, 2, SAMPLE_DEPTH);
  char why[1200];
  ck_assert_msg(mesos_test_proto_equal(a, b, why, sizeof why), "%s", why);
  ck_assert(!mesos_test_proto_equal(a, c, why, sizeof why));
  ck_assert_ptr_nonnull(strstr(why, "id.value: strings differ"));
  protobuf_c_message_free_unpacked(a, NULL);
  protobuf_c_message_free_unpacked(b, NULL);
  protobuf_c_message_free_unpacked(c, NULL);
}
END_TEST

START_TEST(test_proto__unknown_fields_are_kept_and_re_emitted) {
  const ProtobufCMessageDescriptor *d = mesos_test_proto_find("mesos.v1.scheduler.Call");
  ck_assert_ptr_nonnull(d);
  ProtobufCMessage *m = mesos_test_proto_sample(d, 3, 2);
  size_t size = protobuf_c_message_get_packed_size(m);
  /* Field 1999, varint 150: a field a newer peer might send. */
  static const uint8_t extra[] = {0xf8, 0x7c, 0x96, 0x01};
  uint8_t *buf = malloc(size + sizeof extra);
  ck_assert_ptr_nonnull(buf);
  protobuf_c_message_pack(m, buf);
  memcpy(buf + size, extra, sizeof extra);
  ProtobufCMessage *u = protobuf_c_message_unpack(d, NULL, size + sizeof extra, buf);
  ck_assert_ptr_nonnull(u);
  ck_assert_uint_eq(u->n_unknown_fields, 1);
  ck_assert_uint_eq(u->unknown_fields[0].tag, 1999);
  ck_assert_uint_eq(protobuf_c_message_get_packed_size(u), size + sizeof extra);
  uint8_t *buf2 = malloc(size + sizeof extra);
  ck_assert_ptr_nonnull(buf2);
  protobuf_c_message_pack(u, buf2);
  ck_assert(memcmp(buf, buf2, size + sizeof extra) == 0);
  free(buf);
  free(buf2);
  protobuf_c_message_free_unpacked(u, NULL);
  protobuf_c_message_free_unpacked(m, NULL);
}
END_TEST

START_TEST(test_proto__every_enum_value_is_found_by_number_and_by_name) {
  size_t n;
  const ProtobufCEnumDescriptor *const *all = mesos_test_proto_enums(&n);
  for (size_t i = 0; i < n; i++) {
    const ProtobufCEnumDescriptor *e = all[i];
    ck_assert_uint_eq(e->magic, PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC);
    ck_assert_msg(e->n_values > 0, "%s has no values", e->name);
    for (unsigned v = 0; v < e->n_values; v++) {
      const ProtobufCEnumValue *by_num = protobuf_c_enum_descriptor_get_value(e, e->values[v].value);
      ck_assert_msg(by_num && by_num->value == e->values[v].value, "%s: %d not found by number",
                    e->name, e->values[v].value);
      const ProtobufCEnumValue *by_name =
          protobuf_c_enum_descriptor_get_value_by_name(e, e->values[v].name);
      ck_assert_msg(by_name && by_name->value == e->values[v].value, "%s: %s not found by name",
                    e->name, e->values[v].name);
    }
    ck_assert_ptr_null(protobuf_c_enum_descriptor_get_value_by_name(e, "NO_SUCH_VALUE_ANYWHERE"));
  }
}
END_TEST

static Suite *make_suite(void) {
  size_t n;
  mesos_test_proto_messages(&n);
  Suite *s = suite_create("proto_descriptors");
  TCase *tc = tcase_create("descriptors");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_proto__registry_holds_every_package_and_is_closed_under_references);
  tcase_add_loop_test(tc, test_proto__every_message_type_round_trips_with_every_field_set, 0, (int)n);
  tcase_add_test(tc, test_proto__samples_differ_between_seeds_and_match_for_the_same_seed);
  tcase_add_test(tc, test_proto__unknown_fields_are_kept_and_re_emitted);
  tcase_add_test(tc, test_proto__every_enum_value_is_found_by_number_and_by_name);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
