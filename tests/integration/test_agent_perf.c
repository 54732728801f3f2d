/*
 * The agent's launch path, as the task-launch benchmark exercises it, with
 * real daemons on loopback: a burst of tasks in one ACCEPT, every update
 * in order per task, and all the agent's calls to the master on one
 * pipelined connection (lib/http/pipe.h) besides its event stream (the
 * pooled client it replaced kept several open after a burst); a framework
 * without checkpointing still gets its status update streams written
 * (without fsyncs: status_update.c), a checkpointing one too.
 */
#include <dirent.h>
#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

#define BURST 6

static char base_dir[256];
static pid_t master_pid = -1, agent_pid = -1;
static int master_port, agent_port;
static char work_dir[512];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static void make_base(void) {
  snprintf(base_dir, sizeof base_dir, "/tmp/mesos-agent-perf-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(base_dir));
}

static void remove_base(void) {
  if (base_dir[0]) mesos_test_kill_under(base_dir);
  if (getenv("MESOS_TEST_KEEP")) {
    fprintf(stderr, "kept %s\n", base_dir);
    return;
  }
  if (base_dir[0]) nftw(base_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void start_daemons(const char *name) {
  char path[4096], port_arg[64], master_arg[64], wd_arg[600], log[600];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  char *margv[] = {path, "--ip=127.0.0.1", port_arg, "--allocation_interval=50ms",
                   "--logging_level=WARNING", NULL};
  master_pid = mesos_test_spawn(margv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert(mesos_test_wait_http_ok(master_port, "/health", 5000));

  mesos_test_daemon_path("mesos-agent", path, sizeof path);
  snprintf(work_dir, sizeof work_dir, "%s/%s", base_dir, name);
  snprintf(log, sizeof log, "%s/%s.log", base_dir, name);
  agent_port = mesos_test_free_port();
  snprintf(master_arg, sizeof master_arg, "--master=127.0.0.1:%d", master_port);
  snprintf(port_arg, sizeof port_arg, "--port=%d", agent_port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s", work_dir);
  char *aargv[] = {path, master_arg, port_arg, wd_arg, "--ip=127.0.0.1",
                   "--hostname=agent-perf", "--resources=cpus:4;mem:1024;disk:1024",
                   "--registration_backoff_factor=50ms", NULL};
  agent_pid = mesos_test_spawn(aargv, log);
  ck_assert_int_gt(agent_pid, 0);
  ck_assert(mesos_test_wait_http_ok(agent_port, "/health", 5000));
}

static void stop_daemons(void) {
  if (agent_pid > 0) {
    int st = mesos_test_stop(agent_pid, 5000);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-agent exit status %d", st);
    agent_pid = -1;
  }
  if (master_pid > 0) {
    int st = mesos_test_stop(master_pid, 5000);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
    master_pid = -1;
  }
}

/* Socket inodes `pid` holds open. */
static size_t socket_inodes(pid_t pid, unsigned long *out, size_t cap) {
  char dir[64], link[600], target[128];
  snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL && n < cap) {
    snprintf(link, sizeof link, "%s/%s", dir, de->d_name);
    ssize_t r = readlink(link, target, sizeof target - 1);
    if (r <= 0) continue;
    target[r] = '\0';
    if (sscanf(target, "socket:[%lu]", &out[n]) == 1) n++;
  }
  closedir(d);
  return n;
}

/* Established TCP connections of `pid` to 127.0.0.1:`port`. */
static int connections_to(pid_t pid, int port) {
  unsigned long inodes[4096];
  size_t n = socket_inodes(pid, inodes, 4096);
  char path[64], line[512];
  snprintf(path, sizeof path, "/proc/%d/net/tcp", (int)pid);
  FILE *fp = fopen(path, "r");
  ck_assert_ptr_nonnull(fp);
  int count = 0;
  while (fgets(line, sizeof line, fp)) {
    unsigned rport = 0, st = 0;
    unsigned long inode = 0;
    /* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
    if (sscanf(line, " %*d: %*x:%*x %*x:%x %x %*x:%*x %*x:%*x %*x %*u %*u %lu", &rport, &st,
               &inode) != 3)
      continue;
    if ((int)rport != port || st != 1) continue; /* 01: ESTABLISHED */
    for (size_t i = 0; i < n; i++)
      if (inodes[i] == inode) count++;
  }
  fclose(fp);
  return count;
}

/* Launches BURST tasks in one ACCEPT of the first offer (it holds all of
 * the agent's resources: nothing ran yet), acknowledges every update and
 * checks each task's come in order. */
static void burst(sim_fw *f) {
  char offer[160], agent[160];
  sim_fw_wait_offer_min(f, "agent-perf", 0.25 * BURST, 32.0 * BURST, offer, agent, sizeof offer);
  char infos[8192];
  size_t used = 0;
  for (int i = 0; i < BURST; i++) {
    int k = snprintf(infos + used, sizeof infos - used,
                     "%s{\"name\":\"t\",\"task_id\":{\"value\":\"b%d\"},\"agent_id\":{\"value\":"
                     "\"%s\"},\"command\":{\"value\":\"true\"},\"resources\":[{\"name\":\"cpus\","
                     "\"type\":\"SCALAR\",\"scalar\":{\"value\":0.25}},{\"name\":\"mem\",\"type\":"
                     "\"SCALAR\",\"scalar\":{\"value\":32}}]}",
                     i ? "," : "", i, agent);
    ck_assert(k > 0 && (size_t)k < sizeof infos - used);
    used += (size_t)k;
  }
  ck_assert_int_eq(sim_fw_call(f,
                               "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\","
                               "\"accept\":{\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{"
                               "\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[%s]}}]}}",
                               f->id, offer, infos),
                   202);
  static const char *const order[] = {"TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"};
  int next[BURST] = {0};
  for (int seen = 0; seen < 3 * BURST;) {
    char *rec = sim_fw_next(f, 20000, "\"UPDATE\"", NULL);
    ck_assert_msg(rec != NULL, "%d of %d updates came", seen, 3 * BURST);
    char task[64], state[64];
    sim_fw_json_id(rec, "task_id", task, sizeof task);
    sim_fw_json_str(rec, "state", state, sizeof state);
    int i = (int)strtol(task + 1, NULL, 10);
    ck_assert_msg(task[0] == 'b' && i >= 0 && i < BURST, "update for %s", task);
    sim_fw_ack(f, rec);
    free(rec);
    if (next[i] > 0 && strcmp(state, order[next[i] - 1]) == 0) continue; /* re-sent */
    ck_assert_msg(next[i] < 3 && strcmp(state, order[next[i]]) == 0,
                  "task %s: %s where %s was due", task, state, next[i] < 3 ? order[next[i]] : "-");
    next[i]++;
    seen++;
  }
}

/* The task's update streams were written: each holds records. */
static void streams_written(const sim_fw *f) {
  for (int i = 0; i < BURST; i++) {
    char pattern[1200];
    snprintf(pattern, sizeof pattern,
             "%s/meta/slaves/*/frameworks/%s/executors/b%d/runs/*/tasks/b%d/task.updates",
             work_dir, f->id, i, i);
    glob_t g;
    ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
    ck_assert_uint_ge(g.gl_pathc, 1); /* runs/<container> and runs/latest */
    for (size_t k = 0; k < g.gl_pathc; k++) {
      struct stat sb;
      ck_assert_int_eq(stat(g.gl_pathv[k], &sb), 0);
      ck_assert_int_gt(sb.st_size, 0);
    }
    globfree(&g);
  }
}

static void run_burst(const char *name, const char *fw_info) {
  start_daemons(name);
  sim_fw f;
  sim_fw_subscribe(&f, master_port, fw_info);
  burst(&f);
  /* The event stream and the call pipe: nothing else stays open. */
  int conns = connections_to(agent_pid, master_port);
  ck_assert_msg(conns >= 1 && conns <= 2, "the agent holds %d connections to the master", conns);
  streams_written(&f);
  sim_fw_close(&f);
  stop_daemons();
}

START_TEST(test_agent_perf__a_burst_uses_one_call_connection_without_checkpointing) {
  run_burst("plain", "\"user\":\"nobody\",\"name\":\"perf\"");
}
END_TEST

START_TEST(test_agent_perf__a_burst_of_a_checkpointing_framework) {
  run_burst("checkpointing", "\"user\":\"nobody\",\"name\":\"perf\",\"checkpoint\":true");
}
END_TEST

static Suite *perf_suite(void) {
  Suite *s = suite_create("agent_perf");
  TCase *tc = tcase_create("core");
  tcase_add_unchecked_fixture(tc, make_base, remove_base);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_agent_perf__a_burst_uses_one_call_connection_without_checkpointing);
  tcase_add_test(tc, test_agent_perf__a_burst_of_a_checkpointing_framework);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(perf_suite()); }
