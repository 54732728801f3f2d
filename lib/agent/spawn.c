/* posix_spawn for the agent: see spawn.h for why. */
#include "agent/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>

#include "base/error.h"

mesos_status mesos__agent_spawn(const mesos__agent_spawn_opts *o, int32_t *pid, mesos_error **err) {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t fa;
  int rc = posix_spawnattr_init(&attr);
  if (rc != 0) return mesos__err_errno(err, MESOS_ENOMEM, rc, "posix_spawnattr_init");
  rc = posix_spawn_file_actions_init(&fa);
  if (rc != 0) {
    posix_spawnattr_destroy(&attr);
    return mesos__err_errno(err, MESOS_ENOMEM, rc, "posix_spawn_file_actions_init");
  }
  /* Nothing blocked and every disposition at its default: the agent
   * ignores SIGPIPE (and libuv handles others), which must not leak into
   * what it starts. */
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                (o->new_session ? POSIX_SPAWN_SETSID : POSIX_SPAWN_SETPGROUP);
  if (rc == 0) rc = posix_spawnattr_setflags(&attr, flags);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&attr, &none);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr, &all);
  if (rc == 0 && !o->new_session) rc = posix_spawnattr_setpgroup(&attr, 0);
  if (rc == 0) rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0)
    rc = posix_spawn_file_actions_addopen(&fa, 1, o->stdout_path, O_WRONLY | O_CREAT | O_APPEND,
                                          0644);
  if (rc == 0)
    rc = posix_spawn_file_actions_addopen(&fa, 2, o->stderr_path, O_WRONLY | O_CREAT | O_APPEND,
                                          0644);
  if (rc == 0 && o->dir) rc = posix_spawn_file_actions_addchdir_np(&fa, o->dir);
  /* Nothing of the agent's (sockets, checkpoint files) reaches the child. */
  if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  mesos_status st = MESOS_OK;
  if (rc != 0) {
    st = mesos__err_errno(err, MESOS_ENOMEM, rc, "posix_spawn setup");
  } else {
    pid_t child = -1;
    rc = o->search ? posix_spawnp(&child, o->path, &fa, &attr, o->argv, o->envp)
                   : posix_spawn(&child, o->path, &fa, &attr, o->argv, o->envp);
    if (rc != 0)
      st = mesos__err(err, MESOS_EIO, "cannot execute %s (in %s): %s", o->path,
                      o->dir ? o->dir : ".", strerror(rc));
    else
      *pid = child;
  }
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return st;
}
