#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "support/oom.h"
#include "support/testutil.h"

START_TEST(test_buf__append_up_to_the_maximum_succeeds) {
  mesos__buf b = MESOS__BUF_INIT(10);
  ck_assert_int_eq(mesos__buf_append(&b, "0123456789", 10), MESOS_OK);
  ck_assert_uint_eq(b.len, 10);
  ck_assert_str_eq(b.data, "0123456789"); /* NUL-terminated */
  mesos__buf_free(&b);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_buf__append_past_the_maximum_fails_with_elimit_and_changes_nothing) {
  mesos__buf b;
  mesos__buf_init(&b, 8);
  ck_assert_int_eq(mesos__buf_puts(&b, "abcde"), MESOS_OK);
  ck_assert_int_eq(mesos__buf_puts(&b, "fghi"), MESOS_ELIMIT);
  ck_assert_int_eq(mesos__buf_putc(&b, 'f'), MESOS_OK);
  ck_assert_int_eq(mesos__buf_append(&b, "gh", 2), MESOS_OK);
  ck_assert_int_eq(mesos__buf_putc(&b, 'i'), MESOS_ELIMIT);
  ck_assert_int_eq(mesos__buf_reserve(&b, 1), MESOS_ELIMIT);
  ck_assert_int_eq(mesos__buf_reserve(&b, 0), MESOS_OK);
  ck_assert_uint_eq(b.len, 8);
  ck_assert_str_eq(b.data, "abcdefgh");
  mesos__buf_free(&b);
}
END_TEST

START_TEST(test_buf__a_zero_maximum_refuses_every_byte) {
  mesos__buf b = MESOS__BUF_INIT(0);
  ck_assert_int_eq(mesos__buf_putc(&b, 'x'), MESOS_ELIMIT);
  ck_assert_int_eq(mesos__buf_printf(&b, "%d", 1), MESOS_ELIMIT);
  ck_assert_uint_eq(b.len, 0);
  mesos__buf_free(&b);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_buf__sizes_that_overflow_are_refused_not_wrapped) {
  mesos__buf b = MESOS__BUF_INIT(SIZE_MAX / 2);
  ck_assert_int_eq(mesos__buf_puts(&b, "abc"), MESOS_OK);
  /* len + extra overflows size_t. */
  ck_assert_int_eq(mesos__buf_reserve(&b, SIZE_MAX), MESOS_ELIMIT);
  ck_assert_int_eq(mesos__buf_reserve(&b, SIZE_MAX - 1), MESOS_ELIMIT);
  /* Fits size_t but not the maximum. */
  ck_assert_int_eq(mesos__buf_reserve(&b, SIZE_MAX / 2), MESOS_ELIMIT);
  ck_assert_uint_eq(b.len, 3);
  ck_assert_str_eq(b.data, "abc");
  mesos__buf_free(&b);
}
END_TEST

START_TEST(test_buf__growth_is_geometric) {
  mesos__buf b = MESOS__BUF_INIT(1 << 20);
  mesos__alloc_fail_after(0); /* reset the allocation counter */
  for (int i = 0; i < 100000; i++) ck_assert_int_eq(mesos__buf_putc(&b, (char)('a' + i % 26)), MESOS_OK);
  uint64_t allocs = mesos__alloc_fail_after(0);
  ck_assert_uint_eq(b.len, 100000);
  ck_assert_uint_ge(b.cap, b.len + 1);
  ck_assert_int_eq(b.data[b.len], '\0');
  ck_assert_int_eq(b.data[99999], 'a' + 99999 % 26);
  /* 64 bytes doubled up to 128 KiB: a dozen or so (re)allocations, not one
   * per append. */
  ck_assert_uint_le(allocs, 13);
  mesos__buf_free(&b);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_buf__consume_drops_the_front) {
  mesos__buf b = MESOS__BUF_INIT(64);
  mesos__buf_puts(&b, "hello world");
  mesos__buf_consume(&b, 0);
  ck_assert_str_eq(b.data, "hello world");
  mesos__buf_consume(&b, 6);
  ck_assert_uint_eq(b.len, 5);
  ck_assert_str_eq(b.data, "world");
  mesos__buf_consume(&b, 5);
  ck_assert_uint_eq(b.len, 0);
  ck_assert_str_eq(b.data, "");
  mesos__buf_puts(&b, "again");
  mesos__buf_consume(&b, 1000); /* more than there is: empties it */
  ck_assert_uint_eq(b.len, 0);
  ck_assert_str_eq(b.data, "");
  mesos__buf_free(&b);
}
END_TEST

START_TEST(test_buf__consume_and_clear_on_an_empty_buffer_are_harmless) {
  mesos__buf b = MESOS__BUF_INIT(16);
  mesos__buf_consume(&b, 3);
  mesos__buf_clear(&b);
  ck_assert_ptr_null(b.data);
  ck_assert_uint_eq(b.len, 0);
  mesos__buf_free(&b);
  mesos__buf_free(&b); /* free twice: reusable, no double free */
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_buf__clear_keeps_the_memory) {
  mesos__buf b = MESOS__BUF_INIT(1024);
  mesos__buf_puts(&b, "some text that needs room");
  size_t cap = b.cap;
  char *data = b.data;
  mesos__buf_clear(&b);
  ck_assert_uint_eq(b.len, 0);
  ck_assert_uint_eq(b.cap, cap);
  ck_assert_ptr_eq(b.data, data);
  ck_assert_str_eq(b.data, "");
  mesos__buf_free(&b);
}
END_TEST

START_TEST(test_buf__printf_appends_formatted_text) {
  mesos__buf b = MESOS__BUF_INIT(64);
  ck_assert_int_eq(mesos__buf_printf(&b, "%s=%d", "cpus", 4), MESOS_OK);
  ck_assert_int_eq(mesos__buf_printf(&b, ";%s=%.1f", "mem", 512.0), MESOS_OK);
  ck_assert_str_eq(b.data, "cpus=4;mem=512.0");
  ck_assert_uint_eq(b.len, strlen("cpus=4;mem=512.0"));
  ck_assert_int_eq(mesos__buf_printf(&b, "%s", ""), MESOS_OK);
  ck_assert_uint_eq(b.len, strlen("cpus=4;mem=512.0"));
  mesos__buf_free(&b);
}
END_TEST

START_TEST(test_buf__printf_past_the_maximum_fails_and_keeps_the_old_text) {
  mesos__buf b = MESOS__BUF_INIT(10);
  ck_assert_int_eq(mesos__buf_printf(&b, "%05d", 42), MESOS_OK);
  ck_assert_int_eq(mesos__buf_printf(&b, "%s", "123456"), MESOS_ELIMIT);
  ck_assert_str_eq(b.data, "00042");
  ck_assert_int_eq(mesos__buf_printf(&b, "%s", "12345"), MESOS_OK); /* exactly full */
  ck_assert_str_eq(b.data, "0004212345");
  ck_assert_uint_eq(b.len, 10);
  mesos__buf_free(&b);
}
END_TEST

START_TEST(test_buf__append_of_nothing_leaves_an_empty_terminated_string) {
  mesos__buf b = MESOS__BUF_INIT(4);
  ck_assert_int_eq(mesos__buf_append(&b, NULL, 0), MESOS_OK);
  ck_assert_ptr_nonnull(b.data);
  ck_assert_str_eq(b.data, "");
  mesos__buf_free(&b);
}
END_TEST

START_TEST(test_buf__binary_data_keeps_embedded_nuls) {
  mesos__buf b = MESOS__BUF_INIT(16);
  ck_assert_int_eq(mesos__buf_append(&b, "a\0b", 3), MESOS_OK);
  ck_assert_uint_eq(b.len, 3);
  ck_assert_int_eq(memcmp(b.data, "a\0b", 4), 0);
  mesos__buf_free(&b);
}
END_TEST

START_TEST(test_buf__detach_hands_over_the_data) {
  mesos__buf b = MESOS__BUF_INIT(64);
  mesos__buf_puts(&b, "payload");
  size_t len = 0;
  char *d = mesos__buf_detach(&b, &len);
  ck_assert_str_eq(d, "payload");
  ck_assert_uint_eq(len, 7);
  ck_assert_ptr_null(b.data);
  ck_assert_uint_eq(b.len, 0);
  ck_assert_uint_eq(b.cap, 0);
  mesos__free(d);
  /* An empty buffer detaches as an allocated "". */
  d = mesos__buf_detach(&b, &len);
  ck_assert_ptr_nonnull(d);
  ck_assert_str_eq(d, "");
  ck_assert_uint_eq(len, 0);
  mesos_free(d); /* what a public caller would use */
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_buf__out_of_memory_fails_with_enomem_and_keeps_the_contents) {
  mesos__buf b = MESOS__BUF_INIT(1 << 16);
  ck_assert_int_eq(mesos__buf_puts(&b, "kept"), MESOS_OK);
  char big[200];
  memset(big, 'x', sizeof big);
  mesos__alloc_fail_after(1);
  ck_assert_int_eq(mesos__buf_append(&b, big, sizeof big), MESOS_ENOMEM);
  ck_assert_int_eq(mesos__buf_printf(&b, "%200s", "y"), MESOS_ENOMEM);
  mesos__alloc_fail_after(0);
  ck_assert_uint_eq(b.len, 4);
  ck_assert_str_eq(b.data, "kept");
  mesos__buf_free(&b);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

static mesos_status fill_buffer(void *ud) {
  (void)ud;
  mesos__buf b = MESOS__BUF_INIT(1 << 16);
  mesos_status s = MESOS_OK;
  for (int i = 0; i < 200 && s == MESOS_OK; i++) s = mesos__buf_printf(&b, "line %d\n", i);
  if (s == MESOS_OK) {
    char *d = mesos__buf_detach(&b, NULL);
    if (d == NULL) s = MESOS_ENOMEM;
    mesos__free(d);
  }
  mesos__buf_free(&b);
  return s;
}

START_TEST(test_buf__growth_under_oom_torture_never_leaks) {
  ck_assert_uint_ge(mesos_test_oom_torture(fill_buffer, NULL, 100), 5);
}
END_TEST

START_TEST(test_buf__size_arithmetic_detects_overflow) {
  size_t r = 0;
  ck_assert(mesos__size_add(&r, 1, 2));
  ck_assert_uint_eq(r, 3);
  ck_assert(mesos__size_add(&r, SIZE_MAX - 1, 1));
  ck_assert_uint_eq(r, SIZE_MAX);
  ck_assert(!mesos__size_add(&r, SIZE_MAX, 1));
  ck_assert(!mesos__size_add(&r, SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 1));
  ck_assert(mesos__size_mul(&r, 1000, 1000));
  ck_assert_uint_eq(r, 1000000);
  ck_assert(mesos__size_mul(&r, SIZE_MAX, 1));
  ck_assert(mesos__size_mul(&r, SIZE_MAX, 0));
  ck_assert_uint_eq(r, 0);
  ck_assert(!mesos__size_mul(&r, SIZE_MAX / 2 + 1, 2));
  ck_assert(!mesos__size_mul(&r, (size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4)));
  /* calloc refuses an overflowing product without allocating. */
  mesos__alloc_fail_after(0);
  ck_assert_ptr_null(mesos__calloc(SIZE_MAX / 2 + 1, 2));
  ck_assert_uint_eq(mesos__alloc_fail_after(0), 0);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_buf__an_unbounded_buffer_refuses_a_size_max_reservation) {
  mesos__buf b;
  mesos__buf_init(&b, SIZE_MAX);
  ck_assert_int_eq(mesos__buf_reserve(&b, SIZE_MAX), MESOS_ELIMIT);
  ck_assert_ptr_null(b.data);
  ck_assert_int_eq(mesos__buf_append(&b, "x", 1), MESOS_OK);
  ck_assert_int_eq(mesos__buf_reserve(&b, SIZE_MAX - 1), MESOS_ELIMIT);
  ck_assert_str_eq(b.data, "x");
  mesos__buf_free(&b);
}
END_TEST

static Suite *buf_suite(void) {
  Suite *s = suite_create("buf");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_buf__an_unbounded_buffer_refuses_a_size_max_reservation);
  tcase_add_test(tc, test_buf__append_up_to_the_maximum_succeeds);
  tcase_add_test(tc, test_buf__append_past_the_maximum_fails_with_elimit_and_changes_nothing);
  tcase_add_test(tc, test_buf__a_zero_maximum_refuses_every_byte);
  tcase_add_test(tc, test_buf__sizes_that_overflow_are_refused_not_wrapped);
  tcase_add_test(tc, test_buf__growth_is_geometric);
  tcase_add_test(tc, test_buf__consume_drops_the_front);
  tcase_add_test(tc, test_buf__consume_and_clear_on_an_empty_buffer_are_harmless);
  tcase_add_test(tc, test_buf__clear_keeps_the_memory);
  tcase_add_test(tc, test_buf__printf_appends_formatted_text);
  tcase_add_test(tc, test_buf__printf_past_the_maximum_fails_and_keeps_the_old_text);
  tcase_add_test(tc, test_buf__append_of_nothing_leaves_an_empty_terminated_string);
  tcase_add_test(tc, test_buf__binary_data_keeps_embedded_nuls);
  tcase_add_test(tc, test_buf__detach_hands_over_the_data);
  tcase_add_test(tc, test_buf__out_of_memory_fails_with_enomem_and_keeps_the_contents);
  tcase_add_test(tc, test_buf__growth_under_oom_torture_never_leaks);
  tcase_add_test(tc, test_buf__size_arithmetic_detects_overflow);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(buf_suite()); }
