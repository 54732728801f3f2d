#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/testutil.h"

static void count_cb(mesos_timer *t, void *ud) {
  (void)t;
  (*(int *)ud)++;
}

START_TEST(test_loop__run_returns_when_no_handles_are_active) {
  mesos_loop *loop = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&loop, NULL, &err), &err);
  ck_assert_mesos_ok(mesos_loop_run(loop, &err), &err);
  ck_assert_int_eq(mesos_loop_run_once(loop), 0);
  mesos_loop_free(loop);
}
END_TEST

START_TEST(test_loop__options_with_unknown_version_are_refused) {
  mesos_loop_options opts = MESOS_LOOP_OPTIONS_INIT;
  opts.version = 99;
  mesos_loop *loop = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, &opts, &err), MESOS_EVERSION);
  ck_assert_ptr_null(loop);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "mesos_loop_options"));
  mesos_error_free(err);
  ck_assert_int_eq(mesos_loop_options_init(&opts, 2), MESOS_EVERSION);
  ck_assert_int_eq(mesos_loop_options_init(&opts, MESOS_LOOP_OPTIONS_VERSION), MESOS_OK);
}
END_TEST

START_TEST(test_loop__repeating_timer_fires_until_stopped) {
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  int n = 0;
  mesos_timer *t = NULL;
  ck_assert_int_eq(mesos_timer_new(&t, loop, count_cb, &n, NULL), MESOS_OK);
  ck_assert_int_eq(mesos_timer_start(t, 1, 1), MESOS_OK);
  while (n < 5) mesos_loop_run_once(loop), usleep(1000);
  mesos_timer_stop(t);
  int seen = n;
  for (int i = 0; i < 5; i++) mesos_loop_run_once(loop), usleep(2000);
  ck_assert_int_eq(n, seen);
  mesos_timer_free(t);
  mesos_loop_free(loop);
}
END_TEST

static void free_self_cb(mesos_timer *t, void *ud) {
  (*(int *)ud)++;
  mesos_timer_free(t);
}

START_TEST(test_loop__timer_freed_inside_its_own_callback_is_safe) {
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  int n = 0;
  mesos_timer *t = NULL;
  ck_assert_int_eq(mesos_timer_new(&t, loop, free_self_cb, &n, NULL), MESOS_OK);
  mesos_timer_start(t, 0, 1);
  ck_assert_int_eq(mesos_loop_run(loop, NULL), MESOS_OK);
  ck_assert_int_eq(n, 1);
  mesos_loop_free(loop);
}
END_TEST

START_TEST(test_loop__free_closes_handles_left_open) {
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  int n = 0;
  mesos_timer *t = NULL;
  ck_assert_int_eq(mesos_timer_new(&t, loop, count_cb, &n, NULL), MESOS_OK);
  mesos_timer_start(t, 100000, 0);
  mesos_loop_free(loop); /* ASan reports a leak if the timer is not freed */
  ck_assert_int_eq(n, 0);
}
END_TEST

/* The embedding contract: a host that only knows poll(), an fd and a
 * timeout drives timers and wake-ups to completion. */
struct embed_state {
  int fired;
  int woken;
};

static void embed_timer_cb(mesos_timer *t, void *ud) {
  (void)t;
  ((struct embed_state *)ud)->fired++;
}

static void embed_wakeup_cb(mesos_loop *loop, void *ud) {
  (void)loop;
  ((struct embed_state *)ud)->woken++;
}

static void *wake_from_thread(void *arg) {
  usleep(20000);
  mesos_loop_wakeup(arg);
  return NULL;
}

START_TEST(test_loop__host_poll_loop_drives_timers_and_wakeups) {
  struct embed_state st = {0, 0};
  mesos_loop_options opts = MESOS_LOOP_OPTIONS_INIT;
  opts.wakeup_cb = embed_wakeup_cb;
  opts.wakeup_ud = &st;
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, &opts, NULL), MESOS_OK);
  int fd = mesos_loop_fd(loop);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(mesos_loop_timeout_ms(loop), -1);

  mesos_timer *t = NULL;
  ck_assert_int_eq(mesos_timer_new(&t, loop, embed_timer_cb, &st, NULL), MESOS_OK);
  mesos_timer_start(t, 30, 0);
  ck_assert_int_eq(mesos_loop_run_once(loop), 1); /* registers the change */
  int to = mesos_loop_timeout_ms(loop);
  ck_assert_int_gt(to, 0);
  ck_assert_int_le(to, 30);

  pthread_t th;
  pthread_create(&th, NULL, wake_from_thread, loop);
  int polls = 0;
  while ((st.fired == 0 || st.woken == 0) && polls < 1000) {
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, mesos_loop_timeout_ms(loop));
    ck_assert_int_ge(r, 0);
    ck_assert_int_ge(mesos_loop_run_once(loop), 0);
    polls++;
  }
  pthread_join(th, NULL);
  ck_assert_int_eq(st.fired, 1);
  ck_assert_int_eq(st.woken, 1);
  /* poll() blocked instead of spinning: a handful of iterations at most. */
  ck_assert_int_lt(polls, 20);
  mesos_timer_free(t);
  while (mesos_loop_run_once(loop) > 0) {
  }
  mesos_loop_free(loop);
}
END_TEST

struct child_state {
  int done;
  int32_t pid;
  int status;
};

static void child_cb(mesos_child *c, int32_t pid, int status, void *ud) {
  struct child_state *st = ud;
  st->done = 1;
  st->pid = pid;
  st->status = status;
  mesos_child_free(c);
}

START_TEST(test_loop__child_exit_is_reported_with_its_status) {
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  pid_t pid = fork();
  if (pid == 0) {
    usleep(20000);
    _exit(7);
  }
  struct child_state st = {0, 0, 0};
  mesos_child *c = NULL;
  ck_assert_int_eq(mesos_child_new(&c, loop, pid, child_cb, &st, NULL), MESOS_OK);
  ck_assert_int_eq(mesos_loop_run(loop, NULL), MESOS_OK);
  ck_assert_int_eq(st.done, 1);
  ck_assert_int_eq(st.pid, pid);
  ck_assert(WIFEXITED(st.status));
  ck_assert_int_eq(WEXITSTATUS(st.status), 7);
  mesos_loop_free(loop);
}
END_TEST

START_TEST(test_loop__child_that_exited_before_watching_is_reported) {
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  pid_t pid = fork();
  if (pid == 0) _exit(3);
  usleep(50000); /* exited and zombie before the watcher exists */
  struct child_state st = {0, 0, 0};
  mesos_child *c = NULL;
  ck_assert_int_eq(mesos_child_new(&c, loop, pid, child_cb, &st, NULL), MESOS_OK);
  ck_assert_int_eq(st.done, 0); /* never from inside mesos_child_new */
  ck_assert_int_eq(mesos_loop_run(loop, NULL), MESOS_OK);
  ck_assert_int_eq(st.done, 1);
  ck_assert_int_eq(WEXITSTATUS(st.status), 3);
  mesos_loop_free(loop);
}
END_TEST

/* A burst of exits: every child is reported exactly once, with its own
 * status, and a callback may free another ended child whose callback has not
 * run yet (that callback then never runs). */
#define BURST 64
struct burst {
  mesos_child *c[BURST];
  int32_t pid[BURST];
  int calls[BURST];
  int status[BURST];
};

static void burst_cb(mesos_child *c, int32_t pid, int status, void *ud) {
  struct burst *b = ud;
  for (int i = 0; i < BURST; i++) {
    if (b->c[i] != c) continue;
    ck_assert_int_eq(pid, b->pid[i]);
    b->calls[i]++;
    b->status[i] = status;
    b->c[i] = NULL;
    mesos_child_free(c);
    if (i == 0 && b->c[1] != NULL) { /* child 1 ended too: drop its watcher */
      mesos_child_free(b->c[1]);
      b->c[1] = NULL;
    }
    return;
  }
  ck_abort_msg("callback for a child that is not watched (pid %d)", (int)pid);
}

START_TEST(test_loop__a_burst_of_exits_is_reported_once_each) {
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  struct burst b;
  memset(&b, 0, sizeof b);
  for (int i = 0; i < BURST; i++) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) _exit(i % 100);
    b.pid[i] = pid;
  }
  usleep(100000); /* all of them zombies: one reaping pass finds them all */
  for (int i = 0; i < BURST; i++)
    ck_assert_int_eq(mesos_child_new(&b.c[i], loop, b.pid[i], burst_cb, &b, NULL), MESOS_OK);
  ck_assert_int_eq(mesos_loop_run(loop, NULL), MESOS_OK);
  ck_assert_int_eq(b.calls[0], 1);
  ck_assert_int_eq(b.calls[1], 0); /* freed by child 0's callback first */
  for (int i = 2; i < BURST; i++) {
    ck_assert_int_eq(b.calls[i], 1);
    ck_assert(WIFEXITED(b.status[i]));
    ck_assert_int_eq(WEXITSTATUS(b.status[i]), i % 100);
  }
  /* Child 1 was reaped by the pass even though its watcher went away. */
  errno = 0;
  ck_assert_int_eq(waitpid(b.pid[1], NULL, WNOHANG), -1);
  ck_assert_int_eq(errno, ECHILD);
  mesos_loop_free(loop);
}
END_TEST

START_TEST(test_loop__watching_a_non_child_fails_with_enotfound) {
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  mesos_child *c = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos_child_new(&c, loop, 1, child_cb, NULL, &err), MESOS_ENOTFOUND);
  mesos_error_free(err);
  ck_assert_int_eq(mesos_child_new(&c, loop, 0, child_cb, NULL, NULL), MESOS_EINVAL);
  mesos_loop_free(loop);
}
END_TEST

static void sig_cb(mesos_signal *s, int signum, void *ud) {
  *(int *)ud = signum;
  mesos_signal_free(s);
}

START_TEST(test_loop__signal_is_delivered_on_the_loop_thread) {
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  int got = 0;
  mesos_signal *s = NULL;
  ck_assert_int_eq(mesos_signal_new(&s, loop, SIGUSR1, sig_cb, &got, NULL), MESOS_OK);
  kill(getpid(), SIGUSR1);
  ck_assert_int_eq(mesos_loop_run(loop, NULL), MESOS_OK);
  ck_assert_int_eq(got, SIGUSR1);
  ck_assert_int_eq(mesos_signal_new(&s, loop, SIGKILL, sig_cb, &got, NULL), MESOS_EINVAL);
  mesos_loop_free(loop);
}
END_TEST

/* A wake-up from another thread must reach a host-driven loop even when
 * nothing else is active (no timer, no connection). */
START_TEST(test_loop__wakeup_reaches_an_otherwise_idle_host_driven_loop) {
  struct embed_state st = {0, 0};
  mesos_loop_options opts = MESOS_LOOP_OPTIONS_INIT;
  opts.wakeup_cb = embed_wakeup_cb;
  opts.wakeup_ud = &st;
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, &opts, NULL), MESOS_OK);
  pthread_t th;
  pthread_create(&th, NULL, wake_from_thread, loop);
  for (int i = 0; i < 100 && st.woken == 0; i++) {
    struct pollfd p = {mesos_loop_fd(loop), POLLIN, 0};
    poll(&p, 1, 50);
    ck_assert_int_eq(mesos_loop_run_once(loop), 0);
  }
  pthread_join(th, NULL);
  ck_assert_int_eq(st.woken, 1);
  mesos_loop_free(loop);
}
END_TEST

static Suite *loop_suite(void) {
  Suite *s = suite_create("loop");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 10);
  tcase_add_test(tc, test_loop__run_returns_when_no_handles_are_active);
  tcase_add_test(tc, test_loop__options_with_unknown_version_are_refused);
  tcase_add_test(tc, test_loop__repeating_timer_fires_until_stopped);
  tcase_add_test(tc, test_loop__timer_freed_inside_its_own_callback_is_safe);
  tcase_add_test(tc, test_loop__free_closes_handles_left_open);
  tcase_add_test(tc, test_loop__host_poll_loop_drives_timers_and_wakeups);
  tcase_add_test(tc, test_loop__child_exit_is_reported_with_its_status);
  tcase_add_test(tc, test_loop__child_that_exited_before_watching_is_reported);
  tcase_add_test(tc, test_loop__a_burst_of_exits_is_reported_once_each);
  tcase_add_test(tc, test_loop__watching_a_non_child_fails_with_enotfound);
  tcase_add_test(tc, test_loop__signal_is_delivered_on_the_loop_thread);
  tcase_add_test(tc, test_loop__wakeup_reaches_an_otherwise_idle_host_driven_loop);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(loop_suite()); }
