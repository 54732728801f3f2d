/*
 * The master's re-registration fast path (issue 4, master-reregister-10k):
 *  - the hand-written REREGISTER decoder (lib/codec/pb_agent_call.c) gives
 *    the message protobuf-c gives, lets alike tasks share their decoded
 *    resources, takes unusual tasks through protobuf-c, and declines
 *    (NULL) other calls and malformed bytes;
 *  - a real mesos-master answers a REREGISTER whose task holds malformed
 *    resource bytes with 400 and a message and keeps nothing of it; the
 *    same call well-formed then re-registers the agent with its tasks;
 *  - maps that borrow their keys, and the master's slab (task records).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "base/alloc.h"
#include "base/map.h"
#include "codec/pb.h"
#include "codec/pb_agent_call.h"
#include "master/slab.h"
#include "mesos/internal/internal.pb-c.h"
#include "support/daemon.h"
#include "support/sim_agent.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

/* ------------------------------------------------------------ calls */

typedef struct call_parts {
  Mesos__V1__Resource r[3], *rp[3], ar[2], *arp[2];
  Mesos__V1__Value__Scalar sc[3], asc[2];
  Mesos__V1__AgentID aid;
  Mesos__V1__AgentInfo info;
  Mesos__V1__FrameworkID fid;
  Mesos__V1__FrameworkInfo fi, *fip;
  Mesos__V1__Task t[5], *tp[5];
  Mesos__V1__TaskID tid[5];
  Mesos__V1__ExecutorID eid[5];
  char names[5][16];
  Mesos__V1__Labels labels;
  Mesos__V1__Label label, *labelp;
  Mesos__Internal__ReregisterAgent rr;
  Mesos__Internal__AgentCall call;
} call_parts;

/* A REREGISTER of agent `agent_id` with `n` (<= 5) tasks of framework
 * fw-1: tasks 0-2 alike (cpus 0.1, mem 32), task 3 with a label (an
 * unusual task), task 4 finished with a user and three resources. */
static void make_call(call_parts *p, const char *agent_id, size_t n) {
  memset(p, 0, sizeof *p);
  static const char *rn[3] = {"cpus", "mem", "disk"};
  static const double rv[3] = {0.1, 32, 64};
  for (int i = 0; i < 3; i++) {
    mesos__v1__resource__init(&p->r[i]);
    mesos__v1__value__scalar__init(&p->sc[i]);
    p->sc[i].value = rv[i];
    p->r[i].name = (char *)rn[i];
    p->r[i].type = MESOS__V1__VALUE__TYPE__SCALAR;
    p->r[i].scalar = &p->sc[i];
    p->rp[i] = &p->r[i];
  }
  for (int i = 0; i < 2; i++) { /* the agent's total: cpus 4, mem 4096 */
    p->ar[i] = p->r[i];
    mesos__v1__value__scalar__init(&p->asc[i]);
    p->asc[i].value = i == 0 ? 4 : 4096;
    p->ar[i].scalar = &p->asc[i];
    p->arp[i] = &p->ar[i];
  }
  mesos__v1__agent_id__init(&p->aid);
  p->aid.value = (char *)agent_id;
  mesos__v1__agent_info__init(&p->info);
  p->info.hostname = "rereg5-host";
  p->info.id = &p->aid;
  p->info.n_resources = 2;
  p->info.resources = p->arp;
  mesos__v1__framework_id__init(&p->fid);
  p->fid.value = "fw-1";
  mesos__v1__framework_info__init(&p->fi);
  p->fi.id = &p->fid;
  p->fi.user = "bench";
  p->fi.name = "rereg5";
  p->fip = &p->fi;
  mesos__v1__labels__init(&p->labels);
  mesos__v1__label__init(&p->label);
  p->label.key = "k";
  p->label.value = "v";
  p->labelp = &p->label;
  p->labels.n_labels = 1;
  p->labels.labels = &p->labelp;
  for (size_t i = 0; i < 5; i++) {
    Mesos__V1__Task *t = &p->t[i];
    mesos__v1__task__init(t);
    mesos__v1__task_id__init(&p->tid[i]);
    mesos__v1__executor_id__init(&p->eid[i]);
    snprintf(p->names[i], sizeof p->names[i], "rr5-task-%zu", i);
    p->tid[i].value = p->names[i];
    p->eid[i].value = p->names[i];
    t->name = p->names[i];
    t->task_id = &p->tid[i];
    t->framework_id = &p->fid;
    t->agent_id = &p->aid;
    t->executor_id = &p->eid[i];
    t->state = MESOS__V1__TASK_STATE__TASK_RUNNING;
    t->n_resources = 2;
    t->resources = p->rp;
    p->tp[i] = t;
  }
  p->t[3].labels = &p->labels;
  p->t[4].state = MESOS__V1__TASK_STATE__TASK_FINISHED;
  p->t[4].has_status_update_state = 1;
  p->t[4].status_update_state = MESOS__V1__TASK_STATE__TASK_FINISHED;
  p->t[4].user = "alice";
  p->t[4].n_resources = 3;
  mesos__internal__reregister_agent__init(&p->rr);
  p->rr.agent = &p->info;
  p->rr.tasks = p->tp;
  p->rr.n_tasks = n;
  p->rr.frameworks = &p->fip;
  p->rr.n_frameworks = 1;
  mesos__internal__agent_call__init(&p->call);
  p->call.protocol_version = 1;
  p->call.has_type = 1;
  p->call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__REREGISTER;
  p->call.agent_id = &p->aid;
  p->call.reregister_agent = &p->rr;
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len) {
  uint8_t *b = NULL;
  ck_assert_int_eq(mesos__pb_pack(m, 0, &b, len, NULL), MESOS_OK);
  return b;
}

/* Bytes of `m` with task `ti`'s first resource replaced by a malformed one
 * (a name claiming more bytes than its resource holds) of the same size,
 * so every enclosing length stays right. */
static uint8_t *pack_with_bad_resource(call_parts *p, size_t ti, size_t *len) {
  uint8_t *b = pack(&p->call.base, len);
  size_t rlen = protobuf_c_message_get_packed_size(&p->r[0].base);
  uint8_t *rb = malloc(rlen);
  protobuf_c_message_pack(&p->r[0].base, rb);
  /* The task's bytes come in order; find its first resource's bytes
   * after its task id. */
  uint8_t *at = memmem(b, *len, p->names[ti], strlen(p->names[ti]));
  ck_assert_ptr_nonnull(at);
  uint8_t *res = memmem(at, *len - (size_t)(at - b), rb, rlen);
  ck_assert_ptr_nonnull(res);
  ck_assert_int_eq(res[0], 0x0a); /* name = 1, length-delimited */
  res[1] = (uint8_t)(rlen + 5);   /* past the end of the resource */
  free(rb);
  return b;
}

static void assert_same(const ProtobufCMessage *a, const ProtobufCMessage *b) {
  size_t la = 0, lb = 0;
  uint8_t *x = pack(a, &la), *y = pack(b, &lb);
  ck_assert_uint_eq(la, lb);
  ck_assert_msg(memcmp(x, y, la) == 0, "the fast decoder's message differs from protobuf-c's");
  mesos__free(x);
  mesos__free(y);
}

START_TEST(test_reregister5__fast_decoder_equals_protobuf_c) {
  call_parts p;
  make_call(&p, "M-S7", 5);
  p.call.has_connection_id = 1;
  p.call.connection_id = 42;
  size_t len = 0;
  int64_t live = mesos__alloc_live();
  uint8_t *b = pack(&p.call.base, &len);
  ProtobufCMessage *fast = mesos__pb_agent_call_reregister(b, len), *slow = NULL;
  ck_assert_ptr_nonnull(fast);
  ck_assert_int_eq(mesos__pb_unpack_arena(&mesos__internal__agent_call__descriptor, b, len, 0, 0,
                                          &slow, NULL),
                   MESOS_OK);
  assert_same(fast, slow);
  const Mesos__Internal__ReregisterAgent *rr = ((Mesos__Internal__AgentCall *)fast)->reregister_agent;
  ck_assert_uint_eq(rr->n_tasks, 5);
  /* Alike tasks share one decoded resource list; others have their own. */
  ck_assert_ptr_eq(rr->tasks[0]->resources, rr->tasks[1]->resources);
  ck_assert_ptr_eq(rr->tasks[1]->resources, rr->tasks[2]->resources);
  ck_assert_ptr_ne(rr->tasks[4]->resources, rr->tasks[0]->resources);
  ck_assert_uint_eq(rr->tasks[4]->n_resources, 3);
  ck_assert_str_eq(rr->tasks[4]->user, "alice");
  ck_assert(rr->tasks[4]->has_status_update_state);
  ck_assert_ptr_nonnull(rr->tasks[3]->labels); /* the unusual one, by protobuf-c */
  ck_assert_str_eq(rr->tasks[3]->labels->labels[0]->key, "k");
  mesos__pb_free(fast);
  mesos__pb_free(slow);

  /* Declined: truncated bytes, another call type, a malformed resource
   * inside a task, an empty body; nothing is kept. */
  ck_assert_ptr_null(mesos__pb_agent_call_reregister(b, len - 1));
  ck_assert_ptr_null(mesos__pb_agent_call_reregister(b, 0));
  mesos__free(b);
  size_t blen = 0;
  uint8_t *bad = pack_with_bad_resource(&p, 1, &blen);
  ck_assert_ptr_null(mesos__pb_agent_call_reregister(bad, blen));
  ck_assert_int_ne(mesos__pb_unpack_arena(&mesos__internal__agent_call__descriptor, bad, blen, 0,
                                          0, &slow, NULL),
                   MESOS_OK);
  mesos__free(bad);
  p.call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__PONG;
  p.call.reregister_agent = NULL;
  b = pack(&p.call.base, &len);
  ck_assert_ptr_null(mesos__pb_agent_call_reregister(b, len));
  mesos__free(b);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_reregister5__borrowed_keys_and_slab) {
  int64_t live = mesos__alloc_live();
  mesos__map m;
  mesos__map_init_borrowed(&m);
  char k1[] = "fw/one", k2[] = "fw/two", k1b[] = "fw/one";
  int v1 = 1, v2 = 2, v3 = 3;
  ck_assert_int_eq(mesos__map_put(&m, k1, &v1), MESOS_OK);
  ck_assert_int_eq(mesos__map_put(&m, k2, &v2), MESOS_OK);
  ck_assert_ptr_eq(mesos__map_get(&m, "fw/one"), &v1);
  /* The same key from another record: the entry takes the new pointer. */
  ck_assert_int_eq(mesos__map_put(&m, k1b, &v3), MESOS_OK);
  memset(k1, 'x', 6);
  ck_assert_ptr_eq(mesos__map_get(&m, "fw/one"), &v3);
  const char *key = NULL;
  size_t it = 0;
  int seen = 0;
  while (mesos__map_next(&m, &it, &key, NULL)) seen += key == k1b || key == k2;
  ck_assert_int_eq(seen, 2);
  ck_assert_ptr_eq(mesos__map_remove(&m, "fw/two"), &v2);
  ck_assert_uint_eq(mesos__map_count(&m), 1);
  mesos__map_free(&m);
  ck_assert(m.borrowed);
  /* Only the table was the map's: nothing of the keys was allocated. */
  ck_assert_int_eq(mesos__alloc_live(), live);

  mesos__slab *s = mesos__slab_new();
  ck_assert_ptr_nonnull(s);
  enum { N = 5000 };
  static char *p[N];
  for (int i = 0; i < N; i++) {
    size_t n = 8 + (size_t)(i % 250);
    p[i] = mesos__slab_alloc(s, n);
    ck_assert_ptr_nonnull(p[i]);
    int nonzero = 0;
    for (size_t k = 0; k < n; k++) nonzero |= p[i][k];
    ck_assert_int_eq(nonzero, 0);
    memset(p[i], 0xab, n);
  }
  /* Freed pieces come back zeroed for the same size class. */
  char *q = p[7];
  mesos__slab_free(s, p[7], 8 + 7);
  char *r = mesos__slab_alloc(s, 16);
#if !defined(__SANITIZE_ADDRESS__)
  ck_assert_ptr_eq(r, q); /* (with ASan every piece is its own block) */
#else
  (void)q;
#endif
  for (int k = 0; k < 16; k++) ck_assert_int_eq(r[k], 0);
  p[7] = r;
  /* Larger requests are plain allocations. */
  char *big = mesos__slab_alloc(s, 4096);
  ck_assert_ptr_nonnull(big);
  ck_assert_int_eq(big[4095], 0);
  mesos__slab_free(s, big, 4096);
  for (int i = 0; i < N; i++) mesos__slab_free(s, p[i], i == 7 ? 16 : 8 + (size_t)(i % 250));
  mesos__slab_destroy(s);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

/* ------------------------------------------------------------ a real master */

static pid_t master_pid = -1;
static int master_port;

static void teardown(void) {
  if (master_pid > 0) {
    int st = mesos_test_stop(master_pid, 3000);
    master_pid = -1;
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
  }
}

static void post(mesos_test_conn *c, const uint8_t *body, size_t len, mesos_test_response *r,
                 int read_body) {
  ck_assert_int_eq(mesos_test_conn_open(c, master_port), 0);
  ck_assert_int_eq(mesos_test_conn_request(c, "POST", "/api/v1/agent", "application/x-protobuf",
                                           "Accept: application/x-protobuf\r\n",
                                           (const char *)body, len),
                   0);
  ck_assert_int_eq(mesos_test_conn_response(c, r, read_body, 5000), 0);
}

static char *state(void) {
  mesos_test_response r;
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(mesos_test_http(master_port, "GET", "/state", NULL, NULL, NULL, &r), 0);
  ck_assert_int_eq(r.status, 200);
  char *body = r.body;
  r.body = NULL;
  mesos_test_response_free(&r);
  return body;
}

/* `extra`: one more flag, or NULL. */
static void start_master_with(const char *extra) {
  char path[4096], port_arg[64];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  char *argv[] = {path, "--ip=127.0.0.1", port_arg, "--allocation_interval=50ms",
                  "--logging_level=WARNING", (char *)extra, NULL};
  master_pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(master_port, "/health", 5000), "master did not come up");
}

static void start_master(void) { start_master_with(NULL); }

START_TEST(test_reregister5__malformed_task_is_400_and_changes_nothing) {
  start_master();

  call_parts p;
  make_call(&p, "rereg5-S1", 5);
  size_t len = 0;
  /* The last task's resource is bad: the four before it decode first. */
  uint8_t *bad = pack_with_bad_resource(&p, 4, &len);
  mesos_test_conn c;
  mesos_test_response r;
  memset(&r, 0, sizeof r);
  post(&c, bad, len, &r, 1);
  ck_assert_int_eq(r.status, 400);
  ck_assert_msg(r.body && strstr(r.body, "Failed to parse body into AgentCall"), "body: %s",
                r.body ? r.body : "");
  mesos_test_response_free(&r);
  mesos_test_conn_close(&c);
  mesos__free(bad);
  char *s = state();
  ck_assert_msg(strstr(s, "rereg5-host") == NULL && strstr(s, "rr5-task-") == NULL &&
                    strstr(s, "rereg5\"") == NULL,
                "a refused call left something: %s", s);
  free(s);

  /* Well-formed, the same call re-registers the agent with its tasks. */
  uint8_t *good = pack(&p.call.base, &len);
  memset(&r, 0, sizeof r);
  post(&c, good, len, &r, 0);
  ck_assert_int_eq(r.status, 200);
  char *rec = NULL;
  ck_assert_int_gt(mesos_test_conn_next_record(&c, &rec, 5000), 0); /* REREGISTERED */
  free(rec);
  mesos_test_response_free(&r);
  mesos__free(good);
  s = state();
  ck_assert_msg(strstr(s, "rereg5-host") != NULL, "agent missing: %s", s);
  for (int i = 0; i < 5; i++) {
    char name[32];
    snprintf(name, sizeof name, "\"rr5-task-%d\"", i);
    ck_assert_msg(strstr(s, name) != NULL, "task %d missing: %s", i, s);
  }
  ck_assert_msg(strstr(s, "\"alice\"") != NULL, "task 4's user missing");
  free(s);
  mesos_test_conn_close(&c);
}
END_TEST

/* SHUTDOWN and REQUEST (issue 4's call list): without their member a 400
 * naming it; well-formed, 202 (REQUEST is the allocator's to use, and the
 * built-in one ignores it, as Mesos's; SHUTDOWN of an executor the agent
 * does not run is the agent's to ignore); the framework's offer is still
 * there and launches afterwards. */
START_TEST(test_reregister5__shutdown_and_request_calls) {
  start_master();
  mesos_sim_agent *agent = mesos_sim_agent_start(master_port, "rr5-calls", 4, 4096, 0);
  ck_assert_ptr_nonnull(agent);
  sim_fw f;
  sim_fw_subscribe(&f, master_port, "\"user\":\"nobody\",\"name\":\"rr5-calls\"");
  char offer[160], agent_id[160];
  sim_fw_wait_offer_min(&f, "rr5-calls", 0.5, 64, offer, agent_id, sizeof offer);
  char body[1024];
  ck_assert_int_eq(sim_fw_call_body(&f, body, sizeof body,
                                    "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"SHUTDOWN\"}",
                                    f.id),
                   400);
  ck_assert_msg(strstr(body, "Expecting 'shutdown' to be present"), "body: %s", body);
  ck_assert_int_eq(sim_fw_call_body(&f, body, sizeof body,
                                    "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"REQUEST\"}",
                                    f.id),
                   400);
  ck_assert_msg(strstr(body, "Expecting 'request' to be present"), "body: %s", body);
  ck_assert_int_eq(sim_fw_call(&f,
                               "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"REQUEST\","
                               "\"request\":{\"requests\":[{\"agent_id\":{\"value\":\"%s\"}}]}}",
                               f.id, agent_id),
                   202);
  ck_assert_int_eq(sim_fw_call(&f,
                               "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"SHUTDOWN\","
                               "\"shutdown\":{\"executor_id\":{\"value\":\"no-such\"},"
                               "\"agent_id\":{\"value\":\"%s\"}}}",
                               f.id, agent_id),
                   202);
  sim_fw_launch(&f, offer, agent_id, "rr5-after", NULL, 32, "true");
  free(sim_fw_expect_update(&f, "rr5-after", "TASK_RUNNING", 10000));
  sim_fw_close(&f);
  mesos_sim_agent_stop(agent);
}
END_TEST

/* --offer_timeout: an offer left unanswered is rescinded (RESCIND naming
 * it) and its resources are offered again in a new offer. */
START_TEST(test_reregister5__offer_timeout_rescinds_unanswered_offers) {
  start_master_with("--offer_timeout=300ms");
  mesos_sim_agent *agent = mesos_sim_agent_start(master_port, "rr5-timeout", 2, 1024, 0);
  ck_assert_ptr_nonnull(agent);
  sim_fw f;
  sim_fw_subscribe(&f, master_port, "\"user\":\"nobody\",\"name\":\"rr5-timeout\"");
  char offer[160], agent_id[160];
  sim_fw_wait_offer(&f, "rr5-timeout", offer, agent_id, sizeof offer);
  char *rec = sim_fw_next_strict(&f, "\"type\":\"RESCIND\"", 10000);
  ck_assert_msg(rec && strstr(rec, offer), "no RESCIND of %s: %s", offer, rec ? rec : "");
  free(rec);
  char again[160], agent2[160];
  sim_fw_wait_offer(&f, "rr5-timeout", again, agent2, sizeof again);
  ck_assert_str_ne(again, offer);
  ck_assert_str_eq(agent2, agent_id);
  sim_fw_close(&f);
  mesos_sim_agent_stop(agent);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("master_reregister5");
  TCase *tc = tcase_create("decoder");
  tcase_add_test(tc, test_reregister5__fast_decoder_equals_protobuf_c);
  tcase_add_test(tc, test_reregister5__borrowed_keys_and_slab);
  suite_add_tcase(s, tc);
  tc = tcase_create("master");
  tcase_set_timeout(tc, 30);
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_test(tc, test_reregister5__malformed_task_is_400_and_changes_nothing);
  tcase_add_test(tc, test_reregister5__shutdown_and_request_calls);
  tcase_add_test(tc, test_reregister5__offer_timeout_rescinds_unanswered_offers);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
