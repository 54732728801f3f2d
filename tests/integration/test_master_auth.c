/*
 * Authentication and authorization on the real mesos-master (issue 8):
 * HTTP Basic for schedulers and agents against a --credentials file,
 * the principal rules of SUBSCRIBE and later calls, REGISTER_FRAMEWORK and
 * RUN_TASK from --acls, SIGHUP reloads (a malformed file keeps the old
 * one), and start-up refusing inconsistent flags.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "codec/pb.h"
#include "mesos/internal/internal.pb-c.h"
#include "support/certs.h"
#include "support/daemon.h"
#include "support/testutil.h"

static pid_t master_pid = -1;
static int master_port;
static char dir[64];
static char creds_path[128], acls_path[128];

/* ------------------------------------------------------------ files */

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  ck_assert_int_eq(chmod(path, 0600), 0);
}

static const char *ACLS_DENY_WEB =
    "{\"register_frameworks\": ["
    "  {\"principals\": {\"values\": [\"fw1\"]}, \"roles\": {\"values\": [\"web\", \"eng/%\"]}},"
    "  {\"principals\": {\"type\": \"NONE\"}, \"roles\": {\"values\": [\"web\"]}}],"
    " \"run_tasks\": ["
    "  {\"principals\": {\"values\": [\"fw1\"]}, \"users\": {\"values\": [\"nobody\"]}},"
    "  {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}],"
    " \"view_flags\": ["
    "  {\"principals\": {\"values\": [\"ops\"]}, \"flags\": {\"type\": \"ANY\"}},"
    "  {\"principals\": {\"type\": \"ANY\"}, \"flags\": {\"type\": \"NONE\"}}],"
    " \"get_endpoints\": ["
    "  {\"principals\": {\"values\": [\"ops\"]}, \"paths\": {\"values\": [\"/metrics/snapshot\"]}},"
    "  {\"principals\": {\"type\": \"ANY\"}, \"paths\": {\"type\": \"NONE\"}}],"
    " \"teardown_frameworks\": ["
    "  {\"principals\": {\"values\": [\"ops\"]}, \"framework_principals\": {\"type\": \"ANY\"}},"
    "  {\"principals\": {\"values\": [\"fw1\"]}, \"framework_principals\": {\"values\": [\"fw1\"]}},"
    "  {\"principals\": {\"type\": \"ANY\"}, \"framework_principals\": {\"type\": \"NONE\"}}],"
    " \"register_agents\": ["
    "  {\"principals\": {\"values\": [\"fw1\"]}, \"agents\": {\"type\": \"NONE\"}}]}";

static const char *ACLS_ALLOW_WEB =
    "{\"register_frameworks\": ["
    "  {\"principals\": {\"values\": [\"fw1\", \"fw2\"]}, \"roles\": {\"values\": [\"web\"]}}]}";

static void make_files(void) {
  snprintf(dir, sizeof dir, "/tmp/master-auth-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(creds_path, sizeof creds_path, "%s/credentials.json", dir);
  snprintf(acls_path, sizeof acls_path, "%s/acls.json", dir);
  write_file(creds_path,
             "{\"credentials\": [{\"principal\": \"fw1\", \"secret\": \"pw1\"},"
             " {\"principal\": \"fw2\", \"secret\": \"pw2\"},"
             " {\"principal\": \"agent\", \"secret\": \"agentpw\"},"
             " {\"principal\": \"ops\", \"secret\": \"opspw\"}]}");
  write_file(acls_path, ACLS_DENY_WEB);
}

static void remove_files(void) {
  if (!dir[0]) return;
  unlink(creds_path);
  unlink(acls_path);
  rmdir(dir);
  dir[0] = '\0';
}

/* ------------------------------------------------------------ master */

static void start_master(const char *extra1, const char *extra2) {
  char path[4096], port_arg[64], creds_arg[192], acls_arg[192];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  snprintf(creds_arg, sizeof creds_arg, "--credentials=%s", creds_path);
  snprintf(acls_arg, sizeof acls_arg, "--acls=file://%s", acls_path);
  char *argv[] = {path, "--ip=127.0.0.1", port_arg, "--allocation_interval=50ms",
                  "--http_heartbeat_interval=10secs", "--logging_level=WARNING", creds_arg,
                  acls_arg, (char *)extra1, (char *)extra2, NULL};
  master_pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(master_port, "/health", 5000),
                "mesos-master did not come up on port %d", master_port);
}

static void stop_master(void) {
  if (master_pid > 0) {
    int st = mesos_test_stop(master_pid, 3000);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
  }
  master_pid = -1;
}

static void setup(void) {
  dir[0] = '\0';
  make_files();
}

static void teardown(void) {
  if (master_pid > 0) {
    kill(master_pid, SIGKILL);
    waitpid(master_pid, NULL, 0);
    master_pid = -1;
  }
  remove_files();
}

/* "Authorization: Basic ...\r\n" for a principal and secret, or "". */
static const char *auth_header(const char *principal, const char *secret, char *buf,
                               size_t cap) {
  if (!principal) {
    buf[0] = '\0';
    return buf;
  }
  char *h = NULL;
  ck_assert_int_eq(mesos_basic_auth_encode(principal, secret, &h, NULL), MESOS_OK);
  snprintf(buf, cap, "Authorization: %s\r\n", h);
  mesos_free(h);
  return buf;
}

/* ------------------------------------------------------------ scheduler */

typedef struct sched {
  mesos_test_conn stream;
  int status;
  char www[256];
  char sid[64];
  char id[160];
  char *first; /* first event (malloc'd) or the error body */
} sched;

/* Whether subscribe() fetches the body of a refusal (with a second,
 * identical request): off where the answer may change between the two
 * (around a SIGHUP reload). */
static int fetch_error_body = 1;

/* SUBSCRIBE with `info` (JSON fields of FrameworkInfo after user/name),
 * authenticated as principal/secret (NULL: no header). */
static void subscribe(sched *s, const char *principal, const char *secret, const char *info) {
  memset(s, 0, sizeof *s);
  char body[1024], hdr[512];
  snprintf(body, sizeof body,
           "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"nobody\","
           "\"name\":\"auth test\"%s}}}",
           info ? info : "");
  auth_header(principal, secret, hdr, sizeof hdr);
  ck_assert_int_eq(mesos_test_conn_open(&s->stream, master_port), 0);
  ck_assert_int_eq(mesos_test_conn_request(&s->stream, "POST", "/api/v1/scheduler",
                                           "application/json", hdr, body, strlen(body)),
                   0);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&s->stream, &r, 0, 5000), 0);
  s->status = r.status;
  mesos_test_response_header(&r, "WWW-Authenticate", s->www, sizeof s->www);
  if (r.status != 200) {
    mesos_test_conn_close(&s->stream);
    mesos_test_response_free(&r);
    if (!fetch_error_body) {
      s->first = strdup("");
      return;
    }
    /* Redo as one complete exchange to get the body. */
    mesos_test_response full;
    ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1/scheduler",
                                     "application/json", hdr, body, &full),
                     0);
    ck_assert_int_eq(full.status, s->status);
    s->first = strdup(full.body ? full.body : "");
    mesos_test_response_free(&full);
    return;
  }
  mesos_test_response_header(&r, "Mesos-Stream-Id", s->sid, sizeof s->sid);
  mesos_test_response_free(&r);
  ck_assert_int_gt(mesos_test_conn_next_record(&s->stream, &s->first, 5000), 0);
  const char *p = strstr(s->first, "\"framework_id\":{\"value\":\"");
  if (p) {
    p += strlen("\"framework_id\":{\"value\":\"");
    snprintf(s->id, sizeof s->id, "%.*s", (int)(strchr(p, '"') - p), p);
  }
}

static void sched_close(sched *s) {
  if (s->status == 200) mesos_test_conn_close(&s->stream);
  free(s->first);
  s->first = NULL;
}

static char *sched_next(sched *s, const char *want, int timeout_ms) {
  for (;;) {
    char *rec = NULL;
    if (mesos_test_conn_next_record(&s->stream, &rec, timeout_ms) < 0) return NULL;
    if (strstr(rec, want)) return rec;
    free(rec);
  }
}

static int sched_call(sched *s, const char *principal, const char *secret, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int sched_call(sched *s, const char *principal, const char *secret, const char *fmt,
                      ...) {
  char body[8192], hdr[640], a[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  snprintf(hdr, sizeof hdr, "Mesos-Stream-Id: %s\r\n%s", s->sid,
           auth_header(principal, secret, a, sizeof a));
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1/scheduler", "application/json",
                                   hdr, body, &r),
                   0);
  int st = r.status;
  mesos_test_response_free(&r);
  return st;
}

/* ------------------------------------------------------------ agent */

typedef struct agent {
  mesos_test_conn stream;
  char id[160];
} agent;

/* Registers an agent (cpus:4;mem:1024), authenticated when `principal`
 * is given.  Returns the HTTP status of the registration. */
static int agent_register(agent *a, const char *principal, const char *secret) {
  Mesos__V1__Resource res[2], *resp[2];
  Mesos__V1__Value__Scalar cpus = MESOS__V1__VALUE__SCALAR__INIT,
                           mem = MESOS__V1__VALUE__SCALAR__INIT;
  cpus.value = 4;
  mem.value = 1024;
  mesos__v1__resource__init(&res[0]);
  mesos__v1__resource__init(&res[1]);
  res[0].name = "cpus";
  res[0].type = MESOS__V1__VALUE__TYPE__SCALAR;
  res[0].scalar = &cpus;
  res[1].name = "mem";
  res[1].type = MESOS__V1__VALUE__TYPE__SCALAR;
  res[1].scalar = &mem;
  resp[0] = &res[0];
  resp[1] = &res[1];
  Mesos__V1__AgentInfo info = MESOS__V1__AGENT_INFO__INIT;
  info.hostname = "auth-agent";
  info.n_resources = 2;
  info.resources = resp;
  Mesos__Internal__RegisterAgent ra = MESOS__INTERNAL__REGISTER_AGENT__INIT;
  ra.agent = &info;
  Mesos__Internal__AgentCall call = MESOS__INTERNAL__AGENT_CALL__INIT;
  call.protocol_version = 1;
  call.has_type = 1;
  call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__REGISTER;
  call.register_agent = &ra;
  uint8_t *bytes = NULL;
  size_t len = 0;
  ck_assert_int_eq(mesos__pb_pack(&call.base, 0, &bytes, &len, NULL), MESOS_OK);
  char hdr[640], au[512];
  snprintf(hdr, sizeof hdr, "Accept: application/x-protobuf\r\n%s",
           auth_header(principal, secret, au, sizeof au));
  ck_assert_int_eq(mesos_test_conn_open(&a->stream, master_port), 0);
  ck_assert_int_eq(mesos_test_conn_request(&a->stream, "POST", "/api/v1/agent",
                                           "application/x-protobuf", hdr, (const char *)bytes,
                                           len),
                   0);
  mesos__free(bytes);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&a->stream, &r, 0, 5000), 0);
  int status = r.status;
  mesos_test_response_free(&r);
  if (status != 200) {
    mesos_test_conn_close(&a->stream);
    return status;
  }
  for (;;) {
    char *rec = NULL;
    long n = mesos_test_conn_next_record(&a->stream, &rec, 5000);
    ck_assert_int_gt(n, 0);
    ProtobufCMessage *msg = NULL;
    ck_assert_int_eq(mesos__pb_unpack(&mesos__internal__agent_event__descriptor, (uint8_t *)rec,
                                      (size_t)n, 0, 0, &msg, NULL),
                     MESOS_OK);
    free(rec);
    Mesos__Internal__AgentEvent *ev = (Mesos__Internal__AgentEvent *)msg;
    int done = ev->type == MESOS__INTERNAL__AGENT_EVENT__TYPE__REGISTERED;
    if (done) snprintf(a->id, sizeof a->id, "%s", ev->agent_registered->agent_id->value);
    mesos__pb_free(ev);
    if (done) break;
  }
  return status;
}

/* Waits for the next agent event of `type` (other events, pings
 * included, are skipped: these tests are short). */
static int agent_wait_event(agent *a, int type, char *task_id, size_t cap, int timeout_ms) {
  for (;;) {
    char *rec = NULL;
    long n = mesos_test_conn_next_record(&a->stream, &rec, timeout_ms);
    if (n < 0) return 0;
    ProtobufCMessage *msg = NULL;
    ck_assert_int_eq(mesos__pb_unpack(&mesos__internal__agent_event__descriptor, (uint8_t *)rec,
                                      (size_t)n, 0, 0, &msg, NULL),
                     MESOS_OK);
    free(rec);
    Mesos__Internal__AgentEvent *ev = (Mesos__Internal__AgentEvent *)msg;
    int hit = (int)ev->type == type;
    if (hit && task_id && ev->run_task)
      snprintf(task_id, cap, "%s", ev->run_task->task->task_id->value);
    mesos__pb_free(ev);
    if (hit) return 1;
  }
}

static void json_id(const char *rec, const char *key, char *out, size_t cap) {
  char pat[128];
  snprintf(pat, sizeof pat, "\"%s\":{\"value\":\"", key);
  const char *p = strstr(rec, pat);
  ck_assert_msg(p != NULL, "%s not in %s", key, rec);
  p += strlen(pat);
  snprintf(out, cap, "%.*s", (int)(strchr(p, '"') - p), p);
}

/* ------------------------------------------------------------ tests */

START_TEST(test_master_auth__subscribe_needs_valid_credentials_and_matching_principal) {
  start_master("--authenticate_frameworks", NULL);
  sched s;
  subscribe(&s, NULL, NULL, NULL);
  ck_assert_int_eq(s.status, 401);
  ck_assert_str_eq(s.www, "Basic realm=\"mesos-master-scheduler\"");
  sched_close(&s);

  subscribe(&s, "fw1", "wrong", NULL);
  ck_assert_int_eq(s.status, 401);
  ck_assert_str_eq(s.www, "Basic realm=\"mesos-master-scheduler\"");
  sched_close(&s);

  subscribe(&s, "nobody-known", "pw1", NULL);
  ck_assert_int_eq(s.status, 401);
  sched_close(&s);

  /* A malformed header is a 401 too, never a crash. */
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1/scheduler", "application/json",
                                   "Authorization: Basic !!!!\r\n", "{}", &r),
                   0);
  ck_assert_int_eq(r.status, 401);
  mesos_test_response_free(&r);

  subscribe(&s, "fw1", "pw1", ",\"principal\":\"fw2\"");
  ck_assert_int_eq(s.status, 400);
  ck_assert_msg(strstr(s.first, "does not match principal 'fw2'") != NULL, "%s", s.first);
  sched_close(&s);

  /* No principal in FrameworkInfo: the authenticated one is used. */
  subscribe(&s, "fw1", "pw1", ",\"role\":\"web\"");
  ck_assert_int_eq(s.status, 200);
  ck_assert_msg(strstr(s.first, "\"SUBSCRIBED\"") != NULL, "%s", s.first);
  /* Later calls must come from the same principal. */
  ck_assert_int_eq(sched_call(&s, "fw2", "pw2",
                              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"REVIVE\"}", s.id),
                   400);
  ck_assert_int_eq(sched_call(&s, NULL, NULL,
                              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"REVIVE\"}", s.id),
                   401);
  ck_assert_int_eq(sched_call(&s, "fw1", "pw1",
                              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"REVIVE\"}", s.id),
                   202);
  sched_close(&s);
  stop_master();
}
END_TEST

START_TEST(test_master_auth__register_frameworks_acl_allows_and_denies_per_role) {
  start_master("--authenticate_frameworks", NULL);
  sched s;
  /* fw2 is denied role web: the stream opens, one ERROR event, closed. */
  subscribe(&s, "fw2", "pw2", ",\"role\":\"web\"");
  ck_assert_int_eq(s.status, 200);
  ck_assert_msg(strstr(s.first, "\"ERROR\"") && strstr(s.first, "Not authorized") &&
                    strstr(s.first, "web"),
                "%s", s.first);
  sched_close(&s);
  /* Other roles: no rule matches, permissive (default true). */
  subscribe(&s, "fw2", "pw2", ",\"role\":\"batch\"");
  ck_assert_int_eq(s.status, 200);
  ck_assert_msg(strstr(s.first, "\"SUBSCRIBED\""), "%s", s.first);
  sched_close(&s);
  /* Hierarchical roles: fw1 may use eng/<anything>. */
  subscribe(&s, "fw1", "pw1", ",\"roles\":[\"eng/search\"],\"capabilities\":"
                              "[{\"type\":\"MULTI_ROLE\"}]");
  ck_assert_int_eq(s.status, 200);
  ck_assert_msg(strstr(s.first, "\"SUBSCRIBED\""), "%s", s.first);
  sched_close(&s);
  /* Multi-role: every role must be allowed. */
  subscribe(&s, "fw2", "pw2", ",\"roles\":[\"batch\",\"web\"],\"capabilities\":"
                              "[{\"type\":\"MULTI_ROLE\"}]");
  ck_assert_int_eq(s.status, 200);
  ck_assert_msg(strstr(s.first, "\"ERROR\""), "%s", s.first);
  sched_close(&s);
  stop_master();
}
END_TEST

START_TEST(test_master_auth__launch_as_a_denied_user_is_task_error_unauthorized) {
  start_master("--authenticate_frameworks", NULL);
  agent a;
  ck_assert_int_eq(agent_register(&a, NULL, NULL), 200);
  sched s;
  subscribe(&s, "fw1", "pw1", NULL);
  ck_assert_int_eq(s.status, 200);
  char *rec = sched_next(&s, "\"OFFERS\"", 5000);
  ck_assert_ptr_nonnull(rec);
  char offer[160];
  json_id(rec, "id", offer, sizeof offer);
  free(rec);
  /* Task 1 runs as root (denied: fw1 may run as nobody only, everyone
   * else as no one); task 2 as nobody (allowed). */
  ck_assert_int_eq(
      sched_call(&s, "fw1", "pw1",
                 "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
                 "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\","
                 "\"launch\":{\"task_infos\":["
                 "{\"name\":\"t\",\"task_id\":{\"value\":\"as-root\"},\"agent_id\":{\"value\":"
                 "\"%s\"},\"command\":{\"value\":\"true\",\"user\":\"root\"},\"resources\":["
                 "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1}}]},"
                 "{\"name\":\"t\",\"task_id\":{\"value\":\"as-nobody\"},\"agent_id\":{\"value\":"
                 "\"%s\"},\"command\":{\"value\":\"true\"},\"resources\":["
                 "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1}}]}"
                 "]}}]}}",
                 s.id, offer, a.id, a.id),
      202);
  rec = sched_next(&s, "\"UPDATE\"", 5000);
  ck_assert_ptr_nonnull(rec);
  ck_assert_msg(strstr(rec, "\"as-root\"") && strstr(rec, "TASK_ERROR") &&
                    strstr(rec, "REASON_TASK_UNAUTHORIZED"),
                "%s", rec);
  free(rec);
  char task[64] = "";
  ck_assert(agent_wait_event(&a, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK, task, sizeof task,
                             5000));
  ck_assert_str_eq(task, "as-nobody");
  sched_close(&s);
  mesos_test_conn_close(&a.stream);
  stop_master();
}
END_TEST

START_TEST(test_master_auth__agents_must_authenticate_to_register) {
  start_master("--authenticate_agents", NULL);
  agent a;
  ck_assert_int_eq(agent_register(&a, NULL, NULL), 401);
  ck_assert_int_eq(agent_register(&a, "agent", "nope"), 401);
  /* Authenticated, but register_agents denies fw1. */
  ck_assert_int_eq(agent_register(&a, "fw1", "pw1"), 403);
  ck_assert_int_eq(agent_register(&a, "agent", "agentpw"), 200);
  ck_assert(a.id[0] != '\0');
  mesos_test_conn_close(&a.stream);
  /* Frameworks are not required to authenticate here, and bad
   * credentials on an optional realm are ignored as in Mesos. */
  sched s;
  subscribe(&s, NULL, NULL, NULL);
  ck_assert_int_eq(s.status, 200);
  sched_close(&s);
  stop_master();
}
END_TEST

/* Subscribes fw2 with role web until the answer is `want_subscribed`
 * (SIGHUP is handled asynchronously). */
static int fw2_web_subscribed(void) {
  sched s;
  subscribe(&s, "fw2", "pw2", ",\"role\":\"web\"");
  ck_assert_int_eq(s.status, 200);
  int ok = strstr(s.first, "\"SUBSCRIBED\"") != NULL;
  sched_close(&s);
  return ok;
}

static int wait_fw2_web(int want, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 50) {
    if (fw2_web_subscribed() == want) return 1;
    usleep(50 * 1000);
  }
  return 0;
}

START_TEST(test_master_auth__sighup_reloads_acls_and_a_malformed_file_keeps_the_old_ones) {
  start_master("--authenticate_frameworks", NULL);
  fetch_error_body = 0;
  ck_assert_int_eq(fw2_web_subscribed(), 0);
  write_file(acls_path, ACLS_ALLOW_WEB);
  ck_assert_int_eq(kill(master_pid, SIGHUP), 0);
  ck_assert_msg(wait_fw2_web(1, 10000), "the new ACLs were not loaded after SIGHUP");
  /* Malformed: the old (allowing) rules stay. */
  write_file(acls_path, "{\"register_frameworks\": [{\"principals\": {\"type\": \"ANY\"}}]}");
  ck_assert_int_eq(kill(master_pid, SIGHUP), 0);
  usleep(300 * 1000);
  ck_assert_int_eq(fw2_web_subscribed(), 1);
  /* Credentials reload too: fw2's new secret works, the old one not. */
  write_file(creds_path, "fw2 newpw\n");
  ck_assert_int_eq(kill(master_pid, SIGHUP), 0);
  int ok = 0;
  for (int i = 0; i < 60 && !ok; i++) {
    sched s;
    subscribe(&s, "fw2", "newpw", NULL);
    ok = s.status == 200;
    sched_close(&s);
    if (!ok) usleep(50 * 1000);
  }
  ck_assert_msg(ok, "the new credentials were not loaded after SIGHUP");
  sched s;
  subscribe(&s, "fw2", "pw2", NULL);
  ck_assert_int_eq(s.status, 401);
  sched_close(&s);
  stop_master();
}
END_TEST

/* GET `path` (or POST an operator call when `body` is set) as
 * principal/secret; returns the status. */
static int http_as(const char *method, const char *path, const char *principal,
                   const char *secret, const char *body, char *out, size_t cap) {
  char hdr[512];
  auth_header(principal, secret, hdr, sizeof hdr);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(master_port, method, path, body ? "application/json" : NULL,
                                   hdr, body, &r),
                   0);
  int st = r.status;
  if (out) snprintf(out, cap, "%s", r.body ? r.body : "");
  mesos_test_response_free(&r);
  return st;
}

START_TEST(test_master_auth__endpoints_and_operator_calls_per_action) {
  start_master("--authenticate_http_readonly", "--authenticate_http_readwrite");
  char body[4096];
  /* Read-only realm: credentials needed; /health never. */
  ck_assert_int_eq(http_as("GET", "/state", NULL, NULL, NULL, body, sizeof body), 401);
  ck_assert_int_eq(http_as("GET", "/state", "fw1", "bad", NULL, body, sizeof body), 401);
  ck_assert_int_eq(http_as("GET", "/state", "fw1", "pw1", NULL, body, sizeof body), 200);
  ck_assert_int_eq(http_as("GET", "/health", NULL, NULL, NULL, NULL, 0), 200);
  /* view_flags: ops yes, fw1 no (403 with a message). */
  ck_assert_int_eq(http_as("GET", "/flags", "ops", "opspw", NULL, body, sizeof body), 200);
  ck_assert_ptr_nonnull(strstr(body, "\"flags\""));
  ck_assert_int_eq(http_as("GET", "/flags", "fw1", "pw1", NULL, body, sizeof body), 403);
  ck_assert_msg(strstr(body, "fw1") && strstr(body, "VIEW_FLAGS"), "%s", body);
  /* get_endpoints on /metrics/snapshot. */
  ck_assert_int_eq(http_as("GET", "/metrics/snapshot", "ops", "opspw", NULL, NULL, 0), 200);
  ck_assert_int_eq(http_as("GET", "/metrics/snapshot", "fw1", "pw1", NULL, NULL, 0), 403);
  /* Operator API: read-write realm, GET_FLAGS per view_flags. */
  const char *gf = "{\"type\":\"GET_FLAGS\"}";
  ck_assert_int_eq(http_as("POST", "/api/v1", NULL, NULL, gf, NULL, 0), 401);
  ck_assert_int_eq(http_as("POST", "/api/v1", "ops", "opspw", gf, NULL, 0), 200);
  ck_assert_int_eq(http_as("POST", "/api/v1", "fw1", "pw1", gf, NULL, 0), 403);
  ck_assert_int_eq(http_as("POST", "/api/v1", "fw1", "pw1", "{\"type\":\"GET_HEALTH\"}",
                           NULL, 0), 200);
  /* TEARDOWN: fw1 may tear down fw1's frameworks only, fw2 none, ops any. */
  sched s1, s2;
  subscribe(&s1, "fw1", "pw1", NULL);
  ck_assert_int_eq(s1.status, 200);
  subscribe(&s2, "fw2", "pw2", NULL);
  ck_assert_int_eq(s2.status, 200);
  char call[512];
  snprintf(call, sizeof call,
           "{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{\"value\":\"%s\"}}}",
           s2.id);
  ck_assert_int_eq(http_as("POST", "/api/v1", "fw2", "pw2", call, body, sizeof body), 403);
  ck_assert_msg(strstr(body, "TEARDOWN_FRAMEWORK"), "%s", body);
  ck_assert_int_eq(http_as("POST", "/api/v1", "fw1", "pw1", call, NULL, 0), 403);
  ck_assert_int_eq(http_as("POST", "/api/v1", "ops", "opspw", call, NULL, 0), 200);
  snprintf(call, sizeof call,
           "{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{\"value\":\"%s\"}}}",
           s1.id);
  ck_assert_int_eq(http_as("POST", "/api/v1", "fw1", "pw1", call, NULL, 0), 200);
  sched_close(&s1);
  sched_close(&s2);
  stop_master();
}
END_TEST

static const char *ACLS_TENANTS =
    "{\"view_frameworks\": ["
    "  {\"principals\": {\"values\": [\"fw1\"]}, \"users\": {\"values\": [\"alice\"]}},"
    "  {\"principals\": {\"values\": [\"fw2\"]}, \"users\": {\"values\": [\"bob\"]}},"
    "  {\"principals\": {\"values\": [\"ops\"]}, \"users\": {\"type\": \"ANY\"}},"
    "  {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}],"
    " \"view_tasks\": ["
    "  {\"principals\": {\"values\": [\"fw1\"]}, \"users\": {\"values\": [\"alice\"]}},"
    "  {\"principals\": {\"values\": [\"fw2\"]}, \"users\": {\"values\": [\"bob\"]}},"
    "  {\"principals\": {\"values\": [\"ops\"]}, \"users\": {\"type\": \"ANY\"}},"
    "  {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}]}";

/* Two tenants: each principal sees only its own framework (and tasks) in
 * /state, /frameworks, /state-summary and the operator API's GET_STATE / GET_FRAMEWORKS;
 * the operator sees both. */
START_TEST(test_master_auth__two_tenants_see_only_their_own_frameworks) {
  write_file(acls_path, ACLS_TENANTS);
  start_master("--authenticate_http_readonly", "--authenticate_frameworks");
  sched a, b;
  subscribe(&a, "fw1", "pw1", ",\"user\":\"alice\",\"name\":\"tenant-a\"");
  ck_assert_int_eq(a.status, 200);
  subscribe(&b, "fw2", "pw2", ",\"user\":\"bob\",\"name\":\"tenant-b\"");
  ck_assert_int_eq(b.status, 200);
  static char body[1 << 16];
  static const char *const paths[] = {"/state", "/frameworks", "/master/state",
                                      "/state-summary"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    ck_assert_int_eq(http_as("GET", paths[i], "fw1", "pw1", NULL, body, sizeof body), 200);
    ck_assert_msg(strstr(body, "tenant-a") && !strstr(body, "tenant-b"), "%s: %s", paths[i],
                  body);
    ck_assert_int_eq(http_as("GET", paths[i], "fw2", "pw2", NULL, body, sizeof body), 200);
    ck_assert_msg(strstr(body, "tenant-b") && !strstr(body, "tenant-a"), "%s: %s", paths[i],
                  body);
    ck_assert_int_eq(http_as("GET", paths[i], "ops", "opspw", NULL, body, sizeof body), 200);
    ck_assert_msg(strstr(body, "tenant-a") && strstr(body, "tenant-b"), "%s: %s", paths[i],
                  body);
  }
  /* The operator API (read-write realm not required here: the principal
   * comes from the optional credentials). */
  static const char *const calls[] = {"{\"type\":\"GET_STATE\"}",
                                      "{\"type\":\"GET_FRAMEWORKS\"}"};
  for (size_t i = 0; i < 2; i++) {
    ck_assert_int_eq(http_as("POST", "/api/v1", "fw1", "pw1", calls[i], body, sizeof body), 200);
    ck_assert_msg(strstr(body, "tenant-a") && !strstr(body, "tenant-b"), "%s: %s", calls[i],
                  body);
    ck_assert_int_eq(http_as("POST", "/api/v1", "fw2", "pw2", calls[i], body, sizeof body), 200);
    ck_assert_msg(strstr(body, "tenant-b") && !strstr(body, "tenant-a"), "%s: %s", calls[i],
                  body);
    /* No credentials: no principal, subject ANY -> the NONE rule hides
     * everything. */
    ck_assert_int_eq(http_as("POST", "/api/v1", NULL, NULL, calls[i], body, sizeof body), 200);
    ck_assert_msg(!strstr(body, "tenant-a") && !strstr(body, "tenant-b"), "%s: %s", calls[i],
                  body);
  }
  /* The operator event stream: the snapshot and later events are
   * filtered the same way.  B's new framework is added before A's, so A
   * seeing its own event first proves B's was never sent to it. */
  mesos_test_conn ops;
  char hdr[512];
  auth_header("fw1", "pw1", hdr, sizeof hdr);
  strncat(hdr, "Accept: application/json\r\n", sizeof hdr - strlen(hdr) - 1);
  ck_assert_int_eq(mesos_test_conn_open(&ops, master_port), 0);
  const char *sub = "{\"type\":\"SUBSCRIBE\"}";
  ck_assert_int_eq(mesos_test_conn_request(&ops, "POST", "/api/v1", "application/json", hdr, sub,
                                           strlen(sub)),
                   0);
  mesos_test_response sr;
  ck_assert_int_eq(mesos_test_conn_response(&ops, &sr, 0, 5000), 0);
  ck_assert_int_eq(sr.status, 200);
  mesos_test_response_free(&sr);
  char *rec = NULL;
  ck_assert_int_gt(mesos_test_conn_next_record(&ops, &rec, 5000), 0);
  ck_assert_msg(strstr(rec, "SUBSCRIBED") && strstr(rec, "tenant-a") && !strstr(rec, "tenant-b"),
                "%s", rec);
  free(rec);
  sched b2, a2;
  subscribe(&b2, "fw2", "pw2", ",\"user\":\"bob\",\"name\":\"tenant-b2\"");
  subscribe(&a2, "fw1", "pw1", ",\"user\":\"alice\",\"name\":\"tenant-a2\"");
  for (;;) {
    rec = NULL;
    ck_assert_int_gt(mesos_test_conn_next_record(&ops, &rec, 5000), 0);
    ck_assert_msg(!strstr(rec, "tenant-b"), "tenant A saw: %s", rec);
    int done = strstr(rec, "tenant-a2") != NULL;
    free(rec);
    if (done) break;
  }
  mesos_test_conn_close(&ops);
  sched_close(&a2);
  sched_close(&b2);
  /* Tenant A cannot tear down tenant B's framework through B's stream. */
  ck_assert_int_eq(sched_call(&b, "fw1", "pw1",
                              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"TEARDOWN\"}",
                              b.id),
                   400);
  /* Nor kill its tasks (the framework's principal is checked first). */
  ck_assert_int_eq(sched_call(&b, "fw1", "pw1",
                              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"KILL\",\"kill\":"
                              "{\"task_id\":{\"value\":\"t1\"}}}",
                              b.id),
                   400);
  sched_close(&a);
  sched_close(&b);
  stop_master();
}
END_TEST

static const char *ACLS_ROLES =
    "{\"view_roles\": ["
    "  {\"principals\": {\"values\": [\"fw1\"]}, \"roles\": {\"values\": [\"a\"]}},"
    "  {\"principals\": {\"values\": [\"ops\"]}, \"roles\": {\"type\": \"ANY\"}},"
    "  {\"principals\": {\"type\": \"ANY\"}, \"roles\": {\"type\": \"NONE\"}}],"
    " \"get_quotas\": ["
    "  {\"principals\": {\"values\": [\"fw1\"]}, \"roles\": {\"values\": [\"a\"]}},"
    "  {\"principals\": {\"values\": [\"ops\"]}, \"roles\": {\"type\": \"ANY\"}},"
    "  {\"principals\": {\"type\": \"ANY\"}, \"roles\": {\"type\": \"NONE\"}}],"
    " \"get_maintenance_schedules\": ["
    "  {\"principals\": {\"values\": [\"ops\"]}, \"machines\": {\"type\": \"ANY\"}},"
    "  {\"principals\": {\"type\": \"ANY\"}, \"machines\": {\"type\": \"NONE\"}}],"
    " \"get_maintenance_statuses\": ["
    "  {\"principals\": {\"values\": [\"ops\", \"fw1\"]}, \"machines\": {\"type\": \"ANY\"}},"
    "  {\"principals\": {\"type\": \"ANY\"}, \"machines\": {\"type\": \"NONE\"}}]}";

/* GET_WEIGHTS / GET_ROLES (VIEW_ROLE), GET_QUOTA (GET_QUOTA) show each
 * principal only its roles; the maintenance schedule and status are shown
 * whole or not at all (their ACL objects are ANY/NONE only). */
START_TEST(test_master_auth__roles_weights_quota_and_maintenance_are_filtered) {
  write_file(acls_path, ACLS_ROLES);
  start_master("--authenticate_http_readwrite", NULL);
  static char body[1 << 16];
  const char *setup_calls[] = {
      "{\"type\":\"UPDATE_WEIGHTS\",\"update_weights\":{\"weight_infos\":"
      "[{\"role\":\"a\",\"weight\":2.5},{\"role\":\"b\",\"weight\":3.5}]}}",
      "{\"type\":\"SET_QUOTA\",\"set_quota\":{\"quota_request\":{\"role\":\"a\",\"force\":true,"
      "\"guarantee\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1}}]}}}",
      "{\"type\":\"SET_QUOTA\",\"set_quota\":{\"quota_request\":{\"role\":\"b\",\"force\":true,"
      "\"guarantee\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":2}}]}}}",
      "{\"type\":\"UPDATE_MAINTENANCE_SCHEDULE\",\"update_maintenance_schedule\":"
      "{\"schedule\":{\"windows\":[{\"machine_ids\":[{\"hostname\":\"maint-host\"}],"
      "\"unavailability\":{\"start\":{\"nanoseconds\":1000}}}]}}}",
  };
  for (size_t i = 0; i < 4; i++)
    ck_assert_msg(http_as("POST", "/api/v1", "ops", "opspw", setup_calls[i], body, sizeof body) ==
                      200,
                  "%s: %s", setup_calls[i], body);
  struct {
    const char *call, *mine, *other;
  } lists[] = {
      {"{\"type\":\"GET_WEIGHTS\"}", "\"role\":\"a\"", "\"role\":\"b\""},
      {"{\"type\":\"GET_ROLES\"}", "\"name\":\"a\"", "\"name\":\"b\""},
      {"{\"type\":\"GET_QUOTA\"}", "\"role\":\"a\"", "\"role\":\"b\""},
  };
  for (size_t i = 0; i < 3; i++) {
    ck_assert_int_eq(http_as("POST", "/api/v1", "fw1", "pw1", lists[i].call, body, sizeof body),
                     200);
    ck_assert_msg(strstr(body, lists[i].mine) && !strstr(body, lists[i].other), "fw1 %s: %s",
                  lists[i].call, body);
    ck_assert_int_eq(http_as("POST", "/api/v1", "fw2", "pw2", lists[i].call, body, sizeof body),
                     200);
    ck_assert_msg(!strstr(body, lists[i].mine) && !strstr(body, lists[i].other), "fw2 %s: %s",
                  lists[i].call, body);
    ck_assert_int_eq(http_as("POST", "/api/v1", "ops", "opspw", lists[i].call, body, sizeof body),
                     200);
    ck_assert_msg(strstr(body, lists[i].mine) && strstr(body, lists[i].other), "ops %s: %s",
                  lists[i].call, body);
  }
  /* Both quota forms (1.0 infos and the configs) are filtered, and the
   * registry's own list is untouched: ops still sees both afterwards. */
  ck_assert_int_eq(http_as("POST", "/api/v1", "fw1", "pw1", "{\"type\":\"GET_QUOTA\"}", body,
                           sizeof body),
                   200);
  ck_assert_msg(!strstr(body, "\"value\":2"), "%s", body);
  ck_assert_int_eq(http_as("POST", "/api/v1", "ops", "opspw", "{\"type\":\"GET_QUOTA\"}", body,
                           sizeof body),
                   200);
  ck_assert_msg(strstr(body, "\"role\":\"b\""), "%s", body);
  /* Maintenance: schedule for ops only, status for ops and fw1. */
  const char *gs = "{\"type\":\"GET_MAINTENANCE_SCHEDULE\"}";
  const char *gst = "{\"type\":\"GET_MAINTENANCE_STATUS\"}";
  ck_assert_int_eq(http_as("POST", "/api/v1", "ops", "opspw", gs, body, sizeof body), 200);
  ck_assert_msg(strstr(body, "maint-host"), "%s", body);
  ck_assert_int_eq(http_as("POST", "/api/v1", "fw1", "pw1", gs, body, sizeof body), 200);
  ck_assert_msg(!strstr(body, "maint-host") && strstr(body, "GET_MAINTENANCE_SCHEDULE"), "%s",
                body);
  ck_assert_int_eq(http_as("POST", "/api/v1", "fw1", "pw1", gst, body, sizeof body), 200);
  ck_assert_msg(strstr(body, "maint-host"), "%s", body);
  ck_assert_int_eq(http_as("POST", "/api/v1", "fw2", "pw2", gst, body, sizeof body), 200);
  ck_assert_msg(!strstr(body, "maint-host"), "%s", body);
  ck_assert_int_eq(http_as("POST", "/api/v1", "ops", "opspw", gs, body, sizeof body), 200);
  ck_assert_msg(strstr(body, "maint-host"), "%s", body);
  /* The classic /maintenance/status: the same rule. */
  ck_assert_int_eq(http_as("GET", "/maintenance/status", "fw1", "pw1", NULL, body, sizeof body),
                   200);
  ck_assert_msg(strstr(body, "maint-host"), "%s", body);
  ck_assert_int_eq(http_as("GET", "/maintenance/status", "fw2", "pw2", NULL, body, sizeof body),
                   200);
  ck_assert_msg(!strstr(body, "maint-host"), "%s", body);
  /* The classic /roles (roles of frameworks): VIEW_ROLE per role. */
  sched fa, fb;
  subscribe(&fa, NULL, NULL, ",\"role\":\"a\"");
  ck_assert_int_eq(fa.status, 200);
  subscribe(&fb, NULL, NULL, ",\"role\":\"b\"");
  ck_assert_int_eq(fb.status, 200);
  ck_assert_int_eq(http_as("GET", "/roles", "fw1", "pw1", NULL, body, sizeof body), 200);
  ck_assert_msg(strstr(body, "\"name\":\"a\"") && !strstr(body, "\"name\":\"b\""), "%s", body);
  ck_assert_int_eq(http_as("GET", "/master/roles", "fw2", "pw2", NULL, body, sizeof body), 200);
  ck_assert_msg(!strstr(body, "\"name\":\"a\"") && !strstr(body, "\"name\":\"b\""), "%s",
                body);
  ck_assert_int_eq(http_as("GET", "/roles", "ops", "opspw", NULL, body, sizeof body), 200);
  ck_assert_msg(strstr(body, "\"name\":\"a\"") && strstr(body, "\"name\":\"b\""), "%s", body);
  sched_close(&fa);
  sched_close(&fb);
  stop_master();
}
END_TEST

#define OPS_ONLY(key, field)                                                                   \
  "\"" key "\": ["                                                                             \
  " {\"principals\": {\"values\": [\"ops\"]}, \"" field "\": {\"type\": \"ANY\"}},"           \
  " {\"principals\": {\"type\": \"ANY\"}, \"" field "\": {\"type\": \"NONE\"}}]"

/* The operator calls the other tests do not cover, each with a
 * principal allowed (ops: the call's real answer) and one denied (fw1:
 * 403 naming the action). */
START_TEST(test_master_auth__operator_call_matrix) {
  write_file(acls_path,
             "{" OPS_ONLY("update_weights", "roles") "," OPS_ONLY("update_quotas", "roles") ","
             OPS_ONLY("set_log_level", "level") ","
             OPS_ONLY("update_maintenance_schedules", "machines") ","
             OPS_ONLY("start_maintenances", "machines") ","
             OPS_ONLY("stop_maintenances", "machines") ","
             OPS_ONLY("mark_agents_gone", "agents") "," OPS_ONLY("drain_agents", "agents") ","
             OPS_ONLY("deactivate_agents", "agents") "," OPS_ONLY("reactivate_agents", "agents")
             "," OPS_ONLY("resize_volumes", "roles") "," OPS_ONLY("reserve_resources", "roles")
             "," OPS_ONLY("unreserve_resources", "reserver_principals") ","
             OPS_ONLY("create_volumes", "roles") ","
             OPS_ONLY("destroy_volumes", "creator_principals") ","
             OPS_ONLY("get_endpoints", "paths") "}");
  start_master("--authenticate_http_readwrite", NULL);
  agent ag;
  ck_assert_int_eq(agent_register(&ag, NULL, NULL), 200);
  char c[64][1024];
  int n = 0;
  const char *actions[64];
  int allowed[64];
#define CASE(action, ok, ...)                                                                  \
  do {                                                                                         \
    snprintf(c[n], sizeof c[n], __VA_ARGS__);                                                  \
    actions[n] = action;                                                                       \
    allowed[n++] = ok;                                                                         \
  } while (0)
  CASE("UPDATE_WEIGHT", 200,
       "{\"type\":\"UPDATE_WEIGHTS\",\"update_weights\":{\"weight_infos\":"
       "[{\"role\":\"r\",\"weight\":2}]}}");
  CASE("UPDATE_QUOTA", 200,
       "{\"type\":\"SET_QUOTA\",\"set_quota\":{\"quota_request\":{\"role\":\"r\",\"force\":true,"
       "\"guarantee\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1}}]}}}");
  CASE("UPDATE_QUOTA", 200, "{\"type\":\"REMOVE_QUOTA\",\"remove_quota\":{\"role\":\"r\"}}");
  CASE("UPDATE_QUOTA_WITH_CONFIG", 200,
       "{\"type\":\"UPDATE_QUOTA\",\"update_quota\":{\"force\":true,\"quota_configs\":"
       "[{\"role\":\"r\",\"guarantees\":{\"cpus\":{\"value\":1}}}]}}");
  CASE("SET_LOG_LEVEL", 200,
       "{\"type\":\"SET_LOGGING_LEVEL\",\"set_logging_level\":{\"level\":0,\"duration\":"
       "{\"nanoseconds\":1000000000}}}");
  CASE("UPDATE_MAINTENANCE_SCHEDULE", 200,
       "{\"type\":\"UPDATE_MAINTENANCE_SCHEDULE\",\"update_maintenance_schedule\":"
       "{\"schedule\":{\"windows\":[{\"machine_ids\":[{\"hostname\":\"mx\"}],"
       "\"unavailability\":{\"start\":{\"nanoseconds\":1000}}}]}}}");
  CASE("START_MAINTENANCE", 200,
       "{\"type\":\"START_MAINTENANCE\",\"start_maintenance\":{\"machines\":"
       "[{\"hostname\":\"mx\"}]}}");
  CASE("STOP_MAINTENANCE", 200,
       "{\"type\":\"STOP_MAINTENANCE\",\"stop_maintenance\":{\"machines\":"
       "[{\"hostname\":\"mx\"}]}}");
  CASE("DEACTIVATE_AGENT", 200,
       "{\"type\":\"DEACTIVATE_AGENT\",\"deactivate_agent\":{\"agent_id\":{\"value\":\"%s\"}}}",
       ag.id);
  CASE("REACTIVATE_AGENT", 200,
       "{\"type\":\"REACTIVATE_AGENT\",\"reactivate_agent\":{\"agent_id\":{\"value\":\"%s\"}}}",
       ag.id);
  CASE("RESIZE_VOLUME", 409,
       "{\"type\":\"GROW_VOLUME\",\"grow_volume\":{\"agent_id\":{\"value\":\"%s\"},\"volume\":"
       "{\"name\":\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":8},\"reservations\":"
       "[{\"type\":\"DYNAMIC\",\"role\":\"r\",\"principal\":\"ops\"}],\"disk\":{\"persistence\":"
       "{\"id\":\"v1\",\"principal\":\"ops\"},\"volume\":{\"mode\":\"RW\",\"container_path\":"
       "\"v\"}}},\"addition\":{\"name\":\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1},"
       "\"reservations\":[{\"type\":\"DYNAMIC\",\"role\":\"r\",\"principal\":\"ops\"}]}}}",
       ag.id);
  CASE("RESERVE_RESOURCES", -1,
       "{\"type\":\"RESERVE_RESOURCES\",\"reserve_resources\":{\"agent_id\":{\"value\":\"%s\"},"
       "\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1},"
       "\"reservations\":[{\"type\":\"DYNAMIC\",\"role\":\"r\",\"principal\":\"ops\"}]}]}}",
       ag.id);
  CASE("UNRESERVE_RESOURCES", -1,
       "{\"type\":\"UNRESERVE_RESOURCES\",\"unreserve_resources\":{\"agent_id\":{\"value\":"
       "\"%s\"},\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1},"
       "\"reservations\":[{\"type\":\"DYNAMIC\",\"role\":\"r\",\"principal\":\"ops\"}]}]}}",
       ag.id);
  CASE("CREATE_VOLUME", -1,
       "{\"type\":\"CREATE_VOLUMES\",\"create_volumes\":{\"agent_id\":{\"value\":\"%s\"},"
       "\"volumes\":[{\"name\":\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":8},"
       "\"reservations\":[{\"type\":\"DYNAMIC\",\"role\":\"r\",\"principal\":\"ops\"}],"
       "\"disk\":{\"persistence\":{\"id\":\"v1\",\"principal\":\"ops\"},\"volume\":"
       "{\"mode\":\"RW\",\"container_path\":\"v\"}}}]}}",
       ag.id);
  CASE("DESTROY_VOLUME", -1,
       "{\"type\":\"DESTROY_VOLUMES\",\"destroy_volumes\":{\"agent_id\":{\"value\":\"%s\"},"
       "\"volumes\":[{\"name\":\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":8},"
       "\"reservations\":[{\"type\":\"DYNAMIC\",\"role\":\"r\",\"principal\":\"ops\"}],"
       "\"disk\":{\"persistence\":{\"id\":\"v1\",\"principal\":\"ops\"},\"volume\":"
       "{\"mode\":\"RW\",\"container_path\":\"v\"}}}]}}",
       ag.id);
  CASE("DRAIN_AGENT", 200,
       "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":\"%s\"}}}", ag.id);
  CASE("MARK_AGENT_GONE", 200,
       "{\"type\":\"MARK_AGENT_GONE\",\"mark_agent_gone\":{\"agent_id\":{\"value\":\"%s\"}}}",
       ag.id);
#undef CASE
  static char body[1 << 14];
  for (int i = 0; i < n; i++) {
    ck_assert_msg(http_as("POST", "/api/v1", "fw1", "pw1", c[i], body, sizeof body) == 403,
                  "fw1 %s: %s", c[i], body);
    ck_assert_msg(strstr(body, actions[i]), "fw1 %s: %s", c[i], body);
    int st = http_as("POST", "/api/v1", "ops", "opspw", c[i], body, sizeof body);
    /* -1: whatever the call answers for this agent, but not a refusal. */
    ck_assert_msg(allowed[i] < 0 ? st != 403 && st != 401 : st == allowed[i], "ops %s: %d %s",
                  c[i], st, body);
  }
  /* get_endpoints: /logging/toggle (read-write realm) and
   * /metrics/snapshot. */
  ck_assert_int_eq(http_as("GET", "/metrics/snapshot", "fw1", "pw1", NULL, body, sizeof body),
                   403);
  ck_assert_int_eq(http_as("GET", "/metrics/snapshot", "ops", "opspw", NULL, body, sizeof body),
                   200);
  mesos_test_conn_close(&ag.stream);
  stop_master();
}
END_TEST

static int master_exit_code(const char *a1, const char *a2) {
  char path[4096], port_arg[64];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  snprintf(port_arg, sizeof port_arg, "--port=%d", mesos_test_free_port());
  char *argv[] = {path, "--ip=127.0.0.1", port_arg, "--logging_level=ERROR", (char *)a1,
                  (char *)a2, NULL};
  pid_t pid = mesos_test_spawn(argv, "/dev/null");
  ck_assert_int_gt(pid, 0);
  int st = 0;
  for (int i = 0; i < 100; i++) {
    if (waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    usleep(50 * 1000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
  return -1; /* still running: it started */
}

START_TEST(test_master_auth__inconsistent_or_malformed_flags_refuse_to_start) {
  /* Authentication required with no credentials: nobody could pass. */
  ck_assert_int_eq(master_exit_code("--authenticate_frameworks", NULL), 1);
  /* Malformed ACLs, inline and as a file. */
  ck_assert_int_eq(master_exit_code("--acls={\"run_tasks\": 5}", NULL), 1);
  write_file(acls_path, "{\"view_flags\": [{\"principals\": {\"type\": \"ANY\"}, "
                        "\"flags\": {\"values\": [\"x\"]}}]}");
  char acls_arg[192];
  snprintf(acls_arg, sizeof acls_arg, "--acls=%s", acls_path);
  ck_assert_int_eq(master_exit_code(acls_arg, NULL), 1);
  /* Missing credentials file. */
  ck_assert_int_eq(master_exit_code("--credentials=/nonexistent/creds", NULL), 1);
  /* Only the built-in authorizer and authenticator exist. */
  ck_assert_int_eq(master_exit_code("--authorizers=ldap", NULL), 1);
  ck_assert_int_eq(master_exit_code("--http_authenticators=jwt", NULL), 1);
}
END_TEST

/* curl's status code for GET https://127.0.0.1:port/health with `args`
 * (0 when the TLS connection failed). */
static int curl_code(const char *args) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "curl -s -m 5 -o /dev/null -w '%%{http_code}' %s https://127.0.0.1:%d/health", args,
           master_port);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  char out[32] = "";
  if (!fgets(out, sizeof out, p)) out[0] = '\0';
  pclose(p);
  return (int)strtol(out, NULL, 10);
}

START_TEST(test_master_auth__tls_listener_with_optional_client_verification) {
  if (!mesos_test_have_openssl() || system("curl --version > /dev/null 2>&1") != 0)
    MESOS_TEST_SKIP("openssl or curl is not installed");
  char certs[64];
  ck_assert_int_eq(mesos_test_certs_dir(certs, sizeof certs), 0);
  ck_assert_int_eq(mesos_test_make_certs(certs), 0);
  char cert[128], key[128], ca[128], args[512];
  snprintf(cert, sizeof cert, "--tls_cert=%s/server.crt", certs);
  snprintf(key, sizeof key, "--tls_key=%s/server.key", certs);
  snprintf(ca, sizeof ca, "--tls_ca=%s/ca.crt", certs);
  /* Server certificate only. */
  char path[4096], port_arg[64];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  char *argv[] = {path, "--ip=127.0.0.1", port_arg, "--logging_level=ERROR", cert, key,
                  NULL, NULL, NULL};
  master_pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(master_pid, 0);
  snprintf(args, sizeof args, "--cacert %s/ca.crt", certs);
  int code = 0;
  for (int i = 0; i < 100 && code != 200; i++) {
    code = curl_code(args);
    if (code != 200) usleep(50 * 1000);
  }
  ck_assert_int_eq(code, 200);
  /* Plain HTTP on the TLS port gets no HTTP answer. */
  mesos_test_response r;
  int rc = mesos_test_http(master_port, "GET", "/health", NULL, NULL, NULL, &r);
  if (rc == 0) {
    ck_assert_int_ne(r.status, 200);
    mesos_test_response_free(&r);
  }
  stop_master();
  /* Client certificates required. */
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  argv[6] = ca;
  argv[7] = "--tls_verify_client=required";
  master_pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(master_pid, 0);
  snprintf(args, sizeof args, "--cacert %s/ca.crt --cert %s/client.crt --key %s/client.key",
           certs, certs, certs);
  code = 0;
  for (int i = 0; i < 100 && code != 200; i++) {
    code = curl_code(args);
    if (code != 200) usleep(50 * 1000);
  }
  ck_assert_int_eq(code, 200);
  snprintf(args, sizeof args, "--cacert %s/ca.crt", certs);
  ck_assert_int_eq(curl_code(args), 0);
  snprintf(args, sizeof args,
           "--cacert %s/ca.crt --cert %s/other-client.crt --key %s/other-client.key", certs,
           certs, certs);
  ck_assert_int_eq(curl_code(args), 0);
  stop_master();
  /* Inconsistent TLS flags refuse to start. */
  ck_assert_int_eq(master_exit_code(cert, NULL), 1);
  ck_assert_int_eq(master_exit_code(cert, "--tls_key=/nonexistent.key"), 1);
  ck_assert_int_eq(master_exit_code("--tls_verify_client=required", NULL), 1);
  mesos_test_rmtree(certs);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("master_auth");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_master_auth__subscribe_needs_valid_credentials_and_matching_principal);
  tcase_add_test(tc, test_master_auth__register_frameworks_acl_allows_and_denies_per_role);
  tcase_add_test(tc, test_master_auth__launch_as_a_denied_user_is_task_error_unauthorized);
  tcase_add_test(tc, test_master_auth__agents_must_authenticate_to_register);
  tcase_add_test(tc, test_master_auth__sighup_reloads_acls_and_a_malformed_file_keeps_the_old_ones);
  tcase_add_test(tc, test_master_auth__inconsistent_or_malformed_flags_refuse_to_start);
  tcase_add_test(tc, test_master_auth__endpoints_and_operator_calls_per_action);
  tcase_add_test(tc, test_master_auth__two_tenants_see_only_their_own_frameworks);
  tcase_add_test(tc, test_master_auth__roles_weights_quota_and_maintenance_are_filtered);
  tcase_add_test(tc, test_master_auth__operator_call_matrix);
  tcase_add_test(tc, test_master_auth__tls_listener_with_optional_client_verification);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
