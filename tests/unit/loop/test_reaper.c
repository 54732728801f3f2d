/* The loop's child reaping: it asks the kernel which child ended instead
 * of asking every watched child, and still gets every case right that the
 * full scan handled (a host's own children, children reaped elsewhere). */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop/loop_int.h"
#include "mesos/loop.h"
#include "support/testutil.h"

#define SLEEPERS 40

struct rec {
  int calls;
  int32_t pid;
  int status;
  mesos_loop *loop;
  int stop_after; /* stop the loop after this many callbacks */
  int total;
};

static void rec_cb(mesos_child *c, int32_t pid, int status, void *ud) {
  struct rec *r = ud;
  r->calls++;
  r->pid = pid;
  r->status = status;
  mesos_child_free(c);
  if (++r->total >= r->stop_after) mesos_loop_stop(r->loop);
}

static pid_t sleeper(void) {
  pid_t pid = fork();
  if (pid == 0) {
    pause();
    _exit(0);
  }
  return pid;
}

/* Runs the loop until `r` saw its callbacks, at most ~5 s. */
static void run_until(mesos_loop *loop, struct rec *r) {
  for (int i = 0; i < 500 && r->total < r->stop_after; i++) {
    mesos_loop_run_once(loop);
    usleep(10000);
  }
}

/* One child of many ends: the pass costs a few system calls, not one per
 * watched child. */
START_TEST(test_reaper__one_exit_among_many_watched_costs_a_few_calls) {
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  pid_t pids[SLEEPERS];
  mesos_child *cs[SLEEPERS];
  struct rec sl = {0, 0, 0, loop, 1000, 0};
  for (int i = 0; i < SLEEPERS; i++) {
    pids[i] = sleeper();
    ck_assert_int_gt(pids[i], 0);
    ck_assert_int_eq(mesos_child_new(&cs[i], loop, pids[i], rec_cb, &sl, NULL), MESOS_OK);
  }
  /* Let the initial checks (one per mesos_child_new) run. */
  for (int i = 0; i < 5; i++) mesos_loop_run_once(loop);
  uint64_t before = mesos__loop_reap_calls(loop);
  pid_t quick = fork();
  if (quick == 0) _exit(5);
  struct rec q = {0, 0, 0, loop, 1, 0};
  mesos_child *qc = NULL;
  ck_assert_int_eq(mesos_child_new(&qc, loop, quick, rec_cb, &q, NULL), MESOS_OK);
  run_until(loop, &q);
  ck_assert_int_eq(q.calls, 1);
  ck_assert_int_eq(q.pid, quick);
  ck_assert(WIFEXITED(q.status));
  ck_assert_int_eq(WEXITSTATUS(q.status), 5);
  uint64_t used = mesos__loop_reap_calls(loop) - before;
  /* waitid names it, waitpid reaps it, waitid finds no other; the check
   * timer and SIGCHLD may each make a pass (a pass with nothing ended is
   * one call).  A scan of every watched child would be > SLEEPERS. */
  ck_assert_msg(used <= 8, "%llu reaping calls for one exit among %d", (unsigned long long)used,
                SLEEPERS);
  ck_assert_int_eq(sl.calls, 0);
  for (int i = 0; i < SLEEPERS; i++) kill(pids[i], SIGKILL);
  sl.stop_after = SLEEPERS;
  run_until(loop, &sl);
  ck_assert_int_eq(sl.calls, SLEEPERS);
  ck_assert(WIFSIGNALED(sl.status));
  mesos_loop_free(loop);
}
END_TEST

/* A child the host forked and does not watch ends first: it stays for the
 * host to reap, and the watched ones behind it are still found. */
START_TEST(test_reaper__a_host_child_is_left_alone_and_watched_ones_found) {
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  pid_t host = fork();
  if (host == 0) _exit(9);
  usleep(30000); /* a zombie before ours end */
  struct rec r = {0, 0, 0, loop, 3, 0};
  pid_t ours[3];
  mesos_child *cs[3];
  for (int i = 0; i < 3; i++) {
    ours[i] = fork();
    if (ours[i] == 0) _exit(20 + i);
    ck_assert_int_eq(mesos_child_new(&cs[i], loop, ours[i], rec_cb, &r, NULL), MESOS_OK);
  }
  run_until(loop, &r);
  ck_assert_int_eq(r.calls, 3);
  for (int i = 0; i < 3; i++) {
    errno = 0;
    ck_assert_int_eq(waitpid(ours[i], NULL, WNOHANG), -1); /* reaped by the loop */
    ck_assert_int_eq(errno, ECHILD);
  }
  int st = 0;
  ck_assert_int_eq(waitpid(host, &st, WNOHANG), host); /* still the host's */
  ck_assert_int_eq(WEXITSTATUS(st), 9);
  mesos_loop_free(loop);
}
END_TEST

/* A watched child the host reaps itself is still reported (exit 255), not
 * forgotten. */
START_TEST(test_reaper__a_child_reaped_elsewhere_is_reported) {
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  pid_t pid = fork();
  if (pid == 0) {
    usleep(50000);
    _exit(1);
  }
  struct rec r = {0, 0, 0, loop, 1, 0};
  mesos_child *c = NULL;
  ck_assert_int_eq(mesos_child_new(&c, loop, pid, rec_cb, &r, NULL), MESOS_OK);
  ck_assert_int_eq(waitpid(pid, NULL, 0), pid); /* the host got there first */
  run_until(loop, &r);
  ck_assert_int_eq(r.calls, 1);
  ck_assert(WIFEXITED(r.status));
  ck_assert_int_eq(WEXITSTATUS(r.status), 255);
  mesos_loop_free(loop);
}
END_TEST

static Suite *reaper_suite(void) {
  Suite *s = suite_create("reaper");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 20);
  tcase_add_test(tc, test_reaper__one_exit_among_many_watched_costs_a_few_calls);
  tcase_add_test(tc, test_reaper__a_host_child_is_left_alone_and_watched_ones_found);
  tcase_add_test(tc, test_reaper__a_child_reaped_elsewhere_is_reported);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(reaper_suite()); }
