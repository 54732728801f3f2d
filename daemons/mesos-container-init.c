/*
 * mesos-container-init: the first process of every container of the
 * unified containerizer (lib/containerizer/launcher.c execs it in the
 * container's new namespaces; the plan format and descriptors are in
 * lib/containerizer/init_plan.h).  Not meant to be run by hand.
 *
 * It reads the plan, builds the container's mounts, pivots into its root
 * filesystem, sets the hostname, brings up lo, then waits until the agent
 * has put it into its cgroups and checkpointed its pid.  Released, it
 * starts the task (user switch, working directory, exec) and stays as the
 * container's reaper: PID 1 of the PID namespace when there is one,
 * forwarding SIGTERM and friends to the task.  When the task exits it
 * writes the task's wait status to the status file and exits with the
 * task's code (128+signal for a signal), which takes the rest of a PID
 * namespace down with it.
 *
 * Why no C library: this program starts once per container, and a static
 * glibc's start-up (CPU feature probing with cpuid, which traps to the
 * hypervisor on a virtual machine, TLS and IRELATIVE set-up, stdio) cost
 * more than twice the CPU of the exec itself (about 3.4 ms against 1.5 ms
 * per start, measured on our build machines).  Everything here is a raw
 * system call (x86-64 and aarch64), memory comes from mmap, and the
 * text of an errno is left to the launcher: a failed step is written as
 * "<what> <path>" NUL <errno in decimal> on the error pipe and
 * mesos__launch_collect formats it.  The program is single-threaded and
 * never returns into C code of a vfork'ed child, so it may switch users
 * with plain setuid(2) and friends.  Only glibc's headers are used, for
 * constants and types.
 *
 * Signals: every signal stays blocked (the launcher blocked them around
 * the clone; the mask survives exec) and the reaper collects them with
 * rt_sigtimedwait: SIGCHLD means reap, the forwarded ones go to the task.
 * A blocked signal is never discarded, not even for a PID namespace's
 * init with default dispositions, so no handler (and no x86-64 signal
 * restorer) is needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "containerizer/init_plan.h"
#include "mesos/containerizer.h"

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "mesos-container-init makes raw system calls for x86-64 and aarch64 only"
#endif

/* ------------------------------------------------------------ system calls */

/* Returns the kernel's value: >= 0, or -errno. */
static long sc6(long n, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
#else
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory");
  return x0;
#endif
}

#define SC(n, ...) SC_(n, __VA_ARGS__, 0, 0, 0, 0, 0, 0)
#define SC_(n, a, b, c, d, e, f, ...) sc6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* The fork of the task: vfork semantics (the child borrows our memory
 * until it execs or exits).  Inline, so the child never returns through a
 * stack frame the parent will use again. */
static inline __attribute__((always_inline)) long sys_vfork(void) {
#if defined(__x86_64__)
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_vfork) : "rcx", "r11", "memory");
  return ret;
#else
  register long x8 __asm__("x8") = SYS_clone;
  register long x0 __asm__("x0") = CLONE_VM | CLONE_VFORK | SIGCHLD;
  register long x1 __asm__("x1") = 0;
  register long x2 __asm__("x2") = 0;
  register long x3 __asm__("x3") = 0;
  register long x4 __asm__("x4") = 0;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4) : "memory");
  return x0;
#endif
}

static void __attribute__((noreturn)) sys_exit(int code) {
  for (;;) SC(SYS_exit_group, code);
}

/* The kernel's sigset: 64 bits on both architectures. */
typedef uint64_t ksigset;
#define SIGBIT(s) ((ksigset)1 << ((s) - 1))

/* The compiler may emit calls to these for struct copies and zeroing. */
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memset(void *d, int c, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *memcpy(void *restrict d, const void *restrict s, size_t n) {
  unsigned char *x = d;
  const unsigned char *y = s;
  while (n--) *x++ = *y++;
  return d;
}

void *memset(void *d, int c, size_t n) {
  unsigned char *x = d;
  while (n--) *x++ = (unsigned char)c;
  return d;
}

void *memmove(void *d, const void *s, size_t n) {
  unsigned char *x = d;
  const unsigned char *y = s;
  if (x < y) {
    while (n--) *x++ = *y++;
  } else {
    while (n--) x[n] = y[n];
  }
  return d;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (; n; n--, x++, y++)
    if (*x != *y) return *x - *y;
  return 0;
}

static size_t slen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

/* Zeroed memory that lives as long as we do (the plan and its tables). */
static void *alloc(size_t n) {
  long p = SC(SYS_mmap, 0, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return (p < 0 && p > -4096) ? NULL : (void *)p;
}

static long write_all(int fd, const char *b, size_t n) {
  while (n > 0) {
    long w = SC(SYS_write, fd, b, n);
    if (w == -EINTR) continue;
    if (w <= 0) return w;
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Decimal text of v into buf (at least 21 bytes); returns its length. */
static size_t utoa(uint64_t v, char *buf) {
  char t[21];
  size_t n = 0;
  do {
    t[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++) buf[i] = t[n - 1 - i];
  buf[n] = '\0';
  return n;
}

/* Reports a failed step on the error pipe and exits: "<what> <path>",
 * a NUL, the errno in decimal (the launcher adds its text). */
static void __attribute__((noreturn)) fail(const char *what, const char *path, long e) {
  char msg[1024];
  size_t n = 0;
  for (const char *parts[] = {what, path ? " " : "", path ? path : ""}, **q = parts;
       q < parts + 3; q++)
    for (const char *s = *q; *s && n < sizeof msg - 24; s++) msg[n++] = *s;
  msg[n++] = '\0';
  n += utoa((uint64_t)(e < 0 ? -e : e), msg + n);
  write_all(INIT_FD_ERR, msg, n);
  sys_exit(127);
}

/* ------------------------------------------------------------ the plan */

typedef struct step {
  uint32_t kind;
  const char *src, *dst, *fstype, *data;
  unsigned long flags;
  uint32_t mode;
  uint64_t dev;
  int remount_ro;
} step;

typedef struct plan {
  uint32_t namespaces;
  const char *rootfs, *hostname, *cwd, *exe;
  int switch_user;
  uint32_t uid, gid;
  uint32_t *groups;
  size_t ngroups;
  step *steps;
  size_t nsteps;
  char **argv, **envp;
} plan;

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
  if ((size_t)(r->end - r->p) < (size_t)n + 1 || r->p[n] != '\0') {
    r->bad = 1;
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++)
    if (r->p[i] == '\0') {
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
  char **v = alloc(((size_t)n + 1) * sizeof *v);
  if (v == NULL) fail("read plan", NULL, ENOMEM);
  for (uint32_t i = 0; i < n; i++) {
    v[i] = (char *)get_str(r);
    if (v[i] == NULL) r->bad = 1;
    if (r->bad) return v;
  }
  return v;
}

static long read_full(int fd, void *buf, size_t n) {
  unsigned char *b = buf;
  while (n > 0) {
    long r = SC(SYS_read, fd, b, n);
    if (r == -EINTR) continue;
    if (r <= 0) return r == 0 ? -EPIPE : r;
    b += r;
    n -= (size_t)r;
  }
  return 0;
}

static void read_plan(plan *p) {
  uint32_t hdr[2];
  long e = read_full(INIT_FD_SYNC, hdr, sizeof hdr);
  /* The launcher gave up before sending anything: nothing to report. */
  if (e == -EPIPE) sys_exit(126);
  if (e) fail("read plan", NULL, e);
  if (hdr[0] != INIT_PLAN_MAGIC || hdr[1] > INIT_PLAN_MAX) fail("read plan", "(bad header)", EINVAL);
  unsigned char *buf = alloc(hdr[1]);
  if (buf == NULL) fail("read plan", NULL, ENOMEM);
  e = read_full(INIT_FD_SYNC, buf, hdr[1]);
  if (e == -EPIPE) fail("read plan", "(truncated)", EINVAL);
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
    p->groups = alloc(ng * sizeof *p->groups);
    if (p->groups == NULL) fail("read plan", NULL, ENOMEM);
    for (uint32_t i = 0; i < ng && !r.bad; i++) p->groups[i] = get_u32(&r);
    p->ngroups = ng;
  }
  uint32_t ns = r.bad ? 0 : get_u32(&r);
  if (ns > INIT_MAX_STEPS) r.bad = 1;
  if (!r.bad && ns > 0) {
    p->steps = alloc(ns * sizeof *p->steps);
    if (p->steps == NULL) fail("read plan", NULL, ENOMEM);
    for (uint32_t i = 0; i < ns && !r.bad; i++) {
      step *s = &p->steps[i];
      s->kind = get_u32(&r);
      s->src = get_str(&r);
      s->dst = get_str(&r);
      s->fstype = get_str(&r);
      s->flags = (unsigned long)get_u64(&r);
      s->data = get_str(&r);
      s->mode = get_u32(&r);
      s->dev = get_u64(&r);
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
    long e;
    switch (st->kind) {
      case INIT_STEP_MKDIR:
        e = SC(SYS_mkdirat, AT_FDCWD, st->dst, st->mode);
        if (e < 0 && e != -EEXIST) fail("mkdir", st->dst, e);
        break;
      case INIT_STEP_MKNOD:
        e = SC(SYS_mknodat, AT_FDCWD, st->dst, st->mode, st->dev);
        if (e < 0) fail("mknod", st->dst, e);
        break;
      case INIT_STEP_SYMLINK:
        if (st->src == NULL) fail("symlink", st->dst, EINVAL);
        e = SC(SYS_symlinkat, st->src, AT_FDCWD, st->dst);
        if (e < 0) fail("symlink", st->dst, e);
        break;
      case INIT_STEP_MOUNT:
        e = SC(SYS_mount, st->src, st->dst, st->fstype, st->flags, st->data);
        if (e < 0) fail("mount", st->dst, e);
        if (st->remount_ro) {
          e = SC(SYS_mount, 0, st->dst, 0, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, 0);
          if (e < 0) fail("remount read-only", st->dst, e);
        }
        break;
    }
  }
}

static long lo_up(void) {
  long s = SC(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return s;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, "lo", 3);
  long e = SC(SYS_ioctl, s, SIOCGIFFLAGS, &ifr);
  if (e >= 0) {
    ifr.ifr_flags |= IFF_UP;
    e = SC(SYS_ioctl, s, SIOCSIFFLAGS, &ifr);
  }
  SC(SYS_close, s);
  return e < 0 ? e : 0;
}

/* Every disposition back to the default: an ignored one (the agent's
 * SIGPIPE) would otherwise survive exec into the task. */
static void default_dispositions(void) {
  struct {
    unsigned long handler, flags, restorer;
    ksigset mask;
  } sa;
  memset(&sa, 0, sizeof sa); /* SIG_DFL */
  for (int sig = 1; sig <= 64; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    SC(SYS_rt_sigaction, sig, &sa, 0, sizeof(ksigset));
  }
}

/* ------------------------------------------------------------ the task */

/* The vfork'ed child: everything up to exec, on our memory.  A failure
 * reaches the launcher through the error pipe (close-on-exec, so an exec
 * that worked closes the child's copy). */
static void __attribute__((noreturn, noinline)) run_task(const plan *p, uint32_t old_umask) {
  ksigset none = 0;
  SC(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, sizeof none);
  SC(SYS_umask, old_umask);
  long e;
  if (p->switch_user) {
    if ((e = SC(SYS_setgroups, p->ngroups, p->groups)) < 0) fail("setgroups", NULL, e);
    if ((e = SC(SYS_setgid, p->gid)) < 0) fail("setgid", NULL, e);
    if ((e = SC(SYS_setuid, p->uid)) < 0) fail("setuid", NULL, e);
  }
  if (p->cwd && (e = SC(SYS_chdir, p->cwd)) < 0) fail("chdir", p->cwd, e);
  e = SC(SYS_execve, p->exe, p->argv, p->envp);
  fail("exec", p->exe, e);
}

static void __attribute__((noreturn, used)) start_c(long *sp) {
  (void)sp; /* argc, argv, envp: none used */
  default_dispositions();
  /* Only our own descriptors: a container that outlives the agent must
   * not hold its listening sockets. */
  if (SC(SYS_fcntl, INIT_FD_SYNC, F_SETFD, FD_CLOEXEC) < 0 ||
      SC(SYS_fcntl, INIT_FD_ERR, F_SETFD, FD_CLOEXEC) < 0 ||
      SC(SYS_fcntl, INIT_FD_STATUS, F_SETFD, FD_CLOEXEC) < 0) {
    /* Started by hand, without the launcher's descriptors. */
    static const char msg[] = "mesos-container-init: started by the containerizer only\n";
    write_all(2, msg, sizeof msg - 1);
    sys_exit(2);
  }
  SC(SYS_close_range, INIT_NFDS, ~0U, 0);
  /* Every signal stays blocked (see the top of this file). */
  ksigset all = ~(ksigset)0;
  SC(SYS_rt_sigprocmask, SIG_SETMASK, &all, 0, sizeof all);

  static plan p;
  read_plan(&p);
  uint32_t old_umask = (uint32_t)SC(SYS_umask, 0);

  long e = SC(SYS_setsid, 0);
  if (e < 0) fail("setsid", NULL, e);
  if (p.namespaces & MESOS_NS_MOUNT) {
    /* Nothing mounted in here may propagate back to the host. */
    e = SC(SYS_mount, 0, "/", 0, MS_SLAVE | MS_REC, 0);
    if (e < 0) fail("make / a slave mount", NULL, e);
  }
  run_steps(&p);
  if (p.rootfs) {
    if ((e = SC(SYS_chdir, p.rootfs)) < 0) fail("chdir", p.rootfs, e);
    /* pivot_root(".", ".") stacks the old root under the new one; the
     * lazy unmount then drops it, leaving no path to the host tree. */
    if ((e = SC(SYS_pivot_root, ".", ".")) < 0) fail("pivot_root", p.rootfs, e);
    if ((e = SC(SYS_umount2, ".", MNT_DETACH)) < 0) fail("unmount old root", NULL, e);
    if ((e = SC(SYS_chdir, "/")) < 0) fail("chdir", "/", e);
  }
  if ((p.namespaces & MESOS_NS_UTS) && p.hostname &&
      (e = SC(SYS_sethostname, p.hostname, slen(p.hostname))) < 0)
    fail("sethostname", p.hostname, e);
  if ((p.namespaces & MESOS_NS_NET) && (e = lo_up()) < 0) fail("bring up lo", NULL, e);

  /* Wait for the agent: cgroups joined and pid checkpointed. */
  char go = 0;
  long r;
  do {
    r = SC(SYS_read, INIT_FD_SYNC, &go, 1);
  } while (r == -EINTR);
  if (r != 1) sys_exit(126);
  SC(SYS_close, INIT_FD_SYNC);

  SC(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  long task = sys_vfork();
  if (task == 0) run_task(&p, old_umask);
  if (task < 0) fail("vfork", NULL, task);
  SC(SYS_close, INIT_FD_ERR);

  /* Reap until the task is gone; forward the polite signals to it. */
  static const int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  ksigset waitset = SIGBIT(SIGCHLD);
  for (size_t i = 0; i < sizeof fwd / sizeof *fwd; i++) waitset |= SIGBIT(fwd[i]);
  int status = 0;
  for (int done = 0; !done;) {
    for (;;) {
      int st = 0;
      long w = SC(SYS_wait4, -1, &st, WNOHANG, 0);
      if (w == -EINTR) continue;
      if (w <= 0) {
        if (w == -ECHILD) done = 1; /* cannot happen before the task's exit */
        break;
      }
      if (w == task) {
        status = st;
        done = 1;
        break;
      }
    }
    if (done) break;
    siginfo_t si;
    long sig = SC(SYS_rt_sigtimedwait, &waitset, &si, 0, sizeof waitset);
    if (sig > 0 && sig != SIGCHLD) SC(SYS_kill, task, sig);
  }
  char num[24];
  size_t n = utoa((uint32_t)status, num);
  num[n++] = '\n';
  write_all(INIT_FD_STATUS, num, n);
  sys_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* The entry point: the kernel's initial stack (argc, argv, envp, auxv) in
 * a register, the stack aligned as a call expects. */
#if defined(__x86_64__)
__asm__(".text\n.global _start\n.type _start,@function\n_start:\n"
        "  xor %ebp, %ebp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call start_c\n  hlt\n");
#else
__asm__(".text\n.global _start\n.type _start,%function\n_start:\n"
        "  mov x29, #0\n  mov x30, #0\n  mov x0, sp\n  and sp, x0, #-16\n  bl start_c\n");
#endif
