/*
 * Container launch benchmarks (issue 7):
 *
 *   container-launch: one container = prepare + start + /bin/true + wait +
 *     cleanup, on a busybox rootfs, median of 100 runs (wall clock, ms);
 *     the runtime dir (pid/status checkpoints) on tmpfs (/run) as in
 *     production.
 *     Ours: namespaces mount, pid, ipc, uts (hostname set), pivot_root into
 *     the rootfs with /proc, /sys, /dev, /dev/pts, /dev/shm and the sandbox
 *     bind-mounted, cgroups cpu + memory (+ the freezer for tracking), pid
 *     checkpoint.  Baseline: Debian's `crun run` of the same rootfs with
 *     the config `crun spec` writes, made to match: /bin/true, no
 *     terminal, and no network namespace (a Mesos container without CNI
 *     shares the host network); crun refuses hybrid cgroup hosts, so it
 *     runs in a private mount namespace with /sys/fs/cgroup/unified
 *     unmounted (spec section 9).
 *   The three are measured interleaved (one of each per round), so load
 *   from elsewhere on a shared machine hits all alike.
 *   container-launch-unshare: the same value against
 *     `unshare --mount --pid --ipc --uts --fork chroot ROOTFS /bin/true`.
 *   container-1000-launch-destroy: 1,000 containers (sleep) launched (as an
 *     agent does: launch_async, outcomes collected on the loop), then all
 *     destroyed, one containerizer (s); the target is 10 s (Mesos 1.7
 *     took about 30 s + 20 s), reported as the baseline.
 *
 * --quick: 5 runs and 10 containers, so the test suite can prove it works.
 * Needs root, busybox-static and cgroups; otherwise prints a skip line.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "containerizer/containerizer.h"
#include "mesos/mesos.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static char dir[256];
static char rundir[256]; /* the runtime dir on tmpfs, when /run is one */

static void cleanup_dir(void) {
  if (rundir[0]) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", rundir);
    if (system(cmd) != 0) fprintf(stderr, "bench_container: could not remove %s\n", rundir);
    rundir[0] = '\0';
  }
  if (dir[0] == '\0') return;
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "bench_container: could not remove %s\n", dir);
}

static int copy_file(const char *from, const char *to) {
  int in = open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0) return -1;
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (out < 0) {
    close(in);
    return -1;
  }
  char buf[65536];
  ssize_t n;
  int rc = 0;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n) rc = -1;
  close(in);
  close(out);
  return n < 0 ? -1 : rc;
}

/* Runs argv to completion (quietly); returns the wait status or -1. */
static int run(char *const *argv) {
  pid_t p = fork();
  if (p < 0) return -1;
  if (p == 0) {
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
    }
    execvp(argv[0], argv);
    _exit(127);
  }
  int st;
  while (waitpid(p, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return st;
}

static int have(const char *tool) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
  return system(cmd) == 0;
}

/* The crun baseline runs in a worker child with a private mount
 * namespace (crun refuses a hybrid layout, so the worker unmounts
 * /sys/fs/cgroup/unified there).  For each byte the parent sends, it runs
 * one `crun run` and answers with the time it took (ms, < 0: failed), so
 * the parent can interleave crun runs with its own: load that comes and
 * goes on a shared machine then hits both alike. */
typedef struct worker {
  pid_t pid;
  int to, from;
} worker;

static int crun_worker_start(const char *bundle, worker *w) {
  int req[2], resp[2];
  if (pipe(req) != 0) return -1;
  if (pipe(resp) != 0) {
    close(req[0]);
    close(req[1]);
    return -1;
  }
  pid_t p = fork();
  if (p < 0) return -1;
  if (p == 0) {
    close(req[1]);
    close(resp[0]);
    int ok = unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_PRIVATE | MS_REC, NULL) == 0;
    if (ok) umount2("/sys/fs/cgroup/unified", MNT_DETACH);
    char b;
    for (int i = 0; read(req[0], &b, 1) == 1; i++) {
      double t = -1;
      if (ok) {
        char id[64];
        snprintf(id, sizeof id, "bench-crun-%d-%d", (int)getpid(), i);
        char *argv[] = {"crun", "run", "--bundle", (char *)bundle, id, NULL};
        double t0 = now_ms();
        int st = run(argv);
        t = now_ms() - t0;
        if (st != 0) {
          char *del[] = {"crun", "delete", "-f", id, NULL};
          run(del);
          t = -1;
        }
      }
      if (write(resp[1], &t, sizeof t) != sizeof t) break;
    }
    _exit(0);
  }
  close(req[0]);
  close(resp[1]);
  w->pid = p;
  w->to = req[1];
  w->from = resp[0];
  return 0;
}

static double crun_worker_run(worker *w) {
  double t = -1;
  if (write(w->to, "r", 1) != 1 || read(w->from, &t, sizeof t) != sizeof t) return -1;
  return t;
}

static void crun_worker_stop(worker *w) {
  close(w->to);
  close(w->from);
  int st;
  waitpid(w->pid, &st, 0);
}

/* What a failure must not leave running: the containerizer and how many
 * of the "m<i>" containers it launched. */
static mesos__containerizer *g_cz;
static int g_launched;
static char g_current[32]; /* the single-launch loop's container */

static void die(const char *what, mesos_error *err) {
  fprintf(stderr, "bench_container: %s: %s\n", what, err ? mesos_error_message(err) : "");
  if (g_cz) {
    if (g_current[0]) mesos__containerizer_destroy(g_cz, g_current, NULL);
    for (int i = 0; i < g_launched; i++) {
      char id[32];
      snprintf(id, sizeof id, "m%d", i);
      mesos__containerizer_destroy(g_cz, id, NULL);
    }
    mesos__containerizer_free(g_cz); /* removes the then empty cgroups root */
    g_cz = NULL;
  }
  cleanup_dir();
  exit(1);
}

typedef struct launches {
  int done, failed;
  char first_error[512];
} launches;

static void on_launched(const char *id, mesos_status st, const char *message, pid_t pid,
                        void *ud) {
  (void)id;
  (void)pid;
  launches *l = ud;
  l->done++;
  if (st != MESOS_OK && l->failed++ == 0)
    snprintf(l->first_error, sizeof l->first_error, "%s", message ? message : "?");
}

int main(int argc, char **argv) {
  /* --many N: only the launch-destroy part, with N containers (profiling). */
  int quick = argc == 2 && strcmp(argv[1], "--quick") == 0;
  int only_many = 0;
  if (argc == 3 && strcmp(argv[1], "--many") == 0) {
    char *end;
    long v = strtol(argv[2], &end, 10);
    if (*end == '\0' && v > 0 && v <= 100000) only_many = (int)v;
  }
  if (argc > 3 || (argc == 2 && !quick) || (argc == 3 && !only_many)) {
    fprintf(stderr, "usage: bench_container [--quick | --many N]\n");
    return 2;
  }
  int runs = quick ? 5 : 100, many = only_many ? only_many : quick ? 10 : 1000;
  const char *bb = access("/usr/bin/busybox", X_OK) == 0 ? "/usr/bin/busybox" : "/bin/busybox";
  if (geteuid() != 0 || access(bb, X_OK) != 0) {
    printf("bench: container-launch skipped (needs root and busybox-static)\n");
    return 0;
  }
  snprintf(dir, sizeof dir, "/tmp/bench-container-XXXXXX");
  if (mkdtemp(dir) == NULL) return 1;
  char rootfs[400], sandbox[400], runtime[400], p[1024];
  snprintf(rootfs, sizeof rootfs, "%s/bundle/rootfs", dir);
  snprintf(sandbox, sizeof sandbox, "%s/sandbox", dir);
  /* The runtime dir is tmpfs in production (--runtime_dir=/var/run/mesos
   * on hosts where /var/run is /run): per-container checkpoints there cost
   * no disk inode allocation.  /run stands in for it when it is tmpfs. */
  snprintf(rundir, sizeof rundir, "/run/mesos-bench-run-XXXXXX");
  if (system("test \"$(findmnt -n -o FSTYPE /run 2>/dev/null)\" = tmpfs") == 0 && mkdtemp(rundir))
    snprintf(runtime, sizeof runtime, "%s", rundir);
  else {
    rundir[0] = '\0';
    snprintf(runtime, sizeof runtime, "%s/run", dir);
  }
  snprintf(p, sizeof p, "%s/bundle", dir);
  mkdir(p, 0755);
  mkdir(rootfs, 0755);
  mkdir(sandbox, 0755);
  snprintf(p, sizeof p, "%s/bin", rootfs);
  mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/bin/busybox", rootfs);
  if (copy_file(bb, p) != 0) die("copying busybox", NULL);
  const char *applets[] = {"true", "sh", "sleep"};
  for (int i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s/bin/%s", rootfs, applets[i]);
    if (symlink("busybox", p) != 0) die("symlink", NULL);
  }

  mesos_loop *loop = NULL;
  mesos_error *err = NULL;
  if (mesos_loop_new(&loop, NULL, &err) != MESOS_OK) die("loop", err);
  mesos__containerizer_options o = {0};
  o.runtime_dir = runtime;
  o.isolation = "filesystem/linux,namespaces/pid,namespaces/ipc,cgroups/cpu,cgroups/mem";
  char root[64];
  snprintf(root, sizeof root, "mesos-bench-%d", (int)getpid());
  o.cgroups_root = root;
  /* The init helper: $(O)/bin beside this program's $(O)/bench. */
  char exe[512], ldir[600];
  ssize_t en = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[en > 0 ? en : 0] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash) *slash = '\0';
  snprintf(ldir, sizeof ldir, "%s/../bin", exe);
  o.launcher_dir = ldir;
  mesos__containerizer *cz = NULL;
  if (mesos__containerizer_new(&cz, loop, &o, &err) != MESOS_OK) die("containerizer", err);
  g_cz = cz;
  const char *true_argv[] = {"/bin/true", NULL};
  const char *env[] = {"PATH=/bin", NULL};
  mesos__container_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.argv = true_argv;
  cfg.env = env;
  cfg.rootfs = rootfs;
  cfg.sandbox = sandbox;
  cfg.hostname = "bench";
  cfg.cpus = 1;
  cfg.mem_bytes = 128ull << 20;

  /* Baselines available? */
  worker w = {-1, -1, -1};
  int use_crun = !only_many && have("crun") && have("python3");
  if (use_crun) {
    snprintf(p, sizeof p,
             "cd '%s/bundle' && crun spec && python3 -c 'import json; f=\"config.json\"; "
             "c=json.load(open(f)); c[\"process\"][\"terminal\"]=False; "
             "c[\"process\"][\"args\"]=[\"/bin/true\"]; ns=c[\"linux\"][\"namespaces\"]; "
             "c[\"linux\"][\"namespaces\"]=[n for n in ns if n[\"type\"]!=\"network\"]; "
             "json.dump(c, open(f, \"w\"))'",
             dir);
    char bundle[400];
    snprintf(bundle, sizeof bundle, "%s/bundle", dir);
    use_crun = system(p) == 0 && crun_worker_start(bundle, &w) == 0;
  }
  int use_unshare = !only_many && have("unshare") && have("chroot");

  /* Interleaved: ours, crun, unshare+chroot, once each per round; one
   * warm-up round. */
  double *t = calloc((size_t)runs, sizeof *t), *tc = calloc((size_t)runs, sizeof *tc),
         *tu = calloc((size_t)runs, sizeof *tu);
  if (t == NULL || tc == NULL || tu == NULL) die("calloc", NULL);
  int crun_ok = use_crun;
  for (int i = -1; i < (only_many ? -1 : runs); i++) {
    char id[32];
    snprintf(id, sizeof id, "c%d", i + 1);
    snprintf(g_current, sizeof g_current, "%s", id);
    double t0 = now_ms();
    if (mesos__containerizer_launch(cz, id, &cfg, NULL, &err) != MESOS_OK) die("launch", err);
    mesos__container_termination term;
    if (mesos__containerizer_wait_sync(cz, id, 10000, &term, &err) != MESOS_OK) die("wait", err);
    if (!term.has_status || term.status != 0) die("/bin/true failed", NULL);
    if (i >= 0) t[i] = now_ms() - t0;
    if (crun_ok) {
      double c = crun_worker_run(&w);
      if (c < 0) crun_ok = 0;
      if (i >= 0) tc[i] = c;
    }
    if (use_unshare) {
      char *uargv[] = {"unshare", "--mount", "--pid", "--ipc", "--uts", "--fork", "chroot", rootfs, "/bin/true", NULL};
      t0 = now_ms();
      if (run(uargv) != 0) die("unshare baseline", NULL);
      if (i >= 0) tu[i] = now_ms() - t0;
    }
  }
  g_current[0] = '\0';
  if (use_crun) crun_worker_stop(&w);
  double ours = median(t, runs);
  if (only_many) goto many_part;
  if (!use_crun) {
    printf("bench: container-launch %.2f ms baseline crun n/a (crun or python3 missing) ratio n/a\n", ours);
  } else if (!crun_ok) {
    printf("bench: container-launch %.2f ms baseline crun failed ratio n/a\n", ours);
  } else {
    double c = median(tc, runs);
    printf("bench: container-launch %.2f ms baseline crun %.2f ms ratio %.2f\n", ours, c, ours / c);
  }
  if (use_unshare) {
    double u = median(tu, runs);
    printf("bench: container-launch-unshare %.2f ms baseline unshare+chroot %.2f ms ratio %.2f\n",
           ours, u, ours / u);
  }

many_part:
  free(t);
  free(tc);
  free(tu);
  /* 1,000 sleeping containers, then destroy them all. */
  const char *sleep_argv[] = {"sleep", "600", NULL};
  cfg.argv = sleep_argv;
  cfg.hostname = NULL;
  /* As an agent would: launch_async for each, the outcomes collected on
   * the loop while the next launches go out. */
  double t0 = now_ms();
  launches ls = {0, 0, ""};
  for (int i = 0; i < many; i++) {
    char id[32];
    snprintf(id, sizeof id, "m%d", i);
    if (mesos__containerizer_launch_async(cz, id, &cfg, on_launched, &ls, &err) != MESOS_OK)
      die("launch", err);
    g_launched = i + 1;
    mesos_loop_run_once(loop);
  }
  while (ls.done < many) {
    mesos_loop_run_once(loop);
    if (ls.done < many) {
      struct timespec nap = {0, 200000};
      nanosleep(&nap, NULL);
    }
  }
  if (ls.failed) {
    fprintf(stderr, "bench_container: %d launches failed: %s\n", ls.failed, ls.first_error);
    die("launch", NULL);
  }
  double launched = now_ms();
  /* As an agent would: every kill sent at once, terminations collected as
   * they come. */
  for (int i = 0; i < many; i++) {
    char id[32];
    snprintf(id, sizeof id, "m%d", i);
    if (mesos__containerizer_kill(cz, id, &err) != MESOS_OK) die("kill", err);
  }
  for (int i = 0; i < many; i++) {
    char id[32];
    snprintf(id, sizeof id, "m%d", i);
    if (mesos__containerizer_wait_sync(cz, id, 30000, NULL, &err) != MESOS_OK) die("wait", err);
  }
  double total = (now_ms() - t0) / 1e3;
  printf("# container-%d: launch %.2f s, destroy %.2f s\n", many, (launched - t0) / 1e3,
         total - (launched - t0) / 1e3);
  printf("bench: container-%d-launch-destroy %.2f s baseline target-10s %.2f s ratio %.2f\n", many,
         total, 10.0 * many / 1000, total / (10.0 * many / 1000));
  g_launched = 0;
  g_cz = NULL;
  mesos__containerizer_free(cz);
  mesos_loop_run_once(loop);
  mesos_loop_free(loop);
  cleanup_dir();
  return 0;
}
