/*
 * The agent's operator API (POST /api/v1), its classic endpoints and the
 * /files endpoints, against the real mesos-master and mesos-agent on
 * loopback with a task running: every call once in JSON (GET_HEALTH also in
 * protobuf), then bad input: unknown calls, wrong bodies, paths with "..",
 * symlinks out of the sandbox (made by the task itself), negative and huge
 * offsets.  Every refusal is a 4xx with a message and nothing from outside
 * the sandbox.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "support/cluster.h"
#include "support/daemon.h"
#include "support/testutil.h"

static mesos_test_cluster cl; /* master, agent, directory: support/cluster.h */

static void make_base(void) { mesos_test_cluster_make_base(&cl, "/tmp/mesos-agent-op"); }
static void remove_base(void) { mesos_test_cluster_remove_base(&cl); }

/* Master and agent `name` (with attributes, under its own hostname). */
static void start_daemons(const char *name) {
  mesos_test_cluster_start_master(&cl, NULL);
  char *flags[] = {"--attributes=rack:r1;zone:2", NULL};
  mesos_test_cluster_start_agent(&cl, name, "agent-op-test", flags);
}

static void stop_all(void) { mesos_test_cluster_stop(&cl); }

/* ------------------------------------------------------------ framework */

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct fw {
  mesos_test_conn stream;
  char id[160], sid[64], agent[160];
} fw;

static void field(const char *rec, const char *pat, char *out, size_t cap) {
  const char *p = strstr(rec, pat);
  ck_assert_msg(p != NULL, "%s not in %s", pat, rec);
  p += strlen(pat);
  snprintf(out, cap, "%.*s", (int)(strchr(p, '"') - p), p);
}

/* Next event with all the strings, others skipped; NULL on time-out. */
static char *next_event(fw *f, int timeout_ms, const char *a, const char *b) {
  long long deadline = now_ms() + timeout_ms;
  for (;;) {
    long long left = deadline - now_ms();
    if (left <= 0) return NULL;
    char *rec = NULL;
    if (mesos_test_conn_next_record(&f->stream, &rec, (int)left) < 0) return NULL;
    if (strstr(rec, a) && (b == NULL || strstr(rec, b))) return rec;
    free(rec);
  }
}

static int sched_call(fw *f, const char *body) {
  char hdr[128];
  snprintf(hdr, sizeof hdr, "Mesos-Stream-Id: %s\r\n", f->sid);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(cl.master_port, "POST", "/api/v1/scheduler", "application/json",
                                   hdr, body, &r), 0);
  int s = r.status;
  mesos_test_response_free(&r);
  return s;
}

/* Subscribes, takes the first offer and launches `command` as task
 * "op-task"; returns once TASK_RUNNING is acknowledged. */
static void run_task(fw *f, const char *command) {
  const char *sub = "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"nobody\","
                    "\"name\":\"operator test\"}}}";
  ck_assert_int_eq(mesos_test_conn_open(&f->stream, cl.master_port), 0);
  ck_assert_int_eq(mesos_test_conn_request(&f->stream, "POST", "/api/v1/scheduler",
                                           "application/json", NULL, sub, strlen(sub)), 0);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&f->stream, &r, 0, 5000), 0);
  ck_assert_int_eq(r.status, 200);
  mesos_test_response_header(&r, "Mesos-Stream-Id", f->sid, sizeof f->sid);
  char *rec = next_event(f, 5000, "SUBSCRIBED", NULL);
  ck_assert_ptr_nonnull(rec);
  field(rec, "\"framework_id\":{\"value\":\"", f->id, sizeof f->id);
  free(rec);
  rec = next_event(f, 10000, "\"type\":\"OFFERS\"", "agent-op-test");
  ck_assert_msg(rec != NULL, "no offer");
  char offer[160];
  field(rec, "\"offers\":[{\"id\":{\"value\":\"", offer, sizeof offer);
  field(rec, "\"agent_id\":{\"value\":\"", f->agent, sizeof f->agent);
  free(rec);
  char body[4096];
  snprintf(body, sizeof body,
           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
           "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
           "[{\"name\":\"op\",\"task_id\":{\"value\":\"op-task\"},\"agent_id\":{\"value\":\"%s\"},"
           "\"command\":{\"value\":\"%s\"},\"resources\":["
           "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.5}},"
           "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":32}}]}]}}]}}",
           f->id, offer, f->agent, command);
  ck_assert_int_eq(sched_call(f, body), 202);
  for (int i = 0; i < 2; i++) {
    rec = next_event(f, 10000, "\"type\":\"UPDATE\"", i ? "TASK_RUNNING" : "TASK_STARTING");
    ck_assert_msg(rec != NULL, "no update");
    char uuid[64];
    field(rec, "\"uuid\":\"", uuid, sizeof uuid);
    free(rec);
    snprintf(body, sizeof body,
             "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACKNOWLEDGE\",\"acknowledge\":"
             "{\"agent_id\":{\"value\":\"%s\"},\"task_id\":{\"value\":\"op-task\"},\"uuid\":\"%s\"}}",
             f->id, f->agent, uuid);
    ck_assert_int_eq(sched_call(f, body), 202);
  }
}

/* ------------------------------------------------------------ calls */

static char *last_body;

static void no_secrets(const char *body) {
  ck_assert_msg(strstr(body, "root:x:0") == NULL && strstr(body, "cm9vdDp4OjA") == NULL,
                "leaked /etc/passwd: %s", body);
}

/* POSTs a call to the agent; returns the status, the body in last_body. */
static int agent_call_as(const char *ctype, const char *extra, const char *body) {
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(cl.agent_port, "POST", "/api/v1", ctype, extra, body, &r), 0);
  free(last_body);
  last_body = r.body ? strdup(r.body) : strdup("");
  if (r.body_len == 0) {
    free(last_body);
    last_body = strdup("");
  }
  int s = r.status;
  mesos_test_response_free(&r);
  no_secrets(last_body);
  return s;
}

static int agent_call(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int agent_call(const char *fmt, ...) {
  char body[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  return agent_call_as("application/json", NULL, body);
}

static int agent_get(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int agent_get(const char *fmt, ...) {
  char target[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(target, sizeof target, fmt, ap);
  va_end(ap);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(cl.agent_port, "GET", target, NULL, NULL, NULL, &r), 0);
  free(last_body);
  last_body = strdup(r.body && r.body_len ? r.body : "");
  int s = r.status;
  mesos_test_response_free(&r);
  no_secrets(last_body);
  return s;
}

#define EXPECT_IN(needle) \
  ck_assert_msg(strstr(last_body, (needle)) != NULL, "'%s' not in %s", (needle), last_body)

/* Polls GET_LOGGING_LEVEL until the agent answers `level` (10 s: the
 * revert is a timer on a loop that, under ASan on a loaded machine, may
 * run late, so no fixed pause can say when to look); the milliseconds
 * since `t0` when it did. */
static long long wait_logging_level(int level, long long t0) {
  char want[64];
  snprintf(want, sizeof want, "\"get_logging_level\":{\"level\":%d}", level);
  for (long long until = now_ms() + 10000;; usleep(20000)) {
    ck_assert_int_eq(agent_call("{\"type\":\"GET_LOGGING_LEVEL\"}"), 200);
    if (strstr(last_body, want)) return now_ms() - t0;
    ck_assert_msg(now_ms() < until, "the level never went back to %d: %s", level, last_body);
  }
}

/* ------------------------------------------------------------ tests */

START_TEST(test_agent_operator__every_call_answers_with_a_running_task) {
  start_daemons("calls");
  fw f;
  run_task(&f, "echo to-stdout; sleep 60");

  ck_assert_int_eq(agent_call("{\"type\":\"GET_HEALTH\"}"), 200);
  ck_assert_str_eq(last_body, "{\"type\":\"GET_HEALTH\",\"get_health\":{\"healthy\":true}}");
  ck_assert_int_eq(agent_call("{\"type\":\"GET_FLAGS\"}"), 200);
  EXPECT_IN("{\"name\":\"work_dir\",\"value\":\"");
  ck_assert_int_eq(agent_call("{\"type\":\"GET_VERSION\"}"), 200);
  EXPECT_IN("\"version_info\":{\"version\":\"1.0.0\"");
  ck_assert_int_eq(agent_call("{\"type\":\"GET_METRICS\",\"get_metrics\":{}}"), 200);
  EXPECT_IN("{\"name\":\"slave/tasks_running\",\"value\":1.0}");
  EXPECT_IN("{\"name\":\"slave/registered\",\"value\":1.0}");
  EXPECT_IN("{\"name\":\"slave/cpus_used\",\"value\":0.5}");
  EXPECT_IN("{\"name\":\"slave/cpus_total\",\"value\":4.0}");

  ck_assert_int_eq(agent_call("{\"type\":\"GET_LOGGING_LEVEL\"}"), 200);
  EXPECT_IN("\"get_logging_level\":{\"level\":0}");
  long long t0 = now_ms();
  ck_assert_int_eq(agent_call("{\"type\":\"SET_LOGGING_LEVEL\",\"set_logging_level\":{\"level\":1,"
                              "\"duration\":{\"nanoseconds\":700000000}}}"), 200);
  ck_assert_int_eq(agent_call("{\"type\":\"GET_LOGGING_LEVEL\"}"), 200);
  EXPECT_IN("\"get_logging_level\":{\"level\":1}");
  /* Back to 0 once the duration passed, not before. */
  long long took = wait_logging_level(0, t0);
  ck_assert_msg(took >= 690, "level 1 lasted %lld ms of 700", took);

  /* The classic toggle does the same. */
  t0 = now_ms();
  ck_assert_int_eq(agent_get("/logging/toggle?level=2&duration=600ms"), 200);
  ck_assert_int_eq(agent_call("{\"type\":\"GET_LOGGING_LEVEL\"}"), 200);
  EXPECT_IN("\"get_logging_level\":{\"level\":2}");
  took = wait_logging_level(0, t0);
  ck_assert_msg(took >= 590, "level 2 lasted %lld ms of 600", took);

  ck_assert_int_eq(agent_call("{\"type\":\"GET_STATE\"}"), 200);
  EXPECT_IN("\"type\":\"GET_STATE\"");
  EXPECT_IN("\"launched_tasks\":[{\"name\":\"op\",\"task_id\":{\"value\":\"op-task\"}");
  EXPECT_IN("\"state\":\"TASK_RUNNING\"");
  EXPECT_IN(f.id);
  ck_assert_int_eq(agent_call("{\"type\":\"GET_TASKS\"}"), 200);
  EXPECT_IN("\"get_tasks\":{\"launched_tasks\":[{\"name\":\"op\"");
  ck_assert_int_eq(agent_call("{\"type\":\"GET_EXECUTORS\"}"), 200);
  EXPECT_IN("\"executor_info\":{\"executor_id\":{\"value\":\"op-task\"}");
  ck_assert_int_eq(agent_call("{\"type\":\"GET_FRAMEWORKS\"}"), 200);
  EXPECT_IN("\"name\":\"operator test\"");
  ck_assert_int_eq(agent_call("{\"type\":\"GET_AGENT\"}"), 200);
  EXPECT_IN("\"hostname\":\"agent-op-test\"");
  EXPECT_IN(f.agent);
  ck_assert_int_eq(agent_call("{\"type\":\"GET_CONTAINERS\",\"get_containers\":{}}"), 200);
  EXPECT_IN("\"executor_id\":{\"value\":\"op-task\"}");
  EXPECT_IN("\"resource_statistics\":{\"timestamp\":");
  EXPECT_IN("\"mem_rss_bytes\":");
  EXPECT_IN("\"cpus_limit\":0.5");
  ck_assert_msg(strstr(last_body, "\"mem_rss_bytes\":0,") == NULL, "no RSS measured: %s", last_body);

  char sandbox[512];
  snprintf(sandbox, sizeof sandbox, "/frameworks/%s/executors/op-task/runs/latest", f.id);
  ck_assert_int_eq(agent_call("{\"type\":\"LIST_FILES\",\"list_files\":{\"path\":\"%s\"}}", sandbox), 200);
  EXPECT_IN("/executors/op-task/runs/latest/stdout\"");
  EXPECT_IN("\"mtime\":{\"nanoseconds\":");
  /* "to-stdout\n" in base64. */
  ck_assert_int_eq(agent_call("{\"type\":\"READ_FILE\",\"read_file\":{\"path\":\"%s/stdout\","
                              "\"offset\":0}}", sandbox), 200);
  EXPECT_IN("\"read_file\":{\"size\":10,\"data\":\"dG8tc3Rkb3V0Cg==\"}");
  ck_assert_int_eq(agent_call("{\"type\":\"READ_FILE\",\"read_file\":{\"path\":\"%s/stdout\","
                              "\"offset\":3,\"length\":3}}", sandbox), 200);
  EXPECT_IN("\"data\":\"c3Rk\"");

  /* Protobuf both ways: GET_HEALTH is 08 01, the answer 08 01 12 02 08 01. */
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(cl.agent_port, "POST", "/api/v1", "application/x-protobuf",
                                   "Accept: application/x-protobuf\r\n", "\x08\x01", &r), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(r.body_len, 6);
  ck_assert_int_eq(memcmp(r.body, "\x08\x01\x12\x02\x08\x01", 6), 0);
  mesos_test_response_free(&r);

  /* The classic endpoints. */
  ck_assert_int_eq(agent_get("/state"), 200);
  EXPECT_IN("\"hostname\":\"agent-op-test\"");
  EXPECT_IN("\"resources\":{\"cpus\":4,\"gpus\":0,\"mem\":1024,\"disk\":1024,\"ports\":\"[31000-31100]\"}");
  EXPECT_IN("\"attributes\":{\"rack\":\"r1\",\"zone\":2}");
  EXPECT_IN("\"tasks\":[{\"id\":\"op-task\",\"name\":\"op\"");
  EXPECT_IN("\"state\":\"TASK_RUNNING\"");
  EXPECT_IN("\"directory\":\"");
  ck_assert_int_eq(agent_get("/slave(1)/state"), 200);
  EXPECT_IN("\"frameworks\":[{\"id\":\"");
  ck_assert_int_eq(agent_get("/flags"), 200);
  EXPECT_IN("{\"flags\":{");
  EXPECT_IN("\"hostname\":\"agent-op-test\"");
  ck_assert_int_eq(agent_get("/metrics/snapshot"), 200);
  EXPECT_IN("\"slave/tasks_running\":1");
  EXPECT_IN("\"slave/uptime_secs\":");
  EXPECT_IN("\"slave/mem_total\":1024");
  ck_assert_int_eq(agent_get("/monitor/statistics"), 200);
  EXPECT_IN("[{\"executor_id\":\"op-task\"");
  EXPECT_IN("\"statistics\":{\"timestamp\":");
  EXPECT_IN("\"cpus_user_time_secs\":");
  ck_assert_int_eq(agent_get("/containers"), 200);
  EXPECT_IN("\"container_id\":\"");
  ck_assert_int_eq(agent_get("/health"), 200);
  ck_assert_int_eq(agent_get("/version"), 200);
  EXPECT_IN("\"version\":\"1.0.0\"");

  /* /files through the virtual path and through the real one. */
  ck_assert_int_eq(agent_get("/files/read?path=%s/stdout&offset=0", sandbox), 200);
  ck_assert_str_eq(last_body, "{\"data\":\"to-stdout\\n\",\"offset\":0}");
  ck_assert_int_eq(agent_get("/files/browse?path=%s", sandbox), 200);
  EXPECT_IN("runs/latest/stdout\",\"size\":10,");
  ck_assert_int_eq(agent_get("/files/debug"), 200);
  EXPECT_IN(sandbox);
  ck_assert_int_eq(agent_get("/slave(1)/files/download?path=%s/stdout", sandbox), 200);
  ck_assert_str_eq(last_body, "to-stdout\n");
  ck_assert_int_eq(agent_call("{\"type\":\"GET_EXECUTORS\"}"), 200);
  ck_assert_int_eq(agent_get("/state"), 200);
  char dir[1024];
  field(last_body, "\"directory\":\"", dir, sizeof dir);
  ck_assert_int_eq(agent_get("/files/read?path=%s/stdout&offset=-1", dir), 200);
  ck_assert_str_eq(last_body, "{\"data\":\"\",\"offset\":10}");

  mesos_test_conn_close(&f.stream);
  free(last_body);
  last_body = NULL;
  stop_all();
}
END_TEST

START_TEST(test_agent_operator__bad_input_gets_a_4xx_with_a_message_and_nothing_leaks) {
  start_daemons("bad");
  fw f;
  /* The task plants symlinks out of its own sandbox. */
  run_task(&f, "ln -s /etc/passwd leak; ln -s /etc etc; ln -s .. up; echo ok; sleep 60");
  char sb[512];
  snprintf(sb, sizeof sb, "/frameworks/%s/executors/op-task/runs/latest", f.id);
  /* Wait for the links (the task runs asynchronously). */
  for (int i = 0; i < 300; i++) {
    if (agent_get("/files/browse?path=%s", sb) == 200 && strstr(last_body, "/up\"")) break;
    usleep(10000);
  }
  EXPECT_IN("/leak\"");

  ck_assert_int_eq(agent_call("{\"type\":\"UNKNOWN\"}"), 501);
  ck_assert_int_eq(agent_call("{\"type\":\"NO_SUCH_CALL\"}"), 400);
  ck_assert_int_eq(agent_call("{}"), 400);
  EXPECT_IN("Expecting 'type'");
  ck_assert_int_eq(agent_call("{\"type\":"), 400);
  EXPECT_IN("Failed to parse");
  ck_assert_int_eq(agent_call("[1,2]"), 400);
  ck_assert_int_eq(agent_call_as("text/plain", NULL, "{\"type\":\"GET_HEALTH\"}"), 415);
  ck_assert_int_eq(agent_call_as(NULL, NULL, "{\"type\":\"GET_HEALTH\"}"), 400);
  ck_assert_int_eq(agent_call_as("application/x-protobuf", NULL, "\xff\xff\xff"), 400);
  ck_assert_int_eq(agent_call_as("application/json", "Accept: text/html\r\n",
                                 "{\"type\":\"GET_HEALTH\"}"), 406);
  ck_assert_int_eq(agent_call("{\"type\":\"GET_METRICS\"}"), 400);
  EXPECT_IN("get_metrics");
  ck_assert_int_eq(agent_call("{\"type\":\"READ_FILE\"}"), 400);
  ck_assert_int_eq(agent_call("{\"type\":\"LIST_FILES\"}"), 400);
  ck_assert_int_eq(agent_call("{\"type\":\"SET_LOGGING_LEVEL\"}"), 400);
  ck_assert_int_eq(agent_call("{\"type\":\"SET_LOGGING_LEVEL\",\"set_logging_level\":{\"level\":1,"
                              "\"duration\":{\"nanoseconds\":-5}}}"), 400);
  /* A nested call names a nested id (Mesos's validation, before the
   * authorization and the 501). */
  ck_assert_int_eq(agent_call("{\"type\":\"LAUNCH_NESTED_CONTAINER\",\"launch_nested_container\":"
                              "{\"container_id\":{\"value\":\"x\"}}}"), 400);
  EXPECT_IN("container_id.parent");
  ck_assert_int_eq(agent_call("{\"type\":\"LAUNCH_NESTED_CONTAINER\",\"launch_nested_container\":"
                              "{\"container_id\":{\"value\":\"x\",\"parent\":{\"value\":\"p\"}}}}"),
                   501);
  EXPECT_IN("not supported");
  ck_assert_int_eq(agent_call("{\"type\":\"ATTACH_CONTAINER_OUTPUT\",\"attach_container_output\":"
                              "{\"container_id\":{\"value\":\"x\"}}}"), 501);

  ck_assert_int_eq(agent_get("/logging/toggle?duration=1secs"), 400);
  EXPECT_IN("level");
  ck_assert_int_eq(agent_get("/logging/toggle?level=1"), 400);
  EXPECT_IN("duration");
  ck_assert_int_eq(agent_get("/logging/toggle?level=-1&duration=1secs"), 400);
  ck_assert_int_eq(agent_get("/logging/toggle?level=1&duration=soon"), 400);
  ck_assert_int_eq(agent_get("/logging/toggle?level=1&duration=0secs"), 400);

  /* Files through v1. */
  ck_assert_int_eq(agent_call("{\"type\":\"READ_FILE\",\"read_file\":{\"path\":\"%s/leak\",\"offset\":0}}", sb), 403);
  EXPECT_IN("outside");
  ck_assert_int_eq(agent_call("{\"type\":\"READ_FILE\",\"read_file\":{\"path\":\"%s/etc/passwd\",\"offset\":0}}", sb), 403);
  ck_assert_int_eq(agent_call("{\"type\":\"READ_FILE\",\"read_file\":{\"path\":\"%s/up/../../../../../../etc/passwd\",\"offset\":0}}", sb), 400);
  EXPECT_IN("..");
  ck_assert_int_eq(agent_call("{\"type\":\"LIST_FILES\",\"list_files\":{\"path\":\"%s/up\"}}", sb), 403);
  ck_assert_int_eq(agent_call("{\"type\":\"LIST_FILES\",\"list_files\":{\"path\":\"/etc\"}}"), 404);
  ck_assert_int_eq(agent_call("{\"type\":\"LIST_FILES\",\"list_files\":{\"path\":\"%s/nope\"}}", sb), 404);
  ck_assert_int_eq(agent_call("{\"type\":\"READ_FILE\",\"read_file\":{\"path\":\"%s/stdout\","
                              "\"offset\":18446744073709551615}}", sb), 400);
  ck_assert_int_eq(agent_call("{\"type\":\"READ_FILE\",\"read_file\":{\"path\":\"%s/stdout\","
                              "\"offset\":-1}}", sb), 400);
  ck_assert_int_eq(agent_call("{\"type\":\"READ_FILE\",\"read_file\":{\"path\":\"/frameworks/..%%2F..\","
                              "\"offset\":0}}"), 404);
  ck_assert_int_eq(agent_call("{\"type\":\"LIST_FILES\",\"list_files\":{\"path\":\"/frameworks/x/executors/..\"}}"), 400);

  /* Files through the classic endpoints. */
  ck_assert_int_eq(agent_get("/files/read?path=%s/leak&offset=0", sb), 403);
  ck_assert_int_eq(agent_get("/files/read?path=%s/etc/shadow&offset=0", sb), 403);
  ck_assert_int_eq(agent_get("/files/download?path=%s/up/%s.log", sb, "bad"), 403);
  ck_assert_int_eq(agent_get("/files/read?path=%s/../../../../slaves&offset=0", sb), 400);
  ck_assert_int_eq(agent_get("/files/read?path=%s/stdout&offset=-2", sb), 400);
  EXPECT_IN("Negative offset");
  ck_assert_int_eq(agent_get("/files/read?path=%s/stdout&offset=1e99", sb), 400);
  ck_assert_int_eq(agent_get("/files/read?path=%s/stdout&offset=99999999999999999999", sb), 400);
  ck_assert_int_eq(agent_get("/files/read?path=%s/stdout&offset=0&length=x", sb), 400);
  ck_assert_int_eq(agent_get("/files/read?path=%s/stdout%%00.txt&offset=0", sb), 400);
  ck_assert_int_eq(agent_get("/files/browse?path=/"), 404);
  ck_assert_int_eq(agent_get("/files/browse"), 400);
  ck_assert_int_eq(agent_get("/files/browse?path=%s/etc", sb), 403);
  /* The real work directory is not browsable above the sandboxes. */
  ck_assert_int_eq(agent_get("/files/browse?path=%s", cl.work_dir), 404);
  ck_assert_int_eq(agent_get("/files/browse?path=%s/meta", cl.work_dir), 404);

  /* Still healthy after all that. */
  ck_assert_int_eq(agent_call("{\"type\":\"GET_HEALTH\"}"), 200);
  mesos_test_conn_close(&f.stream);
  free(last_body);
  last_body = NULL;
  stop_all();
}
END_TEST


START_TEST(test_agent_operator__a_finished_task_stays_listed_and_browsable) {
  start_daemons("done");
  fw f;
  run_task(&f, "echo bye");
  char *rec = next_event(&f, 10000, "\"type\":\"UPDATE\"", "TASK_FINISHED");
  ck_assert_msg(rec != NULL, "no TASK_FINISHED");
  char uuid[64], body[1024];
  field(rec, "\"uuid\":\"", uuid, sizeof uuid);
  free(rec);
  snprintf(body, sizeof body,
           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACKNOWLEDGE\",\"acknowledge\":"
           "{\"agent_id\":{\"value\":\"%s\"},\"task_id\":{\"value\":\"op-task\"},\"uuid\":\"%s\"}}",
           f.id, f.agent, uuid);
  ck_assert_int_eq(sched_call(&f, body), 202);
  /* Once acknowledged the agent forgets the task; the operator side keeps
   * it as completed. */
  int listed = 0;
  for (int i = 0; i < 500 && !listed; i++) {
    ck_assert_int_eq(agent_call("{\"type\":\"GET_TASKS\"}"), 200);
    listed = strstr(last_body, "\"completed_tasks\":[{\"name\":\"op\"") != NULL;
    if (!listed) usleep(10000);
  }
  ck_assert_msg(listed, "never completed: %s", last_body);
  EXPECT_IN("\"state\":\"TASK_FINISHED\"");
  ck_assert_msg(strstr(last_body, "launched_tasks") == NULL, "still launched: %s", last_body);
  ck_assert_int_eq(agent_call("{\"type\":\"GET_EXECUTORS\"}"), 200);
  EXPECT_IN("\"completed_executors\":[{\"executor_info\":{\"executor_id\":{\"value\":\"op-task\"}");
  ck_assert_int_eq(agent_get("/metrics/snapshot"), 200);
  EXPECT_IN("\"slave/tasks_finished\":1,");
  EXPECT_IN("\"slave/tasks_running\":0,");
  EXPECT_IN("\"slave/executors_terminated\":1,");
  ck_assert_int_eq(agent_get("/state"), 200);
  EXPECT_IN("\"completed_executors\":[{\"id\":\"op-task\"");
  ck_assert_int_eq(agent_get("/files/read?path=/frameworks/%s/executors/op-task/runs/latest/stdout"
                             "&offset=0", f.id), 200);
  ck_assert_str_eq(last_body, "{\"data\":\"bye\\n\",\"offset\":0}");
  mesos_test_conn_close(&f.stream);
  free(last_body);
  last_body = NULL;
  stop_all();
}
END_TEST

static Suite *agent_operator_suite(void) {
  Suite *s = suite_create("agent_operator");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_unchecked_fixture(tc, make_base, remove_base);
  tcase_add_test(tc, test_agent_operator__every_call_answers_with_a_running_task);
  tcase_add_test(tc, test_agent_operator__bad_input_gets_a_4xx_with_a_message_and_nothing_leaks);
  tcase_add_test(tc, test_agent_operator__a_finished_task_stays_listed_and_browsable);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(agent_operator_suite()); }
