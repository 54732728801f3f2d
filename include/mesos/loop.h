/*
 * mesos/loop.h - the event loop every master, agent and client runs on.
 *
 * A mesos_loop owns timers, signal watchers, child watchers and every
 * connection the library opens.  Two ways to drive it:
 *
 *  - mesos_loop_run(): blocks until mesos_loop_stop() or no work is left
 *    (what the daemons do);
 *  - from the host's own loop: poll mesos_loop_fd() for readability, wait at
 *    most mesos_loop_timeout_ms(), then call mesos_loop_run_once(), which
 *    never blocks.  This is the libuv backend-fd / libcurl multi-socket model.
 *
 * Callbacks run only inside mesos_loop_run() / mesos_loop_run_once(), on the
 * thread that called them.  Freeing a handle (timer, watcher) from inside its
 * own callback is safe: the release is deferred to the next loop iteration.
 *
 * Thread safety: a loop and its handles belong to one thread at a time.  Only
 * mesos_loop_wakeup() may be called from any thread.
 *
 * Signals: the library installs no signal handler unless the host asks for a
 * signal watcher (mesos_signal_new) or a child watcher (mesos_child_new, which
 * watches SIGCHLD).  Writing to a socket the peer closed raises SIGPIPE on
 * Linux: host programs should ignore SIGPIPE, as the daemons do.
 *
 * Since 1.0.
 */
#ifndef MESOS_LOOP_H
#define MESOS_LOOP_H

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mesos_loop mesos_loop;
typedef struct mesos_timer mesos_timer;
typedef struct mesos_signal mesos_signal;
typedef struct mesos_child mesos_child;

#define MESOS_LOOP_OPTIONS_VERSION 1

typedef struct mesos_loop_options {
  uint32_t version; /* MESOS_LOOP_OPTIONS_VERSION */
  /* Called on the loop thread after mesos_loop_wakeup() from any thread;
   * NULL means wake-ups only interrupt the wait. */
  void (*wakeup_cb)(mesos_loop *loop, void *ud);
  void *wakeup_ud;
} mesos_loop_options;

#define MESOS_LOOP_OPTIONS_INIT { MESOS_LOOP_OPTIONS_VERSION, NULL, NULL }

/* Initialises `opts` to defaults for `version` (FFI twin of the macro).
 * MESOS_EVERSION if this library does not know `version`. */
MESOS_EXTERN(mesos_status) mesos_loop_options_init(mesos_loop_options *opts,
                                                   uint32_t version);

/*
 * Creates a loop.  `opts` may be NULL for defaults; it is copied.
 * Errors: MESOS_EVERSION (opts->version unknown), MESOS_ENOMEM, MESOS_EIO
 * (the OS refused an epoll fd or an eventfd).
 */
MESOS_EXTERN(mesos_status) mesos_loop_new(mesos_loop **out,
                                          const mesos_loop_options *opts,
                                          mesos_error **err);

/*
 * Frees the loop.  Handles still open are closed and freed first, their
 * callbacks are not run.  NULL is accepted.  Must not be called from inside
 * one of the loop's own callbacks.
 */
MESOS_EXTERN(void) mesos_loop_free(mesos_loop *loop);

/* A file descriptor that becomes readable when the loop has work.  Stable
 * for the loop's lifetime; do not read from or close it. */
MESOS_EXTERN(int) mesos_loop_fd(const mesos_loop *loop);

/* How long the host may wait before calling mesos_loop_run_once(): -1 means
 * no deadline (wait for mesos_loop_fd), 0 means work is pending now. */
MESOS_EXTERN(int) mesos_loop_timeout_ms(const mesos_loop *loop);

/*
 * Runs ready callbacks and expired timers once, without blocking.
 * Returns 1 if the loop still has active handles, 0 if it has none left,
 * or a negative mesos_status.
 */
MESOS_EXTERN(int) mesos_loop_run_once(mesos_loop *loop);

/* Runs until mesos_loop_stop() is called or no active handle is left.
 * MESOS_EBUSY if called re-entrantly from a callback. */
MESOS_EXTERN(mesos_status) mesos_loop_run(mesos_loop *loop, mesos_error **err);

/* Makes mesos_loop_run() return after the current iteration. */
MESOS_EXTERN(void) mesos_loop_stop(mesos_loop *loop);

/* Wakes the loop up from any thread; runs opts.wakeup_cb on the loop thread.
 * Several wake-ups before the loop runs may be coalesced into one call.
 * Async-signal-safe. */
MESOS_EXTERN(mesos_status) mesos_loop_wakeup(mesos_loop *loop);

/* The loop's cached monotonic clock, in milliseconds. */
MESOS_EXTERN(uint64_t) mesos_loop_now_ms(const mesos_loop *loop);

/* ------------------------------------------------------------- timers */

typedef void (*mesos_timer_fn)(mesos_timer *timer, void *ud);

/* Creates a stopped timer calling `cb(timer, ud)` when it fires.
 * Errors: MESOS_EINVAL (NULL loop or cb), MESOS_ENOMEM. */
MESOS_EXTERN(mesos_status) mesos_timer_new(mesos_timer **out, mesos_loop *loop,
                                           mesos_timer_fn cb, void *ud,
                                           mesos_error **err);

/* (Re)starts the timer: first fire after `timeout_ms`, then every
 * `repeat_ms` (0: once).  Restarting a running timer resets it. */
MESOS_EXTERN(mesos_status) mesos_timer_start(mesos_timer *timer,
                                             uint64_t timeout_ms,
                                             uint64_t repeat_ms);

/* Stops the timer; it may be started again. */
MESOS_EXTERN(void) mesos_timer_stop(mesos_timer *timer);

/* Stops and frees the timer (deferred; safe inside its callback). NULL ok. */
MESOS_EXTERN(void) mesos_timer_free(mesos_timer *timer);

/* ------------------------------------------------------------- signals */

typedef void (*mesos_signal_fn)(mesos_signal *sig, int signum, void *ud);

/*
 * Watches `signum` (e.g. SIGTERM, SIGHUP): `cb` runs on the loop thread, not
 * in signal context.  Installs a process-wide handler for `signum` while any
 * watcher for it exists.  Errors: MESOS_EINVAL (bad signal or cb), MESOS_EIO.
 */
MESOS_EXTERN(mesos_status) mesos_signal_new(mesos_signal **out, mesos_loop *loop,
                                            int signum, mesos_signal_fn cb,
                                            void *ud, mesos_error **err);

/* Stops watching and frees (deferred; safe inside its callback). NULL ok. */
MESOS_EXTERN(void) mesos_signal_free(mesos_signal *sig);

/* ------------------------------------------------------------- children */

/*
 * Called once when child `pid` has exited; `wait_status` is as waitpid()
 * reports it (use WIFEXITED etc.).  The child is reaped by the library.
 */
typedef void (*mesos_child_fn)(mesos_child *child, int32_t pid,
                               int wait_status, void *ud);

/*
 * Watches the exit of `pid`, which must be a child of this process that
 * nobody else reaps.  If it has already exited the callback runs on the
 * next loop iteration.  Errors: MESOS_EINVAL (pid <= 0 or NULL cb),
 * MESOS_ENOTFOUND (not a child of this process), MESOS_EEXIST (pid already
 * watched on this loop), MESOS_ENOMEM.
 */
MESOS_EXTERN(mesos_status) mesos_child_new(mesos_child **out, mesos_loop *loop,
                                           int32_t pid, mesos_child_fn cb,
                                           void *ud, mesos_error **err);

/* Stops watching (the child is then not reaped) and frees. NULL ok. */
MESOS_EXTERN(void) mesos_child_free(mesos_child *child);

#ifdef __cplusplus
}
#endif

#endif /* MESOS_LOOP_H */
