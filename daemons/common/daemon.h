/*
 * What mesos-master and mesos-agent share in main(): the answers to
 * unparsable flags, --help and --version, --logging_level and --quiet,
 * SIGPIPE ignored, a loop run until SIGTERM or SIGINT, SIGHUP as a reload,
 * and the orderly teardown.  Internal to the daemons: linked into each of
 * them (Makefile: DAEMON_COMMON), not part of libmesos-core's ABI, and
 * written against the public API only, as the daemons are.
 */
#ifndef MESOS_DAEMON_COMMON_H
#define MESOS_DAEMON_COMMON_H

#include <mesos/mesos.h>

typedef struct mesos__daemon {
  const char *name; /* "mesos-master": the prefix of every message */
  /* What main() read from its flags. */
  mesos_status parse_st; /* of the daemon's *_flags_parse */
  mesos_error *parse_err; /* its error (freed here) */
  char *usage;            /* the usage text, needed when parsing failed or
                           * with --help (freed here) */
  int help, version, quiet;
  const char *logging_level;
  /* The daemon on the loop: `start` creates it, `reload` re-reads its
   * files on SIGHUP (a failure is logged, the old ones stay), `stop` frees
   * it (also after a failed start) before the loop is drained. */
  mesos_status (*start)(mesos_loop *loop, mesos_error **err);
  mesos_status (*reload)(mesos_error **err);
  void (*stop)(void);
} mesos__daemon;

/* Runs the daemon described by `d`; main()'s exit code (0 after a stop by
 * signal, --help or --version; 1 on bad flags or a failed start). */
int mesos__daemon_main(mesos__daemon *d);

#endif
