/* The codec over every message type of lib/proto/ (walked from the
 * generated descriptor table, not a hand-picked list), the protobuf
 * helpers, and the public name-based API. */
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "codec/registry.h"
#include "mesos/codec.h"
#include "mesos/v1/mesos.pb-c.h"
#include "support/proto_sample.h"
#include "support/testutil.h"

static char *to_json(const ProtobufCMessage *m, size_t *len) {
  mesos__buf b = MESOS__BUF_INIT((size_t)256 << 20);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__json_encode(m, &b, &err), &err);
  return mesos__buf_detach(&b, len);
}

/* For every type and two seeds (different oneof members): sample -> JSON
 * -> message -> JSON must be a fixpoint; the decoded message must survive
 * protobuf pack/unpack unchanged; and the public JSON -> protobuf -> JSON
 * path must give the same JSON. */
START_TEST(test_messages__every_type_round_trips_through_json_and_protobuf) {
  size_t n;
  const ProtobufCMessageDescriptor *const *all = mesos__codec_messages(&n);
  ck_assert_uint_gt(n, 100);
  char why[512];
  for (size_t i = 0; i < n; i++) {
    const ProtobufCMessageDescriptor *d = all[i];
    for (uint32_t seed = 1; seed <= 2; seed++) {
      ProtobufCMessage *sample = mesos_test_proto_sample(d, seed, 3);
      size_t len1, len2, len3;
      char *json1 = to_json(sample, &len1);
      ProtobufCMessage *m2 = NULL;
      mesos_error *err = NULL;
      mesos_status s = mesos__json_decode(d, json1, len1, NULL, &m2, &err);
      ck_assert_msg(s == MESOS_OK, "%s: decoding our own JSON failed: %s\n%.2000s", d->name,
                    mesos_test_errmsg(&err), json1);
      char *json2 = to_json(m2, &len2);
      ck_assert_msg(len1 == len2 && memcmp(json1, json2, len1) == 0,
                    "%s: JSON changed in a round trip:\n%.1500s\n%.1500s", d->name, json1, json2);
      /* Everything the sample sets comes back (defaults may be added). */
      ck_assert_msg(mesos_test_proto_unknown_fields(m2) == 0, "%s", d->name);

      uint8_t *pb = NULL;
      size_t pb_len = 0;
      ck_assert_mesos_ok(mesos__pb_pack(m2, 0, &pb, &pb_len, &err), &err);
      ProtobufCMessage *m3 = NULL;
      ck_assert_mesos_ok(mesos__pb_unpack(d, pb, pb_len, 0, 0, &m3, &err), &err);
      ck_assert_msg(mesos_test_proto_equal(m2, m3, why, sizeof why), "%s: %s", d->name, why);
      char *json3 = to_json(m3, &len3);
      ck_assert_msg(len1 == len3 && memcmp(json1, json3, len1) == 0, "%s: protobuf path differs",
                    d->name);

      uint8_t *pub_pb = NULL;
      size_t pub_len = 0;
      ck_assert_mesos_ok(mesos_codec_json_to_protobuf(d->name, json1, len1, &pub_pb, &pub_len, &err), &err);
      char *pub_json = NULL;
      size_t pub_json_len = 0;
      ck_assert_mesos_ok(mesos_codec_protobuf_to_json(d->name, pub_pb, pub_len, &pub_json, &pub_json_len, &err), &err);
      ck_assert_msg(pub_json_len == len1 && strcmp(pub_json, json1) == 0, "%s: public API differs", d->name);

      mesos_free(pub_json);
      mesos_free(pub_pb);
      mesos__free(json3);
      mesos__pb_free(m3);
      mesos__free(pb);
      mesos__free(json2);
      mesos__pb_free(m2);
      mesos__free(json1);
      protobuf_c_message_free_unpacked(sample, NULL);
    }
  }
}
END_TEST

/* Whether the last field named in a difference path ("a.b[2].limits: ...")
 * is a map field somewhere: the samples may hold map entries without a
 * value, which the encoder leaves out on purpose. */
static bool names_map_field(const char *why) {
  const char *colon = strchr(why, ':');
  if (colon == NULL) return false;
  const char *start = colon;
  while (start > why && start[-1] != '.') start--;
  size_t len = (size_t)(colon - start);
  const char *br = memchr(start, '[', len);
  if (br) len = (size_t)(br - start);
  size_t n;
  const ProtobufCMessageDescriptor *const *all = mesos__codec_messages(&n);
  for (size_t i = 0; i < n; i++)
    for (unsigned f = 0; f < all[i]->n_fields; f++) {
      const ProtobufCFieldDescriptor *fd = &all[i]->fields[f];
      if (strlen(fd->name) == len && memcmp(fd->name, start, len) == 0 && mesos__pb_is_map_field(fd))
        return true;
    }
  return false;
}

/* The decoded message equals the sample field by field, except where the
 * JSON carried a default for a field the sample left unset. */
START_TEST(test_messages__decoded_values_equal_the_originals) {
  size_t n;
  const ProtobufCMessageDescriptor *const *all = mesos__codec_messages(&n);
  char why[512];
  size_t compared = 0;
  for (size_t i = 0; i < n; i++) {
    const ProtobufCMessageDescriptor *d = all[i];
    ProtobufCMessage *sample = mesos_test_proto_sample(d, 7, 1);
    size_t len;
    char *json = to_json(sample, &len);
    ProtobufCMessage *m = NULL;
    mesos_error *err = NULL;
    ck_assert_mesos_ok(mesos__json_decode(d, json, len, NULL, &m, &err), &err);
    if (!mesos_test_proto_equal(sample, m, why, sizeof why)) {
      /* Only a default the JSON added (to a field the sample left unset)
       * may differ; anything else is a bug. */
      ck_assert_msg(strstr(why, "present only in the second") != NULL ||
                        (strstr(why, "present only in the first") && names_map_field(why)),
                    "%s: %s\n%.1500s", d->name, why, json);
    } else {
      compared++;
    }
    mesos__pb_free(m);
    mesos__free(json);
    protobuf_c_message_free_unpacked(sample, NULL);
  }
  ck_assert_uint_gt(compared, 50);
}
END_TEST

START_TEST(test_messages__registry_finds_types_by_full_name) {
  const ProtobufCMessageDescriptor *d = mesos__codec_find_message("mesos.v1.scheduler.Call");
  ck_assert_ptr_nonnull(d);
  ck_assert_str_eq(d->name, "mesos.v1.scheduler.Call");
  ck_assert_ptr_eq(mesos__codec_find_message(".mesos.v1.scheduler.Call"), d);
  ck_assert_ptr_nonnull(mesos__codec_find_message("mesos.v1.Offer.Operation.Launch"));
  ck_assert_ptr_null(mesos__codec_find_message("mesos.v1.scheduler.Cal"));
  ck_assert_ptr_null(mesos__codec_find_message(NULL));
  size_t n;
  const ProtobufCMessageDescriptor *const *all = mesos__codec_messages(&n);
  for (size_t i = 0; i < n; i++) ck_assert_ptr_eq(mesos__codec_find_message(all[i]->name), all[i]);
  ck_assert_int_eq(mesos_codec_has_type("mesos.v1.master.Response"), 1);
  ck_assert_int_eq(mesos_codec_has_type("nope"), 0);
  ck_assert_int_eq(mesos_codec_has_type(NULL), 0);
}
END_TEST

START_TEST(test_messages__public_api_reports_errors_with_paths) {
  uint8_t *pb = (uint8_t *)"untouched";
  size_t len = 99;
  mesos_error *err = NULL;
  const char *json = "{\"type\":\"DECLINE\",\"framework_id\":{\"value\":\"f\"},"
                     "\"decline\":{\"offer_ids\":[{\"value\":\"o1\"},{}]}}";
  ck_assert_int_eq(mesos_codec_json_to_protobuf("mesos.v1.scheduler.Call", json, strlen(json),
                                                &pb, &len, &err),
                   MESOS_EINVAL);
  ck_assert_str_eq(mesos_error_message(err), "decline.offer_ids[1].value: required field missing");
  mesos_error_free(err);
  err = NULL;
  ck_assert_str_eq((char *)pb, "untouched");
  ck_assert_uint_eq(len, 99);
  ck_assert_int_eq(mesos_codec_json_to_protobuf("mesos.v1.NoSuch", "{}", 2, &pb, &len, &err),
                   MESOS_ENOTFOUND);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "mesos.v1.NoSuch"));
  mesos_error_free(err);
  ck_assert_int_eq(mesos_codec_json_to_protobuf(NULL, "{}", 2, &pb, &len, NULL), MESOS_EINVAL);
  ck_assert_int_eq(mesos_codec_json_to_protobuf("mesos.v1.scheduler.Call", "{}", 2, NULL, &len, NULL),
                   MESOS_EINVAL);
  char *out = NULL;
  err = NULL;
  /* Truncated protobuf and a missing required field. */
  static const uint8_t trunc[] = {0x0a, 0x05, 'a'};
  ck_assert_int_eq(mesos_codec_protobuf_to_json("mesos.v1.FrameworkID", trunc, sizeof trunc, &out, &len, &err),
                   MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos_codec_protobuf_to_json("mesos.v1.FrameworkID", NULL, 0, &out, &len, &err),
                   MESOS_EINVAL);
  mesos_error_free(err);
  ck_assert_ptr_null(out);
  /* Empty message: an empty protobuf buffer and back. */
  ck_assert_int_eq(mesos_codec_json_to_protobuf("mesos.v1.Filters", "{}", 2, &pb, &len, NULL), MESOS_OK);
  ck_assert_uint_eq(len, 0);
  ck_assert_int_eq(mesos_codec_protobuf_to_json("mesos.v1.Filters", pb, len, &out, &len, NULL), MESOS_OK);
  ck_assert_str_eq(out, "{\"refuse_seconds\":5.0}");
  mesos_free(out);
  mesos_free(pb);
}
END_TEST

/* A ContainerID chain nested deeper than the limit, as raw protobuf:
 * field 2 (parent) of type ContainerID, repeated inside itself. */
static uint8_t *nested_container_ids(unsigned depth, size_t *len) {
  uint8_t *buf = malloc((size_t)depth * 8 + 16);
  size_t n = 0;
  /* innermost: value = "x" */
  uint8_t inner[3] = {0x0a, 0x01, 'x'};
  memcpy(buf, inner, 3);
  n = 3;
  for (unsigned i = 1; i < depth; i++) {
    /* wrap: value "x" + parent(len n) */
    uint8_t hdr[8];
    size_t h = 0;
    hdr[h++] = 0x0a;
    hdr[h++] = 0x01;
    hdr[h++] = 'x';
    hdr[h++] = 0x12;
    size_t v = n;
    do {
      hdr[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
      v >>= 7;
    } while (v);
    memmove(buf + h, buf, n);
    memcpy(buf, hdr, h);
    n += h;
  }
  *len = n;
  return buf;
}

START_TEST(test_messages__protobuf_nesting_and_size_are_limited) {
  const ProtobufCMessageDescriptor *d = mesos__codec_find_message("mesos.v1.ContainerID");
  ck_assert_ptr_nonnull(d);
  size_t len;
  uint8_t *ok = nested_container_ids(MESOS__PB_MAX_DEPTH, &len);
  ProtobufCMessage *m = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__pb_unpack(d, ok, len, 0, 0, &m, &err), &err);
  mesos__pb_free(m);
  free(ok);
  uint8_t *deep = nested_container_ids(MESOS__PB_MAX_DEPTH + 1, &len);
  m = NULL;
  ck_assert_int_eq(mesos__pb_unpack(d, deep, len, 0, 0, &m, &err), MESOS_ELIMIT);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "nest deeper than 64"));
  mesos_error_free(err);
  err = NULL;
  ck_assert_ptr_null(m);
  ck_assert_int_eq(mesos__pb_unpack(d, deep, len, 10, 0, &m, &err), MESOS_ELIMIT);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "exceed the limit of 10"));
  mesos_error_free(err);
  free(deep);
  /* Groups (wire types 3/4) and field number 0 are refused. */
  static const uint8_t group[] = {0x0b, 0x0c};
  ck_assert_int_eq(mesos__pb_check_depth(d, group, sizeof group, 0, NULL), MESOS_EINVAL);
  static const uint8_t zero[] = {0x00, 0x01};
  ck_assert_int_eq(mesos__pb_check_depth(d, zero, sizeof zero, 0, NULL), MESOS_EINVAL);
  /* Packing into a bounded buffer. */
  Mesos__V1__ContainerID c = MESOS__V1__CONTAINER_ID__INIT;
  c.value = "abc";
  mesos__buf b = MESOS__BUF_INIT(4);
  ck_assert_int_eq(mesos__pb_pack_buf(&c.base, &b, NULL), MESOS_ELIMIT);
  b.max = 5;
  ck_assert_int_eq(mesos__pb_pack_buf(&c.base, &b, NULL), MESOS_OK);
  ck_assert_uint_eq(b.len, 5);
  ck_assert(memcmp(b.data, "\x0a\x03" "abc", 5) == 0);
  mesos__buf_free(&b);
}
END_TEST

START_TEST(test_messages__static_depth_follows_the_type_graph) {
  /* No message fields: depth 1; ContainerID.parent recurses: unbounded. */
  ck_assert_uint_eq(mesos__codec_static_depth(mesos__codec_find_message("mesos.v1.FrameworkID")), 1);
  ck_assert_uint_eq(mesos__codec_static_depth(mesos__codec_find_message("mesos.v1.Value.Ranges")), 2);
  ck_assert_uint_eq(mesos__codec_static_depth(mesos__codec_find_message("mesos.v1.ContainerID")),
                    MESOS__PB_MAX_DEPTH + 1);
  ck_assert_uint_eq(mesos__codec_static_depth(mesos__codec_find_message("mesos.v1.scheduler.Event")),
                    MESOS__PB_MAX_DEPTH + 1);
  unsigned offer = mesos__codec_static_depth(mesos__codec_find_message("mesos.v1.Offer"));
  ck_assert_uint_gt(offer, 2);
  /* Not one of ours: always walked. */
  static ProtobufCMessageDescriptor fake;
  ck_assert_uint_eq(mesos__codec_static_depth(&fake), MESOS__PB_MAX_DEPTH + 1);
  /* Every type's depth is one more than its deepest message field's. */
  size_t n;
  const ProtobufCMessageDescriptor *const *all = mesos__codec_messages(&n);
  for (size_t i = 0; i < n; i++) {
    unsigned want = 1;
    for (unsigned f = 0; f < all[i]->n_fields; f++)
      if (all[i]->fields[f].type == PROTOBUF_C_TYPE_MESSAGE) {
        unsigned sub = mesos__codec_static_depth(all[i]->fields[f].descriptor) + 1;
        if (sub > want) want = sub;
      }
    if (want > MESOS__PB_MAX_DEPTH + 1) want = MESOS__PB_MAX_DEPTH + 1;
    ck_assert_msg(mesos__codec_static_depth(all[i]) == want, "%s: %u, expected %u", all[i]->name,
                  mesos__codec_static_depth(all[i]), want);
  }
}
END_TEST

START_TEST(test_messages__map_fields_are_recognised_by_shape) {
  const ProtobufCMessageDescriptor *d = mesos__codec_find_message("mesos.v1.TaskInfo");
  ck_assert_ptr_nonnull(d);
  const ProtobufCFieldDescriptor *limits = protobuf_c_message_descriptor_get_field_by_name(d, "limits");
  ck_assert_ptr_nonnull(limits);
  ck_assert(mesos__pb_is_map_field(limits));
  const ProtobufCFieldDescriptor *res = protobuf_c_message_descriptor_get_field_by_name(d, "resources");
  ck_assert(!mesos__pb_is_map_field(res));
  const char *json = "{\"name\":\"t\",\"task_id\":{\"value\":\"t1\"},\"agent_id\":{\"value\":\"a\"},"
                     "\"limits\":{\"cpus\":{\"value\":2.0},\"mem\":{\"value\":\"Infinity\"}}}";
  uint8_t *pb;
  size_t len;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_codec_json_to_protobuf("mesos.v1.TaskInfo", json, strlen(json), &pb, &len, &err), &err);
  char *out;
  ck_assert_mesos_ok(mesos_codec_protobuf_to_json("mesos.v1.TaskInfo", pb, len, &out, &len, &err), &err);
  ck_assert_ptr_nonnull(strstr(out, "\"limits\":{\"cpus\":{\"value\":2.0},\"mem\":{\"value\":\"Infinity\"}}"));
  mesos_free(out);
  mesos_free(pb);
}
END_TEST

/* Fails the Nth allocation for every N until the call succeeds: each
 * failure must be ENOMEM with nothing leaked and no output. */
START_TEST(test_messages__allocation_failures_fail_cleanly_at_every_point) {
  const char *json = "{\"type\":\"OFFERS\",\"offers\":{\"offers\":[{\"id\":{\"value\":\"o\"},"
                     "\"framework_id\":{\"value\":\"f\"},\"agent_id\":{\"value\":\"a\"},"
                     "\"hostname\":\"h\",\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\","
                     "\"scalar\":{\"value\":1.5}},{\"name\":\"ports\",\"type\":\"RANGES\","
                     "\"ranges\":{\"range\":[{\"begin\":1,\"end\":2}]}}]}]}}";
  const char *type = "mesos.v1.scheduler.Event";
  uint8_t *pb = NULL;
  size_t pb_len = 0;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_codec_json_to_protobuf(type, json, strlen(json), &pb, &pb_len, &err), &err);
  for (int which = 0; which < 2; which++) {
    for (uint64_t n = 1;; n++) {
      int64_t live = mesos__alloc_live();
      uint8_t *out = NULL;
      char *jout = NULL;
      size_t out_len = 0;
      mesos__alloc_fail_after(n);
      mesos_status s = which == 0
                           ? mesos_codec_json_to_protobuf(type, json, strlen(json), &out, &out_len, NULL)
                           : mesos_codec_protobuf_to_json(type, pb, pb_len, &jout, &out_len, NULL);
      uint64_t made = mesos__alloc_fail_after(0);
      if (s == MESOS_OK) {
        ck_assert_uint_lt(made, n);
        mesos_free(out);
        mesos_free(jout);
        break;
      }
      ck_assert_msg(s == MESOS_ENOMEM, "allocation %llu: %s", (unsigned long long)n, mesos_status_name(s));
      ck_assert_ptr_null(out);
      ck_assert_ptr_null(jout);
      ck_assert_int_eq(mesos__alloc_live(), live);
    }
  }
  mesos_free(pb);
}
END_TEST

static Suite *messages_suite(void) {
  Suite *s = suite_create("codec_messages");
  TCase *tc = tcase_create("messages");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_messages__every_type_round_trips_through_json_and_protobuf);
  tcase_add_test(tc, test_messages__decoded_values_equal_the_originals);
  tcase_add_test(tc, test_messages__registry_finds_types_by_full_name);
  tcase_add_test(tc, test_messages__public_api_reports_errors_with_paths);
  tcase_add_test(tc, test_messages__protobuf_nesting_and_size_are_limited);
  tcase_add_test(tc, test_messages__static_depth_follows_the_type_graph);
  tcase_add_test(tc, test_messages__map_fields_are_recognised_by_shape);
  tcase_add_test(tc, test_messages__allocation_failures_fail_cleanly_at_every_point);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(messages_suite()); }
