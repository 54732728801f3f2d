/*
 * mesos/authz.h - authorization: may this principal do this action on this
 * object?  The local ACL authorizer and the pluggable authorizer vtable.
 *
 * A request has three parts, as in Mesos's authorizer.proto:
 *  - subject: the authenticated principal, or NULL when authentication is
 *    off (Mesos then matches the subject as ANY);
 *  - action: one of mesos_authz_action (the numbers of
 *    mesos.authorization.Action);
 *  - object: the value the action compares (a role, a Unix user, an
 *    endpoint path, a principal; see the table in mesos_authz_action), or
 *    no object at all ("may the subject do this to anything?"), plus
 *    optional protobuf encodings for authorizers that look deeper.
 *
 * The local authorizer implements Mesos's ACL JSON (--acls): for every
 * action the rules are tried in file order and the first rule whose
 * subject and object entities match decides; no match means `permissive`
 * (default true).  Role values ending in "/%" match every role strictly
 * below that prefix.
 *
 * Filtering many objects (GET_STATE, /state) asks once for an approver,
 * then asks the approver synchronously per object.
 *
 * Late answers: mesos_authorizer_authorized() and
 * mesos_authorizer_approver() accept answers given later (on the loop
 * thread).  The master and agent of this library (a vendor authorizer is
 * installed with mesos_master_set_authorizer() / mesos_agent_set_authorizer())
 * wait for them without blocking their loop: a request whose decision
 * (an endpoint or operator call, a scheduler SUBSCRIBE or ACCEPT, a file
 * access, the approvers that filter state) has not been answered is held
 * and taken up again when every answer it asked for has come; the
 * authorizer may be asked the same question again while a request is
 * being taken up.  A client that goes away meanwhile is forgotten (the
 * answers, when they come, are dropped); a request still waiting after
 * 30 s gets 503.  An operator SUBSCRIBE stream keeps the approvers it got
 * when it subscribed (as Mesos does).  Only where no request is being
 * served (none today) would a late answer count as a denial.  The local
 * authorizer always answers at once.
 *
 * Thread safety: an authorizer and its approvers belong to the thread of
 * the loop that drives them.
 *
 * Since 1.0.
 */
#ifndef MESOS_AUTHZ_H
#define MESOS_AUTHZ_H

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Actions (mesos.authorization.Action numbers) and the object value each
 * one compares. */
typedef enum mesos_authz_action {
  MESOS_AUTHZ_UNKNOWN = 0,
  MESOS_AUTHZ_REGISTER_FRAMEWORK = 1,       /* role subscribed to */
  MESOS_AUTHZ_RUN_TASK = 2,                 /* Unix user of the task */
  MESOS_AUTHZ_TEARDOWN_FRAMEWORK = 3,       /* principal of the framework */
  MESOS_AUTHZ_RESERVE_RESOURCES = 4,        /* role of the reservation */
  MESOS_AUTHZ_UNRESERVE_RESOURCES = 5,      /* principal of the reservation */
  MESOS_AUTHZ_CREATE_VOLUME = 6,            /* role of the volume */
  MESOS_AUTHZ_DESTROY_VOLUME = 7,           /* creator principal of the volume */
  MESOS_AUTHZ_GET_ENDPOINT_WITH_PATH = 8,   /* endpoint path */
  MESOS_AUTHZ_VIEW_ROLE = 9,                /* role */
  MESOS_AUTHZ_UPDATE_WEIGHT = 10,           /* role */
  MESOS_AUTHZ_GET_QUOTA = 11,               /* role */
  MESOS_AUTHZ_UPDATE_QUOTA = 12,            /* role */
  MESOS_AUTHZ_VIEW_FRAMEWORK = 13,          /* FrameworkInfo.user */
  MESOS_AUTHZ_VIEW_TASK = 14,               /* task user, else framework user */
  MESOS_AUTHZ_VIEW_EXECUTOR = 15,           /* executor user, else framework user */
  MESOS_AUTHZ_ACCESS_SANDBOX = 16,          /* executor user, else framework user */
  MESOS_AUTHZ_ACCESS_MESOS_LOG = 17,        /* none */
  MESOS_AUTHZ_VIEW_FLAGS = 18,              /* none */
  MESOS_AUTHZ_LAUNCH_NESTED_CONTAINER = 19, /* nested container user */
  MESOS_AUTHZ_KILL_NESTED_CONTAINER = 20,   /* parent executor user */
  MESOS_AUTHZ_WAIT_NESTED_CONTAINER = 21,
  MESOS_AUTHZ_LAUNCH_NESTED_CONTAINER_SESSION = 22,
  MESOS_AUTHZ_ATTACH_CONTAINER_INPUT = 23,
  MESOS_AUTHZ_ATTACH_CONTAINER_OUTPUT = 24,
  MESOS_AUTHZ_VIEW_CONTAINER = 25,
  MESOS_AUTHZ_SET_LOG_LEVEL = 26,           /* none */
  MESOS_AUTHZ_REMOVE_NESTED_CONTAINER = 27,
  MESOS_AUTHZ_REGISTER_AGENT = 28,          /* none */
  MESOS_AUTHZ_UPDATE_MAINTENANCE_SCHEDULE = 29, /* none */
  MESOS_AUTHZ_GET_MAINTENANCE_SCHEDULE = 30,    /* none */
  MESOS_AUTHZ_START_MAINTENANCE = 31,           /* none */
  MESOS_AUTHZ_STOP_MAINTENANCE = 32,            /* none */
  MESOS_AUTHZ_GET_MAINTENANCE_STATUS = 33,      /* none */
  MESOS_AUTHZ_MARK_AGENT_GONE = 34,             /* none */
  MESOS_AUTHZ_LAUNCH_STANDALONE_CONTAINER = 35, /* none */
  MESOS_AUTHZ_KILL_STANDALONE_CONTAINER = 36,   /* none */
  MESOS_AUTHZ_WAIT_STANDALONE_CONTAINER = 37,   /* none */
  MESOS_AUTHZ_REMOVE_STANDALONE_CONTAINER = 38, /* none */
  MESOS_AUTHZ_MODIFY_RESOURCE_PROVIDER_CONFIG = 39, /* none */
  MESOS_AUTHZ_VIEW_STANDALONE_CONTAINER = 40,   /* none */
  MESOS_AUTHZ_PRUNE_IMAGES = 41,                /* none */
  MESOS_AUTHZ_RESIZE_VOLUME = 42,               /* role of the volume */
  MESOS_AUTHZ_CREATE_BLOCK_DISK = 43,           /* role of the disk */
  MESOS_AUTHZ_DESTROY_BLOCK_DISK = 44,
  MESOS_AUTHZ_CREATE_MOUNT_DISK = 45,
  MESOS_AUTHZ_DESTROY_MOUNT_DISK = 46,
  MESOS_AUTHZ_VIEW_RESOURCE_PROVIDER = 47,      /* none */
  MESOS_AUTHZ_MARK_RESOURCE_PROVIDER_GONE = 48, /* none */
  MESOS_AUTHZ_DESTROY_RAW_DISK = 49,            /* role of the disk */
  MESOS_AUTHZ_UPDATE_QUOTA_WITH_CONFIG = 50,    /* role */
  MESOS_AUTHZ_DRAIN_AGENT = 51,                 /* none */
  MESOS_AUTHZ_DEACTIVATE_AGENT = 52,            /* none */
  MESOS_AUTHZ_REACTIVATE_AGENT = 53             /* none */
} mesos_authz_action;

/* The action's name as in authorizer.proto ("RUN_TASK"), or NULL for a
 * number this version does not know.  Static storage. */
MESOS_EXTERN(const char *) mesos_authz_action_name(int32_t action);

/* The object of a request.  Strings and bytes are borrowed for the call. */
#define MESOS_AUTHZ_OBJECT_VERSION 1
typedef struct mesos_authz_object {
  uint32_t version;        /* MESOS_AUTHZ_OBJECT_VERSION */
  /* The compared value (the comment of each action says which); NULL: no
   * particular value (matched as ANY). */
  const char *value;
  /* The second compared value of the actions that check two ACL keys:
   * the parent executor's user for LAUNCH_NESTED_CONTAINER and
   * LAUNCH_NESTED_CONTAINER_SESSION (checked against the
   * *_under_parent_with_user rules); NULL: matched as ANY. */
  const char *parent_value;
  /* Optional protobuf encodings (mesos.v1 messages) for authorizers that
   * look beyond `value`; the local authorizer ignores them. */
  const uint8_t *framework_info; /* FrameworkInfo */
  size_t framework_info_len;
  const uint8_t *task_info;      /* TaskInfo, or Task */
  size_t task_info_len;
  const uint8_t *executor_info;  /* ExecutorInfo */
  size_t executor_info_len;
  const uint8_t *resource;       /* Resource */
  size_t resource_len;
} mesos_authz_object;
#define MESOS_AUTHZ_OBJECT_INIT { MESOS_AUTHZ_OBJECT_VERSION, NULL, NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0 }

#define MESOS_AUTHZ_REQUEST_VERSION 1
typedef struct mesos_authz_request {
  uint32_t version;                 /* MESOS_AUTHZ_REQUEST_VERSION */
  int32_t action;                   /* mesos_authz_action */
  const char *subject;              /* principal, or NULL (none) */
  const mesos_authz_object *object; /* NULL: no object (ANY) */
} mesos_authz_request;
#define MESOS_AUTHZ_REQUEST_INIT { MESOS_AUTHZ_REQUEST_VERSION, 0, NULL, NULL }

/* The answer to one request, given exactly once: MESOS_OK with `allowed`
 * 1 or 0, or a failure status (the caller then denies, as Mesos answers
 * a failed authorization with an error, never with access). */
typedef void (*mesos_authz_done_fn)(mesos_status status, int allowed, void *ud);

/* An approver: a decision procedure for one (subject, action) pair, asked
 * synchronously for each of many objects. */
#define MESOS_AUTHZ_APPROVER_OPS_VERSION 1
typedef struct mesos_authz_approver_ops {
  uint32_t version; /* MESOS_AUTHZ_APPROVER_OPS_VERSION */
  /* REQUIRED.  1 if `object` (NULL: no object) is approved, else 0. */
  int (*approved)(void *aud, const mesos_authz_object *object);
  /* Releases `aud`.  NULL: nothing. */
  void (*free)(void *aud);
} mesos_authz_approver_ops;

typedef struct mesos_authz_approver mesos_authz_approver;

/* How an authorizer hands over an approver: MESOS_OK with `ops` (borrowed;
 * must stay valid while the approver lives) and its `aud`, or a failure
 * status (ops NULL). */
typedef void (*mesos_authz_approver_fn)(mesos_status status,
                                        const mesos_authz_approver_ops *ops, void *aud,
                                        void *ud);

/* What a caller of mesos_authorizer_approver receives: MESOS_OK and a new
 * approver it owns (free with mesos_authz_approver_free), or a failure
 * status and NULL. */
typedef void (*mesos_authz_approver_done_fn)(mesos_status status,
                                             mesos_authz_approver *approver, void *ud);

/*
 * A vendor authorizer.  Members marked REQUIRED must be set.
 * Version 1 has every member below.
 */
#define MESOS_AUTHORIZER_OPS_VERSION 1
typedef struct mesos_authorizer_ops {
  uint32_t version; /* MESOS_AUTHORIZER_OPS_VERSION */
  /* REQUIRED.  Decides `req` and calls done(..., done_ud) exactly once,
   * inside this call or later on the loop thread (see the top of this
   * file for how the daemons wait). */
  void (*authorized)(void *ud, const mesos_authz_request *req, mesos_authz_done_fn done,
                     void *done_ud);
  /* REQUIRED.  Builds an approver for (`subject`, `action`) and passes it
   * to done(..., done_ud) exactly once, inside this call or later on the
   * loop thread. */
  void (*approver)(void *ud, const char *subject, int32_t action, mesos_authz_approver_fn done,
                   void *done_ud);
  /* Re-reads the configuration; on failure the old one stays in force.
   * NULL: reloading does nothing. */
  mesos_status (*reload)(void *ud, mesos_error **err);
  /* Releases `ud` when the authorizer is freed.  NULL: nothing. */
  void (*free)(void *ud);
} mesos_authorizer_ops;

typedef struct mesos_authorizer mesos_authorizer;

/* Wraps a vendor table (copied).  MESOS_EVERSION, MESOS_EINVAL (a REQUIRED
 * member missing; the message names it), MESOS_ENOMEM. */
MESOS_EXTERN(mesos_status) mesos_authorizer_new(mesos_authorizer **out,
                                                const mesos_authorizer_ops *ops, void *ud,
                                                mesos_error **err);

/* Largest ACL document accepted, in bytes. */
#define MESOS_ACLS_MAX_BYTES (16u << 20)

/*
 * The local authorizer over Mesos ACL JSON.  `acls` is the JSON text
 * itself (starting with '{'), or a path ("/path" or "file:///path") that
 * reload re-reads; NULL: no ACLs, every request is allowed.
 * MESOS_EINVAL (malformed: bad JSON, a wrong type, a rule without
 * `principals` or its object entity, values where only ANY/NONE is
 * allowed, a get_endpoints path Mesos does not authorize; the message
 * names the rule), MESOS_ELIMIT (larger than MESOS_ACLS_MAX_BYTES or
 * nested too deep), MESOS_EIO (file unreadable), MESOS_ENOMEM.
 */
MESOS_EXTERN(mesos_status) mesos_local_authorizer_new(mesos_authorizer **out, const char *acls,
                                                      mesos_error **err);

/*
 * Asks whether `req` is allowed; `done` runs exactly once (possibly before
 * this returns).  MESOS_EINVAL (NULL argument, unknown struct version or
 * action out of range): `done` never runs.
 */
MESOS_EXTERN(mesos_status) mesos_authorizer_authorized(mesos_authorizer *az,
                                                       const mesos_authz_request *req,
                                                       mesos_authz_done_fn done, void *done_ud);

/* Asks for an approver of (`subject`, `action`); `done` runs exactly
 * once.  MESOS_EINVAL as mesos_authorizer_authorized. */
MESOS_EXTERN(mesos_status) mesos_authorizer_approver(mesos_authorizer *az, const char *subject,
                                                     int32_t action,
                                                     mesos_authz_approver_done_fn done,
                                                     void *done_ud);

/* 1 if the approver approves `object` (NULL: no object), else 0. */
MESOS_EXTERN(int) mesos_authz_approver_approved(const mesos_authz_approver *ap,
                                                const mesos_authz_object *object);

/* Frees an approver.  NULL is accepted.  An approver may outlive a reload
 * of its authorizer (it keeps deciding by the rules it was built from) but
 * not the authorizer itself. */
MESOS_EXTERN(void) mesos_authz_approver_free(mesos_authz_approver *ap);

/* Re-reads the configuration (the local authorizer: its ACL file).  On
 * error the old configuration stays in force and the error says why. */
MESOS_EXTERN(mesos_status) mesos_authorizer_reload(mesos_authorizer *az, mesos_error **err);

/* Frees `az`.  A vendor's `free` drops the answers it still owes (it may
 * call them with a failure status first, or never).  NULL is accepted. */
MESOS_EXTERN(void) mesos_authorizer_free(mesos_authorizer *az);

#ifdef __cplusplus
}
#endif

#endif /* MESOS_AUTHZ_H */
