/* mesos__rlog: a durable append-only record log in one directory, with
 * snapshots.  (Named rlog, "record log", beside base/log.h's logging.)
 *
 * The master's registry (registry.h) is its user: every change is appended
 * and fdatasync'ed before the caller acknowledges it, and every so often the
 * whole state is written as a snapshot so the log does not grow forever.
 * Records are opaque bytes here, framed and checksummed by record.h.
 *
 * Directory layout (G is a generation number, 16 lower-case hex digits):
 *
 *   LOCK             flock(2)ed while open: one writer per directory
 *   snapshot.G       one record: the caller's state as of generation G
 *   log.G            the records appended after snapshot.G (log.0 has no
 *                    snapshot: it starts from the empty state)
 *   snapshot.G.tmp   a snapshot being written; removed on open
 *
 * Recovery (mesos__rlog_open) takes the highest G with a snapshot (or 0),
 * hands the snapshot and then each record of log.G to the caller, truncates
 * a torn tail of log.G (the partial last record of a crash), creates log.G
 * if a crash came before it existed, and only then removes older
 * generations.  mesos__rlog_snapshot writes snapshot.G+1 beside a temporary
 * name, fsyncs it, renames it into place, fsyncs the directory, creates
 * log.G+1 and only after all that is durable deletes generation G.  So a
 * crash between any two steps leaves either generation G complete (the
 * snapshot never became visible) or generation G+1 complete (the snapshot
 * is in place; the new segment is empty or created on open).
 *
 * A damaged record followed by valid ones, a damaged snapshot, or a log
 * segment without its snapshot is corruption, not a crash artefact: open
 * refuses it (MESOS_EPROTO, naming file and offset) and changes nothing, so
 * an operator can inspect or restore the directory.
 *
 * Blocking: every call does its I/O, fsyncs included, on the calling
 * thread.  That is acceptable for this first version because the registry's
 * writes are small and rare (an agent admitted or removed, a weight or quota
 * changed), typically well under a millisecond on an SSD.  The API is shaped
 * so a later version can move the write and fdatasync to the libuv thread
 * pool without changing callers' logic: an append either fully succeeds
 * (durable) or fails leaving the log as it was, and nothing but the log's
 * own state is touched, so an asynchronous twin
 *   mesos__rlog_append_async(log, data, len, cb, ud)
 * completing on the loop thread can be added beside mesos__rlog_append.
 *
 * Thread rule: one thread uses a log at a time. */
#ifndef MESOS_REGISTRY_LOG_H
#define MESOS_REGISTRY_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "mesos/error.h"
#include "registry/record.h"

typedef struct mesos__rlog mesos__rlog;

typedef struct mesos__rlog_options {
  /* Largest record or snapshot, in bytes; 0 = MESOS__RECORD_MAX_DEFAULT,
   * clamped to MESOS__RECORD_MAX_LIMIT. */
  size_t max_record;
  /* Create the directory (and missing parents) when it does not exist. */
  bool create;
} mesos__rlog_options;

typedef enum mesos__rlog_item {
  MESOS__RLOG_ITEM_SNAPSHOT = 1, /* the latest snapshot (at most one, first) */
  MESOS__RLOG_ITEM_RECORD = 2    /* a record appended after it */
} mesos__rlog_item;

/* Receives the recovered contents on open, in order.  `data` is borrowed
 * until it returns; a non-OK return aborts the open with that status. */
typedef mesos_status (*mesos__rlog_replay_cb)(mesos__rlog_item item, const uint8_t *data,
                                             size_t len, void *ud);

/* Opens (recovering) the log in `dir` and replays it through `cb`.
 * `opts` may be NULL (defaults, create = false).
 * If open fails after `cb` saw some items, the caller must discard what it
 * built from them; the directory is unchanged in that case.
 * Errors: MESOS_ENOTFOUND (no directory and not `create`), MESOS_EBUSY
 * (another open log holds the directory), MESOS_EPROTO (corruption, see
 * above), MESOS_EVERSION, MESOS_ELIMIT (a record over max_record),
 * MESOS_EIO, MESOS_ENOMEM, or the callback's status. */
mesos_status mesos__rlog_open(mesos__rlog **out, const char *dir, const mesos__rlog_options *opts,
                             mesos__rlog_replay_cb cb, void *ud, mesos_error **err);

/* Appends one record and returns only once it is on stable storage
 * (fdatasync).  MESOS_ELIMIT: over max_record, nothing written.
 * MESOS_EIO: nothing was appended; if the failure leaves the file's state
 * unknown (a failed fdatasync), the log refuses every later append and
 * snapshot with MESOS_EIO and must be closed and reopened. */
mesos_status mesos__rlog_append(mesos__rlog *log, const void *data, size_t len,
                               mesos_error **err);

/* Makes `data` (the caller's whole state, including every record appended
 * so far) the new snapshot and starts an empty segment; see the top of this
 * file for the steps.  On failure before the snapshot became visible the
 * log goes on as before; after it, the log refuses further writes
 * (MESOS_EIO) until reopened, because appending to the old segment could
 * lose records behind the new snapshot.  MESOS_ELIMIT, MESOS_EIO. */
mesos_status mesos__rlog_snapshot(mesos__rlog *log, const void *data, size_t len,
                                 mesos_error **err);

/* Records appended since the last snapshot (replayed ones included). */
uint64_t mesos__rlog_records_since_snapshot(const mesos__rlog *log);

/* The current generation (0 until the first snapshot). */
uint64_t mesos__rlog_generation(const mesos__rlog *log);

/* Closes the files and releases the lock.  NULL is accepted. */
void mesos__rlog_close(mesos__rlog *log);

#endif
