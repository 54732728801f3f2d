/* The agent's checkpoint files (DESIGN.md, "State and durability"; layout
 * in agent_paths.h).
 *
 * Two shapes:
 *  - a whole-file checkpoint holds one protobuf message in one checksummed
 *    record (record.h).  It is replaced atomically: written to a temporary
 *    file beside it, fsynced, renamed over the old one, and the directory
 *    fsynced.  A crash at any point leaves the old content or the new, never
 *    a mixture, and a reader never sees a partial file.
 *  - an update stream (task.updates) is an append-only file of records, one
 *    protobuf message each (StatusUpdateRecord), each fdatasync'ed before
 *    the append returns.  A crash can leave only the last record torn;
 *    readers ignore it and the writer truncates it when reopening.
 *
 * All calls block on file I/O, fsync included (see log.h on why that is
 * acceptable for now).  Thread rule: a stream handle is used by one thread
 * at a time; the file functions are reentrant. */
#ifndef MESOS_REGISTRY_CHECKPOINT_H
#define MESOS_REGISTRY_CHECKPOINT_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "mesos/error.h"

/* Atomically replaces `path` with `data`; creates missing parent
 * directories (durably).  The temporary file is "<path>.tmp".
 * Errors: MESOS_ELIMIT (over MESOS__RECORD_MAX_DEFAULT), MESOS_EIO (the old
 * content is then still in place), MESOS_EEXIST (a parent is not a
 * directory), MESOS_ENOMEM. */
mesos_status mesos__checkpoint_write_bytes(const char *path, const void *data, size_t len,
                                           mesos_error **err);

/* mesos__checkpoint_write_bytes of `msg` packed. */
mesos_status mesos__checkpoint_write(const char *path, const ProtobufCMessage *msg,
                                     mesos_error **err);

/* Reads the checkpoint at `path`: *out (free with mesos__free) gets the
 * payload of *len bytes.  max 0 = MESOS__RECORD_MAX_DEFAULT.
 * Errors: MESOS_ENOTFOUND (no such file), MESOS_EPROTO (damaged: bad
 * checksum, truncated, trailing bytes, not a checkpoint), MESOS_EVERSION,
 * MESOS_ELIMIT, MESOS_EIO, MESOS_ENOMEM. */
mesos_status mesos__checkpoint_read_bytes(const char *path, size_t max, uint8_t **out,
                                          size_t *len, mesos_error **err);

/* Reads and decodes the checkpoint at `path` as a `desc` message; *out is
 * freed with mesos__pb_free.  Errors as mesos__checkpoint_read_bytes; a
 * payload that does not decode as `desc` is MESOS_EPROTO too. */
mesos_status mesos__checkpoint_read(const char *path, const ProtobufCMessageDescriptor *desc,
                                    ProtobufCMessage **out, mesos_error **err);

/* Atomically points the symlink `path` at `target` (Mesos's
 * meta/slaves/latest and runs/latest): a temporary link "<path>.tmp" renamed
 * over it, then the directory fsynced; creates missing parents.  `target`
 * is stored as given (use a relative name: the work directory may move).
 * Errors: MESOS_EINVAL (empty target), MESOS_EIO, MESOS_EEXIST (a parent is
 * not a directory), MESOS_ENOMEM. */
mesos_status mesos__checkpoint_symlink(const char *path, const char *target, mesos_error **err);

/* The entries of directory `dir` that recovery walks (framework, executor,
 * container and task ids): subdirectories whose names pass
 * mesos__agent_path_check_id, without the "latest" symlink, sorted.
 * *ids (free with mesos__checkpoint_free_ids) has *n entries; at most
 * `max` (0 = 1,000,000) are accepted, more is MESOS_ELIMIT.  A name that is
 * not a safe id is skipped with a warning (it cannot be ours).
 * Errors: MESOS_ENOTFOUND (no such directory), MESOS_EIO, MESOS_ELIMIT,
 * MESOS_ENOMEM. */
mesos_status mesos__checkpoint_list_ids(const char *dir, size_t max, char ***ids, size_t *n,
                                        mesos_error **err);

/* Frees what mesos__checkpoint_list_ids returned.  NULL is accepted. */
void mesos__checkpoint_free_ids(char **ids, size_t n);

/* ---- update streams ---- */

typedef struct mesos__update_stream mesos__update_stream;

/* Receives each message of a stream in order.  The callback owns `msg`
 * (free with mesos__pb_free), also when it fails; a non-OK return stops
 * the replay and is returned. */
typedef mesos_status (*mesos__update_stream_cb)(ProtobufCMessage *msg, void *ud);

/* Opens the stream at `path` for appending, creating it (and missing parent
 * directories) when absent, after replaying its messages, decoded as
 * `desc`, through `cb` (may be NULL).  A torn tail is truncated away: it
 * was never acknowledged.  Errors: MESOS_EPROTO (a damaged record followed
 * by valid ones, or a record that does not decode; the file is left
 * unchanged), MESOS_EIO, MESOS_ENOMEM, or the callback's status. */
mesos_status mesos__update_stream_open(mesos__update_stream **out, const char *path,
                                       const ProtobufCMessageDescriptor *desc,
                                       mesos__update_stream_cb cb, void *ud,
                                       mesos_error **err);

/* Appends `msg` and returns once it is on stable storage.  MESOS_ELIMIT,
 * MESOS_EIO (nothing appended; after a failed fdatasync the stream refuses
 * further appends and must be reopened), MESOS_ENOMEM. */
mesos_status mesos__update_stream_append(mesos__update_stream *s, const ProtobufCMessage *msg,
                                         mesos_error **err);

/* Group commit: appends `msg` without waiting for stable storage; it is
 * durable once a later mesos__update_stream_sync (or synchronous append)
 * returned MESOS_OK.  Errors as mesos__update_stream_append. */
mesos_status mesos__update_stream_append_nosync(mesos__update_stream *s,
                                                const ProtobufCMessage *msg, mesos_error **err);

/* Makes every record appended so far durable (fdatasync).  MESOS_EIO
 * poisons the stream as a failed synchronous append does. */
mesos_status mesos__update_stream_sync(mesos__update_stream *s, mesos_error **err);

/* Closes the stream.  NULL is accepted. */
void mesos__update_stream_close(mesos__update_stream *s);

/* Replays the stream at `path` without modifying it (recovery may inspect
 * before deciding): a torn tail is skipped and reported through *torn (may
 * be NULL).  Errors: MESOS_ENOTFOUND, then as mesos__update_stream_open. */
mesos_status mesos__update_stream_read(const char *path, const ProtobufCMessageDescriptor *desc,
                                       mesos__update_stream_cb cb, void *ud, bool *torn,
                                       mesos_error **err);

#endif
