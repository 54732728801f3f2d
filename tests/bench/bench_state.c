/*
 * State endpoint benchmarks, after Mesos's own state benchmark
 * (src/tests/master_benchmarks.cpp): 20,000 agents (cpus:24;mem:4096;
 * disk:4096;ports:[31000-32000]), 200 frameworks, 200,000 running and
 * 200,000 completed tasks (10 + 10 per agent; 1,000 completed per
 * framework, Mesos's --max_completed_tasks_per_framework default).
 * Mesos 1.7 answers /state in a median of about 3.1 s and GET_STATE in
 * 5.7 s (protobuf) to 9.6 s (JSON).
 *
 * The master runs in this process on its own loop thread, populated
 * through the master's internal functions (mesos__framework_new,
 * mesos__task_new, the agent table) instead of over sockets, which would
 * take far longer than the measurement on a small machine; requests then
 * go over loopback HTTP like any client's.  Reported, median of the runs:
 *   state-20k-json               GET /state, request sent to last byte read
 *   state-20k-getstate-json      POST /api/v1 GET_STATE, Accept JSON
 *   state-20k-getstate-protobuf  the same in protobuf
 * /state and the v1 calls are snapshotted on the loop and rendered on the
 * thread pool (lib/master/state.c, state_v1.c); the "#" lines give the
 * last snapshot's loop time (what one request stalls the master for) and
 * the render's CPU.  The endpoints keep each agent's and framework's
 * rendered part (the fragment cache) while the record does not change,
 * so each kind is reported four ways (see measure()): <name> the warm
 * poll, median of five polls of an unchanged master (the target line);
 * <name>-cold, median of three polls each just after every agent and
 * framework changed, against <name>-nocache, the same with the cache
 * off (the ratio must stay >= ~1: a cold poll costs no more than a
 * render without the cache); <name>-first, the very first poll (no
 * pooled memory yet).
 * Baseline (same process): the same /state document written with bare yajl
 * generator calls from flat C arrays (no master, no HTTP): the floor for
 * any yajl-based renderer.  Ratio = baseline / measured.
 *   state-pollers-health-p99     20 clients polling /state while one polls
 *                                GET_HEALTH: p99 of the health check (ms),
 *                                at a tenth of the scale (the responses of
 *                                20 concurrent full-size /state requests
 *                                would hold gigabytes on a shared machine).
 * The master's RSS after population is printed on a "#" line.
 *
 * --quick runs a tiny cluster so the test suite can prove the program works.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>
#include <yajl/yajl_gen.h>

#include "base/alloc.h"
#include "base/log.h"
#include "codec/pb.h"
#include "loop/loop_int.h"
#include "master/master_int.h"
#include "master/operator_int.h"
#include "mesos/mesos.h"
#include "resources/resources_int.h"

/* Times are the process's CPU time (the master's loop thread plus the
 * client reading the answer), not wall time: the benchmark usually shares
 * a small machine with other work, and CPU time is what an answer costs.
 * MESOS_BENCH_WALL=1 switches to the monotonic wall clock.  The pollers
 * always use wall time (they measure waiting). */
static clockid_t bench_clock = CLOCK_PROCESS_CPUTIME_ID;

static double thread_ms(void);

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(bench_clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what) {
  fprintf(stderr, "bench_state: %s\n", what);
  exit(1);
}

/* ------------------------------------------------------------ population */

typedef struct cluster {
  size_t agents, frameworks, running_per_agent, completed_per_agent;
} cluster;

static mesos__agent *add_agent(mesos_master *m, size_t i, const mesos_resources *total) {
  mesos__agent *a = MESOS__NEW(mesos__agent);
  if (a == NULL) die("out of memory");
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
  info.has_port = 1;
  info.port = 5051;
  uint8_t *bytes = NULL;
  size_t len = 0;
  ProtobufCMessage *copy = NULL;
  if (mesos__pb_pack(&info.base, 0, &bytes, &len, NULL) != MESOS_OK ||
      mesos__pb_unpack(&mesos__v1__agent_info__descriptor, bytes, len, 0, 0, &copy, NULL) !=
          MESOS_OK)
    die("cannot build AgentInfo");
  mesos__free(bytes);
  a->info = (Mesos__V1__AgentInfo *)copy;
  if (mesos_resources_clone(&a->total, total, NULL) != MESOS_OK) die("out of memory");
  a->registered_time = mesos__master_now();
  if (mesos__map_put(&m->agents, a->id, a) != MESOS_OK) die("out of memory");
  return a;
}

static void populate(mesos_master *m, const cluster *c) {
  mesos_resources *total = NULL, *task_res = NULL;
  if (mesos_resources_new(&total, NULL) != MESOS_OK ||
      mesos__resources_parse(&total->r, "cpus:24;mem:4096;disk:4096;ports:[31000-32000]", NULL,
                             NULL) != MESOS_OK ||
      mesos_resources_new(&task_res, NULL) != MESOS_OK ||
      mesos__resources_parse(&task_res->r, "cpus:0.1;mem:32", NULL, NULL) != MESOS_OK)
    die("cannot parse resources");
  Mesos__V1__Resource **protos = NULL;
  size_t nprotos = 0;
  if (mesos__resources_to_protos(&task_res->r, &protos, &nprotos, NULL) != MESOS_OK)
    die("out of memory");
  mesos__framework **fws = mesos__calloc(c->frameworks, sizeof *fws);
  for (size_t f = 0; f < c->frameworks; f++) {
    Mesos__V1__FrameworkInfo fi = MESOS__V1__FRAMEWORK_INFO__INIT;
    char name[64], id[128];
    snprintf(name, sizeof name, "framework-%zu", f);
    snprintf(id, sizeof id, "%s-%04zu", m->id, f);
    fi.user = "nobody";
    fi.name = name;
    fi.role = "*";
    if (mesos__framework_new(&fws[f], m, id, &fi) != MESOS_OK) die("cannot add a framework");
  }
  Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
  cmd.value = "sleep 1000";
  size_t k = 0;
  for (size_t i = 0; i < c->agents; i++) {
    mesos__agent *a = add_agent(m, i, total);
    Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
    aid.value = a->id;
    for (size_t j = 0; j < c->running_per_agent + c->completed_per_agent; j++, k++) {
      mesos__framework *fw = fws[k % c->frameworks];
      char tid_s[64];
      snprintf(tid_s, sizeof tid_s, "task-%zu-%zu", i, j);
      Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
      tid.value = tid_s;
      Mesos__V1__TaskInfo ti = MESOS__V1__TASK_INFO__INIT;
      ti.name = tid_s;
      ti.task_id = &tid;
      ti.agent_id = &aid;
      ti.command = &cmd;
      ti.n_resources = nprotos;
      ti.resources = protos;
      mesos__task *t = NULL;
      if (mesos__task_new(&t, fw, a, &ti, "*", task_res) != MESOS_OK) die("cannot add a task");
      if (j < c->running_per_agent) {
        t->state = MESOS__V1__TASK_STATE__TASK_RUNNING;
      } else {
        /* Finished and acknowledged: it moves to the completed tasks. */
        t->state = MESOS__V1__TASK_STATE__TASK_FINISHED;
        t->released = 1;
        mesos__task_free(t);
      }
    }
  }
  for (size_t i = 0; i < nprotos; i++) mesos__pb_free(protos[i]);
  mesos__free(protos);
  mesos__free(fws);
  mesos_resources_free(total);
  mesos_resources_free(task_res);
}

/* ------------------------------------------------------------ client */

static int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) die("cannot connect");
  return fd;
}

/* One request on `fd` (keep-alive); reads the whole response (it must have
 * a Content-Length).  Returns the body length. */
static size_t request(int fd, const char *method, const char *path, const char *accept,
                      const char *body) {
  char req[1024];
  int n = snprintf(req, sizeof req,
                   "%s %s HTTP/1.1\r\nHost: x\r\nAccept: %s\r\n%sContent-Length: %zu\r\n\r\n%s",
                   method, path, accept, body ? "Content-Type: application/json\r\n" : "",
                   body ? strlen(body) : 0, body ? body : "");
  if (write(fd, req, (size_t)n) != n) die("write failed");
  static __thread char *buf;
  static __thread size_t cap;
  if (buf == NULL) {
    cap = 1 << 20;
    buf = malloc(cap);
  }
  size_t have = 0;
  char *hend = NULL;
  while (hend == NULL) {
    ssize_t r = read(fd, buf + have, cap - have - 1);
    if (r <= 0) die("read failed");
    have += (size_t)r;
    buf[have] = '\0';
    hend = strstr(buf, "\r\n\r\n");
  }
  if (strncmp(buf, "HTTP/1.1 200", 12) != 0) {
    fprintf(stderr, "bench_state: %s %s: %.80s\n", method, path, buf);
    exit(1);
  }
  const char *cl = strstr(buf, "Content-Length: ");
  if (cl == NULL || cl > hend) die("no Content-Length");
  size_t len = strtoull(cl + 16, NULL, 10);
  size_t got = have - (size_t)(hend + 4 - buf);
  char sink[1 << 16];
  while (got < len) {
    size_t want = len - got < sizeof sink ? len - got : sizeof sink;
    ssize_t r = read(fd, sink, want);
    if (r <= 0) die("read failed");
    got += (size_t)r;
  }
  return len;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct timed {
  double ms;      /* median of the runs */
  double cold_ms; /* the first run */
  size_t bytes;
} timed;

static timed time_request(int port, const char *method, const char *path, const char *accept,
                          const char *body, int runs) {
  double v[16];
  size_t bytes = 0;
  int fd = connect_to(port);
  for (int i = 0; i < runs; i++) {
    double t0 = now_ms();
    bytes = request(fd, method, path, accept, body);
    v[i] = now_ms() - t0;
  }
  close(fd);
  double first = v[0];
  timed t = {median(v, (size_t)runs), first, bytes};
  return t;
}

/* MESOS_BENCH_STATE_DUMP=<dir>: the bodies of /state and GET_STATE (JSON,
 * protobuf) are written to <dir>/state.json, getstate.json and
 * getstate.pb once, so two builds' outputs can be compared byte for byte
 * (a refactoring of the renderers must not change them). */
static void dump_body(int port, const char *method, const char *path, const char *accept,
                      const char *body, const char *dir, const char *file) {
  char req[1024], fn[4096];
  int fd = connect_to(port);
  int n = snprintf(req, sizeof req,
                   "%s %s HTTP/1.1\r\nHost: x\r\nAccept: %s\r\n%sContent-Length: %zu\r\n"
                   "Connection: close\r\n\r\n%s",
                   method, path, accept, body ? "Content-Type: application/json\r\n" : "",
                   body ? strlen(body) : 0, body ? body : "");
  if (write(fd, req, (size_t)n) != n) die("write failed");
  snprintf(fn, sizeof fn, "%s/%s", dir, file);
  FILE *f = fopen(fn, "wb");
  if (f == NULL) die("cannot write the dump");
  char buf[1 << 16];
  size_t have = 0, cap = 1 << 20;
  char *head = malloc(cap);
  char *hend = NULL;
  ssize_t r;
  while ((r = read(fd, buf, sizeof buf)) > 0) {
    if (hend == NULL) {
      if (have + (size_t)r + 1 > cap) die("response head too long");
      memcpy(head + have, buf, (size_t)r);
      have += (size_t)r;
      head[have] = '\0';
      hend = strstr(head, "\r\n\r\n");
      if (hend) fwrite(hend + 4, 1, have - (size_t)(hend + 4 - head), f);
      continue;
    }
    fwrite(buf, 1, (size_t)r, f);
  }
  free(head);
  fclose(f);
  close(fd);
}

/* ------------------------------------------------------------ baseline */

static void y_print(void *ctx, const char *s, size_t len) {
  mesos__buf *b = ctx;
  mesos__buf_append(b, s, len);
}

#define YK(g, k) yajl_gen_string((g), (const unsigned char *)(k), sizeof(k) - 1)
static void ys(yajl_gen g, const char *s) { yajl_gen_string(g, (const unsigned char *)s, strlen(s)); }

static void y_res(yajl_gen g, const char *cpus, const char *mem, const char *disk,
                  const char *ports) {
  yajl_gen_map_open(g);
  YK(g, "cpus");
  yajl_gen_number(g, cpus, strlen(cpus));
  YK(g, "gpus");
  yajl_gen_number(g, "0.0", 3);
  YK(g, "mem");
  yajl_gen_number(g, mem, strlen(mem));
  YK(g, "disk");
  yajl_gen_number(g, disk, strlen(disk));
  if (ports) {
    YK(g, "ports");
    ys(g, ports);
  }
  yajl_gen_map_close(g);
}

/* The same document shape as /state, from flat arrays of ready strings. */
static double baseline_ms(const cluster *c, size_t *bytes) {
  size_t ntasks = c->agents * (c->running_per_agent + c->completed_per_agent);
  char **task_ids = malloc(ntasks * sizeof *task_ids);
  char **agent_ids = malloc(c->agents * sizeof *agent_ids);
  for (size_t i = 0, k = 0; i < c->agents; i++) {
    char s[128];
    snprintf(s, sizeof s, "00000000-0000-0000-0000-000000000000-S%zu", i);
    agent_ids[i] = strdup(s);
    for (size_t j = 0; j < c->running_per_agent + c->completed_per_agent; j++, k++) {
      snprintf(s, sizeof s, "task-%zu-%zu", i, j);
      task_ids[k] = strdup(s);
    }
  }
  double v[5];
  for (int run = 0; run < 3; run++) {
    mesos__buf b = MESOS__BUF_INIT((size_t)1 << 31);
    double t0 = now_ms();
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_config(g, yajl_gen_print_callback, y_print, &b);
    yajl_gen_map_open(g);
    YK(g, "version");
    ys(g, "1.0.0");
    YK(g, "slaves");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < c->agents; i++) {
      yajl_gen_map_open(g);
      YK(g, "id");
      ys(g, agent_ids[i]);
      YK(g, "pid");
      ys(g, "slave(1)@agent.example.com:5051");
      YK(g, "hostname");
      ys(g, "agent.example.com");
      YK(g, "port");
      yajl_gen_integer(g, 5051);
      YK(g, "registered_time");
      yajl_gen_number(g, "1795560251.79", 13);
      YK(g, "resources");
      y_res(g, "24.0", "4096.0", "4096.0", "[31000-32000]");
      YK(g, "used_resources");
      y_res(g, "1.0", "320.0", "0.0", NULL);
      YK(g, "offered_resources");
      y_res(g, "0.0", "0.0", "0.0", NULL);
      YK(g, "reserved_resources");
      yajl_gen_map_open(g);
      yajl_gen_map_close(g);
      YK(g, "unreserved_resources");
      y_res(g, "24.0", "4096.0", "4096.0", "[31000-32000]");
      YK(g, "attributes");
      yajl_gen_map_open(g);
      yajl_gen_map_close(g);
      YK(g, "active");
      yajl_gen_bool(g, 1);
      YK(g, "version");
      ys(g, "1.0.0");
      yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    YK(g, "frameworks");
    yajl_gen_array_open(g);
    size_t per_fw = ntasks / c->frameworks;
    for (size_t f = 0, k = 0; f < c->frameworks; f++) {
      yajl_gen_map_open(g);
      YK(g, "id");
      ys(g, "00000000-0000-0000-0000-000000000000-0001");
      YK(g, "name");
      ys(g, "framework");
      for (int part = 0; part < 2; part++) {
        if (part == 0) YK(g, "tasks");
        else YK(g, "completed_tasks");
        yajl_gen_array_open(g);
        for (size_t q = 0; q < per_fw / 2 && k < ntasks; q++, k++) {
          yajl_gen_map_open(g);
          YK(g, "id");
          ys(g, task_ids[k]);
          YK(g, "name");
          ys(g, task_ids[k]);
          YK(g, "framework_id");
          ys(g, "00000000-0000-0000-0000-000000000000-0001");
          YK(g, "executor_id");
          ys(g, "");
          YK(g, "slave_id");
          ys(g, agent_ids[k % c->agents]);
          YK(g, "state");
          ys(g, part ? "TASK_FINISHED" : "TASK_RUNNING");
          YK(g, "resources");
          y_res(g, "0.1", "32.0", "0.0", NULL);
          YK(g, "statuses");
          yajl_gen_array_open(g);
          yajl_gen_map_open(g);
          YK(g, "state");
          ys(g, part ? "TASK_FINISHED" : "TASK_RUNNING");
          yajl_gen_map_close(g);
          yajl_gen_array_close(g);
          YK(g, "user");
          ys(g, "nobody");
          yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
      }
      yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    yajl_gen_free(g);
    v[run] = now_ms() - t0;
    *bytes = b.len;
    mesos__buf_free(&b);
  }
  for (size_t i = 0; i < ntasks; i++) free(task_ids[i]);
  for (size_t i = 0; i < c->agents; i++) free(agent_ids[i]);
  free(task_ids);
  free(agent_ids);
  return median(v, 3);
}

/* ------------------------------------------------------------ loop turns */

/* The loop's own work per turn, from one uv_prepare to the next (I/O
 * callbacks, timers, thread-pool completions), in the loop thread's CPU
 * time, which stops while it waits in epoll: what
 * the master blocks itself for, without the time the kernel gives other
 * threads.  With 20 pollers and the render on a 2-core machine the health
 * check's wall-clock p99 is mostly the scheduler's, and this line tells
 * the two apart. */
typedef struct turns {
  uv_prepare_t prep;
  double t0;
  int in_turn;
  double *v;
  size_t n, cap;
  volatile int on;
} turns;

static double thread_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void turn_prepare(uv_prepare_t *h) {
  turns *t = h->data;
  double now = thread_ms();
  if (t->in_turn && t->on && t->n < t->cap) t->v[t->n++] = now - t->t0;
  t->t0 = now;
  t->in_turn = 1;
}

static void turns_start(turns *t, mesos_loop *loop) {
  memset(t, 0, sizeof *t);
  t->cap = 1 << 20;
  t->v = malloc(t->cap * sizeof *t->v);
  uv_prepare_init(mesos__loop_uv(loop), &t->prep);
  t->prep.data = t;
  uv_prepare_start(&t->prep, turn_prepare);
}

/* ------------------------------------------------------------ pollers */

typedef struct poll_ctx {
  int port;
  volatile int *stop;
  double total_ms;
  int n;
} poll_ctx;

static void *state_poller(void *ud) {
  poll_ctx *p = ud;
  int fd = connect_to(p->port);
  while (!*p->stop) {
    double t0 = now_ms();
    request(fd, "GET", "/state", "application/json", NULL);
    p->total_ms += now_ms() - t0;
    p->n++;
  }
  close(fd);
  return NULL;
}

static void pollers(int port, const char *label, int nhealth, turns *tt) {
  volatile int stop = 0;
  enum { NPOLL = 20 };
  pthread_t th[NPOLL];
  poll_ctx ctx[NPOLL];
  for (int i = 0; i < NPOLL; i++) {
    ctx[i].port = port;
    ctx[i].stop = &stop;
    ctx[i].total_ms = 0;
    ctx[i].n = 0;
    pthread_create(&th[i], NULL, state_poller, &ctx[i]);
  }
  double *lat = malloc((size_t)nhealth * sizeof *lat);
  int fd = connect_to(port);
  tt->on = 1;
  /* At most `nhealth` checks or 15 s, whichever comes first: on a busy
   * machine every check waits behind renders. */
  double start = now_ms();
  int done = 0;
  while (done < nhealth && (done < 10 || now_ms() - start < 15000)) {
    double t0 = now_ms();
    request(fd, "POST", "/api/v1", "application/json", "{\"type\":\"GET_HEALTH\"}");
    lat[done++] = now_ms() - t0;
    usleep(2000);
  }
  nhealth = done;
  close(fd);
  tt->on = 0;
  stop = 1;
  double total = 0;
  int n = 0;
  for (int i = 0; i < NPOLL; i++) {
    pthread_join(th[i], NULL);
    total += ctx[i].total_ms;
    n += ctx[i].n;
  }
  qsort(lat, (size_t)nhealth, sizeof *lat, cmp_double);
  double p99 = lat[(size_t)((nhealth - 1) * 0.99)];
  double med = median(lat, (size_t)nhealth);
  printf("# %s: 20 pollers made %d /state requests, mean %.1f ms; %d GET_HEALTH checks, "
         "median %.2f ms\n",
         label, n, n ? total / n : 0, nhealth, med);
  printf("bench: state-pollers-health-p99 %.2f ms baseline health-median-under-load %.2f ms "
         "ratio %.2f\n",
         p99, med, p99 > 0 ? med / p99 : 0);
  free(lat);
  size_t nt = tt->n;
  if (nt) {
    qsort(tt->v, nt, sizeof *tt->v, cmp_double);
    printf("# %s: %zu loop turns meanwhile; the loop's own CPU per turn: p99 %.2f ms, max %.2f ms\n",
           label, nt, tt->v[(size_t)((nt - 1) * 0.99)], tt->v[nt - 1]);
  }
}

/* ------------------------------------------------------------ on the loop */

/* Runs fn(m, arg) on the master's loop thread and waits for it (the
 * master belongs to that thread). */
typedef struct loop_call {
  uv_async_t async;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done, arg;
  void (*fn)(mesos_master *m, int arg);
  mesos_master *m;
} loop_call;

static void loop_call_cb(uv_async_t *h) {
  loop_call *c = h->data;
  c->fn(c->m, c->arg);
  pthread_mutex_lock(&c->mu);
  c->done = 1;
  pthread_cond_signal(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

/* Before the loop thread starts. */
static void loop_call_init(loop_call *c, mesos_loop *loop, mesos_master *m) {
  memset(c, 0, sizeof *c);
  uv_async_init(mesos__loop_uv(loop), &c->async, loop_call_cb);
  c->async.data = c;
  c->m = m;
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
}

static void on_loop(loop_call *c, void (*fn)(mesos_master *, int), int arg) {
  pthread_mutex_lock(&c->mu);
  c->fn = fn;
  c->arg = arg;
  c->done = 0;
  uv_async_send(&c->async);
  while (!c->done) pthread_cond_wait(&c->cv, &c->mu);
  pthread_mutex_unlock(&c->mu);
}

/* Every agent and framework changed (what a status update to each does
 * to the cache): the next poll renders everything again. */
static void touch_all(mesos_master *m, int arg) {
  (void)arg;
  size_t it = 0;
  void *v;
  while (mesos__map_next(&m->agents, &it, NULL, &v)) mesos__agent_changed(v);
  it = 0;
  while (mesos__map_next(&m->frameworks, &it, NULL, &v)) mesos__framework_changed(v);
}

static void set_cache(mesos_master *m, int on) { mesos__state_test_cache(m, on); }

static double lt_snap, lt_render;
static void last_times(mesos_master *m, int arg) {
  (void)arg;
  mesos__state_last_times(m, &lt_snap, &lt_render);
}

/* One request kind, reported four ways (request sent to last byte read):
 *   <name>          the warm poll: median of `runs` polls of an unchanged
 *                   master (the target line);
 *   <name>-cold     median of 3 polls each made just after every agent and
 *                   framework changed (everything rendered again, with
 *                   the cache keeping what it renders), against
 *   <name>-nocache  median of 3 polls with the cache off (every poll
 *                   renders everything, as before the cache): the cold
 *                   poll must not cost more than this;
 *   <name>-first    the very first poll of the kind (nothing cached, no
 *                   pooled memory yet). */
static void measure(loop_call *lc, int port, const char *name, const char *method,
                    const char *path, const char *accept, const char *body, int runs,
                    double base, size_t *bytes) {
  timed t = time_request(port, method, path, accept, body, runs);
  *bytes = t.bytes;
  double cold[3], off[3];
  for (int i = 0; i < 3; i++) {
    on_loop(lc, touch_all, 0);
    cold[i] = time_request(port, method, path, accept, body, 1).ms;
  }
  on_loop(lc, set_cache, 0);
  for (int i = 0; i < 3; i++) off[i] = time_request(port, method, path, accept, body, 1).ms;
  on_loop(lc, set_cache, 1);
  double c = median(cold, 3), o = median(off, 3);
  printf("bench: %s %.1f ms baseline bare-yajl-state %.1f ms ratio %.2f\n", name, t.ms, base,
         base / t.ms);
  printf("bench: %s-cold %.1f ms baseline %s-nocache %.1f ms ratio %.2f\n", name, c, name, o,
         o / c);
  printf("bench: %s-nocache %.1f ms baseline bare-yajl-state %.1f ms ratio %.2f\n", name, o, base,
         base / o);
  printf("bench: %s-first %.1f ms baseline bare-yajl-state %.1f ms ratio %.2f\n", name, t.cold_ms,
         base, base / t.cold_ms);
}

/* Endpoints answered on the loop itself (small documents): what a poll
 * costs the loop, warm (median of five) and just after every agent and
 * framework changed (median of three). */
static void measure_on_loop(loop_call *lc, int port, const char *name, const char *method,
                            const char *path, const char *body) {
  timed t = time_request(port, method, path, "application/json", body, 5);
  double cold[3];
  for (int i = 0; i < 3; i++) {
    on_loop(lc, touch_all, 0);
    cold[i] = time_request(port, method, path, "application/json", body, 1).ms;
  }
  printf("bench: %s %.2f ms baseline %s-cold %.2f ms ratio %.2f\n", name, t.ms, name,
         median(cold, 3), median(cold, 3) / t.ms);
}

/* ------------------------------------------------------------ main */

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) kib = strtol(line + 6, NULL, 10);
  if (f) fclose(f);
  return kib;
}

typedef struct run_ctx {
  mesos_loop *loop;
} run_ctx;

static void *loop_thread(void *ud) {
  run_ctx *r = ud;
  mesos_loop_run(r->loop, NULL);
  return NULL;
}

static mesos_master *start(mesos_loop **loop_out, const cluster *c) {
  mesos_loop *loop = NULL;
  if (mesos_loop_new(&loop, NULL, NULL) != MESOS_OK) die("cannot create a loop");
  char per_fw[64];
  size_t completed = c->agents * c->completed_per_agent / c->frameworks + 1;
  snprintf(per_fw, sizeof per_fw, "--max_completed_tasks_per_framework=%zu", completed);
  char *argv[] = {"bench", "--ip=127.0.0.1", "--port=0", per_fw, "--logging_level=ERROR",
                  "--allocation_interval=1hrs", NULL};
  mesos_master_flags *flags = NULL;
  mesos_error *err = NULL;
  if (mesos_master_flags_parse(&flags, 6, argv, NULL, &err) != MESOS_OK) die("flags");
  mesos_log_set_level(MESOS_LOG_ERROR);
  mesos_master *m = NULL;
  if (mesos_master_new(&m, loop, NULL, flags, &err) != MESOS_OK)
    die(err ? mesos_error_message(err) : "cannot start the master");
  mesos_master_flags_free(flags);
  *loop_out = loop;
  return m;
}

int main(int argc, char **argv) {
  int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  if (argc > 2 || (argc == 2 && !quick)) die("usage: bench_state [--quick]");
  const char *wall = getenv("MESOS_BENCH_WALL");
  if (wall && strcmp(wall, "1") == 0) bench_clock = CLOCK_MONOTONIC;
  cluster big = {quick ? 200 : 20000, quick ? 20 : 200, 10, 10};
  /* MESOS_BENCH_STATE_AGENTS=N: another cluster size (profiling). */
  const char *na = getenv("MESOS_BENCH_STATE_AGENTS");
  if (na) {
    char *end = NULL;
    unsigned long v = strtoul(na, &end, 10);
    if (end == na || *end != '\0' || v < 10 || v > 1000000) die("bad MESOS_BENCH_STATE_AGENTS");
    big.agents = v;
  }
  cluster small = {big.agents / 10, big.frameworks / 10, 10, 10};
  const char *scale = quick ? "q" : "20k";

  const char *prof = getenv("MESOS_BENCH_STATE_PROFILE");
  size_t base_bytes = 0;
  double base = prof && *prof ? 0 : baseline_ms(&big, &base_bytes);
  printf("# baseline: bare yajl generator, %zu bytes, median %.1f ms\n", base_bytes, base);

  long rss0 = rss_kib();
  mesos_loop *loop = NULL;
  mesos_master *m = start(&loop, &big);
  const char *dump = getenv("MESOS_BENCH_STATE_DUMP");
  /* Dumps compare across builds: a fixed master id makes every id (and
   * so the tables' iteration order) the same in both runs. */
  if (dump && *dump) snprintf(m->id, sizeof m->id, "%s", "00000000-0000-4000-8000-000000000001");
  double t0 = now_ms();
  populate(m, &big);
  long rss1 = rss_kib();
  printf("# populated %zu agents, %zu frameworks, %zu running + %zu completed tasks in %.0f ms; "
         "master RSS %.1f MiB (process %.1f MiB)\n",
         big.agents, big.frameworks, big.agents * big.running_per_agent,
         big.agents * big.completed_per_agent, now_ms() - t0, (rss1 - rss0) / 1024.0,
         rss1 / 1024.0);
  /* MESOS_BENCH_STATE_PROFILE=snapshot|json|protobuf: that part of
   * GET_STATE ten times over, then exit (run under perf record). */
  if (prof && *prof) {
    int part = strcmp(prof, "snapshot") == 0 ? 0 : strcmp(prof, "json") == 0 ? 1 : 2;
    mesos_status st = MESOS_OK;
    mesos__v1snap *s = mesos__v1snap_take(m, MESOS__V1__MASTER__CALL__TYPE__GET_STATE, &st);
    double p0 = thread_ms();
    for (int i = 0; i < 10; i++) {
      if (part == 0) {
        mesos__v1snap_free(s);
        s = mesos__v1snap_take(m, MESOS__V1__MASTER__CALL__TYPE__GET_STATE, &st);
        continue;
      }
      mesos__chunks c;
      memset(&c, 0, sizeof c);
      c.sv = m->op->state;
      if (mesos__v1snap_render_chunks(s, part == 2 ? MESOS__MEDIA_PROTOBUF : MESOS__MEDIA_JSON,
                                      &c) != MESOS_OK)
        die("cannot render GET_STATE");
      mesos__state_chunks_free(&c);
    }
    printf("# profile %s: %.1f ms CPU each\n", prof, (thread_ms() - p0) / 10);
    fflush(stdout);
    mesos__v1snap_free(s);
    _exit(0);
  }
  /* The render alone, in this thread before the loop runs: what /state
   * costs without the copy into the connection and the transfer. */
  {
    double v[3];
    size_t bytes = 0;
    for (int i = 0; i < 3; i++) {
      mesos__buf out = MESOS__BUF_INIT((size_t)1 << 31);
      double r0 = now_ms();
      if (mesos__state_json(m, &out) != MESOS_OK) die("cannot render /state");
      v[i] = now_ms() - r0;
      bytes = out.len;
      mesos__buf_free(&out);
    }
    printf("# /state render alone (no HTTP): %zu bytes, median %.1f ms\n", bytes, median(v, 3));
  }
  /* The v1 GET_STATE parts alone, in this thread's CPU time: the
   * snapshot (what a request holds the loop for) and the direct render
   * in each media (no HTTP). */
  {
    double snap[3], rj[3], rp[3];
    size_t bj = 0, bp = 0;
    for (int i = 0; i < 3; i++) {
      double s0 = thread_ms();
      mesos_status st = MESOS_OK;
      mesos__v1snap *s = mesos__v1snap_take(m, MESOS__V1__MASTER__CALL__TYPE__GET_STATE, &st);
      double s1 = thread_ms();
      if (s == NULL || st != MESOS_OK) die("cannot snapshot GET_STATE");
      for (int pb = 0; pb < 2; pb++) {
        mesos__chunks c;
        memset(&c, 0, sizeof c);
        c.sv = m->op->state; /* its pooled blocks, as the endpoint renders */
        double r0 = thread_ms();
        if (mesos__v1snap_render_chunks(s, pb ? MESOS__MEDIA_PROTOBUF : MESOS__MEDIA_JSON, &c) !=
            MESOS_OK)
          die("cannot render GET_STATE");
        (pb ? rp : rj)[i] = thread_ms() - r0;
        *(pb ? &bp : &bj) = c.total;
        mesos__state_chunks_free(&c);
      }
      mesos__v1snap_free(s);
      snap[i] = s1 - s0;
    }
    printf("# GET_STATE alone (no HTTP, CPU): snapshot median %.1f ms; render JSON %zu bytes "
           "%.1f ms, protobuf %zu bytes %.1f ms\n",
           median(snap, 3), bj, median(rj, 3), bp, median(rp, 3));
  }
  int port = (int)mesos_master_port(m);
  static loop_call lc;
  loop_call_init(&lc, loop, m);
  run_ctx rc = {loop};
  pthread_t lt;
  pthread_create(&lt, NULL, loop_thread, &rc);

  int runs = quick ? 3 : 5;
  char name[64];
  if (dump && *dump) {
    const char *g = "{\"type\":\"GET_STATE\"}";
    dump_body(port, "GET", "/state", "application/json", NULL, dump, "state.json");
    dump_body(port, "POST", "/api/v1", "application/json", g, dump, "getstate.json");
    dump_body(port, "POST", "/api/v1", "application/x-protobuf", g, dump, "getstate.pb");
  }
  size_t bytes = 0;
  snprintf(name, sizeof name, "state-%s-json", scale);
  measure(&lc, port, name, "GET", "/state", "application/json", NULL, runs, base, &bytes);
  double snap_ms = 0, render_ms = 0;
  on_loop(&lc, last_times, 0);
  printf("# %s: %zu bytes; last snapshot %.1f ms on the loop (the stall), render %.1f ms CPU "
         "on the thread pool\n",
         name, bytes, lt_snap, lt_render);
  const char *gs = "{\"type\":\"GET_STATE\"}";
  snprintf(name, sizeof name, "state-%s-getstate-json", scale);
  measure(&lc, port, name, "POST", "/api/v1", "application/json", gs, runs, base, &bytes);
  on_loop(&lc, last_times, 0);
  printf("# %s: %zu bytes; last snapshot %.1f ms on the loop, build and encoding %.1f ms CPU on "
         "the thread pool\n",
         name, bytes, lt_snap, lt_render);
  snprintf(name, sizeof name, "state-%s-getstate-protobuf", scale);
  measure(&lc, port, name, "POST", "/api/v1", "application/x-protobuf", gs, runs, base, &bytes);
  printf("# %s: %zu bytes\n", name, bytes);
  snprintf(name, sizeof name, "roles-%s-on-loop", scale);
  measure_on_loop(&lc, port, name, "GET", "/roles", NULL);
  snprintf(name, sizeof name, "getroles-%s-on-loop", scale);
  measure_on_loop(&lc, port, name, "POST", "/api/v1", "{\"type\":\"GET_ROLES\"}");
  snprintf(name, sizeof name, "state-summary-%s-on-loop", scale);
  measure_on_loop(&lc, port, name, "GET", "/state-summary", NULL);
  (void)snap_ms;
  (void)render_ms;
  size_t nfrags = 0, fbytes = 0;
  mesos__frag_stats(m, &nfrags, &fbytes);
  printf("# fragment cache after the polls: %zu fragments, %.1f MiB; process RSS %.1f MiB\n",
         nfrags, fbytes / 1048576.0, rss_kib() / 1024.0);
  printf("bench: state-%s-master-rss %.1f MiB baseline none 0 MiB ratio 0\n", scale,
         (rss1 - rss0) / 1024.0);
  fflush(stdout);
  /* The pollers run against a tenth of the cluster in a second master. */
  bench_clock = CLOCK_MONOTONIC;
  mesos_loop *loop2 = NULL;
  mesos_master *m2 = start(&loop2, &small);
  populate(m2, &small);
  static turns tt;
  turns_start(&tt, loop2);
  run_ctx rc2 = {loop2};
  pthread_t lt2;
  pthread_create(&lt2, NULL, loop_thread, &rc2);
  pollers((int)mesos_master_port(m2), quick ? "quick/10" : "2k agents, 40k tasks", quick ? 50 : 200, &tt);
  fflush(stdout);
  /* The loop thread owns the master; the process simply ends. */
  _exit(0);
}
