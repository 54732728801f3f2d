/* A real master and agent for integration tests: see cluster.h. */
#include "support/cluster.h"

#include <check.h>
#include <ftw.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codec/pb.h"
#include "mesos/internal/checkpoint.pb-c.h"
#include "registry/checkpoint.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

/* Start-up deadlines: under ASan+UBSan on a loaded 2-core machine a daemon
 * takes well over a second to answer. */
#define START_MS 10000

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

void mesos_test_cluster_make_base(mesos_test_cluster *c, const char *prefix) {
  memset(c, 0, sizeof *c);
  c->master_pid = c->agent_pid = -1;
  int n = snprintf(c->base_dir, sizeof c->base_dir, "%s-XXXXXX", prefix);
  ck_assert_int_lt(n, (int)sizeof c->base_dir);
  ck_assert_ptr_nonnull(mkdtemp(c->base_dir));
}

void mesos_test_cluster_remove_base(mesos_test_cluster *c) {
  if (c->base_dir[0] == '\0') return;
  mesos_test_kill_under(c->base_dir);
  if (getenv("MESOS_TEST_KEEP")) {
    fprintf(stderr, "kept %s\n", c->base_dir);
    return;
  }
  nftw(c->base_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* argv = fixed[0..nfixed) + extra, NULL-terminated, in `out` (cap slots). */
static void join_args(char **out, size_t cap, char *const *fixed, size_t nfixed,
                      char *const *extra) {
  size_t n = 0;
  for (size_t i = 0; i < nfixed; i++) out[n++] = fixed[i];
  for (size_t i = 0; extra && extra[i]; i++) {
    ck_assert_msg(n + 1 < cap, "too many flags");
    out[n++] = extra[i];
  }
  out[n] = NULL;
}

static void start_master_on(mesos_test_cluster *c, int keep_port, char *const *extra) {
  char path[4096], port_arg[64];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  if (!keep_port) c->master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", c->master_port);
  char *fixed[] = {path, "--ip=127.0.0.1", port_arg, "--allocation_interval=50ms",
                   "--logging_level=WARNING"};
  char *argv[32];
  join_args(argv, 32, fixed, sizeof fixed / sizeof *fixed, extra);
  c->master_pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(c->master_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(c->master_port, "/health", START_MS),
                "mesos-master did not answer /health");
}

void mesos_test_cluster_start_master(mesos_test_cluster *c, char *const *extra) {
  start_master_on(c, 0, extra);
}

void mesos_test_cluster_restart_master(mesos_test_cluster *c, char *const *extra) {
  ck_assert_int_gt(c->master_port, 0);
  start_master_on(c, 1, extra);
}

void mesos_test_cluster_kill_master(mesos_test_cluster *c) {
  if (c->master_pid <= 0) return;
  kill(c->master_pid, SIGKILL);
  waitpid(c->master_pid, NULL, 0);
  c->master_pid = -1;
}

pid_t mesos_test_cluster_spawn_agent(mesos_test_cluster *c, const char *name,
                                     const char *hostname, char *const *extra) {
  char path[4096], master_arg[64], port_arg[64], wd_arg[600], host_arg[300];
  char new_dir[512], res_arg[300];
  mesos_test_daemon_path("mesos-agent", path, sizeof path);
  snprintf(new_dir, sizeof new_dir, "%s/%s", c->base_dir, name);
  if (!c->keep_agent_port || strcmp(new_dir, c->work_dir) != 0 || c->agent_port == 0)
    c->agent_port = mesos_test_free_port();
  snprintf(c->work_dir, sizeof c->work_dir, "%s", new_dir);
  snprintf(c->agent_log, sizeof c->agent_log, "%s/%s.log", c->base_dir, name);
  snprintf(res_arg, sizeof res_arg, "--resources=%s",
           c->agent_resources ? c->agent_resources
                              : "cpus:4;mem:1024;disk:1024;ports:[31000-31100]");
  snprintf(master_arg, sizeof master_arg, "--master=127.0.0.1:%d", c->master_port);
  snprintf(port_arg, sizeof port_arg, "--port=%d", c->agent_port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s", c->work_dir);
  snprintf(host_arg, sizeof host_arg, "--hostname=%s", hostname ? hostname : "agent-test");
  char *fixed[] = {c->agent_program ? (char *)c->agent_program : path,
                   master_arg,
                   port_arg,
                   wd_arg,
                   "--ip=127.0.0.1",
                   host_arg,
                   res_arg,
                   "--registration_backoff_factor=50ms",
                   "--executor_shutdown_grace_period=1secs"};
  char *argv[32];
  join_args(argv, 32, fixed, sizeof fixed / sizeof *fixed, extra);
  /* Another program still runs the built executors (by default the agent
   * looks beside itself). */
  char launcher[4200];
  if (c->agent_program) {
    size_t n = 0;
    while (argv[n]) n++;
    ck_assert_int_lt((int)n + 1, 32);
    *strrchr(path, '/') = '\0';
    snprintf(launcher, sizeof launcher, "--launcher_dir=%s", path);
    argv[n] = launcher;
    argv[n + 1] = NULL;
  }
  return mesos_test_spawn(argv, c->agent_log);
}

void mesos_test_cluster_start_agent(mesos_test_cluster *c, const char *name,
                                    const char *hostname, char *const *extra) {
  c->agent_pid = mesos_test_cluster_spawn_agent(c, name, hostname, extra);
  ck_assert_int_gt(c->agent_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(c->agent_port, "/health", START_MS),
                "mesos-agent did not answer /health (log %s)", c->agent_log);
}

void mesos_test_cluster_kill_agent(mesos_test_cluster *c) {
  if (c->agent_pid <= 0) return;
  kill(c->agent_pid, SIGKILL);
  waitpid(c->agent_pid, NULL, 0);
  c->agent_pid = -1;
}

void mesos_test_cluster_stop(mesos_test_cluster *c) {
  if (c->agent_pid > 0) {
    int st = mesos_test_stop(c->agent_pid, 5000);
    c->agent_pid = -1;
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-agent exit status %d", st);
  }
  if (c->master_pid > 0) {
    int st = mesos_test_stop(c->master_pid, 5000);
    c->master_pid = -1;
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
  }
}

void mesos_test_wait_agent_id(const char *work_dir) {
  char link[700], target[256];
  snprintf(link, sizeof link, "%s/meta/slaves/latest", work_dir);
  for (long long until = sim_fw_now_ms() + 10000; sim_fw_now_ms() < until; usleep(10000))
    if (readlink(link, target, sizeof target) > 0) return;
  ck_abort_msg("the agent never checkpointed its id (%s)", link);
}

typedef struct record_count {
  int updates, acks;
} record_count;

static mesos_status count_record(ProtobufCMessage *msg, void *ud) {
  record_count *n = ud;
  const Mesos__Internal__StatusUpdateRecord *r = (const Mesos__Internal__StatusUpdateRecord *)msg;
  if (r->type == MESOS__INTERNAL__STATUS_UPDATE_RECORD__TYPE__UPDATE) n->updates++;
  else if (r->type == MESOS__INTERNAL__STATUS_UPDATE_RECORD__TYPE__ACK) n->acks++;
  mesos__pb_free(msg);
  return MESOS_OK;
}

void mesos_test_wait_acks(const char *work_dir, const char *exec, const char *task, int acks,
                          int timeout_ms) {
  char pattern[1500];
  snprintf(pattern, sizeof pattern,
           "%s/meta/slaves/*/frameworks/*/executors/%s/runs/*/tasks/%s/task.updates", work_dir,
           exec, task);
  record_count n = {0, 0};
  for (long long until = sim_fw_now_ms() + timeout_ms;; usleep(10000)) {
    glob_t g;
    if (glob(pattern, 0, NULL, &g) == 0) {
      for (size_t k = 0; k < g.gl_pathc; k++) {
        /* slaves/latest and runs/latest are links to the same run. */
        if (strstr(g.gl_pathv[k], "/runs/latest/") || strstr(g.gl_pathv[k], "/slaves/latest/"))
          continue;
        n.updates = n.acks = 0;
        mesos__update_stream_read(g.gl_pathv[k],
                                  &mesos__internal__status_update_record__descriptor,
                                  count_record, &n, NULL, NULL);
      }
      globfree(&g);
    }
    if (n.acks >= acks) return;
    if (sim_fw_now_ms() >= until) break;
  }
  ck_abort_msg("task %s: %d update(s), %d acknowledgement(s) recorded, waited for %d", task,
               n.updates, n.acks, acks);
}
