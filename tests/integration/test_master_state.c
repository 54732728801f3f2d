/*
 * The master's state endpoints under load (issue 6): /state is rendered
 * off the loop thread from a snapshot, requests are batched, the body is
 * streamed with back-pressure.  The master runs in this process on a loop
 * this thread drives (mesos_loop_run_once), populated through the
 * master's internal functions; clients are non-blocking sockets over
 * loopback.  Renders are held at a gate (mesos__state_test_hold), so the
 * ordering is asserted, never a timing threshold:
 *  - GET_HEALTH is answered while a /state render is provably in flight
 *    (the /state response has not even started);
 *  - concurrent /state requests share renders (batching), jsonp included;
 *  - tasks removed, evicted from the completed ring, added and changed
 *    while a render is held do not show in it: the body is the state at
 *    the moment of the request, valid JSON, and (under ASan) the evicted
 *    Task messages it still reads were not freed under it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "base/alloc.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "master/master_int.h"
#include "master/operator_int.h"
#include "resources/resources_int.h"
#include "support/testutil.h"

/* ------------------------------------------------------------ the master */

typedef struct world {
  mesos_loop *loop;
  mesos_master *m;
  mesos__framework *fws[4];
  mesos__agent *agents[8];
  mesos_resources *task_res;
} world;

static mesos__agent *add_agent(mesos_master *m, size_t i, const mesos_resources *total) {
  mesos__agent *a = MESOS__NEW(mesos__agent);
  ck_assert_ptr_nonnull(a);
  char id[128], host[64];
  snprintf(id, sizeof id, "%s-S%zu", m->id, i);
  snprintf(host, sizeof host, "agent-%zu.example.com", i);
  a->master = m;
  a->id = mesos__strdup(id);
  Mesos__V1__AgentInfo info = MESOS__V1__AGENT_INFO__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = a->id;
  info.id = &aid;
  info.hostname = host;
  uint8_t *bytes = NULL;
  size_t len = 0;
  ProtobufCMessage *copy = NULL;
  ck_assert_int_eq(mesos__pb_pack(&info.base, 0, &bytes, &len, NULL), MESOS_OK);
  ck_assert_int_eq(
      mesos__pb_unpack(&mesos__v1__agent_info__descriptor, bytes, len, 0, 0, &copy, NULL),
      MESOS_OK);
  mesos__free(bytes);
  a->info = (Mesos__V1__AgentInfo *)copy;
  ck_assert_int_eq(mesos_resources_clone(&a->total, total, NULL), MESOS_OK);
  a->registered_time = mesos__master_now();
  ck_assert_int_eq(mesos__map_put(&m->agents, a->id, a), MESOS_OK);
  return a;
}

static mesos__task *add_task(world *w, size_t f, size_t a, const char *id) {
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = w->agents[a]->id;
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  tid.value = (char *)id;
  Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
  cmd.value = "sleep 1000";
  Mesos__V1__Resource **protos = NULL;
  size_t nprotos = 0;
  ck_assert_int_eq(mesos__resources_to_protos(&w->task_res->r, &protos, &nprotos, NULL),
                   MESOS_OK);
  Mesos__V1__TaskInfo ti = MESOS__V1__TASK_INFO__INIT;
  ti.name = (char *)id;
  ti.task_id = &tid;
  ti.agent_id = &aid;
  ti.command = &cmd;
  ti.n_resources = nprotos;
  ti.resources = protos;
  mesos__task *t = NULL;
  ck_assert_int_eq(mesos__task_new(&t, w->fws[f], w->agents[a], &ti, "*", w->task_res),
                   MESOS_OK);
  for (size_t i = 0; i < nprotos; i++) mesos__pb_free(protos[i]);
  mesos__free(protos);
  t->state = MESOS__V1__TASK_STATE__TASK_RUNNING;
  return t;
}

/* Ends a task as finished and acknowledged: it joins the completed ring. */
static void finish_task(mesos__task *t) {
  t->state = MESOS__V1__TASK_STATE__TASK_FINISHED;
  t->released = 1;
  mesos__task_free(t);
}

/* 8 agents, 4 frameworks; per agent 5 running and 5 completed tasks, and
 * at most 10 completed tasks kept per framework, so finishing more evicts
 * (and frees) the oldest completed ones. */
static void world_start(world *w) {
  memset(w, 0, sizeof *w);
  ck_assert_int_eq(mesos_loop_new(&w->loop, NULL, NULL), MESOS_OK);
  char *argv[] = {"test", "--ip=127.0.0.1", "--port=0", "--max_completed_tasks_per_framework=10",
                  "--logging_level=ERROR", "--allocation_interval=1hrs", NULL};
  mesos_master_flags *flags = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_master_flags_parse(&flags, 6, argv, NULL, &err), &err);
  ck_assert_mesos_ok(mesos_master_new(&w->m, w->loop, NULL, flags, &err), &err);
  mesos_master_flags_free(flags);
  mesos_resources *total = NULL;
  ck_assert_int_eq(mesos_resources_new(&total, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__resources_parse(&total->r, "cpus:24;mem:4096;disk:4096;ports:[31000-32000]",
                                          NULL, NULL),
                   MESOS_OK);
  ck_assert_int_eq(mesos_resources_new(&w->task_res, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__resources_parse(&w->task_res->r, "cpus:0.1;mem:32", NULL, NULL),
                   MESOS_OK);
  for (size_t f = 0; f < 4; f++) {
    Mesos__V1__FrameworkInfo fi = MESOS__V1__FRAMEWORK_INFO__INIT;
    char name[64], id[128];
    snprintf(name, sizeof name, "framework-%zu", f);
    snprintf(id, sizeof id, "%s-%04zu", w->m->id, f);
    fi.user = "nobody";
    fi.name = name;
    fi.role = "*";
    ck_assert_int_eq(mesos__framework_new(&w->fws[f], w->m, id, &fi), MESOS_OK);
  }
  for (size_t a = 0; a < 8; a++) {
    w->agents[a] = add_agent(w->m, a, total);
    for (size_t j = 0; j < 10; j++) {
      char id[64];
      snprintf(id, sizeof id, "task-%zu-%zu", a, j);
      mesos__task *t = add_task(w, a % 4, a, id); /* 10 running + 10 completed each */
      if (j >= 5) finish_task(t);
    }
  }
  mesos_resources_free(total);
}

static void world_stop(world *w) {
  mesos__state_test_hold(0);
  mesos_master_free(w->m);
  mesos_resources_free(w->task_res);
  mesos_loop_free(w->loop);
}

/* ------------------------------------------------------------ clients */

typedef struct client {
  int fd;
  char *buf;
  size_t len, cap;
} client;

static void client_open(client *c, world *w) {
  memset(c, 0, sizeof *c);
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  ck_assert_int_ge(c->fd, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)mesos_master_port(w->m));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int r = connect(c->fd, (struct sockaddr *)&sa, sizeof sa);
  ck_assert(r == 0 || errno == EINPROGRESS);
  /* The listener accepts on the loop; a blocking send of a small request
   * succeeds into the socket buffer regardless. */
}

static void client_send_as(client *c, world *w, const char *method, const char *path,
                           const char *body, const char *accept) {
  char req[512];
  int n = snprintf(req, sizeof req,
                   "%s %s HTTP/1.1\r\nHost: x\r\nAccept: %s\r\n%s"
                   "Content-Length: %zu\r\n\r\n%s",
                   method, path, accept, body ? "Content-Type: application/json\r\n" : "",
                   body ? strlen(body) : 0, body ? body : "");
  size_t off = 0;
  for (int i = 0; off < (size_t)n && i < 100000; i++) {
    ssize_t r = send(c->fd, req + off, (size_t)n - off, MSG_NOSIGNAL);
    if (r > 0) off += (size_t)r;
    else mesos_loop_run_once(w->loop); /* still connecting */
  }
  ck_assert_uint_eq(off, (size_t)n);
}

static void client_send(client *c, world *w, const char *method, const char *path,
                        const char *body) {
  client_send_as(c, w, method, path, body, "application/json");
}

/* Reads what is there (never blocks). */
static void client_poll(client *c) {
  for (;;) {
    if (c->cap - c->len < 65537) {
      c->cap = c->cap ? c->cap * 2 : 1 << 20;
      c->buf = realloc(c->buf, c->cap);
      ck_assert_ptr_nonnull(c->buf);
      /* A fresh block holds whatever an earlier (freed) response left:
       * terminate it now, or client_body's strstr reads stale headers. */
      c->buf[c->len] = '\0';
    }
    ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
    if (r <= 0) break;
    c->len += (size_t)r;
    c->buf[c->len] = '\0';
  }
}

/* The body once the whole response is there (Content-Length), else NULL. */
static const char *client_body(client *c, size_t *blen) {
  if (c->buf == NULL || c->len == 0) return NULL;
  const char *hend = strstr(c->buf, "\r\n\r\n");
  if (hend == NULL) return NULL;
  const char *cl = strstr(c->buf, "Content-Length: ");
  ck_assert_msg(cl && cl < hend, "no Content-Length in %.200s", c->buf);
  size_t want = strtoull(cl + 16, NULL, 10);
  size_t have = c->len - (size_t)(hend + 4 - c->buf);
  if (have < want) return NULL;
  ck_assert_msg(have == want, "%zu bytes of body, %zu announced: %.300s", have, want, c->buf);
  *blen = want;
  return hend + 4;
}

/* Runs the loop until the response on `c` is complete (10 s at most: a
 * failure bound, not a measurement). */
static const char *client_wait(client *c, world *w, size_t *blen) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    mesos_loop_run_once(w->loop);
    client_poll(c);
    const char *b = client_body(c, blen);
    if (b) return b;
    clock_gettime(CLOCK_MONOTONIC, &t);
    ck_assert_msg(t.tv_sec - t0.tv_sec < 10, "no complete response (%zu bytes: %.200s)", c->len,
                  c->buf ? c->buf : "");
    usleep(200);
  }
}

/* Runs the loop for a while (requests get dispatched). */
static void spin(world *w, int iterations) {
  for (int i = 0; i < iterations; i++) {
    mesos_loop_run_once(w->loop);
    usleep(200);
  }
}

static void client_close(client *c) {
  close(c->fd);
  free(c->buf);
}

static yajl_val parse(const char *body, size_t len) {
  char *copy = malloc(len + 1);
  memcpy(copy, body, len);
  copy[len] = '\0';
  char err[256];
  yajl_val v = yajl_tree_parse(copy, err, sizeof err);
  free(copy);
  ck_assert_msg(v != NULL, "invalid JSON: %s", err);
  return v;
}

static yajl_val get(yajl_val v, const char *key) {
  const char *path[] = {key, NULL};
  return yajl_tree_get(v, path, yajl_t_any);
}

/* A string member ("" when absent or not a string, which the callers'
 * comparisons then fail on). */
static const char *sget(yajl_val v, const char *key) {
  yajl_val x = get(v, key);
  const char *s = YAJL_IS_STRING(x) ? YAJL_GET_STRING(x) : NULL;
  return s ? s : "";
}

/* A number member, -1 when absent or not a number. */
static double nget(yajl_val v, const char *key) {
  yajl_val x = get(v, key);
  return YAJL_IS_NUMBER(x) ? YAJL_GET_DOUBLE(x) : -1;
}

/* The agent or framework of `arr` (a /state array) whose "id" is `id`. */
static yajl_val by_id(yajl_val state, const char *arr, const char *id) {
  yajl_val a = get(state, arr);
  for (size_t i = 0; YAJL_IS_ARRAY(a) && i < a->u.array.len; i++)
    if (strcmp(sget(a->u.array.values[i], "id"), id) == 0) return a->u.array.values[i];
  return NULL;
}

/* Task ids of /state (frameworks' tasks or completed_tasks), counted; also
 * checks each id appears at most once. */
static size_t count_tasks(yajl_val state, const char *which, const char *id_to_find,
                          int *found) {
  yajl_val fws = get(state, "frameworks");
  ck_assert(YAJL_IS_ARRAY(fws));
  size_t n = 0;
  if (found) *found = 0;
  for (size_t i = 0; i < fws->u.array.len; i++) {
    yajl_val tasks = get(fws->u.array.values[i], which);
    ck_assert(YAJL_IS_ARRAY(tasks));
    for (size_t k = 0; k < tasks->u.array.len; k++) {
      ck_assert(YAJL_IS_STRING(get(tasks->u.array.values[k], "id")));
      if (found && strcmp(sget(tasks->u.array.values[k], "id"), id_to_find) == 0) (*found)++;
      n++;
    }
  }
  return n;
}

/* ------------------------------------------------------------ tests */

START_TEST(test_state__health_answered_while_a_render_is_in_flight) {
  world w;
  world_start(&w);
  size_t renders = mesos__state_test_renders(w.m);
  mesos__state_test_hold(1);
  client st, health;
  client_open(&st, &w);
  client_send(&st, &w, "GET", "/state", NULL);
  /* The snapshot is taken as the request is dispatched. */
  for (int i = 0; i < 50000 && mesos__state_test_renders(w.m) == renders; i++) spin(&w, 1);
  ck_assert_uint_eq(mesos__state_test_renders(w.m), renders + 1);
  client_open(&health, &w);
  client_send(&health, &w, "POST", "/api/v1", "{\"type\":\"GET_HEALTH\"}");
  size_t hlen = 0;
  const char *hb = client_wait(&health, &w, &hlen);
  ck_assert_msg(strstr(hb, "\"healthy\":true") != NULL, "%.*s", (int)hlen, hb);
  /* The render is still held: not a byte of /state has been sent. */
  client_poll(&st);
  ck_assert_uint_eq(st.len, 0);
  mesos__state_test_hold(0);
  size_t blen = 0;
  const char *body = client_wait(&st, &w, &blen);
  ck_assert(strncmp(st.buf, "HTTP/1.1 200", 12) == 0);
  ck_assert(strstr(st.buf, "Content-Type: application/json") != NULL);
  yajl_val v = parse(body, blen);
  ck_assert_uint_eq(get(v, "slaves")->u.array.len, 8);
  ck_assert_uint_eq(count_tasks(v, "tasks", "", NULL), 40);
  ck_assert_uint_eq(count_tasks(v, "completed_tasks", "", NULL), 40);
  yajl_tree_free(v);
  client_close(&st);
  client_close(&health);
  world_stop(&w);
}
END_TEST

START_TEST(test_state__concurrent_requests_share_renders) {
  world w;
  world_start(&w);
  size_t renders = mesos__state_test_renders(w.m);
  mesos__state_test_hold(1);
  client c[4];
  const char *paths[4] = {"/state", "/state", "/master/state?jsonp=cb_1", "/state.json"};
  for (int i = 0; i < 4; i++) {
    client_open(&c[i], &w);
    client_send(&c[i], &w, "GET", paths[i], NULL);
    /* Each request is dispatched before the next is sent. */
    spin(&w, 20);
  }
  /* The first is being rendered (held); the other three wait in one batch. */
  ck_assert_uint_eq(mesos__state_test_renders(w.m), renders + 1);
  mesos__state_test_hold(0);
  const char *first = NULL;
  size_t first_len = 0;
  for (int i = 0; i < 4; i++) {
    size_t blen = 0;
    const char *body = client_wait(&c[i], &w, &blen);
    if (i == 2) {
      ck_assert(strstr(c[i].buf, "Content-Type: text/javascript") != NULL);
      ck_assert(blen > 6 && strncmp(body, "cb_1(", 5) == 0 && strncmp(body + blen - 2, ");", 2) == 0);
      yajl_tree_free(parse(body + 5, blen - 7));
      continue;
    }
    yajl_tree_free(parse(body, blen));
    if (i == 0) {
      first = body;
      first_len = blen;
    } else {
      /* Nothing changed in between: the same document. */
      ck_assert_uint_eq(blen, first_len);
      ck_assert(memcmp(body, first, blen) == 0);
    }
  }
  ck_assert_uint_eq(mesos__state_test_renders(w.m), renders + 2);
  for (int i = 0; i < 4; i++) client_close(&c[i]);
  /* A bad jsonp name is refused before anything is rendered. */
  client bad;
  client_open(&bad, &w);
  client_send(&bad, &w, "GET", "/state?jsonp=a(b", NULL);
  size_t blen = 0;
  client_wait(&bad, &w, &blen);
  ck_assert(strncmp(bad.buf, "HTTP/1.1 400", 12) == 0);
  client_close(&bad);
  ck_assert_uint_eq(mesos__state_test_renders(w.m), renders + 2);
  world_stop(&w);
}
END_TEST

START_TEST(test_state__render_during_mutations_is_the_state_at_the_request) {
  world w;
  world_start(&w);
  size_t renders = mesos__state_test_renders(w.m);
  mesos__state_test_hold(1);
  client st, fws, tasks, slaves;
  client_open(&st, &w);
  client_send(&st, &w, "GET", "/state", NULL);
  for (int i = 0; i < 50000 && mesos__state_test_renders(w.m) == renders; i++) spin(&w, 1);
  ck_assert_uint_eq(mesos__state_test_renders(w.m), renders + 1);
  /* While that render is held, on the loop thread: every running task
   * finishes (each evicts a completed one from its framework's ring of
   * 10, freeing it), new tasks start, and an agent's task changes state
   * in place. */
  mesos__task **all = NULL;
  size_t n = 0;
  for (size_t f = 0; f < 4; f++) {
    all = mesos__tasks_snapshot(&w.fws[f]->tasks, &n);
    ck_assert_ptr_nonnull(all);
    for (size_t i = 0; i < n; i++) finish_task(all[i]);
    mesos__free(all);
  }
  mesos__task *nt = add_task(&w, 0, 0, "task-new");
  nt->state = MESOS__V1__TASK_STATE__TASK_STAGING;
  mesos__task_free(add_task(&w, 1, 1, "task-gone")); /* added and removed */
  /* The other endpoints, asked now, queue behind the held render. */
  client_open(&fws, &w);
  client_send(&fws, &w, "GET", "/frameworks", NULL);
  client_open(&tasks, &w);
  client_send(&tasks, &w, "GET", "/tasks", NULL);
  client_open(&slaves, &w);
  client_send(&slaves, &w, "GET", "/slaves", NULL);
  spin(&w, 20);
  mesos__state_test_hold(0);
  size_t blen = 0;
  const char *body = client_wait(&st, &w, &blen);
  yajl_val v = parse(body, blen);
  /* Exactly the state when the request came: 40 running, 40 completed
   * (10 per framework), no task added later, every id once. */
  int found = 0;
  ck_assert_uint_eq(count_tasks(v, "tasks", "task-new", &found), 40);
  ck_assert_int_eq(found, 0);
  ck_assert_uint_eq(count_tasks(v, "completed_tasks", "task-0-5", &found), 40);
  ck_assert_int_eq(found, 1);
  yajl_val fw0 = get(v, "frameworks")->u.array.values[0];
  yajl_val t0 = get(fw0, "tasks")->u.array.values[0];
  ck_assert_str_eq(sget(t0, "state"), "TASK_RUNNING");
  /* What the tasks use is added up off the loop from their resource
   * bags, which the finished tasks had freed meanwhile (parked while the
   * render read them): agent 0 ran 5 tasks of cpus:0.1;mem:32, framework
   * 0 those of agents 0 and 4. */
  yajl_val a0 = by_id(v, "slaves", w.agents[0]->id);
  ck_assert_ptr_nonnull(a0);
  ck_assert_double_eq_tol(nget(get(a0, "used_resources"), "cpus"), 0.5, 1e-9);
  ck_assert_double_eq_tol(nget(get(a0, "used_resources"), "mem"), 160, 1e-9);
  ck_assert_double_eq_tol(nget(get(a0, "used_resources"), "disk"), 0, 1e-9);
  yajl_val f0 = by_id(v, "frameworks", w.fws[0]->id);
  ck_assert_ptr_nonnull(f0);
  ck_assert_double_eq_tol(nget(get(f0, "used_resources"), "cpus"), 1.0, 1e-9);
  ck_assert_double_eq_tol(nget(get(f0, "resources"), "mem"), 320, 1e-9);
  yajl_tree_free(v);
  /* The requests made after the mutations see them. */
  body = client_wait(&tasks, &w, &blen);
  v = parse(body, blen);
  yajl_val tv = get(v, "tasks");
  ck_assert(YAJL_IS_ARRAY(tv));
  /* task-new (live) + 40 completed kept (10 per framework). */
  ck_assert_uint_eq(tv->u.array.len, 41);
  int seen_new = 0;
  for (size_t i = 0; i < tv->u.array.len; i++)
    if (strcmp(sget(tv->u.array.values[i], "id"), "task-new") == 0) {
      seen_new++;
      ck_assert_str_eq(sget(tv->u.array.values[i], "state"), "TASK_STAGING");
    }
  ck_assert_int_eq(seen_new, 1);
  yajl_tree_free(v);
  body = client_wait(&fws, &w, &blen);
  v = parse(body, blen);
  ck_assert_uint_eq(count_tasks(v, "tasks", "task-new", &found), 1);
  ck_assert_int_eq(found, 1);
  ck_assert_uint_eq(count_tasks(v, "completed_tasks", "task-0-5", &found), 40);
  ck_assert_int_eq(found, 0); /* evicted by the newer completions */
  yajl_tree_free(v);
  body = client_wait(&slaves, &w, &blen);
  v = parse(body, blen);
  ck_assert_uint_eq(get(v, "slaves")->u.array.len, 8);
  yajl_val used = get(get(v, "slaves")->u.array.values[0], "used_resources");
  ck_assert(YAJL_IS_OBJECT(used));
  /* Now only task-new (staging, holding its resources) runs on agent 0;
   * the finished tasks released theirs. */
  a0 = by_id(v, "slaves", w.agents[0]->id);
  ck_assert_ptr_nonnull(a0);
  ck_assert_double_eq_tol(nget(get(a0, "used_resources"), "cpus"), 0.1, 1e-9);
  ck_assert_double_eq_tol(nget(get(a0, "used_resources"), "mem"), 32, 1e-9);
  ck_assert_double_eq_tol(nget(get(by_id(v, "slaves", w.agents[1]->id), "used_resources"), "cpus"),
                          0, 1e-9);
  yajl_tree_free(v);
  client_close(&st);
  client_close(&fws);
  client_close(&tasks);
  client_close(&slaves);
  world_stop(&w);
}
END_TEST

START_TEST(test_state__master_freed_with_a_render_in_flight) {
  world w;
  world_start(&w);
  size_t renders = mesos__state_test_renders(w.m);
  mesos__state_test_hold(1);
  client st;
  client_open(&st, &w);
  client_send(&st, &w, "GET", "/state", NULL);
  for (int i = 0; i < 50000 && mesos__state_test_renders(w.m) == renders; i++) spin(&w, 1);
  ck_assert_uint_eq(mesos__state_test_renders(w.m), renders + 1);
  /* Freeing the master cancels the held render and waits for it; the
   * request is dropped with its connection, nothing leaks (ASan). */
  mesos_master_free(w.m);
  mesos__state_test_hold(0);
  mesos_resources_free(w.task_res);
  mesos_loop_free(w.loop);
  client_poll(&st);
  ck_assert(st.len == 0 || strncmp(st.buf, "HTTP/1.1 200", 12) != 0);
  client_close(&st);
}
END_TEST

/* The v1 state calls are written off the loop from a snapshot
 * (state_v1.c): each answer, JSON and protobuf, is byte for byte what the
 * renderer makes of a snapshot of the same master (test_master_state_v1
 * checks what that holds); GET_HEALTH is
 * answered while one is held; and a held answer is the state at its
 * request, though every task finishes meanwhile. */
START_TEST(test_state__v1_calls_rendered_off_the_loop) {
  world w;
  world_start(&w);
  static const struct {
    const char *name;
    Mesos__V1__Master__Response__Type type;
    int call;
  } calls[] = {
      {"GET_STATE", MESOS__V1__MASTER__RESPONSE__TYPE__GET_STATE,
       MESOS__V1__MASTER__CALL__TYPE__GET_STATE},
      {"GET_AGENTS", MESOS__V1__MASTER__RESPONSE__TYPE__GET_AGENTS,
       MESOS__V1__MASTER__CALL__TYPE__GET_AGENTS},
      {"GET_FRAMEWORKS", MESOS__V1__MASTER__RESPONSE__TYPE__GET_FRAMEWORKS,
       MESOS__V1__MASTER__CALL__TYPE__GET_FRAMEWORKS},
      {"GET_TASKS", MESOS__V1__MASTER__RESPONSE__TYPE__GET_TASKS,
       MESOS__V1__MASTER__CALL__TYPE__GET_TASKS},
      {"GET_EXECUTORS", MESOS__V1__MASTER__RESPONSE__TYPE__GET_EXECUTORS,
       MESOS__V1__MASTER__CALL__TYPE__GET_EXECUTORS},
  };
  for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
    for (int pb = 0; pb < 2; pb++) {
      /* The answer: the renderer's from a snapshot of the same state. */
      mesos_status sst = MESOS_OK;
      mesos__v1snap *snap = mesos__v1snap_take(w.m, calls[c].call, &sst);
      ck_assert_ptr_nonnull(snap);
      ck_assert_int_eq(sst, MESOS_OK);
      mesos__buf want = MESOS__BUF_INIT((size_t)1 << 30);
      ck_assert_int_eq(
          mesos__v1snap_render(snap, pb ? MESOS__MEDIA_PROTOBUF : MESOS__MEDIA_JSON, &want),
          MESOS_OK);
      mesos__v1snap_free(snap);
      /* ... whose type is the call's. */
      ProtobufCMessage *dec = NULL;
      if (pb)
        ck_assert_int_eq(mesos__pb_unpack(&mesos__v1__master__response__descriptor,
                                          (const uint8_t *)want.data, want.len, 0, 0, &dec, NULL),
                         MESOS_OK);
      else
        ck_assert_int_eq(mesos__json_decode(&mesos__v1__master__response__descriptor, want.data,
                                            want.len, NULL, &dec, NULL),
                         MESOS_OK);
      ck_assert_int_eq(((Mesos__V1__Master__Response *)dec)->type, calls[c].type);
      mesos__pb_free(dec);
      /* The off-loop answer, held at the gate first. */
      size_t renders = mesos__state_test_renders(w.m);
      mesos__state_test_hold(1);
      char body[64];
      snprintf(body, sizeof body, "{\"type\":\"%s\"}", calls[c].name);
      client cl;
      client_open(&cl, &w);
      client_send_as(&cl, &w, "POST", "/api/v1", body,
                     pb ? "application/x-protobuf" : "application/json");
      for (int i = 0; i < 50000 && mesos__state_test_renders(w.m) == renders; i++) spin(&w, 1);
      ck_assert_uint_eq(mesos__state_test_renders(w.m), renders + 1);
      if (c == 0 && pb == 0) {
        client health;
        client_open(&health, &w);
        client_send(&health, &w, "POST", "/api/v1", "{\"type\":\"GET_HEALTH\"}");
        size_t hlen = 0;
        const char *hb = client_wait(&health, &w, &hlen);
        ck_assert_msg(strstr(hb, "\"healthy\":true") != NULL, "%.*s", (int)hlen, hb);
        client_close(&health);
        client_poll(&cl);
        ck_assert_uint_eq(cl.len, 0); /* not a byte of GET_STATE yet */
      }
      mesos__state_test_hold(0);
      size_t blen = 0;
      const char *got = client_wait(&cl, &w, &blen);
      ck_assert(strncmp(cl.buf, "HTTP/1.1 200", 12) == 0);
      ck_assert(strstr(cl.buf, pb ? "Content-Type: application/x-protobuf"
                                  : "Content-Type: application/json") != NULL);
      ck_assert_msg(blen == want.len && memcmp(got, want.data, blen) == 0,
                    "%s (%s): %zu bytes off the loop, %zu on it", calls[c].name,
                    pb ? "protobuf" : "JSON", blen, want.len);
      mesos__buf_free(&want);
      client_close(&cl);
    }
  }
  /* Held while every running task finishes: the answer is the state when
   * it was asked for (40 running, 40 completed). */
  size_t renders = mesos__state_test_renders(w.m);
  mesos__state_test_hold(1);
  client cl;
  client_open(&cl, &w);
  client_send(&cl, &w, "POST", "/api/v1", "{\"type\":\"GET_TASKS\"}");
  for (int i = 0; i < 50000 && mesos__state_test_renders(w.m) == renders; i++) spin(&w, 1);
  ck_assert_uint_eq(mesos__state_test_renders(w.m), renders + 1);
  for (size_t f = 0; f < 4; f++) {
    size_t n = 0;
    mesos__task **all = mesos__tasks_snapshot(&w.fws[f]->tasks, &n);
    ck_assert_ptr_nonnull(all);
    for (size_t i = 0; i < n; i++) finish_task(all[i]);
    mesos__free(all);
  }
  mesos__state_test_hold(0);
  size_t blen = 0;
  const char *got = client_wait(&cl, &w, &blen);
  yajl_val v = parse(got, blen);
  const char *tp[] = {"get_tasks", "tasks", NULL};
  yajl_val tasks = yajl_tree_get(v, tp, yajl_t_array);
  ck_assert_ptr_nonnull(tasks);
  ck_assert_uint_eq(tasks->u.array.len, 40);
  for (size_t i = 0; i < tasks->u.array.len; i++)
    ck_assert_str_eq(sget(tasks->u.array.values[i], "state"), "TASK_RUNNING");
  const char *cp[] = {"get_tasks", "completed_tasks", NULL};
  yajl_val done = yajl_tree_get(v, cp, yajl_t_array);
  ck_assert_ptr_nonnull(done);
  ck_assert_uint_eq(done->u.array.len, 40);
  yajl_tree_free(v);
  client_close(&cl);
  world_stop(&w);
}
END_TEST

/* Decodes the complete chunks of the body received on `c` into `out`;
 * *pos is where the next chunk starts in c->buf (0: after the headers,
 * once they are there).  1 once the headers are there. */
static int dechunk(client *c, mesos__buf *out, size_t *pos) {
  if (*pos == 0) {
    const char *hend = c->buf ? strstr(c->buf, "\r\n\r\n") : NULL;
    if (hend == NULL) return 0;
    *pos = (size_t)(hend + 4 - c->buf);
  }
  const char *end = c->buf + c->len;
  for (;;) {
    const char *p = c->buf + *pos;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL) break;
    size_t n = strtoull(p, NULL, 16);
    if ((size_t)(end - (nl + 1)) < n + 2) break;
    ck_assert_int_eq(mesos__buf_append(out, nl + 1, n), MESOS_OK);
    *pos = (size_t)(nl + 1 + n + 2 - c->buf);
    if (n == 0) break;
  }
  return 1;
}

/* RecordIO record `i` of `data` ("<len>\n<bytes>" ...), or NULL. */
static const char *record_at(const mesos__buf *data, size_t i, size_t *len) {
  size_t off = 0;
  if (data->data == NULL) return NULL;
  for (size_t k = 0;; k++) {
    const char *nl = memchr(data->data + off, '\n', data->len - off);
    if (nl == NULL) return NULL;
    size_t n = strtoull(data->data + off, NULL, 10);
    size_t start = (size_t)(nl + 1 - data->data);
    if (data->len - start < n) return NULL;
    if (k == i) {
      *len = n;
      return data->data + start;
    }
    off = start + n;
  }
}

/* Runs the loop until record `i` of the subscription on `c` is complete
 * (30 s at most: a failure bound). */
static const char *wait_record(client *c, world *w, mesos__buf *data, size_t *pos, size_t i,
                               size_t *len) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    mesos_loop_run_once(w->loop);
    client_poll(c);
    if (dechunk(c, data, pos)) {
      const char *r = record_at(data, i, len);
      if (r) return r;
    }
    clock_gettime(CLOCK_MONOTONIC, &t);
    ck_assert_msg(t.tv_sec - t0.tv_sec < 30, "no record %zu (%zu bytes of body)", i, data->len);
    usleep(100);
  }
}

/* An operator SUBSCRIBE whose SUBSCRIBED is larger than the HTTP server
 * lets a stream leave unsent (16 MiB) gets all of it, rendered off the
 * loop, and then, in order, the events that happened while it rendered
 * (TASK_ADDED, TASK_UPDATED: not in its state, not lost), then live
 * ones. */
START_TEST(test_state__subscribe_with_a_huge_state_then_events_in_order) {
  world w;
  world_start(&w);
  /* 140 tasks with 64 KiB names (and ids): ~18 MB of state. */
  char *name = malloc(64 << 10);
  ck_assert_ptr_nonnull(name);
  for (int i = 0; i < 140; i++) {
    memset(name, 'n', 64 << 10);
    snprintf(name, 32, "big-%d-", i);
    name[strlen(name)] = 'n';
    name[(64 << 10) - 1] = '\0';
    add_task(&w, 0, 0, name);
  }
  free(name);
  size_t renders = mesos__state_test_renders(w.m);
  mesos__state_test_hold(1);
  client sub;
  client_open(&sub, &w);
  client_send(&sub, &w, "POST", "/api/v1", "{\"type\":\"SUBSCRIBE\"}");
  for (int i = 0; i < 50000 && mesos__state_test_renders(w.m) == renders; i++) spin(&w, 1);
  ck_assert_uint_eq(mesos__state_test_renders(w.m), renders + 1);
  /* While SUBSCRIBED renders: a task is added and another changes. */
  mesos__task *during = add_task(&w, 1, 1, "task-during");
  ck_assert_ptr_nonnull(during);
  Mesos__V1__TaskStatus status = MESOS__V1__TASK_STATUS__INIT;
  status.task_id = mesos__task_tid(during);
  status.state = MESOS__V1__TASK_STATE__TASK_RUNNING;
  mesos__operator_on_task_updated(w.m, during, &status);
  spin(&w, 5);
  client_poll(&sub);
  ck_assert_uint_eq(sub.len, 0); /* nothing before SUBSCRIBED */
  mesos__state_test_hold(0);
  mesos__buf data = MESOS__BUF_INIT((size_t)1 << 30);
  size_t len = 0, pos = 0;
  const char *r = wait_record(&sub, &w, &data, &pos, 0, &len);
  ck_assert(strncmp(sub.buf, "HTTP/1.1 200", 12) == 0);
  ck_assert_msg(len > ((size_t)16 << 20), "SUBSCRIBED is %zu bytes", len);
  ck_assert(strncmp(r, "{\"type\":\"SUBSCRIBED\"", 20) == 0);
  char *copy = malloc(len + 1);
  memcpy(copy, r, len);
  copy[len] = '\0';
  ck_assert_ptr_null(strstr(copy, "task-during")); /* its state is before the events */
  ck_assert_ptr_nonnull(strstr(copy, "big-139-"));
  yajl_val v = parse(copy, len);
  const char *tp[] = {"subscribed", "get_state", "get_tasks", "tasks", NULL};
  yajl_val tasks = yajl_tree_get(v, tp, yajl_t_array);
  ck_assert_ptr_nonnull(tasks);
  ck_assert_uint_eq(tasks->u.array.len, 40 + 140);
  yajl_tree_free(v);
  free(copy);
  r = wait_record(&sub, &w, &data, &pos, 1, &len);
  v = parse(r, len);
  ck_assert_str_eq(sget(v, "type"), "TASK_ADDED");
  const char *ip[] = {"task_added", "task", "task_id", "value", NULL};
  ck_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, ip, yajl_t_string)), "task-during");
  yajl_tree_free(v);
  r = wait_record(&sub, &w, &data, &pos, 2, &len);
  v = parse(r, len);
  ck_assert_str_eq(sget(v, "type"), "TASK_UPDATED");
  yajl_tree_free(v);
  /* Live from now on. */
  add_task(&w, 2, 2, "task-after");
  r = wait_record(&sub, &w, &data, &pos, 3, &len);
  v = parse(r, len);
  ck_assert_str_eq(sget(v, "type"), "TASK_ADDED");
  ck_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, ip, yajl_t_string)), "task-after");
  yajl_tree_free(v);
  mesos__buf_free(&data);
  client_close(&sub);
  world_stop(&w);
}
END_TEST

/* The operator stream's framework events after SUBSCRIBED: a framework
 * whose FrameworkInfo changes is FRAMEWORK_UPDATED with the new info, one
 * that goes is FRAMEWORK_REMOVED (issue 6 names both). */
START_TEST(test_state__subscribe_framework_updated_and_removed) {
  world w;
  world_start(&w);
  client sub;
  client_open(&sub, &w);
  client_send(&sub, &w, "POST", "/api/v1", "{\"type\":\"SUBSCRIBE\"}");
  mesos__buf data = MESOS__BUF_INIT((size_t)1 << 30);
  size_t len = 0, pos = 0;
  const char *r = wait_record(&sub, &w, &data, &pos, 0, &len);
  ck_assert(strncmp(r, "{\"type\":\"SUBSCRIBED\"", 20) == 0);
  Mesos__V1__FrameworkInfo fi = MESOS__V1__FRAMEWORK_INFO__INIT;
  fi.user = "nobody";
  fi.name = "renamed framework";
  fi.role = "*";
  ck_assert_int_eq(mesos__framework_set_info(w.fws[1], &fi), MESOS_OK);
  mesos__master_framework_updated(w.fws[1]);
  r = wait_record(&sub, &w, &data, &pos, 1, &len);
  yajl_val v = parse(r, len);
  ck_assert_str_eq(sget(v, "type"), "FRAMEWORK_UPDATED");
  const char *np[] = {"framework_updated", "framework", "framework_info", "name", NULL};
  ck_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, np, yajl_t_string)), "renamed framework");
  const char *ip[] = {"framework_updated", "framework", "framework_info", "id", "value", NULL};
  ck_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, ip, yajl_t_string)), w.fws[1]->id);
  yajl_tree_free(v);
  char id[128];
  snprintf(id, sizeof id, "%s", w.fws[1]->id);
  mesos__framework_remove(w.fws[1], "test");
  w.fws[1] = NULL;
  /* Its tasks are updated (killed) first; then the framework goes. */
  int removed = 0;
  for (size_t i = 2; i < 40 && !removed; i++) {
    r = wait_record(&sub, &w, &data, &pos, i, &len);
    v = parse(r, len);
    if (strcmp(sget(v, "type"), "FRAMEWORK_REMOVED") == 0) {
      const char *rp[] = {"framework_removed", "framework_info", "id", "value", NULL};
      ck_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, rp, yajl_t_string)), id);
      removed = 1;
    }
    yajl_tree_free(v);
  }
  ck_assert(removed);
  mesos__buf_free(&data);
  client_close(&sub);
  world_stop(&w);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("master_state");
  TCase *tc = tcase_create("state");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_state__health_answered_while_a_render_is_in_flight);
  tcase_add_test(tc, test_state__concurrent_requests_share_renders);
  tcase_add_test(tc, test_state__render_during_mutations_is_the_state_at_the_request);
  tcase_add_test(tc, test_state__master_freed_with_a_render_in_flight);
  tcase_add_test(tc, test_state__v1_calls_rendered_off_the_loop);
  tcase_add_test(tc, test_state__subscribe_with_a_huge_state_then_events_in_order);
  tcase_add_test(tc, test_state__subscribe_framework_updated_and_removed);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
