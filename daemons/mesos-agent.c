/*
 * mesos-agent: flags in, an agent on a loop, run until SIGTERM or SIGINT;
 * SIGHUP re-reads the HTTP credentials and ACL files (mesos_agent_reload).
 * Everything it does is available to a program linking libmesos-core; the
 * main() parts it shares with the other daemon are in common/daemon.c.
 */
#include <mesos/mesos.h>

#include "common/daemon.h"

extern char **environ;

static mesos_agent_flags *flags;
static mesos_agent *agent;

static mesos_status start(mesos_loop *loop, mesos_error **err) {
  return mesos_agent_new(&agent, loop, NULL, flags, err);
}

static mesos_status reload(mesos_error **err) { return mesos_agent_reload(agent, err); }

static void stop(void) {
  mesos_agent_free(agent);
  agent = NULL;
}

int main(int argc, char **argv) {
  mesos__daemon d = {.name = "mesos-agent", .start = start, .reload = reload, .stop = stop};
  d.parse_st = mesos_agent_flags_parse(&flags, argc, argv, environ, &d.parse_err);
  if (d.parse_st == MESOS_OK) {
    d.help = mesos_agent_flags_bool(flags, "help");
    d.version = mesos_agent_flags_bool(flags, "version");
    d.quiet = mesos_agent_flags_bool(flags, "quiet");
    d.logging_level = mesos_agent_flags_get(flags, "logging_level");
  }
  if (d.parse_st != MESOS_OK || d.help) mesos_agent_flags_usage(argv[0], &d.usage, NULL);
  int rc = mesos__daemon_main(&d);
  mesos_agent_flags_free(flags);
  return rc;
}
