/*
 * A kill that arrives while a command task's executor is still starting.
 * mesos-executor is started off the agent's loop (executor_api.c: the
 * sandbox's mkdirs and posix_spawn run on the thread pool), so between the
 * task's RUN_TASK and its executor's pid there is a window in which the
 * task has no process yet; before that it waits in the launch queue, after
 * it the executor has a pid but has not subscribed, then it runs.  A KILL
 * in any of these must end in TASK_KILLED, with nothing of the task left
 * running.  Kills sent 0..14 ms after the ACCEPT land in different ones of
 * these windows (which one is up to the machine, so all of them are tried
 * on every run).
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/cluster.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

static mesos_test_cluster cl; /* master, agent, directory: support/cluster.h */

static void make_base(void) { mesos_test_cluster_make_base(&cl, "/tmp/mesos-agent-test2"); }
/* MESOS_TEST_KEEP=1 keeps the work directories and logs for debugging. */
static void remove_base(void) { mesos_test_cluster_remove_base(&cl); }

static void start_daemons(void) {
  mesos_test_cluster_start_master(&cl, NULL);
  mesos_test_cluster_start_agent(&cl, "agent", NULL, NULL);
}

/* How many processes have their working directory under `dir` (executors
 * and tasks run in their sandboxes); counted, not killed. */
static int count_under(const char *dir) {
  DIR *d = opendir("/proc");
  ck_assert_ptr_nonnull(d);
  size_t n = strlen(dir);
  int count = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    char *end = NULL;
    long pid = strtol(de->d_name, &end, 10);
    if (pid <= 0 || (end && *end)) continue;
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/%ld/cwd", pid);
    ssize_t len = readlink(link, target, sizeof target - 1);
    if (len <= 0) continue;
    target[len] = '\0';
    if (strncmp(target, dir, n) == 0 && (target[n] == '/' || target[n] == '\0')) count++;
  }
  closedir(d);
  return count;
}

START_TEST(test_agent_tasks2__kill_while_the_executor_starts_gives_task_killed) {
  start_daemons();
  sim_fw f;
  sim_fw_subscribe(&f, cl.master_port, "\"user\":\"nobody\",\"name\":\"kill while starting\"");
  for (int i = 0; i < 8; i++) {
    char offer[160], agent[160], task[32];
    /* Each killed task's resources come back as an offer of their own. */
    sim_fw_wait_offer_min(&f, "agent-test", 0.5, 32, offer, agent, sizeof offer);
    snprintf(task, sizeof task, "k%d", i);
    sim_fw_launch(&f, offer, agent, task, NULL, 32, "sleep 1000");
    usleep((useconds_t)(i * 2000));
    ck_assert_int_eq(sim_fw_call(&f,
                                 "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"KILL\",\"kill\":"
                                 "{\"task_id\":{\"value\":\"%s\"}}}",
                                 f.id, task),
                     202);
    /* STARTING/RUNNING, if the kill came after them, are acknowledged on
     * the way; the task must end killed, not failed or lost. */
    char *rec = sim_fw_expect_final(&f, task, "TASK_KILLED", 20000);
    free(rec);
  }
  /* Every executor exits once its TASK_KILLED is acknowledged, and the
   * agent sweeps its session: nothing of the eight tasks stays. */
  int left = -1;
  for (long long until = sim_fw_now_ms() + 10000; sim_fw_now_ms() < until;) {
    if ((left = count_under(cl.work_dir)) == 0) break;
    usleep(50000);
  }
  ck_assert_msg(left == 0, "%d processes still run under %s", left, cl.work_dir);
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  mesos_test_cluster_stop(&cl);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_tasks2");
  TCase *tc = tcase_create("agent");
  tcase_set_timeout(tc, 120);
  tcase_add_unchecked_fixture(tc, make_base, remove_base);
  tcase_add_test(tc, test_agent_tasks2__kill_while_the_executor_starts_gives_task_killed);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
