/*
 * Authentication and authorization with the real mesos-agent (issue 8):
 * the agent registers with a master that requires --authenticate_agents
 * using its --credential (and cannot without one), and its own endpoints
 * take HTTP Basic against --http_credentials and --acls, re-read on
 * SIGHUP.  With --jwt_secret_key the operator API also takes executor
 * tokens (only for the executor's own containers), and the key is re-read
 * on SIGHUP too (a missing or empty file keeps the old key).  The agent's
 * operator calls are checked per action (allowed and denied).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "authz/jwt.h"
#include "base/alloc.h"
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
  /* Executors and tasks (own session: not the agent's children). */
  if (dir[0]) mesos_test_kill_under(dir);
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


/* POST /api/v1 with `authorization` as the whole Authorization value
 * (NULL: none); the status, body and WWW-Authenticate are kept. */
static char last_body[65536], last_www[512];

static int api_call(const char *authorization, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int api_call(const char *authorization, const char *fmt, ...) {
  char body[2048], hdr[9000] = "";
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  if (authorization) snprintf(hdr, sizeof hdr, "Authorization: %s\r\n", authorization);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(agent_port, "POST", "/api/v1", "application/json", hdr, body,
                                   &r),
                   0);
  snprintf(last_body, sizeof last_body, "%s", r.body ? r.body : "");
  last_www[0] = '\0';
  mesos_test_response_header(&r, "WWW-Authenticate", last_www, sizeof last_www);
  int st = r.status;
  mesos_test_response_free(&r);
  return st;
}

static void basic(char *out, size_t cap, const char *principal, const char *secret) {
  char *h = NULL;
  ck_assert_int_eq(mesos_basic_auth_encode(principal, secret, &h, NULL), MESOS_OK);
  snprintf(out, cap, "%s", h);
  mesos_free(h);
}

/* "Bearer <token for f1/e1/cid signed with key>". */
static void bearer(char *out, size_t cap, const char *key, const char *cid) {
  char *t = NULL;
  ck_assert_int_eq(
      mesos__jwt_sign((const uint8_t *)key, strlen(key), "f1", "e1", cid, &t, NULL), MESOS_OK);
  snprintf(out, cap, "Bearer %s", t);
  mesos__free(t);
}

#define NESTED(type, field, parent)                                                            \
  "{\"type\":\"" type "\",\"" field "\":{\"container_id\":{\"value\":\"n1\",\"parent\":"      \
  "{\"value\":\"" parent "\"}}}}"

/* The status of LAUNCH_NESTED_CONTAINER under container c1 with `auth`:
 * 501 once authorized (this agent runs no nested containers), 401 when
 * the token does not verify. */
static int launch_under_c1(const char *auth) {
  return api_call(auth, "{\"type\":\"LAUNCH_NESTED_CONTAINER\",\"launch_nested_container\":"
                        "{\"container_id\":{\"value\":\"n1\",\"parent\":{\"value\":\"c1\"}},"
                        "\"command\":{\"value\":\"true\"}}}");
}

static int log_has(const char *name, const char *what) {
  char p[160];
  snprintf(p, sizeof p, "%s/%s.log", dir, name);
  FILE *f = fopen(p, "r");
  if (f == NULL) return 0;
  static char text[1 << 18];
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  return strstr(text, what) != NULL;
}

/* Waits until launch_under_c1(auth) answers `want`. */
static int wait_launch(const char *auth, int want) {
  for (int i = 0; i < 100; i++) {
    if (launch_under_c1(auth) == want) return 1;
    usleep(30 * 1000);
  }
  return 0;
}

START_TEST(test_agent_auth__executor_tokens_on_the_operator_api_and_key_reload) {
  start_master(NULL);
  write_file("jwt-key", "key-one");
  char creds[192], acls[192], key[192];
  snprintf(creds, sizeof creds, "--http_credentials=%s/http-creds", dir);
  snprintf(acls, sizeof acls, "--acls=%s/acls", dir);
  snprintf(key, sizeof key, "--jwt_secret_key=%s/jwt-key", dir);
  start_agent("agent-jwt", creds, acls, key, "--authenticate_http_readwrite");
  char k1[2048], other[2048], k2[2048], k3[2048], ops[256];
  bearer(k1, sizeof k1, "key-one", "c1");
  basic(ops, sizeof ops, "ops", "opspw");

  /* The executor of container c1 may act on c1's nested containers. */
  ck_assert_int_eq(launch_under_c1(k1), 501);
  ck_assert_int_eq(api_call(k1, NESTED("WAIT_NESTED_CONTAINER", "wait_nested_container", "c1")),
                   501);
  ck_assert_int_eq(api_call(k1, NESTED("KILL_NESTED_CONTAINER", "kill_nested_container", "c1")),
                   501);
  ck_assert_int_eq(api_call(k1, "{\"type\":\"ATTACH_CONTAINER_OUTPUT\",\"attach_container_output\":"
                                "{\"container_id\":{\"value\":\"c1\"}}}"),
                   501);
  /* ... not on another container's, whatever the ACLs say. */
  ck_assert_int_eq(api_call(k1, NESTED("KILL_NESTED_CONTAINER", "kill_nested_container", "c2")),
                   403);
  ck_assert_msg(strstr(last_body, "own container 'c1'"), "%s", last_body);
  bearer(other, sizeof other, "key-one", "c2");
  ck_assert_int_eq(launch_under_c1(other), 403);
  /* Only a few calls at all: GET_FLAGS is an operator's. */
  ck_assert_int_eq(api_call(k1, "{\"type\":\"GET_FLAGS\"}"), 403);
  ck_assert_msg(strstr(last_body, "GET_FLAGS"), "%s", last_body);
  ck_assert_int_eq(api_call(k1, "{\"type\":\"GET_STATE\"}"), 403);
  ck_assert_int_eq(api_call(k1, "{\"type\":\"GET_HEALTH\"}"), 200);
  ck_assert_int_eq(api_call(k1, "{\"type\":\"GET_CONTAINERS\"}"), 200);
  /* A token this agent did not sign: 401 naming both schemes. */
  bearer(k2, sizeof k2, "key-two", "c1");
  ck_assert_int_eq(launch_under_c1(k2), 401);
  ck_assert_msg(strstr(last_www, "Basic realm=\"mesos-agent-readwrite\"") &&
                    strstr(last_www, "Bearer realm=\"mesos-agent-readwrite\""),
                "%s", last_www);
  ck_assert_int_eq(launch_under_c1("Bearer not.a.token"), 401);
  /* Operators still use Basic. */
  ck_assert_int_eq(api_call(ops, "{\"type\":\"GET_FLAGS\"}"), 200);

  /* SIGHUP with a new key: new tokens verify, and so do the ones signed
   * with the key before it (executors already running hold those). */
  write_file("jwt-key", "key-two");
  ck_assert_int_eq(kill(agent_pid, SIGHUP), 0);
  ck_assert_msg(wait_launch(k2, 501), "the new key was not loaded after SIGHUP");
  ck_assert_int_eq(launch_under_c1(k1), 501);
  /* Another rotation retires key-one. */
  write_file("jwt-key", "key-three");
  ck_assert_int_eq(kill(agent_pid, SIGHUP), 0);
  bearer(k3, sizeof k3, "key-three", "c1");
  ck_assert_msg(wait_launch(k3, 501), "the third key was not loaded after SIGHUP");
  ck_assert_int_eq(launch_under_c1(k1), 401);
  ck_assert_int_eq(launch_under_c1(k2), 501);
  /* A missing and then an empty key file keep the key in force, and the
   * agent says why. */
  char kp[160];
  path_in(kp, sizeof kp, "jwt-key");
  ck_assert_int_eq(unlink(kp), 0);
  ck_assert_int_eq(kill(agent_pid, SIGHUP), 0);
  int logged = 0;
  for (int i = 0; i < 100 && !logged; i++) {
    logged = log_has("agent-jwt", "executor token key not reloaded (old one kept)");
    if (!logged) usleep(30 * 1000);
  }
  ck_assert_msg(logged, "no reason logged for the missing key file");
  ck_assert_int_eq(launch_under_c1(k3), 501);
  write_file("jwt-key", "");
  ck_assert_int_eq(kill(agent_pid, SIGHUP), 0);
  logged = 0;
  for (int i = 0; i < 100 && !logged; i++) {
    logged = log_has("agent-jwt", "the key file is empty");
    if (!logged) usleep(30 * 1000);
  }
  ck_assert_msg(logged, "no reason logged for the empty key file");
  ck_assert_int_eq(launch_under_c1(k3), 501);
  ck_assert_int_eq(launch_under_c1(k2), 501);
  stop(&agent_pid, "mesos-agent");
  stop(&master_pid, "mesos-master");
}
END_TEST

#define OPS_ONLY(key, field)                                                                   \
  "\"" key "\": ["                                                                             \
  " {\"principals\": {\"values\": [\"ops\"]}, \"" field "\": {\"type\": \"ANY\"}},"           \
  " {\"principals\": {\"type\": \"ANY\"}, \"" field "\": {\"type\": \"NONE\"}}]"

/* Every action the agent's operator API checks, with a principal allowed
 * (ops) and one denied (dev): the denied one gets 403 naming the action,
 * the allowed one the call's real answer. */
START_TEST(test_agent_auth__operator_calls_per_action) {
  start_master(NULL);
  write_file("acls", "{" OPS_ONLY("view_flags", "flags") "," OPS_ONLY("set_log_level", "level")
                     "," OPS_ONLY("launch_nested_containers_as_user", "users") ","
                     OPS_ONLY("launch_nested_containers_under_parent_with_user", "users") ","
                     OPS_ONLY("launch_nested_container_sessions_as_user", "users") ","
                     OPS_ONLY("launch_nested_container_sessions_under_parent_with_user", "users")
                     "," OPS_ONLY("wait_nested_containers", "users") ","
                     OPS_ONLY("kill_nested_containers", "users") ","
                     OPS_ONLY("remove_nested_containers", "users") ","
                     OPS_ONLY("attach_containers_input", "users") ","
                     OPS_ONLY("attach_containers_output", "users") ","
                     OPS_ONLY("view_containers", "users") ","
                     OPS_ONLY("launch_standalone_containers", "users") ","
                     OPS_ONLY("kill_standalone_containers", "users") ","
                     OPS_ONLY("wait_standalone_containers", "users") ","
                     OPS_ONLY("remove_standalone_containers", "users") ","
                     OPS_ONLY("view_standalone_containers", "users") ","
                     OPS_ONLY("modify_resource_provider_configs", "resource_providers") ","
                     OPS_ONLY("mark_resource_providers_gone", "resource_providers") ","
                     OPS_ONLY("view_resource_providers", "resource_providers") ","
                     OPS_ONLY("prune_images", "images") "}");
  char creds[192], acls[192];
  snprintf(creds, sizeof creds, "--http_credentials=%s/http-creds", dir);
  snprintf(acls, sizeof acls, "--acls=%s/acls", dir);
  start_agent("agent-matrix", creds, acls, "--authenticate_http_readwrite", NULL);
  char ops[256], dev[256];
  basic(ops, sizeof ops, "ops", "opspw");
  basic(dev, sizeof dev, "dev", "devpw");
  static const struct {
    const char *call, *action;
    int allowed; /* ops's answer */
  } cases[] = {
      {"{\"type\":\"GET_FLAGS\"}", "VIEW_FLAGS", 200},
      {"{\"type\":\"SET_LOGGING_LEVEL\",\"set_logging_level\":{\"level\":0,\"duration\":"
       "{\"nanoseconds\":1000000000}}}",
       "SET_LOG_LEVEL", 200},
      {"{\"type\":\"LAUNCH_NESTED_CONTAINER\",\"launch_nested_container\":{\"container_id\":"
       "{\"value\":\"n1\",\"parent\":{\"value\":\"c1\"}},\"command\":{\"value\":\"true\"}}}",
       "LAUNCH_NESTED_CONTAINER", 501},
      {"{\"type\":\"LAUNCH_NESTED_CONTAINER_SESSION\",\"launch_nested_container_session\":"
       "{\"container_id\":{\"value\":\"n1\",\"parent\":{\"value\":\"c1\"}},\"command\":"
       "{\"value\":\"true\"}}}",
       "LAUNCH_NESTED_CONTAINER_SESSION", 501},
      {NESTED("WAIT_NESTED_CONTAINER", "wait_nested_container", "c1"), "WAIT_NESTED_CONTAINER",
       501},
      {NESTED("KILL_NESTED_CONTAINER", "kill_nested_container", "c1"), "KILL_NESTED_CONTAINER",
       501},
      {NESTED("REMOVE_NESTED_CONTAINER", "remove_nested_container", "c1"),
       "REMOVE_NESTED_CONTAINER", 501},
      {"{\"type\":\"ATTACH_CONTAINER_INPUT\",\"attach_container_input\":{\"type\":"
       "\"CONTAINER_ID\",\"container_id\":{\"value\":\"c1\"}}}",
       "ATTACH_CONTAINER_INPUT", 501},
      {"{\"type\":\"ATTACH_CONTAINER_OUTPUT\",\"attach_container_output\":{\"container_id\":"
       "{\"value\":\"c1\"}}}",
       "ATTACH_CONTAINER_OUTPUT", 501},
      {"{\"type\":\"LAUNCH_CONTAINER\",\"launch_container\":{\"container_id\":{\"value\":"
       "\"s1\"},\"command\":{\"value\":\"true\"}}}",
       "LAUNCH_STANDALONE_CONTAINER", 501},
      {"{\"type\":\"KILL_CONTAINER\",\"kill_container\":{\"container_id\":{\"value\":\"s1\"}}}",
       "KILL_STANDALONE_CONTAINER", 501},
      {"{\"type\":\"WAIT_CONTAINER\",\"wait_container\":{\"container_id\":{\"value\":\"s1\"}}}",
       "WAIT_STANDALONE_CONTAINER", 501},
      {"{\"type\":\"REMOVE_CONTAINER\",\"remove_container\":{\"container_id\":{\"value\":"
       "\"s1\"}}}",
       "REMOVE_STANDALONE_CONTAINER", 501},
      /* The 1.5 container calls on a nested id are the nested actions. */
      {"{\"type\":\"LAUNCH_CONTAINER\",\"launch_container\":{\"container_id\":{\"value\":"
       "\"n1\",\"parent\":{\"value\":\"c1\"}},\"command\":{\"value\":\"true\"}}}",
       "LAUNCH_NESTED_CONTAINER", 501},
      {NESTED("WAIT_CONTAINER", "wait_container", "c1"), "WAIT_NESTED_CONTAINER", 501},
      {NESTED("KILL_CONTAINER", "kill_container", "c1"), "KILL_NESTED_CONTAINER", 501},
      {NESTED("REMOVE_CONTAINER", "remove_container", "c1"), "REMOVE_NESTED_CONTAINER", 501},
      /* Resource providers: none on this agent, but the calls are
       * authorized first, as in Mesos. */
      {"{\"type\":\"ADD_RESOURCE_PROVIDER_CONFIG\"}", "MODIFY_RESOURCE_PROVIDER_CONFIG", 501},
      {"{\"type\":\"UPDATE_RESOURCE_PROVIDER_CONFIG\"}", "MODIFY_RESOURCE_PROVIDER_CONFIG", 501},
      {"{\"type\":\"REMOVE_RESOURCE_PROVIDER_CONFIG\"}", "MODIFY_RESOURCE_PROVIDER_CONFIG", 501},
      {"{\"type\":\"MARK_RESOURCE_PROVIDER_GONE\"}", "MARK_RESOURCE_PROVIDER_GONE", 501},
      {"{\"type\":\"GET_RESOURCE_PROVIDERS\"}", "VIEW_RESOURCE_PROVIDER", 200},
      {"{\"type\":\"PRUNE_IMAGES\"}", "PRUNE_IMAGES", 501},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ck_assert_msg(api_call(dev, "%s", cases[i].call) == 403, "dev %s: %s", cases[i].call,
                  last_body);
    ck_assert_msg(strstr(last_body, cases[i].action), "dev %s: %s", cases[i].call, last_body);
    ck_assert_msg(api_call(ops, "%s", cases[i].call) == cases[i].allowed, "ops %s: %s",
                  cases[i].call, last_body);
  }
  /* view_containers and view_standalone_containers filter rather than
   * refuse (this agent has no standalone containers to hide). */
  ck_assert_int_eq(api_call(dev, "{\"type\":\"GET_CONTAINERS\"}"), 200);
  ck_assert_int_eq(api_call(ops, "{\"type\":\"GET_CONTAINERS\"}"), 200);
  ck_assert_int_eq(api_call(dev, "{\"type\":\"GET_CONTAINERS\",\"get_containers\":"
                                 "{\"show_nested\":true,\"show_standalone\":true}}"),
                   200);
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
  tcase_add_test(tc, test_agent_auth__executor_tokens_on_the_operator_api_and_key_reload);
  tcase_add_test(tc, test_agent_auth__operator_calls_per_action);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
