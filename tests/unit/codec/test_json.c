/* The reflective JSON codec (lib/codec/json_*.c) over the test messages in
 * tests/data/codec/codec_test.proto: every field type and label, defaults,
 * oneof, maps, limits and every documented error. */
#include <math.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "support/testutil.h"
#include "tests/codec/codec_test.pb-c.h"

#define D(name) (&mesos__test__codec__##name##__descriptor)

static ProtobufCMessage *decode_ok(const ProtobufCMessageDescriptor *d, const char *json) {
  ProtobufCMessage *m = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__json_decode(d, json, strlen(json), NULL, &m, &err), &err);
  ck_assert_ptr_nonnull(m);
  return m;
}

/* Decodes `json`, expecting failure with `code` and a message containing
 * `needle`. */
static void decode_fails(const ProtobufCMessageDescriptor *d, const char *json,
                         mesos_status code, const char *needle) {
  ProtobufCMessage *m = NULL;
  mesos_error *err = NULL;
  int64_t live = mesos__alloc_live();
  mesos_status s = mesos__json_decode(d, json, strlen(json), NULL, &m, &err);
  ck_assert_msg(s == code, "decoding %s gave %s (%s), expected %s", json, mesos_status_name(s),
                err ? mesos_error_message(err) : "", mesos_status_name(code));
  ck_assert_ptr_null(m);
  ck_assert_ptr_nonnull(err);
  ck_assert_msg(strstr(mesos_error_message(err), needle) != NULL, "error '%s' lacks '%s'",
                mesos_error_message(err), needle);
  mesos_error_free(err);
  /* Nothing of the half-built message may survive the error. */
  ck_assert_int_eq(mesos__alloc_live(), live);
}

static char *encode(const ProtobufCMessage *m) {
  mesos__buf b = MESOS__BUF_INIT(1 << 20);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__json_encode(m, &b, &err), &err);
  return mesos__buf_detach(&b, NULL);
}

/* Decodes, encodes and compares with `want` (NULL: the input itself). */
static void round_trip(const ProtobufCMessageDescriptor *d, const char *json, const char *want) {
  ProtobufCMessage *m = decode_ok(d, json);
  char *out = encode(m);
  ck_assert_str_eq(out, want ? want : json);
  mesos__free(out);
  mesos__pb_free(m);
}

START_TEST(test_json__every_scalar_type_decodes) {
  Mesos__Test__Codec__Scalars *m = (Mesos__Test__Codec__Scalars *)decode_ok(
      D(scalars),
      "{\"f_double\":2.5,\"f_float\":-0.25,\"f_int32\":-2147483648,"
      "\"f_int64\":-9223372036854775808,\"f_uint32\":4294967295,"
      "\"f_uint64\":18446744073709551615,\"f_sint32\":-7,\"f_sint64\":\"-5000000000\","
      "\"f_fixed32\":\"42\",\"f_fixed64\":5000000000,\"f_sfixed32\":-1,\"f_sfixed64\":-2,"
      "\"f_bool\":true,\"f_string\":\"h\\u00e9\\\"\",\"f_bytes\":\"AP8=\",\"f_enum\":\"BLUE\","
      "\"f_inner\":{\"value\":\"v\",\"n\":3}}");
  ck_assert(m->has_f_double && m->f_double == 2.5);
  ck_assert(m->has_f_float && m->f_float == -0.25f);
  ck_assert_int_eq(m->f_int32, INT32_MIN);
  ck_assert(m->f_int64 == INT64_MIN);
  ck_assert_uint_eq(m->f_uint32, UINT32_MAX);
  ck_assert(m->f_uint64 == UINT64_MAX);
  ck_assert_int_eq(m->f_sint32, -7);
  ck_assert(m->f_sint64 == -5000000000LL);
  ck_assert_uint_eq(m->f_fixed32, 42);
  ck_assert(m->f_fixed64 == 5000000000ULL);
  ck_assert_int_eq(m->f_sfixed32, -1);
  ck_assert(m->f_sfixed64 == -2);
  ck_assert(m->has_f_bool && m->f_bool);
  ck_assert_str_eq(m->f_string, "h\xc3\xa9\"");
  ck_assert(m->has_f_bytes && m->f_bytes.len == 2);
  ck_assert_int_eq(m->f_bytes.data[0], 0x00);
  ck_assert_int_eq(m->f_bytes.data[1], 0xff);
  ck_assert(m->has_f_enum && m->f_enum == MESOS__TEST__CODEC__COLOR__BLUE);
  ck_assert_str_eq(m->f_inner->value, "v");
  ck_assert_int_eq(m->f_inner->n, 3);
  mesos__pb_free(m);
}
END_TEST

START_TEST(test_json__scalars_encode_as_mesos_writes_them) {
  round_trip(D(scalars),
             "{\"f_double\":2.0,\"f_float\":-0.25,\"f_int32\":-2147483648,"
             "\"f_int64\":-9223372036854775808,\"f_uint32\":4294967295,"
             "\"f_uint64\":18446744073709551615,\"f_sint32\":-7,\"f_sint64\":-5000000000,"
             "\"f_fixed32\":42,\"f_fixed64\":5000000000,\"f_sfixed32\":-1,\"f_sfixed64\":-2,"
             "\"f_bool\":false,\"f_string\":\"a\\\"b\\\\c\\n\\u0001\xc3\xa9/\",\"f_bytes\":\"AP8=\","
             "\"f_enum\":\"BLUE\",\"f_inner\":{\"value\":\"v\",\"n\":3}}",
             NULL);
}
END_TEST

START_TEST(test_json__integers_accept_numeric_strings_and_integral_floats) {
  round_trip(D(scalars), "{\"f_int64\":\"5000000000\",\"f_uint32\":\"7\",\"f_int32\":1e3}",
             "{\"f_int32\":1000,\"f_int64\":5000000000,\"f_uint32\":7}");
  round_trip(D(scalars), "{\"f_int32\":5.0}", "{\"f_int32\":5}");
}
END_TEST

START_TEST(test_json__integers_out_of_range_or_fractional_are_refused) {
  decode_fails(D(scalars), "{\"f_int32\":2147483648}", MESOS_EINVAL, "f_int32: 2147483648 is out of range");
  decode_fails(D(scalars), "{\"f_uint32\":-1}", MESOS_EINVAL, "f_uint32: -1 is out of range");
  decode_fails(D(scalars), "{\"f_uint64\":18446744073709551616}", MESOS_EINVAL, "f_uint64");
  decode_fails(D(scalars), "{\"f_int64\":1.5}", MESOS_EINVAL, "f_int64: '1.5' is not an integer");
  decode_fails(D(scalars), "{\"f_int64\":\"12abc\"}", MESOS_EINVAL, "is not an integer");
  decode_fails(D(scalars), "{\"f_int64\":\" 12\"}", MESOS_EINVAL, "is not an integer");
  decode_fails(D(scalars), "{\"f_int32\":true}", MESOS_EINVAL, "f_int32: expected an integer, got a boolean");
}
END_TEST

START_TEST(test_json__doubles_round_trip_exactly) {
  round_trip(D(scalars), "{\"f_double\":0.1}", NULL);
  round_trip(D(scalars), "{\"f_double\":1024.0}", NULL);
  round_trip(D(scalars), "{\"f_double\":0.30000000000000004}", NULL);
  round_trip(D(scalars), "{\"f_double\":1e+300}", NULL);
  round_trip(D(scalars), "{\"f_double\":-1.5e-07}", NULL);
  round_trip(D(scalars), "{\"f_double\":-0.0}", NULL);
  round_trip(D(scalars), "{\"f_double\":123456789012345680000.0}", "{\"f_double\":1.2345678901234568e+20}");
  round_trip(D(scalars), "{\"f_double\":\"2.5\"}", "{\"f_double\":2.5}");
  round_trip(D(scalars), "{\"f_double\":\"Infinity\"}", NULL);
  round_trip(D(scalars), "{\"f_double\":\"-Infinity\"}", NULL);
  round_trip(D(scalars), "{\"f_float\":0.1}", NULL);
  round_trip(D(scalars), "{\"f_double\":0.000000000000000000000000001}", "{\"f_double\":1e-27}");
  Mesos__Test__Codec__Scalars *m =
      (Mesos__Test__Codec__Scalars *)decode_ok(D(scalars), "{\"f_double\":\"NaN\"}");
  ck_assert(isnan(m->f_double));
  mesos__pb_free(m);
  decode_fails(D(scalars), "{\"f_double\":\"fast\"}", MESOS_EINVAL, "f_double: 'fast' is not a number");
  decode_fails(D(scalars), "{\"f_double\":\"0x10\"}", MESOS_EINVAL, "is not a number");
}
END_TEST

START_TEST(test_json__bare_infinity_tokens_from_newer_mesos_are_accepted) {
  round_trip(D(scalars), "{\"f_double\": Infinity}", "{\"f_double\":\"Infinity\"}");
  round_trip(D(scalars), "{\"f_double\":-Infinity,\"f_string\":\"Infinity \\\" Infinity\"}",
             "{\"f_double\":\"-Infinity\",\"f_string\":\"Infinity \\\" Infinity\"}");
  round_trip(D(maps), "{\"limits\":{\"mem\":Infinity,\"cpus\":1.5}}",
             "{\"limits\":{\"mem\":\"Infinity\",\"cpus\":1.5}}");
  round_trip(D(repeats), "{\"r_double\":[1.0,Infinity,-Infinity]}",
             "{\"r_double\":[1.0,\"Infinity\",\"-Infinity\"]}");
  /* Other syntax errors keep their own message and position. */
  decode_fails(D(scalars), "{\"f_double\": Infinityx}", MESOS_EINVAL, "invalid JSON near byte");
  decode_fails(D(scalars), "{\"f_double\": Infinity,}", MESOS_EINVAL, "invalid JSON near byte");
  decode_fails(D(scalars), "{\"f_int32\": Infinity}", MESOS_EINVAL, "invalid JSON");
}
END_TEST

START_TEST(test_json__bools_accept_true_false_strings) {
  round_trip(D(scalars), "{\"f_bool\":\"true\"}", "{\"f_bool\":true}");
  round_trip(D(scalars), "{\"f_bool\":\"false\"}", "{\"f_bool\":false}");
  decode_fails(D(scalars), "{\"f_bool\":\"yes\"}", MESOS_EINVAL, "f_bool: expected a boolean");
  decode_fails(D(scalars), "{\"f_bool\":1}", MESOS_EINVAL, "f_bool: expected a boolean, got a number");
}
END_TEST

START_TEST(test_json__strings_with_nul_and_non_strings_are_refused) {
  decode_fails(D(scalars), "{\"f_string\":\"a\\u0000b\"}", MESOS_EINVAL, "f_string: string contains a NUL");
  decode_fails(D(scalars), "{\"f_string\":5}", MESOS_EINVAL, "f_string: expected a string, got a number");
  decode_fails(D(scalars), "{\"f_string\":{}}", MESOS_EINVAL, "f_string: expected a string, got an object");
  decode_fails(D(scalars), "{\"f_string\":[\"a\"]}", MESOS_EINVAL, "f_string: expected a string, got an array");
  decode_fails(D(scalars), "{\"f_string\":\"\xff\"}", MESOS_EINVAL, "invalid JSON");
}
END_TEST

START_TEST(test_json__bytes_base64_is_lenient_like_mesos) {
  /* Missing padding, whitespace, and everything after '=' is ignored. */
  round_trip(D(scalars), "{\"f_bytes\":\"AP8\"}", "{\"f_bytes\":\"AP8=\"}");
  round_trip(D(scalars), "{\"f_bytes\":\"YW Jj\\nZA==\"}", "{\"f_bytes\":\"YWJjZA==\"}");
  round_trip(D(scalars), "{\"f_bytes\":\"YWJj=ignored!\"}", "{\"f_bytes\":\"YWJj\"}");
  round_trip(D(scalars), "{\"f_bytes\":\"\"}", "{\"f_bytes\":\"\"}");
  round_trip(D(repeats), "{\"r_bytes\":[\"\",\"+/+/\",\"YQ==\"]}", NULL);
  decode_fails(D(scalars), "{\"f_bytes\":\"YW*j\"}", MESOS_EINVAL, "f_bytes: invalid base64 at character 2");
  decode_fails(D(scalars), "{\"f_bytes\":\"YWJjZ\"}", MESOS_EINVAL, "invalid base64");
  decode_fails(D(scalars), "{\"f_bytes\":12}", MESOS_EINVAL, "f_bytes: expected a base64 string");
}
END_TEST

START_TEST(test_json__enums_are_names_and_unknown_ones_depend_on_the_label) {
  round_trip(D(scalars), "{\"f_enum\":\"GREEN\"}", NULL);
  /* Optional and repeated: an unknown name is dropped, as Mesos does. */
  round_trip(D(scalars), "{\"f_enum\":\"PURPLE\"}", "{}");
  round_trip(D(repeats), "{\"r_enum\":[\"RED\",\"PURPLE\",\"BLUE\"]}", "{\"r_enum\":[\"RED\",\"BLUE\"]}");
  decode_fails(D(required), "{\"id\":1,\"name\":\"n\",\"color\":\"PURPLE\",\"inner\":{\"value\":\"v\"}}",
               MESOS_EINVAL, "color: unknown value 'PURPLE' for enum mesos.test.codec.Color");
  decode_fails(D(scalars), "{\"f_enum\":2}", MESOS_EINVAL, "f_enum: expected an enum name (string), got a number");
}
END_TEST

START_TEST(test_json__unknown_enum_numbers_are_not_written) {
  Mesos__Test__Codec__Scalars m = MESOS__TEST__CODEC__SCALARS__INIT;
  m.has_f_enum = 1;
  m.f_enum = 99;
  int32_t vals[] = {1, 77, 3};
  Mesos__Test__Codec__Repeats r = MESOS__TEST__CODEC__REPEATS__INIT;
  r.n_r_enum = 3;
  r.r_enum = (Mesos__Test__Codec__Color *)vals;
  char *s = encode(&m.base);
  ck_assert_str_eq(s, "{}");
  mesos__free(s);
  s = encode(&r.base);
  ck_assert_str_eq(s, "{\"r_enum\":[\"RED\",\"BLUE\"]}");
  mesos__free(s);
}
END_TEST

START_TEST(test_json__repeated_fields_of_every_type_round_trip) {
  round_trip(D(repeats),
             "{\"r_double\":[1.5,-2.0],\"r_float\":[0.5],\"r_int32\":[1,-2,3],"
             "\"r_int64\":[-5000000000],\"r_uint32\":[4294967295],\"r_uint64\":[18446744073709551615],"
             "\"r_sint32\":[-1],\"r_sint64\":[-2],\"r_fixed32\":[3],\"r_fixed64\":[4],"
             "\"r_sfixed32\":[-5],\"r_sfixed64\":[-6],\"r_bool\":[true,false],"
             "\"r_string\":[\"a\",\"\",\"c\"],\"r_bytes\":[\"YQ==\"],\"r_enum\":[\"RED\",\"BLUE\"],"
             "\"r_inner\":[{\"value\":\"x\"},{\"value\":\"y\",\"n\":2}],\"r_packed\":[7,8,9]}",
             NULL);
  /* Many elements: the arrays grow. */
  char json[8192] = "{\"r_int32\":[";
  size_t at = strlen(json);
  for (int i = 0; i < 1000; i++) at += (size_t)snprintf(json + at, sizeof json - at, "%s%d", i ? "," : "", i);
  snprintf(json + at, sizeof json - at, "]}");
  round_trip(D(repeats), json, NULL);
}
END_TEST

START_TEST(test_json__empty_and_null_repeated_fields_are_unset) {
  round_trip(D(repeats), "{\"r_int32\":[],\"r_string\":null,\"r_inner\":[]}", "{}");
  decode_fails(D(repeats), "{\"r_int32\":5}", MESOS_EINVAL, "r_int32: expected an array, got a number");
  decode_fails(D(repeats), "{\"r_inner\":{}}", MESOS_EINVAL, "r_inner: expected an array, got an object");
  decode_fails(D(repeats), "{\"r_int32\":[1,null]}", MESOS_EINVAL, "r_int32[1]: null is not allowed");
  decode_fails(D(repeats), "{\"r_int32\":[1,[2]]}", MESOS_EINVAL, "r_int32[1]: nested arrays");
  decode_fails(D(repeats), "{\"r_int32\":[1,2,\"x\"]}", MESOS_EINVAL, "r_int32[2]: 'x' is not an integer");
}
END_TEST

START_TEST(test_json__missing_required_fields_are_named_by_path) {
  decode_fails(D(required), "{}", MESOS_EINVAL, "id: required field missing");
  decode_fails(D(required), "{\"id\":1,\"name\":\"n\",\"color\":\"RED\"}", MESOS_EINVAL,
               "inner: required field missing");
  decode_fails(D(required), "{\"id\":1,\"name\":\"n\",\"color\":\"RED\",\"inner\":{}}",
               MESOS_EINVAL, "inner.value: required field missing");
  decode_fails(D(required),
               "{\"id\":1,\"name\":\"n\",\"color\":\"RED\",\"inner\":{\"value\":\"v\"},"
               "\"inners\":[{\"value\":\"a\"},{\"n\":1}]}",
               MESOS_EINVAL, "inners[1].value: required field missing");
  decode_fails(D(required), "{\"id\":1,\"name\":null,\"color\":\"RED\",\"inner\":{\"value\":\"v\"}}",
               MESOS_EINVAL, "name: required field missing");
  decode_fails(D(everything), "{\"required\":{\"id\":1,\"name\":\"n\",\"color\":\"RED\",\"inner\":{\"value\":\"v\"},\"inners\":[{\"value\":5}]}}",
               MESOS_EINVAL, "required.inners[0].value: expected a string, got a number");
  round_trip(D(required), "{\"id\":1,\"name\":\"n\",\"color\":\"RED\",\"inner\":{\"value\":\"v\"}}", NULL);
}
END_TEST

START_TEST(test_json__unknown_keys_and_nulls_are_ignored) {
  round_trip(D(scalars),
             "{\"zzz\":{\"a\":[1,{\"b\":[[]]}],\"c\":null},\"f_int32\":1,\"aaa\":[{},{}],"
             "\"f_string\":null,\"f_inner\":null,\"mid\":\"x\",\"f_enum\":null}",
             "{\"f_int32\":1}");
}
END_TEST

START_TEST(test_json__keys_in_any_order_and_repeated_keys_replace) {
  round_trip(D(scalars), "{\"f_string\":\"a\",\"f_int32\":2,\"f_double\":1.0,\"f_string\":\"b\"}",
             "{\"f_double\":1.0,\"f_int32\":2,\"f_string\":\"b\"}");
  round_trip(D(scalars), "{\"f_inner\":{\"value\":\"a\"},\"f_inner\":{\"value\":\"b\"}}",
             "{\"f_inner\":{\"value\":\"b\"}}");
  round_trip(D(scalars), "{\"f_bytes\":\"YQ==\",\"f_bytes\":\"Yg==\"}", "{\"f_bytes\":\"Yg==\"}");
  /* A repeated key continues the array. */
  round_trip(D(repeats), "{\"r_string\":[\"a\"],\"r_string\":[\"b\",\"c\"]}", "{\"r_string\":[\"a\",\"b\",\"c\"]}");
}
END_TEST

START_TEST(test_json__defaults_are_written_for_unset_fields_except_deprecated) {
  round_trip(D(defaults), "{}",
             "{\"timeout\":5.0,\"checkpoint\":false,\"role\":\"*\",\"color\":\"GREEN\","
             "\"big\":5000000000,\"blob\":\"YWI=\"}");
  round_trip(D(defaults), "{\"timeout\":1.5,\"role\":\"web\",\"old_role\":\"x\",\"plain\":0}",
             "{\"timeout\":1.5,\"checkpoint\":false,\"role\":\"web\",\"color\":\"GREEN\","
             "\"big\":5000000000,\"old_role\":\"x\",\"blob\":\"YWI=\",\"plain\":0}");
  /* A decoded message leaves unset fields at their defaults. */
  Mesos__Test__Codec__Defaults *m = (Mesos__Test__Codec__Defaults *)decode_ok(D(defaults), "{}");
  ck_assert(!m->has_timeout && m->timeout == 5.0);
  ck_assert_str_eq(m->role, "*");
  mesos__pb_free(m);
}
END_TEST

START_TEST(test_json__oneof_keeps_the_last_member) {
  round_trip(D(choice), "{\"number\":5,\"after\":1}", NULL);
  round_trip(D(choice), "{\"number\":5,\"text\":\"t\"}", "{\"text\":\"t\"}");
  round_trip(D(choice), "{\"text\":\"t\",\"inner\":{\"value\":\"v\"}}", "{\"inner\":{\"value\":\"v\"}}");
  round_trip(D(choice), "{\"inner\":{\"value\":\"v\"},\"text\":\"t\"}", "{\"text\":\"t\"}");
  Mesos__Test__Codec__Choice *c = (Mesos__Test__Codec__Choice *)decode_ok(D(choice), "{\"text\":\"t\"}");
  ck_assert_int_eq(c->pick_case, MESOS__TEST__CODEC__CHOICE__PICK_TEXT);
  mesos__pb_free(c);
}
END_TEST

START_TEST(test_json__maps_are_objects_keyed_by_text) {
  round_trip(D(maps),
             "{\"limits\":{\"cpus\":2.0,\"mem\":\"Infinity\"},\"inners\":{\"a\":{\"value\":\"x\"}},"
             "\"names\":{\"-1\":\"minus\",\"7\":\"seven\"},\"flags\":{\"true\":5000000000}}",
             NULL);
  Mesos__Test__Codec__Maps *m = (Mesos__Test__Codec__Maps *)decode_ok(D(maps), "{\"limits\":{\"cpus\":2.5}}");
  ck_assert_int_eq(m->n_limits, 1);
  ck_assert_str_eq(m->limits[0]->key, "cpus");
  ck_assert(m->limits[0]->value == 2.5);
  mesos__pb_free(m);
  decode_fails(D(maps), "{\"names\":{\"x\":\"y\"}}", MESOS_EINVAL, "names: map key 'x' is not an integer");
  decode_fails(D(maps), "{\"limits\":[]}", MESOS_EINVAL, "limits: expected an object (map), got an array");
  decode_fails(D(maps), "{\"inners\":{\"k\":{}}}", MESOS_EINVAL, "inners.k.value: required field missing");
  decode_fails(D(maps), "{\"limits\":{\"cpus\":\"x\"}}", MESOS_EINVAL, "limits.cpus: 'x' is not a number");
}
END_TEST

START_TEST(test_json__top_level_must_be_one_object) {
  decode_fails(D(scalars), "[]", MESOS_EINVAL, "top level must be a JSON object");
  decode_fails(D(scalars), "5", MESOS_EINVAL, "top level must be a JSON object");
  decode_fails(D(scalars), "null", MESOS_EINVAL, "top level must be a JSON object");
  decode_fails(D(scalars), "", MESOS_EINVAL, "mesos.test.codec.Scalars");
  decode_fails(D(scalars), "{} {}", MESOS_EINVAL, "invalid JSON");
  decode_fails(D(scalars), "{\"f_int32\":1", MESOS_EINVAL, "invalid JSON");
  decode_fails(D(scalars), "{'a':1}", MESOS_EINVAL, "invalid JSON");
  round_trip(D(scalars), " \n{ \"f_int32\" : 1 }\t", "{\"f_int32\":1}");
}
END_TEST

static char *nested_tree(int depth) {
  size_t cap = (size_t)depth * 12 + 8;
  char *s = malloc(cap);
  size_t at = 0;
  for (int i = 0; i < depth - 1; i++) at += (size_t)snprintf(s + at, cap - at, "{\"parent\":");
  at += (size_t)snprintf(s + at, cap - at, "{");
  for (int i = 0; i < depth; i++) at += (size_t)snprintf(s + at, cap - at, "}");
  return s;
}

START_TEST(test_json__nesting_is_limited) {
  char *ok = nested_tree(MESOS__JSON_MAX_DEPTH);
  ProtobufCMessage *m = decode_ok(D(tree), ok);
  char *out = encode(m);
  ck_assert_str_eq(out, ok);
  mesos__free(out);
  mesos__pb_free(m);
  free(ok);
  char *deep = nested_tree(MESOS__JSON_MAX_DEPTH + 1);
  decode_fails(D(tree), deep, MESOS_ELIMIT, "JSON nests deeper than 64 levels");
  free(deep);
  /* Hostile depth inside an ignored key is bounded too. */
  char hostile[100010];
  memcpy(hostile, "{\"x\":", 5);
  memset(hostile + 5, '[', 100000);
  hostile[100005] = '\0';
  decode_fails(D(tree), hostile, MESOS_ELIMIT, "nests deeper");
  /* An encoder given a message deeper than the decoder takes refuses it. */
  Mesos__Test__Codec__Tree nodes[MESOS__JSON_MAX_DEPTH + 1];
  for (int i = 0; i <= MESOS__JSON_MAX_DEPTH; i++) {
    mesos__test__codec__tree__init(&nodes[i]);
    if (i > 0) nodes[i - 1].parent = &nodes[i];
  }
  mesos__buf b = MESOS__BUF_INIT(1 << 20);
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__json_encode(&nodes[0].base, &b, &err), MESOS_ELIMIT);
  ck_assert_int_eq(b.len, 0);
  mesos_error_free(err);
  mesos__buf_free(&b);
}
END_TEST

START_TEST(test_json__size_and_memory_limits_are_enforced) {
  const char *json = "{\"r_string\":[\"aaaaaaaaaaaaaaaa\",\"bbbbbbbbbbbbbbbbbbbb\"]}";
  ProtobufCMessage *m = NULL;
  mesos_error *err = NULL;
  mesos__json_limits lim = {0, 10, 0};
  ck_assert_int_eq(mesos__json_decode(D(repeats), json, strlen(json), &lim, &m, &err), MESOS_ELIMIT);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "exceed the limit of 10"));
  mesos_error_free(err);
  err = NULL;
  int64_t live = mesos__alloc_live();
  mesos__json_limits lim2 = {0, 0, 200};
  ck_assert_int_eq(mesos__json_decode(D(repeats), json, strlen(json), &lim2, &m, &err), MESOS_ELIMIT);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "memory limit of 200 bytes"));
  mesos_error_free(err);
  ck_assert_ptr_null(m);
  ck_assert_int_eq(mesos__alloc_live(), live);
  /* Output limit: the buffer's max. */
  m = decode_ok(D(repeats), json);
  mesos__buf b = MESOS__BUF_INIT(20);
  err = NULL;
  ck_assert_int_eq(mesos__json_encode(m, &b, &err), MESOS_ELIMIT);
  mesos_error_free(err);
  mesos__buf_free(&b);
  mesos__pb_free(m);
}
END_TEST

static const char *everything_json =
    "{\"scalars\":{\"f_double\":2.5,\"f_int64\":-5,\"f_string\":\"s\",\"f_bytes\":\"AQI=\","
    "\"f_enum\":\"RED\",\"f_inner\":{\"value\":\"i\"}},"
    "\"repeats\":{\"r_int32\":[1,2],\"r_string\":[\"a\"],\"r_inner\":[{\"value\":\"x\"}]},"
    "\"required\":{\"id\":1,\"name\":\"n\",\"color\":\"BLUE\",\"inner\":{\"value\":\"v\"}},"
    "\"defaults\":{\"timeout\":5.0,\"checkpoint\":false,\"role\":\"*\",\"color\":\"GREEN\","
    "\"big\":5000000000,\"blob\":\"YWI=\"},"
    "\"tree\":{\"name\":\"root\",\"parent\":{\"name\":\"up\"},\"children\":[{\"name\":\"c1\"},"
    "{\"name\":\"c2\",\"children\":[{}]}]},"
    "\"choice\":{\"inner\":{\"value\":\"c\"},\"after\":9},"
    "\"maps\":{\"limits\":{\"cpus\":1.0},\"names\":{\"3\":\"three\"},\"flags\":{\"false\":1}}}";

START_TEST(test_json__whole_tree_round_trips_through_protobuf_too) {
  ProtobufCMessage *m = decode_ok(D(everything), everything_json);
  char *out = encode(m);
  ck_assert_str_eq(out, everything_json);
  uint8_t *pb = NULL;
  size_t pb_len = 0;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__pb_pack(m, 0, &pb, &pb_len, &err), &err);
  ProtobufCMessage *m2 = NULL;
  ck_assert_mesos_ok(mesos__pb_unpack(D(everything), pb, pb_len, 0, 0, &m2, &err), &err);
  char *out2 = encode(m2);
  ck_assert_str_eq(out2, everything_json);
  mesos__free(out);
  mesos__free(out2);
  mesos__free(pb);
  mesos__pb_free(m);
  mesos__pb_free(m2);
}
END_TEST

START_TEST(test_json__allocation_failures_fail_cleanly_at_every_point) {
  size_t len = strlen(everything_json);
  mesos__alloc_fail_after(0);
  ProtobufCMessage *m = NULL;
  ck_assert_int_eq(mesos__json_decode(D(everything), everything_json, len, NULL, &m, NULL), MESOS_OK);
  mesos__pb_free(m);
  for (uint64_t n = 1;; n++) {
    int64_t live = mesos__alloc_live();
    mesos__alloc_fail_after(n);
    m = NULL;
    mesos_status s = mesos__json_decode(D(everything), everything_json, len, NULL, &m, NULL);
    uint64_t made = mesos__alloc_fail_after(0);
    if (s == MESOS_OK) {
      ck_assert_uint_lt(made, n);
      mesos__pb_free(m);
      break;
    }
    ck_assert_int_eq(s, MESOS_ENOMEM);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(mesos__alloc_live(), live);
  }
  m = decode_ok(D(everything), everything_json);
  for (uint64_t n = 1;; n++) {
    mesos__buf b = MESOS__BUF_INIT(1 << 20);
    mesos__alloc_fail_after(n);
    mesos_status s = mesos__json_encode(m, &b, NULL);
    uint64_t made = mesos__alloc_fail_after(0);
    mesos__buf_free(&b);
    if (s == MESOS_OK) {
      ck_assert_uint_lt(made, n);
      break;
    }
    ck_assert_int_eq(s, MESOS_ENOMEM);
  }
  mesos__pb_free(m);
}
END_TEST

/* The quoting the direct /state and GET_STATE writers share: what a JSON
 * parser reads back is the input, byte for byte, and the worst case fits
 * the stated room. */
START_TEST(test_json__quote_escapes_what_json_requires_and_fits_its_room) {
  const char in[] = "a\"b\\c\n\r\t\b\f\x01\x1f\x7f \xc3\xa9/";
  size_t n = sizeof in - 1;
  char out[MESOS__JSON_QUOTE_ROOM(sizeof in)];
  char *end = mesos__json_quote(out, in, n);
  ck_assert_uint_le((size_t)(end - out), MESOS__JSON_QUOTE_ROOM(n));
  *end = '\0';
  ck_assert_str_eq(out, "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\x7f \xc3\xa9/\"");
  /* Worst case: every byte a control character. */
  char ctl[16], big[MESOS__JSON_QUOTE_ROOM(sizeof ctl)];
  memset(ctl, 0x02, sizeof ctl);
  ck_assert_uint_eq((size_t)(mesos__json_quote(big, ctl, sizeof ctl) - big),
                    MESOS__JSON_QUOTE_ROOM(sizeof ctl));
  ck_assert_uint_eq((size_t)(mesos__json_quote(big, "", 0) - big), 2);
}
END_TEST

static Suite *json_suite(void) {
  Suite *s = suite_create("codec_json");
  TCase *tc = tcase_create("json");
  tcase_add_test(tc, test_json__every_scalar_type_decodes);
  tcase_add_test(tc, test_json__scalars_encode_as_mesos_writes_them);
  tcase_add_test(tc, test_json__integers_accept_numeric_strings_and_integral_floats);
  tcase_add_test(tc, test_json__integers_out_of_range_or_fractional_are_refused);
  tcase_add_test(tc, test_json__doubles_round_trip_exactly);
  tcase_add_test(tc, test_json__bare_infinity_tokens_from_newer_mesos_are_accepted);
  tcase_add_test(tc, test_json__bools_accept_true_false_strings);
  tcase_add_test(tc, test_json__strings_with_nul_and_non_strings_are_refused);
  tcase_add_test(tc, test_json__bytes_base64_is_lenient_like_mesos);
  tcase_add_test(tc, test_json__enums_are_names_and_unknown_ones_depend_on_the_label);
  tcase_add_test(tc, test_json__unknown_enum_numbers_are_not_written);
  tcase_add_test(tc, test_json__repeated_fields_of_every_type_round_trip);
  tcase_add_test(tc, test_json__empty_and_null_repeated_fields_are_unset);
  tcase_add_test(tc, test_json__missing_required_fields_are_named_by_path);
  tcase_add_test(tc, test_json__unknown_keys_and_nulls_are_ignored);
  tcase_add_test(tc, test_json__keys_in_any_order_and_repeated_keys_replace);
  tcase_add_test(tc, test_json__defaults_are_written_for_unset_fields_except_deprecated);
  tcase_add_test(tc, test_json__oneof_keeps_the_last_member);
  tcase_add_test(tc, test_json__maps_are_objects_keyed_by_text);
  tcase_add_test(tc, test_json__top_level_must_be_one_object);
  tcase_add_test(tc, test_json__nesting_is_limited);
  tcase_add_test(tc, test_json__size_and_memory_limits_are_enforced);
  tcase_add_test(tc, test_json__whole_tree_round_trips_through_protobuf_too);
  tcase_add_test(tc, test_json__allocation_failures_fail_cleanly_at_every_point);
  tcase_add_test(tc, test_json__quote_escapes_what_json_requires_and_fits_its_room);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(json_suite()); }
