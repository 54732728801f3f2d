/* Internal view of a mesos_loop for the library's own modules. */
#ifndef MESOS_LOOP_INT_H
#define MESOS_LOOP_INT_H

#include <uv.h>

#include "mesos/loop.h"

/* The libuv loop inside `loop`.  Modules put their own uv handles on it;
 * they must close them before the mesos_loop is freed. */
uv_loop_t *mesos__loop_uv(mesos_loop *loop);

/* The mesos_loop that owns `uv`. */
mesos_loop *mesos__loop_from_uv(uv_loop_t *uv);

/* Maps a libuv error code (negative errno) to a mesos_status. */
mesos_status mesos__uv_status(int uverr);

/* Sets *err from a libuv error: "<what>: <uv_strerror>". */
mesos_status mesos__uv_err(mesos_error **err, int uverr, const char *what);

/* System calls (waitid, waitpid) the child reaping has made so far: for
 * tests of its cost. */
uint64_t mesos__loop_reap_calls(const mesos_loop *loop);

#endif
