/* Executor authentication tokens: JSON Web Tokens (RFC 7519) signed with
 * HMAC-SHA256 ("HS256"), the form Mesos gives HTTP executors in
 * MESOS_EXECUTOR_AUTHENTICATION_TOKEN (agent --jwt_secret_key, spec
 * authorization.md §1.1 and http-api.md §3.1).
 *
 * A token is base64url(header) "." base64url(payload) "." base64url(mac),
 * no padding.  The agent signs header {"alg":"HS256","typ":"JWT"} and the
 * payload {"fid":...,"eid":...,"cid":...} (framework, executor and
 * container id of the executor it launches) with the key file's bytes;
 * the executor sends it back as "Authorization: Bearer <token>" and the
 * agent verifies the MAC (constant time) before believing any claim.
 *
 * The parser is strict, because the token comes from a process the agent
 * does not trust: exactly three parts, the base64url alphabet only, header
 * alg HS256 (never "none": an unsigned token is not a credential) and typ
 * JWT when given, a "crit" header refused (we understand no extensions),
 * payload a flat JSON object (nested values are skipped up to a bounded
 * depth), a claim given twice refused, "exp"/"nbf" honoured when present.
 * Nothing here recurses.
 */
#ifndef MESOS_AUTHZ_JWT_H
#define MESOS_AUTHZ_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "mesos/error.h"

/* Longest token accepted.  Ids are at most a few hundred bytes each; a
 * token of three of them is well under 2 KiB. */
#define MESOS__JWT_MAX_TOKEN 8192u

/* Largest signing key (the --jwt_secret_key file); HMAC hashes longer keys
 * anyway, so more bytes only mean a wrong file. */
#define MESOS__JWT_MAX_KEY ((size_t)64 << 10)

/* The claims an executor token carries (owned strings; NULL when the
 * claim is absent or not a string). */
typedef struct mesos__jwt_claims {
  char *fid, *eid, *cid;
} mesos__jwt_claims;

/* A new token for (fid, eid, cid) signed with the `keylen` bytes at `key`
 * (a NUL-terminated string the caller frees with mesos__free).
 * MESOS_EINVAL (NULL or empty key or id), MESOS_ELIMIT (the token would
 * exceed MESOS__JWT_MAX_TOKEN), MESOS_ENOMEM. */
mesos_status mesos__jwt_sign(const uint8_t *key, size_t keylen, const char *fid,
                             const char *eid, const char *cid, char **out, mesos_error **err);

/* The token "<signing_input>.<base64url MAC>" for any signing input
 * ("<b64url header>.<b64url payload>", not checked here): for tests and
 * fuzzing that need validly signed tokens with chosen headers and claims.
 * Errors as mesos__jwt_sign. */
mesos_status mesos__jwt_sign_raw(const uint8_t *key, size_t keylen, const char *signing_input,
                                 size_t n, char **out, mesos_error **err);

/* Verifies the `len` bytes of `token` against the key and fills *claims
 * (zeroed first; free with mesos__jwt_claims_free also on failure).
 * `now` is the current time in seconds since the epoch, for "exp"/"nbf".
 * MESOS_EINVAL: malformed (the message says what, never quoting the
 * token); MESOS_EPERM: the signature does not verify, or the token expired
 * or is not valid yet; MESOS_ELIMIT: longer than MESOS__JWT_MAX_TOKEN;
 * MESOS_ENOMEM. */
mesos_status mesos__jwt_verify(const uint8_t *key, size_t keylen, const char *token, size_t len,
                               int64_t now, mesos__jwt_claims *claims, mesos_error **err);

void mesos__jwt_claims_free(mesos__jwt_claims *claims);

#endif
