/*
 * Agent-side TLS (issue 8): a real mesos-master and mesos-agent both on
 * HTTPS (certificates made by openssl, tests/support/certs.h), the agent
 * registering with --master=https://..., a scheduler (the C client, over
 * TLS with the test CA) running a command task to TASK_FINISHED -- its
 * mesos-executor talks to the agent's plain loopback executor listener,
 * and re-subscribes there after the agent is killed and restarted --
 * and curl reading the agent's /state over HTTPS with --cacert.  Plain
 * HTTP on the agent's port gets no answer; inconsistent TLS flags refuse to
 * start.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mesos/mesos.h"
#include "support/certs.h"
#include "support/daemon.h"
#include "support/testutil.h"

static pid_t master_pid = -1, agent_pid = -1;
static int master_port, agent_port;
static char certs[64], work[128];

static void kill_pid(pid_t *pid) {
  if (*pid > 0) {
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = -1;
  }
}

static void setup(void) {
  certs[0] = work[0] = '\0';
}

static void teardown(void) {
  kill_pid(&agent_pid);
  kill_pid(&master_pid);
  /* The executor and its task (own session: not the agent's children). */
  if (work[0]) mesos_test_kill_under(work);
  if (work[0]) mesos_test_rmtree(work);
  if (certs[0]) mesos_test_rmtree(certs);
}

/* curl's HTTP status for `url` (0: no HTTP answer); the body goes to
 * `body_file` when not NULL. */
static int curl_code(const char *url, const char *body_file) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "curl -s -m 5 -o %s -w '%%{http_code}' --cacert %s/ca.crt '%s'",
           body_file ? body_file : "/dev/null", certs, url);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  char out[32] = "";
  if (!fgets(out, sizeof out, p)) out[0] = '\0';
  pclose(p);
  return (int)strtol(out, NULL, 10);
}

static int wait_https(int port, int timeout_ms) {
  char url[128];
  snprintf(url, sizeof url, "https://127.0.0.1:%d/health", port);
  for (int waited = 0; waited <= timeout_ms; waited += 50) {
    if (curl_code(url, NULL) == 200) return 1;
    usleep(50 * 1000);
  }
  return 0;
}

static int exit_code(pid_t pid) {
  int st = 0;
  for (int i = 0; i < 200; i++) {
    if (waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    usleep(25 * 1000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -2;
}

/* ------------------------------------------------------------ scheduler */

typedef struct harness {
  mesos_loop *loop;
  mesos_scheduler *s;
  int offers, running, finished, failed;
  char offer_id[160], offer_agent[160];
} harness;

static void h_event(mesos_scheduler *s, const char *type, const uint8_t *ev, size_t len,
                    void *ud) {
  harness *h = ud;
  mesos_error *err = NULL;
  if (strcmp(type, "OFFERS") == 0) {
    mesos_scheduler_offer *offers = NULL;
    size_t n = 0;
    ck_assert_mesos_ok(mesos_scheduler_event_offers(ev, len, &offers, &n, &err), &err);
    if (n > 0 && h->offers == 0) {
      snprintf(h->offer_id, sizeof h->offer_id, "%s", offers[0].id);
      snprintf(h->offer_agent, sizeof h->offer_agent, "%s", offers[0].agent_id);
      h->offers++;
    }
    mesos_free(offers);
  } else if (strcmp(type, "UPDATE") == 0) {
    mesos_scheduler_task_status *st = NULL;
    ck_assert_mesos_ok(mesos_scheduler_event_update(ev, len, &st, &err), &err);
    if (strcmp(st->state, "TASK_RUNNING") == 0) h->running++;
    if (strcmp(st->state, "TASK_FINISHED") == 0) h->finished++;
    else if (st->terminal) h->failed++;
    if (st->has_uuid)
      ck_assert_mesos_ok(mesos_scheduler_acknowledge(s, st->agent_id, st->task_id, st->uuid, &err),
                         &err);
    mesos_free(st);
  }
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int wait_int(harness *h, int *v, int want, int timeout_ms) {
  uint64_t end = now_ms() + (uint64_t)timeout_ms;
  while (*v < want && now_ms() < end && h->failed == 0) {
    int to = mesos_loop_timeout_ms(h->loop);
    if (to < 0 || to > 20) to = 20;
    struct pollfd p = {mesos_loop_fd(h->loop), POLLIN, 0};
    poll(&p, 1, to);
    mesos_loop_run_once(h->loop);
  }
  return *v >= want;
}

/* ------------------------------------------------------------ test */

START_TEST(test_agent_tls__master_and_agent_on_https_run_a_task) {
  if (!mesos_test_have_openssl() || system("curl --version > /dev/null 2>&1") != 0)
    MESOS_TEST_SKIP("openssl or curl is not installed");
  ck_assert_int_eq(mesos_test_certs_dir(certs, sizeof certs), 0);
  ck_assert_int_eq(mesos_test_make_certs(certs), 0);
  ck_assert_int_eq(mesos_test_certs_dir(work, sizeof work), 0);
  char cert[128], key[128], ca[128];
  snprintf(cert, sizeof cert, "--tls_cert=%s/server.crt", certs);
  snprintf(key, sizeof key, "--tls_key=%s/server.key", certs);
  snprintf(ca, sizeof ca, "--tls_ca=%s/ca.crt", certs);

  char mpath[4096], mport[64];
  mesos_test_daemon_path("mesos-master", mpath, sizeof mpath);
  master_port = mesos_test_free_port();
  snprintf(mport, sizeof mport, "--port=%d", master_port);
  char *margv[] = {mpath, "--ip=127.0.0.1", mport, "--allocation_interval=50ms",
                   "--logging_level=WARNING", cert, key, NULL};
  master_pid = mesos_test_spawn(margv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert_msg(wait_https(master_port, 5000), "master not up on https");

  char apath[4096], amaster[128], aport[64], wd[256], log[256];
  mesos_test_daemon_path("mesos-agent", apath, sizeof apath);
  agent_port = mesos_test_free_port();
  snprintf(amaster, sizeof amaster, "--master=https://127.0.0.1:%d", master_port);
  snprintf(aport, sizeof aport, "--port=%d", agent_port);
  snprintf(wd, sizeof wd, "--work_dir=%s/work", work);
  snprintf(log, sizeof log, "%s/agent.log", work);
  char *aargv[] = {apath, amaster, aport, wd, "--ip=127.0.0.1", "--hostname=agent-tls",
                   "--resources=cpus:2;mem:512", "--registration_backoff_factor=50ms",
                   cert, key, ca, NULL};
  agent_pid = mesos_test_spawn(aargv, log);
  ck_assert_int_gt(agent_pid, 0);
  ck_assert_msg(wait_https(agent_port, 5000), "agent not up on https");

  /* A scheduler over TLS runs one command task to TASK_FINISHED. */
  harness h;
  memset(&h, 0, sizeof h);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&h.loop, NULL, &err), &err);
  char masters[128], ca_file[128];
  snprintf(masters, sizeof masters, "https://127.0.0.1:%d", master_port);
  snprintf(ca_file, sizeof ca_file, "%s/ca.crt", certs);
  mesos_scheduler_options o = MESOS_SCHEDULER_OPTIONS_INIT;
  o.masters = masters;
  o.content_type = MESOS_SCHEDULER_CONTENT_JSON;
  o.framework_info_json = "{\"user\":\"nobody\",\"name\":\"tls test\",\"checkpoint\":true}";
  o.backoff_min_ms = 50;
  o.backoff_max_ms = 200;
  o.tls_ca_file = ca_file;
  o.on_event = h_event;
  o.ud = &h;
  ck_assert_mesos_ok(mesos_scheduler_new(&h.s, h.loop, &o, &err), &err);
  ck_assert_msg(wait_int(&h, &h.offers, 1, 10000), "no offer: the agent did not register");
  char call[2048];
  snprintf(call, sizeof call,
           "{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{\"value\":\"%s\"}],"
           "\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[{\"name\":\"t\","
           "\"task_id\":{\"value\":\"tls-task\"},\"agent_id\":{\"value\":\"%s\"},"
           "\"command\":{\"value\":\"sleep 2; echo over-tls\"},\"resources\":["
           "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.5}},"
           "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":64}}]}]}}]}}",
           h.offer_id, h.offer_agent);
  ck_assert_mesos_ok(mesos_scheduler_call_json(h.s, call, NULL, NULL, &err), &err);
  ck_assert_msg(wait_int(&h, &h.running, 1, 10000), "no TASK_RUNNING (failed: %d)", h.failed);
  /* The agent dies and comes back while the task runs: the executor
   * re-subscribes to the same loopback endpoint (its port is kept in
   * meta/executor_port) and the task still finishes. */
  kill_pid(&agent_pid);
  agent_pid = mesos_test_spawn(aargv, log);
  ck_assert_int_gt(agent_pid, 0);
  ck_assert_msg(wait_https(agent_port, 5000), "agent not up on https after the restart");
  ck_assert_msg(wait_int(&h, &h.finished, 1, 15000), "no TASK_FINISHED (failed: %d)", h.failed);
  ck_assert_int_eq(h.failed, 0);
  mesos_scheduler_free(h.s);
  for (int i = 0; i < 10; i++) mesos_loop_run_once(h.loop);
  mesos_loop_free(h.loop);

  /* curl reads the agent's /state over HTTPS. */
  char url[256], body[256];
  snprintf(url, sizeof url, "https://127.0.0.1:%d/state", agent_port);
  snprintf(body, sizeof body, "%s/state.json", work);
  ck_assert_int_eq(curl_code(url, body), 200);
  FILE *f = fopen(body, "r");
  ck_assert_ptr_nonnull(f);
  char buf[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  ck_assert_msg(strstr(buf, "\"hostname\":\"agent-tls\"") != NULL, "state: %.400s", buf);
  ck_assert_msg(strstr(buf, "tls-task") != NULL, "state: %.400s", buf);
  /* Plain HTTP on the agent's port gets no HTTP answer. */
  snprintf(url, sizeof url, "http://127.0.0.1:%d/health", agent_port);
  ck_assert_int_ne(curl_code(url, NULL), 200);

  int st = mesos_test_stop(agent_pid, 5000);
  agent_pid = -1;
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-agent exit status %d", st);
  st = mesos_test_stop(master_pid, 5000);
  master_pid = -1;
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);

  /* Inconsistent flags refuse to start (exit 1, not a crash). */
  char *bad1[] = {apath, amaster, aport, wd, "--ip=127.0.0.1", cert, NULL};
  pid_t p = mesos_test_spawn(bad1, NULL);
  ck_assert_int_eq(exit_code(p), 1);
  char *bad2[] = {apath, amaster, aport, wd, "--ip=127.0.0.1", cert, key,
                  "--tls_verify_client=required", NULL};
  p = mesos_test_spawn(bad2, NULL);
  ck_assert_int_eq(exit_code(p), 1);
}
END_TEST

int main(void) {
  Suite *s = suite_create("agent_tls");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_agent_tls__master_and_agent_on_https_run_a_task);
  suite_add_tcase(s, tc);
  return mesos_test_main(s);
}
