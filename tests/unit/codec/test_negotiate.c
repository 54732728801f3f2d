/* Content negotiation (lib/codec/negotiate.c) against spec/http-api.md 1.2,
 * 1.3 and 4.4. */
#include <string.h>

#include "codec/negotiate.h"
#include "codec/pb.h"
#include "mesos/v1/executor.pb-c.h"
#include "support/testutil.h"

START_TEST(test_negotiate__media_types_are_matched_leniently) {
  ck_assert_int_eq(mesos__media_parse("application/json", 16), MESOS__MEDIA_JSON);
  const char *ct = " Application/JSON ; charset=utf-8";
  ck_assert_int_eq(mesos__media_parse(ct, strlen(ct)), MESOS__MEDIA_JSON);
  ck_assert_int_eq(mesos__media_parse("application/x-protobuf", 22), MESOS__MEDIA_PROTOBUF);
  ck_assert_int_eq(mesos__media_parse("application/recordio", 20), MESOS__MEDIA_RECORDIO);
  ck_assert_int_eq(mesos__media_parse("text/plain", 10), MESOS__MEDIA_NONE);
  ck_assert_int_eq(mesos__media_parse("application/jsonx", 17), MESOS__MEDIA_NONE);
  ck_assert_str_eq(mesos__media_name(MESOS__MEDIA_PROTOBUF), "application/x-protobuf");
}
END_TEST

START_TEST(test_negotiate__request_content_type_decides_or_refuses) {
  mesos__negotiated n;
  mesos__negotiate_request(NULL, NULL, false, &n);
  ck_assert_int_eq(n.http_status, 400);
  ck_assert_str_eq(n.error, "Expecting 'Content-Type' to be present");
  mesos__negotiate_request("application/json", NULL, false, &n);
  ck_assert_int_eq(n.http_status, 0);
  ck_assert_int_eq(n.message, MESOS__MEDIA_JSON);
  ck_assert(!n.streaming);
  mesos__negotiate_request("application/x-protobuf", NULL, false, &n);
  ck_assert_int_eq(n.message, MESOS__MEDIA_PROTOBUF);
  mesos__negotiate_request("text/html", NULL, false, &n);
  ck_assert_int_eq(n.http_status, 415);
  ck_assert_ptr_nonnull(strstr(n.error, "application/json or application/x-protobuf"));
  /* RecordIO requests exist only where the caller allows streaming. */
  mesos__negotiate_request("application/recordio", "application/json", false, &n);
  ck_assert_int_eq(n.http_status, 415);
  mesos__negotiate_request("application/recordio", "application/x-protobuf", true, &n);
  ck_assert_int_eq(n.http_status, 0);
  ck_assert(n.streaming);
  ck_assert_int_eq(n.message, MESOS__MEDIA_PROTOBUF);
  mesos__negotiate_request("application/recordio", NULL, true, &n);
  ck_assert_int_eq(n.http_status, 400);
  mesos__negotiate_request("application/recordio", "text/plain", true, &n);
  ck_assert_int_eq(n.http_status, 415);
  mesos__negotiate_request("application/json", "application/json", true, &n);
  ck_assert_int_eq(n.http_status, 415);
}
END_TEST

START_TEST(test_negotiate__accept_follows_the_most_specific_range_and_q_zero) {
  ck_assert(mesos__accepts(NULL, "application/json"));
  ck_assert(mesos__accepts("application/json", "application/json"));
  ck_assert(mesos__accepts("*/*", "application/x-protobuf"));
  ck_assert(mesos__accepts("application/*", "application/json"));
  ck_assert(mesos__accepts("text/html, application/x-protobuf;q=0.1", "application/x-protobuf"));
  ck_assert(!mesos__accepts("text/html", "application/json"));
  ck_assert(!mesos__accepts("application/json;q=0", "application/json"));
  ck_assert(!mesos__accepts("application/json; q=0.000", "application/json"));
  ck_assert(mesos__accepts("application/json; q=0.001", "application/json"));
  ck_assert(!mesos__accepts("*/*, application/json;q=0", "application/json"));
  ck_assert(mesos__accepts("*/*;q=0, application/json", "application/json"));
  ck_assert(!mesos__accepts("application/*;q=0, */*", "application/json"));
  ck_assert(!mesos__accepts("", "application/json"));
  ck_assert(!mesos__accepts("application/jsonp", "application/json"));
}
END_TEST

START_TEST(test_negotiate__json_wins_whenever_acceptable) {
  mesos__negotiated n;
  mesos__negotiate_response(NULL, NULL, false, &n);
  ck_assert_int_eq(n.message, MESOS__MEDIA_JSON);
  mesos__negotiate_response("application/x-protobuf;q=1, application/json;q=0.1", NULL, false, &n);
  ck_assert_int_eq(n.message, MESOS__MEDIA_JSON);
  mesos__negotiate_response("application/x-protobuf", NULL, false, &n);
  ck_assert_int_eq(n.message, MESOS__MEDIA_PROTOBUF);
  /* A repeated Accept header, joined with a comma by the HTTP layer. */
  mesos__negotiate_response("text/plain,application/x-protobuf", NULL, false, &n);
  ck_assert_int_eq(n.message, MESOS__MEDIA_PROTOBUF);
  mesos__negotiate_response("text/plain", NULL, false, &n);
  ck_assert_int_eq(n.http_status, 406);
  ck_assert_ptr_nonnull(strstr(n.error, "'Accept'"));
  mesos__negotiate_response("application/json", "application/json", false, &n);
  ck_assert_int_eq(n.http_status, 406);
  ck_assert_ptr_nonnull(strstr(n.error, "Message-Accept"));
}
END_TEST

START_TEST(test_negotiate__agent_streams_use_message_accept) {
  mesos__negotiated n;
  mesos__negotiate_response("application/recordio", NULL, true, &n);
  ck_assert_int_eq(n.http_status, 0);
  ck_assert(n.streaming);
  ck_assert_int_eq(n.message, MESOS__MEDIA_JSON);
  mesos__negotiate_response("application/recordio", "application/x-protobuf", true, &n);
  ck_assert(n.streaming);
  ck_assert_int_eq(n.message, MESOS__MEDIA_PROTOBUF);
  mesos__negotiate_response("application/recordio", "text/plain", true, &n);
  ck_assert_int_eq(n.http_status, 406);
  /* Historic behaviour: no Accept gives a JSON response with RecordIO
   * framing, negotiated like an ordinary one. */
  mesos__negotiate_response(NULL, NULL, true, &n);
  ck_assert_int_eq(n.http_status, 0);
  ck_assert(!n.streaming);
  ck_assert_int_eq(n.message, MESOS__MEDIA_JSON);
}
END_TEST

/* mesos__decode_body: the transport checks and decoding every v1 endpoint
 * shares (the executor API uses it). */
START_TEST(test_negotiate__decode_body_decodes_or_says_what_to_answer) {
  ProtobufCMessage *m = NULL;
  int status = -1;
  char text[512];
  const char *json =
      "{\"type\":\"HEARTBEAT\",\"framework_id\":{\"value\":\"f\"},"
      "\"executor_id\":{\"value\":\"e\"}}";
  mesos__decode_body("application/json", json, strlen(json),
                     &mesos__v1__executor__call__descriptor, "executor::Call", &m, &status, text,
                     sizeof text);
  ck_assert_ptr_nonnull(m);
  ck_assert_int_eq(status, 0);
  ck_assert_int_eq(((Mesos__V1__Executor__Call *)m)->type,
                   MESOS__V1__EXECUTOR__CALL__TYPE__HEARTBEAT);
  mesos__pb_free(m);
  /* No Content-Type: 400; an unknown one: 415; a body that is not the
   * message: 400 naming it. */
  mesos__decode_body(NULL, json, strlen(json), &mesos__v1__executor__call__descriptor,
                     "executor::Call", &m, &status, text, sizeof text);
  ck_assert_ptr_null(m);
  ck_assert_int_eq(status, 400);
  ck_assert_ptr_nonnull(strstr(text, "Content-Type"));
  mesos__decode_body("text/plain", json, strlen(json), &mesos__v1__executor__call__descriptor,
                     "executor::Call", &m, &status, text, sizeof text);
  ck_assert_ptr_null(m);
  ck_assert_int_eq(status, 415);
  mesos__decode_body("application/x-protobuf", "\xff\xff\xff", 3,
                     &mesos__v1__executor__call__descriptor, "executor::Call", &m, &status, text,
                     sizeof text);
  ck_assert_ptr_null(m);
  ck_assert_int_eq(status, 400);
  ck_assert_ptr_nonnull(strstr(text, "Failed to parse body into executor::Call"));
}
END_TEST

static Suite *negotiate_suite(void) {
  Suite *s = suite_create("codec_negotiate");
  TCase *tc = tcase_create("negotiate");
  tcase_add_test(tc, test_negotiate__media_types_are_matched_leniently);
  tcase_add_test(tc, test_negotiate__request_content_type_decides_or_refuses);
  tcase_add_test(tc, test_negotiate__accept_follows_the_most_specific_range_and_q_zero);
  tcase_add_test(tc, test_negotiate__json_wins_whenever_acceptable);
  tcase_add_test(tc, test_negotiate__agent_streams_use_message_accept);
  tcase_add_test(tc, test_negotiate__decode_body_decodes_or_says_what_to_answer);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(negotiate_suite()); }
