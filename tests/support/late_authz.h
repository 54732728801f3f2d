/*
 * A vendor authorizer that answers every question LATE_AUTHZ_DELAY_MS
 * later on a loop timer (mesos/authz.h allows late answers): principal
 * "ops" is allowed everything, anyone else nothing, REGISTER_AGENT is
 * allowed to all and RUN_TASK as user "nobody" to none.  Approvers
 * approve every object for "ops" and none for the others.  With `hold`
 * set it answers nothing until it is cleared.  Its free answers what it
 * still owes with MESOS_ECLOSED.  `asked` / `answered` count questions
 * (read them from any thread).
 *
 * late_authz_credentials writes a --credentials file for "ops" (secret
 * "s1") and "guest" ("s2"); LATE_AUTHZ_OPS / _GUEST are their headers.
 */
#ifndef MESOS_TEST_LATE_AUTHZ_H
#define MESOS_TEST_LATE_AUTHZ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mesos/authz.h"
#include "mesos/loop.h"

#define LATE_AUTHZ_DELAY_MS 150
#define LATE_AUTHZ_OPS "Authorization: Basic b3BzOnMx\r\n"       /* ops:s1 */
#define LATE_AUTHZ_GUEST "Authorization: Basic Z3Vlc3Q6czI=\r\n" /* guest:s2 */

typedef struct late {
  mesos_loop *loop;
  atomic_int asked;    /* questions asked (both kinds) */
  atomic_int answered; /* answers given */
  atomic_int hold;     /* 1: answer nothing until released */
  struct answer *pending; /* loop thread only */
} late;

/* An authorizer over `l` (zeroed here) answering on `loop`. */
mesos_authorizer *late_authz_new(late *l, mesos_loop *loop);
/* Writes `dir`/credentials; its path in `path`. */
void late_authz_credentials(const char *dir, char *path, size_t cap);

/* A master or an agent in this process (a vendor authorizer can only be
 * given to one in-process: mesos_{master,agent}_set_authorizer) on its
 * own loop thread, on a free loopback port, with credentials for ops and
 * guest (the master's --credentials, the agent's --http_credentials) and
 * the late authorizer; `dir` is its temporary directory (removed by
 * stop).  Exactly one of `m` and `a` is set. */
typedef struct late_world {
  mesos_loop *loop;
  struct mesos_master *m;
  struct mesos_agent *a;
  late l;
  pthread_t thread;
  atomic_int stop;
  int port;
  char dir[256];
} late_world;
/* `name`: the directory's prefix (/tmp/<name>.XXXXXX); `timeout_ms`: the
 * bound on a wait for the authorizer (0: the default). */
void late_world_start(late_world *w, const char *name, uint64_t timeout_ms);
/* An agent (its master, 127.0.0.1:1, never answers: the agent's own
 * endpoints and operator API are what the tests ask). */
void late_world_start_agent(late_world *w, const char *name);
void late_world_stop(late_world *w);
/* One request with the `who` header (LATE_AUTHZ_OPS, ...; NULL: none) and
 * a JSON body (may be NULL); the status, the body in `out` (may be NULL).
 * call: POST /api/v1; get: GET `path`. */
int late_world_http(late_world *w, const char *method, const char *who, const char *path,
                    const char *json, char *out, size_t cap);
int late_world_call(late_world *w, const char *who, const char *json, char *out, size_t cap);
int late_world_get(late_world *w, const char *who, const char *path, char *out, size_t cap);

#endif
