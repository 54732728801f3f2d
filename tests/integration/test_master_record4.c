/*
 * The master's compact task record (lib/master/task_body.{c,h}) and the
 * ExecutorInfo comparison, in a master running in this process:
 *  - tasks with the same resources share one resources bag and one
 *    resource list; their framework id, agent id and user are shared
 *    pieces too; each task's view is the Task message it was made from
 *    (ids, name, executor, resources, user, state fields); once the tasks
 *    are gone, nothing shared is left;
 *  - a task with more than the usual fields (labels, a kill policy, a
 *    status update uuid) keeps it all: its view packs to the same bytes;
 *  - an adopted task names the agent that reported it, whatever it says;
 *  - an executor's resources are compared as a set: reordered or split
 *    resources are the same executor; other quantities are not.
 * (A body parked while a state render pins it is covered by
 * test_master_state's render-during-mutations test, under ASan too.)
 */
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "codec/pb.h"
#include "master/master_int.h"
#include "master/operator_int.h"
#include "resources/resources_int.h"
#include "support/testutil.h"

static mesos_loop *loop;
static mesos_master *m;
static mesos__framework *fw;
static mesos__agent *agents[2];

static mesos_resources *parse_res(const char *text) {
  mesos_resources *r = NULL;
  ck_assert_int_eq(mesos_resources_new(&r, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__resources_parse(&r->r, text, NULL, NULL), MESOS_OK);
  return r;
}

static mesos__agent *add_agent(const char *id) {
  mesos__agent *a = MESOS__NEW(mesos__agent);
  ck_assert_ptr_nonnull(a);
  a->master = m;
  a->id = mesos__strdup(id);
  Mesos__V1__AgentInfo info = MESOS__V1__AGENT_INFO__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = a->id;
  info.id = &aid;
  info.hostname = "host";
  ProtobufCMessage *copy = NULL;
  ck_assert_int_eq(mesos__pb_clone_compact(&info.base, &copy, NULL), MESOS_OK);
  a->info = (Mesos__V1__AgentInfo *)copy;
  a->total = parse_res("cpus:8;mem:4096");
  ck_assert_int_eq(mesos__map_put(&m->agents, a->id, a), MESOS_OK);
  return a;
}

static void setup(void) {
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  char *argv[] = {"test", "--ip=127.0.0.1", "--port=0", "--logging_level=WARNING",
                  "--allocation_interval=1hrs", NULL};
  mesos_master_flags *flags = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_master_flags_parse(&flags, 5, argv, NULL, &err), &err);
  ck_assert_mesos_ok(mesos_master_new(&m, loop, NULL, flags, &err), &err);
  mesos_master_flags_free(flags);
  Mesos__V1__FrameworkInfo fi = MESOS__V1__FRAMEWORK_INFO__INIT;
  fi.user = "alice";
  fi.name = "records";
  ck_assert_int_eq(mesos__framework_new(&fw, m, "fw-1", &fi), MESOS_OK);
  agents[0] = add_agent("agent-A");
  agents[1] = add_agent("agent-B");
}

static void teardown(void) {
  mesos_master_free(m);
  m = NULL;
  mesos_loop_free(loop);
  loop = NULL;
}

/* A TaskInfo of `id` with resources `res` (text), run as `user` (NULL:
 * the framework's user) by its own command executor. */
static mesos__task *launch(mesos__agent *a, const char *id, const char *res, const char *user,
                           Mesos__V1__Labels *labels) {
  mesos_resources *r = parse_res(res);
  Mesos__V1__Resource **protos = NULL;
  size_t n = 0;
  ck_assert_int_eq(mesos__resources_to_protos(&r->r, &protos, &n, NULL), MESOS_OK);
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  tid.value = (char *)id;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = a->id;
  Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
  cmd.value = "sleep 1000";
  cmd.user = (char *)user;
  Mesos__V1__TaskInfo ti = MESOS__V1__TASK_INFO__INIT;
  ti.name = "same name";
  ti.task_id = &tid;
  ti.agent_id = &aid;
  ti.command = &cmd;
  ti.n_resources = n;
  ti.resources = protos;
  ti.labels = labels;
  mesos__task *t = NULL;
  ck_assert_int_eq(mesos__task_new(&t, fw, a, &ti, "*", r), MESOS_OK);
  for (size_t i = 0; i < n; i++) mesos__pb_free(protos[i]);
  mesos__free(protos);
  mesos_resources_free(r);
  return t;
}

START_TEST(test_record4__usual_tasks_share_what_is_the_same) {
  size_t before = mesos__interns_count(m);
  mesos__task *t1 = launch(agents[0], "t1", "cpus:0.1;mem:32", NULL, NULL);
  mesos__task *t2 = launch(agents[1], "t2", "cpus:0.1;mem:32", NULL, NULL);
  mesos__task *t3 = launch(agents[0], "t3", "cpus:0.2;mem:32", "bob", NULL);
  /* Compact bodies (no whole Task message), one bag per resource list. */
  ck_assert_ptr_null(t1->body->full);
  ck_assert_ptr_null(t3->body->full);
  ck_assert(t1->res_shared && t2->res_shared);
  ck_assert_ptr_eq(t1->resources, t2->resources);
  ck_assert_ptr_ne(t1->resources, t3->resources);
  ck_assert_ptr_eq(t1->body->res, t2->body->res);
  ck_assert_ptr_eq(t1->body->fid, t3->body->fid);
  ck_assert_ptr_eq(t1->body->aid, t3->body->aid);
  ck_assert_ptr_ne(t1->body->aid, t2->body->aid);
  ck_assert_ptr_eq(t1->role, t3->role);
  /* The views are the tasks as launched. */
  Mesos__V1__Task v;
  mesos__task_view(t2, &v);
  ck_assert_str_eq(v.task_id->value, "t2");
  ck_assert_str_eq(v.name, "same name");
  ck_assert_str_eq(v.framework_id->value, "fw-1");
  ck_assert_str_eq(v.agent_id->value, "agent-B");
  ck_assert_ptr_null(v.executor_id);
  ck_assert_str_eq(v.user, "alice");
  ck_assert_int_eq(v.state, MESOS__V1__TASK_STATE__TASK_STAGING);
  ck_assert(!v.has_status_update_state);
  ck_assert_uint_eq(v.n_resources, 2);
  mesos__task_view(t3, &v);
  ck_assert_str_eq(v.user, "bob");
  /* State fields come from the task, not the body. */
  t1->state = MESOS__V1__TASK_STATE__TASK_RUNNING;
  t1->has_su_state = 1;
  t1->su_state = MESOS__V1__TASK_STATE__TASK_RUNNING;
  Mesos__V1__Task *copy = mesos__task_to_proto(t1);
  ck_assert_ptr_nonnull(copy);
  ck_assert_int_eq(copy->state, MESOS__V1__TASK_STATE__TASK_RUNNING);
  ck_assert(copy->has_status_update_state);
  ck_assert_str_eq(copy->resources[0]->name, "cpus");
  mesos__pb_free(copy);
  ck_assert_uint_gt(mesos__interns_count(m), before);
  t1->released = t2->released = t3->released = 1;
  mesos__task_free(t1);
  mesos__task_free(t2);
  mesos__task_free(t3);
  /* The completed tasks are copies: nothing shared is left. */
  ck_assert_uint_eq(mesos__interns_count(m), before);
}
END_TEST

START_TEST(test_record4__unusual_tasks_keep_everything) {
  Mesos__V1__Labels ls = MESOS__V1__LABELS__INIT;
  Mesos__V1__Label l = MESOS__V1__LABEL__INIT, *lp[1] = {&l};
  l.key = "tier";
  l.value = "front";
  ls.labels = lp;
  ls.n_labels = 1;
  mesos__task *t = launch(agents[0], "labelled", "cpus:0.1;mem:32", NULL, &ls);
  ck_assert_ptr_nonnull(t->body->full);
  ck_assert(!t->res_shared);
  Mesos__V1__Task v;
  mesos__task_view(t, &v);
  ck_assert_ptr_nonnull(v.labels);
  ck_assert_str_eq(v.labels->labels[0]->value, "front");
  ck_assert_str_eq(v.agent_id->value, "agent-A");
  ck_assert_str_eq(mesos__task_user(t), "alice");
  /* A re-registering agent's task with a status update uuid, reported
   * under another agent's id: adopted as is, naming this agent. */
  Mesos__V1__Task rt = v;
  uint8_t uuid[16] = {1, 2, 3};
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  tid.value = "adopted";
  Mesos__V1__AgentID other = MESOS__V1__AGENT_ID__INIT;
  other.value = "agent-A";
  rt.task_id = &tid;
  rt.agent_id = &other;
  rt.labels = NULL;
  rt.has_status_update_uuid = 1;
  rt.status_update_uuid.data = uuid;
  rt.status_update_uuid.len = sizeof uuid;
  rt.state = MESOS__V1__TASK_STATE__TASK_RUNNING;
  rt.has_status_update_state = 1;
  rt.status_update_state = MESOS__V1__TASK_STATE__TASK_STARTING;
  mesos__task *a = NULL;
  ck_assert_int_eq(mesos__task_adopt(&a, fw, agents[1], &rt, "*"), MESOS_OK);
  ck_assert_ptr_nonnull(a->body->full);
  Mesos__V1__Task av;
  mesos__task_view(a, &av);
  ck_assert_str_eq(av.agent_id->value, "agent-B");
  ck_assert_int_eq(av.state, MESOS__V1__TASK_STATE__TASK_RUNNING);
  ck_assert_int_eq(av.status_update_state, MESOS__V1__TASK_STATE__TASK_STARTING);
  ck_assert(av.has_status_update_uuid && av.status_update_uuid.len == 16 &&
            av.status_update_uuid.data[2] == 3);
  /* Its resources are a bag of its own with the agent's resources. */
  ck_assert(!a->res_shared);
  ck_assert_int_eq(mesos__resources_scalar_milli(&a->resources->r, "cpus"), 100);
  /* Same bytes as the message it came from, agent aside. */
  rt.agent_id = av.agent_id;
  uint8_t *x = NULL, *y = NULL;
  size_t xl = 0, yl = 0;
  ck_assert_int_eq(mesos__pb_pack(&rt.base, 0, &x, &xl, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__pb_pack(&av.base, 0, &y, &yl, NULL), MESOS_OK);
  ck_assert(xl == yl && memcmp(x, y, xl) == 0);
  mesos__free(x);
  mesos__free(y);
  t->released = a->released = 1;
  mesos__task_free(t);
  mesos__task_free(a);
}
END_TEST

static Mesos__V1__Resource *scalar(Mesos__V1__Resource *r, Mesos__V1__Value__Scalar *s,
                                   const char *name, double v) {
  mesos__v1__resource__init(r);
  mesos__v1__value__scalar__init(s);
  r->name = (char *)name;
  r->type = MESOS__V1__VALUE__TYPE__SCALAR;
  s->value = v;
  r->scalar = s;
  return r;
}

START_TEST(test_record4__executor_resources_compare_as_a_set) {
  Mesos__V1__ExecutorInfo ei = MESOS__V1__EXECUTOR_INFO__INIT;
  Mesos__V1__ExecutorID eid = MESOS__V1__EXECUTOR_ID__INIT;
  Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
  Mesos__V1__Resource r[4];
  Mesos__V1__Value__Scalar s[4];
  Mesos__V1__Resource *v[4];
  eid.value = "e1";
  cmd.value = "run-one";
  ei.executor_id = &eid;
  ei.command = &cmd;
  v[0] = scalar(&r[0], &s[0], "cpus", 0.2);
  v[1] = scalar(&r[1], &s[1], "mem", 32);
  ei.resources = v;
  ei.n_resources = 2;
  mesos__agent_add_executor(agents[0], fw->id, &ei);
  char why[4096];
  ck_assert(!mesos__agent_executor_mismatch(agents[0], fw->id, &ei, why, sizeof why));
  /* Reordered. */
  v[0] = &r[1];
  v[1] = &r[0];
  ck_assert(!mesos__agent_executor_mismatch(agents[0], fw->id, &ei, why, sizeof why));
  /* Split: cpus 0.1 + 0.1 is cpus 0.2. */
  v[0] = scalar(&r[2], &s[2], "cpus", 0.1);
  v[1] = scalar(&r[3], &s[3], "cpus", 0.1);
  v[2] = &r[1];
  ei.n_resources = 3;
  ck_assert(!mesos__agent_executor_mismatch(agents[0], fw->id, &ei, why, sizeof why));
  /* More cpus, or a missing resource, or another command: different. */
  s[3].value = 0.2;
  ck_assert(mesos__agent_executor_mismatch(agents[0], fw->id, &ei, why, sizeof why));
  ck_assert_ptr_nonnull(strstr(why, "ExecutorInfo is not compatible"));
  s[3].value = 0.1;
  ei.n_resources = 2;
  ck_assert(mesos__agent_executor_mismatch(agents[0], fw->id, &ei, why, sizeof why));
  ei.n_resources = 3;
  cmd.value = "run-two";
  ck_assert(mesos__agent_executor_mismatch(agents[0], fw->id, &ei, why, sizeof why));
}
END_TEST

int main(void) {
  Suite *s = suite_create("master_record4");
  TCase *tc = tcase_create("record");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_record4__usual_tasks_share_what_is_the_same);
  tcase_add_test(tc, test_record4__unusual_tasks_keep_everything);
  tcase_add_test(tc, test_record4__executor_resources_compare_as_a_set);
  suite_add_tcase(s, tc);
  return mesos_test_main(s);
}
