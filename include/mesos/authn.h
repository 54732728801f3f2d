/*
 * mesos/authn.h - authentication: credentials files, HTTP Basic, and the
 * pluggable authenticator.
 *
 * A master or agent decides *who is calling* before it decides what the
 * caller may do (mesos/authz.h).  Mesos authenticates HTTP requests with
 * the Basic scheme against a credentials file; a vendor that checks tokens
 * its own way supplies a mesos_authenticator_ops table instead.
 *
 * Credentials files (master --credentials, agent --http_credentials) are the
 * JSON form of mesos.Credentials:
 *
 *     {"credentials": [{"principal": "ops", "secret": "s3cret"}, ...]}
 *
 * or the text form Mesos 1.0 still accepted: one "principal secret" pair
 * per line.  An empty file holds no credentials.  Secrets are kept only as
 * SHA-256 digests and compared in constant time; they never reach a log.
 *
 * Thread safety: a credentials set is read-only after loading and may be
 * shared by threads that only verify.  An authenticator belongs to the
 * thread of the loop that drives it.
 *
 * Since 1.0.
 */
#ifndef MESOS_AUTHN_H
#define MESOS_AUTHN_H

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ credentials */

/* Largest credentials file accepted (a few thousand principals take a few
 * hundred KiB; anything bigger is a wrong path, not a credentials file). */
#define MESOS_CREDENTIALS_MAX_BYTES (4u << 20)

typedef struct mesos_credentials mesos_credentials;

/*
 * Parses `len` bytes of credentials (JSON or the one-pair-per-line text
 * form).  A later entry for the same principal replaces an earlier one.
 * MESOS_EINVAL (malformed: the message says where, never quoting a
 * secret), MESOS_ELIMIT (more than MESOS_CREDENTIALS_MAX_BYTES),
 * MESOS_ENOMEM.  *out is set only on success.
 */
MESOS_EXTERN(mesos_status) mesos_credentials_parse(mesos_credentials **out, const char *text,
                                                   size_t len, mesos_error **err);

/*
 * Reads and parses the file at `path` ("/path" or "file:///path").
 * Errors as mesos_credentials_parse, plus MESOS_EIO (cannot be read).
 */
MESOS_EXTERN(mesos_status) mesos_credentials_load(mesos_credentials **out, const char *path,
                                                  mesos_error **err);

/* Number of distinct principals. */
MESOS_EXTERN(size_t) mesos_credentials_count(const mesos_credentials *c);

/*
 * 1 when `principal` is known and its secret equals the `secret_len` bytes
 * at `secret`, else 0.  The comparison takes the same time whatever the
 * secret's content (digests of fixed size are compared in full).  A
 * credential loaded without a secret never verifies.
 */
MESOS_EXTERN(int) mesos_credentials_verify(const mesos_credentials *c, const char *principal,
                                           const char *secret, size_t secret_len);

/* Frees `c` (clearing its digests).  NULL is accepted. */
MESOS_EXTERN(void) mesos_credentials_free(mesos_credentials *c);

/* ------------------------------------------------------------ HTTP Basic */

/* Longest Authorization header value accepted; a Basic value for a
 * 255-byte principal and a 1 KiB secret is well under 2 KiB. */
#define MESOS_BASIC_AUTH_MAX_HEADER 8192u

/*
 * Parses an Authorization header value "Basic <base64(principal:secret)>"
 * as Mesos does: exactly one space after the scheme, strict base64 (no
 * whitespace, padding only at the end), and the decoded text must split on
 * ':' into exactly two parts (so a secret containing ':' never matches).
 * The new strings in *principal and *secret are the caller's (free with
 * mesos_free()).  MESOS_EINVAL (malformed: the message never quotes the
 * secret), MESOS_ELIMIT (longer than MESOS_BASIC_AUTH_MAX_HEADER),
 * MESOS_ENOMEM.
 */
MESOS_EXTERN(mesos_status) mesos_basic_auth_parse(const char *header, char **principal,
                                                  char **secret, mesos_error **err);

/*
 * The header value "Basic <base64(principal:secret)>" a client sends, as a
 * new string (free with mesos_free()).  MESOS_EINVAL (a principal with ':'
 * or either string with a NUL-less length beyond the header limit),
 * MESOS_ENOMEM.
 */
MESOS_EXTERN(mesos_status) mesos_basic_auth_encode(const char *principal, const char *secret,
                                                   char **out, mesos_error **err);

/* ------------------------------------------------------------ authenticator */

/* What an authenticator sees of an HTTP request; every string is borrowed
 * for the duration of the authenticate call only. */
#define MESOS_AUTHN_REQUEST_VERSION 1
typedef struct mesos_authn_request {
  uint32_t version;          /* MESOS_AUTHN_REQUEST_VERSION */
  const char *realm;         /* e.g. "mesos-master-readwrite" */
  const char *method;        /* "GET" */
  const char *path;          /* "/state" */
  const char *authorization; /* the Authorization header value, or NULL */
  const char *peer;          /* "ip:port", or NULL */
} mesos_authn_request;
#define MESOS_AUTHN_REQUEST_INIT { MESOS_AUTHN_REQUEST_VERSION, NULL, NULL, NULL, NULL, NULL }

/*
 * The answer of an authenticator, given exactly once per authenticate call
 * (inside it or later, on the loop thread):
 *  - MESOS_OK and `principal`: authenticated as that principal;
 *  - MESOS_EPERM: not authenticated (the caller answers 401 with this
 *    authenticator's challenge); `message` (may be NULL) says why;
 *  - any other status: the authenticator failed (the caller answers 503).
 * Strings are borrowed for the call.
 */
typedef void (*mesos_authn_done_fn)(mesos_status status, const char *principal,
                                    const char *message, void *ud);

/*
 * A vendor authenticator.  Members marked REQUIRED must be set.
 * Version 1 has every member below.
 */
#define MESOS_AUTHENTICATOR_OPS_VERSION 1
typedef struct mesos_authenticator_ops {
  uint32_t version; /* MESOS_AUTHENTICATOR_OPS_VERSION */
  /* REQUIRED.  The scheme named in the 401 challenge, e.g. "Basic" or
   * "Bearer" (a token without spaces, quotes or control characters). */
  const char *scheme;
  /* REQUIRED.  Decides about `req` and calls done(..., done_ud) exactly
   * once. */
  void (*authenticate)(void *ud, const mesos_authn_request *req, mesos_authn_done_fn done,
                       void *done_ud);
  /* Re-reads the authenticator's configuration.  On failure the old one
   * stays in force.  NULL: reloading does nothing. */
  mesos_status (*reload)(void *ud, mesos_error **err);
  /* Releases `ud` when the authenticator is freed.  NULL: nothing. */
  void (*free)(void *ud);
} mesos_authenticator_ops;

typedef struct mesos_authenticator mesos_authenticator;

/*
 * Wraps a vendor table (copied; its `scheme` string too).  MESOS_EVERSION
 * (unknown version), MESOS_EINVAL (a REQUIRED member missing or a bad
 * scheme; the message names it), MESOS_ENOMEM.  On failure ops->free is
 * not called.
 */
MESOS_EXTERN(mesos_status) mesos_authenticator_new(mesos_authenticator **out,
                                                   const mesos_authenticator_ops *ops, void *ud,
                                                   mesos_error **err);

/*
 * The built-in HTTP Basic authenticator over the credentials file at
 * `credentials_path` ("/path" or "file:///path"; NULL: no credentials, so
 * nobody authenticates).  Reloading re-reads the file.  Errors as
 * mesos_credentials_load.
 */
MESOS_EXTERN(mesos_status) mesos_basic_authenticator_new(mesos_authenticator **out,
                                                         const char *credentials_path,
                                                         mesos_error **err);

/* The scheme of `a` ("Basic"), borrowed. */
MESOS_EXTERN(const char *) mesos_authenticator_scheme(const mesos_authenticator *a);

/*
 * Authenticates `req`; `done` runs exactly once (possibly before this
 * returns).  MESOS_EINVAL (NULL argument or unknown request version): done
 * never runs.
 */
MESOS_EXTERN(mesos_status) mesos_authenticator_authenticate(mesos_authenticator *a,
                                                            const mesos_authn_request *req,
                                                            mesos_authn_done_fn done,
                                                            void *done_ud);

/* Re-reads the configuration (ops->reload).  On error the old
 * configuration stays in force and the error says why. */
MESOS_EXTERN(mesos_status) mesos_authenticator_reload(mesos_authenticator *a,
                                                      mesos_error **err);

/* Frees `a`; no authenticate answer may be outstanding.  NULL is accepted. */
MESOS_EXTERN(void) mesos_authenticator_free(mesos_authenticator *a);

#ifdef __cplusplus
}
#endif

#endif /* MESOS_AUTHN_H */
