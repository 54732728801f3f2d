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

typedef struct bench {
  mesos_loop *loop;
  mesos_scheduler *sched;
  mesos_timer *deadline;
  int n;
  int launched, finished, failed;
  task_times *t;
  double first_accept, last_finished;
  int done;
} bench;

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
  int first = b->launched, batch = 0;
  while (b->launched < b->n && cpus >= TASK_CPUS - 1e-9 && mem >= TASK_MEM) {
    int k = snprintf(infos + used, sizeof infos - used,
                     "%s{\"name\":\"t\",\"task_id\":{\"value\":\"t%d\"},\"agent_id\":{\"value\":"
                     "\"%s\"},\"command\":{\"value\":\"/bin/true\",\"shell\":false},"
                     "\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":"
                     "%g}},{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%g}}]}",
                     batch ? "," : "", b->launched, o->agent_id, TASK_CPUS, TASK_MEM);
    if (k < 0 || (size_t)k >= sizeof infos - used - 1) break;
    used += (size_t)k;
    b->launched++;
    batch++;
    cpus -= TASK_CPUS;
    mem -= TASK_MEM;
  }
  mesos_error *err = NULL;
  if (batch == 0) {
    mesos_scheduler_decline(b->sched, o->id, 0.1, NULL);
    return;
  }
  snprintf(call, sizeof call,
           "{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{\"value\":\"%s\"}],"
           "\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[%s]}}],"
           "\"filters\":{\"refuse_seconds\":0.1}}}",
           o->id, infos);
  double t = now_ms();
  if (b->first_accept == 0) b->first_accept = t;
  for (int i = first; i < b->launched; i++) b->t[i].accept = t;
  if (mesos_scheduler_call_json(b->sched, call, on_accept_done, b, &err) != MESOS_OK) {
    fprintf(stderr, "bench_task_launch: accept: %s\n", mesos_error_message(err));
    mesos_error_free(err);
    b->failed++;
    finish(b);
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
    int i = st->task_id && st->task_id[0] == 't' ? (int)strtol(st->task_id + 1, NULL, 10) : -1;
    double t = now_ms();
    if (i >= 0 && i < b->n) {
      if (strcmp(st->state, "TASK_RUNNING") == 0 && b->t[i].running == 0) b->t[i].running = t;
      if (st->terminal && b->t[i].finished == 0) {
        b->t[i].finished = t;
        b->last_finished = t;
        if (strcmp(st->state, "TASK_FINISHED") == 0) {
          b->finished++;
        } else {
          fprintf(stderr, "bench_task_launch: %s ended %s: %s\n", st->task_id, st->state,
                  st->message ? st->message : "");
          b->failed++;
        }
        if (b->finished + b->failed == b->n) finish(b);
      }
    }
    mesos_free(st);
  }
}

static void on_deadline(mesos_timer *t, void *ud) {
  (void)t;
  bench *b = ud;
  fprintf(stderr, "bench_task_launch: timed out with %d of %d tasks finished\n", b->finished,
          b->n);
  b->failed++;
  finish(b);
}

/* ------------------------------------------------------------ baseline */

static void baseline(int runs, double *median_ms, double *per_s) {
  double *lat = calloc((size_t)runs, sizeof *lat);
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

  bench b;
  memset(&b, 0, sizeof b);
  b.n = n;
  b.t = calloc((size_t)n, sizeof *b.t);
  mesos_error *err = NULL;
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", mport);
  mesos_scheduler_options opts = MESOS_SCHEDULER_OPTIONS_INIT;
  opts.masters = url;
  opts.framework_info_json = "{\"user\":\"nobody\",\"name\":\"bench_task_launch\","
                             "\"failover_timeout\":0}";
  opts.on_event = on_event;
  opts.ud = &b;
  if (b.t == NULL || mesos_loop_new(&b.loop, NULL, &err) != MESOS_OK ||
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
  if (b.failed || b.finished != n) {
    fprintf(stderr, "bench_task_launch: %d of %d tasks finished, %d failed\n", b.finished, n,
                    b.failed);
    free(b.t);
    return 1;
  }

  double *run = calloc((size_t)n, sizeof *run), *fin = calloc((size_t)n, sizeof *fin);
  size_t nr = 0;
  for (int i = 0; i < n; i++) {
    if (b.t[i].running > 0) run[nr++] = b.t[i].running - b.t[i].accept;
    fin[i] = b.t[i].finished - b.t[i].accept;
  }
  double tput = n / ((b.last_finished - b.first_accept) / 1e3);
  double base_ms = 0, base_per_s = 0;
  baseline(n, &base_ms, &base_per_s);
  double r50 = quantile(run, nr, 0.5), r99 = quantile(run, nr, 0.99);
  double f50 = quantile(fin, (size_t)n, 0.5), f99 = quantile(fin, (size_t)n, 0.99);
  printf("bench: task-launch-latency-running %.2f ms baseline fork-exec-wait %.3f ms ratio %.1f "
         "p99 %.2f ms\n",
         r50, base_ms, r50 / base_ms, r99);
  printf("bench: task-launch-latency-finished %.2f ms baseline fork-exec-wait %.3f ms ratio %.1f "
         "p99 %.2f ms\n",
         f50, base_ms, f50 / base_ms, f99);
  printf("bench: task-launch-throughput %.1f tasks/s baseline fork-exec-wait %.1f runs/s ratio "
         "%.3f\n",
         tput, base_per_s, tput / base_per_s);
  free(run);
  free(fin);
  free(b.t);
  return 0;
}
