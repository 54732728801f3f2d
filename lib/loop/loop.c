/*
 * The event loop: libuv inside, never visible in public headers.
 *
 * Public handles (timers, signal and child watchers) are tracked on a list
 * owned by the loop so mesos_loop_free() can close and free whatever the host
 * left open.  Handles are released through uv_close(), which defers the free
 * to the next iteration; that is what makes freeing a handle inside its own
 * callback safe.
 */
#include "loop/loop_int.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/list.h"
#include "base/log.h"

struct mesos_loop {
  uv_loop_t uv;
  uv_async_t wakeup;
  mesos_loop_options opts;
  int running; /* inside mesos_loop_run / run_once */
  mesos__list handles; /* public handles still open */
  /* Child watchers: one SIGCHLD watcher per loop, started while any child is
   * watched, plus a zero timer to look for children that exited before the
   * watcher existed. */
  mesos__list children;
  /* Children one reaping pass found ended, each waiting for its callback.
   * A callback may free another child of this list (mesos_child_free takes
   * it off), so they are dispatched one at a time from the head. */
  mesos__list reaped;
  uv_signal_t sigchld;
  uv_timer_t child_check;
  int sigchld_active;
  uint64_t reap_calls; /* waitid/waitpid calls made reaping (for tests) */
};

/* Common head of the public handles. */
typedef struct pubhandle {
  mesos__list node;
  mesos_loop *loop;
  uv_handle_t *uvh; /* the handle inside the enclosing struct */
} pubhandle;

struct mesos_timer {
  pubhandle h;
  uv_timer_t t;
  mesos_timer_fn cb;
  void *ud;
};

struct mesos_signal {
  pubhandle h;
  uv_signal_t s;
  mesos_signal_fn cb;
  void *ud;
};

struct mesos_child {
  mesos__list node; /* on loop->children while watched, then loop->reaped */
  mesos_loop *loop;
  int32_t pid;  /* 0 once its callback has started */
  int status;   /* wait status, once reaped */
  mesos_child_fn cb;
  void *ud;
};

mesos_status mesos__uv_status(int uverr) {
  switch (uverr) {
    case 0: return MESOS_OK;
    case UV_ENOMEM: return MESOS_ENOMEM;
    case UV_EINVAL: return MESOS_EINVAL;
    case UV_ETIMEDOUT: return MESOS_ETIMEDOUT;
    case UV_EEXIST: case UV_EADDRINUSE: return MESOS_EEXIST;
    case UV_ENOENT: return MESOS_ENOTFOUND;
    case UV_EACCES: case UV_EPERM: return MESOS_EPERM;
    case UV_EOF: case UV_ECONNRESET: case UV_EPIPE: case UV_ECANCELED: return MESOS_ECLOSED;
    case UV_EBUSY: return MESOS_EBUSY;
    case UV_EAGAIN: return MESOS_EAGAIN;
    default: return MESOS_EIO;
  }
}

mesos_status mesos__uv_err(mesos_error **err, int uverr, const char *what) {
  return mesos__err(err, mesos__uv_status(uverr), "%s: %s", what, uv_strerror(uverr));
}

uv_loop_t *mesos__loop_uv(mesos_loop *loop) { return &loop->uv; }

mesos_loop *mesos__loop_from_uv(uv_loop_t *uv) {
  return mesos__container_of(uv, mesos_loop, uv);
}

static void wakeup_cb(uv_async_t *a) {
  mesos_loop *loop = a->data;
  if (loop->opts.wakeup_cb) loop->opts.wakeup_cb(loop, loop->opts.wakeup_ud);
}

MESOS_EXTERN(mesos_status) mesos_loop_options_init(mesos_loop_options *opts,
                                                   uint32_t version) {
  if (opts == NULL) return MESOS_EINVAL;
  if (version != MESOS_LOOP_OPTIONS_VERSION) return MESOS_EVERSION;
  memset(opts, 0, sizeof *opts);
  opts->version = version;
  return MESOS_OK;
}

MESOS_EXTERN(mesos_status) mesos_loop_new(mesos_loop **out, const mesos_loop_options *opts,
                                          mesos_error **err) {
  if (out == NULL) return mesos__err(err, MESOS_EINVAL, "mesos_loop_new: out is NULL");
  if (opts && opts->version != MESOS_LOOP_OPTIONS_VERSION)
    return mesos__err(err, MESOS_EVERSION,
                      "mesos_loop_options: version %u not supported (this library: %u)",
                      opts->version, MESOS_LOOP_OPTIONS_VERSION);
  mesos_loop *loop = MESOS__NEW(mesos_loop);
  if (loop == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  if (opts) loop->opts = *opts;
  else mesos_loop_options_init(&loop->opts, MESOS_LOOP_OPTIONS_VERSION);
  int r = uv_loop_init(&loop->uv);
  if (r != 0) {
    mesos__free(loop);
    return mesos__uv_err(err, r, "uv_loop_init");
  }
  loop->uv.data = loop;
  r = uv_async_init(&loop->uv, &loop->wakeup, wakeup_cb);
  if (r != 0) {
    uv_loop_close(&loop->uv);
    mesos__free(loop);
    return mesos__uv_err(err, r, "uv_async_init");
  }
  loop->wakeup.data = loop;
  /* The wake-up handle alone must not keep mesos_loop_run() from returning. */
  uv_unref((uv_handle_t *)&loop->wakeup);
  uv_signal_init(&loop->uv, &loop->sigchld);
  loop->sigchld.data = loop;
  uv_timer_init(&loop->uv, &loop->child_check);
  loop->child_check.data = loop;
  mesos__list_init(&loop->handles);
  mesos__list_init(&loop->children);
  mesos__list_init(&loop->reaped);
  /* One empty iteration registers the wake-up fd with epoll, so a host's
   * first mesos_loop_timeout_ms() reflects real work, not set-up. */
  uv_run(&loop->uv, UV_RUN_NOWAIT);
  *out = loop;
  return MESOS_OK;
}

static void close_free_cb(uv_handle_t *h) { mesos__free(h->data); }

static void close_walk_cb(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

MESOS_EXTERN(void) mesos_loop_free(mesos_loop *loop) {
  if (loop == NULL) return;
  mesos__list *it, *tmp;
  MESOS__LIST_FOREACH_SAFE(it, tmp, &loop->handles) {
    pubhandle *h = mesos__container_of(it, pubhandle, node);
    mesos__list_remove(it);
    if (!uv_is_closing(h->uvh)) uv_close(h->uvh, close_free_cb);
  }
  MESOS__LIST_FOREACH_SAFE(it, tmp, &loop->children) {
    mesos_child *c = mesos__container_of(it, mesos_child, node);
    mesos__list_remove(it);
    mesos__free(c);
  }
  /* Anything an internal module forgot: close it so the loop can close.  Its
   * memory belongs to that module, so it is not freed here. */
  uv_walk(&loop->uv, close_walk_cb, NULL);
  while (uv_run(&loop->uv, UV_RUN_NOWAIT) != 0) {
  }
  int r = uv_loop_close(&loop->uv);
  if (r != 0) LOG_ERROR("uv_loop_close: %s", uv_strerror(r));
  mesos__free(loop);
}

MESOS_EXTERN(int) mesos_loop_fd(const mesos_loop *loop) {
  return uv_backend_fd(&loop->uv);
}

MESOS_EXTERN(int) mesos_loop_timeout_ms(const mesos_loop *loop) {
  /* libuv answers 0 for a loop with nothing active (uv_run would return at
   * once); for a host that polls, that would be a busy loop.  Nothing active
   * means only a wake-up can bring work, and that makes the fd readable. */
  if (!uv_loop_alive(&loop->uv)) return -1;
  return uv_backend_timeout(&loop->uv);
}

MESOS_EXTERN(int) mesos_loop_run_once(mesos_loop *loop) {
  if (loop == NULL) return MESOS_EINVAL;
  if (loop->running) return MESOS_EBUSY;
  loop->running = 1;
  /* The wake-up handle is unreferenced so it alone never keeps
   * mesos_loop_run() going; but a host polling our fd must still get its
   * wake-up delivered when nothing else is active, and uv_run() does no I/O
   * at all on a loop with nothing referenced.  So count it for this one
   * non-blocking iteration. */
  uv_ref((uv_handle_t *)&loop->wakeup);
  uv_run(&loop->uv, UV_RUN_NOWAIT);
  uv_unref((uv_handle_t *)&loop->wakeup);
  int alive = uv_loop_alive(&loop->uv);
  loop->running = 0;
  return alive ? 1 : 0;
}

MESOS_EXTERN(mesos_status) mesos_loop_run(mesos_loop *loop, mesos_error **err) {
  if (loop == NULL) return mesos__err(err, MESOS_EINVAL, "mesos_loop_run: loop is NULL");
  if (loop->running)
    return mesos__err(err, MESOS_EBUSY, "mesos_loop_run: called from inside the loop");
  loop->running = 1;
  uv_run(&loop->uv, UV_RUN_DEFAULT);
  loop->running = 0;
  return MESOS_OK;
}

MESOS_EXTERN(void) mesos_loop_stop(mesos_loop *loop) {
  if (loop) uv_stop(&loop->uv);
}

MESOS_EXTERN(mesos_status) mesos_loop_wakeup(mesos_loop *loop) {
  if (loop == NULL) return MESOS_EINVAL;
  return mesos__uv_status(uv_async_send(&loop->wakeup));
}

MESOS_EXTERN(uint64_t) mesos_loop_now_ms(const mesos_loop *loop) {
  return uv_now(&loop->uv);
}

/* ------------------------------------------------------------- timers */

static void timer_cb(uv_timer_t *t) {
  mesos_timer *timer = t->data;
  timer->cb(timer, timer->ud);
}

MESOS_EXTERN(mesos_status) mesos_timer_new(mesos_timer **out, mesos_loop *loop,
                                           mesos_timer_fn cb, void *ud, mesos_error **err) {
  if (out == NULL || loop == NULL || cb == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_timer_new: out, loop and cb are required");
  mesos_timer *t = MESOS__NEW(mesos_timer);
  if (t == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  uv_timer_init(&loop->uv, &t->t);
  t->t.data = t;
  t->h.loop = loop;
  t->h.uvh = (uv_handle_t *)&t->t;
  t->cb = cb;
  t->ud = ud;
  mesos__list_insert_tail(&loop->handles, &t->h.node);
  *out = t;
  return MESOS_OK;
}

MESOS_EXTERN(mesos_status) mesos_timer_start(mesos_timer *timer, uint64_t timeout_ms,
                                             uint64_t repeat_ms) {
  if (timer == NULL) return MESOS_EINVAL;
  if (uv_is_closing((uv_handle_t *)&timer->t)) return MESOS_ECLOSED;
  return mesos__uv_status(uv_timer_start(&timer->t, timer_cb, timeout_ms, repeat_ms));
}

MESOS_EXTERN(void) mesos_timer_stop(mesos_timer *timer) {
  if (timer) uv_timer_stop(&timer->t);
}

MESOS_EXTERN(void) mesos_timer_free(mesos_timer *timer) {
  if (timer == NULL || uv_is_closing((uv_handle_t *)&timer->t)) return;
  mesos__list_remove(&timer->h.node);
  uv_close((uv_handle_t *)&timer->t, close_free_cb);
}

/* ------------------------------------------------------------- signals */

static void signal_cb(uv_signal_t *s, int signum) {
  mesos_signal *sig = s->data;
  sig->cb(sig, signum, sig->ud);
}

MESOS_EXTERN(mesos_status) mesos_signal_new(mesos_signal **out, mesos_loop *loop, int signum,
                                            mesos_signal_fn cb, void *ud, mesos_error **err) {
  if (out == NULL || loop == NULL || cb == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_signal_new: out, loop and cb are required");
  if (signum <= 0 || signum >= NSIG || signum == SIGKILL || signum == SIGSTOP)
    return mesos__err(err, MESOS_EINVAL, "mesos_signal_new: cannot watch signal %d", signum);
  mesos_signal *sig = MESOS__NEW(mesos_signal);
  if (sig == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  int r = uv_signal_init(&loop->uv, &sig->s);
  if (r != 0) {
    mesos__free(sig);
    return mesos__uv_err(err, r, "uv_signal_init");
  }
  sig->s.data = sig;
  sig->cb = cb;
  sig->ud = ud;
  sig->h.loop = loop;
  sig->h.uvh = (uv_handle_t *)&sig->s;
  r = uv_signal_start(&sig->s, signal_cb, signum);
  if (r != 0) {
    uv_close((uv_handle_t *)&sig->s, close_free_cb);
    return mesos__uv_err(err, r, "uv_signal_start");
  }
  mesos__list_insert_tail(&loop->handles, &sig->h.node);
  *out = sig;
  return MESOS_OK;
}

MESOS_EXTERN(void) mesos_signal_free(mesos_signal *sig) {
  if (sig == NULL || uv_is_closing((uv_handle_t *)&sig->s)) return;
  mesos__list_remove(&sig->h.node);
  uv_close((uv_handle_t *)&sig->s, close_free_cb);
}

/* ------------------------------------------------------------- children */

static void children_update_watch(mesos_loop *loop);

/* Takes `c` off the watch list onto the reaped list with its wait status. */
static void child_ended(mesos_loop *loop, mesos_child *c, int status) {
  c->status = status;
  mesos__list_remove(&c->node);
  mesos__list_insert_tail(&loop->reaped, &c->node);
}

static mesos_child *child_find(mesos_loop *loop, pid_t pid) {
  mesos__list *it;
  for (it = loop->children.next; it != &loop->children; it = it->next) {
    mesos_child *c = mesos__container_of(it, mesos_child, node);
    if (c->pid == pid) return c;
  }
  return NULL;
}

/* Reaps the watched children that have exited, then runs their callbacks.
 *
 * The kernel says which child ended: waitid(P_ALL, WNOHANG | WNOWAIT)
 * names one without reaping it; a watched one is reaped (waitpid on its
 * pid) and the next asked for, so a SIGCHLD costs two system calls per
 * ended child plus one, whatever the number watched.  (A waitpid per
 * watched child per SIGCHLD was ~80 calls per task exit with 80 executors
 * running in the task-launch benchmark; restarting that scan after each
 * callback had been n*n/2.)  waitpid(-1) is not an option: the host may
 * wait for children of its own.  So when the kernel names a child that is
 * not watched (the host's, or one started but not watched yet), or says
 * there are no children at all while some are watched (reaped by someone
 * else), it cannot name the others behind it: then every watched child is
 * asked, one waitpid each, as before.
 *
 * Every ended child is collected first and the callbacks run after, one
 * at a time from the head, since a callback may free or add watchers. */
static void children_reap(mesos_loop *loop) {
  int scan = 0;
  while (!mesos__list_empty(&loop->children)) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    loop->reap_calls++;
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
      if (errno == EINTR) continue;
      scan = 1; /* ECHILD: our watched children were reaped elsewhere */
      break;
    }
    if (info.si_pid == 0) break; /* none has ended */
    mesos_child *c = child_find(loop, info.si_pid);
    if (c == NULL) {
      scan = 1;
      break;
    }
    int status = 0;
    pid_t r;
    do {
      loop->reap_calls++;
      r = waitpid(c->pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r != c->pid) { /* cannot happen: it was waiting to be reaped */
      scan = 1;
      break;
    }
    child_ended(loop, c, status);
  }
  mesos__list *it, *tmp;
  MESOS__LIST_FOREACH_SAFE(it, tmp, &loop->children) {
    if (!scan) break;
    mesos_child *c = mesos__container_of(it, mesos_child, node);
    int status = 0;
    pid_t r;
    do {
      loop->reap_calls++;
      r = waitpid(c->pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == c->pid || (r < 0 && errno == ECHILD)) {
      if (r < 0) {
        /* Reaped by someone else: report it as killed by an unknown
         * cause rather than never reporting it. */
        LOG_WARN("child %d was reaped outside the library", (int)c->pid);
        status = 0xff00; /* WIFEXITED, exit code 255 */
      }
      child_ended(loop, c, status);
    }
  }
  while (!mesos__list_empty(&loop->reaped)) {
    mesos_child *done = mesos__container_of(loop->reaped.next, mesos_child, node);
    mesos__list_remove(&done->node);
    int32_t pid = done->pid;
    done->pid = 0;
    done->cb(done, pid, done->status, done->ud);
  }
  children_update_watch(loop);
}

uint64_t mesos__loop_reap_calls(const mesos_loop *loop) { return loop->reap_calls; }

static void sigchld_cb(uv_signal_t *s, int signum) {
  (void)signum;
  children_reap(s->data);
}

static void child_check_cb(uv_timer_t *t) { children_reap(t->data); }

static void children_update_watch(mesos_loop *loop) {
  if (mesos__list_empty(&loop->children)) {
    if (loop->sigchld_active) {
      uv_signal_stop(&loop->sigchld);
      loop->sigchld_active = 0;
    }
  } else if (!loop->sigchld_active) {
    if (uv_signal_start(&loop->sigchld, sigchld_cb, SIGCHLD) == 0) loop->sigchld_active = 1;
  }
}

MESOS_EXTERN(mesos_status) mesos_child_new(mesos_child **out, mesos_loop *loop, int32_t pid,
                                           mesos_child_fn cb, void *ud, mesos_error **err) {
  if (out == NULL || loop == NULL || cb == NULL || pid <= 0)
    return mesos__err(err, MESOS_EINVAL, "mesos_child_new: need out, loop, cb and pid > 0");
  mesos__list *it;
  for (it = loop->children.next; it != &loop->children; it = it->next)
    if (mesos__container_of(it, mesos_child, node)->pid == pid)
      return mesos__err(err, MESOS_EEXIST, "child %d is already watched", (int)pid);
  siginfo_t info;
  memset(&info, 0, sizeof info);
  if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    if (errno == ECHILD)
      return mesos__err(err, MESOS_ENOTFOUND, "process %d is not a child of this process",
                        (int)pid);
    return mesos__err_errno(err, MESOS_EIO, errno, "waitid");
  }
  mesos_child *c = MESOS__NEW(mesos_child);
  if (c == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  c->loop = loop;
  c->pid = pid;
  c->cb = cb;
  c->ud = ud;
  mesos__list_insert_tail(&loop->children, &c->node);
  children_update_watch(loop);
  if (!loop->sigchld_active) {
    mesos__list_remove(&c->node);
    mesos__free(c);
    return mesos__err(err, MESOS_EIO, "cannot watch SIGCHLD");
  }
  /* The child may have exited before SIGCHLD was watched: look once soon.
   * A callback never runs from inside mesos_child_new itself. */
  uv_timer_start(&loop->child_check, child_check_cb, 0, 0);
  *out = c;
  return MESOS_OK;
}

MESOS_EXTERN(void) mesos_child_free(mesos_child *child) {
  if (child == NULL) return;
  mesos_loop *loop = child->loop;
  if (child->pid != 0) mesos__list_remove(&child->node);
  mesos__free(child);
  children_update_watch(loop);
}
