#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "support/oom.h"
#include "support/testutil.h"

/* Every code of include/mesos/common.h, with its enumerator's spelling. */
#define STATUS(c) {c, #c}
static const struct {
  mesos_status code;
  const char *name;
} all_statuses[] = {
    STATUS(MESOS_OK),        STATUS(MESOS_ERROR),    STATUS(MESOS_EINVAL),
    STATUS(MESOS_ENOMEM),    STATUS(MESOS_EVERSION), STATUS(MESOS_ENOTFOUND),
    STATUS(MESOS_EEXIST),    STATUS(MESOS_EIO),      STATUS(MESOS_ETIMEDOUT),
    STATUS(MESOS_ECLOSED),   STATUS(MESOS_EPROTO),   STATUS(MESOS_ETLS),
    STATUS(MESOS_ELIMIT),    STATUS(MESOS_EBUSY),    STATUS(MESOS_EUSER),
    STATUS(MESOS_EAGAIN),    STATUS(MESOS_EPERM),    STATUS(MESOS_EUNSUPPORTED),
};
#define NSTATUSES (sizeof all_statuses / sizeof all_statuses[0])

START_TEST(test_error__every_status_has_its_enumerator_name_and_a_description) {
  for (size_t i = 0; i < NSTATUSES; i++) {
    ck_assert_str_eq(mesos_status_name(all_statuses[i].code), all_statuses[i].name);
    const char *str = mesos_status_str(all_statuses[i].code);
    ck_assert_ptr_nonnull(str);
    ck_assert_str_ne(str, "unknown status");
    ck_assert_int_gt(strlen(str), 0);
    /* Descriptions are distinct, so a message never hides which code it is. */
    for (size_t j = 0; j < i; j++)
      ck_assert_str_ne(mesos_status_str(all_statuses[j].code), str);
  }
}
END_TEST

START_TEST(test_error__status_codes_are_distinct_and_not_positive) {
  for (size_t i = 0; i < NSTATUSES; i++) {
    ck_assert_int_le(all_statuses[i].code, 0);
    for (size_t j = 0; j < i; j++) ck_assert_int_ne(all_statuses[j].code, all_statuses[i].code);
  }
}
END_TEST

START_TEST(test_error__unknown_statuses_have_a_placeholder_name) {
  const mesos_status unknown[] = {1, 100, -1000, INT32_MIN, INT32_MAX};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    ck_assert_str_eq(mesos_status_name(unknown[i]), "MESOS_UNKNOWN");
    ck_assert_str_eq(mesos_status_str(unknown[i]), "unknown status");
  }
}
END_TEST

START_TEST(test_error__err_stores_code_and_formatted_message) {
  mesos_error *e = NULL;
  ck_assert_int_eq(mesos__err(&e, MESOS_EPROTO, "bad %s at byte %d", "header", 17), MESOS_EPROTO);
  ck_assert_ptr_nonnull(e);
  ck_assert_int_eq(mesos_error_code(e), MESOS_EPROTO);
  ck_assert_str_eq(mesos_error_message(e), "bad header at byte 17");
  ck_assert_ptr_null(mesos_error_cause(e));
  mesos_error_free(e);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_error__null_err_pointer_only_returns_the_code) {
  ck_assert_int_eq(mesos__err(NULL, MESOS_EINVAL, "ignored %d", 1), MESOS_EINVAL);
  ck_assert_int_eq(mesos__err_errno(NULL, MESOS_EIO, ENOENT, "open"), MESOS_EIO);
  ck_assert_int_eq(mesos__alloc_live(), 0);
  /* The cause handed to wrap is freed even though nobody wants the error. */
  mesos_error *cause = NULL;
  mesos__err(&cause, MESOS_EIO, "cause");
  ck_assert_int_gt(mesos__alloc_live(), 0);
  ck_assert_int_eq(mesos__err_wrap(NULL, MESOS_ETLS, cause, "wrapped"), MESOS_ETLS);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_error__wrap_builds_a_cause_chain) {
  mesos_error *io = NULL, *tls = NULL, *top = NULL;
  mesos__err_errno(&io, MESOS_EIO, ECONNRESET, "read");
  mesos__err_wrap(&tls, MESOS_ETLS, io, "handshake with %s", "master");
  ck_assert_int_eq(mesos__err_wrap(&top, MESOS_ECLOSED, tls, "connection lost"), MESOS_ECLOSED);

  ck_assert_int_eq(mesos_error_code(top), MESOS_ECLOSED);
  ck_assert_str_eq(mesos_error_message(top), "connection lost");
  const mesos_error *c1 = mesos_error_cause(top);
  ck_assert_ptr_eq(c1, tls);
  ck_assert_int_eq(mesos_error_code(c1), MESOS_ETLS);
  ck_assert_str_eq(mesos_error_message(c1), "handshake with master");
  const mesos_error *c2 = mesos_error_cause(c1);
  ck_assert_ptr_eq(c2, io);
  ck_assert_int_eq(mesos_error_code(c2), MESOS_EIO);
  ck_assert_str_eq(mesos_error_message(c2), "read: Connection reset by peer");
  ck_assert_ptr_null(mesos_error_cause(c2));

  mesos_error_free(top); /* frees the whole chain */
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_error__errno_message_names_the_call_and_the_reason) {
  mesos_error *e = NULL;
  ck_assert_int_eq(mesos__err_errno(&e, MESOS_ENOTFOUND, ENOENT, "open /nonexistent"),
                   MESOS_ENOTFOUND);
  ck_assert_str_eq(mesos_error_message(e), "open /nonexistent: No such file or directory");
  mesos_error_free(e);
}
END_TEST

START_TEST(test_error__free_accepts_null) {
  mesos_error_free(NULL);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

static void *free_chain(void *e) {
  mesos_error_free(e);
  return NULL;
}

START_TEST(test_error__a_very_long_cause_chain_is_freed_without_recursion) {
  mesos_error *e = NULL;
  for (int i = 0; i < 100000; i++) {
    mesos_error *next = NULL;
    mesos__err_wrap(&next, MESOS_ERROR, e, "level %d", i);
    ck_assert_int_ne(mesos_error_code(next), MESOS_ENOMEM);
    e = next;
  }
  /* Freed on a thread with a 256 KiB stack: a recursive free would need
   * at least 100000 frames of 16 bytes or more, and crash. */
  pthread_attr_t attr;
  pthread_t th;
  ck_assert_int_eq(pthread_attr_init(&attr), 0);
  ck_assert_int_eq(pthread_attr_setstacksize(&attr, 256 * 1024), 0);
  ck_assert_int_eq(pthread_create(&th, &attr, free_chain, e), 0);
  ck_assert_int_eq(pthread_join(th, NULL), 0);
  pthread_attr_destroy(&attr);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_error__move_hands_over_or_frees) {
  mesos_error *src = NULL, *dst = NULL;
  mesos__err(&src, MESOS_EBUSY, "busy");
  mesos__err_move(&dst, src);
  ck_assert_ptr_eq(dst, src);
  mesos_error_free(dst);
  mesos__err(&src, MESOS_EBUSY, "busy");
  mesos__err_move(NULL, src);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_error__oom_on_the_error_itself_gives_the_static_error) {
  /* First allocation (the struct) fails. */
  mesos_error *e = NULL;
  mesos__alloc_fail_after(1);
  ck_assert_int_eq(mesos__err(&e, MESOS_EINVAL, "lost"), MESOS_EINVAL);
  mesos__alloc_fail_after(0);
  ck_assert_ptr_nonnull(e);
  ck_assert_int_eq(mesos_error_code(e), MESOS_ENOMEM);
  ck_assert_str_eq(mesos_error_message(e), "out of memory");
  ck_assert_ptr_null(mesos_error_cause(e));
  ck_assert_int_eq(mesos__alloc_live(), 0);
  mesos_error_free(e); /* static: freeing it is harmless, even twice */
  mesos_error_free(e);
  ck_assert_int_eq(mesos_error_code(e), MESOS_ENOMEM);

  /* Second allocation (the message) fails: the struct is given back. */
  mesos_error *e2 = NULL;
  mesos__alloc_fail_after(2);
  mesos__err(&e2, MESOS_EINVAL, "lost too");
  mesos__alloc_fail_after(0);
  ck_assert_ptr_eq(e2, e);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_error__oom_while_wrapping_frees_the_cause) {
  mesos_error *cause = NULL, *e = NULL;
  mesos__err(&cause, MESOS_EIO, "disk");
  ck_assert_int_eq(mesos__alloc_live(), 2);
  mesos__alloc_fail_after(1);
  ck_assert_int_eq(mesos__err_wrap(&e, MESOS_EPROTO, cause, "checkpoint"), MESOS_EPROTO);
  mesos__alloc_fail_after(0);
  ck_assert_int_eq(mesos_error_code(e), MESOS_ENOMEM);
  ck_assert_int_eq(mesos__alloc_live(), 0);
  mesos_error_free(e);
}
END_TEST

START_TEST(test_error__static_oom_error_may_be_the_cause_of_another) {
  mesos_error *oom = NULL, *e = NULL;
  mesos__alloc_fail_after(1);
  mesos__err(&oom, MESOS_EIO, "x");
  mesos__alloc_fail_after(0);
  mesos__err_wrap(&e, MESOS_EIO, oom, "while saving");
  ck_assert_int_eq(mesos_error_code(e), MESOS_EIO);
  ck_assert_ptr_eq(mesos_error_cause(e), oom);
  mesos_error_free(e);
  ck_assert_int_eq(mesos__alloc_live(), 0);
  ck_assert_int_eq(mesos_error_code(oom), MESOS_ENOMEM); /* untouched */
}
END_TEST

static mesos_status make_chain(void *ud) {
  (void)ud;
  mesos_error *a = NULL, *b = NULL;
  mesos__err(&a, MESOS_EIO, "a %d", 1);
  mesos__err_wrap(&b, MESOS_EPROTO, a, "b %s", "two");
  /* The static error is what callers see when the chain could not be
   * built; its code tells the torture what happened. */
  mesos_status s = mesos_error_code(b) == MESOS_ENOMEM ? MESOS_ENOMEM : MESOS_OK;
  mesos_error_free(b);
  return s;
}

START_TEST(test_error__building_a_chain_under_oom_torture_never_leaks) {
  ck_assert_uint_eq(mesos_test_oom_torture(make_chain, NULL, 100), 4);
}
END_TEST

static Suite *error_suite(void) {
  Suite *s = suite_create("error");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_error__every_status_has_its_enumerator_name_and_a_description);
  tcase_add_test(tc, test_error__status_codes_are_distinct_and_not_positive);
  tcase_add_test(tc, test_error__unknown_statuses_have_a_placeholder_name);
  tcase_add_test(tc, test_error__err_stores_code_and_formatted_message);
  tcase_add_test(tc, test_error__null_err_pointer_only_returns_the_code);
  tcase_add_test(tc, test_error__wrap_builds_a_cause_chain);
  tcase_add_test(tc, test_error__errno_message_names_the_call_and_the_reason);
  tcase_add_test(tc, test_error__free_accepts_null);
  tcase_add_test(tc, test_error__a_very_long_cause_chain_is_freed_without_recursion);
  tcase_add_test(tc, test_error__move_hands_over_or_frees);
  tcase_add_test(tc, test_error__oom_on_the_error_itself_gives_the_static_error);
  tcase_add_test(tc, test_error__oom_while_wrapping_frees_the_cause);
  tcase_add_test(tc, test_error__static_oom_error_may_be_the_cause_of_another);
  tcase_add_test(tc, test_error__building_a_chain_under_oom_torture_never_leaks);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(error_suite()); }
