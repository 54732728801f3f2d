/* The status update manager (lib/agent/status_update.c) writes an update of
 * a framework without checkpointing on the loop thread, at once, when its
 * stream's file is open and nothing is queued: no thread-pool round trip on
 * the way of TASK_STARTING / TASK_RUNNING to the master.  A checkpointing
 * framework's update still waits for the pool's group commit (it needs an
 * fdatasync before it may be sent).
 *
 * How the test tells the two apart: the pool (one thread here) is held
 * busy by a job of the test while the update is made; a record that is in
 * the file right after the call returns was written by the call itself. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "loop/loop_int.h"
#include "support/testutil.h"

static char dir[64];
static mesos_agent agent;
static Mesos__V1__FrameworkInfo fw_plain, fw_checkpoint;
static int pipefd[2] = {-1, -1};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static void setup(void) {
  /* One pool thread, so one job of ours holds the whole pool.  Read when
   * the pool starts (the first job of the process). */
  setenv("UV_THREADPOOL_SIZE", "1", 1);
  snprintf(dir, sizeof dir, "/tmp/test-status-inline-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  memset(&agent, 0, sizeof agent);
  agent.work_dir = dir;
  agent.retry_base_ms = 10000;
  mesos__map_init(&agent.streams);
  mesos__map_init(&agent.frameworks);
  mesos__map_init(&agent.tasks);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&agent.loop, NULL, &err), &err);
  mesos__v1__framework_info__init(&fw_plain);
  mesos__v1__framework_info__init(&fw_checkpoint);
  fw_plain.has_checkpoint = 1;
  fw_plain.checkpoint = 0;
  fw_checkpoint.has_checkpoint = 1;
  fw_checkpoint.checkpoint = 1;
  ck_assert_int_eq(mesos__map_put(&agent.frameworks, "fw-plain", &fw_plain), MESOS_OK);
  ck_assert_int_eq(mesos__map_put(&agent.frameworks, "fw-cp", &fw_checkpoint), MESOS_OK);
  ck_assert_int_eq(pipe(pipefd), 0);
}

static void teardown(void) {
  if (pipefd[1] >= 0) close(pipefd[1]); /* releases a blocker still waiting */
  pipefd[1] = -1;
  if (agent.loop) {
    mesos__agent_status_free_all(&agent);
    while (mesos_loop_run_once(agent.loop) > 0) {
    }
    mesos_loop_free(agent.loop);
  }
  mesos__map_free(&agent.streams);
  mesos__map_free(&agent.frameworks);
  mesos__map_free(&agent.tasks);
  if (pipefd[0] >= 0) close(pipefd[0]);
  pipefd[0] = -1;
  nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void on_tick(mesos_timer *t, void *ud) {
  (void)t;
  mesos_loop_stop(ud);
}

/* Runs the loop (10 ms turns) until `key`'s stream file is open and idle,
 * for at most 10 s. */
static void wait_ready(const char *key) {
  mesos_timer *tick = NULL;
  ck_assert_mesos_ok(mesos_timer_new(&tick, agent.loop, on_tick, agent.loop, NULL), NULL);
  for (int i = 0; i < 1000 && !mesos__agent_status_file_ready(&agent, key); i++) {
    mesos_timer_start(tick, 10, 0);
    mesos_loop_run(agent.loop, NULL);
  }
  mesos_timer_free(tick);
  ck_assert_msg(mesos__agent_status_file_ready(&agent, key), "%s: the stream never opened", key);
}

static void block_work(uv_work_t *req) {
  (void)req;
  char c;
  while (read(pipefd[0], &c, 1) < 0) {
  }
}

static void block_done(uv_work_t *req, int status) {
  (void)status;
  mesos__free(req);
}

static void hold_pool(void) {
  uv_work_t *req = mesos__calloc(1, sizeof *req);
  ck_assert_ptr_nonnull(req);
  ck_assert_int_eq(uv_queue_work(mesos__loop_uv(agent.loop), req, block_work, block_done), 0);
}

static void release_pool(void) {
  close(pipefd[1]);
  pipefd[1] = -1;
}

static long file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static void stream_path(char *buf, size_t n, const char *fw, const char *task) {
  snprintf(buf, n, "%s/meta/frameworks/%s/executors/%s/runs/c1/tasks/%s/task.updates", dir, fw,
           task, task);
}

START_TEST(test_status_inline__an_update_without_checkpointing_is_written_at_once) {
  char plain[512], cp[512];
  stream_path(plain, sizeof plain, "fw-plain", "t1");
  stream_path(cp, sizeof cp, "fw-cp", "t2");
  mesos__agent_status_prepare(&agent, "fw-plain", "t1", plain);
  mesos__agent_status_prepare(&agent, "fw-cp", "t2", cp);
  wait_ready("fw-plain/t1");
  wait_ready("fw-cp/t2");
  ck_assert_int_eq(file_size(plain), 0);
  ck_assert_int_eq(file_size(cp), 0);
  hold_pool();
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__agent_status_update(&agent, "fw-plain", "t1", "t1", plain,
                                                MESOS__V1__TASK_STATE__TASK_RUNNING, -1, NULL,
                                                &err),
                     &err);
  ck_assert_mesos_ok(mesos__agent_status_update(&agent, "fw-cp", "t2", "t2", cp,
                                                MESOS__V1__TASK_STATE__TASK_RUNNING, -1, NULL,
                                                &err),
                     &err);
  /* No loop turn, and the pool is busy: only a write by the call itself
   * can be in the file. */
  ck_assert_int_gt(file_size(plain), 0);
  ck_assert_int_eq(file_size(cp), 0);
  ck_assert(mesos__agent_status_file_ready(&agent, "fw-plain/t1"));
  ck_assert(!mesos__agent_status_file_ready(&agent, "fw-cp/t2"));
  /* A second one goes the same way, after the first. */
  long one = file_size(plain);
  ck_assert_mesos_ok(mesos__agent_status_update(&agent, "fw-plain", "t1", "t1", plain,
                                                MESOS__V1__TASK_STATE__TASK_FINISHED, -1, "done",
                                                &err),
                     &err);
  ck_assert_int_gt(file_size(plain), one);
  /* The checkpointing framework's record is written by the group commit
   * once the pool is free. */
  release_pool();
  wait_ready("fw-cp/t2");
  ck_assert_int_gt(file_size(cp), 0);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("status_inline");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_status_inline__an_update_without_checkpointing_is_written_at_once);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
