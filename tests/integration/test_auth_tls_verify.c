/*
 * TLS with client verification (issue 8): a real mesos-master with
 * --tls_verify_client=required and the test CA.
 *
 *  - An agent (--master=https://..., its --tls_cert/--tls_key a client
 *    certificate of the CA) registers; an agent with only --tls_ca (no
 *    certificate to show) and one with a certificate of another CA never
 *    do.
 *  - A framework (curl, an independent TLS client, speaking the v1
 *    scheduler API) subscribes with the CA's client certificate and gets
 *    SUBSCRIBED; without a certificate, or with another CA's, the TLS
 *    connection is refused before any HTTP.
 *
 * The certificates are made by openssl (tests/support/certs.h); without
 * openssl or curl the test is skipped and says so.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/certs.h"
#include "support/daemon.h"
#include "support/testutil.h"

static pid_t master_pid = -1, agent_pids[3] = {-1, -1, -1};
static int master_port;
static char certs[64], work[128];

static void kill_pid(pid_t *pid) {
  if (*pid > 0) {
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = -1;
  }
}

static void setup(void) { certs[0] = work[0] = '\0'; }

static void teardown(void) {
  for (int i = 0; i < 3; i++) kill_pid(&agent_pids[i]);
  kill_pid(&master_pid);
  if (work[0]) mesos_test_kill_under(work);
  if (work[0]) mesos_test_rmtree(work);
  if (certs[0]) mesos_test_rmtree(certs);
}

/* Runs curl against the master with `args` (client certificate options)
 * and `rest` (method, data, path); its output (status code, or the body
 * with -w) in out.  Returns curl's exit status. */
static int curl(const char *args, const char *rest, char *out, size_t cap) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "curl -s -m 2 --cacert %s/ca.crt %s %s 2>/dev/null", certs, args,
           rest);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = '\0';
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *client_args(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "--cert %s/%s.crt --key %s/%s.key", certs, name, certs, name);
  return buf;
}

/* Whether the master's /slaves (read with the CA's client certificate)
 * lists an agent called `host`. */
static int master_lists(const char *host) {
  char args[512], rest[256], out[65536], want[128];
  snprintf(rest, sizeof rest, "https://127.0.0.1:%d/slaves", master_port);
  snprintf(want, sizeof want, "\"hostname\":\"%s\"", host);
  if (curl(client_args(args, sizeof args, "client"), rest, out, sizeof out) != 0) return 0;
  return strstr(out, want) != NULL;
}

static pid_t start_agent(const char *host, const char *cert, const char *key) {
  char apath[4096], amaster[128], aport[64], wd[256], log[256], hostarg[128], ca[160],
      certarg[160], keyarg[160];
  mesos_test_daemon_path("mesos-agent", apath, sizeof apath);
  snprintf(amaster, sizeof amaster, "--master=https://127.0.0.1:%d", master_port);
  snprintf(aport, sizeof aport, "--port=%d", mesos_test_free_port());
  snprintf(wd, sizeof wd, "--work_dir=%s/work-%s", work, host);
  snprintf(log, sizeof log, "%s/%s.log", work, host);
  snprintf(hostarg, sizeof hostarg, "--hostname=%s", host);
  snprintf(ca, sizeof ca, "--tls_ca=%s/ca.crt", certs);
  snprintf(certarg, sizeof certarg, "--tls_cert=%s/%s", certs, cert ? cert : "");
  snprintf(keyarg, sizeof keyarg, "--tls_key=%s/%s", certs, key ? key : "");
  char *argv[] = {apath, amaster, aport, wd, "--ip=127.0.0.1", hostarg,
                  "--resources=cpus:1;mem:128", "--registration_backoff_factor=50ms", ca,
                  cert ? certarg : NULL, cert ? keyarg : NULL, NULL};
  pid_t p = mesos_test_spawn(argv, log);
  ck_assert_int_gt(p, 0);
  return p;
}

START_TEST(test_auth_tls_verify__agents_and_frameworks_need_a_client_certificate) {
  if (!mesos_test_have_openssl() || system("curl --version > /dev/null 2>&1") != 0)
    MESOS_TEST_SKIP("openssl or curl is not installed");
  ck_assert_int_eq(mesos_test_certs_dir(certs, sizeof certs), 0);
  ck_assert_int_eq(mesos_test_make_certs(certs), 0);
  ck_assert_int_eq(mesos_test_certs_dir(work, sizeof work), 0);
  char cert[128], key[128], ca[128], mpath[4096], mport[64], mlog[256];
  snprintf(cert, sizeof cert, "--tls_cert=%s/server.crt", certs);
  snprintf(key, sizeof key, "--tls_key=%s/server.key", certs);
  snprintf(ca, sizeof ca, "--tls_ca=%s/ca.crt", certs);
  snprintf(mlog, sizeof mlog, "%s/master.log", work);
  mesos_test_daemon_path("mesos-master", mpath, sizeof mpath);
  master_port = mesos_test_free_port();
  snprintf(mport, sizeof mport, "--port=%d", master_port);
  char *margv[] = {mpath, "--ip=127.0.0.1", mport, "--allocation_interval=50ms", cert, key, ca,
                   "--tls_verify_client=required", NULL};
  master_pid = mesos_test_spawn(margv, mlog);
  ck_assert_int_gt(master_pid, 0);
  char args[512], rest[1024], out[65536];
  snprintf(rest, sizeof rest, "-o /dev/null -w '%%{http_code}' https://127.0.0.1:%d/health",
           master_port);
  int up = 0;
  for (int i = 0; i < 100 && !up; i++) {
    up = curl(client_args(args, sizeof args, "client"), rest, out, sizeof out) == 0 &&
         strcmp(out, "200") == 0;
    if (!up) usleep(50 * 1000);
  }
  ck_assert_msg(up, "the master did not answer over TLS with a client certificate");

  /* ---- agents */
  agent_pids[0] = start_agent("with-cert", "client.crt", "client.key");
  agent_pids[1] = start_agent("no-cert", NULL, NULL);
  agent_pids[2] = start_agent("other-ca", "other-client.crt", "other-client.key");
  int listed = 0;
  for (int i = 0; i < 200 && !listed; i++) {
    listed = master_lists("with-cert");
    if (!listed) usleep(50 * 1000);
  }
  ck_assert_msg(listed, "the agent with a client certificate did not register");
  /* The others have had as long, and keep retrying (backoff 50 ms). */
  usleep(500 * 1000);
  ck_assert_msg(!master_lists("no-cert"), "an agent without a client certificate registered");
  ck_assert_msg(!master_lists("other-ca"), "an agent with another CA's certificate registered");

  /* ---- frameworks (the v1 scheduler API through curl) */
  const char *sub = "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":"
                    "\"nobody\",\"name\":\"tls framework\"}}}";
  snprintf(rest, sizeof rest,
           "-N -X POST -H 'Content-Type: application/json' -H 'Accept: application/json' "
           "-d '%s' https://127.0.0.1:%d/api/v1/scheduler",
           sub, master_port);
  /* curl ends at -m 2 on the open stream (exit 28) with what it read. */
  int rc = curl(client_args(args, sizeof args, "client"), rest, out, sizeof out);
  ck_assert_msg(strstr(out, "\"SUBSCRIBED\"") != NULL, "curl %d: %.300s", rc, out);
  ck_assert_msg(strstr(out, "with-cert") != NULL || strstr(out, "\"OFFERS\"") != NULL ||
                    strstr(out, "HEARTBEAT") != NULL,
                "nothing after SUBSCRIBED: %.300s", out);
  /* No certificate, another CA's: the handshake fails (no HTTP at all). */
  rc = curl("", rest, out, sizeof out);
  ck_assert_msg(rc != 0 && rc != 28 && strstr(out, "SUBSCRIBED") == NULL, "curl %d: %.300s", rc,
                out);
  rc = curl(client_args(args, sizeof args, "other-client"), rest, out, sizeof out);
  ck_assert_msg(rc != 0 && rc != 28 && strstr(out, "SUBSCRIBED") == NULL, "curl %d: %.300s", rc,
                out);

  for (int i = 0; i < 3; i++) {
    int st = mesos_test_stop(agent_pids[i], 5000);
    agent_pids[i] = -1;
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-agent %d exit status %d", i, st);
  }
  int st = mesos_test_stop(master_pid, 5000);
  master_pid = -1;
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
}
END_TEST

int main(void) {
  Suite *s = suite_create("auth_tls_verify");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_auth_tls_verify__agents_and_frameworks_need_a_client_certificate);
  suite_add_tcase(s, tc);
  return mesos_test_main(s);
}
