/*
 * Agent recovery with the real mesos-master, mesos-agent and mesos-executor
 * on loopback and a JSON scheduler over raw HTTP: the agent is killed with
 * SIGKILL while a task runs and started again (also from a copied binary,
 * the upgrade path); the task of a checkpointing framework keeps running
 * under its executor and its final update reaches the framework exactly
 * once.  Also: an executor that died or does not come back while the agent
 * was down, a framework without checkpointing, --recover=cleanup, and a
 * damaged executor checkpoint.
 *
 * Executors outlive the agent here by design, so every test's executors
 * are found through their forked.pid checkpoints and killed (with their
 * sessions) by the fixture, also when a test fails; --recovery_timeout
 * bounds them too.
 */
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "codec/pb.h"
#include "mesos/internal/checkpoint.pb-c.h"
#include "registry/checkpoint.h"
#include "support/cluster.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

static mesos_test_cluster cl;

/* ------------------------------------------------------------ processes */

static void make_base(void) {
  mesos_test_cluster_make_base(&cl, "/tmp/mesos-recovery-test");
  cl.keep_agent_port = 1; /* executors come back to the agent's address */
}

/* The pid in a forked.pid checkpoint, or -1. */
static long read_pid_file(const char *path) {
  uint8_t *bytes = NULL;
  size_t len = 0;
  long pid = -1;
  if (mesos__checkpoint_read_bytes(path, 64, &bytes, &len, NULL) == MESOS_OK && len < 32) {
    char text[32];
    memcpy(text, bytes, len);
    text[len] = '\0';
    pid = strtol(text, NULL, 10);
  }
  mesos__free(bytes);
  return pid;
}

/* Kills every executor a test left (they outlive agents by design), with
 * everything in their sessions: only processes still working under this
 * test's directory. */
static void kill_executors(void) {
  char pattern[400];
  snprintf(pattern, sizeof pattern, "%s/*/meta/slaves/*/frameworks/*/executors/*/runs/*/pids/forked.pid",
           cl.base_dir);
  glob_t g;
  if (glob(pattern, 0, NULL, &g) != 0) return;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    long pid = read_pid_file(g.gl_pathv[i]);
    char link[64], cwd[4096];
    snprintf(link, sizeof link, "/proc/%ld/cwd", pid);
    ssize_t n = pid > 1 ? readlink(link, cwd, sizeof cwd - 1) : -1;
    if (n <= 0) {
      /* The leader is gone; its session may not be. */
      if (pid > 1) mesos__agent_kill_session((int32_t)pid, SIGKILL);
      continue;
    }
    cwd[n] = '\0';
    if (strncmp(cwd, cl.base_dir, strlen(cl.base_dir)) == 0) {
      kill((pid_t)pid, SIGCONT);
      mesos__agent_kill_session((int32_t)pid, SIGKILL);
    }
  }
  globfree(&g);
}

/* Where task `task` writes its pid: in /tmp, as the task may run as a
 * user who cannot write under cl.base_dir; named after cl.base_dir, so
 * remove_base finds it after a failure too. */
static void task_pid_file(const char *task, char *out, size_t cap) {
  snprintf(out, cap, "/tmp/%s-%s.pid", cl.base_dir[0] ? strrchr(cl.base_dir, '/') + 1 : "none", task);
}

static void remove_base(void) {
  char pid_file[400];
  task_pid_file("brief", pid_file, sizeof pid_file);
  unlink(pid_file);
  task_pid_file("c-task", pid_file, sizeof pid_file);
  unlink(pid_file);
  kill_executors();
  /* And whatever else runs in the test's directory (tasks of executors
   * the glob above did not find), then the directory. */
  mesos_test_cluster_remove_base(&cl);
}

/* A master on a fresh port, or (`keep_port`) again on the last one, with
 * its registry under <base>/master. */
static void start_master_on(int keep_port) {
  char wd_arg[400];
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s/master", cl.base_dir);
  char *extra[] = {"--agent_ping_timeout=1secs", "--max_agent_ping_timeouts=10", wd_arg, NULL};
  if (keep_port) mesos_test_cluster_restart_master(&cl, extra);
  else mesos_test_cluster_start_master(&cl, extra);
}

static void start_master(void) { start_master_on(0); }

/* The recovery flags, then `extra`, in `out` (cap slots, NULL-terminated). */
static void agent_flags(char **out, size_t cap, char *const *extra) {
  size_t n = 0;
  out[n++] = "--executor_reregistration_timeout=3secs";
  out[n++] = "--recovery_timeout=30secs";
  out[n++] = "--status_update_retry_interval=10secs";
  for (size_t i = 0; extra && extra[i] && n + 1 < cap; i++) out[n++] = extra[i];
  out[n] = NULL;
}

/* mesos-agent (`program`: NULL for the built one) with `extra` flags; the
 * port is kept across restarts of the same `name`, as an operator's would. */
static pid_t spawn_agent(const char *program, const char *name, char *const *extra) {
  char *flags[20];
  agent_flags(flags, 20, extra);
  cl.agent_program = program;
  return mesos_test_cluster_spawn_agent(&cl, name, NULL, flags);
}

static void start_agent(const char *program, const char *name, char *const *extra) {
  char *flags[20];
  agent_flags(flags, 20, extra);
  cl.agent_program = program;
  mesos_test_cluster_start_agent(&cl, name, NULL, flags);
}

static void kill_agent(void) { mesos_test_cluster_kill_agent(&cl); }

static void wait_id_checkpointed(void) { mesos_test_wait_agent_id(cl.work_dir); }

static void stop_all(void) { mesos_test_cluster_stop(&cl); }

/* The path of task `task`'s checkpoint file `file` (under its run). */
static void task_file(const char *task, const char *file, char *out, size_t cap) {
  char pattern[1200];
  snprintf(pattern, sizeof pattern, "%s/meta/slaves/*/frameworks/*/executors/%s/runs/*/%s",
           cl.work_dir, task, file);
  glob_t g;
  ck_assert_msg(glob(pattern, 0, NULL, &g) == 0, "no %s", pattern);
  /* slaves/latest and runs/latest link to the same run. */
  size_t found = 0;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    if (strstr(g.gl_pathv[i], "/runs/latest/") || strstr(g.gl_pathv[i], "/slaves/latest/")) continue;
    snprintf(out, cap, "%s", g.gl_pathv[i]);
    found++;
  }
  globfree(&g);
  ck_assert_msg(found == 1, "%zu runs match %s", found, pattern);
}

/* The executor's pid from its forked.pid checkpoint.  Polled: the agent
 * writes it when the spawn (on its thread pool) returns, which can be
 * after the executor already subscribed and sent its task's updates. */
static pid_t executor_pid(const char *task) {
  char pattern[1200];
  snprintf(pattern, sizeof pattern,
           "%s/meta/slaves/*/frameworks/*/executors/%s/runs/*/pids/forked.pid", cl.work_dir, task);
  for (long long until = sim_fw_now_ms() + 10000; sim_fw_now_ms() < until; usleep(20000)) {
    glob_t g;
    int found = glob(pattern, 0, NULL, &g) == 0;
    if (found) globfree(&g);
    if (!found) continue;
    char path[1200];
    task_file(task, "pids/forked.pid", path, sizeof path);
    long pid = read_pid_file(path);
    if (pid > 1) return (pid_t)pid;
  }
  ck_abort_msg("no executor pid in %s", pattern);
  return -1;
}

/* Whether `pid` runs (and is not a zombie). */
static int alive(pid_t pid) { return mesos__agent_pid_start_time(pid) != 0; }

/* Processes in session `sid` (the executor's and its task's). */
static int session_size(pid_t sid) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "ps -e -o sid=,stat= | awk '$1 == %d && $2 !~ /^Z/' | wc -l", (int)sid);
  FILE *p = popen(cmd, "r");
  int n = -1;
  if (p) {
    if (fscanf(p, "%d", &n) != 1) n = -1;
    pclose(p);
  }
  return n;
}


/* Waits until the task that wrote its pid to `pid_file` (`echo $$ > F;
 * exec ...`) has ended: the file first (the task may not have run its
 * first line yet), then the pid gone or a zombie. */
static void wait_task_ended(const char *pid_file, int timeout_ms) {
  long long deadline = sim_fw_now_ms() + timeout_ms;
  long pid = 0;
  for (;;) {
    FILE *fp = fopen(pid_file, "r");
    if (fp) {
      if (fscanf(fp, "%ld", &pid) != 1) pid = 0;
      fclose(fp);
    }
    if (pid > 1) break;
    ck_assert_msg(sim_fw_now_ms() < deadline, "the task never wrote %s", pid_file);
    usleep(20000);
  }
  while (mesos__agent_pid_start_time((pid_t)pid) != 0) {
    ck_assert_msg(sim_fw_now_ms() < deadline, "the task %ld did not end", pid);
    usleep(20000);
  }
}

static void wait_gone(pid_t sid, int timeout_ms) {
  long long deadline = sim_fw_now_ms() + timeout_ms;
  while (sim_fw_now_ms() < deadline) {
    if (session_size(sid) == 0) return;
    usleep(50000);
  }
  ck_abort_msg("session %d still has processes", (int)sid);
}

/* ------------------------------------------------------------ framework */

/* SUBSCRIBE; with f->id set, as that framework again (failover). */
static void fw_subscribe(sim_fw *f, int checkpoint) {
  const char *info = checkpoint ? "\"user\":\"nobody\",\"name\":\"recovery test\",\"checkpoint\":true,"
                                  "\"failover_timeout\":60"
                                : "\"user\":\"nobody\",\"name\":\"recovery test\",\"checkpoint\":false,"
                                  "\"failover_timeout\":60";
  if (f->id[0]) sim_fw_resubscribe(f, cl.master_port, info);
  else sim_fw_subscribe(f, cl.master_port, info);
}

/* An offer with room for the largest launch here (a default executor and
 * two tasks of RES: 0.6 cpus, 96 MB; launch() takes 0.5 cpus, 32 MB). */
static void wait_offer(sim_fw *f, char *offer, char *agent, size_t cap) {
  sim_fw_wait_offer_min(f, "agent-test", 0.6, 96, offer, agent, cap);
}

static void launch(sim_fw *f, const char *offer, const char *agent, const char *task,
                   const char *command) {
  sim_fw_launch(f, offer, agent, task, NULL, 32, command);
}

static void expect_no_update(sim_fw *f, int ms) {
  char *rec = sim_fw_next(f, ms, "\"type\":\"UPDATE\"", NULL);
  ck_assert_msg(rec == NULL, "unexpected update: %s", rec ? rec : "");
}

static void wait_acks_recorded(const char *exec, const char *task, int updates);

/* Master, agent `name`, a framework, and task `task` running `command`
 * (STARTING and RUNNING acknowledged).  Returns the executor's pid. */
static pid_t run_task(sim_fw *f, const char *name, int checkpoint, const char *task,
                      const char *command, char *const *extra) {
  start_master();
  f->id[0] = '\0';
  start_agent(NULL, name, extra);
  fw_subscribe(f, checkpoint);
  char offer[160], agent[160];
  wait_offer(f, offer, agent, sizeof offer);
  wait_id_checkpointed();
  launch(f, offer, agent, task, command);
  free(sim_fw_expect_update(f, task, "TASK_STARTING", 10000));
  free(sim_fw_expect_update(f, task, "TASK_RUNNING", 10000));
  pid_t pid = executor_pid(task);
  ck_assert(alive(pid));
  /* The agent has both acknowledgements on disk: a restarted agent does
   * not re-send those updates (a command task's executor id is its task
   * id).  Polled, not slept: under ASan on a loaded machine they may take
   * longer than any fixed pause. */
  if (checkpoint) wait_acks_recorded(task, task, 2);
  return pid;
}

static void read_file(const char *path, char *out, size_t cap) {
  FILE *fp = fopen(path, "r");
  ck_assert_msg(fp != NULL, "cannot open %s", path);
  size_t n = fread(out, 1, cap - 1, fp);
  out[n] = '\0';
  fclose(fp);
}

/* ------------------------------------------------------------ delivery */

typedef struct record_count {
  int updates, acks;
} record_count;

static mesos_status count_record(ProtobufCMessage *msg, void *ud) {
  record_count *c = ud;
  const Mesos__Internal__StatusUpdateRecord *r = (const Mesos__Internal__StatusUpdateRecord *)msg;
  if (r->type == MESOS__INTERNAL__STATUS_UPDATE_RECORD__TYPE__UPDATE) c->updates++;
  else if (r->type == MESOS__INTERNAL__STATUS_UPDATE_RECORD__TYPE__ACK) c->acks++;
  mesos__pb_free(msg);
  return MESOS_OK;
}

/* Waits until task `task` (under executor `exec`) has the acknowledgements
 * of its first `updates` updates recorded in its task.updates: what a
 * restarted agent reads back, so none of them may reach the framework
 * again after a kill -9 from here on. */
static void wait_acks_recorded(const char *exec, const char *task, int updates) {
  char pattern[1200];
  snprintf(pattern, sizeof pattern,
           "%s/meta/slaves/*/frameworks/*/executors/%s/runs/*/tasks/%s/task.updates", cl.work_dir,
           exec, task);
  record_count c = {0, 0};
  for (int i = 0; i < 500; i++) {
    glob_t g;
    if (glob(pattern, 0, NULL, &g) == 0) {
      for (size_t k = 0; k < g.gl_pathc; k++) {
        if (strstr(g.gl_pathv[k], "/runs/latest/") || strstr(g.gl_pathv[k], "/slaves/latest/"))
          continue;
        c.updates = c.acks = 0;
        mesos__update_stream_read(g.gl_pathv[k],
                                  &mesos__internal__status_update_record__descriptor,
                                  count_record, &c, NULL, NULL);
      }
      globfree(&g);
    }
    if (c.acks >= updates) return;
    usleep(10000);
  }
  ck_abort_msg("task %s: %d update(s), %d acknowledgement(s) recorded", task, c.updates, c.acks);
}

/* Every UPDATE seen (acknowledged) until each of `tasks` reached a
 * terminal state and nothing came for `quiet_ms` more; fails on a uuid
 * seen twice or a second terminal update.  `finals[i]` (may be NULL):
 * the state of task i's terminal update, to be freed. */
#define MAX_SEEN_UUIDS 64
static void collect_once(sim_fw *f, size_t n, const char *const *tasks, char **finals,
                         int timeout_ms, int quiet_ms) {
  char uuids[MAX_SEEN_UUIDS][64];
  int nuuids = 0;
  int done[8] = {0};
  size_t ndone = 0;
  ck_assert_uint_le(n, 8);
  long long deadline = sim_fw_now_ms() + timeout_ms;
  for (;;) {
    long long left = ndone < n ? deadline - sim_fw_now_ms() : quiet_ms;
    char *rec = left > 0 ? sim_fw_next(f, (int)left, "\"type\":\"UPDATE\"", NULL) : NULL;
    if (rec == NULL) {
      ck_assert_msg(ndone == n, "%zu of %zu tasks ended", ndone, n);
      return;
    }
    char task[160], uuid[64];
    sim_fw_json_id(rec, "task_id", task, sizeof task);
    sim_fw_json_str(rec, "uuid", uuid, sizeof uuid);
    for (int i = 0; i < nuuids; i++)
      ck_assert_msg(strcmp(uuids[i], uuid) != 0, "delivered twice: %s", rec);
    ck_assert_int_lt(nuuids, MAX_SEEN_UUIDS);
    snprintf(uuids[nuuids++], sizeof uuids[0], "%s", uuid);
    sim_fw_ack(f, rec);
    size_t i = 0;
    while (i < n && strcmp(tasks[i], task) != 0) i++;
    ck_assert_msg(i < n, "an update for another task: %s", rec);
    if (strstr(rec, "\"state\":\"TASK_STARTING\"") == NULL &&
        strstr(rec, "\"state\":\"TASK_RUNNING\"") == NULL) {
      ck_assert_msg(!done[i], "a second terminal update: %s", rec);
      done[i] = 1;
      ndone++;
      if (finals) {
        const char *p = strstr(rec, "\"state\":\"");
        finals[i] = strndup(p + 9, (size_t)(strchr(p + 9, '"') - (p + 9)));
      }
    }
    free(rec);
  }
}

/* ------------------------------------------------------------ tests */

START_TEST(test_recovery__task_keeps_running_across_kill_9_and_finishes_once) {
  sim_fw f;
  pid_t exec = run_task(&f, "keep", 1, "keep", "sleep 3", NULL);
  kill_agent();
  usleep(300000);
  ck_assert_msg(alive(exec), "the executor died with the agent");
  ck_assert_int_ge(session_size(exec), 2); /* the executor and its task */
  start_agent(NULL, "keep", NULL);
  char *rec = sim_fw_expect_final(&f, "keep", "TASK_FINISHED", 10000);
  free(rec);
  /* Exactly once, and nothing lost. */
  expect_no_update(&f, 1500);
  wait_gone(exec, 8000);
  char log[1 << 16];
  read_file(cl.agent_log, log, sizeof log);
  ck_assert_msg(strstr(log, "re-subscribed") != NULL, "%s", log);
  sim_fw_close(&f);
  stop_all();
}
END_TEST

/* The upgrade path: the new agent starts from another binary (a copy),
 * and the task ends while no agent runs: its terminal update waits in the
 * executor and arrives with the re-subscription. */
START_TEST(test_recovery__copied_binary_adopts_a_task_that_ended_while_down) {
  sim_fw f;
  char pid_file[400], cmd_brief[600];
  /* In /tmp: the task runs as nobody, who cannot write under cl.base_dir. */
  task_pid_file("brief", pid_file, sizeof pid_file);
  unlink(pid_file);
  snprintf(cmd_brief, sizeof cmd_brief, "echo $$ > %s; exec sleep 1", pid_file);
  pid_t exec = run_task(&f, "upgrade", 1, "brief", cmd_brief, NULL);
  kill_agent();
  char built[4096], copy[600], cmd[5000];
  mesos_test_daemon_path("mesos-agent", built, sizeof built);
  snprintf(copy, sizeof copy, "%s/upgrade-bin", cl.base_dir);
  mkdir(copy, 0755);
  snprintf(copy, sizeof copy, "%s/upgrade-bin/mesos-agent", cl.base_dir);
  snprintf(cmd, sizeof cmd, "cp '%s' '%s'", built, copy);
  ck_assert_int_eq(system(cmd), 0);
  wait_task_ended(pid_file, 10000); /* while no agent runs */
  unlink(pid_file);
  ck_assert_msg(alive(exec), "the executor did not wait for the agent");
  start_agent(copy, "upgrade", NULL);
  char *rec = sim_fw_expect_final(&f, "brief", "TASK_FINISHED", 10000);
  free(rec);
  expect_no_update(&f, 1500);
  wait_gone(exec, 8000);
  sim_fw_close(&f);
  stop_all();
}
END_TEST

START_TEST(test_recovery__executor_killed_while_agent_down_fails_the_task) {
  sim_fw f;
  pid_t exec = run_task(&f, "dead", 1, "orphan", "sleep 1000", NULL);
  kill_agent();
  kill(exec, SIGKILL);
  usleep(200000);
  ck_assert_int_ge(session_size(exec), 1); /* the task survived its executor */
  start_agent(NULL, "dead", NULL);
  char *rec = sim_fw_expect_final(&f, "orphan", "TASK_FAILED", 10000);
  ck_assert_msg(strstr(rec, "REASON_EXECUTOR_TERMINATED") != NULL, "%s", rec);
  free(rec);
  wait_gone(exec, 5000); /* the orphaned task was killed too */
  expect_no_update(&f, 1000);
  sim_fw_close(&f);
  stop_all();
}
END_TEST

START_TEST(test_recovery__executor_that_does_not_resubscribe_is_killed) {
  sim_fw f;
  pid_t exec = run_task(&f, "stuck", 1, "stuck", "sleep 1000", NULL);
  kill_agent();
  kill(exec, SIGSTOP); /* alive, but it cannot re-subscribe */
  long long t0 = sim_fw_now_ms();
  start_agent(NULL, "stuck", NULL);
  char *rec = sim_fw_expect_final(&f, "stuck", "TASK_FAILED", 15000);
  ck_assert_msg(strstr(rec, "REASON_EXECUTOR_REREGISTRATION_TIMEOUT") != NULL, "%s", rec);
  free(rec);
  /* --executor_reregistration_timeout=3secs */
  ck_assert_int_ge(sim_fw_now_ms() - t0, 2500);
  wait_gone(exec, 5000);
  sim_fw_close(&f);
  stop_all();
}
END_TEST

START_TEST(test_recovery__task_of_framework_without_checkpointing_is_killed_and_lost) {
  sim_fw f;
  pid_t exec = run_task(&f, "nocp", 0, "nocp", "sleep 1000", NULL);
  /* Nothing to recover it from: no executor.info. */
  char pattern[800];
  snprintf(pattern, sizeof pattern, "%s/meta/slaves/*/frameworks/*/executors/nocp/executor.info",
           cl.work_dir);
  glob_t g;
  ck_assert_int_ne(glob(pattern, 0, NULL, &g), 0);
  kill_agent();
  start_agent(NULL, "nocp", NULL);
  char *rec = sim_fw_expect_final(&f, "nocp", "TASK_LOST", 10000);
  ck_assert_msg(strstr(rec, "REASON_AGENT_RESTARTED") != NULL, "%s", rec);
  free(rec);
  wait_gone(exec, 5000);
  expect_no_update(&f, 1000);
  sim_fw_close(&f);
  stop_all();
}
END_TEST

START_TEST(test_recovery__cleanup_kills_reports_and_registers_anew) {
  sim_fw f;
  pid_t exec = run_task(&f, "cleanup", 1, "doomed", "sleep 1000", NULL);
  char old_id[256] = "", link[700];
  snprintf(link, sizeof link, "%s/meta/slaves/latest", cl.work_dir);
  ck_assert_int_gt(readlink(link, old_id, sizeof old_id - 1), 0);
  kill_agent();
  char *extra[] = {"--recover=cleanup", NULL};
  start_agent(NULL, "cleanup", extra);
  char *rec = sim_fw_expect_final(&f, "doomed", "TASK_FAILED", 10000);
  ck_assert_msg(strstr(rec, "REASON_EXECUTOR_TERMINATED") != NULL, "%s", rec);
  ck_assert_msg(strstr(rec, "cleanup") != NULL, "%s", rec);
  free(rec);
  wait_gone(exec, 5000);
  /* Then a new agent id: offers come from it. */
  char offer[160], agent[160];
  free(f.offers);
  f.offers = NULL;
  long long deadline = sim_fw_now_ms() + 10000;
  do {
    wait_offer(&f, offer, agent, sizeof offer);
  } while (strcmp(agent, old_id) == 0 && sim_fw_now_ms() < deadline);
  ck_assert_str_ne(agent, old_id);
  char new_id[256] = "";
  for (int i = 0; i < 200 && strcmp(new_id, agent) != 0; i++) {
    ssize_t n = readlink(link, new_id, sizeof new_id - 1);
    new_id[n > 0 ? n : 0] = '\0';
    usleep(10000);
  }
  ck_assert_str_eq(new_id, agent);
  sim_fw_close(&f);
  stop_all();
}
END_TEST


/* --recover=cleanup has a deadline: an executor that cannot act on
 * SIGTERM (stopped here) is SIGKILLed after
 * --executor_shutdown_grace_period (1 s in these tests). */
START_TEST(test_recovery__cleanup_kills_an_executor_that_does_not_stop) {
  sim_fw f;
  pid_t exec = run_task(&f, "cleanup2", 1, "wedged", "sleep 1000", NULL);
  kill_agent();
  kill(exec, SIGSTOP);
  char *extra[] = {"--recover=cleanup", NULL};
  start_agent(NULL, "cleanup2", extra);
  char *rec = sim_fw_expect_final(&f, "wedged", "TASK_FAILED", 10000);
  ck_assert_msg(strstr(rec, "cleanup") != NULL, "%s", rec);
  free(rec);
  wait_gone(exec, 5000);
  char log[1 << 16];
  read_file(cl.agent_log, log, sizeof log);
  ck_assert_msg(strstr(log, "still there after 1000 ms: SIGKILL") != NULL, "%s", log);
  sim_fw_close(&f);
  stop_all();
}
END_TEST

/* Flips a byte in the middle of `path`. */
static void damage(const char *path) {
  int fd = open(path, O_RDWR);
  ck_assert_int_ge(fd, 0);
  struct stat sb;
  ck_assert_int_eq(fstat(fd, &sb), 0);
  char c;
  ck_assert_int_eq(pread(fd, &c, 1, sb.st_size / 2), 1);
  c ^= 0x5a;
  ck_assert_int_eq(pwrite(fd, &c, 1, sb.st_size / 2), 1);
  close(fd);
}

START_TEST(test_recovery__damaged_executor_checkpoint_is_an_error_naming_the_file) {
  sim_fw f;
  pid_t exec = run_task(&f, "damaged", 1, "damaged", "sleep 1000", NULL);
  kill_agent();
  char path[1200];
  task_file("damaged", "pids/forked.pid", path, sizeof path);
  /* executor.info sits beside runs/. */
  char *runs = strstr(path, "/runs/");
  ck_assert_ptr_nonnull(runs);
  snprintf(runs, sizeof path - (size_t)(runs - path), "/executor.info");
  damage(path);
  /* --strict (the default): start-up stops, naming the file. */
  pid_t p = spawn_agent(NULL, "damaged", NULL);
  int st = 0;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit status %d", st);
  char log[1 << 16];
  read_file(cl.agent_log, log, sizeof log);
  ck_assert_msg(strstr(log, path) != NULL, "the error does not name %s:\n%s", path, log);
  ck_assert(alive(exec)); /* nothing was touched */
  /* --no-strict: that executor is lost (and killed), the agent runs. */
  char *extra[] = {"--strict=false", NULL};
  start_agent(NULL, "damaged", extra);
  char *rec = sim_fw_expect_final(&f, "damaged", "TASK_LOST", 10000);
  ck_assert_msg(strstr(rec, "executor.info") != NULL, "%s", rec);
  free(rec);
  wait_gone(exec, 5000);
  sim_fw_close(&f);
  stop_all();
}
END_TEST

START_TEST(test_recovery__executor_gets_heartbeats) {
  /* A short interval makes the HEARTBEAT visible on a raw executor stream. */
  char *extra[] = {"--executor_heartbeat_interval=100ms", NULL};
  sim_fw f;
  pid_t exec = run_task(&f, "heartbeat", 1, "hb", "sleep 1000", extra);
  /* Subscribe as that executor would (the agent detaches the old stream). */
  char fw_id[160], body[1024];
  snprintf(fw_id, sizeof fw_id, "%s", f.id);
  mesos_test_conn c;
  ck_assert_int_eq(mesos_test_conn_open(&c, cl.agent_port), 0);
  /* The real executor is stopped so that it does not take its stream
   * back.  JSON in, protobuf events out: a HEARTBEAT event is the two
   * bytes 08 09 (type = 9). */
  kill(exec, SIGSTOP);
  snprintf(body, sizeof body,
           "{\"type\":\"SUBSCRIBE\",\"framework_id\":{\"value\":\"%s\"},\"executor_id\":"
           "{\"value\":\"hb\"},\"subscribe\":{\"unacknowledged_tasks\":[{\"name\":\"t\","
           "\"task_id\":{\"value\":\"hb\"},\"agent_id\":{\"value\":\"x\"}}]}}",
           fw_id);
  ck_assert_int_eq(mesos_test_conn_request(&c, "POST", "/api/v1/executor", "application/json",
                                           "Accept: application/x-protobuf\r\n", body,
                                           strlen(body)),
                   0);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&c, &r, 0, 5000), 0);
  ck_assert_int_eq(r.status, 200);
  int heartbeats = 0;
  for (int i = 0; i < 20 && heartbeats < 2; i++) {
    char *rec = NULL;
    long n = mesos_test_conn_next_record(&c, &rec, 2000);
    ck_assert_int_gt(n, 0);
    if (n == 2 && (unsigned char)rec[0] == 0x08 && rec[1] == 9) heartbeats++;
    free(rec);
  }
  ck_assert_int_eq(heartbeats, 2);
  mesos_test_conn_close(&c);
  sim_fw_close(&f);
  stop_all();
}
END_TEST

/* The master restarts (kill -9, same port and registry): the agent
 * re-registers with its running task, the framework fails over to the new
 * master, and the task's end arrives once. */
START_TEST(test_recovery__master_restart_keeps_the_agents_tasks) {
  sim_fw f;
  pid_t exec = run_task(&f, "mrestart", 1, "steady", "sleep 3", NULL);
  mesos_test_cluster_kill_master(&cl);
  sim_fw_close(&f);
  start_master_on(1);
  fw_subscribe(&f, 1);
  ck_assert(alive(exec));
  char *rec = sim_fw_expect_final(&f, "steady", "TASK_FINISHED", 15000);
  free(rec);
  expect_no_update(&f, 1500);
  sim_fw_close(&f);
  stop_all();
}
END_TEST


/* The acknowledgements of STARTING and RUNNING are on disk before the
 * kill: after the restart every update reaches the framework exactly
 * once (each uuid once), the final one included. */
START_TEST(test_recovery__each_update_is_delivered_once_across_a_restart) {
  sim_fw f;
  pid_t exec = run_task(&f, "once", 1, "once", "sleep 3", NULL);
  wait_acks_recorded("once", "once", 2);
  kill_agent();
  start_agent(NULL, "once", NULL);
  const char *tasks[] = {"once"};
  char *finals[1] = {NULL};
  collect_once(&f, 1, tasks, finals, 15000, 2000);
  ck_assert_str_eq(finals[0], "TASK_FINISHED");
  free(finals[0]);
  wait_gone(exec, 8000);
  sim_fw_close(&f);
  stop_all();
}
END_TEST

/* SIGTERM is not a shutdown of the work: a checkpointing framework's
 * executor and task keep running, and the next agent re-attaches them. */
START_TEST(test_recovery__sigterm_leaves_checkpointing_executors_running) {
  sim_fw f;
  pid_t exec = run_task(&f, "term", 1, "term", "sleep 3", NULL);
  wait_acks_recorded("term", "term", 2);
  int st = mesos_test_stop(cl.agent_pid, 5000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-agent exit status %d", st);
  cl.agent_pid = -1;
  ck_assert_msg(alive(exec), "the executor was stopped with the agent");
  ck_assert_int_ge(session_size(exec), 2);
  start_agent(NULL, "term", NULL);
  const char *tasks[] = {"term"};
  char *finals[1] = {NULL};
  collect_once(&f, 1, tasks, finals, 15000, 1500);
  ck_assert_str_eq(finals[0], "TASK_FINISHED");
  free(finals[0]);
  wait_gone(exec, 8000);
  sim_fw_close(&f);
  stop_all();
}
END_TEST

/* ... but the executors of frameworks without checkpointing stop with it. */
START_TEST(test_recovery__sigterm_stops_executors_of_frameworks_without_checkpointing) {
  sim_fw f;
  pid_t exec = run_task(&f, "termnocp", 0, "termnocp", "sleep 1000", NULL);
  int st = mesos_test_stop(cl.agent_pid, 5000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-agent exit status %d", st);
  cl.agent_pid = -1;
  wait_gone(exec, 8000); /* the 1 s grace and the executor's exit, under ASan too */
  sim_fw_close(&f);
  stop_all();
}
END_TEST

#define RES "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.2}}," \
            "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":32}}]"

/* $O/examples/<name>, next to $O/bin/, absolute. */
static void example_path(const char *name, char *buf, size_t cap) {
  char bin[4096];
  mesos_test_daemon_path("x", bin, sizeof bin);
  size_t n = strlen(bin);
  ck_assert(n > 6 && strcmp(bin + n - 6, "/bin/x") == 0);
  bin[n - 6] = '\0';
  char cwd[2048] = "";
  if (bin[0] != '/') ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  snprintf(buf, cap, "%s%s%s/examples/%s", cwd, cwd[0] ? "/" : "", bin, name);
}

/* Master, agent `name`, a checkpointing framework; returns an offer. */
static void start_cluster(sim_fw *f, const char *name, char *offer, char *agent, size_t cap) {
  start_master();
  f->id[0] = '\0';
  start_agent(NULL, name, NULL);
  fw_subscribe(f, 1);
  wait_offer(f, offer, agent, cap);
  wait_id_checkpointed();
}

/* Reads (and acknowledges) updates until every task of `tasks` is
 * RUNNING. */
static void wait_running(sim_fw *f, size_t n, const char *const *tasks) {
  size_t running = 0;
  while (running < n) {
    char *rec = sim_fw_next(f, 10000, "\"type\":\"UPDATE\"", NULL);
    ck_assert_msg(rec != NULL, "%zu of %zu tasks running", running, n);
    sim_fw_ack(f, rec);
    ck_assert_msg(strstr(rec, "\"state\":\"TASK_STARTING\"") ||
                      strstr(rec, "\"state\":\"TASK_RUNNING\""),
                  "%s", rec);
    if (strstr(rec, "\"state\":\"TASK_RUNNING\"")) running++;
    free(rec);
  }
}

/* A task group under the default executor survives a kill -9 of the
 * agent: the executor re-subscribes and each task ends once. */
START_TEST(test_recovery__task_group_survives_kill_9) {
  sim_fw f;
  char offer[160], agent[160];
  start_cluster(&f, "group", offer, agent, sizeof offer);
  const char *tasks[] = {"g-one", "g-two"};
  char g[6000];
  snprintf(g, sizeof g,
           "{\"name\":\"g\",\"task_id\":{\"value\":\"g-one\"},\"agent_id\":{\"value\":\"%s\"},"
           "\"command\":{\"value\":\"sleep 3\"},\"resources\":" RES "},"
           "{\"name\":\"g\",\"task_id\":{\"value\":\"g-two\"},\"agent_id\":{\"value\":\"%s\"},"
           "\"command\":{\"value\":\"sleep 3\"},\"resources\":" RES "}",
           agent, agent);
  ck_assert_int_eq(
      sim_fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH_GROUP\",\"launch_group\":{"
              "\"executor\":{\"type\":\"DEFAULT\",\"executor_id\":{\"value\":\"gexec\"},"
              "\"framework_id\":{\"value\":\"%s\"},\"resources\":" RES "},"
              "\"task_group\":{\"tasks\":[%s]}}}],\"filters\":{\"refuse_seconds\":0}}}",
              f.id, offer, f.id, g),
      202);
  wait_running(&f, 2, tasks);
  pid_t exec = executor_pid("gexec");
  wait_acks_recorded("gexec", "g-one", 2);
  wait_acks_recorded("gexec", "g-two", 2);
  kill_agent();
  usleep(200000);
  ck_assert_msg(alive(exec), "the default executor died with the agent");
  ck_assert_int_ge(session_size(exec), 3); /* the executor and its two tasks */
  start_agent(NULL, "group", NULL);
  char *finals[2] = {NULL, NULL};
  collect_once(&f, 2, tasks, finals, 15000, 1500);
  ck_assert_str_eq(finals[0], "TASK_FINISHED");
  ck_assert_str_eq(finals[1], "TASK_FINISHED");
  free(finals[0]);
  free(finals[1]);
  wait_gone(exec, 8000); /* it exits once its updates are acknowledged */
  char log[1 << 16];
  read_file(cl.agent_log, log, sizeof log);
  ck_assert_msg(strstr(log, "re-subscribed after the agent restarted") != NULL, "%s", log);
  sim_fw_close(&f);
  stop_all();
}
END_TEST

/* The same for a framework's own executor (examples/custom_executor),
 * whose task ends while no agent runs: its update waits in the executor
 * and arrives once with the re-subscription. */
START_TEST(test_recovery__custom_executor_survives_kill_9) {
  sim_fw f;
  char offer[160], agent[160], exe[8192], pid_file[400], work[600];
  example_path("custom_executor", exe, sizeof exe);
  start_cluster(&f, "custom", offer, agent, sizeof offer);
  task_pid_file("c-task", pid_file, sizeof pid_file);
  unlink(pid_file);
  snprintf(work, sizeof work, "echo $$ > %s; exec sleep 2", pid_file);
  ck_assert_int_eq(
      sim_fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
              "[{\"name\":\"t\",\"task_id\":{\"value\":\"c-task\"},\"agent_id\":{\"value\":\"%s\"},"
              "\"executor\":{\"type\":\"CUSTOM\",\"executor_id\":{\"value\":\"cexec\"},"
              "\"command\":{\"value\":\"%s\",\"environment\":{\"variables\":[{\"name\":"
              "\"CUSTOM_EXECUTOR_TASK_COMMAND\",\"value\":\"%s\"}]}},\"resources\":" RES "},"
              "\"resources\":" RES "}]}}],\"filters\":{\"refuse_seconds\":0}}}",
              f.id, offer, agent, exe, work),
      202);
  const char *tasks[] = {"c-task"};
  wait_running(&f, 1, tasks);
  pid_t exec = executor_pid("cexec");
  wait_acks_recorded("cexec", "c-task", 1);
  kill_agent();
  wait_task_ended(pid_file, 10000); /* while no agent runs */
  unlink(pid_file);
  ck_assert_msg(alive(exec), "the custom executor died with the agent");
  start_agent(NULL, "custom", NULL);
  char *finals[1] = {NULL};
  collect_once(&f, 1, tasks, finals, 15000, 1500);
  ck_assert_str_eq(finals[0], "TASK_FINISHED");
  free(finals[0]);
  /* Re-attached: the executor still serves this agent, which stops it. */
  ck_assert(alive(exec));
  char log[1 << 16];
  read_file(cl.agent_log, log, sizeof log);
  ck_assert_msg(strstr(log, "Executor " ) != NULL &&
                    strstr(log, "re-subscribed after the agent restarted") != NULL,
                "%s", log);
  mesos__agent_kill_session(exec, SIGKILL);
  wait_gone(exec, 5000);
  sim_fw_close(&f);
  stop_all();
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_recovery");
  TCase *tc = tcase_create("recovery");
  tcase_set_timeout(tc, 60);
  tcase_add_unchecked_fixture(tc, make_base, remove_base);
  tcase_add_test(tc, test_recovery__task_keeps_running_across_kill_9_and_finishes_once);
  tcase_add_test(tc, test_recovery__copied_binary_adopts_a_task_that_ended_while_down);
  tcase_add_test(tc, test_recovery__executor_killed_while_agent_down_fails_the_task);
  tcase_add_test(tc, test_recovery__executor_that_does_not_resubscribe_is_killed);
  tcase_add_test(tc, test_recovery__task_of_framework_without_checkpointing_is_killed_and_lost);
  tcase_add_test(tc, test_recovery__cleanup_kills_reports_and_registers_anew);
  tcase_add_test(tc, test_recovery__cleanup_kills_an_executor_that_does_not_stop);
  tcase_add_test(tc, test_recovery__damaged_executor_checkpoint_is_an_error_naming_the_file);
  tcase_add_test(tc, test_recovery__executor_gets_heartbeats);
  tcase_add_test(tc, test_recovery__master_restart_keeps_the_agents_tasks);
  tcase_add_test(tc, test_recovery__each_update_is_delivered_once_across_a_restart);
  tcase_add_test(tc, test_recovery__sigterm_leaves_checkpointing_executors_running);
  tcase_add_test(tc, test_recovery__sigterm_stops_executors_of_frameworks_without_checkpointing);
  tcase_add_test(tc, test_recovery__task_group_survives_kill_9);
  tcase_add_test(tc, test_recovery__custom_executor_survives_kill_9);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
