/* The main() parts the daemons share: see daemon.h. */
#include "daemon.h"

#include <signal.h>
#include <stdio.h>

static const char *daemon_name;

static void on_hup_signal(mesos_signal *sig, int signum, void *ud) {
  (void)sig;
  (void)signum;
  mesos__daemon *d = ud;
  mesos_error *err = NULL;
  if (d->reload(&err) != MESOS_OK) {
    fprintf(stderr, "%s: SIGHUP: %s\n", d->name, err ? mesos_error_message(err) : "reload failed");
    mesos_error_free(err);
  }
}

static void on_stop_signal(mesos_signal *sig, int signum, void *ud) {
  (void)sig;
  fprintf(stderr, "%s: received signal %d, shutting down\n", daemon_name, signum);
  mesos_loop_stop(ud);
}

static void quiet_handler(mesos_log_level level, const char *file, uint32_t line,
                          const char *message, void *ud) {
  (void)level, (void)file, (void)line, (void)message, (void)ud;
}

/* The answers that need no daemon: -1 to go on, else the exit code. */
static int answer_flags(mesos__daemon *d) {
  if (d->parse_st != MESOS_OK) {
    fprintf(stderr, "%s: %s\n\n", d->name,
            d->parse_err ? mesos_error_message(d->parse_err) : mesos_status_str(d->parse_st));
    if (d->usage) fputs(d->usage, stderr);
    return 1;
  }
  if (d->help) {
    if (d->usage) fputs(d->usage, stdout);
    return 0;
  }
  if (d->version) {
    printf("mesos %s (libmesos-core %s)\n", "1.0.0", mesos_version_string());
    return 0;
  }
  mesos_log_level level;
  if (mesos_log_level_parse(d->logging_level, &level) != MESOS_OK) {
    fprintf(stderr, "%s: --logging_level: '%s' is not a log level\n", d->name,
            d->logging_level ? d->logging_level : "");
    return 1;
  }
  mesos_log_set_level(level);
  if (d->quiet) mesos_log_set_handler(quiet_handler, NULL);
  return -1;
}

int mesos__daemon_main(mesos__daemon *d) {
  daemon_name = d->name;
  int rc = answer_flags(d);
  mesos_error_free(d->parse_err);
  d->parse_err = NULL;
  mesos_free(d->usage);
  d->usage = NULL;
  if (rc >= 0) return rc;
  /* A client that hangs up must not kill the daemon mid-write. */
  signal(SIGPIPE, SIG_IGN);

  mesos_loop *loop = NULL;
  mesos_signal *sigterm = NULL, *sigint = NULL, *sighup = NULL;
  mesos_error *err = NULL;
  rc = 1;
  if (mesos_loop_new(&loop, NULL, &err) != MESOS_OK || d->start(loop, &err) != MESOS_OK ||
      mesos_signal_new(&sigterm, loop, SIGTERM, on_stop_signal, loop, &err) != MESOS_OK ||
      mesos_signal_new(&sigint, loop, SIGINT, on_stop_signal, loop, &err) != MESOS_OK ||
      mesos_signal_new(&sighup, loop, SIGHUP, on_hup_signal, d, &err) != MESOS_OK) {
    fprintf(stderr, "%s: %s\n", d->name, err ? mesos_error_message(err) : "start-up failed");
    mesos_error_free(err);
  } else {
    rc = mesos_loop_run(loop, NULL) == MESOS_OK ? 0 : 1;
  }
  mesos_signal_free(sigterm);
  mesos_signal_free(sigint);
  mesos_signal_free(sighup);
  d->stop();
  /* What the daemon's teardown left on the loop (closing handles) runs
   * to its end before the loop goes. */
  if (loop) {
    while (mesos_loop_run_once(loop) > 0) {
    }
    mesos_loop_free(loop);
  }
  return rc;
}
