/* RecordIO framing (lib/codec/recordio.c) and its public wrappers. */
#include <string.h>

#include "base/alloc.h"
#include "codec/recordio.h"
#include "mesos/codec.h"
#include "support/testutil.h"

/* Feeds `stream` in chunks of `chunk` bytes and concatenates the records,
 * each followed by '|'. */
static void decode_in_chunks(const char *stream, size_t chunk, char *out, size_t cap) {
  mesos__recordio_decoder d;
  mesos__recordio_decoder_init(&d, 64);
  size_t n = strlen(stream), at = 0;
  out[0] = '\0';
  mesos_error *err = NULL;
  for (size_t pos = 0; pos < n; pos += chunk) {
    size_t len = n - pos < chunk ? n - pos : chunk;
    ck_assert_mesos_ok(mesos__recordio_decoder_feed(&d, stream + pos, len, &err), &err);
    for (;;) {
      const uint8_t *rec;
      size_t rl;
      mesos_status s = mesos__recordio_decoder_next(&d, &rec, &rl, &err);
      if (s == MESOS_EAGAIN) break;
      ck_assert_mesos_ok(s, &err);
      ck_assert_uint_lt(at + rl + 1, cap);
      memcpy(out + at, rec, rl);
      at += rl;
      out[at++] = '|';
      out[at] = '\0';
    }
  }
  ck_assert(mesos__recordio_decoder_idle(&d));
  mesos__recordio_decoder_free(&d);
}

START_TEST(test_recordio__records_split_at_every_boundary_decode_the_same) {
  const char *stream = "20\n{\"type\":\"HEARTBEAT\"}1\nx12\nhello world!3\n\n\n\n";
  for (size_t chunk = 1; chunk <= strlen(stream); chunk++) {
    char out[256];
    decode_in_chunks(stream, chunk, out, sizeof out);
    ck_assert_str_eq(out, "{\"type\":\"HEARTBEAT\"}|x|hello world!|\n\n\n|");
  }
}
END_TEST

START_TEST(test_recordio__whole_records_are_returned_without_copying) {
  const char *stream = "3\nabc2\nde";
  mesos__recordio_decoder d;
  mesos__recordio_decoder_init(&d, 0);
  ck_assert_uint_eq(d.max_record, MESOS__RECORDIO_MAX_RECORD);
  ck_assert_int_eq(mesos__recordio_decoder_feed(&d, stream, strlen(stream), NULL), MESOS_OK);
  const uint8_t *rec;
  size_t len;
  ck_assert_int_eq(mesos__recordio_decoder_next(&d, &rec, &len, NULL), MESOS_OK);
  ck_assert_ptr_eq(rec, (const uint8_t *)stream + 2);
  ck_assert_uint_eq(len, 3);
  /* Feeding before the chunk is drained is refused. */
  ck_assert_int_eq(mesos__recordio_decoder_feed(&d, "1\nx", 3, NULL), MESOS_EBUSY);
  ck_assert_int_eq(mesos__recordio_decoder_next(&d, &rec, &len, NULL), MESOS_OK);
  ck_assert_ptr_eq(rec, (const uint8_t *)stream + 7);
  ck_assert_int_eq(mesos__recordio_decoder_next(&d, &rec, &len, NULL), MESOS_EAGAIN);
  ck_assert(mesos__recordio_decoder_idle(&d));
  mesos__recordio_decoder_free(&d);
}
END_TEST

static void expect_failure(const char *stream, size_t max, mesos_status code, const char *needle) {
  mesos__recordio_decoder d;
  mesos__recordio_decoder_init(&d, max);
  mesos_error *err = NULL;
  mesos_status s = MESOS_OK;
  const uint8_t *rec;
  size_t len;
  /* Byte by byte: the failure must not wait for more input than needed. */
  for (size_t i = 0; stream[i] && s != code; i++) {
    ck_assert_int_eq(mesos__recordio_decoder_feed(&d, stream + i, 1, NULL), MESOS_OK);
    while ((s = mesos__recordio_decoder_next(&d, &rec, &len, &err)) == MESOS_OK) continue;
  }
  ck_assert_msg(s == code, "%s: got %s", stream, mesos_status_name(s));
  ck_assert_msg(strstr(mesos_error_message(err), needle) != NULL, "'%s' lacks '%s'",
                mesos_error_message(err), needle);
  mesos_error_free(err);
  err = NULL;
  /* Sticky: later calls fail the same way. */
  ck_assert_int_eq(mesos__recordio_decoder_feed(&d, "1\na", 3, &err), code);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "failed earlier"));
  mesos_error_free(err);
  ck_assert_int_eq(mesos__recordio_decoder_next(&d, &rec, &len, NULL), code);
  ck_assert(!mesos__recordio_decoder_idle(&d));
  mesos__recordio_decoder_free(&d);
}

START_TEST(test_recordio__bad_length_prefixes_fail_with_a_clear_error) {
  expect_failure("1\na2x\nbb", 10, MESOS_EPROTO, "byte 0x78 is not a digit");
  expect_failure("-1\n", 10, MESOS_EPROTO, "not a digit");
  expect_failure(" 1\na", 10, MESOS_EPROTO, "not a digit");
  expect_failure("\n", 10, MESOS_EPROTO, "empty length prefix");
  expect_failure("0\n", 10, MESOS_EPROTO, "zero-length record");
  expect_failure("11\n", 10, MESOS_ELIMIT, "record length 11 exceeds the maximum of 10 bytes");
  /* Oversize is detected from the digits, before any newline. */
  expect_failure("99999999999999999999999", 1 << 20, MESOS_ELIMIT, "exceeds the maximum");
}
END_TEST

START_TEST(test_recordio__encoder_frames_and_refuses_empty_records) {
  char hdr[24];
  ck_assert_uint_eq(mesos__recordio_header(0, hdr), 2);
  ck_assert_uint_eq(mesos__recordio_header(18446744073709551615ULL, hdr), 21);
  ck_assert(memcmp(hdr, "18446744073709551615\n", 21) == 0);
  mesos__buf b = MESOS__BUF_INIT(64);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__recordio_append(&b, "{\"type\":\"HEARTBEAT\"}", 20, &err), &err);
  ck_assert_mesos_ok(mesos__recordio_append(&b, "x", 1, &err), &err);
  ck_assert_str_eq(b.data, "20\n{\"type\":\"HEARTBEAT\"}1\nx");
  ck_assert_int_eq(mesos__recordio_append(&b, "", 0, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  char big[64] = {0};
  ck_assert_int_eq(mesos__recordio_append(&b, big, sizeof big, &err), MESOS_ELIMIT);
  mesos_error_free(err);
  mesos__buf_free(&b);
}
END_TEST

START_TEST(test_recordio__public_api_round_trips) {
  uint8_t *framed = NULL;
  size_t n = 0;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_recordio_encode("hello", 5, &framed, &n, &err), &err);
  ck_assert_uint_eq(n, 7);
  ck_assert(memcmp(framed, "5\nhello", 7) == 0);
  ck_assert_int_eq(mesos_recordio_encode("", 0, &framed, &n, NULL), MESOS_EINVAL);
  mesos_recordio_decoder *d = NULL;
  ck_assert_mesos_ok(mesos_recordio_decoder_new(&d, 0, &err), &err);
  ck_assert(mesos_recordio_decoder_idle(d));
  const uint8_t *rec;
  size_t len;
  ck_assert_mesos_ok(mesos_recordio_decoder_feed(d, framed, 4, &err), &err);
  ck_assert_int_eq(mesos_recordio_decoder_next(d, &rec, &len, NULL), MESOS_EAGAIN);
  ck_assert(!mesos_recordio_decoder_idle(d));
  ck_assert_mesos_ok(mesos_recordio_decoder_feed(d, framed + 4, 3, &err), &err);
  ck_assert_mesos_ok(mesos_recordio_decoder_next(d, &rec, &len, &err), &err);
  ck_assert_uint_eq(len, 5);
  ck_assert(memcmp(rec, "hello", 5) == 0);
  ck_assert_int_eq(mesos_recordio_decoder_next(d, &rec, &len, NULL), MESOS_EAGAIN);
  ck_assert(mesos_recordio_decoder_idle(d));
  ck_assert_int_eq(mesos_recordio_decoder_next(NULL, &rec, &len, NULL), MESOS_EINVAL);
  mesos_recordio_decoder_free(d);
  mesos_recordio_decoder_free(NULL);
  mesos_free(framed);
}
END_TEST

static Suite *recordio_suite(void) {
  Suite *s = suite_create("codec_recordio");
  TCase *tc = tcase_create("recordio");
  tcase_add_test(tc, test_recordio__records_split_at_every_boundary_decode_the_same);
  tcase_add_test(tc, test_recordio__whole_records_are_returned_without_copying);
  tcase_add_test(tc, test_recordio__bad_length_prefixes_fail_with_a_clear_error);
  tcase_add_test(tc, test_recordio__encoder_frames_and_refuses_empty_records);
  tcase_add_test(tc, test_recordio__public_api_round_trips);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(recordio_suite()); }
