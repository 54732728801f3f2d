/*
 * The master's ACCEPT and custom executors' own resources, against a real
 * mesos-master over loopback HTTP with a simulated agent (our agent
 * protocol) and a JSON scheduler:
 *  - a LAUNCH whose task brings a new ExecutorInfo with resources takes
 *    them from the offer too: task + executor must fit (else TASK_ERROR,
 *    REASON_TASK_INVALID, "Task uses more resources ... than available
 *    ...", as Mesos says); they stay allocated while the executor runs,
 *    after its tasks ended, and return when the agent reports its exit;
 *  - an executor without resources launches (Mesos 1.0 only warns);
 *  - a task group's new executor must fit beside the group (Mesos's
 *    "Total resources ... required by task group and its executor ...");
 *  - reservations and a persistent volume made through ACCEPT, with a
 *    real mesos-master (durable registry) and a real mesos-agent: the
 *    master is killed with SIGKILL right after the ACCEPT was answered
 *    202, restarted, the agent re-registers by itself, and the reserved
 *    cpus and the volume are offered to their role again.
 *
 * The scheduler is tests/support/sim_fw.h, the agent
 * tests/support/sim_raw_agent.h.
 */
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "codec/pb.h"
#include "mesos/internal/internal.pb-c.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/sim_raw_agent.h"
#include "support/testutil.h"

static pid_t master_pid = -1;
static int master_port;

/* Agents miss 3 pings of 300 ms before they are unreachable: the test
 * answers pings between its calls (agent_pump), a gone stream is noticed
 * within ~1.2 s. */
static void start_master(void) {
  char path[4096], port_arg[64];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  char *argv[] = {path,
                  "--ip=127.0.0.1",
                  port_arg,
                  "--allocation_interval=50ms",
                  "--agent_ping_timeout=300ms",
                  "--max_agent_ping_timeouts=3",
                  "--logging_level=WARNING",
                  NULL};
  master_pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(master_port, "/health", 5000), "master did not come up");
}

static void stop_master(void) {
  if (master_pid > 0) {
    int st = mesos_test_stop(master_pid, 3000);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
  }
  master_pid = -1;
}

/* SUBSCRIBE as a new framework (user nobody) with the framework_info
 * members `extra_info` (",\"role\":..." or NULL) besides its name. */
static void fw_subscribe(sim_fw *f, const char *extra_info) {
  char info[1024];
  snprintf(info, sizeof info, "\"user\":\"nobody\",\"name\":\"scheduler2 test\"%s",
           extra_info ? extra_info : "");
  sim_fw_subscribe(f, master_port, info);
}

/* ------------------------------------------------------------ offers */

/* The next OFFERS event; its offer id into `offer` and its cpus (0 when
 * the offer has none). */
static double next_offer(sim_fw *f, sim_raw_agent *a, char *offer, size_t cap) {
  char *rec = NULL;
  long long deadline = sim_fw_now_ms() + 5000;
  while (rec == NULL && sim_fw_now_ms() < deadline) {
    rec = sim_fw_next(f, 100, "\"type\":\"OFFERS\"", NULL);
    sim_raw_agent_pump(a, 1);
  }
  ck_assert_msg(rec != NULL, "no offer came");
  sim_fw_json_id(rec, "id", offer, cap);
  double cpus = 0;
  const char *p = strstr(rec, "\"name\":\"cpus\"");
  if (p) {
    const char *v = strstr(p, "\"scalar\":{\"value\":");
    ck_assert_ptr_nonnull(v);
    cpus = strtod(v + strlen("\"scalar\":{\"value\":"), NULL);
  }
  free(rec);
  return cpus;
}

static void decline(sim_fw *f, const char *offer) {
  ck_assert_int_eq(sim_fw_call(f,
                           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"DECLINE\","
                           "\"decline\":{\"offer_ids\":[{\"value\":\"%s\"}],\"filters\":{"
                           "\"refuse_seconds\":0}}}",
                           f->id, offer),
                   202);
}

/* Declines offers until one offers `cpus` (within 0.001); fails after 5 s. */
static void offer_until_cpus(sim_fw *f, sim_raw_agent *a, double cpus, char *offer, size_t cap) {
  long long deadline = sim_fw_now_ms() + 5000;
  double got = -1;
  while (sim_fw_now_ms() < deadline) {
    got = next_offer(f, a, offer, cap);
    if (got > cpus - 0.001 && got < cpus + 0.001) return;
    decline(f, offer);
  }
  ck_abort_msg("no offer with %g cpus came (last had %g)", cpus, got);
}

#define SCALAR(name, v) "{\"name\":\"" name "\",\"type\":\"SCALAR\",\"scalar\":{\"value\":" v "}}"

/* ACCEPT of `offer` launching `task` (task_cpus, 64 mem) with executor
 * `exec` whose resources are `exec_res` (a JSON array body, "" for none). */
static void launch_with_executor(sim_fw *f, sim_raw_agent *a, const char *offer, const char *task,
                                 const char *task_cpus, const char *exec, const char *exec_res) {
  ck_assert_int_eq(
      sim_fw_call(f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
              "[{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":\"%s\"},"
              "\"executor\":{\"executor_id\":{\"value\":\"%s\"},\"command\":{\"value\":\"true\"},"
              "\"resources\":[%s]},\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\","
              "\"scalar\":{\"value\":%s}}," SCALAR("mem", "64") "]}]}}],\"filters\":{"
              "\"refuse_seconds\":0}}}",
              f->id, offer, task, a->id, exec, exec_res, task_cpus),
      202);
}

/* ------------------------------------------------------------ tests */

/* Offer 1 cpu: executor 0.5 + task 0.6 is a TASK_ERROR; executor 0.5 +
 * task 0.5 launches, and the executor's 0.5 cpu is offered again only
 * once the agent reports the executor gone (not when its task ends). */
START_TEST(test_scheduler2__executor_resources_come_out_of_the_offer) {
  start_master();
  sim_raw_agent a;
  sim_raw_agent_init(&a, master_port, "exec-res-1");
  a.cpus = 1;
  sim_raw_agent_register(&a);
  sim_fw f;
  fw_subscribe(&f, NULL);
  char offer[160];
  offer_until_cpus(&f, &a, 1, offer, sizeof offer);
  launch_with_executor(&f, &a, offer, "too-big", "0.6", "exec-1",
                       SCALAR("cpus", "0.5") "," SCALAR("mem", "32"));
  char *rec = sim_fw_next(&f, 5000, "\"TASK_ERROR\"", NULL);
  ck_assert_msg(rec != NULL, "no TASK_ERROR for a task that does not fit with its executor");
  ck_assert_msg(strstr(rec, "\"too-big\""), "%s", rec);
  ck_assert_msg(strstr(rec, "\"REASON_TASK_INVALID\""), "%s", rec);
  ck_assert_msg(strstr(rec, "Task uses more resources cpus(*):0.6; mem(*):64 than available"), "%s",
                rec);
  free(rec);

  /* Nothing was taken: the whole cpu is offered again. */
  offer_until_cpus(&f, &a, 1, offer, sizeof offer);
  launch_with_executor(&f, &a, offer, "fits", "0.5", "exec-1",
                       SCALAR("cpus", "0.5") "," SCALAR("mem", "32"));
  Mesos__Internal__AgentEvent *ev =
      sim_raw_agent_expect(&a, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK, 5000);
  ck_assert_ptr_nonnull(ev);
  ck_assert_str_eq(ev->run_task->task->task_id->value, "fits");
  mesos__pb_free(ev);
  sim_raw_agent_status(&a, f.id, "fits", "TASK_RUNNING", SIM_RAW_EXECUTOR_REASON);
  /* Task 0.5 + executor 0.5: no cpus left to offer (mem is). */
  double c = next_offer(&f, &a, offer, sizeof offer);
  ck_assert_msg(c == 0, "an offer had %g cpus while task and executor hold all", c);
  decline(&f, offer);

  /* The task ends: its 0.5 comes back, the executor's does not. */
  sim_raw_agent_status(&a, f.id, "fits", "TASK_FINISHED", SIM_RAW_EXECUTOR_REASON);
  offer_until_cpus(&f, &a, 0.5, offer, sizeof offer);
  decline(&f, offer);
  /* Still 0.5 a while later: the executor holds the rest. */
  c = next_offer(&f, &a, offer, sizeof offer);
  ck_assert_msg(c > 0.499 && c < 0.501, "offer had %g cpus while the executor runs", c);
  decline(&f, offer);

  /* The agent reports the executor gone: the whole cpu is offered. */
  sim_raw_agent_exited_executor(&a, f.id, "exec-1", 0);
  offer_until_cpus(&f, &a, 1, offer, sizeof offer);
  sim_fw_close(&f);
  sim_raw_agent_close(&a);
  stop_master();
}
END_TEST

/* An executor with no resources launches (Mesos 1.0 warns only), and a
 * second task for an executor the agent already has does not count the
 * executor's resources again. */
START_TEST(test_scheduler2__executor_without_resources_and_a_known_executor) {
  start_master();
  sim_raw_agent a;
  sim_raw_agent_init(&a, master_port, "exec-res-2");
  a.cpus = 1;
  sim_raw_agent_register(&a);
  sim_fw f;
  fw_subscribe(&f, NULL);
  char offer[160];
  offer_until_cpus(&f, &a, 1, offer, sizeof offer);
  launch_with_executor(&f, &a, offer, "bare", "1", "exec-bare", "");
  Mesos__Internal__AgentEvent *ev =
      sim_raw_agent_expect(&a, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK, 5000);
  ck_assert_ptr_nonnull(ev);
  ck_assert_str_eq(ev->run_task->task->task_id->value, "bare");
  mesos__pb_free(ev);
  sim_raw_agent_status(&a, f.id, "bare", "TASK_RUNNING", SIM_RAW_EXECUTOR_REASON);
  sim_raw_agent_status(&a, f.id, "bare", "TASK_FINISHED", SIM_RAW_EXECUTOR_REASON);

  /* exec-2 with 0.5 cpu, then a second task for it: the second needs only
   * its own 0.5 (the executor's are already held). */
  offer_until_cpus(&f, &a, 1, offer, sizeof offer);
  launch_with_executor(&f, &a, offer, "first", "0.5", "exec-2", SCALAR("cpus", "0.5"));
  ev = sim_raw_agent_expect(&a, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK, 5000);
  ck_assert_ptr_nonnull(ev);
  mesos__pb_free(ev);
  sim_raw_agent_status(&a, f.id, "first", "TASK_RUNNING", SIM_RAW_EXECUTOR_REASON);
  sim_raw_agent_status(&a, f.id, "first", "TASK_FINISHED", SIM_RAW_EXECUTOR_REASON);
  offer_until_cpus(&f, &a, 0.5, offer, sizeof offer);
  launch_with_executor(&f, &a, offer, "second", "0.5", "exec-2", SCALAR("cpus", "0.5"));
  ev = sim_raw_agent_expect(&a, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK, 5000);
  ck_assert_msg(ev != NULL, "the second task of a running executor was not launched");
  ck_assert_str_eq(ev->run_task->task->task_id->value, "second");
  mesos__pb_free(ev);
  sim_fw_close(&f);
  sim_raw_agent_close(&a);
  stop_master();
}
END_TEST

/* LAUNCH_GROUP: a new default executor's resources must fit beside the
 * group's tasks. */
START_TEST(test_scheduler2__task_group_and_its_executor_must_fit) {
  start_master();
  sim_raw_agent a;
  sim_raw_agent_init(&a, master_port, "exec-res-3");
  a.cpus = 1;
  sim_raw_agent_register(&a);
  sim_fw f;
  fw_subscribe(&f, NULL);
  char offer[160];
  offer_until_cpus(&f, &a, 1, offer, sizeof offer);
#define GROUP_TASK(id)                                                                       \
  "{\"name\":\"g\",\"task_id\":{\"value\":\"" id "\"},\"agent_id\":{\"value\":\"%s\"},"      \
  "\"command\":{\"value\":\"true\"},\"resources\":[" SCALAR("cpus", "0.3") "]}"
  ck_assert_int_eq(
      sim_fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH_GROUP\",\"launch_group\":{"
              "\"executor\":{\"type\":\"DEFAULT\",\"executor_id\":{\"value\":\"grp-exec\"},"
              "\"resources\":[" SCALAR("cpus", "0.5") "]},\"task_group\":{\"tasks\":["
              GROUP_TASK("g1") "," GROUP_TASK("g2") "]}}}],\"filters\":{\"refuse_seconds\":0}}}",
              f.id, offer, a.id, a.id),
      202);
  char *rec = sim_fw_next(&f, 5000, "\"TASK_ERROR\"", NULL);
  ck_assert_msg(rec != NULL, "no TASK_ERROR for a group that does not fit with its executor");
  ck_assert_msg(strstr(rec, "\"REASON_TASK_GROUP_INVALID\""), "%s", rec);
  ck_assert_msg(strstr(rec, "required by task group and its executor are more than available"),
                "%s", rec);
  free(rec);
  /* Nothing was launched or taken. */
  offer_until_cpus(&f, &a, 1, offer, sizeof offer);
  sim_fw_close(&f);
  sim_raw_agent_close(&a);
  stop_master();
}
END_TEST


/* ------------------------------------------------------------ restart */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static char base[64];

/* Unchecked fixtures run in the parent process: the work directory goes
 * away also when the test fails (the daemons die with the test process:
 * PDEATHSIG). */
static void make_base(void) {
  snprintf(base, sizeof base, "/tmp/mesos-scheduler2-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(base));
}

static void remove_base(void) {
  if (base[0] == '\0') return;
  /* Nothing runs tasks here today; should a test launch one, its executor
   * (own session, no PDEATHSIG) must not outlive a failure. */
  mesos_test_kill_under(base);
  nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A master with a durable registry under base/master on master_port. */
static void start_durable_master(void) {
  char path[4096], port_arg[64], wd_arg[600], log[600];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s/master", base);
  snprintf(log, sizeof log, "%s/master.log", base);
  char *argv[] = {path,        "--ip=127.0.0.1", port_arg, wd_arg, "--allocation_interval=50ms",
                  "--logging_level=WARNING", NULL};
  master_pid = mesos_test_spawn(argv, log);
  ck_assert_int_gt(master_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(master_port, "/health", 5000), "master did not come up");
}

#define R1_DISK(amount)                                                                     \
  "{\"name\":\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":" #amount "},\"role\":"     \
  "\"r1\",\"reservation\":{\"principal\":\"ops\"}}"
#define R1_CPUS                                                                             \
  "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1},\"role\":\"r1\","        \
  "\"reservation\":{\"principal\":\"ops\"}}"
#define R1_VOLUME                                                                           \
  "{\"name\":\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":100},\"role\":\"r1\","      \
  "\"reservation\":{\"principal\":\"ops\"},\"disk\":{\"persistence\":{\"id\":\"vol-9\","    \
  "\"principal\":\"ops\"},\"volume\":{\"container_path\":\"data\",\"mode\":\"RW\"}}}"

/* The next offer (within 15 s) that holds `want`; others are declined. */
static char *offer_with(sim_fw *f, const char *want) {
  long long deadline = sim_fw_now_ms() + 15000;
  while (sim_fw_now_ms() < deadline) {
    char *rec = sim_fw_next(f, (int)(deadline - sim_fw_now_ms()), "\"type\":\"OFFERS\"", NULL);
    if (rec == NULL) break;
    if (strstr(rec, want)) return rec;
    char offer[160];
    sim_fw_json_id(rec, "id", offer, sizeof offer);
    free(rec);
    decline(f, offer);
  }
  return NULL;
}

START_TEST(test_scheduler2__accept_reservations_survive_master_kill9) {
  master_port = mesos_test_free_port();
  start_durable_master();
  char path[4096], master_arg[64], port_arg[64], wd_arg[600], log[600];
  mesos_test_daemon_path("mesos-agent", path, sizeof path);
  int agent_port = mesos_test_free_port();
  snprintf(master_arg, sizeof master_arg, "--master=127.0.0.1:%d", master_port);
  snprintf(port_arg, sizeof port_arg, "--port=%d", agent_port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s/agent", base);
  snprintf(log, sizeof log, "%s/agent.log", base);
  char *argv[] = {path,
                  master_arg,
                  port_arg,
                  wd_arg,
                  "--ip=127.0.0.1",
                  "--hostname=kill9-host",
                  "--resources=cpus:4;mem:1024;disk:1024",
                  "--registration_backoff_factor=50ms",
                  NULL};
  pid_t agent = mesos_test_spawn(argv, log);
  ck_assert_int_gt(agent, 0);
  ck_assert(mesos_test_wait_http_ok(agent_port, "/health", 5000));

  sim_fw f;
  fw_subscribe(&f, ",\"role\":\"r1\",\"principal\":\"ops\"");
  char *rec = sim_fw_next(&f, 10000, "\"type\":\"OFFERS\"", NULL);
  ck_assert_msg(rec != NULL, "no offer from the real agent");
  char offer[160];
  sim_fw_json_id(rec, "id", offer, sizeof offer);
  free(rec);
  ck_assert_int_eq(
      sim_fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"RESERVE\",\"reserve\":{"
              "\"resources\":[" R1_CPUS "," R1_DISK(300) "]}},{\"type\":\"CREATE\",\"create\":{"
              "\"volumes\":[" R1_VOLUME "]}}],\"filters\":{\"refuse_seconds\":0}}}",
              f.id, offer),
      202);
  /* Acknowledged (202): the master dies at once, before anything else. */
  ck_assert_int_eq(kill(master_pid, SIGKILL), 0);
  int st = 0;
  ck_assert_int_eq(waitpid(master_pid, &st, 0), master_pid);
  master_pid = -1;
  sim_fw_close(&f);

  start_durable_master();
  sim_fw g;
  fw_subscribe(&g, ",\"role\":\"r1\",\"principal\":\"ops\"");
  /* The agent re-registers by itself; the reserved cpus and the volume
   * are offered to r1 again. */
  rec = offer_with(&g, "\"persistence\":{\"id\":\"vol-9\"");
  ck_assert_msg(rec != NULL, "the volume was not offered after the master's restart");
  ck_assert_msg(strstr(rec, "\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1.0},"
                            "\"role\":\"r1\",\"reservation\":{\"principal\":\"ops\"}"),
                "reserved cpus missing: %s", rec);
  ck_assert_msg(strstr(rec, "\"scalar\":{\"value\":200.0},\"role\":\"r1\",\"reservation\""),
                "the rest of the reserved disk missing: %s", rec);
  free(rec);
  sim_fw_close(&g);
  st = mesos_test_stop(agent, 5000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-agent exit status %d", st);
  stop_master();
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("master_scheduler2");
  TCase *tc = tcase_create("daemon");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_scheduler2__executor_resources_come_out_of_the_offer);
  tcase_add_test(tc, test_scheduler2__executor_without_resources_and_a_known_executor);
  tcase_add_test(tc, test_scheduler2__task_group_and_its_executor_must_fit);
  suite_add_tcase(s, tc);
  TCase *real = tcase_create("real_daemons");
  tcase_set_timeout(real, 60);
  tcase_add_unchecked_fixture(real, make_base, remove_base);
  tcase_add_test(real, test_scheduler2__accept_reservations_survive_master_kill9);
  suite_add_tcase(s, real);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
