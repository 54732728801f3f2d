/*
 * mesos/agent.h - a Mesos agent, as a library object.
 *
 * mesos-agent(8) is a thin program around these functions; a vendor can run
 * the same agent inside its own process, on its own loop.  An agent
 * registers with a master (libmesos-core's agent protocol, one long-lived
 * HTTP stream it opens itself, so the master never has to reach the
 * agent), runs the tasks the master sends it, and forwards their status
 * updates reliably: each update is checkpointed under the work directory
 * and re-sent until the framework acknowledges it.  Its own HTTP listener
 * serves /health and /version.
 *
 * Configuration comes either from an options struct or from Mesos-style
 * flags (--name=value, MESOS_<NAME> environment variables), the same set
 * mesos-agent accepts.
 *
 * Thread safety: an agent belongs to its loop's thread.
 *
 * Since 1.0.
 */
#ifndef MESOS_AGENT_H
#define MESOS_AGENT_H

#include "common.h"
#include "error.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mesos_agent mesos_agent;

/* A vendor authorizer, mesos/authz.h. */
typedef struct mesos_authorizer mesos_authorizer;
typedef struct mesos_agent_flags mesos_agent_flags;

#define MESOS_AGENT_OPTIONS_VERSION 1

typedef struct mesos_agent_options {
  uint32_t version;            /* MESOS_AGENT_OPTIONS_VERSION */
  const char *master;          /* "host:port" or "http://host:port"; REQUIRED */
  const char *work_dir;        /* checkpoints and sandboxes; REQUIRED */
  const char *ip;              /* listen address; NULL: "0.0.0.0" */
  uint32_t port;               /* 0 picks a free port (see mesos_agent_port) */
  const char *hostname;        /* NULL: the host's name */
  const char *resources;       /* --resources syntax; NULL: detected */
  const char *attributes;      /* "name:value;..."; NULL: none */
} mesos_agent_options;

#define MESOS_AGENT_OPTIONS_INIT { MESOS_AGENT_OPTIONS_VERSION, NULL, NULL, NULL, 5051, NULL, NULL, NULL }

/* FFI twin of MESOS_AGENT_OPTIONS_INIT.  MESOS_EINVAL for a NULL `opts`,
 * MESOS_EVERSION for an unknown version. */
MESOS_EXTERN(mesos_status) mesos_agent_options_init(mesos_agent_options *opts,
                                                    uint32_t version);

/*
 * Parses mesos-agent's flags from argv[1..argc) and the MESOS_* entries of
 * `envp` (may be NULL).  Errors: MESOS_EINVAL naming the flag (unknown flag,
 * bad value).  `--help` and `--version` are ordinary boolean flags here: ask
 * with mesos_agent_flags_bool().  Required flags (--master, --work_dir) are
 * checked by mesos_agent_new, so `--help` works without them.
 */
MESOS_EXTERN(mesos_status) mesos_agent_flags_parse(mesos_agent_flags **out, int argc,
                                                   char *const *argv, char *const *envp,
                                                   mesos_error **err);
MESOS_EXTERN(void) mesos_agent_flags_free(mesos_agent_flags *flags);

/* The value of a boolean flag ("help", "version", "quiet", ...): 1 or 0. */
MESOS_EXTERN(int) mesos_agent_flags_bool(const mesos_agent_flags *flags, const char *name);

/* The string form of a flag (borrowed from `flags`), NULL when unset. */
MESOS_EXTERN(const char *) mesos_agent_flags_get(const mesos_agent_flags *flags,
                                                 const char *name);

/* The usage text listing every flag, in a new string (free with mesos_free). */
MESOS_EXTERN(mesos_status) mesos_agent_flags_usage(const char *program, char **out,
                                                   mesos_error **err);

/*
 * Creates an agent on `loop`: validates the configuration, recovers the
 * agent id checkpointed under the work directory (if any), binds the
 * listener, and starts registering with the master (which goes on in the
 * background, with back-off, for as long as the agent lives).  Exactly one
 * of `opts` and `flags` is used: pass NULL for the other.  `flags` is
 * copied.
 * Errors: MESOS_EINVAL (missing --master or --work_dir, a --resources or
 * --attributes string that does not parse: the message names the flag),
 * MESOS_EVERSION, MESOS_EPROTO (a damaged checkpoint: the message names the
 * file), MESOS_EIO (work directory, port in use), MESOS_ENOMEM.
 */
MESOS_EXTERN(mesos_status) mesos_agent_new(mesos_agent **out, mesos_loop *loop,
                                           const mesos_agent_options *opts,
                                           const mesos_agent_flags *flags, mesos_error **err);

/* The TCP port the agent listens on. */
MESOS_EXTERN(uint32_t) mesos_agent_port(const mesos_agent *agent);

/* The agent id the master assigned (recovered from the checkpoint after a
 * restart), or NULL before the first registration.  Borrowed. */
MESOS_EXTERN(const char *) mesos_agent_id(const mesos_agent *agent);

/* Re-reads the --http_credentials file, the --acls file and the
 * --jwt_secret_key file (mesos-agent does it on SIGHUP).  A file that
 * cannot be read or parsed (an empty key file included) leaves what was
 * loaded from it in force; the error (MESOS_EINVAL, MESOS_EIO,
 * MESOS_ELIMIT) names the file and says why.  After a key change, tokens
 * signed with the previous key (held by executors already running) still
 * verify until the key changes again.  Since 1.0. */
MESOS_EXTERN(mesos_status) mesos_agent_reload(mesos_agent *agent, mesos_error **err);

/* The authorizer the agent asks from now on, instead of the local one over
 * --acls (or none): a vendor authorizer from mesos_authorizer_new()
 * (mesos/authz.h), taken over on success (mesos_agent_free() frees it;
 * reloading reloads it).  It may answer later: a request waits for its
 * answers without blocking the loop (a client that leaves is forgotten;
 * after 30 s the request gets 503).  Set it before the loop runs, or
 * between requests.  MESOS_EINVAL (NULL argument), MESOS_EBUSY (the
 * current authorizer still owes answers: try again later; the new one
 * stays the caller's).  Since 1.0. */
MESOS_EXTERN(mesos_status) mesos_agent_set_authorizer(mesos_agent *agent, mesos_authorizer *authorizer,
                                                     mesos_error **err);

/* Stops the agent and frees it: tasks still running are killed (SIGKILL to
 * their process groups), except those under the executors of frameworks
 * with FrameworkInfo.checkpoint, which keep running for the next agent on
 * the same --work_dir to re-attach (unless --recover=cleanup); the master
 * connection and listener are closed.  Checkpoints stay on disk.  NULL is accepted.  Run the loop afterwards
 * until it has no more work to let the closes finish. */
MESOS_EXTERN(void) mesos_agent_free(mesos_agent *agent);

#ifdef __cplusplus
}
#endif

#endif /* MESOS_AGENT_H */
