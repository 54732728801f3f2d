/*
 * More authorization on the real mesos-master (issue 8), with a simulated
 * agent and simulated frameworks:
 *
 *  - DRAIN_AGENT with mark_gone also needs MARK_AGENT_GONE (as in Mesos);
 *    a refused drain leaves the agent untouched.
 *  - GET_EXECUTORS, GET_TASKS, GET_STATE and the operator SUBSCRIBE
 *    snapshot show an executor only when both its framework
 *    (VIEW_FRAMEWORK) and the executor (VIEW_EXECUTOR) may be viewed, a
 *    task only when its framework and the task (VIEW_TASK) may be: three
 *    principals, each denied a different one of the three.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "support/daemon.h"
#include "support/sim_agent.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

static pid_t master_pid = -1;
static int master_port;
static char dir[64];
static mesos_sim_agent *agents[2];
static const char *master_log = NULL; /* NULL: the test's stderr */
static const char *master_level = "--logging_level=WARNING";

static void write_file(const char *name, const char *text) {
  char p[160];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  ck_assert_int_eq(chmod(p, 0600), 0);
}

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/master-auth2-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  write_file("creds", "{\"credentials\": [{\"principal\": \"ops\", \"secret\": \"opspw\"},"
                      " {\"principal\": \"fw1\", \"secret\": \"fw1pw\"},"
                      " {\"principal\": \"fw2\", \"secret\": \"fw2pw\"},"
                      " {\"principal\": \"dev\", \"secret\": \"devpw\"}]}");
}

static void teardown(void) {
  for (int i = 0; i < 2; i++) {
    mesos_sim_agent_stop(agents[i]);
    agents[i] = NULL;
  }
  if (master_pid > 0) {
    kill(master_pid, SIGKILL);
    waitpid(master_pid, NULL, 0);
    master_pid = -1;
  }
  master_log = NULL;
  master_level = "--logging_level=WARNING";
  const char *names[] = {"creds", "acls", "master.log"};
  for (int i = 0; i < 3; i++) {
    char p[160];
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    unlink(p);
  }
  rmdir(dir);
}

static void start_master(void) {
  char path[4096], port_arg[64], creds[192], acls[192];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  snprintf(creds, sizeof creds, "--credentials=%s/creds", dir);
  snprintf(acls, sizeof acls, "--acls=%s/acls", dir);
  char *argv[] = {path, "--ip=127.0.0.1", port_arg, "--allocation_interval=50ms",
                  (char *)master_level, creds, acls, "--authenticate_http_readwrite",
                  "--authenticate_http_readonly", NULL};
  master_pid = mesos_test_spawn(argv, master_log);
  ck_assert_int_gt(master_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(master_port, "/health", 5000),
                "mesos-master did not come up on port %d", master_port);
}

static void stop_master(void) {
  int st = mesos_test_stop(master_pid, 3000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
  master_pid = -1;
}

static char last_body[1 << 17];

/* POSTs an operator call as principal (secret "<principal>pw"); status. */
static int call_as(const char *principal, const char *body) {
  char hdr[512] = "";
  if (principal) {
    char secret[64], *h = NULL;
    snprintf(secret, sizeof secret, "%spw", principal);
    ck_assert_int_eq(mesos_basic_auth_encode(principal, secret, &h, NULL), MESOS_OK);
    snprintf(hdr, sizeof hdr, "Authorization: %s\r\n", h);
    mesos_free(h);
  }
  mesos_test_response r;
  ck_assert_int_eq(
      mesos_test_http(master_port, "POST", "/api/v1", "application/json", hdr, body, &r), 0);
  snprintf(last_body, sizeof last_body, "%s", r.body ? r.body : "");
  int st = r.status;
  mesos_test_response_free(&r);
  return st;
}

#define EXPECT_IN(s) ck_assert_msg(strstr(last_body, (s)) != NULL, "%s not in %s", (s), last_body)
#define EXPECT_NOT_IN(s) \
  ck_assert_msg(strstr(last_body, (s)) == NULL, "%s in %s", (s), last_body)

#define ANY_NONE_RULES(key, field, allowed)                                                   \
  "\"" key "\": ["                                                                             \
  " {\"principals\": {\"values\": [" allowed "]}, \"" field "\": {\"type\": \"ANY\"}},"       \
  " {\"principals\": {\"type\": \"ANY\"}, \"" field "\": {\"type\": \"NONE\"}}]"

static int agent_up(mesos_sim_agent *a) { return mesos_sim_agent_id(a)[0] != '\0'; }

/* What GET_AGENTS (as ops) shows of the agent `id`: -1 not listed (gone),
 * 1 with a drain, 0 without. */
static int agent_draining(const char *id) {
  ck_assert_int_eq(call_as("ops", "{\"type\":\"GET_AGENTS\"}"), 200);
  const char *p = strstr(last_body, id);
  if (p == NULL) return -1;
  /* The agent's entry runs up to the next agent's "agent_info". */
  const char *next = strstr(p, "\"agent_info\"");
  const char *d = strstr(p, "\"drain_info\"");
  return d && (!next || d < next);
}

START_TEST(test_master_auth2__drain_with_mark_gone_also_needs_mark_agents_gone) {
  write_file("acls", "{" ANY_NONE_RULES("drain_agents", "agents", "\"ops\", \"fw1\"") ","
                     ANY_NONE_RULES("mark_agents_gone", "agents", "\"ops\"") "}");
  start_master();
  agents[0] = mesos_sim_agent_start(master_port, "drain-a", 2, 256, 0);
  agents[1] = mesos_sim_agent_start(master_port, "drain-b", 2, 256, 0);
  ck_assert_ptr_nonnull(agents[0]);
  ck_assert_ptr_nonnull(agents[1]);
  ck_assert(agent_up(agents[0]) && agent_up(agents[1]));
  char a0[160], a1[160], call[512];
  snprintf(a0, sizeof a0, "%s", mesos_sim_agent_id(agents[0]));
  snprintf(a1, sizeof a1, "%s", mesos_sim_agent_id(agents[1]));
  const char *fmt = "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":\"%s\"}%s}}";
  /* fw1 may drain but not mark gone: a drain with mark_gone is refused,
   * naming MARK_AGENT_GONE, and the agent is not drained. */
  snprintf(call, sizeof call, fmt, a0, ",\"mark_gone\":true");
  ck_assert_int_eq(call_as("fw1", call), 403);
  EXPECT_IN("MARK_AGENT_GONE");
  ck_assert_int_eq(agent_draining(a0), 0);
  /* fw2 may not drain at all: DRAIN_AGENT is named (it is asked first). */
  ck_assert_int_eq(call_as("fw2", call), 403);
  EXPECT_IN("DRAIN_AGENT");
  EXPECT_NOT_IN("MARK_AGENT_GONE");
  snprintf(call, sizeof call, fmt, a0, "");
  ck_assert_int_eq(call_as("fw2", call), 403);
  ck_assert_int_eq(agent_draining(a0), 0);
  /* ops may do both: the idle agent is drained at once and marked gone. */
  snprintf(call, sizeof call, fmt, a0, ",\"mark_gone\":true");
  ck_assert_msg(call_as("ops", call) == 200, "%s", last_body);
  ck_assert_int_eq(agent_draining(a0), -1);
  /* fw1 without mark_gone (and mark_gone false): allowed. */
  snprintf(call, sizeof call, fmt, a1, ",\"mark_gone\":false");
  ck_assert_msg(call_as("fw1", call) == 200, "%s", last_body);
  ck_assert_int_eq(agent_draining(a1), 1);
  stop_master();
}
END_TEST

#define RES(cpus)                                                                              \
  "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":" cpus "}},"                  \
  "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":32}}]"

/* Subscribes as framework user `user` and launches task `task` under the
 * custom executor `exec` on the simulated agent; waits for TASK_RUNNING. */
static void run_with_executor(sim_fw *f, const char *user, const char *task, const char *exec) {
  char info[256];
  snprintf(info, sizeof info, "\"user\":\"%s\",\"name\":\"tenant %s\"", user, user);
  sim_fw_subscribe(f, master_port, info);
  char offer[160], agent[160];
  sim_fw_wait_offer_min(f, "tenants", 0.6, 64, offer, agent, sizeof offer);
  ck_assert_int_eq(
      sim_fw_call(f,
                  "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
                  "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\","
                  "\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},"
                  "\"agent_id\":{\"value\":\"%s\"},\"executor\":{\"executor_id\":{\"value\":"
                  "\"%s\"},\"command\":{\"value\":\"true\"},\"resources\":" RES("0.1") "},"
                  "\"resources\":" RES("0.5") "}]}}]}}",
                  f->id, offer, task, agent, exec),
      202);
  char *rec = sim_fw_expect_update(f, task, "TASK_RUNNING", 5000);
  free(rec);
}

/* The operator calls the viewing test asks. */
#define GE "{\"type\":\"GET_EXECUTORS\"}"
#define GT "{\"type\":\"GET_TASKS\"}"
#define GS "{\"type\":\"GET_STATE\"}"
#define GF "{\"type\":\"GET_FRAMEWORKS\"}"

START_TEST(test_master_auth2__executors_and_tasks_need_their_framework_viewable) {
  /* fw1: alice's things only.  fw2: every framework and task, no
   * executor.  dev: every executor and task, no framework.  ops: all. */
  write_file("acls",
             "{\"view_frameworks\": ["
             " {\"principals\": {\"values\": [\"fw1\"]}, \"users\": {\"values\": [\"alice\"]}},"
             " {\"principals\": {\"values\": [\"fw2\", \"ops\"]}, \"users\": {\"type\": \"ANY\"}},"
             " {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}],"
             " \"view_executors\": ["
             " {\"principals\": {\"values\": [\"fw1\"]}, \"users\": {\"values\": [\"alice\"]}},"
             " {\"principals\": {\"values\": [\"dev\", \"ops\"]}, \"users\": {\"type\": \"ANY\"}},"
             " {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}],"
             " \"view_tasks\": ["
             " {\"principals\": {\"values\": [\"fw1\"]}, \"users\": {\"values\": [\"alice\"]}},"
             " {\"principals\": {\"values\": [\"fw2\", \"dev\", \"ops\"]}, \"users\": "
             "{\"type\": \"ANY\"}},"
             " {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}]}");
  start_master();
  agents[0] = mesos_sim_agent_start(master_port, "tenants", 4, 1024, 0);
  ck_assert_ptr_nonnull(agents[0]);
  sim_fw a, b;
  run_with_executor(&a, "alice", "task-a", "exec-a");
  run_with_executor(&b, "bob", "task-b", "exec-b");

  /* What each principal's answer to each call must and must not hold
   * ("$B": bob's framework id). */
  static const struct {
    const char *who, *call;
    const char *in[5], *not_in[6];
  } views[] = {
      /* ops: everything. */
      {"ops", GE, {"exec-a", "exec-b"}, {NULL}},
      {"ops", GT, {"task-a", "task-b"}, {NULL}},
      /* fw1: alice's executor and task only. */
      {"fw1", GE, {"exec-a"}, {"exec-b"}},
      {"fw1", GT, {"task-a"}, {"task-b"}},
      {"fw1", GS, {"exec-a", "task-a"}, {"exec-b", "task-b", "$B"}},
      /* fw2: VIEW_EXECUTOR denied -> no executor, though it sees both
       * frameworks and both tasks. */
      {"fw2", GE, {NULL}, {"exec-a", "exec-b"}},
      {"fw2", GF, {"tenant alice", "tenant bob"}, {NULL}},
      {"fw2", GT, {"task-a", "task-b"}, {NULL}},
      {"fw2", GS, {"task-a", "task-b"}, {"\"executor_info\""}},
      /* dev: VIEW_FRAMEWORK denied -> neither executors nor tasks, though
       * VIEW_EXECUTOR and VIEW_TASK allow them. */
      {"dev", GE, {NULL}, {"exec-a", "exec-b"}},
      {"dev", GT, {NULL}, {"task-a", "task-b"}},
      {"dev", GS, {NULL}, {"task-a", "task-b", "exec-a", "tenant alice"}},
  };
  for (size_t i = 0; i < sizeof views / sizeof *views; i++) {
    ck_assert_msg(call_as(views[i].who, views[i].call) == 200, "%s %s: %s", views[i].who,
                  views[i].call, last_body);
    for (size_t k = 0; k < 5 && views[i].in[k]; k++)
      ck_assert_msg(strstr(last_body, views[i].in[k]) != NULL, "%s %s: %s not in %s",
                    views[i].who, views[i].call, views[i].in[k], last_body);
    for (size_t k = 0; k < 6 && views[i].not_in[k]; k++) {
      const char *no = strcmp(views[i].not_in[k], "$B") == 0 ? b.id : views[i].not_in[k];
      ck_assert_msg(strstr(last_body, no) == NULL, "%s %s: %s in %s", views[i].who,
                    views[i].call, no, last_body);
    }
  }
  /* Protobuf answers are filtered the same way (same tree). */
  {
    char hdr[512], *h = NULL;
    ck_assert_int_eq(mesos_basic_auth_encode("dev", "devpw", &h, NULL), MESOS_OK);
    snprintf(hdr, sizeof hdr, "Authorization: %s\r\nAccept: application/x-protobuf\r\n", h);
    mesos_free(h);
    mesos_test_response r;
    ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1", "application/json", hdr, GE,
                                     &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(r.body_len < 16, "dev's protobuf GET_EXECUTORS has %zu bytes", r.body_len);
    mesos_test_response_free(&r);
  }
  /* The operator event stream's snapshot for dev: no task, no executor;
   * fw2's: both tasks. */
  const char *who[] = {"dev", "fw2"};
  for (int i = 0; i < 2; i++) {
    char hdr[512], secret[32], *h = NULL;
    snprintf(secret, sizeof secret, "%spw", who[i]);
    ck_assert_int_eq(mesos_basic_auth_encode(who[i], secret, &h, NULL), MESOS_OK);
    snprintf(hdr, sizeof hdr, "Authorization: %s\r\nAccept: application/json\r\n", h);
    mesos_free(h);
    mesos_test_conn c;
    ck_assert_int_eq(mesos_test_conn_open(&c, master_port), 0);
    const char *sub = "{\"type\":\"SUBSCRIBE\"}";
    ck_assert_int_eq(
        mesos_test_conn_request(&c, "POST", "/api/v1", "application/json", hdr, sub, strlen(sub)),
        0);
    mesos_test_response sr;
    ck_assert_int_eq(mesos_test_conn_response(&c, &sr, 0, 5000), 0);
    ck_assert_int_eq(sr.status, 200);
    mesos_test_response_free(&sr);
    char *rec = NULL;
    ck_assert_int_gt(mesos_test_conn_next_record(&c, &rec, 5000), 0);
    ck_assert_msg(strstr(rec, "SUBSCRIBED") != NULL, "%s", rec);
    if (i == 0)
      ck_assert_msg(!strstr(rec, "task-a") && !strstr(rec, "task-b") && !strstr(rec, "exec-a"),
                    "dev saw: %s", rec);
    else
      ck_assert_msg(strstr(rec, "task-a") && strstr(rec, "task-b") &&
                        strstr(rec, "\"get_executors\":{}"),
                    "fw2 saw: %s", rec);
    free(rec);
    mesos_test_conn_close(&c);
  }
  sim_fw_close(&a);
  sim_fw_close(&b);
  stop_master();
}
END_TEST


/* One raw request with `headers` (each "Name: value\r\n"); the status, 0
 * when the server closed the connection without an answer. */
static int raw_get(const char *path, const char *headers) {
  mesos_test_response r;
  if (mesos_test_http(master_port, "GET", path, NULL, headers, NULL, &r) != 0) return 0;
  int st = r.status;
  mesos_test_response_free(&r);
  return st;
}

static char *read_all(const char *path) {
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  static char text[1 << 20];
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  return text;
}

static int wait_log(const char *path, const char *want, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 50) {
    if (strstr(read_all(path), want)) return 1;
    usleep(50 * 1000);
  }
  return 0;
}

/* Hostile Authorization headers, SIGHUP reloads of malformed credentials
 * and ACL files: clear answers, the old files stay in force and the log
 * says why -- and no secret, right or wrong, ever reaches the log (at
 * INFO, the most verbose level). */
START_TEST(test_master_auth2__hostile_headers_and_bad_reloads_never_log_secrets) {
  char logpath[160];
  snprintf(logpath, sizeof logpath, "%s/master.log", dir);
  master_log = logpath;
  master_level = "--logging_level=INFO";
  write_file("creds", "{\"credentials\": [{\"principal\": \"ops\", \"secret\": "
                      "\"s3cret-ops-pw\"}, {\"principal\": \"fw1\", \"secret\": \"fw1pw\"}]}");
  write_file("acls", "{" ANY_NONE_RULES("view_flags", "flags", "\"ops\"") "}");
  start_master();
  char h[512], *enc = NULL;
  ck_assert_int_eq(mesos_basic_auth_encode("ops", "s3cret-ops-pw", &enc, NULL), MESOS_OK);
  char good[256];
  snprintf(good, sizeof good, "Authorization: %s\r\n", enc);
  ck_assert_int_eq(raw_get("/flags", good), 200);
  /* Wrong secret, unknown principal, no colon, bad base64, empty,
   * another scheme, a secret with a colon: 401 each. */
  char *wrong = NULL, *nocolon = NULL, *colon = NULL;
  ck_assert_int_eq(mesos_basic_auth_encode("ops", "wrong-secret-XYZ", &wrong, NULL), MESOS_OK);
  /* "ops:s3cret-ops-pw:extra-colon-PW" (the encoder refuses to make it). */
  colon = mesos__strdup("Basic b3BzOnMzY3JldC1vcHMtcHc6ZXh0cmEtY29sb24tUFc=");
  const char *bad[] = {NULL, "Basic !!!!", "Basic ", "Basic", "Basic b3Bz",
                       "Basic b3BzOnMzY3JldC1vcHMtcHc", /* truncated: no padding */
                       "Basic =b3BzOnMzY3JldC1vcHMtcHc=", "Bearer s3cret-ops-pw", "s3cret-ops-pw",
                       NULL};
  bad[0] = wrong;
  (void)nocolon;
  for (size_t i = 0; bad[i]; i++) {
    snprintf(h, sizeof h, "Authorization: %s\r\n", bad[i]);
    ck_assert_msg(raw_get("/flags", h) == 401, "%s", bad[i]);
  }
  snprintf(h, sizeof h, "Authorization: %s\r\n", colon);
  ck_assert_int_eq(raw_get("/flags", h), 401);
  /* Huge headers: one 200 KB Authorization value, then 300 small
   * headers: refused (431 or the connection closed), never a crash. */
  size_t big = 200 * 1024;
  char *huge = mesos__malloc(big + 64);
  ck_assert_ptr_nonnull(huge);
  int n = snprintf(huge, big + 64, "Authorization: Basic ");
  memset(huge + n, 'A', big);
  memcpy(huge + n + big, "\r\n", 3);
  int st = raw_get("/flags", huge);
  ck_assert_msg(st == 431 || st == 400 || st == 0, "huge header: %d", st);
  size_t off = 0;
  for (int i = 0; i < 300; i++)
    off += (size_t)snprintf(huge + off, big + 64 - off, "X-H%d: s3cret-ops-pw\r\n", i);
  st = raw_get("/flags", huge);
  ck_assert_msg(st == 431 || st == 400 || st == 0, "many headers: %d", st);
  mesos__free(huge);
  ck_assert_int_eq(raw_get("/flags", good), 200);

  /* A malformed credentials file (quoting a new secret) and a malformed
   * ACL file on SIGHUP: both refused, the old ones stay, the log says
   * why. */
  write_file("creds", "{\"credentials\": [{\"principal\": \"ops\", \"secret\": "
                      "\"leaky-new-secret\", \"oops\": }]}");
  write_file("acls", "{\"view_flags\": [{\"principals\": {\"type\": \"ANY\"}}]}");
  ck_assert_int_eq(kill(master_pid, SIGHUP), 0);
  ck_assert_msg(wait_log(logpath, "SIGHUP", 10000), "no reason logged: %s", read_all(logpath));
  const char *text = read_all(logpath);
  ck_assert_msg(strstr(text, "credentials not reloaded (old ones kept)") != NULL &&
                    strstr(text, "ACLs not reloaded (old ones kept)") != NULL &&
                    strstr(text, "view_flags[0].flags: required field missing") != NULL,
                "the log does not say which file and why: %s", text);
  ck_assert_int_eq(raw_get("/flags", good), 200); /* old secret, old ACLs */
  snprintf(h, sizeof h, "Authorization: Basic %s\r\n", "b3BzOmxlYWt5LW5ldy1zZWNyZXQ=");
  ck_assert_int_eq(raw_get("/flags", h), 401); /* ops:leaky-new-secret */
  char *fw1 = NULL;
  ck_assert_int_eq(mesos_basic_auth_encode("fw1", "fw1pw", &fw1, NULL), MESOS_OK);
  snprintf(h, sizeof h, "Authorization: %s\r\n", fw1);
  ck_assert_int_eq(raw_get("/flags", h), 403); /* the old ACLs deny fw1 */
  stop_master();

  /* The secrets, right, wrong, new, and their encodings, are nowhere in
   * the log. */
  text = read_all(logpath);
  const char *secrets[] = {"s3cret-ops-pw", "wrong-secret-XYZ", "leaky-new-secret",
                           "extra-colon-PW", "fw1pw", enc + 6, wrong + 6, colon + 6, fw1 + 6,
                           "b3BzOmxlYWt5LW5ldy1zZWNyZXQ", "b3BzOnMzY3JldC1vcHMtcHc"};
  for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
    ck_assert_msg(strstr(text, secrets[i]) == NULL, "'%s' is in the master's log:\n%s",
                  secrets[i], text);
  /* It did log at INFO (so the check means something). */
  ck_assert_msg(strstr(text, "I1") != NULL || strstr(text, "INFO") != NULL, "%s", text);
  mesos_free(enc);
  mesos_free(wrong);
  mesos__free(colon);
  mesos_free(fw1);
}
END_TEST

/* Subscribes as a framework with principal `principal` (declared, not
 * authenticated) in role r and ACCEPTs its first offer with a RESERVE of
 * one cpu for r; returns the ACCEPT's status. */
static int reserve_as(sim_fw *f, const char *principal) {
  char info[256];
  snprintf(info, sizeof info,
           "\"user\":\"nobody\",\"name\":\"reserver %s\",\"role\":\"r\",\"principal\":\"%s\"",
           principal, principal);
  sim_fw_subscribe(f, master_port, info);
  char offer[160], agent[160];
  sim_fw_wait_offer_min(f, "reserve", 1, 0, offer, agent, sizeof offer);
  return sim_fw_call(f,
                     "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
                     "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"RESERVE\","
                     "\"reserve\":{\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\","
                     "\"scalar\":{\"value\":1},\"role\":\"r\",\"reservation\":{\"principal\":"
                     "\"%s\"}}]}}]}}",
                     f->id, offer, principal);
}

/* RESERVE_RESOURCES in a scheduler's ACCEPT (not only the operator
 * call): a denied framework's reservation is dropped and nothing is
 * reserved; an allowed one's is applied. */
START_TEST(test_master_auth2__accept_reserve_is_authorized_per_framework_principal) {
  write_file("acls", "{\"reserve_resources\": ["
                     " {\"principals\": {\"values\": [\"fw1\"]}, \"roles\": {\"values\": [\"r\"]}},"
                     " {\"principals\": {\"type\": \"ANY\"}, \"roles\": {\"type\": \"NONE\"}}]}");
  start_master();
  agents[0] = mesos_sim_agent_start(master_port, "reserve", 4, 1024, 0);
  ck_assert_ptr_nonnull(agents[0]);
  sim_fw b;
  ck_assert_int_eq(reserve_as(&b, "fw2"), 202);
  ck_assert_int_eq(call_as("ops", "{\"type\":\"GET_AGENTS\"}"), 200);
  EXPECT_NOT_IN("\"principal\":\"fw2\"");
  EXPECT_NOT_IN("\"role\":\"r\"");
  sim_fw_close(&b);
  sim_fw a;
  ck_assert_int_eq(reserve_as(&a, "fw1"), 202);
  int applied = 0;
  for (int i = 0; i < 100 && !applied; i++) {
    ck_assert_int_eq(call_as("ops", "{\"type\":\"GET_AGENTS\"}"), 200);
    applied = strstr(last_body, "\"principal\":\"fw1\"") != NULL;
    if (!applied) usleep(20 * 1000);
  }
  ck_assert_msg(applied, "fw1's reservation was not applied: %s", last_body);
  EXPECT_NOT_IN("\"principal\":\"fw2\"");
  sim_fw_close(&a);
  stop_master();
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("master_auth2");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_master_auth2__drain_with_mark_gone_also_needs_mark_agents_gone);
  tcase_add_test(tc, test_master_auth2__executors_and_tasks_need_their_framework_viewable);
  tcase_add_test(tc, test_master_auth2__hostile_headers_and_bad_reloads_never_log_secrets);
  tcase_add_test(tc, test_master_auth2__accept_reserve_is_authorized_per_framework_principal);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
