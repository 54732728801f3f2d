/*
 * End-to-end task launch: a real mesos-master and mesos-agent ($O/bin) on
 * loopback and a framework on the C scheduler client that accepts every
 * offer, packing as many of N tasks (BENCH_TASKS, default 1000) of
 * `/bin/true` (0.1 cpus, 16 MB each; the agent has cpus:8;mem:8192) into
 * each ACCEPT as fit, and acknowledges every update.  Command executor
 * (mesos-executor) per task, as a user gets it by default.
 *
 * Per task: ACCEPT sent -> TASK_RUNNING received, and -> TASK_FINISHED.
 * Throughput: N / (first ACCEPT .. last TASK_FINISHED).
 * Baseline in the same program: fork + exec + wait of /bin/true, one at
 * a time (latency per run; runs per second).
 *
 *   bench: task-launch-latency-running <median> ms baseline fork-exec-wait <median> ms ratio <r> p99 <p99> ms
 *   bench: task-launch-latency-finished <median> ms baseline fork-exec-wait <median> ms ratio <r> p99 <p99> ms
 *   bench: task-launch-throughput <n> tasks/s baseline fork-exec-wait <n> runs/s ratio <r>
 *
 * The burst above accepts everything at once, so its latencies are mostly
 * the wait in the agent's queue.  A second, "steady" phase (BENCH_STEADY_TASKS,
 * default 300, of which at most BENCH_INFLIGHT, default 32, are unfinished at
 * any time) measures the system rather than the queue:
 *
 *   bench: task-launch-latency-running-steady <median> ms baseline fork-exec-wait <median> ms ratio <r> p99 <p99> ms
 *   bench: task-launch-latency-finished-steady <median> ms baseline fork-exec-wait <median> ms ratio <r> p99 <p99> ms
 *   bench: task-launch-throughput-steady <n> tasks/s baseline fork-exec-wait <n> runs/s ratio <r>
 *
 * CPU time per task over all phases, which a loaded machine disturbs far
 * less than the latencies: the agent's own, its children's (every
 * mesos-executor with the task it ran: reaped by the agent, so counted in
 * its cutime/cstime) and the master's; the baseline is the CPU time of one
 * fork+exec+wait of /bin/true, parent and child:
 *
 *   bench: task-launch-cpu-agent <ms> ms/task baseline fork-exec-wait <ms> ms/run ratio <r>
 *   bench: task-launch-cpu-executor <ms> ms/task baseline fork-exec-wait <ms> ms/run ratio <r>
 *   bench: task-launch-cpu-master <ms> ms/task baseline fork-exec-wait <ms> ms/run ratio <r>
 *
 * Neither of those measures latency: in the burst a task waits behind the
 * whole queue, and 32 in flight on a 2-core machine still queue (each task
 * is two process starts and a dozen hops between four processes).  The
 * ACCEPT->TASK_RUNNING target (5 ms) is a latency target, so a third,
 * "paced" phase (BENCH_PACED_TASKS, default 100) launches a task only while
 * fewer than BENCH_PACED_INFLIGHT (default 2: one per core, about what
 * this machine sustains without a queue forming) are unfinished, so what
 * it measures is the path of one task through the system, not a queue:
 *
 *   bench: task-launch-latency-running-paced <median> ms baseline fork-exec-wait <median> ms ratio <r> p99 <p99> ms
 *   bench: task-launch-latency-finished-paced <median> ms baseline fork-exec-wait <median> ms ratio <r> p99 <p99> ms
 *   bench: task-launch-throughput-paced <n> tasks/s baseline fork-exec-wait <n> runs/s ratio <r>
 *
 * An offer that arrives while the in-flight limit is reached is kept and
 * used as soon as a task ends (see use_offer for why not declined).
 * BENCH_TRACE=1 prints each offer and update with its time on stderr.
 *
 * The daemons get the master's and agent's default flags except the
 * addresses and directories (BENCH_MASTER_FLAGS / BENCH_AGENT_FLAGS add
 * more, space separated); their logs stay in the temporary directory when
 * BENCH_KEEP=1.  Everything started is killed by pid at exit.
 */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mesos/mesos.h>

#define MAX_TASKS 100000
#define TASK_CPUS 0.1
#define TASK_MEM 16.0

typedef struct task_times {
  double accept, running, finished; /* ms since start; 0: not yet */
} task_times;

/* One phase: `n` tasks named <prefix><i>, at most `inflight` unfinished
 * at a time (0: no limit). */
typedef struct phase {
  char prefix;
  int n, inflight;
  int launched, finished, failed;
  task_times *t;
  double first_accept, last_finished;
} phase;

/* An offer kept for later: see use_offer. */
typedef struct held_offer {
  char id[128], agent_id[128];
  double cpus, mem;
} held_offer;

#define MAX_HELD 16

typedef struct bench {
  mesos_loop *loop;
  mesos_scheduler *sched;
  mesos_timer *deadline;
  phase ph[3]; /* burst, steady, paced */
  int cur;     /* the phase launching now */
  int failed;
  int done;
  held_offer held[MAX_HELD];
  int nheld;
} bench;

/* Wall-clock seconds, for BENCH_TRACE lines: comparable with the
 * daemons' log times and strace -ttt. */
static double wall_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Sorts `v` and returns the q-quantile (nearest rank). */
static double quantile(double *v, size_t n, double q) {
  if (n == 0) return 0;
  qsort(v, n, sizeof *v, cmp_double);
  size_t i = (size_t)(q * (double)n);
  if (i >= n) i = n - 1;
  return v[i];
}

/* ------------------------------------------------------------ daemons */

static char tmp_dir[256];
static pid_t pids[2];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static void cleanup(void) {
  for (int i = 0; i < 2; i++) {
    if (pids[i] > 0) {
      kill(pids[i], SIGTERM);
      for (int k = 0; k < 100 && waitpid(pids[i], NULL, WNOHANG) == 0; k++) usleep(20000);
      kill(pids[i], SIGKILL);
      waitpid(pids[i], NULL, 0);
      pids[i] = 0;
    }
  }
  if (tmp_dir[0] && !getenv("BENCH_KEEP")) nftw(tmp_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  else if (tmp_dir[0]) fprintf(stderr, "kept %s\n", tmp_dir);
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return ntohs(sa.sin_port);
}

/* Starts `argv` (plus the space-separated words of $extra_env) with stderr
 * to `log`; it dies with us. */
static pid_t spawn(char **argv, const char *extra_env, const char *log) {
  char *args[64];
  int n = 0;
  for (; argv[n] && n < 40; n++) args[n] = argv[n];
  char *extra = getenv(extra_env) ? strdup(getenv(extra_env)) : NULL;
  for (char *save = NULL, *w = extra ? strtok_r(extra, " ", &save) : NULL; w && n < 63;
       w = strtok_r(NULL, " ", &save))
    args[n++] = w;
  args[n] = NULL;
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    FILE *f = freopen(log, "w", stderr);
    (void)f;
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 1);
    execv(args[0], args);
    _exit(127);
  }
  free(extra);
  return pid;
}

static int wait_health(int port) {
  for (int i = 0; i < 500; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0) close(fd);
    if (ok) return 0;
    usleep(10000);
  }
  return -1;
}

/* ------------------------------------------------------------ framework */

static void finish(bench *b) {
  if (b->done) return;
  b->done = 1;
  mesos_loop_stop(b->loop);
}

static void on_accept_done(mesos_scheduler *s, mesos_status status, int http_status,
                           const char *message, void *ud) {
  (void)s;
  if (status == MESOS_OK) return;
  fprintf(stderr, "bench_task_launch: ACCEPT failed (HTTP %d): %s\n", http_status, message);
  ((bench *)ud)->failed++;
  finish(ud);
}

static void use_offer(bench *b, const mesos_scheduler_offer *o) {
  static char infos[1 << 20], call[(1 << 20) + 512];
  size_t used = 0;
  double cpus = o->cpus, mem = o->mem;
  phase *p = &b->ph[b->cur];
  int first = p->launched, batch = 0;
  while (p->launched < p->n && cpus >= TASK_CPUS - 1e-9 && mem >= TASK_MEM &&
         (p->inflight == 0 || p->launched - p->finished - p->failed < p->inflight)) {
    int k = snprintf(infos + used, sizeof infos - used,
                     "%s{\"name\":\"t\",\"task_id\":{\"value\":\"%c%d\"},\"agent_id\":{\"value\":"
                     "\"%s\"},\"command\":{\"value\":\"/bin/true\",\"shell\":false},"
                     "\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":"
                     "%g}},{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%g}}]}",
                     batch ? "," : "", p->prefix, p->launched, o->agent_id, TASK_CPUS, TASK_MEM);
    if (k < 0 || (size_t)k >= sizeof infos - used - 1) break;
    used += (size_t)k;
    p->launched++;
    batch++;
    cpus -= TASK_CPUS;
    mem -= TASK_MEM;
  }
  mesos_error *err = NULL;
  if (getenv("BENCH_TRACE"))
    fprintf(stderr, "TRACE %.3f (%.6f) offer cpus %.2f launch %d\n", now_ms(), wall_s(), o->cpus,
            batch);
  if (batch == 0) {
    /* Nothing to launch now.  With tasks still to launch and room for one,
     * keep the offer and use it when a task ends.  Why not decline: the
     * master gives a task's resources back as soon as the agent reports its
     * terminal state (the task's latest state, as Mesos does), while the
     * framework gets that update only after it acknowledged the previous
     * one; the new offer overtakes the update.  Declined, those resources
     * came back only with the next --allocation_interval (1 s): with one
     * task in flight that was most of the time per task. */
    int more = 0;
    for (int k = 0; k < 3; k++) more |= b->ph[k].launched < b->ph[k].n;
    if (more && o->cpus >= TASK_CPUS - 1e-9 && o->mem >= TASK_MEM && b->nheld < MAX_HELD &&
        strlen(o->id) < sizeof b->held[0].id && strlen(o->agent_id) < sizeof b->held[0].agent_id) {
      held_offer *h = &b->held[b->nheld++];
      snprintf(h->id, sizeof h->id, "%s", o->id);
      snprintf(h->agent_id, sizeof h->agent_id, "%s", o->agent_id);
      h->cpus = o->cpus;
      h->mem = o->mem;
      return;
    }
    mesos_scheduler_decline(b->sched, o->id, 0.01, NULL);
    return;
  }
  snprintf(call, sizeof call,
           "{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{\"value\":\"%s\"}],"
           "\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[%s]}}],"
           "\"filters\":{\"refuse_seconds\":0.01}}}",
           o->id, infos);
  double t = now_ms();
  if (p->first_accept == 0) p->first_accept = t;
  for (int i = first; i < p->launched; i++) p->t[i].accept = t;
  if (mesos_scheduler_call_json(b->sched, call, on_accept_done, b, &err) != MESOS_OK) {
    fprintf(stderr, "bench_task_launch: accept: %s\n", mesos_error_message(err));
    mesos_error_free(err);
    b->failed++;
    finish(b);
  }
}

/* A task ended: the offers kept meanwhile may launch the next ones. */
static void use_held(bench *b) {
  int n = b->nheld;
  held_offer h[MAX_HELD];
  memcpy(h, b->held, (size_t)n * sizeof *h);
  b->nheld = 0;
  for (int i = 0; i < n && !b->done; i++) {
    mesos_scheduler_offer o = {.id = h[i].id, .agent_id = h[i].agent_id, .cpus = h[i].cpus,
                               .mem = h[i].mem};
    use_offer(b, &o);
  }
}

static void on_event(mesos_scheduler *s, const char *type, const uint8_t *event, size_t len,
                     void *ud) {
  (void)s;
  bench *b = ud;
  if (strcmp(type, "OFFERS") == 0) {
    mesos_scheduler_offer *offers = NULL;
    size_t n = 0;
    if (mesos_scheduler_event_offers(event, len, &offers, &n, NULL) != MESOS_OK) return;
    for (size_t i = 0; i < n; i++) use_offer(b, &offers[i]);
    mesos_free(offers);
  } else if (strcmp(type, "UPDATE") == 0) {
    mesos_scheduler_task_status *st = NULL;
    if (mesos_scheduler_event_update(event, len, &st, NULL) != MESOS_OK) return;
    if (st->has_uuid) mesos_scheduler_acknowledge(b->sched, st->agent_id, st->task_id, st->uuid, NULL);
    phase *p = NULL;
    for (int k = 0; k < 3; k++)
      if (st->task_id && st->task_id[0] == b->ph[k].prefix) p = &b->ph[k];
    int i = p ? (int)strtol(st->task_id + 1, NULL, 10) : -1;
    double t = now_ms();
    if (getenv("BENCH_TRACE"))
      fprintf(stderr, "TRACE %.3f (%.6f) update %s %s\n", t, wall_s(), st->task_id, st->state);
    if (p && i >= 0 && i < p->n) {
      if (strcmp(st->state, "TASK_RUNNING") == 0 && p->t[i].running == 0) p->t[i].running = t;
      if (st->terminal && p->t[i].finished == 0) {
        p->t[i].finished = t;
        p->last_finished = t;
        if (strcmp(st->state, "TASK_FINISHED") == 0) {
          p->finished++;
        } else {
          fprintf(stderr, "bench_task_launch: %s ended %s: %s\n", st->task_id, st->state,
                  st->message ? st->message : "");
          p->failed++;
          b->failed++;
        }
        if (p->finished + p->failed == p->n) {
          /* Each phase starts once the one before is over, so none
           * disturbs another's numbers. */
          int next = b->cur + 1;
          while (next < 3 && b->ph[next].n == 0) next++;
          if (p == &b->ph[b->cur] && next < 3) b->cur = next;
          else if (p == &b->ph[b->cur]) finish(b);
        }
        if (!b->done) use_held(b);
      }
    }
    mesos_free(st);
  }
}

static void on_deadline(mesos_timer *t, void *ud) {
  (void)t;
  bench *b = ud;
  fprintf(stderr,
          "bench_task_launch: timed out with %d of %d tasks finished (and %d of %d steady, %d of "
          "%d paced)\n",
          b->ph[0].finished, b->ph[0].n, b->ph[1].finished, b->ph[1].n, b->ph[2].finished,
          b->ph[2].n);
  b->failed++;
  finish(b);
}

/* ------------------------------------------------------------ baseline */

static double rusage_ms(int who) {
  struct rusage ru;
  if (getrusage(who, &ru) != 0) return 0;
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* CPU time (user + system) of process `pid` and of its reaped children, in
 * ms, from /proc/<pid>/stat (fields 14-17). */
static int proc_cpu_ms(pid_t pid, double *self, double *children) {
  char path[64], buf[2048];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  unsigned long long ut, st, cut, cst;
  if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
                          &ut, &st, &cut, &cst) != 4)
    return -1;
  double tick = (double)sysconf(_SC_CLK_TCK);
  *self = (double)(ut + st) * 1e3 / tick;
  *children = (double)(cut + cst) * 1e3 / tick;
  return 0;
}

static void baseline(int runs, double *median_ms, double *per_s, double *cpu_ms) {
  double *lat = calloc((size_t)runs, sizeof *lat);
  double c0 = rusage_ms(RUSAGE_SELF) + rusage_ms(RUSAGE_CHILDREN);
  double t0 = now_ms();
  for (int i = 0; i < runs; i++) {
    double s = now_ms();
    pid_t pid = fork();
    if (pid == 0) {
      execl("/bin/true", "true", (char *)NULL);
      _exit(127);
    }
    waitpid(pid, NULL, 0);
    lat[i] = now_ms() - s;
  }
  double total = now_ms() - t0;
  *cpu_ms = (rusage_ms(RUSAGE_SELF) + rusage_ms(RUSAGE_CHILDREN) - c0) / runs;
  *per_s = runs / (total / 1e3);
  *median_ms = quantile(lat, (size_t)runs, 0.5);
  free(lat);
}

int main(void) {
  const char *o = getenv("O") ? getenv("O") : "build";
  int n = getenv("BENCH_TASKS") ? (int)strtol(getenv("BENCH_TASKS"), NULL, 10) : 1000;
  if (n < 1 || n > MAX_TASKS) n = 1000;
  char cwd[2048], master_bin[4096], agent_bin[4096];
  if (getcwd(cwd, sizeof cwd) == NULL) return 1;
  snprintf(master_bin, sizeof master_bin, "%s%s%s/bin/mesos-master", o[0] == '/' ? "" : cwd,
           o[0] == '/' ? "" : "/", o);
  snprintf(agent_bin, sizeof agent_bin, "%s%s%s/bin/mesos-agent", o[0] == '/' ? "" : cwd,
           o[0] == '/' ? "" : "/", o);
  if (access(master_bin, X_OK) != 0 || access(agent_bin, X_OK) != 0) {
    printf("SKIPPED: %s or %s is not built\n", master_bin, agent_bin);
    return 0;
  }
  snprintf(tmp_dir, sizeof tmp_dir, "/tmp/bench-task-launch-XXXXXX");
  if (mkdtemp(tmp_dir) == NULL) return 1;
  atexit(cleanup);
  signal(SIGPIPE, SIG_IGN);

  int mport = free_port(), aport = free_port();
  char mport_arg[64], aport_arg[64], master_arg[64], wd_arg[512], mlog[512], alog[512];
  snprintf(mport_arg, sizeof mport_arg, "--port=%d", mport);
  snprintf(aport_arg, sizeof aport_arg, "--port=%d", aport);
  snprintf(master_arg, sizeof master_arg, "--master=127.0.0.1:%d", mport);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s/agent", tmp_dir);
  snprintf(mlog, sizeof mlog, "%s/master.log", tmp_dir);
  snprintf(alog, sizeof alog, "%s/agent.log", tmp_dir);
  char *margv[] = {master_bin, "--ip=127.0.0.1", mport_arg, NULL};
  char *aargv[] = {agent_bin, "--ip=127.0.0.1", aport_arg, master_arg, wd_arg,
                   "--resources=cpus:8;mem:8192;disk:8192", NULL};
  pids[0] = spawn(margv, "BENCH_MASTER_FLAGS", mlog);
  if (wait_health(mport) != 0) {
    fprintf(stderr, "bench_task_launch: the master did not come up (%s)\n", mlog);
    return 1;
  }
  pids[1] = spawn(aargv, "BENCH_AGENT_FLAGS", alog);
  if (wait_health(aport) != 0) {
    fprintf(stderr, "bench_task_launch: the agent did not come up (%s)\n", alog);
    return 1;
  }

  int steady = getenv("BENCH_STEADY_TASKS") ? (int)strtol(getenv("BENCH_STEADY_TASKS"), NULL, 10)
                                             : 300;
  int inflight = getenv("BENCH_INFLIGHT") ? (int)strtol(getenv("BENCH_INFLIGHT"), NULL, 10) : 32;
  if (steady < 0 || steady > MAX_TASKS) steady = 300;
  if (inflight < 1) inflight = 32;
  int paced = getenv("BENCH_PACED_TASKS") ? (int)strtol(getenv("BENCH_PACED_TASKS"), NULL, 10) : 100;
  int paced_inflight = getenv("BENCH_PACED_INFLIGHT")
                           ? (int)strtol(getenv("BENCH_PACED_INFLIGHT"), NULL, 10)
                           : 2;
  if (paced < 0 || paced > MAX_TASKS) paced = 100;
  if (paced_inflight < 1) paced_inflight = 2;
  bench b;
  memset(&b, 0, sizeof b);
  b.ph[0].prefix = 't';
  b.ph[0].n = n;
  b.ph[1].prefix = 's';
  b.ph[1].n = steady;
  b.ph[1].inflight = inflight;
  b.ph[2].prefix = 'p';
  b.ph[2].n = paced;
  b.ph[2].inflight = paced_inflight;
  b.ph[0].t = calloc((size_t)n, sizeof *b.ph[0].t);
  b.ph[1].t = calloc((size_t)(steady ? steady : 1), sizeof *b.ph[1].t);
  b.ph[2].t = calloc((size_t)(paced ? paced : 1), sizeof *b.ph[2].t);
  mesos_error *err = NULL;
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", mport);
  mesos_scheduler_options opts = MESOS_SCHEDULER_OPTIONS_INIT;
  opts.masters = url;
  opts.framework_info_json = "{\"user\":\"nobody\",\"name\":\"bench_task_launch\","
                             "\"failover_timeout\":0}";
  opts.on_event = on_event;
  opts.ud = &b;
  if (b.ph[0].t == NULL || b.ph[1].t == NULL || b.ph[2].t == NULL ||
      mesos_loop_new(&b.loop, NULL, &err) != MESOS_OK ||
      mesos_scheduler_new(&b.sched, b.loop, &opts, &err) != MESOS_OK ||
      mesos_timer_new(&b.deadline, b.loop, on_deadline, &b, &err) != MESOS_OK) {
    fprintf(stderr, "bench_task_launch: %s\n", err ? mesos_error_message(err) : "setup failed");
    return 1;
  }
  mesos_timer_start(b.deadline, 300000, 0);
  mesos_loop_run(b.loop, NULL);
  mesos_timer_free(b.deadline);
  mesos_scheduler_free(b.sched);
  while (mesos_loop_run_once(b.loop) > 0) {
  }
  mesos_loop_free(b.loop);
  /* Before the daemons go: their CPU time so far. */
  double agent_cpu = 0, exec_cpu = 0, master_cpu = 0, unused = 0;
  int have_cpu = proc_cpu_ms(pids[1], &agent_cpu, &exec_cpu) == 0 &&
                 proc_cpu_ms(pids[0], &master_cpu, &unused) == 0;
  if (b.failed || b.ph[0].finished != n || b.ph[1].finished != steady ||
      b.ph[2].finished != paced) {
    fprintf(stderr,
            "bench_task_launch: %d of %d tasks finished (%d of %d steady, %d of %d paced), %d "
            "failed\n",
            b.ph[0].finished, n, b.ph[1].finished, steady, b.ph[2].finished, paced, b.failed);
    for (int k = 0; k < 3; k++) free(b.ph[k].t);
    return 1;
  }

  double base_ms = 0, base_per_s = 0, base_cpu = 0;
  baseline(n, &base_ms, &base_per_s, &base_cpu);
  for (int k = 0; k < 3; k++) {
    phase *p = &b.ph[k];
    if (p->n == 0) continue;
    const char *suffix = k == 2 ? "-paced" : k ? "-steady" : "";
    double *run = calloc((size_t)p->n, sizeof *run), *fin = calloc((size_t)p->n, sizeof *fin);
    if (run == NULL || fin == NULL) return 1;
    size_t nr = 0;
    for (int i = 0; i < p->n; i++) {
      if (p->t[i].running > 0) run[nr++] = p->t[i].running - p->t[i].accept;
      fin[i] = p->t[i].finished - p->t[i].accept;
    }
    double tput = p->n / ((p->last_finished - p->first_accept) / 1e3);
    double r50 = quantile(run, nr, 0.5), r99 = quantile(run, nr, 0.99);
    double f50 = quantile(fin, (size_t)p->n, 0.5), f99 = quantile(fin, (size_t)p->n, 0.99);
    printf("bench: task-launch-latency-running%s %.2f ms baseline fork-exec-wait %.3f ms ratio "
           "%.1f p99 %.2f ms\n",
           suffix, r50, base_ms, r50 / base_ms, r99);
    printf("bench: task-launch-latency-finished%s %.2f ms baseline fork-exec-wait %.3f ms ratio "
           "%.1f p99 %.2f ms\n",
           suffix, f50, base_ms, f50 / base_ms, f99);
    printf("bench: task-launch-throughput%s %.1f tasks/s baseline fork-exec-wait %.1f runs/s "
           "ratio %.3f\n",
           suffix, tput, base_per_s, tput / base_per_s);
    free(run);
    free(fin);
  }
  if (have_cpu) {
    double tasks = (double)(n + steady + paced);
    const char *names[] = {"agent", "executor", "master"};
    double cpu[] = {agent_cpu / tasks, exec_cpu / tasks, master_cpu / tasks};
    for (int i = 0; i < 3; i++)
      printf("bench: task-launch-cpu-%s %.3f ms/task baseline fork-exec-wait %.3f ms/run ratio "
             "%.2f\n",
             names[i], cpu[i], base_cpu, base_cpu > 0 ? cpu[i] / base_cpu : 0);
  }
  for (int k = 0; k < 3; k++) free(b.ph[k].t);
  return 0;
}
