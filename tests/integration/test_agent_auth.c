/*
 * Authentication and authorization with the real mesos-agent (issue 8):
 * the agent registers with a master that requires --authenticate_agents
 * using its --credential (and cannot without one), and its own endpoints
 * take HTTP Basic against --http_credentials and --acls, re-read on
 * SIGHUP.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/daemon.h"
#include "support/testutil.h"

static pid_t master_pid = -1, agent_pid = -1;
static int master_port, agent_port;
static char dir[64];

static void path_in(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "%s/%s", dir, name);
}

static void write_file(const char *name, const char *text) {
  char p[160];
  path_in(p, sizeof p, name);
  FILE *f = fopen(p, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  ck_assert_int_eq(chmod(p, 0600), 0);
}

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/agent-auth-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  write_file("master-creds", "{\"credentials\": [{\"principal\": \"agent\", \"secret\": "
                             "\"agentpw\"}]}");
  write_file("agent-credential", "{\"principal\": \"agent\", \"secret\": \"agentpw\"}");
  write_file("agent-credential.txt", "agent agentpw\n");
  write_file("wrong-credential", "{\"principal\": \"agent\", \"secret\": \"nope\"}");
  write_file("http-creds", "ops opspw\ndev devpw\n");
  write_file("acls", "{\"view_flags\": ["
                     " {\"principals\": {\"values\": [\"ops\"]}, \"flags\": {\"type\": \"ANY\"}},"
                     " {\"principals\": {\"type\": \"ANY\"}, \"flags\": {\"type\": \"NONE\"}}]}");
}

static void kill_pid(pid_t *pid) {
  if (*pid > 0) {
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = -1;
  }
}

static void teardown(void) {
  kill_pid(&agent_pid);
  kill_pid(&master_pid);
  /* Everything the test and the agent wrote lives under dir. */
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (dir[0] && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

static void start_master(const char *extra) {
  char path[4096], port_arg[64], creds[192];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  snprintf(creds, sizeof creds, "--credentials=%s/master-creds", dir);
  char *argv[] = {path, "--ip=127.0.0.1", port_arg, "--logging_level=WARNING", creds,
                  (char *)extra, NULL};
  master_pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert(mesos_test_wait_http_ok(master_port, "/health", 5000));
}

static void start_agent(const char *name, const char *e1, const char *e2, const char *e3,
                        const char *e4) {
  char path[4096], master_arg[64], port_arg[64], wd[256], log[256], host[128];
  mesos_test_daemon_path("mesos-agent", path, sizeof path);
  agent_port = mesos_test_free_port();
  snprintf(master_arg, sizeof master_arg, "--master=127.0.0.1:%d", master_port);
  snprintf(port_arg, sizeof port_arg, "--port=%d", agent_port);
  snprintf(wd, sizeof wd, "--work_dir=%s/work-%s", dir, name);
  snprintf(log, sizeof log, "%s/%s.log", dir, name);
  snprintf(host, sizeof host, "--hostname=%s", name);
  char *argv[] = {path, master_arg, port_arg, wd, host, "--ip=127.0.0.1",
                  "--resources=cpus:1;mem:128", "--registration_backoff_factor=50ms",
                  (char *)e1, (char *)e2, (char *)e3, (char *)e4, NULL};
  agent_pid = mesos_test_spawn(argv, log);
  ck_assert_int_gt(agent_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(agent_port, "/health", 5000), "agent %s not up", name);
}

static void stop(pid_t *pid, const char *what) {
  int st = mesos_test_stop(*pid, 5000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s exit status %d", what, st);
  *pid = -1;
}

/* Whether the master's /slaves lists an agent called `name` within
 * `timeout_ms`. */
static int master_lists(const char *name, int timeout_ms) {
  char want[160];
  snprintf(want, sizeof want, "\"hostname\":\"%s\"", name);
  for (int waited = 0; waited <= timeout_ms; waited += 50) {
    mesos_test_response r;
    if (mesos_test_http(master_port, "GET", "/slaves", NULL, NULL, NULL, &r) == 0) {
      int hit = r.status == 200 && r.body && strstr(r.body, want);
      mesos_test_response_free(&r);
      if (hit) return 1;
    }
    usleep(50 * 1000);
  }
  return 0;
}

static int agent_get(const char *path, const char *principal, const char *secret) {
  char hdr[512] = "";
  if (principal) {
    char *h = NULL;
    ck_assert_int_eq(mesos_basic_auth_encode(principal, secret, &h, NULL), MESOS_OK);
    snprintf(hdr, sizeof hdr, "Authorization: %s\r\n", h);
    mesos_free(h);
  }
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(agent_port, "GET", path, NULL, hdr, NULL, &r), 0);
  int st = r.status;
  mesos_test_response_free(&r);
  return st;
}

START_TEST(test_agent_auth__registers_with_its_credential_and_not_without) {
  start_master("--authenticate_agents");
  char cred[192];
  snprintf(cred, sizeof cred, "--credential=file://%s/agent-credential", dir);
  start_agent("agent-with-cred", cred, NULL, NULL, NULL);
  ck_assert_msg(master_lists("agent-with-cred", 5000), "the agent did not register");
  stop(&agent_pid, "mesos-agent");
  /* The text form of the credential works too. */
  snprintf(cred, sizeof cred, "--credential=%s/agent-credential.txt", dir);
  start_agent("agent-text-cred", cred, NULL, NULL, NULL);
  ck_assert_msg(master_lists("agent-text-cred", 5000), "the agent did not register");
  stop(&agent_pid, "mesos-agent");
  /* No credential, or a wrong one: the master answers 401, nothing
   * registers (the agent keeps retrying). */
  start_agent("agent-no-cred", NULL, NULL, NULL, NULL);
  ck_assert(!master_lists("agent-no-cred", 1000));
  stop(&agent_pid, "mesos-agent");
  snprintf(cred, sizeof cred, "--credential=%s/wrong-credential", dir);
  start_agent("agent-wrong-cred", cred, NULL, NULL, NULL);
  ck_assert(!master_lists("agent-wrong-cred", 1000));
  stop(&agent_pid, "mesos-agent");
  stop(&master_pid, "mesos-master");
}
END_TEST

START_TEST(test_agent_auth__endpoints_need_credentials_and_view_flags) {
  start_master(NULL);
  char creds[192], acls[192];
  snprintf(creds, sizeof creds, "--http_credentials=%s/http-creds", dir);
  snprintf(acls, sizeof acls, "--acls=%s/acls", dir);
  start_agent("agent-http", creds, acls, "--authenticate_http_readonly",
              "--authenticate_http_readwrite");
  ck_assert_int_eq(agent_get("/health", NULL, NULL), 200);
  ck_assert_int_eq(agent_get("/state", NULL, NULL), 401);
  ck_assert_int_eq(agent_get("/state", "ops", "bad"), 401);
  ck_assert_int_eq(agent_get("/state", "ops", "opspw"), 200);
  ck_assert_int_eq(agent_get("/state", "dev", "devpw"), 200);
  ck_assert_int_eq(agent_get("/flags", "ops", "opspw"), 200);
  ck_assert_int_eq(agent_get("/flags", "dev", "devpw"), 403);
  ck_assert_int_eq(agent_get("/slave(1)/flags", "dev", "devpw"), 403);
  /* The operator API is the read-write realm. */
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(agent_port, "POST", "/api/v1", "application/json", NULL,
                                   "{\"type\":\"GET_HEALTH\"}", &r),
                   0);
  ck_assert_int_eq(r.status, 401);
  mesos_test_response_free(&r);
  /* SIGHUP: new http credentials; a malformed ACL file keeps the old. */
  write_file("http-creds", "ops opspw\ndev devpw2\n");
  write_file("acls", "{\"view_flags\": 7}");
  ck_assert_int_eq(kill(agent_pid, SIGHUP), 0);
  int ok = 0;
  for (int i = 0; i < 100 && !ok; i++) {
    ok = agent_get("/state", "dev", "devpw2") == 200;
    if (!ok) usleep(30 * 1000);
  }
  ck_assert_msg(ok, "the new credentials were not loaded after SIGHUP");
  ck_assert_int_eq(agent_get("/state", "dev", "devpw"), 401);
  ck_assert_int_eq(agent_get("/flags", "dev", "devpw2"), 403); /* old ACLs */
  ck_assert_int_eq(agent_get("/flags", "ops", "opspw"), 200);
  stop(&agent_pid, "mesos-agent");
  stop(&master_pid, "mesos-master");
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("agent_auth");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_agent_auth__registers_with_its_credential_and_not_without);
  tcase_add_test(tc, test_agent_auth__endpoints_need_credentials_and_view_flags);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
