/*
 * mesos-agent: flags in, an agent on a loop, run until SIGTERM or SIGINT.
 * Everything it does is available to a program linking libmesos-core.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mesos/mesos.h>

extern char **environ;

/* SIGHUP re-reads the HTTP credentials and ACL files; a bad file keeps the
 * old one in force (mesos_agent_reload) and the reason is logged. */
static void on_hup_signal(mesos_signal *sig, int signum, void *ud) {
  (void)sig;
  (void)signum;
  mesos_error *err = NULL;
  if (mesos_agent_reload(ud, &err) != MESOS_OK) {
    fprintf(stderr, "mesos-agent: SIGHUP: %s\n", err ? mesos_error_message(err) : "reload failed");
    mesos_error_free(err);
  }
}

static void on_stop_signal(mesos_signal *sig, int signum, void *ud) {
  (void)sig;
  fprintf(stderr, "mesos-agent: received signal %d, shutting down\n", signum);
  mesos_loop_stop(ud);
}

static void quiet_handler(mesos_log_level level, const char *file, uint32_t line,
                          const char *message, void *ud) {
  (void)level, (void)file, (void)line, (void)message, (void)ud;
}

int main(int argc, char **argv) {
  mesos_agent_flags *flags = NULL;
  mesos_error *err = NULL;
  if (mesos_agent_flags_parse(&flags, argc, argv, environ, &err) != MESOS_OK) {
    char *usage = NULL;
    fprintf(stderr, "mesos-agent: %s\n\n", mesos_error_message(err));
    if (mesos_agent_flags_usage(argv[0], &usage, NULL) == MESOS_OK) fputs(usage, stderr);
    mesos_free(usage);
    mesos_error_free(err);
    return 1;
  }
  if (mesos_agent_flags_bool(flags, "help")) {
    char *usage = NULL;
    if (mesos_agent_flags_usage(argv[0], &usage, NULL) == MESOS_OK) fputs(usage, stdout);
    mesos_free(usage);
    mesos_agent_flags_free(flags);
    return 0;
  }
  if (mesos_agent_flags_bool(flags, "version")) {
    printf("mesos %s (libmesos-core %s)\n", "1.0.0", mesos_version_string());
    mesos_agent_flags_free(flags);
    return 0;
  }
  mesos_log_level level;
  if (mesos_log_level_parse(mesos_agent_flags_get(flags, "logging_level"), &level) != MESOS_OK) {
    fprintf(stderr, "mesos-agent: --logging_level: '%s' is not a log level\n",
            mesos_agent_flags_get(flags, "logging_level"));
    mesos_agent_flags_free(flags);
    return 1;
  }
  mesos_log_set_level(level);
  if (mesos_agent_flags_bool(flags, "quiet")) mesos_log_set_handler(quiet_handler, NULL);
  signal(SIGPIPE, SIG_IGN);

  mesos_loop *loop = NULL;
  mesos_agent *agent = NULL;
  mesos_signal *sigterm = NULL, *sigint = NULL, *sighup = NULL;
  int rc = 1;
  if (mesos_loop_new(&loop, NULL, &err) != MESOS_OK ||
      mesos_agent_new(&agent, loop, NULL, flags, &err) != MESOS_OK ||
      mesos_signal_new(&sigterm, loop, SIGTERM, on_stop_signal, loop, &err) != MESOS_OK ||
      mesos_signal_new(&sigint, loop, SIGINT, on_stop_signal, loop, &err) != MESOS_OK ||
      mesos_signal_new(&sighup, loop, SIGHUP, on_hup_signal, agent, &err) != MESOS_OK) {
    fprintf(stderr, "mesos-agent: %s\n", err ? mesos_error_message(err) : "start-up failed");
    mesos_error_free(err);
  } else {
    rc = mesos_loop_run(loop, NULL) == MESOS_OK ? 0 : 1;
  }
  mesos_signal_free(sigterm);
  mesos_signal_free(sigint);
  mesos_signal_free(sighup);
  mesos_agent_free(agent);
  mesos_agent_flags_free(flags);
  if (loop) {
    while (mesos_loop_run_once(loop) > 0) {
    }
    mesos_loop_free(loop);
  }
  return rc;
}
