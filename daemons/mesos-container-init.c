/*
 * mesos-container-init: the first process of every container of the
 * unified containerizer (lib/containerizer/launcher.c execs it in the
 * container's new namespaces; the plan format and descriptors are in
 * lib/containerizer/init_plan.h).  Not meant to be run by hand.
 *
 * It reads the plan, builds the container's mounts, pivots into its root
 * filesystem, sets the hostname, brings up lo, then waits until the agent
 * has put it into its cgroups and checkpointed its pid.  Released, it
 * forks the task (user switch, working directory, exec) and stays as the
 * container's reaper: PID 1 of the PID namespace when there is one,
 * forwarding SIGTERM and friends to the task.  When the task exits it
 * writes the task's wait status to the status file and exits with the
 * task's code (128+signal for a signal), which takes the rest of a PID
 * namespace down with it.
 *
 * It is linked statically and runs single-threaded, so unlike a raw clone
 * of the multi-threaded agent it may call glibc's setuid/setgroups: they
 * have no other threads to broadcast to.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containerizer/init_plan.h"
#include "mesos/containerizer.h"

typedef struct step {
  uint32_t kind;
  const char *src, *dst, *fstype, *data;
  unsigned long flags;
  mode_t mode;
  dev_t dev;
  int remount_ro;
} step;

typedef struct plan {
  uint32_t namespaces;
  const char *rootfs, *hostname, *cwd, *exe;
  int switch_user;
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t ngroups;
  step *steps;
  size_t nsteps;
  char **argv, **envp;
} plan;

/* Reports a failed step on the error pipe and exits; the launcher turns
 * the text into the launch's error. */
static void __attribute__((noreturn)) fail(const char *what, const char *path, int e) {
  char msg[1024];
  int n = snprintf(msg, sizeof msg, "%s%s%s: %s", what, path ? " " : "", path ? path : "",
                   strerror(e));
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof msg) n = (int)sizeof msg - 1;
  ssize_t w = write(INIT_FD_ERR, msg, (size_t)n);
  (void)w;
  _exit(127);
}

/* ------------------------------------------------------------ the plan */

typedef struct reader {
  const unsigned char *p, *end;
  int bad;
} reader;

static uint32_t get_u32(reader *r) {
  uint32_t v = 0;
  if ((size_t)(r->end - r->p) < sizeof v) {
    r->bad = 1;
    return 0;
  }
  memcpy(&v, r->p, sizeof v);
  r->p += sizeof v;
  return v;
}

static uint64_t get_u64(reader *r) {
  uint64_t v = 0;
  if ((size_t)(r->end - r->p) < sizeof v) {
    r->bad = 1;
    return 0;
  }
  memcpy(&v, r->p, sizeof v);
  r->p += sizeof v;
  return v;
}

/* Strings point into the plan buffer, which lives as long as we do. */
static const char *get_str(reader *r) {
  uint32_t n = get_u32(r);
  if (r->bad || n == INIT_STR_NULL) return NULL;
  if ((size_t)(r->end - r->p) < (size_t)n + 1 || r->p[n] != '\0' || memchr(r->p, 0, n)) {
    r->bad = 1;
    return NULL;
  }
  const char *s = (const char *)r->p;
  r->p += (size_t)n + 1;
  return s;
}

/* A NULL-terminated vector of at most `max` strings, none NULL. */
static char **get_strv(reader *r, uint32_t max) {
  uint32_t n = get_u32(r);
  if (r->bad || n > max) {
    r->bad = 1;
    return NULL;
  }
  char **v = calloc((size_t)n + 1, sizeof *v);
  if (v == NULL) fail("read plan", NULL, ENOMEM);
  for (uint32_t i = 0; i < n; i++) {
    v[i] = (char *)get_str(r);
    if (v[i] == NULL) r->bad = 1;
    if (r->bad) return v;
  }
  return v;
}

static int read_full(int fd, void *buf, size_t n) {
  unsigned char *b = buf;
  while (n > 0) {
    ssize_t r = read(fd, b, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return r == 0 ? EPIPE : errno;
    b += r;
    n -= (size_t)r;
  }
  return 0;
}

static void read_plan(plan *p) {
  uint32_t hdr[2];
  int e = read_full(INIT_FD_SYNC, hdr, sizeof hdr);
  /* The launcher gave up before sending anything: nothing to report. */
  if (e == EPIPE) _exit(126);
  if (e) fail("read plan", NULL, e);
  if (hdr[0] != INIT_PLAN_MAGIC || hdr[1] > INIT_PLAN_MAX) fail("read plan", "(bad header)", EINVAL);
  unsigned char *buf = malloc(hdr[1] ? hdr[1] : 1);
  if (buf == NULL) fail("read plan", NULL, ENOMEM);
  e = read_full(INIT_FD_SYNC, buf, hdr[1]);
  if (e == EPIPE) fail("read plan", "(truncated)", EINVAL);
  if (e) fail("read plan", NULL, e);
  reader r = {buf, buf + hdr[1], 0};
  p->namespaces = get_u32(&r);
  p->rootfs = get_str(&r);
  p->hostname = get_str(&r);
  p->cwd = get_str(&r);
  p->exe = get_str(&r);
  p->switch_user = get_u32(&r) != 0;
  p->uid = get_u32(&r);
  p->gid = get_u32(&r);
  uint32_t ng = get_u32(&r);
  if (ng > INIT_MAX_GROUPS) r.bad = 1;
  if (!r.bad && ng > 0) {
    p->groups = calloc(ng, sizeof *p->groups);
    if (p->groups == NULL) fail("read plan", NULL, ENOMEM);
    for (uint32_t i = 0; i < ng && !r.bad; i++) p->groups[i] = get_u32(&r);
    p->ngroups = ng;
  }
  uint32_t ns = r.bad ? 0 : get_u32(&r);
  if (ns > INIT_MAX_STEPS) r.bad = 1;
  if (!r.bad && ns > 0) {
    p->steps = calloc(ns, sizeof *p->steps);
    if (p->steps == NULL) fail("read plan", NULL, ENOMEM);
    for (uint32_t i = 0; i < ns && !r.bad; i++) {
      step *s = &p->steps[i];
      s->kind = get_u32(&r);
      s->src = get_str(&r);
      s->dst = get_str(&r);
      s->fstype = get_str(&r);
      s->flags = (unsigned long)get_u64(&r);
      s->data = get_str(&r);
      s->mode = (mode_t)get_u32(&r);
      s->dev = (dev_t)get_u64(&r);
      s->remount_ro = get_u32(&r) != 0;
      if (s->dst == NULL || s->kind > INIT_STEP_SYMLINK) r.bad = 1;
    }
    p->nsteps = ns;
  }
  if (!r.bad) p->argv = get_strv(&r, INIT_MAX_ARGS);
  if (!r.bad) p->envp = get_strv(&r, INIT_MAX_ARGS);
  if (!r.bad && (p->exe == NULL || p->argv == NULL || p->argv[0] == NULL || r.p != r.end))
    r.bad = 1;
  if (r.bad) fail("read plan", "(malformed)", EINVAL);
}

/* ------------------------------------------------------------ set-up */

static void run_steps(const plan *p) {
  for (size_t i = 0; i < p->nsteps; i++) {
    const step *st = &p->steps[i];
    switch (st->kind) {
      case INIT_STEP_MKDIR:
        if (mkdir(st->dst, st->mode) != 0 && errno != EEXIST) fail("mkdir", st->dst, errno);
        break;
      case INIT_STEP_MKNOD:
        if (mknod(st->dst, st->mode, st->dev) != 0) fail("mknod", st->dst, errno);
        break;
      case INIT_STEP_SYMLINK:
        if (st->src == NULL || symlink(st->src, st->dst) != 0) fail("symlink", st->dst, errno);
        break;
      case INIT_STEP_MOUNT:
        if (mount(st->src, st->dst, st->fstype, st->flags, st->data) != 0)
          fail("mount", st->dst, errno);
        if (st->remount_ro &&
            mount(NULL, st->dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL) != 0)
          fail("remount read-only", st->dst, errno);
        break;
    }
  }
}

static int lo_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, "lo", 3);
  int e = 0;
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
    e = errno;
  } else {
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) e = errno;
  }
  close(s);
  return e;
}

/* ------------------------------------------------------------ the task */

static volatile sig_atomic_t g_task_pid;

static void forward_signal(int sig) {
  if (g_task_pid > 0) kill((pid_t)g_task_pid, sig);
}

static void __attribute__((noreturn)) run_task(const plan *p, mode_t old_umask,
                                               const sigset_t *mask) {
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    signal(sig, SIG_DFL);
  }
  sigprocmask(SIG_SETMASK, mask, NULL);
  umask(old_umask);
  if (p->switch_user) {
    if (setgroups(p->ngroups, p->groups) != 0) fail("setgroups", NULL, errno);
    if (setgid(p->gid) != 0) fail("setgid", NULL, errno);
    if (setuid(p->uid) != 0) fail("setuid", NULL, errno);
  }
  if (p->cwd && chdir(p->cwd) != 0) fail("chdir", p->cwd, errno);
  execve(p->exe, p->argv, p->envp);
  fail("exec", p->exe, errno);
}

int main(void) {
  /* The launcher blocked every signal around the clone; the mask survives
   * exec, dispositions do not (except ignored ones, reset here). */
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* Only our own descriptors: a container that outlives the agent must
   * not hold its listening sockets. */
  if (fcntl(INIT_FD_SYNC, F_SETFD, FD_CLOEXEC) != 0 || fcntl(INIT_FD_ERR, F_SETFD, FD_CLOEXEC) != 0 ||
      fcntl(INIT_FD_STATUS, F_SETFD, FD_CLOEXEC) != 0) {
    /* Started by hand, without the launcher's descriptors. */
    static const char msg[] = "mesos-container-init: started by the containerizer only\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    return 2;
  }
  syscall(SYS_close_range, (unsigned)INIT_NFDS, ~0U, 0);

  plan p;
  memset(&p, 0, sizeof p);
  read_plan(&p);
  mode_t old_umask = umask(0);

  if (setsid() < 0) fail("setsid", NULL, errno);
  if (p.namespaces & MESOS_NS_MOUNT) {
    /* Nothing mounted in here may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) != 0)
      fail("make / a slave mount", NULL, errno);
  }
  run_steps(&p);
  if (p.rootfs) {
    if (chdir(p.rootfs) != 0) fail("chdir", p.rootfs, errno);
    /* pivot_root(".", ".") stacks the old root under the new one; the
     * lazy unmount then drops it, leaving no path to the host tree. */
    if (syscall(SYS_pivot_root, ".", ".") != 0) fail("pivot_root", p.rootfs, errno);
    if (umount2(".", MNT_DETACH) != 0) fail("unmount old root", NULL, errno);
    if (chdir("/") != 0) fail("chdir", "/", errno);
  }
  if ((p.namespaces & MESOS_NS_UTS) && p.hostname &&
      sethostname(p.hostname, strlen(p.hostname)) != 0)
    fail("sethostname", p.hostname, errno);
  if (p.namespaces & MESOS_NS_NET) {
    int e = lo_up();
    if (e) fail("bring up lo", NULL, e);
  }

  /* Wait for the agent: cgroups joined and pid checkpointed. */
  char go = 0;
  ssize_t r;
  do {
    r = read(INIT_FD_SYNC, &go, 1);
  } while (r < 0 && errno == EINTR);
  if (r != 1) _exit(126);
  close(INIT_FD_SYNC);

  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  static const int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  /* Block the forwarded signals around the fork, so one arriving before
   * g_task_pid is set is delivered (and forwarded) right after. */
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof fwd / sizeof *fwd; i++) sigaddset(&set, fwd[i]);
  sigprocmask(SIG_BLOCK, &set, NULL);
  /* vfork: even this small program's page tables cost a fork more than
   * the task's exec; the child only makes system calls (and glibc's
   * setuid family, safe here: we have one thread) and never returns. */
  pid_t task = vfork();
  if (task < 0) fail("vfork", NULL, errno);
  if (task == 0) run_task(&p, old_umask, &none);
  close(INIT_FD_ERR);
  g_task_pid = task;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward_signal;
  sa.sa_flags = SA_RESTART;
  for (size_t i = 0; i < sizeof fwd / sizeof *fwd; i++) sigaction(fwd[i], &sa, NULL);
  sigprocmask(SIG_SETMASK, &none, NULL);

  int status = 0;
  for (;;) {
    int st;
    pid_t w = waitpid(-1, &st, 0);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) break;
    if (w == task) {
      status = st;
      break;
    }
  }
  char num[24];
  int n = snprintf(num, sizeof num, "%u\n", (unsigned)status);
  ssize_t w = write(INIT_FD_STATUS, num, (size_t)n);
  (void)w;
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}
