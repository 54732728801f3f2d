/*
 * Master benchmarks (issue 4).  Each one runs an in-process master (the
 * library's mesos_master on its own loop, in a process of its own so its
 * memory can be measured) and drives it from a forked client process over
 * real loopback HTTP, speaking the scheduler API and our agent protocol in
 * protobuf -- the same bytes a real scheduler and mesos-agent send.
 *
 *  master-launch-throughput (tasks/s): A simulated agents register, one
 *    framework subscribes and answers every OFFERS event with one ACCEPT per
 *    offer, each launching K small command tasks (filters refuse_seconds=0,
 *    so what is left is offered again in the next allocation cycle).  The
 *    clock runs from the first ACCEPT written to the moment the agents have
 *    read the RUN_TASK event of the last task: ACCEPT decoded, validated,
 *    tasks created and tracked, resources taken from the offer, RUN_TASK
 *    encoded and written, for every task.
 *    Baseline: the same calls and events (ACCEPT with K tasks, one RUN_TASK
 *    per task) protobuf-encoded and decoded once each in one process, with
 *    no master in between -- the serialization floor any master pays.
 *  master-reregister-10k (ms): 10,000 agents register with a master that
 *    has a durable registry (in a process of its own, which then exits); a
 *    new master in a fresh process recovers the registry ("restart"), as a
 *    restarted mesos-master would; then all 10,000 agents re-register at once over
 *    loopback, reporting 100,000 tasks (10 each, of 10 frameworks the new
 *    master recovers from their reports).  The time is from the first
 *    connect to the last REREGISTERED event read.  Baseline: the same
 *    10,000 connections each doing one GET /health round trip (the
 *    transport floor of 10,000 HTTP exchanges).
 *  master-bytes-per-agent, master-bytes-per-task (bytes): growth of the
 *    master process's heap in use (mallinfo2: live allocations with their
 *    malloc headers) while the 10,000 agents register (each with its open
 *    event stream and connection), divided by 10,000; and while the launch
 *    benchmark's tasks are created, divided by their number.  The resident
 *    set growth (/proc/self/statm, which also holds memory malloc keeps
 *    after transient use) is printed on '#' lines.  Baselines: the protobuf size of one agent's AgentInfo and of
 *    one task's TaskInfo as sent (what the master must remember at least).
 *
 * The registry lives in /dev/shm when it exists (fdatasync is what the
 * durable registry costs on a disk; that is not what these measure).
 * Client connections bind to 127.0.0.2..127.0.0.201 so 30,000 short-lived
 * connections do not run out of ephemeral ports.
 *
 * Times are the master process's CPU time over each phase (see master_ms);
 * the client's wall-clock view is printed on '#' lines.
 *
 * Most of master-reregister-10k's CPU time on a virtual machine is the
 * page faults of first touching the ~230 MB the master keeps (printed on a
 * '#' line): with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 in the environment
 * (glibc's heap on transparent huge pages) they drop from ~52,000 to
 * ~1,500 and the time by about a quarter.
 *
 * --quick runs tiny sizes so the test suite can prove the program works.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "codec/pb.h"
#include "master/master_int.h"
#include "mesos/internal/internal.pb-c.h"
#include "mesos/log.h"
#include "mesos/mesos.h"
#include "mesos/v1/scheduler.pb-c.h"

static bool quick;

static double wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Benchmarks share small machines with other work, so the figures are the
 * master process's CPU time (user + system) over each phase: what the
 * master spends, however busy the machine is.  MESOS_BENCH_WALL=1 reports
 * wall-clock time instead (the client's view, on a quiet machine). */
static bool use_wall;

static double master_ms(void) {
  if (use_wall) return wall_ms();
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 +
         ru.ru_stime.tv_usec / 1e3;
}

/* The same for one in-process computation (the baselines). */
static double self_ms(void) {
  if (use_wall) return wall_ms();
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Bytes of heap in use (malloc's own count: live allocations and their
 * headers, not memory freed but kept by malloc). */
static long rss_bytes(void);

static long heap_bytes(void) {
  struct mallinfo2 mi = mallinfo2();
  long n = (long)mi.uordblks + (long)mi.hblkhd;
  /* Allocators that replace malloc (sanitizers) report nothing here. */
  return n > 0 ? n : rss_bytes();
}

/* Minor page faults of this process so far. */
static long minor_faults(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

static long rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, res = 0;
  if (f == NULL) return 0;
  if (fscanf(f, "%ld %ld", &size, &res) != 2) res = 0;
  fclose(f);
  return res * sysconf(_SC_PAGESIZE);
}

static void fail(const char *what) {
  fprintf(stderr, "bench_master: %s\n", what);
  exit(1);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (p == NULL) fail("out of memory");
  return p;
}

/* Profiling one phase: with MESOS_BENCH_PERF_CTL=<fifo>, the master
 * process writes "enable" / "disable" to perf's control fifo around the
 * measured phase (`perf record -D -1 --control=fifo:<fifo>`), so the
 * profile holds that phase only. */
static void perf_ctl(const char *cmd) {
  const char *path = getenv("MESOS_BENCH_PERF_CTL");
  if (path == NULL || path[0] == '\0') return;
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  char line[32];
  int n = snprintf(line, sizeof line, "%s\n", cmd);
  if (write(fd, line, (size_t)n) != n) fprintf(stderr, "bench_master: perf control write\n");
  close(fd);
}

/* ------------------------------------------------------------ pipes */

/* Parent <-> client handshake: one byte each way per phase. */
typedef struct chan {
  int to_child[2], to_parent[2];
} chan;

static void send_byte(int fd, char c) {
  while (write(fd, &c, 1) != 1)
    if (errno != EINTR) fail("pipe write");
}

static char recv_byte(int fd) {
  char c;
  for (;;) {
    ssize_t n = read(fd, &c, 1);
    if (n == 1) return c;
    if (n == 0) fail("the other process went away");
    if (errno != EINTR) fail("pipe read");
  }
}

static void send_doubles(int fd, const double *v, size_t n) {
  if (write(fd, v, n * sizeof *v) != (ssize_t)(n * sizeof *v)) fail("pipe write");
}

static void recv_doubles(int fd, double *v, size_t n) {
  size_t got = 0;
  while (got < n * sizeof *v) {
    ssize_t r = read(fd, (char *)v + got, n * sizeof *v - got);
    if (r <= 0) fail("pipe read");
    got += (size_t)r;
  }
}

/* ------------------------------------------------------------ master side */

typedef struct master_proc {
  mesos_loop *loop;
  mesos_master *master;
  int poll_fd;     /* the client's pipe, polled by a timer */
  char got;        /* the byte that arrived */
  mesos_timer *timer;
} master_proc;

static void poll_pipe(mesos_timer *t, void *ud) {
  (void)t;
  master_proc *mp = ud;
  char c;
  if (read(mp->poll_fd, &c, 1) == 1) {
    mp->got = c;
    mesos_loop_stop(mp->loop);
  }
}

/* Runs the master's loop until the client writes a byte; returns it. */
static char serve_until_byte(master_proc *mp, int fd) {
  mp->poll_fd = fd;
  mp->got = 0;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  mesos_timer_start(mp->timer, 1, 1);
  while (mp->got == 0) {
    mesos_error *e = NULL;
    if (mesos_loop_run(mp->loop, &e) != MESOS_OK) fail("loop");
  }
  mesos_timer_stop(mp->timer);
  return mp->got;
}

static void stop_cb(mesos_timer *t, void *ud) {
  (void)t;
  mesos_loop_stop(ud);
}

/* Runs the master's loop for `ms` (lets it finish work in flight). */
static void serve_for(master_proc *mp, uint64_t ms) {
  mesos_timer *t = NULL;
  mesos_error *e = NULL;
  if (mesos_timer_new(&t, mp->loop, stop_cb, mp->loop, &e) != MESOS_OK) fail("timer");
  mesos_timer_start(t, ms, 0);
  if (mesos_loop_run(mp->loop, &e) != MESOS_OK) fail("loop");
  mesos_timer_free(t);
}

/* --allocation_interval of the next master_start: a short one where a
 * benchmark measures what follows an offer, Mesos's 1 s default where it
 * measures how soon offers come. */
static const char *alloc_interval = "--allocation_interval=2ms";

static void master_start(master_proc *mp, const char *work_dir) {
  char wd[600];
  snprintf(wd, sizeof wd, "--work_dir=%s", work_dir ? work_dir : "");
  char *argv[] = {"bench", "--ip=127.0.0.1", "--port=0", (char *)alloc_interval,
                  "--agent_ping_timeout=1hrs", "--http_heartbeat_interval=1hrs",
                  work_dir ? wd : "--registry=in_memory", NULL};
  int argc = 0;
  while (argv[argc]) argc++;
  mesos_master_flags *flags = NULL;
  mesos_error *e = NULL;
  if (mesos_master_flags_parse(&flags, argc, argv, NULL, &e) != MESOS_OK) fail("flags");
  if (mp->loop == NULL && mesos_loop_new(&mp->loop, NULL, &e) != MESOS_OK) fail("loop");
  if (mesos_master_new(&mp->master, mp->loop, NULL, flags, &e) != MESOS_OK) {
    fprintf(stderr, "%s\n", e ? mesos_error_message(e) : "");
    fail("master");
  }
  mesos_master_flags_free(flags);
  if (mp->timer == NULL && mesos_timer_new(&mp->timer, mp->loop, poll_pipe, mp, &e) != MESOS_OK)
    fail("timer");
}

static size_t master_tasks(const mesos_master *m) {
  size_t n = 0, it = 0;
  void *v;
  while (mesos__map_next(&m->frameworks, &it, NULL, &v))
    n += mesos__map_count(&((mesos__framework *)v)->tasks);
  return n;
}

/* ------------------------------------------------------------ client side */

/* One HTTP/1.1 connection: pending output, and input decoded as a chunked
 * RecordIO stream (event streams) or just drained (202 answers). */
typedef struct conn {
  int fd;
  char *out;
  size_t out_len, out_off;
  char *in;
  size_t in_len, in_cap;
  int state; /* 0 headers, 1 chunk size, 2 chunk data, 3 chunk CRLF, 4 drain */
  size_t chunk_left;
  char *body;
  size_t body_len, body_cap;
  int status;
  char stream_id[64];
  long records;
  bool done;
} conn;

static void buf_put(char **b, size_t *len, size_t *cap, const void *d, size_t n) {
  if (*len + n > *cap) {
    size_t c = *cap ? *cap : 4096;
    while (c < *len + n) c *= 2;
    char *nb = realloc(*b, c);
    if (nb == NULL) fail("out of memory");
    *b = nb;
    *cap = c;
  }
  memcpy(*b + *len, d, n);
  *len += n;
}

static int connect_from(int idx, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in src = {0}, dst = {0};
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(idx % 200));
  if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  dst.sin_family = AF_INET;
  dst.sin_port = htons((uint16_t)port);
  dst.sin_addr.s_addr = htonl(0x7f000001u);
  if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

static void conn_queue_post(conn *c, const char *path, const char *accept, const char *sid,
                            const uint8_t *body, size_t len) {
  char head[512], acc[128] = "", sidh[128] = "";
  if (accept) snprintf(acc, sizeof acc, "Accept: %s\r\n", accept);
  if (sid) snprintf(sidh, sizeof sidh, "Mesos-Stream-Id: %s\r\n", sid);
  int n = snprintf(head, sizeof head,
                   "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                   "application/x-protobuf\r\n%s%sContent-Length: %zu\r\n\r\n",
                   path, acc, sidh, len);
  size_t cap = c->out_len;
  buf_put(&c->out, &c->out_len, &cap, head, (size_t)n);
  buf_put(&c->out, &c->out_len, &cap, body, len);
}

static void conn_queue_text(conn *c, const char *text) {
  size_t cap = c->out_len;
  buf_put(&c->out, &c->out_len, &cap, text, strlen(text));
}

/* Writes what it can; false on a broken connection. */
static bool conn_flush(conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (n < 0) return errno == EAGAIN || errno == EINTR || errno == ENOTCONN;
    c->out_off += (size_t)n;
  }
  free(c->out);
  c->out = NULL;
  c->out_len = c->out_off = 0;
  return true;
}

typedef void (*record_fn)(conn *c, const uint8_t *rec, size_t len, void *ud);

/* Decodes what arrived: headers, then chunks, then RecordIO records. */
static void conn_parse(conn *c, record_fn fn, void *ud) {
  size_t off = 0;
  for (;;) {
    char *p = c->in + off;
    size_t avail = c->in_len - off;
    if (c->state == 4) {
      off = c->in_len;
      break;
    }
    if (c->state == 0) {
      char *end = memmem(p, avail, "\r\n\r\n", 4);
      if (end == NULL) break;
      c->status = avail > 12 ? atoi(p + 9) : 0;
      char *sid = memmem(p, (size_t)(end - p), "Mesos-Stream-Id: ", 17);
      if (sid) {
        sid += 17;
        size_t l = strcspn(sid, "\r");
        if (l >= sizeof c->stream_id) l = sizeof c->stream_id - 1;
        memcpy(c->stream_id, sid, l);
        c->stream_id[l] = '\0';
      }
      off += (size_t)(end + 4 - p);
      c->state = memmem(p, (size_t)(end - p), "chunked", 7) ? 1 : 4;
      if (c->state == 4) c->done = true;
      continue;
    }
    if (c->state == 1) {
      char *nl = memmem(p, avail, "\r\n", 2);
      if (nl == NULL) break;
      c->chunk_left = strtoul(p, NULL, 16);
      off += (size_t)(nl + 2 - p);
      c->state = c->chunk_left ? 2 : 4;
      continue;
    }
    if (c->state == 2) {
      if (avail == 0) break;
      size_t n = avail < c->chunk_left ? avail : c->chunk_left;
      buf_put(&c->body, &c->body_len, &c->body_cap, p, n);
      c->chunk_left -= n;
      off += n;
      if (c->chunk_left == 0) c->state = 3;
      continue;
    }
    if (c->state == 3) {
      if (avail < 2) break;
      off += 2;
      c->state = 1;
      continue;
    }
  }
  if (off) memmove(c->in, c->in + off, c->in_len - off);
  c->in_len -= off;
  if (c->body_len == 0) return;
  /* RecordIO: "<length>\n<bytes>". */
  size_t roff = 0;
  for (;;) {
    char *nl = memchr(c->body + roff, '\n', c->body_len - roff);
    if (nl == NULL) break;
    size_t len = strtoul(c->body + roff, NULL, 10);
    size_t start = (size_t)(nl + 1 - c->body);
    if (c->body_len - start < len) break;
    c->records++;
    if (fn) fn(c, (const uint8_t *)c->body + start, len, ud);
    roff = start + len;
  }
  if (roff) memmove(c->body, c->body + roff, c->body_len - roff);
  c->body_len -= roff;
}

/* Reads what is there; false on EOF or error. */
static bool conn_read(conn *c, record_fn fn, void *ud) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n > 0) {
      buf_put(&c->in, &c->in_len, &c->in_cap, buf, (size_t)n);
      continue;
    }
    if (n == 0) return false;
    if (errno == EAGAIN || errno == EINTR) break;
    return false;
  }
  conn_parse(c, fn, ud);
  return true;
}

static void conn_close(conn *c) {
  if (c->fd >= 0) close(c->fd);
  free(c->out);
  free(c->in);
  free(c->body);
  memset(c, 0, sizeof *c);
  c->fd = -1;
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len) {
  uint8_t *b = NULL;
  if (mesos__pb_pack(m, 0, &b, len, NULL) != MESOS_OK) fail("pack");
  return b;
}

static Mesos__V1__Resource *scalar(Mesos__V1__Resource *r, Mesos__V1__Value__Scalar *s,
                                   const char *name, double v) {
  mesos__v1__resource__init(r);
  mesos__v1__value__scalar__init(s);
  s->value = v;
  r->name = (char *)name;
  r->type = MESOS__V1__VALUE__TYPE__SCALAR;
  r->scalar = s;
  return r;
}

/* REGISTER (id NULL) or REREGISTER with `ntasks` tasks of frameworks fw-0..9. */
static uint8_t *agent_call(int idx, const char *id, int ntasks, double cpus, double mem,
                           size_t *len) {
  Mesos__V1__Resource res[2], *resp[2];
  Mesos__V1__Value__Scalar sc[2];
  resp[0] = scalar(&res[0], &sc[0], "cpus", cpus);
  resp[1] = scalar(&res[1], &sc[1], "mem", mem);
  char host[64];
  snprintf(host, sizeof host, "bench-agent-%d", idx);
  Mesos__V1__AgentInfo info = MESOS__V1__AGENT_INFO__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  info.hostname = host;
  info.n_resources = 2;
  info.resources = resp;
  Mesos__Internal__AgentCall call = MESOS__INTERNAL__AGENT_CALL__INIT;
  call.protocol_version = 1;
  call.has_type = 1;
  Mesos__Internal__RegisterAgent ra = MESOS__INTERNAL__REGISTER_AGENT__INIT;
  Mesos__Internal__ReregisterAgent rr = MESOS__INTERNAL__REREGISTER_AGENT__INIT;
  Mesos__V1__Task *tv = NULL, **tp = NULL;
  Mesos__V1__TaskID *tids = NULL;
  Mesos__V1__ExecutorID *eids = NULL;
  char (*names)[32] = NULL;
  Mesos__V1__FrameworkID fids[10];
  Mesos__V1__FrameworkInfo fis[10], *fip[10];
  char fnames[10][16];
  Mesos__V1__Resource tres[2], *tresp[2];
  Mesos__V1__Value__Scalar tsc[2];
  tresp[0] = scalar(&tres[0], &tsc[0], "cpus", 0.1);
  tresp[1] = scalar(&tres[1], &tsc[1], "mem", 32);
  if (id == NULL) {
    ra.agent = &info;
    call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__REGISTER;
    call.register_agent = &ra;
  } else {
    aid.value = (char *)id;
    info.id = &aid;
    call.agent_id = &aid;
    call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__REREGISTER;
    rr.agent = &info;
    for (int f = 0; f < 10; f++) {
      snprintf(fnames[f], sizeof fnames[f], "fw-%d", f);
      mesos__v1__framework_id__init(&fids[f]);
      mesos__v1__framework_info__init(&fis[f]);
      fids[f].value = fnames[f];
      fis[f].id = &fids[f];
      fis[f].user = "bench";
      fis[f].name = fnames[f];
      fip[f] = &fis[f];
    }
    tv = xmalloc(sizeof *tv * (size_t)ntasks);
    tp = xmalloc(sizeof *tp * (size_t)ntasks);
    tids = xmalloc(sizeof *tids * (size_t)ntasks);
    eids = xmalloc(sizeof *eids * (size_t)ntasks);
    names = xmalloc(sizeof *names * (size_t)ntasks);
    for (int t = 0; t < ntasks; t++) {
      mesos__v1__task__init(&tv[t]);
      mesos__v1__task_id__init(&tids[t]);
      snprintf(names[t], sizeof names[t], "task-%d-%d", idx, t);
      tids[t].value = names[t];
      mesos__v1__executor_id__init(&eids[t]);
      eids[t].value = names[t]; /* the command executor takes the task's id */
      tv[t].name = names[t];
      tv[t].task_id = &tids[t];
      tv[t].framework_id = &fids[t % 10];
      tv[t].agent_id = &aid;
      tv[t].executor_id = &eids[t];
      tv[t].state = MESOS__V1__TASK_STATE__TASK_RUNNING;
      tv[t].n_resources = 2;
      tv[t].resources = tresp;
      tp[t] = &tv[t];
    }
    rr.tasks = tp;
    rr.n_tasks = (size_t)ntasks;
    rr.frameworks = fip;
    rr.n_frameworks = 10;
    call.reregister_agent = &rr;
  }
  uint8_t *b = pack(&call.base, len);
  free(tv);
  free(tp);
  free(tids);
  free(eids);
  free(names);
  return b;
}

/* Opens `n` connections (at most `window` not yet answered at a time), sends
 * what `make` builds for each, and waits for each one's answer: the first
 * record of its event stream, or the headers of a plain response.  Returns
 * the milliseconds from the first connect to the last answer.  The
 * connections stay open in `cs` (the caller closes them). */
typedef uint8_t *(*make_fn)(int idx, size_t *len, void *ud);

static double open_all(conn *cs, int n, int port, int window, make_fn make, void *ud,
                       const char *get_path) {
  double t0 = wall_ms();
  int next = 0, answered = 0, inflight = 0;
  struct pollfd *pfd = xmalloc(sizeof *pfd * (size_t)n);
  int *idx = xmalloc(sizeof *idx * (size_t)n);
  while (answered < n) {
    while (next < n && inflight < window) {
      conn *c = &cs[next];
      memset(c, 0, sizeof *c);
      c->fd = connect_from(next, port);
      if (c->fd < 0) fail("connect");
      if (get_path) {
        char req[256];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", get_path);
        conn_queue_text(c, req);
      } else {
        size_t len = 0;
        uint8_t *body = make(next, &len, ud);
        conn_queue_post(c, "/api/v1/agent", "application/x-protobuf", NULL, body, len);
        free(body);
      }
      next++;
      inflight++;
    }
    int k = 0;
    for (int i = 0; i < next; i++) {
      conn *c = &cs[i];
      if (c->done) continue;
      pfd[k].fd = c->fd;
      pfd[k].events = POLLIN | (c->out_len ? POLLOUT : 0);
      pfd[k].revents = 0;
      idx[k++] = i;
    }
    if (poll(pfd, (nfds_t)k, 10000) <= 0) fail("no progress in 10 s");
    for (int j = 0; j < k; j++) {
      conn *c = &cs[idx[j]];
      if (pfd[j].revents & POLLOUT) conn_flush(c);
      if (pfd[j].revents & (POLLIN | POLLHUP | POLLERR)) {
        if (!conn_read(c, NULL, NULL) && !c->done && c->records == 0) fail("connection closed");
        if (c->status && c->status != 200) {
          fprintf(stderr, "status %d: %.*s\n", c->status, (int)c->in_len, c->in);
          fail("unexpected HTTP status");
        }
        if (!c->done && (c->records > 0 || (get_path && c->status == 200))) c->done = true;
        if (c->done) {
          answered++;
          inflight--;
        }
      }
    }
  }
  double t = wall_ms() - t0;
  free(pfd);
  free(idx);
  return t;
}

static void close_all(conn *cs, int n) {
  for (int i = 0; i < n; i++) conn_close(&cs[i]);
}

/* ------------------------------------------------------------ reregister */

typedef struct rereg_ctx {
  char **ids;
  int tasks_per_agent;
} rereg_ctx;

static uint8_t *make_register(int idx, size_t *len, void *ud) {
  (void)ud;
  return agent_call(idx, NULL, 0, 8, 16384, len);
}

static uint8_t *make_reregister(int idx, size_t *len, void *ud) {
  rereg_ctx *x = ud;
  return agent_call(idx, x->ids[idx], x->tasks_per_agent, 8, 16384, len);
}

static void raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

static void bench_reregister(int nagents, int tasks_per_agent) {
  raise_nofile();
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < (rlim_t)nagents + 64) {
    fprintf(stderr, "bench_master: RLIMIT_NOFILE %llu is below %d connections\n",
            (unsigned long long)rl.rlim_cur, nagents + 64);
    exit(1);
  }
  char dir[256];
  struct stat st;
  snprintf(dir, sizeof dir, "%s/bench-master-XXXXXX",
           stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp");
  if (mkdtemp(dir) == NULL) fail("mkdtemp");
  /* Phase 1: every agent registers (durable admission), with the first
   * master in a process of its own: a restarted master is a new process,
   * so the second one starts from a fresh heap, not from one holding the
   * first master's freed memory. */
  chan ch;
  if (pipe(ch.to_child) || pipe(ch.to_parent)) fail("pipe");
  int res_pipe[2];
  if (pipe(res_pipe)) fail("pipe");
  pid_t m1 = fork();
  if (m1 == 0) {
    master_proc mp = {0};
    master_start(&mp, dir);
    int port = (int)mesos_master_port(mp.master);
    long rss0 = rss_bytes(), heap0 = heap_bytes();
    pid_t pid = fork();
    if (pid == 0) {
      conn *cs = xmalloc(sizeof *cs * (size_t)nagents);
      double ms = open_all(cs, nagents, port, 1000, make_register, NULL, NULL);
      send_byte(ch.to_parent[1], 'D');
      send_doubles(ch.to_parent[1], &ms, 1);
      recv_byte(ch.to_child[0]);
      close_all(cs, nagents);
      _exit(0);
    }
    if (serve_until_byte(&mp, ch.to_parent[0]) != 'D') fail("protocol");
    double out[3];
    fcntl(ch.to_parent[0], F_SETFL, 0);
    recv_doubles(ch.to_parent[0], &out[0], 1);
    long rss1 = rss_bytes(), heap1 = heap_bytes();
    if (mesos__map_count(&mp.master->agents) != (size_t)nagents)
      fail("not every agent registered");
    send_byte(ch.to_child[1], 'Q');
    waitpid(pid, NULL, 0);
    out[1] = (double)(rss1 - rss0);
    out[2] = (double)(heap1 - heap0);
    send_doubles(res_pipe[1], out, 3);
    mesos_master_free(mp.master);
    mesos_timer_free(mp.timer);
    mesos_loop_free(mp.loop);
    _exit(0);
  }
  double p1[3];
  recv_doubles(res_pipe[0], p1, 3);
  int m1_status = 0;
  waitpid(m1, &m1_status, 0);
  if (!WIFEXITED(m1_status) || WEXITSTATUS(m1_status) != 0) fail("the first master failed");
  close(res_pipe[0]);
  close(res_pipe[1]);
  double reg_ms = p1[0];

  /* The restart: a new master (in this process) recovers the registry. */
  master_proc mp = {0};
  master_start(&mp, dir);
  int port = (int)mesos_master_port(mp.master);
  pid_t pid;
  const Mesos__Internal__Registry *reg = mesos__registry_state(mp.master->registry);
  if (reg->n_agents != (size_t)nagents) fail("registry not recovered");
  rereg_ctx x = {xmalloc(sizeof(char *) * (size_t)nagents), tasks_per_agent};
  for (int i = 0; i < nagents; i++) x.ids[i] = reg->agents[i]->info->id->value;

  /* Phase 2 (the forked client sees the ids through its copy of memory). */
  pid = fork();
  if (pid == 0) {
    conn *cs = xmalloc(sizeof *cs * (size_t)nagents);
    double t[2];
    send_byte(ch.to_parent[1], 'R');
    recv_byte(ch.to_child[0]);
    t[0] = open_all(cs, nagents, port, 1000, NULL, NULL, "/health");
    close_all(cs, nagents);
    send_byte(ch.to_parent[1], 'H');
    recv_byte(ch.to_child[0]);
    t[1] = open_all(cs, nagents, port, 1000, make_reregister, &x, NULL);
    send_byte(ch.to_parent[1], 'D');
    send_doubles(ch.to_parent[1], t, 2);
    recv_byte(ch.to_child[0]);
    close_all(cs, nagents);
    _exit(0);
  }
  if (serve_until_byte(&mp, ch.to_parent[0]) != 'R') fail("protocol");
  double c0 = master_ms();
  send_byte(ch.to_child[1], 'G');
  if (serve_until_byte(&mp, ch.to_parent[0]) != 'H') fail("protocol");
  serve_for(&mp, 300); /* the closed connections' ends are baseline work too */
  double c1 = master_ms();
  long heap_r0 = heap_bytes(), flt0 = minor_faults();
  perf_ctl("enable");
  send_byte(ch.to_child[1], 'G');
  if (serve_until_byte(&mp, ch.to_parent[0]) != 'D') fail("protocol");
  perf_ctl("disable");
  double c2 = master_ms();
  long heap_r1 = heap_bytes(), flt1 = minor_faults();
  double t[2];
  fcntl(ch.to_parent[0], F_SETFL, 0);
  recv_doubles(ch.to_parent[0], t, 2);
  size_t agents = mesos__map_count(&mp.master->agents), tasks = master_tasks(mp.master);
  size_t expected = mesos__map_count(&mp.master->expected);
  send_byte(ch.to_child[1], 'Q');
  waitpid(pid, NULL, 0);
  if (agents != (size_t)nagents || tasks != (size_t)nagents * (size_t)tasks_per_agent ||
      expected != 0) {
    fprintf(stderr, "agents %zu tasks %zu still expected %zu\n", agents, tasks, expected);
    fail("the master does not hold what was re-registered");
  }
  size_t info_len = 0;
  uint8_t *info = agent_call(0, NULL, 0, 8, 16384, &info_len);
  free(info);
  const char *name = "master-reregister-10k";
  printf("# %d agents registered in %.1f ms (durable admission each)\n", nagents, reg_ms);
  printf("# wall clock at the client: re-registration %.1f ms, %d health round trips %.1f ms\n",
         t[1], nagents, t[0]);
  printf("# heap growth over the re-registration: %.0f bytes per agent (with its %d tasks)\n",
         (double)(heap_r1 - heap_r0) / nagents, tasks_per_agent);
  printf("# page faults of the master over the re-registration: %ld (first touches of new "
         "memory; each costs microseconds on a virtual machine)\n",
         flt1 - flt0);
  printf("bench: %s %.1f ms baseline http-health-roundtrip-10k %.1f ms ratio %.2f\n", name,
         c2 - c1, c1 - c0, (c2 - c1) / (c1 - c0));
  printf("# resident set growth per agent: %.0f bytes\n", p1[1] / nagents);
  double per_agent = p1[2] / nagents;
  printf("bench: master-bytes-per-agent %.0f bytes baseline register-call-encoded %zu bytes "
         "ratio %.2f\n",
         per_agent, info_len, per_agent / (double)info_len);
  fflush(stdout);
  free(x.ids);
  mesos_master_free(mp.master);
  mesos_timer_free(mp.timer);
  mesos_loop_free(mp.loop);
  close(ch.to_child[0]);
  close(ch.to_child[1]);
  close(ch.to_parent[0]);
  close(ch.to_parent[1]);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fail("cleanup");
}

/* ------------------------------------------------------------ launch */

typedef struct launch_ctx {
  int total, per_accept, launched;
  long run_tasks; /* RUN_TASK records the agents read */
  conn *fw, *poster;
  char fw_id[128];
  double t_first;
} launch_ctx;

/* The ACCEPT launching `k` tasks on one offer. */
static uint8_t *accept_call(const char *fw_id, const char *offer_id, const char *agent_id,
                            int first, int k, size_t *len) {
  Mesos__V1__Scheduler__Call call = MESOS__V1__SCHEDULER__CALL__INIT;
  Mesos__V1__Scheduler__Call__Accept acc = MESOS__V1__SCHEDULER__CALL__ACCEPT__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__OfferID oid = MESOS__V1__OFFER_ID__INIT, *oidp = &oid;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  Mesos__V1__Offer__Operation op = MESOS__V1__OFFER__OPERATION__INIT, *opp = &op;
  Mesos__V1__Offer__Operation__Launch la = MESOS__V1__OFFER__OPERATION__LAUNCH__INIT;
  Mesos__V1__Filters filters = MESOS__V1__FILTERS__INIT;
  Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
  Mesos__V1__Resource res[2], *resp[2];
  Mesos__V1__Value__Scalar sc[2];
  resp[0] = scalar(&res[0], &sc[0], "cpus", 0.01);
  resp[1] = scalar(&res[1], &sc[1], "mem", 1);
  cmd.value = "true";
  fid.value = (char *)fw_id;
  oid.value = (char *)offer_id;
  aid.value = (char *)agent_id;
  Mesos__V1__TaskInfo *ti = xmalloc(sizeof *ti * (size_t)k), **tip = xmalloc(sizeof *tip * (size_t)k);
  Mesos__V1__TaskID *tid = xmalloc(sizeof *tid * (size_t)k);
  char (*names)[24] = xmalloc(sizeof *names * (size_t)k);
  for (int i = 0; i < k; i++) {
    mesos__v1__task_info__init(&ti[i]);
    mesos__v1__task_id__init(&tid[i]);
    snprintf(names[i], sizeof names[i], "t%d", first + i);
    tid[i].value = names[i];
    ti[i].name = names[i];
    ti[i].task_id = &tid[i];
    ti[i].agent_id = &aid;
    ti[i].command = &cmd;
    ti[i].n_resources = 2;
    ti[i].resources = resp;
    tip[i] = &ti[i];
  }
  la.n_task_infos = (size_t)k;
  la.task_infos = tip;
  op.has_type = 1;
  op.type = MESOS__V1__OFFER__OPERATION__TYPE__LAUNCH;
  op.launch = &la;
  filters.has_refuse_seconds = 1;
  filters.refuse_seconds = 0;
  acc.n_offer_ids = 1;
  acc.offer_ids = &oidp;
  acc.n_operations = 1;
  acc.operations = &opp;
  acc.filters = &filters;
  call.framework_id = &fid;
  call.has_type = 1;
  call.type = MESOS__V1__SCHEDULER__CALL__TYPE__ACCEPT;
  call.accept = &acc;
  uint8_t *b = pack(&call.base, len);
  free(ti);
  free(tip);
  free(tid);
  free(names);
  return b;
}

static void on_fw_record(conn *c, const uint8_t *rec, size_t len, void *ud) {
  (void)c;
  launch_ctx *x = ud;
  ProtobufCMessage *m = NULL;
  if (mesos__pb_unpack(&mesos__v1__scheduler__event__descriptor, rec, len, 0, 0, &m, NULL) !=
      MESOS_OK)
    fail("undecodable event");
  const Mesos__V1__Scheduler__Event *ev = (const Mesos__V1__Scheduler__Event *)m;
  if (ev->type == MESOS__V1__SCHEDULER__EVENT__TYPE__SUBSCRIBED) {
    snprintf(x->fw_id, sizeof x->fw_id, "%s", ev->subscribed->framework_id->value);
  } else if (ev->type == MESOS__V1__SCHEDULER__EVENT__TYPE__OFFERS && x->fw_id[0]) {
    for (size_t i = 0; i < ev->offers->n_offers; i++) {
      const Mesos__V1__Offer *o = ev->offers->offers[i];
      int k = x->total - x->launched;
      if (k > x->per_accept) k = x->per_accept;
      if (k <= 0) break;
      size_t blen = 0;
      uint8_t *b = accept_call(x->fw_id, o->id->value, o->agent_id->value, x->launched, k, &blen);
      if (x->launched == 0) x->t_first = wall_ms();
      x->launched += k;
      conn_queue_post(x->poster, "/api/v1/scheduler", NULL, x->fw->stream_id, b, blen);
      free(b);
    }
  } else if (ev->type == MESOS__V1__SCHEDULER__EVENT__TYPE__UPDATE) {
    fprintf(stderr, "bench_master: unexpected UPDATE %s: %s\n",
            ev->update->status->task_id->value,
            ev->update->status->message ? ev->update->status->message : "");
    fail("a launch failed");
  }
  mesos__pb_free(m);
}

static void on_agent_record(conn *c, const uint8_t *rec, size_t len, void *ud) {
  (void)rec;
  (void)len;
  launch_ctx *x = ud;
  if (c->records > 1) x->run_tasks++; /* the first record is REGISTERED */
}

/* The serialization floor: every ACCEPT and RUN_TASK encoded and decoded
 * once, no master. */
static double launch_baseline(int total, int per_accept) {
  Mesos__V1__FrameworkInfo fi = MESOS__V1__FRAMEWORK_INFO__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  fid.value = "0123456789abcdef0123456789abcdef-0000";
  fi.id = &fid;
  fi.user = "bench";
  fi.name = "launch bench";
  double t0 = self_ms();
  for (int done = 0; done < total; done += per_accept) {
    int k = total - done < per_accept ? total - done : per_accept;
    size_t len = 0;
    uint8_t *b = accept_call(fid.value, "offer-id-0123456789abcdef-O1", "agent-0123456789-S1", done,
                             k, &len);
    ProtobufCMessage *m = NULL;
    if (mesos__pb_unpack(&mesos__v1__scheduler__call__descriptor, b, len, 0, 0, &m, NULL) !=
        MESOS_OK)
      fail("baseline decode");
    free(b);
    const Mesos__V1__Scheduler__Call *call = (const Mesos__V1__Scheduler__Call *)m;
    const Mesos__V1__Offer__Operation__Launch *la = call->accept->operations[0]->launch;
    for (size_t i = 0; i < la->n_task_infos; i++) {
      Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
      Mesos__Internal__RunTask rt = MESOS__INTERNAL__RUN_TASK__INIT;
      rt.framework = &fi;
      rt.task = la->task_infos[i];
      ev.protocol_version = 1;
      ev.has_type = 1;
      ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK;
      ev.run_task = &rt;
      size_t elen = 0;
      uint8_t *eb = pack(&ev.base, &elen);
      ProtobufCMessage *em = NULL;
      if (mesos__pb_unpack(&mesos__internal__agent_event__descriptor, eb, elen, 0, 0, &em,
                           NULL) != MESOS_OK)
        fail("baseline decode");
      mesos__pb_free(em);
      free(eb);
    }
    mesos__pb_free(m);
  }
  return (double)total / ((self_ms() - t0) / 1e3);
}

static void bench_launch(int nagents, int total, int per_accept) {
  raise_nofile();
  master_proc mp = {0};
  master_start(&mp, NULL);
  int port = (int)mesos_master_port(mp.master);
  chan ch;
  if (pipe(ch.to_child) || pipe(ch.to_parent)) fail("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    double base = launch_baseline(total, per_accept);
    launch_ctx x = {0};
    x.total = total;
    x.per_accept = per_accept;
    conn *agents = xmalloc(sizeof *agents * (size_t)nagents);
    /* Each agent holds enough for its share of the tasks. */
    double cpus = (double)total * 0.01 / nagents + 1, mem = (double)total / nagents + 64;
    for (int i = 0; i < nagents; i++) {
      memset(&agents[i], 0, sizeof agents[i]);
      agents[i].fd = connect_from(i, port);
      if (agents[i].fd < 0) fail("connect");
      size_t len = 0;
      uint8_t *b = agent_call(i, NULL, 0, cpus, mem, &len);
      conn_queue_post(&agents[i], "/api/v1/agent", "application/x-protobuf", NULL, b, len);
      free(b);
    }
    conn fw = {0}, poster = {0};
    fw.fd = connect_from(nagents, port);
    poster.fd = connect_from(nagents + 1, port);
    if (fw.fd < 0 || poster.fd < 0) fail("connect");
    x.fw = &fw;
    x.poster = &poster;
    send_byte(ch.to_parent[1], 'R');
    recv_byte(ch.to_child[0]);
    {
      Mesos__V1__Scheduler__Call call = MESOS__V1__SCHEDULER__CALL__INIT;
      Mesos__V1__Scheduler__Call__Subscribe sub = MESOS__V1__SCHEDULER__CALL__SUBSCRIBE__INIT;
      Mesos__V1__FrameworkInfo fi = MESOS__V1__FRAMEWORK_INFO__INIT;
      fi.user = "bench";
      fi.name = "launch bench";
      sub.framework_info = &fi;
      call.has_type = 1;
      call.type = MESOS__V1__SCHEDULER__CALL__TYPE__SUBSCRIBE;
      call.subscribe = &sub;
      size_t len = 0;
      uint8_t *b = pack(&call.base, &len);
      conn_queue_post(&fw, "/api/v1/scheduler", "application/x-protobuf", NULL, b, len);
      free(b);
    }
    int n = nagents + 2;
    struct pollfd *pfd = xmalloc(sizeof *pfd * (size_t)n);
    double deadline = wall_ms() + 120000;
    while (x.run_tasks < total) {
      for (int i = 0; i < n; i++) {
        conn *c = i < nagents ? &agents[i] : i == nagents ? &fw : &poster;
        pfd[i].fd = c->fd;
        pfd[i].events = POLLIN | (c->out_len ? POLLOUT : 0);
        pfd[i].revents = 0;
      }
      if (poll(pfd, (nfds_t)n, 10000) <= 0 || wall_ms() > deadline) fail("no progress");
      for (int i = 0; i < n; i++) {
        conn *c = i < nagents ? &agents[i] : i == nagents ? &fw : &poster;
        if (pfd[i].revents & POLLOUT) conn_flush(c);
        if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          bool ok = i < nagents    ? conn_read(c, on_agent_record, &x)
                    : i == nagents ? conn_read(c, on_fw_record, &x)
                                   : conn_read(c, NULL, NULL);
          if (!ok) fail("a connection closed");
        }
        /* The poster answers 202s; keep-alive, drained as they come. */
        if (c == &poster && c->state == 4) {
          c->in_len = 0;
          c->state = 0;
          c->done = false;
        }
      }
      /* New ACCEPTs queued while reading: push them out now. */
      conn_flush(&poster);
    }
    double t = wall_ms() - x.t_first;
    double res[2] = {(double)total / (t / 1e3), base};
    send_byte(ch.to_parent[1], 'D');
    send_doubles(ch.to_parent[1], res, 2);
    recv_byte(ch.to_child[0]);
    for (int i = 0; i < nagents; i++) conn_close(&agents[i]);
    conn_close(&fw);
    conn_close(&poster);
    free(agents);
    free(pfd);
    _exit(0);
  }
  if (serve_until_byte(&mp, ch.to_parent[0]) != 'R') fail("protocol");
  long rss0 = rss_bytes(), heap0 = heap_bytes();
  double c0 = master_ms();
  send_byte(ch.to_child[1], 'G');
  if (serve_until_byte(&mp, ch.to_parent[0]) != 'D') fail("protocol");
  double c1 = master_ms();
  double res[2];
  fcntl(ch.to_parent[0], F_SETFL, 0);
  recv_doubles(ch.to_parent[0], res, 2);
  long rss1 = rss_bytes(), heap1 = heap_bytes();
  size_t tasks = master_tasks(mp.master);
  send_byte(ch.to_child[1], 'Q');
  waitpid(pid, NULL, 0);
  if (tasks != (size_t)total) {
    fprintf(stderr, "master holds %zu tasks, want %d\n", tasks, total);
    fail("tasks missing");
  }
  size_t tlen = 0;
  uint8_t *b = accept_call("0123456789abcdef0123456789abcdef-0000", "o", "a", 0, 1, &tlen);
  free(b);
  /* The master's rate: tasks per second of its time over the launch
   * (registration and subscription happened before). */
  double rate = (double)total / ((c1 - c0) / 1e3);
  printf("# wall clock at the client: %.0f tasks/s\n", res[0]);
  printf("bench: master-launch-throughput %.0f tasks/s baseline pb-accept-runtask-roundtrip %.0f "
         "tasks/s ratio %.2f\n",
         rate, res[1], rate / res[1]);
  printf("# resident set growth per task: %.0f bytes\n", (double)(rss1 - rss0) / total);
  double per_task = (double)(heap1 - heap0) / total;
  printf("bench: master-bytes-per-task %.0f bytes baseline accept-call-with-one-task-encoded %zu "
         "bytes ratio %.2f\n",
         per_task, tlen, per_task / (double)tlen);
  fflush(stdout);
  mesos_master_free(mp.master);
  mesos_timer_free(mp.timer);
  mesos_loop_free(mp.loop);
}

/* ------------------------------------------------------------ subscribe */

typedef struct sub_ctx {
  conn *fws, *poster;
  int nfw, offered;
  long offers, declines;
  double *first_offer; /* per framework: ms since start, 0 until offered */
  double t0;
  char (*fw_ids)[128];
} sub_ctx;

/* DECLINE of `n` offers with an unbounded refuse filter: the framework
 * does not want them, so they go to the others. */
static uint8_t *decline_call(const char *fw_id, const Mesos__V1__Offer *const *offers, size_t n,
                             size_t *len) {
  Mesos__V1__Scheduler__Call call = MESOS__V1__SCHEDULER__CALL__INIT;
  Mesos__V1__Scheduler__Call__Decline d = MESOS__V1__SCHEDULER__CALL__DECLINE__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__Filters filters = MESOS__V1__FILTERS__INIT;
  Mesos__V1__OfferID **ids = xmalloc(sizeof *ids * n);
  for (size_t i = 0; i < n; i++) ids[i] = offers[i]->id;
  fid.value = (char *)fw_id;
  filters.has_refuse_seconds = 1;
  filters.refuse_seconds = 1e9;
  d.n_offer_ids = n;
  d.offer_ids = ids;
  d.filters = &filters;
  call.framework_id = &fid;
  call.has_type = 1;
  call.type = MESOS__V1__SCHEDULER__CALL__TYPE__DECLINE;
  call.decline = &d;
  uint8_t *b = pack(&call.base, len);
  free(ids);
  return b;
}

static void on_sub_record(conn *c, const uint8_t *rec, size_t len, void *ud) {
  sub_ctx *x = ud;
  int i = (int)(c - x->fws);
  ProtobufCMessage *m = NULL;
  if (mesos__pb_unpack(&mesos__v1__scheduler__event__descriptor, rec, len, 0, 0, &m, NULL) !=
      MESOS_OK)
    fail("undecodable event");
  const Mesos__V1__Scheduler__Event *ev = (const Mesos__V1__Scheduler__Event *)m;
  if (ev->type == MESOS__V1__SCHEDULER__EVENT__TYPE__SUBSCRIBED) {
    snprintf(x->fw_ids[i], sizeof x->fw_ids[i], "%s", ev->subscribed->framework_id->value);
  } else if (ev->type == MESOS__V1__SCHEDULER__EVENT__TYPE__OFFERS && x->fw_ids[i][0]) {
    x->offers += (long)ev->offers->n_offers;
    if (x->first_offer[i] == 0 && ev->offers->n_offers) {
      x->first_offer[i] = wall_ms() - x->t0;
      x->offered++;
    }
    size_t blen = 0;
    uint8_t *b = decline_call(x->fw_ids[i], (const Mesos__V1__Offer *const *)ev->offers->offers,
                              ev->offers->n_offers, &blen);
    conn_queue_post(x->poster, "/api/v1/scheduler", NULL, c->stream_id, b, blen);
    x->declines++;
    free(b);
  }
  mesos__pb_free(m);
}

/* master-subscribe-1k: `nagents` simulated agents register, then `nfw`
 * frameworks subscribe at once over their own connections; each declines
 * whatever it is offered with an unbounded refuse filter (it wants
 * nothing), so the agents' resources move on to the frameworks not
 * offered yet.  The master runs with the default 1 s
 * --allocation_interval.  Measured: wall-clock ms from the first SUBSCRIBE written
 * until every framework has received an offer (the client's view: offers
 * wait on allocation cycles, not only on the master's CPU).  Baseline:
 * `nfw` HTTP round trips (GET /health, one fresh connection each). */
static void bench_subscribe(int nagents, int nfw, int unused) {
  (void)unused;
  raise_nofile();
  master_proc mp = {0};
  alloc_interval = "--allocation_interval=1secs"; /* the default */
  master_start(&mp, NULL);
  int port = (int)mesos_master_port(mp.master);
  chan ch;
  if (pipe(ch.to_child) || pipe(ch.to_parent)) fail("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    conn *hc = xmalloc(sizeof *hc * (size_t)nfw);
    double base = open_all(hc, nfw, port, 1000, NULL, NULL, "/health");
    close_all(hc, nfw);
    free(hc);
    sub_ctx x = {0};
    x.nfw = nfw;
    x.fws = xmalloc(sizeof *x.fws * (size_t)nfw);
    x.first_offer = xmalloc(sizeof *x.first_offer * (size_t)nfw);
    x.fw_ids = xmalloc(sizeof *x.fw_ids * (size_t)nfw);
    conn *agents = xmalloc(sizeof *agents * (size_t)nagents);
    for (int i = 0; i < nagents; i++) {
      memset(&agents[i], 0, sizeof agents[i]);
      agents[i].fd = connect_from(i, port);
      if (agents[i].fd < 0) fail("connect");
      size_t len = 0;
      uint8_t *b = agent_call(i, NULL, 0, 8, 16384, &len);
      conn_queue_post(&agents[i], "/api/v1/agent", "application/x-protobuf", NULL, b, len);
      free(b);
    }
    conn poster = {0};
    poster.fd = connect_from(nagents + nfw, port);
    if (poster.fd < 0) fail("connect");
    x.poster = &poster;
    int n = nagents + nfw + 1;
    struct pollfd *pfd = xmalloc(sizeof *pfd * (size_t)n);
    /* The agents first (all registered before any framework comes). */
    int registered = 0;
    while (registered < nagents) {
      for (int i = 0; i < nagents; i++) {
        pfd[i].fd = agents[i].fd;
        pfd[i].events = POLLIN | (agents[i].out_len ? POLLOUT : 0);
        pfd[i].revents = 0;
      }
      if (poll(pfd, (nfds_t)nagents, 10000) <= 0) fail("agents: no progress");
      registered = 0;
      for (int i = 0; i < nagents; i++) {
        if (pfd[i].revents & POLLOUT) conn_flush(&agents[i]);
        if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) && !conn_read(&agents[i], NULL, NULL))
          fail("an agent connection closed");
        registered += agents[i].records > 0;
      }
    }
    x.t0 = wall_ms();
    for (int i = 0; i < nfw; i++) {
      memset(&x.fws[i], 0, sizeof x.fws[i]);
      x.first_offer[i] = 0;
      x.fw_ids[i][0] = '\0';
      x.fws[i].fd = connect_from(nagents + i, port);
      if (x.fws[i].fd < 0) fail("connect");
      Mesos__V1__Scheduler__Call call = MESOS__V1__SCHEDULER__CALL__INIT;
      Mesos__V1__Scheduler__Call__Subscribe sub = MESOS__V1__SCHEDULER__CALL__SUBSCRIBE__INIT;
      Mesos__V1__FrameworkInfo fi = MESOS__V1__FRAMEWORK_INFO__INIT;
      char name[32];
      snprintf(name, sizeof name, "fw-%d", i);
      fi.user = "bench";
      fi.name = name;
      sub.framework_info = &fi;
      call.has_type = 1;
      call.type = MESOS__V1__SCHEDULER__CALL__TYPE__SUBSCRIBE;
      call.subscribe = &sub;
      size_t len = 0;
      uint8_t *b = pack(&call.base, &len);
      conn_queue_post(&x.fws[i], "/api/v1/scheduler", "application/x-protobuf", NULL, b, len);
      free(b);
    }
    double deadline = x.t0 + 120000;
    while (x.offered < nfw) {
      for (int i = 0; i < n; i++) {
        conn *c = i < nagents ? &agents[i] : i < nagents + nfw ? &x.fws[i - nagents] : &poster;
        pfd[i].fd = c->fd;
        pfd[i].events = POLLIN | (c->out_len ? POLLOUT : 0);
        pfd[i].revents = 0;
      }
      if (poll(pfd, (nfds_t)n, 1000) < 0) fail("poll");
      if (wall_ms() > deadline) {
        fprintf(stderr, "bench_master: %d of %d frameworks offered in 120 s (%ld offers)\n",
                x.offered, nfw, x.offers);
        fail("not every framework was offered");
      }
      for (int i = 0; i < n; i++) {
        conn *c = i < nagents ? &agents[i] : i < nagents + nfw ? &x.fws[i - nagents] : &poster;
        if (pfd[i].revents & POLLOUT) conn_flush(c);
        if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          bool ok = i < nagents || c == &poster ? conn_read(c, NULL, NULL)
                                                : conn_read(c, on_sub_record, &x);
          if (!ok) fail("a connection closed");
        }
        if (c == &poster && c->state == 4) {
          if (c->status != 202) fail("a DECLINE was refused");
          c->in_len = 0;
          c->state = 0;
          c->done = false;
        }
      }
      conn_flush(&poster);
    }
    double t = wall_ms() - x.t0, half = 0;
    for (int i = 0; i < nfw; i++) half += x.first_offer[i];
    double res[4] = {t, base, half / nfw, (double)x.offers};
    send_byte(ch.to_parent[1], 'D');
    send_doubles(ch.to_parent[1], res, 4);
    recv_byte(ch.to_child[0]);
    for (int i = 0; i < nagents; i++) conn_close(&agents[i]);
    for (int i = 0; i < nfw; i++) conn_close(&x.fws[i]);
    conn_close(&poster);
    _exit(0);
  }
  double c0 = master_ms();
  if (serve_until_byte(&mp, ch.to_parent[0]) != 'D') fail("protocol");
  double c1 = master_ms();
  double res[4];
  fcntl(ch.to_parent[0], F_SETFL, 0);
  recv_doubles(ch.to_parent[0], res, 4);
  send_byte(ch.to_child[1], 'Q');
  serve_for(&mp, 100);
  waitpid(pid, NULL, 0);
  printf("# %d frameworks, %d agents: mean time to a first offer %.1f ms, %.0f offers made; "
         "the master's CPU time over the phase (baseline included) %.1f ms\n",
         nfw, nagents, res[2], res[3], c1 - c0);
  printf("bench: master-subscribe-1k %.1f ms baseline http-health-roundtrip-1k %.1f ms ratio "
         "%.2f\n",
         res[0], res[1], res[0] / res[1]);
  fflush(stdout);
  mesos_master_free(mp.master);
  mesos_timer_free(mp.timer);
  mesos_loop_free(mp.loop);
  close(ch.to_child[0]);
  close(ch.to_child[1]);
  close(ch.to_parent[0]);
  close(ch.to_parent[1]);
}

/* Each benchmark runs in a process of its own, so its memory figures start
 * from a fresh heap. */
static void run_forked(void (*fn)(int, int, int), int a, int b, int c) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    fn(a, b, c);
    fflush(stdout);
    _exit(0);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "bench_master: a benchmark failed (status %d)\n", st);
    exit(1);
  }
}

static void launch_entry(int a, int b, int c) { bench_launch(a, b, c); }
static void rereg_entry(int a, int b, int c) {
  (void)c;
  bench_reregister(a, b);
}

int main(int argc, char **argv) {
  /* --only=launch or --only=reregister runs one of them (profiling). */
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) quick = true;
    else if (strcmp(argv[i], "--only=launch") == 0) only = "launch";
    else if (strcmp(argv[i], "--only=reregister") == 0) only = "reregister";
    else if (strcmp(argv[i], "--only=subscribe") == 0) only = "subscribe";
    else {
      fprintf(stderr, "usage: bench_master [--quick] [--only=launch|--only=reregister|--only=subscribe]\n");
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  const char *w = getenv("MESOS_BENCH_WALL");
  use_wall = w && strcmp(w, "1") == 0;
  mesos_log_set_level(MESOS_LOG_ERROR);
  bool launch = only == NULL || strcmp(only, "launch") == 0;
  bool rereg = only == NULL || strcmp(only, "reregister") == 0;
  if (launch) run_forked(launch_entry, quick ? 4 : 20, quick ? 2000 : 100000, quick ? 250 : 500);
  if (rereg) run_forked(rereg_entry, quick ? 200 : 10000, quick ? 5 : 10, 0);
  if (only == NULL || strcmp(only, "subscribe") == 0)
    run_forked(bench_subscribe, quick ? 2 : 10, quick ? 50 : 1000, 0);
  return 0;
}
