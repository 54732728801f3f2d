#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"
#include "support/oom.h"
#include "support/testutil.h"

/* A host allocator that counts what the library asks of it. */
struct counts {
  long mallocs, reallocs, frees, live;
  size_t smallest;
  int wrong_ud;
};

static struct counts counts;

static void *count_malloc(size_t n, void *ud) {
  if (ud != &counts) counts.wrong_ud++;
  if (n < counts.smallest) counts.smallest = n;
  void *p = malloc(n);
  if (p) counts.mallocs++, counts.live++;
  return p;
}

static void *count_realloc(void *p, size_t n, void *ud) {
  if (ud != &counts) counts.wrong_ud++;
  if (n < counts.smallest) counts.smallest = n;
  counts.reallocs++;
  if (p == NULL) counts.live++;
  return realloc(p, n);
}

static void count_free(void *p, void *ud) {
  if (ud != &counts) counts.wrong_ud++;
  if (p) counts.frees++, counts.live--;
  free(p);
}

static const mesos_mem_functions counting = {MESOS_MEM_FUNCTIONS_VERSION, count_malloc,
                                              count_realloc, count_free, &counts};

static void reset_counts(void) {
  memset(&counts, 0, sizeof counts);
  counts.smallest = SIZE_MAX;
}

static void timer_cb(mesos_timer *t, void *ud) {
  (void)t;
  (*(int *)ud)++;
}

START_TEST(test_alloc__a_counting_allocator_sees_every_library_allocation) {
  reset_counts();
  ck_assert_int_eq(mesos_mem_set_functions(&counting), MESOS_OK);

  /* Loop, timer, a growing buffer (realloc) and an error. */
  mesos_loop *loop = NULL;
  mesos_timer *t = NULL;
  mesos_error *err = NULL;
  int fired = 0;
  ck_assert_mesos_ok(mesos_loop_new(&loop, NULL, &err), &err);
  ck_assert_mesos_ok(mesos_timer_new(&t, loop, timer_cb, &fired, &err), &err);
  ck_assert_int_eq(mesos_timer_start(t, 1, 0), MESOS_OK);
  ck_assert_int_eq(mesos_loop_run(loop, NULL), MESOS_OK);
  ck_assert_int_eq(fired, 1);
  mesos__buf b = MESOS__BUF_INIT(4096);
  for (int i = 0; i < 100; i++) mesos__buf_printf(&b, "%d,", i);
  mesos__err(&err, MESOS_EIO, "an error %s", "message");
  ck_assert_int_gt(counts.live, 0);
  ck_assert_int_eq(counts.live, mesos__alloc_live());

  mesos_error_free(err);
  mesos__buf_free(&b);
  mesos_timer_free(t);
  mesos_loop_free(loop);

  ck_assert_int_ge(counts.mallocs, 4);
  ck_assert_int_gt(counts.reallocs, 0);
  ck_assert_int_eq(counts.live, 0);
  ck_assert_int_eq(counts.mallocs, counts.frees);
  ck_assert_int_eq(counts.wrong_ud, 0);
  ck_assert_uint_gt(counts.smallest, 0); /* never asked for zero bytes */
  ck_assert_int_eq(mesos__alloc_live(), 0);
  ck_assert_int_eq(mesos_mem_set_functions(NULL), MESOS_OK);
}
END_TEST

START_TEST(test_alloc__zero_byte_requests_still_give_distinct_memory) {
  reset_counts();
  ck_assert_int_eq(mesos_mem_set_functions(&counting), MESOS_OK);
  void *a = mesos__malloc(0), *b = mesos__malloc(0);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert_ptr_ne(a, b);
  ck_assert_uint_eq(counts.smallest, 1);
  a = mesos__realloc(a, 0);
  ck_assert_ptr_nonnull(a);
  ck_assert_uint_eq(counts.smallest, 1);
  mesos__free(a);
  mesos__free(b);
  ck_assert_int_eq(counts.live, 0);
  ck_assert_int_eq(mesos_mem_set_functions(NULL), MESOS_OK);
}
END_TEST

START_TEST(test_alloc__unknown_version_is_refused_with_eversion) {
  mesos_mem_functions fns = counting;
  fns.version = MESOS_MEM_FUNCTIONS_VERSION + 1;
  ck_assert_int_eq(mesos_mem_set_functions(&fns), MESOS_EVERSION);
  fns.version = 0;
  ck_assert_int_eq(mesos_mem_set_functions(&fns), MESOS_EVERSION);
  /* Still the C library's allocator: the counters see nothing. */
  reset_counts();
  mesos__free(mesos__malloc(8));
  ck_assert_int_eq(counts.mallocs, 0);
}
END_TEST

START_TEST(test_alloc__a_missing_function_is_refused_with_einval) {
  mesos_mem_functions fns = counting;
  fns.malloc_fn = NULL;
  ck_assert_int_eq(mesos_mem_set_functions(&fns), MESOS_EINVAL);
  fns = counting;
  fns.realloc_fn = NULL;
  ck_assert_int_eq(mesos_mem_set_functions(&fns), MESOS_EINVAL);
  fns = counting;
  fns.free_fn = NULL;
  ck_assert_int_eq(mesos_mem_set_functions(&fns), MESOS_EINVAL);
  reset_counts();
  mesos__free(mesos__malloc(8));
  ck_assert_int_eq(counts.mallocs, 0);
}
END_TEST

START_TEST(test_alloc__replacing_while_memory_is_outstanding_is_refused_with_ebusy) {
  void *held = mesos__malloc(16); /* from the C library's allocator */
  ck_assert_ptr_nonnull(held);
  ck_assert_int_eq(mesos_mem_set_functions(&counting), MESOS_EBUSY);
  ck_assert_int_eq(mesos_mem_set_functions(NULL), MESOS_EBUSY);
  mesos__free(held);
  ck_assert_int_eq(mesos_mem_set_functions(&counting), MESOS_OK);

  /* And the other way round: counting memory outstanding, no going back. */
  reset_counts();
  held = mesos__malloc(16);
  ck_assert_int_eq(counts.live, 1);
  ck_assert_int_eq(mesos_mem_set_functions(NULL), MESOS_EBUSY);
  mesos_free(held); /* the public twin of mesos__free */
  ck_assert_int_eq(counts.live, 0);
  ck_assert_int_eq(mesos_mem_set_functions(NULL), MESOS_OK);
}
END_TEST

START_TEST(test_alloc__mesos_free_accepts_null) {
  mesos_free(NULL);
  mesos__free(NULL);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_alloc__functions_are_copied_not_borrowed) {
  reset_counts();
  mesos_mem_functions fns = counting;
  ck_assert_int_eq(mesos_mem_set_functions(&fns), MESOS_OK);
  memset(&fns, 0, sizeof fns); /* the caller's copy goes away */
  mesos__free(mesos__malloc(8));
  ck_assert_int_eq(counts.mallocs, 1);
  ck_assert_int_eq(counts.frees, 1);
  ck_assert_int_eq(mesos_mem_set_functions(NULL), MESOS_OK);
}
END_TEST

START_TEST(test_alloc__injected_failures_start_at_the_nth_allocation_and_persist) {
  mesos__alloc_fail_after(3);
  void *a = mesos__malloc(1), *b = mesos__malloc(1);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert_ptr_null(mesos__malloc(1));
  ck_assert_ptr_null(mesos__calloc(1, 1));
  ck_assert_ptr_null(mesos__strdup("x"));
  /* realloc of existing memory fails too, and leaves it valid. */
  ck_assert_ptr_null(mesos__realloc(a, 100));
  /* Six attempts since the hook was set, failed ones included. */
  ck_assert_uint_eq(mesos__alloc_fail_after(0), 6);
  void *c = mesos__malloc(1); /* reset: no longer failing */
  ck_assert_ptr_nonnull(c);
  mesos__free(c);
  mesos__free(a);
  mesos__free(b);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

struct loop_and_timer {
  int runs;
};

/* What a host does first: a loop, a timer on it, started, then freed. */
static mesos_status loop_and_timer(void *ud) {
  struct loop_and_timer *st = ud;
  st->runs++;
  mesos_loop *loop = NULL;
  mesos_timer *t = NULL;
  mesos_error *err = NULL;
  int fired = 0;
  mesos_status s = mesos_loop_new(&loop, NULL, &err);
  if (s == MESOS_OK) s = mesos_timer_new(&t, loop, timer_cb, &fired, &err);
  if (s == MESOS_OK) s = mesos_timer_start(t, 0, 0);
  if (s == MESOS_OK) s = mesos_loop_run(loop, &err);
  if (s != MESOS_OK) {
    /* The error object itself may be the static one; either way it names
     * out-of-memory and freeing it is safe. */
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(mesos_error_code(err), MESOS_ENOMEM);
    ck_assert_ptr_null(t); /* a failed constructor leaves *out alone */
  } else {
    ck_assert_int_eq(fired, 1);
  }
  mesos_error_free(err);
  mesos_timer_free(t);
  mesos_loop_free(loop);
  return s;
}

START_TEST(test_alloc__loop_and_timer_creation_survive_oom_torture) {
  struct loop_and_timer st = {0};
  uint64_t allocs = mesos_test_oom_torture(loop_and_timer, &st, 1000);
  ck_assert_uint_ge(allocs, 2); /* the loop and the timer at least */
  ck_assert_int_eq(st.runs, (int)allocs + 1);
}
END_TEST

static Suite *alloc_suite(void) {
  Suite *s = suite_create("alloc");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_alloc__a_counting_allocator_sees_every_library_allocation);
  tcase_add_test(tc, test_alloc__zero_byte_requests_still_give_distinct_memory);
  tcase_add_test(tc, test_alloc__unknown_version_is_refused_with_eversion);
  tcase_add_test(tc, test_alloc__a_missing_function_is_refused_with_einval);
  tcase_add_test(tc, test_alloc__replacing_while_memory_is_outstanding_is_refused_with_ebusy);
  tcase_add_test(tc, test_alloc__mesos_free_accepts_null);
  tcase_add_test(tc, test_alloc__functions_are_copied_not_borrowed);
  tcase_add_test(tc, test_alloc__injected_failures_start_at_the_nth_allocation_and_persist);
  tcase_add_test(tc, test_alloc__loop_and_timer_creation_survive_oom_torture);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(alloc_suite()); }
