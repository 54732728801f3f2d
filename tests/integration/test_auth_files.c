/*
 * Sandbox authorization on the agent's files service (issue 8, spec
 * authorization.md §3.3/§3.4): two tenants, alice and bob, each run a task
 * under their own framework user on one real mesos-agent with
 * --acls access_sandboxes (each principal its own user) and
 * access_mesos_logs NONE.  Each reads its own sandbox through /files/read,
 * /files/browse, /files/download, READ_FILE and LIST_FILES, and gets 403
 * (with a message, without the data) for the other's, in the virtual and
 * in the real path form; anonymous requests get 401; a non-sandbox path
 * is the agent's log and needs ACCESS_MESOS_LOG.
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

#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

static char base_dir[256];
static pid_t master_pid = -1, agent_pid = -1;
static int master_port, agent_port;
static char work_dir[512];

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
  snprintf(base_dir, sizeof base_dir, "/tmp/mesos-auth-files-XXXXXX");
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
  /* Normally stopped gracefully by the test; this is the failure path. */
  kill_pid(&agent_pid);
  kill_pid(&master_pid);
  /* Executors and tasks (own session: not the agent's children). */
  if (base_dir[0]) mesos_test_kill_under(base_dir);
  if (base_dir[0]) nftw(base_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void start_daemons(void) {
  write_file("http-creds", "alice alicepw\nbob bobpw\n");
  write_file("acls",
             "{\"access_sandboxes\": ["
             " {\"principals\": {\"values\": [\"alice\"]}, \"users\": {\"values\": [\"alice\"]}},"
             " {\"principals\": {\"values\": [\"bob\"]}, \"users\": {\"values\": [\"bob\"]}},"
             " {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}],"
             " \"access_mesos_logs\": ["
             " {\"principals\": {\"type\": \"ANY\"}, \"logs\": {\"type\": \"NONE\"}}],"
             " \"get_endpoints\": ["
             " {\"principals\": {\"values\": [\"alice\"]}, \"paths\": {\"values\": [\"/files/debug\"]}},"
             " {\"principals\": {\"type\": \"ANY\"}, \"paths\": {\"type\": \"NONE\"}}]}");
  char path[4096], port_arg[64];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  char *margv[] = {path, "--ip=127.0.0.1", port_arg, "--allocation_interval=50ms",
                   "--logging_level=WARNING", NULL};
  master_pid = mesos_test_spawn(margv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert(mesos_test_wait_http_ok(master_port, "/health", 5000));

  char apath[4096], master_arg[64], aport_arg[64], wd_arg[600], log[600], creds[600], acls[600];
  mesos_test_daemon_path("mesos-agent", apath, sizeof apath);
  snprintf(work_dir, sizeof work_dir, "%s/work", base_dir);
  snprintf(log, sizeof log, "%s/agent.log", base_dir);
  agent_port = mesos_test_free_port();
  snprintf(master_arg, sizeof master_arg, "--master=127.0.0.1:%d", master_port);
  snprintf(aport_arg, sizeof aport_arg, "--port=%d", agent_port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s", work_dir);
  snprintf(creds, sizeof creds, "--http_credentials=%s/http-creds", base_dir);
  snprintf(acls, sizeof acls, "--acls=%s/acls", base_dir);
  char *aargv[] = {apath, master_arg, aport_arg, wd_arg, "--ip=127.0.0.1",
                   "--hostname=agent-files-auth", "--resources=cpus:4;mem:1024",
                   "--registration_backoff_factor=50ms", "--executor_shutdown_grace_period=1secs",
                   creds, acls, "--authenticate_http_readonly", "--authenticate_http_readwrite",
                   NULL};
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

static char agent_id[160]; /* the one agent's, from the offers */

/* Subscribes as framework user `user`, takes an offer and launches
 * `command` as task `task`; returns once it is TASK_RUNNING. */
static void run_task(sim_fw *f, const char *user, const char *task, const char *command) {
  char info[256];
  snprintf(info, sizeof info, "\"user\":\"%s\",\"name\":\"tenant %s\"", user, user);
  sim_fw_subscribe(f, master_port, info);
  char offer[160];
  sim_fw_wait_offer_min(f, "agent-files-auth", 0.5, 32, offer, agent_id, sizeof offer);
  /* No refuse filter given: the default one keeps what is left of the
   * offer away from this framework, for the other tenant's. */
  ck_assert_int_eq(
      sim_fw_call(f,
                  "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
                  "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\","
                  "\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},"
                  "\"agent_id\":{\"value\":\"%s\"},\"command\":{\"value\":\"%s\"},"
                  "\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.5}},"
                  "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":32}}]}]}}]}}",
                  f->id, offer, task, agent_id, command),
      202);
  /* The agent sends TASK_RUNNING once TASK_STARTING is acknowledged. */
  free(sim_fw_expect_update(f, task, "TASK_STARTING", 10000));
  free(sim_fw_expect_update(f, task, "TASK_RUNNING", 10000));
}

/* ------------------------------------------------------------ requests */

static char last_body[65536];

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
  int st = r->status;
  mesos_test_response_free(r);
  return st;
}

static int get_as(const char *principal, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int get_as(const char *principal, const char *fmt, ...) {
  char path[2048], hdr[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(path, sizeof path, fmt, ap);
  va_end(ap);
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

#define EXPECT_IN(s) ck_assert_msg(strstr(last_body, (s)) != NULL, "%s not in %s", (s), last_body)
#define EXPECT_NOT_IN(s) ck_assert_msg(strstr(last_body, (s)) == NULL, "%s in %s", (s), last_body)

/* ------------------------------------------------------------ test */

START_TEST(test_auth_files__tenants_reach_only_their_own_sandbox) {
  start_daemons();
  sim_fw a, b;
  run_task(&a, "alice", "task-a", "echo alice-secret; sleep 60");
  run_task(&b, "bob", "task-b", "echo bob-secret; sleep 60");
  char sa[512], sb[512];
  snprintf(sa, sizeof sa, "/frameworks/%s/executors/task-a/runs/latest", a.id);
  snprintf(sb, sizeof sb, "/frameworks/%s/executors/task-b/runs/latest", b.id);

  /* The task writes its stdout soon after RUNNING: wait for it. */
  int ok = 0;
  for (int i = 0; i < 100 && !ok; i++) {
    ok = get_as("alice", "/files/read?path=%s/stdout&offset=0", sa) == 200 &&
         strstr(last_body, "alice-secret") != NULL;
    if (!ok) usleep(50 * 1000);
  }
  ck_assert_msg(ok, "alice cannot read her own stdout: %s", last_body);
  /* Bob's task runs beside alice's: its output may come a little later. */
  ok = 0;
  for (int i = 0; i < 100 && !ok; i++) {
    ok = get_as("bob", "/files/read?path=%s/stdout&offset=0", sb) == 200 &&
         strstr(last_body, "bob-secret") != NULL;
    if (!ok) usleep(50 * 1000);
  }
  ck_assert_msg(ok, "bob cannot read his own stdout: %s", last_body);

  /* The /files endpoints: own sandbox 200, the other's 403 with a message and no data. */
  ck_assert_int_eq(get_as("bob", "/files/read?path=%s/stdout&offset=0", sb), 200);
  EXPECT_IN("bob-secret");
  ck_assert_int_eq(get_as("bob", "/files/read?path=%s/stdout&offset=0", sa), 403);
  EXPECT_IN("Forbidden");
  EXPECT_NOT_IN("alice-secret");
  ck_assert_int_eq(get_as("alice", "/files/read?path=%s/stdout&offset=0", sb), 403);
  EXPECT_NOT_IN("bob-secret");
  ck_assert_int_eq(get_as("alice", "/slave(1)/files/read?path=%s/stdout&offset=0", sb), 403);
  ck_assert_int_eq(get_as("alice", "/files/browse?path=%s", sa), 200);
  EXPECT_IN("/stdout\"");
  ck_assert_int_eq(get_as("alice", "/files/browse?path=%s", sb), 403);
  ck_assert_int_eq(get_as("alice", "/files/download?path=%s/stdout", sa), 200);
  EXPECT_IN("alice-secret");
  ck_assert_int_eq(get_as("alice", "/files/download?path=%s/stdout", sb), 403);
  EXPECT_NOT_IN("bob-secret");
  /* A non-normalised spelling of the other's path is the same path. */
  ck_assert_int_eq(get_as("alice", "/files/read?path=/frameworks//%s/./executors/task-b/runs/"
                                   "latest/stdout&offset=0", b.id),
                   403);
  /* No credentials: 401 before anything else. */
  ck_assert_int_eq(get_as(NULL, "/files/read?path=%s/stdout&offset=0", sa), 401);

  /* The real path form (work_dir/slaves/<agent>/frameworks/...). */
  char real_b[1024];
  snprintf(real_b, sizeof real_b, "%s/slaves/%s/frameworks/%s/executors/task-b/runs/latest",
           work_dir, agent_id, b.id);
  ck_assert_int_eq(get_as("bob", "/files/read?path=%s/stdout&offset=0", real_b), 200);
  EXPECT_IN("bob-secret");
  ck_assert_int_eq(get_as("alice", "/files/read?path=%s/stdout&offset=0", real_b), 403);
  EXPECT_NOT_IN("bob-secret");

  /* The operator API: READ_FILE and LIST_FILES. */
  const char *rf = "{\"type\":\"READ_FILE\",\"read_file\":{\"path\":\"%s/stdout\",\"offset\":0}}";
  const char *lf = "{\"type\":\"LIST_FILES\",\"list_files\":{\"path\":\"%s\"}}";
  ck_assert_int_eq(call_as("alice", rf, sa), 200);
  EXPECT_IN("\"data\":\"YWxpY2Utc2VjcmV0Cg==\""); /* "alice-secret\n" */
  ck_assert_int_eq(call_as("alice", rf, sb), 403);
  EXPECT_IN("Forbidden");
  EXPECT_NOT_IN("data");
  ck_assert_int_eq(call_as("bob", rf, sa), 403);
  ck_assert_int_eq(call_as("bob", rf, sb), 200);
  EXPECT_IN("\"data\":\"Ym9iLXNlY3JldAo=\""); /* "bob-secret\n" */
  ck_assert_int_eq(call_as("bob", lf, sb), 200);
  EXPECT_IN("/stdout\"");
  ck_assert_int_eq(call_as("bob", lf, sa), 403);
  ck_assert_int_eq(call_as(NULL, rf, sa), 401);

  /* Anything that is not a sandbox is the agent's log: ACCESS_MESOS_LOG,
   * which these ACLs give nobody (checked before the path is looked up). */
  ck_assert_int_eq(get_as("alice", "/files/read?path=/slave/log&offset=0"), 403);
  EXPECT_IN("log");
  ck_assert_int_eq(call_as("bob", "{\"type\":\"LIST_FILES\",\"list_files\":{\"path\":\"/\"}}"),
                   403);
  /* /files/debug shows real paths: GET_ENDPOINT_WITH_PATH "/files/debug". */
  ck_assert_int_eq(get_as("alice", "/files/debug"), 200);
  EXPECT_IN("task-b");
  ck_assert_int_eq(get_as("bob", "/files/debug"), 403);
  ck_assert_int_eq(get_as(NULL, "/files/debug"), 401);

  sim_fw_close(&a);
  sim_fw_close(&b);
  stop(&agent_pid, "mesos-agent");
  stop(&master_pid, "mesos-master");
}
END_TEST

/* The master serves no sandboxes: its LIST_FILES / READ_FILE are its log
 * files, ACCESS_MESOS_LOG, decided before the path is looked up (403 for
 * bob; alice passes authorization and learns the master keeps no log
 * files, 404). */
START_TEST(test_auth_files__master_files_need_access_mesos_log) {
  write_file("http-creds", "alice alicepw\nbob bobpw\n");
  write_file("acls", "{\"access_mesos_logs\": ["
                     " {\"principals\": {\"values\": [\"alice\"]}, \"logs\": {\"type\": \"ANY\"}},"
                     " {\"principals\": {\"type\": \"ANY\"}, \"logs\": {\"type\": \"NONE\"}}]}");
  char path[4096], port_arg[64], creds[600], acls[600];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  snprintf(creds, sizeof creds, "--credentials=%s/http-creds", base_dir);
  snprintf(acls, sizeof acls, "--acls=%s/acls", base_dir);
  char *margv[] = {path, "--ip=127.0.0.1", port_arg, "--logging_level=WARNING", creds, acls,
                   "--authenticate_http_readwrite", NULL};
  master_pid = mesos_test_spawn(margv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert(mesos_test_wait_http_ok(master_port, "/health", 5000));
  const char *calls[] = {
      "{\"type\":\"LIST_FILES\",\"list_files\":{\"path\":\"/master/log\"}}",
      "{\"type\":\"READ_FILE\",\"read_file\":{\"path\":\"/master/log\",\"offset\":0}}"};
  for (int i = 0; i < 2; i++) {
    char hdr[512];
    mesos_test_response r;
    auth_header(hdr, sizeof hdr, "bob");
    ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1", "application/json", hdr,
                                     calls[i], &r),
                     0);
    ck_assert_int_eq(finish(&r), 403);
    EXPECT_IN("bob");
    auth_header(hdr, sizeof hdr, "alice");
    ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1", "application/json", hdr,
                                     calls[i], &r),
                     0);
    ck_assert_int_eq(finish(&r), 404);
  }
  stop(&master_pid, "mesos-master");
}
END_TEST

int main(void) {
  Suite *s = suite_create("auth_files");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_auth_files__tenants_reach_only_their_own_sandbox);
  tcase_add_test(tc, test_auth_files__master_files_need_access_mesos_log);
  suite_add_tcase(s, tc);
  return mesos_test_main(s);
}
