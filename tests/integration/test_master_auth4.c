/*
 * Authorization on the real daemons, issue 8's last gaps:
 *
 *  - VIEW_ROLE on role-tagged resources.  An agent with resources
 *    reserved to roleA and roleB and a framework of roleB running a task
 *    and holding offers; principal "alice" may view roleA only, "ops"
 *    every role.  For alice, roleB disappears from what the master says
 *    of the agent in GET_AGENTS and GET_STATE (JSON and protobuf), the
 *    operator SUBSCRIBED snapshot, /state and /slaves (reserved_resources
 *    keyed by role), and from the agent's own /state and GET_AGENT; what
 *    roleB's framework is allocated and offered is left out of the
 *    agent's allocated_resources and offered_resources.  ops sees it all.
 *  - Mesos 1.0's remove_quotas ACLs: a quota is removed by whom they allow
 *    for the principal that set it, also after a master restart.
 *  - With a vendor authorizer that answers late (support/late_authz.h, an
 *    in-process master): a replayed call is decoded and counted once; a
 *    call needing several decisions asks them together (one replay).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authz/authz_int.h"
#include "master/master_int.h"
#include "mesos/authn.h"
#include "mesos/mesos.h"
#include "support/cluster.h"
#include "support/daemon.h"
#include "support/late_authz.h"
#include "support/sim_fw.h"
#include "support/sim_raw_agent.h"
#include "support/testutil.h"

static mesos_test_cluster cl; /* master, agent, directory: support/cluster.h */

static void make_base(void) { mesos_test_cluster_make_base(&cl, "/tmp/mesos-master-auth4"); }
static void remove_base(void) { mesos_test_cluster_remove_base(&cl); }

static void write_file(const char *name, const char *text) {
  char p[400];
  snprintf(p, sizeof p, "%s/%s", cl.base_dir, name);
  FILE *f = fopen(p, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  ck_assert_int_eq(chmod(p, 0600), 0);
}

static const char CREDS[] =
    "{\"credentials\": [{\"principal\": \"ops\", \"secret\": \"opspw\"},"
    " {\"principal\": \"alice\", \"secret\": \"alicepw\"}]}";

/* alice may view roleA and nothing else; everyone else everything
 * (permissive). */
static const char VIEW_ROLE_ACLS[] =
    "{\"view_roles\": ["
    " {\"principals\": {\"values\": [\"alice\"]}, \"roles\": {\"values\": [\"roleA\"]}},"
    " {\"principals\": {\"values\": [\"alice\"]}, \"roles\": {\"type\": \"NONE\"}}]}";

/* A request as `who` (secret "<who>pw") with an optional Accept; the
 * response (the caller frees it). */
static void request_as(int port, const char *who, const char *method, const char *path,
                       const char *accept, const char *body, mesos_test_response *r) {
  char hdr[600] = "";
  size_t off = 0;
  if (who) {
    char secret[64], *h = NULL;
    snprintf(secret, sizeof secret, "%spw", who);
    ck_assert_int_eq(mesos_basic_auth_encode(who, secret, &h, NULL), MESOS_OK);
    off += (size_t)snprintf(hdr, sizeof hdr, "Authorization: %s\r\n", h);
    mesos_free(h);
  }
  if (accept) snprintf(hdr + off, sizeof hdr - off, "Accept: %s\r\n", accept);
  ck_assert_int_eq(mesos_test_http(port, method, path, body ? "application/json" : NULL, hdr,
                                   body, r),
                   0);
  ck_assert_msg(r->status == 200, "%s %s as %s: %d %s", method, path, who ? who : "-",
                r->status, r->body ? r->body : "");
}

static int has(const mesos_test_response *r, const char *needle) {
  return r->body && memmem(r->body, r->body_len, needle, strlen(needle)) != NULL;
}

/* The bytes of r's body from `from` (or the start) up to `to` (or the
 * end), as a new string: one section of a JSON document. */
static char *section(const mesos_test_response *r, const char *from, const char *to) {
  ck_assert_ptr_nonnull(r->body);
  const char *b = from ? strstr(r->body, from) : r->body;
  ck_assert_msg(b != NULL, "%s not in %s", from, r->body);
  const char *e = to ? strstr(b, to) : NULL;
  size_t n = e ? (size_t)(e - b) : strlen(b);
  char *s = malloc(n + 1);
  ck_assert_ptr_nonnull(s);
  memcpy(s, b, n);
  s[n] = '\0';
  return s;
}

/* Whether the section of `who`'s answer names roleB / roleA. */
static void expect_section(int port, const char *who, const char *method, const char *path,
                           const char *accept, const char *body, const char *from,
                           const char *to, int role_b) {
  mesos_test_response r;
  request_as(port, who, method, path, accept, body, &r);
  if (accept) { /* protobuf: the role names are bytes of the message */
    ck_assert_msg(has(&r, "roleB") == role_b, "%s %s (protobuf) as %s: roleB %s", method, path,
                  who, role_b ? "missing" : "shown");
    ck_assert_msg(has(&r, "roleA"), "%s %s (protobuf) as %s: roleA missing", method, path, who);
  } else {
    char *s = section(&r, from, to);
    ck_assert_msg((strstr(s, "roleB") != NULL) == role_b, "%s %s as %s: roleB %s in %s",
                  method, path, who, role_b ? "missing" : "shown", s);
    ck_assert_msg(strstr(s, "roleA") != NULL, "%s %s as %s: roleA missing in %s", method, path,
                  who, s);
    free(s);
  }
  mesos_test_response_free(&r);
}

/* The first record of an operator SUBSCRIBE as `who`: the SUBSCRIBED
 * event (its agents' part). */
static void expect_subscribed(int port, const char *who, int role_b) {
  mesos_test_conn c;
  ck_assert_int_eq(mesos_test_conn_open(&c, port), 0);
  char hdr[300], secret[64], *h = NULL;
  snprintf(secret, sizeof secret, "%spw", who);
  ck_assert_int_eq(mesos_basic_auth_encode(who, secret, &h, NULL), MESOS_OK);
  snprintf(hdr, sizeof hdr, "Authorization: %s\r\nAccept: application/json\r\n", h);
  mesos_free(h);
  const char *body = "{\"type\":\"SUBSCRIBE\"}";
  ck_assert_int_eq(mesos_test_conn_request(&c, "POST", "/api/v1", "application/json", hdr, body,
                                           strlen(body)),
                   0);
  mesos_test_response r;
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(mesos_test_conn_response(&c, &r, 0, 10000), 0);
  ck_assert_int_eq(r.status, 200);
  char *rec = NULL;
  ck_assert_int_gt(mesos_test_conn_next_record(&c, &rec, 10000), 0);
  const char *agents = strstr(rec, "\"get_agents\"");
  ck_assert_msg(agents != NULL, "no agents in %s", rec);
  ck_assert_msg((strstr(agents, "roleB") != NULL) == role_b, "SUBSCRIBED as %s: roleB %s in %s",
                who, role_b ? "missing" : "shown", agents);
  ck_assert_msg(strstr(agents, "roleA") != NULL, "SUBSCRIBED as %s: roleA missing", who);
  free(rec);
  mesos_test_response_free(&r);
  mesos_test_conn_close(&c);
}

START_TEST(test_master_auth4__view_role_hides_resources_of_roles_not_viewable) {
  write_file("creds", CREDS);
  write_file("acls", VIEW_ROLE_ACLS);
  char creds[400], acls[400], hcreds[400];
  snprintf(creds, sizeof creds, "--credentials=%s/creds", cl.base_dir);
  snprintf(hcreds, sizeof hcreds, "--http_credentials=%s/creds", cl.base_dir);
  snprintf(acls, sizeof acls, "--acls=%s/acls", cl.base_dir);
  char *mflags[] = {creds, acls, NULL};
  mesos_test_cluster_start_master(&cl, mflags);
  /* This agent has resources reserved to both roles. */
  cl.agent_resources = "cpus(roleA):1;cpus(roleB):1;cpus:2;mem(roleB):64;mem:512;"
                       "disk:256;ports:[31000-31100]";
  char *aflags[] = {hcreds, acls, NULL};
  mesos_test_cluster_start_agent(&cl, "agent", NULL, aflags);

  /* A framework of roleB: a task running (allocated to roleB) and the
   * rest of the agent offered to it. */
  sim_fw f;
  sim_fw_subscribe(&f, cl.master_port,
                   "\"user\":\"nobody\",\"name\":\"tenant b\",\"role\":\"roleB\"");
  char offer[160], agent[160];
  sim_fw_wait_offer_min(&f, "agent-test", 0.5, 32, offer, agent, sizeof offer);
  sim_fw_launch(&f, offer, agent, "b-task", NULL, 32, "sleep 1000");
  free(sim_fw_expect_update(&f, "b-task", "TASK_STARTING", 10000));
  free(sim_fw_expect_update(&f, "b-task", "TASK_RUNNING", 10000));
  char unused[160];
  sim_fw_wait_offer(&f, "agent-test", offer, unused, sizeof offer);

  int mp = cl.master_port, ap = cl.agent_port;
  const char *pb = "application/x-protobuf";
  const char *agents = "{\"type\":\"GET_AGENTS\"}", *state = "{\"type\":\"GET_STATE\"}";
  for (int k = 0; k < 2; k++) {
    const char *who = k ? "ops" : "alice";
    int b = k; /* ops sees roleB */
    expect_section(mp, who, "POST", "/api/v1", NULL, agents, NULL, NULL, b);
    expect_section(mp, who, "POST", "/api/v1", pb, agents, NULL, NULL, b);
    /* GET_STATE: its get_agents part (tasks and frameworks name roleB
     * too: they are VIEW_TASK / VIEW_FRAMEWORK's business). */
    expect_section(mp, who, "POST", "/api/v1", NULL, state, "\"get_agents\"", NULL, b);
    expect_subscribed(mp, who, b);
    expect_section(mp, who, "GET", "/state", NULL, NULL, "\"slaves\"", "\"frameworks\"", b);
    expect_section(mp, who, "GET", "/slaves", NULL, NULL, NULL, NULL, b);
    expect_section(ap, who, "GET", "/state", NULL, NULL, "\"reserved_resources\"",
                   "\"attributes\"", b);
    expect_section(ap, who, "POST", "/api/v1", NULL, "{\"type\":\"GET_AGENT\"}", NULL, NULL, b);
  }

  /* What roleB's framework uses and is offered is not alice's to see:
   * her agent entry has no allocated or offered resources at all, ops's
   * has both. */
  mesos_test_response r;
  request_as(mp, "alice", "POST", "/api/v1", NULL, agents, &r);
  ck_assert_msg(!has(&r, "\"allocated_resources\":[{") && !has(&r, "\"offered_resources\":[{"),
                "alice sees roleB's allocation: %s", r.body);
  /* The unreserved cpus stay: 2 of them in the total. */
  ck_assert_msg(has(&r, "\"role\":\"roleA\""), "%s", r.body);
  mesos_test_response_free(&r);
  request_as(mp, "ops", "POST", "/api/v1", NULL, agents, &r);
  ck_assert_msg(has(&r, "\"allocated_resources\":[{") && has(&r, "\"offered_resources\":[{"),
                "ops misses the allocation: %s", r.body);
  mesos_test_response_free(&r);
  /* /state's reserved_resources: alice's has roleA only. */
  request_as(mp, "alice", "GET", "/slaves", NULL, NULL, &r);
  ck_assert_msg(has(&r, "\"reserved_resources\":{\"roleA\":{"), "%s", r.body);
  mesos_test_response_free(&r);

  sim_fw_call(&f, "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"TEARDOWN\"}", f.id);
  sim_fw_close(&f);
  mesos_test_cluster_stop(&cl);
}
END_TEST

/* An operator call as `who`; its status, the body in `out` (may be
 * NULL). */
static int call_as(int port, const char *who, const char *body, char *out, size_t cap) {
  char hdr[300] = "";
  if (who) {
    char secret[64], *h = NULL;
    snprintf(secret, sizeof secret, "%spw", who);
    ck_assert_int_eq(mesos_basic_auth_encode(who, secret, &h, NULL), MESOS_OK);
    snprintf(hdr, sizeof hdr, "Authorization: %s\r\n", h);
    mesos_free(h);
  }
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(port, "POST", "/api/v1", "application/json", hdr, body, &r),
                   0);
  if (out) snprintf(out, cap, "%s", r.body ? r.body : "");
  int st = r.status;
  mesos_test_response_free(&r);
  return st;
}

static int set_quota(int port, const char *who, const char *role) {
  char body[400];
  snprintf(body, sizeof body,
           "{\"type\":\"SET_QUOTA\",\"set_quota\":{\"quota_request\":{\"force\":true,"
           "\"role\":\"%s\",\"guarantee\":[{\"name\":\"cpus\",\"type\":\"SCALAR\","
           "\"scalar\":{\"value\":1}}]}}}",
           role);
  return call_as(port, who, body, NULL, 0);
}

static int remove_quota(int port, const char *who, const char *role, char *out, size_t cap) {
  char body[200];
  snprintf(body, sizeof body, "{\"type\":\"REMOVE_QUOTA\",\"remove_quota\":{\"role\":\"%s\"}}",
           role);
  return call_as(port, who, body, out, cap);
}

/* Mesos 1.0's remove_quotas: a quota may be removed by whom the rules
 * allow for the principal that set it -- alice only her own, ops any --
 * and who set a quota survives a master restart (the registry keeps it).
 * GET_QUOTA shows it as QuotaInfo.principal. */
static const char REMOVE_QUOTAS_ACLS[] =
    "{\"remove_quotas\": ["
    " {\"principals\": {\"values\": [\"ops\"]}, \"quota_principals\": {\"type\": \"ANY\"}},"
    " {\"principals\": {\"values\": [\"alice\"]}, \"quota_principals\": {\"values\": [\"alice\"]}},"
    " {\"principals\": {\"type\": \"ANY\"}, \"quota_principals\": {\"type\": \"NONE\"}}]}";

START_TEST(test_master_auth4__remove_quotas_decides_by_the_quota_setter) {
  write_file("creds", CREDS);
  write_file("acls", REMOVE_QUOTAS_ACLS);
  char creds[400], acls[400], wd[400];
  snprintf(creds, sizeof creds, "--credentials=%s/creds", cl.base_dir);
  snprintf(acls, sizeof acls, "--acls=%s/acls", cl.base_dir);
  snprintf(wd, sizeof wd, "--work_dir=%s/master", cl.base_dir);
  char *mflags[] = {creds, acls, wd, NULL};
  mesos_test_cluster_start_master(&cl, mflags);
  int mp = cl.master_port;
  char out[4096];
  ck_assert_int_eq(set_quota(mp, "alice", "roleA"), 200);
  ck_assert_int_eq(set_quota(mp, "ops", "roleB"), 200);
  ck_assert_int_eq(call_as(mp, "ops", "{\"type\":\"GET_QUOTA\"}", out, sizeof out), 200);
  ck_assert_msg(strstr(out, "\"role\":\"roleA\",\"principal\":\"alice\"") &&
                    strstr(out, "\"role\":\"roleB\",\"principal\":\"ops\""),
                "%s", out);
  /* alice may not remove ops's quota: 403 naming the rule, still there. */
  ck_assert_int_eq(remove_quota(mp, "alice", "roleB", out, sizeof out), 403);
  ck_assert_msg(strstr(out, "remove_quotas") && strstr(out, "'ops'"), "%s", out);
  /* Her own she may. */
  ck_assert_int_eq(remove_quota(mp, "alice", "roleA", out, sizeof out), 200);
  /* ops sets roleA now: after a restart alice still may not remove it. */
  ck_assert_int_eq(set_quota(mp, "ops", "roleA"), 200);
  mesos_test_cluster_stop(&cl);
  mesos_test_cluster_start_master(&cl, mflags);
  mp = cl.master_port;
  ck_assert_int_eq(remove_quota(mp, "alice", "roleA", out, sizeof out), 403);
  ck_assert_int_eq(remove_quota(mp, NULL, "roleA", out, sizeof out), 403); /* nobody: NONE */
  ck_assert_int_eq(remove_quota(mp, "ops", "roleA", out, sizeof out), 200);
  ck_assert_int_eq(remove_quota(mp, "ops", "roleB", out, sizeof out), 200);
  ck_assert_int_eq(call_as(mp, "ops", "{\"type\":\"GET_QUOTA\"}", out, sizeof out), 200);
  ck_assert_msg(strstr(out, "roleA") == NULL && strstr(out, "roleB") == NULL, "%s", out);
  mesos_test_cluster_stop(&cl);
}
END_TEST

/* ------------------------------------------------------------ late answers */

/* master/messages_operator_calls of /metrics/snapshot (asked as ops: the
 * endpoint's GET_ENDPOINT_WITH_PATH is answered late too). */
static double operator_calls(late_world *w) {
  char body[1 << 15];
  ck_assert_int_eq(late_world_get(w, LATE_AUTHZ_OPS, "/metrics/snapshot", body, sizeof body), 200);
  const char *k = strstr(body, "\"master/messages_operator_calls\":");
  ck_assert_msg(k != NULL, "%s", body);
  return strtod(k + strlen("\"master/messages_operator_calls\":"), NULL);
}

/* A request parked for a late answer is replayed once the answers are
 * in; the replay takes the call its first pass decoded and counted, so
 * the metrics count each call once and the body is decoded once. */
START_TEST(test_master_auth4__a_replayed_call_is_counted_and_decoded_once) {
  late_world w;
  late_world_start(&w, "test_master_auth4", 0);
  double before = operator_calls(&w);
  char body[4096];
  ck_assert_int_eq(late_world_call(&w, LATE_AUTHZ_OPS, "{\"type\":\"GET_FLAGS\"}", body,
                                   sizeof body),
                   200);
  ck_assert_uint_eq(mesos__auth_last_passes(w.m->auth), 2); /* parked once, replayed once */
  ck_assert_int_eq(late_world_call(&w, LATE_AUTHZ_GUEST, "{\"type\":\"GET_FLAGS\"}", body,
                                   sizeof body),
                   403);
  ck_assert_int_eq(late_world_call(&w, LATE_AUTHZ_OPS, "{\"type\":\"GET_STATE\"}", body,
                                   sizeof body),
                   200);
  /* Three calls, each replayed: three counted. */
  ck_assert_msg(operator_calls(&w) == before + 3, "counted %g, want %g", operator_calls(&w),
                before + 3);
  late_world_stop(&w);
}
END_TEST

/* A request that needs several decisions asks them all in its first pass
 * (one wait for a late authorizer, one replay), also where the later ones
 * would be moot once an earlier one is denied: an ACCEPT with three
 * operations, UPDATE_WEIGHTS of three roles, DRAIN_AGENT with mark_gone. */
START_TEST(test_master_auth4__several_decisions_take_one_replay) {
  late_world w;
  late_world_start(&w, "test_master_auth4", 0);
  sim_fw f;
  sim_fw_subscribe(&f, w.port,
                   "\"user\":\"root\",\"name\":\"late\",\"principal\":\"ops\",\"role\":\"r1\"");
  sim_raw_agent ag;
  sim_raw_agent_init(&ag, w.port, "late-agent");
  sim_raw_agent_register(&ag);
  char offer[256], agent[256];
  sim_fw_wait_offer_min(&f, "late-agent", 1, 64, offer, agent, sizeof offer);
  /* RESERVE, then two LAUNCHes (users root and daemon). */
  const char *cpus = "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.2}}";
  char call[4096];
  snprintf(call, sizeof call,
           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
           "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":["
           "{\"type\":\"RESERVE\",\"reserve\":{\"resources\":[{\"name\":\"cpus\",\"type\":"
           "\"SCALAR\",\"scalar\":{\"value\":0.2},\"reservations\":[{\"type\":\"DYNAMIC\","
           "\"role\":\"r1\",\"principal\":\"ops\"}]}]}},"
           "{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{"
           "\"value\":\"t1\"},\"agent_id\":{\"value\":\"%s\"},\"command\":{\"value\":\"true\","
           "\"user\":\"root\"},\"resources\":[%s]}]}},"
           "{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{"
           "\"value\":\"t2\"},\"agent_id\":{\"value\":\"%s\"},\"command\":{\"value\":\"true\","
           "\"user\":\"daemon\"},\"resources\":[%s]}]}}]}}",
           f.id, offer, agent, cpus, agent, cpus);
  ck_assert_int_eq(sim_fw_call(&f, "%s", call), 202);
  sim_fw_take_offer(&f, offer);
  ck_assert_uint_eq(mesos__auth_last_passes(w.m->auth), 2);
  char body[4096];
  ck_assert_int_eq(late_world_get(&w, LATE_AUTHZ_OPS, "/tasks", body, sizeof body), 200);
  ck_assert_msg(strstr(body, "\"t1\"") && strstr(body, "\"t2\""), "%s", body);
  /* Three roles' weights: asked together. */
  const char *weights = "{\"type\":\"UPDATE_WEIGHTS\",\"update_weights\":{\"weight_infos\":["
                        "{\"role\":\"a\",\"weight\":2},{\"role\":\"b\",\"weight\":2},"
                        "{\"role\":\"c\",\"weight\":2}]}}";
  ck_assert_int_eq(late_world_call(&w, LATE_AUTHZ_OPS, weights, body, sizeof body), 200);
  ck_assert_uint_eq(mesos__auth_last_passes(w.m->auth), 2);
  ck_assert_int_eq(late_world_call(&w, LATE_AUTHZ_GUEST, weights, body, sizeof body), 403);
  ck_assert_uint_eq(mesos__auth_last_passes(w.m->auth), 2);
  /* DRAIN_AGENT with mark_gone: DRAIN_AGENT and MARK_AGENT_GONE together. */
  snprintf(call, sizeof call,
           "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":\"%s\"},"
           "\"mark_gone\":true}}",
           agent);
  ck_assert_int_eq(late_world_call(&w, LATE_AUTHZ_GUEST, call, body, sizeof body), 403);
  ck_assert_uint_eq(mesos__auth_last_passes(w.m->auth), 2);
  ck_assert_msg(strstr(body, "DRAIN_AGENT") != NULL, "%s", body);
  sim_fw_close(&f);
  sim_raw_agent_close(&ag);
  late_world_stop(&w);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("master_auth4");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_unchecked_fixture(tc, make_base, remove_base);
  tcase_add_test(tc, test_master_auth4__view_role_hides_resources_of_roles_not_viewable);
  tcase_add_test(tc, test_master_auth4__remove_quotas_decides_by_the_quota_setter);
  tcase_add_test(tc, test_master_auth4__a_replayed_call_is_counted_and_decoded_once);
  tcase_add_test(tc, test_master_auth4__several_decisions_take_one_replay);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
