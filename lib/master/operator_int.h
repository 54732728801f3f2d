/* Private to the master's operator files (operator.c, state.c, metrics.c,
 * maintenance.c): the operator state hanging off mesos_master.op. */
#ifndef MESOS_MASTER_OPERATOR_INT_H
#define MESOS_MASTER_OPERATOR_INT_H

#include "authz/authz_int.h"
#include "codec/arena.h"
#include "master/master_int.h"
#include "master/operator.h"
#include "mesos/log.h"

/* Bytes a subscriber may leave unread before it is dropped.  The first
 * event (SUBSCRIBED with the whole state) is exempt: it is as large as the
 * cluster, and the client reads it first. */
#define MESOS__OP_SUB_BACKLOG ((size_t)8 << 20)

/* The largest encoded operator response (GET_STATE of a huge cluster). */
#define MESOS__OP_RESPONSE_MAX ((size_t)1 << 31)

/* A bounded ring of completed Task records (owned). */
typedef struct mesos__op_tasks {
  Mesos__V1__Task **v;
  size_t cap, n, head; /* oldest at v[head] */
} mesos__op_tasks;

/* A removed framework, as /state's completed_frameworks shows it. */
typedef struct mesos__op_done_fw {
  Mesos__V1__FrameworkInfo *info; /* owned */
  double registered_time, unregistered_time;
  mesos__op_tasks tasks;          /* its tasks, all completed */
} mesos__op_done_fw;

typedef struct mesos__op_sub {
  mesos__http_request *req;
  mesos__media media;
  int past_first;                 /* the SUBSCRIBED snapshot was sent */
  /* A SUBSCRIBED rendered off the loop (state.c owns the request until it
   * is sent, mesos__op_sub_ready): before its snapshot, events are not for
   * it (the snapshot will show them); after, they wait in `queued`. */
  int pending;                    /* state.c still sends SUBSCRIBED */
  int snapshotted;                /* its snapshot was taken */
  int overflow;                   /* `queued` outgrew MESOS__OP_SUB_BACKLOG */
  mesos__buf queued;              /* events behind SUBSCRIBED */
  mesos__auth_view view;          /* what its principal may view (auth) */
} mesos__op_sub;

/* Cheap counters for /metrics/snapshot (the rest is computed on demand). */
typedef struct mesos__op_counters {
  uint64_t operator_calls;
  uint64_t valid_status_updates;
  uint64_t invalid_status_updates;
  uint64_t tasks_added;
  uint64_t frameworks_added;
  uint64_t agents_added;
  uint64_t agents_removed;
  uint64_t subscribers_dropped;
  uint64_t state_requests;
} mesos__op_counters;

/* An inverse offer sent and not answered yet, or a framework's latest
 * answer for an agent (maintenance.c). */
typedef struct mesos__op_io {
  char *agent_id;
  char *framework_id;
  int status;                     /* Mesos__V1__Allocator__InverseOfferStatus__Status */
  int64_t ts_ns;                  /* when the answer (or the offer) came */
} mesos__op_io;

/* Inverse offers and answers kept at most (each map): one per framework
 * using a draining agent, so a cluster would need 100,000 such pairs in
 * one window to reach it; past it new ones are not tracked (answers to
 * them are then ignored, as Mesos ignores unknown inverse offer ids). */
#define MESOS__OP_MAX_INVERSE 100000u

struct mesos__operator {
  mesos_master *m;
  mesos__op_sub *subs;
  size_t nsubs, max_subs;
  mesos_timer *heartbeat;
  mesos__map live_done;           /* framework id -> mesos__op_tasks* */
  mesos__op_done_fw *done;        /* ring of completed frameworks */
  size_t done_cap, done_n, done_head;
  size_t max_tasks_per_fw;
  mesos_timer *log_revert;        /* SET_LOGGING_LEVEL's duration */
  mesos_log_level log_base;       /* level to go back to */
  int log_temporary;              /* a SET_LOGGING_LEVEL is in force */
  mesos__op_counters c;
  char log_dir[1024];             /* --log_dir, "" when unset */
  struct mesos__files *files;     /* the /files routes, LIST_FILES, READ_FILE (master_files.c) */
  int log_handle;                 /* our log file (base/log.h), -1: none */
  uint64_t next_inverse;          /* inverse offer id sequence */
  mesos_timer *drain_check;       /* zero-delay: draining agents that ran dry */
  mesos__map io_outstanding;      /* inverse offer id -> mesos__op_io* */
  mesos__map io_status;           /* "<agent id>\n<framework id>" -> mesos__op_io* */
  /* The framework on_framework_removed saw last: its tasks, freed right
   * after, join its completed-framework entry. */
  char removing_id[320];
  struct mesos__state_srv *state; /* state.c: batched, off-loop /state rendering */
};

/* ---- scratch memory for building a response that borrows live records */
typedef struct mesos__op_scratch {
  mesos__pb_arena *arena;
  void **owned;                   /* protobuf messages to mesos__pb_free */
  size_t n, cap;
  int oom;
} mesos__op_scratch;

void mesos__op_scratch_init(mesos__op_scratch *s, size_t hint);
void mesos__op_scratch_free(mesos__op_scratch *s);
/* Zeroed memory; NULL (and s->oom) when out of memory. */
void *mesos__op_alloc(mesos__op_scratch *s, size_t n);
/* Records a protobuf message (from mesos__pb_unpack etc.) to free later. */
void mesos__op_own(mesos__op_scratch *s, void *msg);
/* A resources set as a Resource array that lives in the scratch. */
Mesos__V1__Resource **mesos__op_resources(mesos__op_scratch *s, const mesos_resources *r,
                                         size_t *n);

/* ---- builders (operator.c) of the events' entries, borrowing the
 * master's records (the state calls are written by state_v1.c) */
Mesos__V1__Master__Response__GetAgents__Agent *mesos__op_agent(mesos__op_scratch *s,
                                                              mesos__agent *a);
Mesos__V1__Master__Response__GetFrameworks__Framework *mesos__op_framework(
    mesos__op_scratch *s, mesos__framework *fw);

/* Encodes `msg` in `media` and answers 200 with it. */
void mesos__op_respond(mesos__http_request *req, mesos__media media, const ProtobufCMessage *msg);

/* Completed tasks of a live framework (NULL when none). */
const mesos__op_tasks *mesos__op_completed_tasks(const mesos_master *m, const char *fw_id);

/* ---- metrics.c */
/* Every metric, in Mesos's names, as name/value pairs appended to `out`
 * (a JSON object when json, else Metric messages in the scratch). */
mesos_status mesos__metrics_json(mesos_master *m, mesos__buf *out);
Mesos__V1__Metric **mesos__metrics_protos(mesos_master *m, mesos__op_scratch *s, size_t *n);
mesos_status mesos__metrics_routes(mesos_master *m);

/* ---- state.c */
/* Sets up the state service (state.c) and routes its endpoints. */
mesos_status mesos__state_routes(mesos_master *m);
/* Writes the Mesos 1.0 /state JSON into `out`, synchronously (the
 * benchmark's render-alone figure; the endpoints render off the loop). */
mesos_status mesos__state_json(mesos_master *m, mesos__buf *out);
/* Tests: /state (0), /frameworks (1), /slaves (2), /tasks (3) or
 * /state-summary (4) or /roles (5, everything: no VIEW_ROLE) the same
 * way, through the fragment cache as the endpoints (`cached`) or not. */
mesos_status mesos__state_doc(mesos_master *m, int which, int cached, mesos__buf *out);

/* The master lets go of Task message `t` (a completed-task ring evicts
 * it, a forgotten task is freed): while a state snapshot may still read
 * it, state.c takes it (returns 1) and frees it once no snapshot needs it;
 * 0: the caller frees it now. */
int mesos__state_retire_task(mesos_master *m, Mesos__V1__Task *t);
/* The same for a task's resources bag (mesos__task.resources), which
 * snapshots read off the loop to add up what agents and frameworks use. */
int mesos__state_retire_resources(mesos_master *m, mesos_resources *r);
/* The same for a live task's body (task_body.h), which snapshots point
 * at instead of copying; freed with mesos__task_body_free. */
int mesos__state_retire_body(mesos_master *m, mesos__task_body *b);
/* Tests only: hold (1) or release (0) every state render about to run
 * (process-wide), and the number of snapshots the endpoints took. */
void mesos__state_test_hold(int hold);
size_t mesos__state_test_renders(mesos_master *m);
/* The last endpoint render: its snapshot's wall time on the loop (what a
 * state request stalls the master for) and the render's CPU time on the
 * thread pool (benchmark; read on the loop thread). */
void mesos__state_last_times(mesos_master *m, double *snapshot_ms, double *render_ms);

/* ---- state.c's render output: chunks of ~1 MiB sent in order, carved
 * from pooled blocks (a fresh page costs a fault; a 100 MB body is 25,000
 * of them).  Shared with state_v1.c.
 *
 * A block is reference-counted (mesos__blk): the writer filling it, each
 * output chunk that is a piece of it, and each cached fragment with bytes
 * in it hold one reference, so a render's output blocks are also where the
 * fragments it made live (no copy), and a later response sends a big
 * cached fragment by referring to its bytes (no copy either).  The block
 * goes back to the pool with its last reference. */
#define MESOS__STATE_CHUNK ((size_t)1 << 20)
#define MESOS__STATE_BLOCK (MESOS__STATE_CHUNK + ((size_t)64 << 10))
typedef struct mesos__blk mesos__blk;
typedef struct mesos__chunk {
  char *data;
  size_t len, cap;
  mesos__blk *blk; /* data is a piece of this block (a reference held); NULL: an allocation */
} mesos__chunk;
typedef struct mesos__chunks {
  struct mesos__state_srv *sv; /* the pool (NULL: plain allocations) */
  mesos__chunk *v;
  size_t n, cap;
  size_t total; /* bytes of all chunks */
} mesos__chunks;
/* A block of MESOS__STATE_BLOCK bytes with one reference (NULL: out of
 * memory), from any thread; mesos__state_block_put gives back a buffer of
 * `cap` bytes (a block's reference when cap is MESOS__STATE_BLOCK and
 * `data` is the start of a block from _get, anything else to the
 * allocator). */
char *mesos__state_block_get(struct mesos__state_srv *sv);
void mesos__state_block_put(struct mesos__state_srv *sv, char *data, size_t cap);
/* The block whose bytes start at `data` (from mesos__state_block_get). */
mesos__blk *mesos__state_blk_of(char *data);
/* Any thread: a reference more / less (the last one gives the block back
 * to sv's pool, or to the allocator when sv is NULL). */
void mesos__state_blk_ref(mesos__blk *b);
/* The writer moves on from block b, having filled `used` bytes of it. */
void mesos__state_blk_done(mesos__blk *b, size_t used);
void mesos__state_blk_unref(struct mesos__state_srv *sv, mesos__blk *b);
/* Appends a chunk: an allocation of `cap` bytes (blk NULL: taken), or
 * `len` bytes at `data` inside block `blk` (a reference is taken);
 * ELIMIT past MESOS__OP_RESPONSE_MAX in all, ENOMEM (nothing taken). */
mesos_status mesos__state_chunks_push(mesos__chunks *c, char *data, size_t len, size_t cap,
                                      mesos__blk *blk);
void mesos__state_chunks_free(mesos__chunks *c);
/* Tests: /state (0), /frameworks (1) or /slaves (2) exactly as the
 * endpoints render them (through the cache, into pooled chunks, the
 * fragments made kept), synchronously; free with mesos__state_chunks_free. */
mesos_status mesos__state_doc_chunks(mesos_master *m, int which, mesos__chunks *out);

/* ---- state.c's fragment cache (issue 6): each agent's and framework's
 * rendered part of /state and of the v1 state calls, kept while the
 * record's state_gen (master_int.h) and its stamp (active, registered and
 * reregistered times) stay, so a poll of an unchanged cluster copies
 * bytes instead of rendering them.  Used only for snapshots without a
 * view (no authorizer); tables and references are the loop thread's, a
 * fragment's bytes are immutable (renders read them anywhere).
 *
 * A fragment made by a render into chunks is the run of bytes the render
 * wrote into its output blocks (segments, with a reference on each block);
 * one made elsewhere owns a copy (`data`). */
typedef struct mesos__frag_seg {
  const char *data;
  size_t len;
  mesos__blk *blk;
} mesos__frag_seg;
typedef struct mesos__frag {
  size_t refs; /* loop thread only */
  size_t len;  /* bytes in all */
  char *data;  /* owned, or NULL: the bytes are the segments' */
  struct mesos__state_srv *sv; /* where the blocks go back */
  size_t nseg;
  mesos__frag_seg seg[];
} mesos__frag;
/* Fragments at least this big are sent by reference, smaller ones copied
 * (a reference is one more piece to send). */
#define MESOS__FRAG_REF_MIN ((size_t)16 << 10)
enum {
  MESOS__FRAG_STATE = 0,     /* /state: an agent's "slaves" or a framework's "frameworks" element */
  MESOS__FRAG_V1_ENTRY_JSON, /* GetAgents.Agent or GetFrameworks.Framework element */
  MESOS__FRAG_V1_ENTRY_PB,
  MESOS__FRAG_V1_TASKS_JSON, /* a framework's live tasks: GetTasks.tasks elements */
  MESOS__FRAG_V1_TASKS_PB,
  MESOS__FRAG_V1_DONE_JSON,  /* a framework's completed tasks */
  MESOS__FRAG_V1_DONE_PB,
  MESOS__FRAG_V1_EXECS,      /* a framework's "<agent id>\0<executor id>\0" its tasks name */
  MESOS__FRAG_SUMMARY,       /* /state-summary: an agent's or framework's element */
  MESOS__FRAG_SLOTS
};
/* On the loop: the service when the cache may serve the snapshot being
 * taken (no view set on the master), else NULL. */
struct mesos__state_srv *mesos__frag_cache(mesos_master *m);
/* On the loop, in a snapshot: the generation of record `rec` (an agent or
 * framework) whose state_gen is *gen: a fresh one (stored in *gen) when
 * it is 0 or the stamp moved since; the cache entry follows it. */
uint64_t mesos__frag_gen(struct mesos__state_srv *sv, const void *rec, uint64_t *gen,
                         const double stamp[3]);
/* On the loop: rec's fragment of `slot` at generation `gen`, with a
 * reference taken (mesos__frag_unref), or NULL (also when its bytes sit
 * in blocks mostly let go of: rendering it again frees them). */
mesos__frag *mesos__frag_get(struct mesos__state_srv *sv, const void *rec, uint64_t gen, int slot);
/* On the loop, after a render: keeps `f` (a reference is taken) as rec's
 * fragment of `slot`, unless rec has moved past `gen` or the cache is full. */
void mesos__frag_put(struct mesos__state_srv *sv, const void *rec, uint64_t gen, int slot,
                     mesos__frag *f);
/* Any thread: a fragment holding `len` bytes of `data` (taken: freed with
 * the fragment, or on failure), one reference; NULL when out of memory. */
mesos__frag *mesos__frag_new(char *data, size_t len);
void mesos__frag_unref(mesos__frag *f);
/* Tests: fragments in the cache and the bytes they hold. */
void mesos__frag_stats(mesos_master *m, size_t *frags, size_t *bytes);
/* Tests and benchmarks, on the loop: renders use the cache (1, the
 * default) or not (0: every poll renders everything, as before it). */
void mesos__state_test_cache(mesos_master *m, int on);

/* ---- what a framework's live tasks hold (not released), by the task's
 * role and in all: GET_ROLES and /roles add these up per role.  Kept in
 * the fragment cache's entry while the framework does not change, so a
 * poll walks the tasks of changed frameworks only. */
typedef struct mesos__role_use {
  char *role;
  mesos_resources *used;
} mesos__role_use;
typedef struct mesos__fw_usage {
  mesos__role_use *v;
  size_t n;
  mesos_resources *all;
} mesos__fw_usage;
/* On the loop: fw's usage, or NULL when out of memory; valid until the
 * next call or the next change to the master (not to be freed). */
const mesos__fw_usage *mesos__state_fw_usage(mesos_master *m, mesos__framework *fw);
/* Tests: GET_ROLES's response (no authorizer filter) as JSON. */
mesos_status mesos__op_get_roles_json(mesos_master *m, mesos__buf *out);

/* ---- capturing a fragment while a writer renders into chunks: the
 * writer (state.c's jg, state_v1.c's vw) reports every piece of its
 * current block it pushes to the output (mesos__cap_pushed), and the
 * capture collects the pieces from `off0` of block `blk0` on. */
typedef struct mesos__capture {
  int on, fail, first;
  mesos__blk *blk0;
  const char *p0; /* where the fragment starts (in blk0) */
  mesos__frag_seg *v;
  size_t n, cap;
} mesos__capture;
/* Starts capturing at `p0` (in block `blk`, NULL: the writer is not in a
 * block and nothing can be captured). */
void mesos__cap_begin(mesos__capture *c, mesos__blk *blk, const char *p0);
/* The writer pushed [p, p+len) of block `blk` (NULL: an allocation). */
void mesos__cap_pushed(mesos__capture *c, const char *p, size_t len, mesos__blk *blk);
/* Ends the capture with [start, end) of the writer's current block `blk`
 * not pushed yet: the fragment (one reference), or NULL when nothing
 * could be captured (*st ENOMEM when out of memory). */
mesos__frag *mesos__cap_end(mesos__capture *c, struct mesos__state_srv *sv, const char *start,
                            const char *end, mesos__blk *blk, mesos_status *st);

/* ---- state_v1.c: the v1 state calls off the loop (state.c serves them) */
typedef struct mesos__v1snap mesos__v1snap;
/* On the loop: what `call` (GET_STATE, GET_AGENTS, GET_FRAMEWORKS,
 * GET_TASKS, GET_EXECUTORS, or SUBSCRIBE for the SUBSCRIBED event) needs,
 * with Task messages and task resource bags pinned by the caller (state.c
 * counts the snapshot in its pins); with a view set on the master
 * (m->view), only what its principal may view is written.  *st is
 * MESOS_ENOMEM when something could not be copied; free the snapshot
 * either way. */
mesos__v1snap *mesos__v1snap_take(mesos_master *m, int call, mesos_status *st);
/* The same for a render in `media` only, served from the fragment cache
 * where it may be (mesos__frag_cache); after the render, on the loop,
 * mesos__v1snap_keep hands the fragments it made to the cache. */
mesos__v1snap *mesos__v1snap_take_cached(mesos_master *m, int call, mesos__media media,
                                         mesos_status *st);
void mesos__v1snap_keep(mesos_master *m, mesos__v1snap *s);
/* Off the loop (any one thread): the response (for SUBSCRIBE: the
 * SUBSCRIBED event as one RecordIO record) written in `media` straight
 * from the snapshot into `out`'s chunks.  _render: the same appended to
 * one buffer (tests). */
mesos_status mesos__v1snap_render_chunks(const mesos__v1snap *s, mesos__media media,
                                         mesos__chunks *out);
mesos_status mesos__v1snap_render(const mesos__v1snap *s, mesos__media media, mesos__buf *out);
void mesos__v1snap_free(mesos__v1snap *s);
/* Answers a v1 state call (as above) from a snapshot rendered on the
 * thread pool, batched with identical calls of the same principal
 * (state.c); with an authorizer, the snapshot (taken with the principal's
 * view set on the master) leaves out what it may not view. */
void mesos__state_v1_serve(mesos_master *m, mesos__http_request *req, int call,
                           mesos__media media);

/* ---- operator.c, for state.c: subscribers whose SUBSCRIBED renders off
 * the loop.  All three are no-ops for a request that is no subscriber. */
/* The snapshot for `req`'s SUBSCRIBED was taken: later events queue. */
void mesos__op_sub_snapshotted(mesos_master *m, mesos__http_request *req);
/* SUBSCRIBED is sent: the queued events follow and the stream is the
 * operator's (or it ends, when the queue overflowed). */
void mesos__op_sub_ready(mesos_master *m, mesos__http_request *req);
/* The request went away or failed before SUBSCRIBED was sent. */
void mesos__op_sub_forget(mesos_master *m, mesos__http_request *req);

/* ---- maintenance.c */
/* Calls of the maintenance family and quota/weights persistence live in
 * operator.c; these are the machine lookups the rest needs. */
typedef enum mesos__machine_mode {
  MESOS__MACHINE_UP = 0,
  MESOS__MACHINE_DRAINING = 1,
  MESOS__MACHINE_DOWN = 2,
} mesos__machine_mode;
mesos__machine_mode mesos__maintenance_mode(const mesos_master *m, const char *hostname);
/* Answers the maintenance calls; returns 0 when `call` is not one. */
int mesos__maintenance_call(mesos_master *m, mesos__http_request *req, mesos__media media,
                            const Mesos__V1__Master__Call *call);
/* Re-applies the registry's schedule to the allocator (start-up, changes). */
void mesos__maintenance_apply(mesos_master *m);
mesos_status mesos__maintenance_init(mesos_master *m, mesos_error **err);
void mesos__maintenance_fini(mesos_master *m);

/* What mesos__op_update_agent_record replaces in an admitted agent's
 * registry record; parts whose set_* is 0 are kept. */
typedef struct mesos__agent_record_change {
  int set_resources;
  Mesos__V1__Resource **resources; /* reservations and volumes */
  size_t n_resources;
  int set_drain;
  Mesos__V1__DrainInfo *drain_info; /* NULL: not draining */
  int set_deactivated;
  int deactivated;
} mesos__agent_record_change;
/* Durably rewrites the agent's record.  MESOS_ENOTFOUND (not admitted),
 * and the errors of mesos__registry_apply. */
mesos_status mesos__op_update_agent_record(mesos_master *m, const char *agent_id,
                                           const mesos__agent_record_change *c,
                                           mesos_error **err);
/* DEACTIVATE_AGENT, REACTIVATE_AGENT, DRAIN_AGENT; 0 when `call` is none. */
int mesos__agent_state_call(mesos_master *m, mesos__http_request *req,
                            const Mesos__V1__Master__Call *call);
/* An agent (re-)registered: its record's deactivation and drain apply. */
void mesos__op_agent_registered(mesos__agent *a);
/* A task of `a` ended (a NULL: any agent): draining agents that run no task
 * more become DRAINED soon (from a timer, never inside the caller). */
void mesos__op_drain_check_soon(mesos_master *m, const mesos__agent *a);
/* Fills GetAgents.Agent's deactivated and drain_info (borrowed from the
 * registry: valid until its next change). */
void mesos__op_agent_drain_view(const mesos_master *m, const mesos__agent *a,
                                Mesos__V1__Master__Response__GetAgents__Agent *ag);

/* ---- master_files.c */
/* The files service (routes, /master/log with --log_dir, which it opens
 * and logs into). */
mesos_status mesos__master_files_init(mesos_master *m, mesos_error **err);
void mesos__master_files_fini(mesos_master *m);
/* LIST_FILES and READ_FILE (authorized already). */
void mesos__master_files_call(mesos_master *m, mesos__http_request *req, mesos__media media,
                              const Mesos__V1__Master__Call *c);

/* ---- operator.c, for maintenance.c */
/* MARK_AGENT_GONE without the HTTP answer: MESOS_OK (also when gone
 * already), MESOS_ENOTFOUND, or a registry error. */
mesos_status mesos__op_mark_agent_gone(mesos_master *m, const char *id, mesos_error **err);

#endif
