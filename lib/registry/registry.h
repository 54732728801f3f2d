/* The master's registry: the durable part of its state (admitted,
 * unreachable and gone agents, role weights, quota, the maintenance
 * schedule), as a Mesos__Internal__Registry in memory kept in step with a
 * durable log (log.h) of RegistryEntry records (registry.proto).
 *
 * Every change is one RegistryOperation.  mesos__registry_apply checks it
 * against the current state first (nothing is written for an operation that
 * does not apply), appends it to the log and fdatasyncs, and only then
 * changes the in-memory state; so when it returns MESOS_OK the change
 * survives kill -9 and the master may acknowledge it.  Every
 * `compact_every` operations the whole state is written as a snapshot and
 * the log starts over.  Recovery (open) loads the snapshot and re-applies
 * the operations after it with the same checks.
 *
 * An in-memory registry (dir NULL, the master's --registry=in_memory) has
 * the same API and checks and touches no files.
 *
 * Operation semantics (the fields each type reads; any other is ignored):
 *   ADMIT_AGENT      agent_info (with id): a new agent.  Already admitted or
 *                    unreachable: MESOS_EEXIST; gone: MESOS_EPERM.
 *   READMIT_AGENT    agent_info (with id): an unreachable agent is admitted
 *                    again with this info.  Admitted: MESOS_EEXIST; gone:
 *                    MESOS_EPERM; unknown: MESOS_ENOTFOUND.
 *   MARK_AGENT_UNREACHABLE  agent_id, timestamp: admitted -> unreachable.
 *                    Unknown or not admitted: MESOS_ENOTFOUND.
 *   MARK_AGENT_GONE  agent_id, timestamp: admitted or unreachable -> gone,
 *                    forever.  Gone already: MESOS_EEXIST; unknown:
 *                    MESOS_ENOTFOUND.
 *   REMOVE_AGENT     agent_id: forgets the agent wherever it is.  Unknown:
 *                    MESOS_ENOTFOUND.
 *   UPDATE_AGENT     agent_info (with id), resources, drain_info,
 *                    deactivated: the admitted agent's complete new record
 *                    (absent drain_info = not draining, absent deactivated
 *                    = active).  Not admitted: MESOS_ENOTFOUND.
 *   UPDATE_WEIGHTS   weights: sets each role's weight; 1.0 (the default)
 *                    removes the role's entry.
 *   UPDATE_QUOTA     quotas: sets each role's quota; a config with neither
 *                    guarantees nor limits removes it.  Limits below
 *                    guarantees are MESOS_EINVAL.  quota_setters: who
 *                    set them (kept for the roles given a quota; every
 *                    role the operation names loses its old setter).
 *   UPDATE_SCHEDULE  schedule: replaces the maintenance schedule.  Newly
 *                    scheduled machines become DRAINING; machines left out
 *                    are forgotten, except DOWN ones (MESOS_EINVAL: stop
 *                    their maintenance first).  A machine in two windows is
 *                    MESOS_EINVAL.
 *   START_MAINTENANCE machines: DRAINING -> DOWN.  Unscheduled:
 *                    MESOS_ENOTFOUND; not DRAINING: MESOS_EINVAL.
 *   STOP_MAINTENANCE machines: DOWN -> forgotten (UP), and removed from the
 *                    schedule (windows left empty go too).  Unknown:
 *                    MESOS_ENOTFOUND; not DOWN: MESOS_EINVAL.
 * A malformed operation (missing field, empty id, unknown type, duplicate
 * role, NaN weight...) is MESOS_EINVAL.
 *
 * Blocking: apply and compact do their file I/O and fsync on the calling
 * thread; see log.h for why that is acceptable for now and how the API can
 * later complete on the libuv thread pool instead.  Thread rule: one thread
 * at a time (the master's loop). */
#ifndef MESOS_REGISTRY_REGISTRY_H
#define MESOS_REGISTRY_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "mesos/error.h"
#include "mesos/internal/registry.pb-c.h"

typedef struct mesos__registry mesos__registry;

/* Operations between snapshots by default.  A snapshot costs a write of
 * the whole state; 1000 operations keep the log, and so recovery's replay,
 * to well under a megabyte for typical operations while making a snapshot
 * of even a large cluster's state rare. */
#define MESOS__REGISTRY_COMPACT_EVERY_DEFAULT 1000

/* The format_version this build writes and reads in snapshots. */
#define MESOS__REGISTRY_FORMAT_VERSION 1

typedef struct mesos__registry_options {
  /* The log directory (typically <work_dir>/registry), created if missing;
   * NULL for an in-memory registry. */
  const char *dir;
  /* Operations between snapshots; 0 = MESOS__REGISTRY_COMPACT_EVERY_DEFAULT. */
  uint32_t compact_every;
  /* Largest operation or snapshot in bytes; 0 = MESOS__RECORD_MAX_DEFAULT. */
  size_t max_record;
} mesos__registry_options;

/* Opens the registry, recovering its state from `opts->dir`.  `opts` NULL
 * means in memory with defaults.  Errors: those of mesos__rlog_open
 * (MESOS_EBUSY, MESOS_EPROTO, MESOS_EVERSION, MESOS_ELIMIT, MESOS_EIO), and
 * MESOS_EPROTO for records that do not decode, skip a sequence number or
 * do not apply to the recovered state. */
mesos_status mesos__registry_open(mesos__registry **out, const mesos__registry_options *opts,
                                  mesos_error **err);

/* Validates, durably records and applies `op` (see the top of this file).
 * On any error the state and the files are unchanged.  Errors: MESOS_EINVAL,
 * MESOS_EEXIST, MESOS_ENOTFOUND, MESOS_EPERM (see above), MESOS_ELIMIT
 * (larger than max_record), MESOS_EIO (not recorded; the registry may need
 * reopening, see mesos__rlog_append), MESOS_ENOMEM. */
mesos_status mesos__registry_apply(mesos__registry *r,
                                   const Mesos__Internal__RegistryOperation *op,
                                   mesos_error **err);

/* Writes a snapshot now (apply does so every compact_every operations).
 * A no-op for an in-memory registry.  MESOS_ELIMIT, MESOS_EIO, MESOS_ENOMEM. */
mesos_status mesos__registry_compact(mesos__registry *r, mesos_error **err);

/* The current state, borrowed: valid until the next apply or close. */
const Mesos__Internal__Registry *mesos__registry_state(const mesos__registry *r);

/* Sequence number of the last applied operation (0 for none). */
uint64_t mesos__registry_sequence(const mesos__registry *r);

/* Operations applied since the last snapshot (0 in memory). */
uint64_t mesos__registry_pending_compaction(const mesos__registry *r);

typedef enum mesos__registry_agent_state {
  MESOS__REGISTRY_AGENT_UNKNOWN = 0,
  MESOS__REGISTRY_AGENT_ADMITTED,
  MESOS__REGISTRY_AGENT_UNREACHABLE,
  MESOS__REGISTRY_AGENT_GONE
} mesos__registry_agent_state;

/* Where the agent with id `agent_id` stands. */
mesos__registry_agent_state mesos__registry_agent(const mesos__registry *r,
                                                  const char *agent_id);

/* The admitted agent's record, borrowed like the state, or NULL. */
const Mesos__Internal__Registry__Agent *mesos__registry_find_agent(const mesos__registry *r,
                                                                   const char *agent_id);

/* The unreachable agent's record (what it keeps for its readmission),
 * borrowed like the state, or NULL. */
const Mesos__Internal__Registry__UnreachableAgent *mesos__registry_find_unreachable(
    const mesos__registry *r, const char *agent_id);

/* Closes the log and frees the state.  NULL is accepted. */
void mesos__registry_close(mesos__registry *r);

#endif
