/*
 * mesos-master: flags in, a master on a loop, run until SIGTERM or SIGINT;
 * SIGHUP re-reads the credentials and ACL files (mesos_master_reload).
 * Everything it does is available to a program linking libmesos-core; the
 * main() parts it shares with the other daemon are in common/daemon.c.
 */
#include <mesos/mesos.h>

#include "common/daemon.h"

extern char **environ;

static mesos_master_flags *flags;
static mesos_master *master;

static mesos_status start(mesos_loop *loop, mesos_error **err) {
  return mesos_master_new(&master, loop, NULL, flags, err);
}

static mesos_status reload(mesos_error **err) { return mesos_master_reload(master, err); }

static void stop(void) {
  mesos_master_free(master);
  master = NULL;
}

int main(int argc, char **argv) {
  mesos__daemon d = {.name = "mesos-master", .start = start, .reload = reload, .stop = stop};
  d.parse_st = mesos_master_flags_parse(&flags, argc, argv, environ, &d.parse_err);
  if (d.parse_st == MESOS_OK) {
    d.help = mesos_master_flags_bool(flags, "help");
    d.version = mesos_master_flags_bool(flags, "version");
    d.quiet = mesos_master_flags_bool(flags, "quiet");
    d.logging_level = mesos_master_flags_get(flags, "logging_level");
  }
  if (d.parse_st != MESOS_OK || d.help) mesos_master_flags_usage(argv[0], &d.usage, NULL);
  int rc = mesos__daemon_main(&d);
  mesos_master_flags_free(flags);
  return rc;
}
