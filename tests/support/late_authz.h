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

#include <stdatomic.h>
#include <stddef.h>

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

#endif
