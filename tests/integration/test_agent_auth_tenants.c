/*
 * Two tenants on one real mesos-agent with authentication everywhere
 * (issue 8): alice and bob each run a task under their own framework user;
 * the agent has --authenticate_http_executors with --jwt_secret_key,
 * HTTP Basic on its endpoints and ACLs that let each principal see and
 * touch only its own user's things (ops sees everything).
 *
 *  - Executor tokens: mesos-executor gets MESOS_EXECUTOR_AUTHENTICATION_
 *    TOKEN and its calls carry it (the tasks reach TASK_RUNNING and are
 *    killed through the executor); calls without a token, with a tampered
 *    one, one signed with another key, an expired one or another
 *    executor's get 401/403 and change nothing.
 *  - Nested-container calls are authorized before they answer 501.
 *  - /state, GET_STATE, GET_TASKS, GET_EXECUTORS, GET_FRAMEWORKS are
 *    filtered per principal, and /state shows flags only with VIEW_FLAGS.
 */
#include <ftw.h>
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
#include "support/sim_fw.h"
#include "support/testutil.h"

static char base_dir[256];
static pid_t master_pid = -1, agent_pid = -1;
static int master_port, agent_port;
static const char KEY[] = "tenant-test-key\n";

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static void write_file(const char *name, const char *text) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", base_dir, name);
  FILE *f = fopen(p, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  ck_assert_int_eq(chmod(p, 0600), 0);
}

static void setup(void) {
  snprintf(base_dir, sizeof base_dir, "/tmp/mesos-auth-tenants-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(base_dir));
}

static void kill_pid(pid_t *pid) {
  if (*pid > 0) {
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = -1;
  }
}

static void teardown(void) {
  /* Normally stopped gracefully by the test; this is the failure path
   * (the agent's executors die with their sessions: PDEATHSIG). */
  kill_pid(&agent_pid);
  kill_pid(&master_pid);
  if (base_dir[0]) nftw(base_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#define OWN_USER_RULES(key)                                                                    \
  "\"" key "\": ["                                                                             \
  " {\"principals\": {\"values\": [\"ops\"]}, \"users\": {\"type\": \"ANY\"}},"               \
  " {\"principals\": {\"values\": [\"alice\"]}, \"users\": {\"values\": [\"alice\"]}},"       \
  " {\"principals\": {\"values\": [\"bob\"]}, \"users\": {\"values\": [\"bob\"]}},"           \
  " {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}]"

static void start_daemons(void) {
  write_file("http-creds", "alice alicepw\nbob bobpw\nops opspw\n");
  write_file("jwt-key", KEY);
  write_file("acls", "{" OWN_USER_RULES("view_frameworks") "," OWN_USER_RULES("view_tasks") ","
                     OWN_USER_RULES("view_executors") ","
                     OWN_USER_RULES("launch_nested_containers_as_user") ","
                     OWN_USER_RULES("launch_nested_containers_under_parent_with_user") ","
                     OWN_USER_RULES("kill_nested_containers") ","
                     OWN_USER_RULES("attach_containers_output") ","
                     OWN_USER_RULES("view_containers") ","
                     " \"view_flags\": ["
                     " {\"principals\": {\"values\": [\"ops\"]}, \"flags\": {\"type\": \"ANY\"}},"
                     " {\"principals\": {\"type\": \"ANY\"}, \"flags\": {\"type\": \"NONE\"}}]}");
  char path[4096], port_arg[64];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  char *margv[] = {path, "--ip=127.0.0.1", port_arg, "--allocation_interval=50ms",
                   "--logging_level=WARNING", NULL};
  master_pid = mesos_test_spawn(margv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert(mesos_test_wait_http_ok(master_port, "/health", 5000));

  char apath[4096], master_arg[64], aport_arg[64], wd_arg[600], log[600], creds[600], acls[600],
      key[600];
  mesos_test_daemon_path("mesos-agent", apath, sizeof apath);
  snprintf(log, sizeof log, "%s/agent.log", base_dir);
  agent_port = mesos_test_free_port();
  snprintf(master_arg, sizeof master_arg, "--master=127.0.0.1:%d", master_port);
  snprintf(aport_arg, sizeof aport_arg, "--port=%d", agent_port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s/work", base_dir);
  snprintf(creds, sizeof creds, "--http_credentials=%s/http-creds", base_dir);
  snprintf(acls, sizeof acls, "--acls=%s/acls", base_dir);
  snprintf(key, sizeof key, "--jwt_secret_key=file://%s/jwt-key", base_dir);
  char *aargv[] = {apath, master_arg, aport_arg, wd_arg, "--ip=127.0.0.1",
                   "--hostname=agent-tenants", "--resources=cpus:4;mem:1024",
                   "--registration_backoff_factor=50ms", "--executor_shutdown_grace_period=1secs",
                   creds, acls, key, "--authenticate_http_readonly",
                   "--authenticate_http_readwrite", "--authenticate_http_executors", NULL};
  agent_pid = mesos_test_spawn(aargv, log);
  ck_assert_int_gt(agent_pid, 0);
  ck_assert(mesos_test_wait_http_ok(agent_port, "/health", 5000));
}

static void stop(pid_t *pid, const char *what) {
  int st = mesos_test_stop(*pid, 5000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s exit status %d", what, st);
  *pid = -1;
}

/* ------------------------------------------------------------ frameworks */

static void field(const char *rec, const char *pat, char *out, size_t cap) {
  const char *p = strstr(rec, pat);
  ck_assert_msg(p != NULL, "%s not in %s", pat, rec);
  p += strlen(pat);
  const char *q = strchr(p, '"');
  ck_assert_ptr_nonnull(q);
  snprintf(out, cap, "%.*s", (int)(q - p), p);
}

#define RES                                                                                \
  "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.5}},"                       \
  "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":32}}]"

/* Acknowledges every update until each of the `n` tasks is TASK_RUNNING
 * (the agent sends RUNNING once STARTING is acknowledged). */
static void wait_running(sim_fw *f, const char *const *tasks, size_t n) {
  int running[4] = {0};
  size_t left = n;
  while (left > 0) {
    char *rec = sim_fw_next(f, 10000, "\"type\":\"UPDATE\"", NULL);
    ck_assert_msg(rec != NULL, "tasks did not reach TASK_RUNNING");
    char task[160];
    sim_fw_json_id(rec, "task_id", task, sizeof task);
    sim_fw_ack(f, rec);
    for (size_t i = 0; i < n; i++)
      if (strcmp(task, tasks[i]) == 0 && strstr(rec, "TASK_RUNNING") && !running[i]) {
        running[i] = 1;
        left--;
      }
    ck_assert_msg(strstr(rec, "TASK_STARTING") || strstr(rec, "TASK_RUNNING"), "%s", rec);
    free(rec);
  }
}

/* Subscribes as framework user `user`, takes an offer and launches
 * `command` as task `task` under mesos-executor (plus `more`, further
 * operations of the same ACCEPT, launching the tasks `more_tasks`); returns
 * once they are TASK_RUNNING, which an executor can only report with a
 * valid token. */
static void run_task(sim_fw *f, const char *user, const char *task, const char *command,
                     const char *more, const char *more_task) {
  char info[256];
  snprintf(info, sizeof info, "\"user\":\"%s\",\"name\":\"tenant %s\"", user, user);
  sim_fw_subscribe(f, master_port, info);
  char offer[160], agent[160];
  /* Room for the most run_task launches: a task, and in `more` a group
   * (its executor and its task): three of RES. */
  sim_fw_wait_offer_min(f, "agent-tenants", 1.5, 96, offer, agent, sizeof offer);
  char extra[4096] = "";
  if (more) {
    /* %1$s-style ids are filled in here: framework and agent. */
    snprintf(extra, sizeof extra, more, f->id, agent);
  }
  ck_assert_int_eq(
      sim_fw_call(f,
                  "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
                  "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\","
                  "\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},"
                  "\"agent_id\":{\"value\":\"%s\"},\"command\":{\"value\":\"%s\"},"
                  "\"resources\":" RES "}]}}%s]}}",
                  f->id, offer, task, agent, command, extra),
      202);
  const char *tasks[2] = {task, more_task};
  wait_running(f, tasks, more_task ? 2 : 1);
}

/* ------------------------------------------------------------ requests */

static char last_body[262144];
static char last_headers[8192];

static void auth_header(char *hdr, size_t cap, const char *principal) {
  hdr[0] = '\0';
  if (principal == NULL) return;
  char secret[64];
  snprintf(secret, sizeof secret, "%spw", principal);
  char *h = NULL;
  ck_assert_int_eq(mesos_basic_auth_encode(principal, secret, &h, NULL), MESOS_OK);
  snprintf(hdr, cap, "Authorization: %s\r\n", h);
  mesos_free(h);
}

static int finish(mesos_test_response *r) {
  snprintf(last_body, sizeof last_body, "%s", r->body ? r->body : "");
  snprintf(last_headers, sizeof last_headers, "%s", r->headers);
  int st = r->status;
  mesos_test_response_free(r);
  return st;
}

static int get_as(const char *principal, const char *path) {
  char hdr[512];
  auth_header(hdr, sizeof hdr, principal);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(agent_port, "GET", path, NULL, hdr, NULL, &r), 0);
  return finish(&r);
}

static int call_as(const char *principal, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int call_as(const char *principal, const char *fmt, ...) {
  char body[2048], hdr[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  auth_header(hdr, sizeof hdr, principal);
  mesos_test_response r;
  ck_assert_int_eq(
      mesos_test_http(agent_port, "POST", "/api/v1", "application/json", hdr, body, &r), 0);
  return finish(&r);
}

/* An executor MESSAGE call as executor `eid` of framework `fid`, with
 * `authorization` as the whole Authorization header value (NULL: none). */
static int exec_message(const char *fid, const char *eid, const char *authorization) {
  char body[1024], hdr[9000] = "";
  snprintf(body, sizeof body,
           "{\"type\":\"MESSAGE\",\"framework_id\":{\"value\":\"%s\"},\"executor_id\":"
           "{\"value\":\"%s\"},\"message\":{\"data\":\"aGk=\"}}",
           fid, eid);
  if (authorization) snprintf(hdr, sizeof hdr, "Authorization: %s\r\n", authorization);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(agent_port, "POST", "/api/v1/executor", "application/json",
                                   hdr, body, &r),
                   0);
  return finish(&r);
}

static char *token(const char *key, const char *fid, const char *eid, const char *cid) {
  char *t = NULL;
  ck_assert_int_eq(mesos__jwt_sign((const uint8_t *)key, strlen(key), fid, eid, cid, &t, NULL),
                   MESOS_OK);
  return t;
}

static void bearer(char *out, size_t cap, const char *tok) { snprintf(out, cap, "Bearer %s", tok); }

/* base64url, for a hand-made expired payload. */
static void b64url(const char *in, char *out) {
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t n = strlen(in), o = 0, i = 0;
  const unsigned char *p = (const unsigned char *)in;
  for (; i + 3 <= n; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
    out[o++] = A[v >> 18 & 63], out[o++] = A[v >> 12 & 63];
    out[o++] = A[v >> 6 & 63], out[o++] = A[v & 63];
  }
  if (n - i >= 1) {
    unsigned v = (unsigned)p[i] << 16 | (n - i == 2 ? (unsigned)p[i + 1] << 8 : 0);
    out[o++] = A[v >> 18 & 63], out[o++] = A[v >> 12 & 63];
    if (n - i == 2) out[o++] = A[v >> 6 & 63];
  }
  out[o] = '\0';
}

/* The container id of executor `eid`, from /state as ops. */
static void container_of(const char *eid, char *out, size_t cap) {
  ck_assert_int_eq(get_as("ops", "/state"), 200);
  char pat[256];
  snprintf(pat, sizeof pat, "\"source\":\"%s\",\"container\":\"", eid);
  field(last_body, pat, out, cap);
}

#define EXPECT_IN(s) ck_assert_msg(strstr(last_body, (s)) != NULL, "%s not in %s", (s), last_body)
#define EXPECT_NOT_IN(s) ck_assert_msg(strstr(last_body, (s)) == NULL, "%s in %s", (s), last_body)

/* ------------------------------------------------------------ test */

START_TEST(test_agent_auth_tenants__tokens_nested_calls_and_filtering) {
  start_daemons();
  sim_fw a, b;
  run_task(&a, "alice", "task-a", "sleep 60", NULL, NULL);
  /* bob also runs a task group under mesos-default-executor: it too
   * authenticates with its token (its task could not start otherwise). */
  run_task(&b, "bob", "task-b", "sleep 60",
           ",{\"type\":\"LAUNCH_GROUP\",\"launch_group\":{"
           "\"executor\":{\"type\":\"DEFAULT\",\"executor_id\":{\"value\":\"group-exec\"},"
           "\"framework_id\":{\"value\":\"%s\"},\"resources\":" RES "},"
           "\"task_group\":{\"tasks\":[{\"name\":\"g\",\"task_id\":{\"value\":\"task-g\"},"
           "\"agent_id\":{\"value\":\"%s\"},\"command\":{\"value\":\"sleep 60\"},"
           "\"resources\":" RES "}]}}}",
           "task-g");
  char *rec = NULL;
  char cid_a[128], cid_b[128];
  container_of("task-a", cid_a, sizeof cid_a);
  container_of("task-b", cid_b, sizeof cid_b);

  /* ---- executor tokens */
  char auth[9000];
  char *good = token(KEY, a.id, "task-a", cid_a);
  bearer(auth, sizeof auth, good);
  ck_assert_int_eq(exec_message(a.id, "task-a", auth), 202);
  rec = sim_fw_next(&a, 5000, "\"type\":\"MESSAGE\"", "aGk=", NULL);
  ck_assert_msg(rec != NULL, "the executor's MESSAGE did not reach the framework");
  free(rec);
  /* No token, a Basic one: 401 with the Bearer challenge. */
  ck_assert_int_eq(exec_message(a.id, "task-a", NULL), 401);
  ck_assert_ptr_nonnull(strstr(last_headers, "Bearer realm=\"mesos-agent-executor\""));
  EXPECT_IN("Unauthorized");
  ck_assert_int_eq(exec_message(a.id, "task-a", "Basic YWxpY2U6YWxpY2Vwdw=="), 401);
  /* Tampered: one character of the claims changed. */
  char *tampered = mesos__strdup(good);
  char *mid = strchr(tampered, '.') + 3;
  *mid = *mid == 'A' ? 'B' : 'A';
  bearer(auth, sizeof auth, tampered);
  ck_assert_int_eq(exec_message(a.id, "task-a", auth), 401);
  mesos__free(tampered);
  /* Signed with another (an old, rotated) key. */
  char *old = token("an old key", a.id, "task-a", cid_a);
  bearer(auth, sizeof auth, old);
  ck_assert_int_eq(exec_message(a.id, "task-a", auth), 401);
  EXPECT_IN("signature");
  mesos__free(old);
  /* Expired (right key, right claims). */
  char hdr64[128], pl[512], pl64[1024], in[1200];
  b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", hdr64);
  snprintf(pl, sizeof pl, "{\"fid\":\"%s\",\"eid\":\"task-a\",\"cid\":\"%s\",\"exp\":1000}", a.id,
           cid_a);
  b64url(pl, pl64);
  snprintf(in, sizeof in, "%s.%s", hdr64, pl64);
  char *expired = NULL;
  ck_assert_int_eq(mesos__jwt_sign_raw((const uint8_t *)KEY, strlen(KEY), in, strlen(in),
                                       &expired, NULL),
                   MESOS_OK);
  bearer(auth, sizeof auth, expired);
  ck_assert_int_eq(exec_message(a.id, "task-a", auth), 401);
  EXPECT_IN("expired");
  mesos__free(expired);
  /* bob's executor's token for alice's executor: 403 (an executor acts
   * only as itself); alice's ids with another container: 403. */
  char *other = token(KEY, b.id, "task-b", cid_b);
  bearer(auth, sizeof auth, other);
  ck_assert_int_eq(exec_message(a.id, "task-a", auth), 403);
  EXPECT_IN("Forbidden");
  ck_assert_int_eq(exec_message(b.id, "task-b", auth), 202); /* its own: fine */
  mesos__free(other);
  char *wrong_cid = token(KEY, a.id, "task-a", cid_b);
  bearer(auth, sizeof auth, wrong_cid);
  ck_assert_int_eq(exec_message(a.id, "task-a", auth), 403);
  EXPECT_IN("container");
  mesos__free(wrong_cid);
  /* The default executor's: its own ids pass, another container's not. */
  char *g_ok = token(KEY, b.id, "group-exec", "not-its-container");
  bearer(auth, sizeof auth, g_ok);
  ck_assert_int_eq(exec_message(b.id, "group-exec", auth), 403);
  EXPECT_IN("container");
  mesos__free(g_ok);
  /* A refused SUBSCRIBE does not take the real executor's stream: the
   * task is still RUNNING and its kill goes through its executor. */
  char *bad_sub = token(KEY, b.id, "task-b", cid_b);
  bearer(auth, sizeof auth, bad_sub);
  {
    char body[512], h[9100];
    snprintf(body, sizeof body,
             "{\"type\":\"SUBSCRIBE\",\"framework_id\":{\"value\":\"%s\"},\"executor_id\":"
             "{\"value\":\"task-a\"},\"subscribe\":{}}",
             a.id);
    snprintf(h, sizeof h, "Authorization: %s\r\nAccept: application/x-protobuf\r\n", auth);
    mesos_test_response r;
    ck_assert_int_eq(mesos_test_http(agent_port, "POST", "/api/v1/executor", "application/json",
                                     h, body, &r),
                     0);
    ck_assert_int_eq(finish(&r), 403);
  }
  mesos__free(bad_sub);
  mesos__free(good);

  /* ---- nested containers: 403 before 501 */
  const char *launch =
      "{\"type\":\"LAUNCH_NESTED_CONTAINER\",\"launch_nested_container\":{\"container_id\":"
      "{\"value\":\"n1\",\"parent\":{\"value\":\"%s\"}},\"command\":{\"value\":\"true\"}}}";
  ck_assert_int_eq(call_as("alice", launch, cid_a), 501);
  EXPECT_IN("not supported");
  ck_assert_int_eq(call_as("bob", launch, cid_a), 403);
  EXPECT_IN("LAUNCH_NESTED_CONTAINER");
  ck_assert_int_eq(call_as("bob", launch, cid_b), 501);
  /* As another user than the parent's: both keys must allow. */
  ck_assert_int_eq(
      call_as("alice",
              "{\"type\":\"LAUNCH_NESTED_CONTAINER\",\"launch_nested_container\":{\"container_id\":"
              "{\"value\":\"n1\",\"parent\":{\"value\":\"%s\"}},\"command\":{\"value\":\"true\","
              "\"user\":\"bob\"}}}",
              cid_a),
      403);
  const char *kill_nc = "{\"type\":\"KILL_NESTED_CONTAINER\",\"kill_nested_container\":"
                        "{\"container_id\":{\"value\":\"n1\",\"parent\":{\"value\":\"%s\"}}}}";
  ck_assert_int_eq(call_as("alice", kill_nc, cid_a), 501);
  ck_assert_int_eq(call_as("alice", kill_nc, cid_b), 403);
  ck_assert_int_eq(call_as("bob", "{\"type\":\"ATTACH_CONTAINER_OUTPUT\",\"attach_container_output\":"
                                  "{\"container_id\":{\"value\":\"%s\"}}}",
                           cid_a),
                   403);
  /* No wait_nested_containers rules: permissive, so 501. */
  ck_assert_int_eq(call_as("bob", "{\"type\":\"WAIT_NESTED_CONTAINER\",\"wait_nested_container\":"
                                  "{\"container_id\":{\"value\":\"n1\",\"parent\":{\"value\":\"%s\"}}}}",
                           cid_a),
                   501);
  /* A nested call without a nested id: 400. */
  ck_assert_int_eq(call_as("alice", "{\"type\":\"KILL_NESTED_CONTAINER\",\"kill_nested_container\":"
                                    "{\"container_id\":{\"value\":\"%s\"}}}",
                           cid_a),
                   400);
  EXPECT_IN("parent");
  ck_assert_int_eq(call_as(NULL, launch, cid_a), 401);

  /* ---- filtering */
  ck_assert_int_eq(get_as("alice", "/state"), 200);
  EXPECT_IN("\"id\":\"task-a\"");
  EXPECT_NOT_IN("task-b");
  EXPECT_NOT_IN(b.id);
  EXPECT_NOT_IN("\"flags\"");
  ck_assert_int_eq(get_as("bob", "/slave(1)/state"), 200);
  EXPECT_IN("\"id\":\"task-b\"");
  EXPECT_NOT_IN("task-a");
  ck_assert_int_eq(get_as("ops", "/state"), 200);
  EXPECT_IN("task-a");
  EXPECT_IN("task-b");
  EXPECT_IN("\"flags\"");
  ck_assert_int_eq(call_as("alice", "{\"type\":\"GET_STATE\"}"), 200);
  EXPECT_IN("task-a");
  EXPECT_NOT_IN("task-b");
  EXPECT_NOT_IN(b.id);
  ck_assert_int_eq(call_as("bob", "{\"type\":\"GET_TASKS\"}"), 200);
  EXPECT_IN("task-b");
  EXPECT_NOT_IN("task-a");
  ck_assert_int_eq(call_as("bob", "{\"type\":\"GET_EXECUTORS\"}"), 200);
  EXPECT_IN("task-b");
  EXPECT_NOT_IN("task-a");
  ck_assert_int_eq(call_as("bob", "{\"type\":\"GET_FRAMEWORKS\"}"), 200);
  EXPECT_IN("tenant bob");
  EXPECT_NOT_IN("tenant alice");
  ck_assert_int_eq(call_as("ops", "{\"type\":\"GET_STATE\"}"), 200);
  EXPECT_IN("task-a");
  EXPECT_IN("task-b");
  /* Containers: VIEW_CONTAINER by the executor's user. */
  ck_assert_int_eq(call_as("alice", "{\"type\":\"GET_CONTAINERS\"}"), 200);
  EXPECT_IN(cid_a);
  EXPECT_NOT_IN(cid_b);
  ck_assert_int_eq(get_as("bob", "/containers"), 200);
  EXPECT_IN(cid_b);
  EXPECT_NOT_IN(cid_a);
  ck_assert_int_eq(get_as("alice", "/monitor/statistics"), 200);
  EXPECT_IN("task-a");
  EXPECT_NOT_IN("task-b");
  ck_assert_int_eq(get_as("ops", "/containers"), 200);
  EXPECT_IN(cid_a);
  EXPECT_IN(cid_b);
  /* An executor's token on the operator API: its own container only. */
  {
    char *xt = token(KEY, a.id, "task-a", cid_a), xh[9000], xb[512];
    snprintf(xh, sizeof xh, "Authorization: Bearer %s\r\n", xt);
    mesos_test_response r;
    ck_assert_int_eq(mesos_test_http(agent_port, "POST", "/api/v1", "application/json", xh,
                                     "{\"type\":\"GET_CONTAINERS\"}", &r),
                     0);
    ck_assert_int_eq(finish(&r), 200);
    EXPECT_IN(cid_a);
    EXPECT_NOT_IN(cid_b);
    for (int k = 0; k < 2; k++) {
      snprintf(xb, sizeof xb, launch, k ? cid_b : cid_a);
      ck_assert_int_eq(mesos_test_http(agent_port, "POST", "/api/v1", "application/json", xh, xb,
                                       &r),
                       0);
      ck_assert_int_eq(finish(&r), k ? 403 : 501);
    }
    mesos__free(xt);
  }

  /* ---- VIEW_FRAMEWORK and VIEW_EXECUTOR each gate executors and tasks
   * (as Mesos's agent: a task is shown only under a shown executor of a
   * shown framework).  New ACLs through SIGHUP: alice may view every
   * framework and task but no executor; bob every executor and task but
   * no framework. */
  write_file("acls",
             "{\"view_frameworks\": ["
             " {\"principals\": {\"values\": [\"alice\", \"ops\"]}, \"users\": {\"type\": \"ANY\"}},"
             " {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}],"
             " \"view_executors\": ["
             " {\"principals\": {\"values\": [\"bob\", \"ops\"]}, \"users\": {\"type\": \"ANY\"}},"
             " {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}],"
             " \"view_tasks\": ["
             " {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"ANY\"}}]}");
  ck_assert_int_eq(kill(agent_pid, SIGHUP), 0);
  int reloaded = 0;
  for (int i = 0; i < 100 && !reloaded; i++) {
    ck_assert_int_eq(call_as("alice", "{\"type\":\"GET_EXECUTORS\"}"), 200);
    reloaded = strstr(last_body, "task-a") == NULL;
    if (!reloaded) usleep(30 * 1000);
  }
  ck_assert_msg(reloaded, "the agent did not load the new ACLs after SIGHUP: %s", last_body);
  EXPECT_NOT_IN("group-exec");
  ck_assert_int_eq(call_as("alice", "{\"type\":\"GET_FRAMEWORKS\"}"), 200);
  EXPECT_IN("tenant alice");
  EXPECT_IN("tenant bob");
  ck_assert_int_eq(call_as("alice", "{\"type\":\"GET_TASKS\"}"), 200);
  EXPECT_NOT_IN("task-a");
  EXPECT_NOT_IN("task-g");
  ck_assert_int_eq(call_as("bob", "{\"type\":\"GET_EXECUTORS\"}"), 200);
  EXPECT_NOT_IN("task-a");
  EXPECT_NOT_IN("group-exec");
  ck_assert_int_eq(call_as("bob", "{\"type\":\"GET_TASKS\"}"), 200);
  EXPECT_NOT_IN("task-b");
  EXPECT_NOT_IN("task-g");
  ck_assert_int_eq(call_as("bob", "{\"type\":\"GET_STATE\"}"), 200);
  EXPECT_NOT_IN("task-b");
  EXPECT_NOT_IN("tenant bob");
  ck_assert_int_eq(get_as("alice", "/state"), 200);
  EXPECT_IN("tenant alice");
  EXPECT_NOT_IN("\"id\":\"task-a\"");
  ck_assert_int_eq(call_as("ops", "{\"type\":\"GET_EXECUTORS\"}"), 200);
  EXPECT_IN("task-a");
  EXPECT_IN("group-exec");
  ck_assert_int_eq(call_as("ops", "{\"type\":\"GET_TASKS\"}"), 200);
  EXPECT_IN("task-a");
  EXPECT_IN("task-g");

  /* ---- the task path is unaffected: alice's executor still runs her
   * task and kills it when asked. */
  ck_assert_int_eq(get_as("ops", "/state"), 200);
  EXPECT_IN("\"state\":\"TASK_RUNNING\"");
  char body[1024];
  snprintf(body, sizeof body,
           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"KILL\",\"kill\":"
           "{\"task_id\":{\"value\":\"task-a\"}}}",
           a.id);
  ck_assert_int_eq(sim_fw_call(&a, "%s", body), 202);
  rec = sim_fw_next(&a, 10000, "\"type\":\"UPDATE\"", "TASK_KILLED", NULL);
  ck_assert_msg(rec != NULL, "task-a was not killed through its executor");
  sim_fw_ack(&a, rec);
  free(rec);

  sim_fw_close(&a);
  sim_fw_close(&b);
  stop(&agent_pid, "mesos-agent");
  stop(&master_pid, "mesos-master");
}
END_TEST

START_TEST(test_agent_auth_tenants__executor_auth_needs_a_key) {
  /* --authenticate_http_executors without --jwt_secret_key, an empty key
   * file: the agent refuses to start and says why. */
  write_file("empty-key", "");
  char apath[4096], master_arg[64], wd_arg[600], log[600], key[600];
  mesos_test_daemon_path("mesos-agent", apath, sizeof apath);
  snprintf(master_arg, sizeof master_arg, "--master=127.0.0.1:%d", mesos_test_free_port());
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s/work2", base_dir);
  snprintf(log, sizeof log, "%s/agent2.log", base_dir);
  snprintf(key, sizeof key, "--jwt_secret_key=%s/empty-key", base_dir);
  const char *cases[][2] = {{NULL, "needs --jwt_secret_key"}, {key, "the key file is empty"}};
  for (size_t i = 0; i < 2; i++) {
    char *argv[] = {apath, master_arg, wd_arg, "--ip=127.0.0.1", "--port=0",
                    "--authenticate_http_executors", (char *)cases[i][0], NULL};
    pid_t p = mesos_test_spawn(argv, log);
    ck_assert_int_gt(p, 0);
    int st = 0;
    ck_assert_int_eq(waitpid(p, &st, 0), p);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0, "the agent started (%d)", st);
    FILE *f = fopen(log, "r");
    ck_assert_ptr_nonnull(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    ck_assert_msg(strstr(text, cases[i][1]) != NULL, "no '%s' in: %.300s", cases[i][1],
                  n > 300 ? text + n - 300 : text);
  }
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("agent_auth_tenants");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 90);
  tcase_add_test(tc, test_agent_auth_tenants__tokens_nested_calls_and_filtering);
  tcase_add_test(tc, test_agent_auth_tenants__executor_auth_needs_a_key);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
