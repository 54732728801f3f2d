/*
 * mesos/codec.h - encoding and decoding Mesos v1 API messages without
 * protobuf types.
 *
 * For embedders and binding authors: convert any message of the v1 API
 * (and of the other .proto files libmesos-core carries) between the JSON
 * mapping Mesos uses on the wire and binary protobuf, and frame or unframe
 * RecordIO streams, with plain C types only.  Messages are named by their
 * full protobuf name, e.g. "mesos.v1.scheduler.Call",
 * "mesos.v1.scheduler.Event", "mesos.v1.master.Response".
 *
 * The JSON mapping is Mesos' own (not proto3's): field names as in the
 * .proto, enums by name, 64-bit integers as numbers (numeric strings are
 * accepted too), bytes as base64, unset optional fields left out unless
 * they declare a default, which is written.  Unknown JSON keys and `null`
 * are ignored; an unknown enum name is an error only for a required field.
 *
 * Limits, which protect against hostile input and cannot be switched off:
 * 64 MiB of input, 64 levels of nesting, 256 MiB of decoded memory; a
 * RecordIO record is at most the decoder's max_record (4 MiB by default).
 *
 * Errors: MESOS_EINVAL for invalid input, with a message that names the
 * offending field's path ("offer_ids[0].value: required field missing");
 * MESOS_ENOTFOUND for an unknown message type; MESOS_ELIMIT when a limit
 * is hit; MESOS_ENOMEM.
 *
 * Thread safety: the conversion functions and mesos_recordio_encode may be
 * called from any thread at once.  A mesos_recordio_decoder is used by one
 * thread at a time.
 *
 * Since 1.0.
 */
#ifndef MESOS_CODEC_H
#define MESOS_CODEC_H

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Whether `type_name` ("mesos.v1.scheduler.Call") names a message type
 * this library can convert: 1 if so, 0 if not (also for NULL).
 * Since 1.0.
 */
MESOS_EXTERN(int) mesos_codec_has_type(const char *type_name);

/*
 * Converts one JSON object of `len` bytes (need not be NUL-terminated) to
 * the binary protobuf encoding of message type `type_name`.
 *
 * On success *out is a new buffer of *out_len bytes, owned by the caller
 * and freed with mesos_free() (an empty message gives *out_len 0 and a
 * non-NULL *out).  On failure *out and *out_len are untouched.
 * Errors: MESOS_ENOTFOUND (unknown type), MESOS_EINVAL (bad JSON, wrong
 * value types, missing required fields, bad base64, a required enum with an
 * unknown name), MESOS_ELIMIT, MESOS_ENOMEM.
 * Thread safety: any thread.  Since 1.0.
 */
MESOS_EXTERN(mesos_status) mesos_codec_json_to_protobuf(const char *type_name, const char *json,
                                                        size_t len, uint8_t **out,
                                                        size_t *out_len, mesos_error **err);

/*
 * Converts `len` bytes of binary protobuf of message type `type_name` to
 * Mesos JSON.
 *
 * On success *out is a new NUL-terminated string of *out_len bytes (not
 * counting the NUL), owned by the caller and freed with mesos_free().  On
 * failure *out and *out_len are untouched.  Unknown protobuf fields are
 * skipped.
 * Errors: MESOS_ENOTFOUND, MESOS_EINVAL (malformed protobuf or a missing
 * required field), MESOS_ELIMIT, MESOS_ENOMEM.
 * Thread safety: any thread.  Since 1.0.
 */
MESOS_EXTERN(mesos_status) mesos_codec_protobuf_to_json(const char *type_name,
                                                        const uint8_t *data, size_t len,
                                                        char **out, size_t *out_len,
                                                        mesos_error **err);

/*
 * Frames one record for a RecordIO stream: "<len>\n" followed by the `len`
 * bytes at `data`.  *out is a new buffer of *out_len bytes, freed with
 * mesos_free().  Errors: MESOS_EINVAL for an empty record (the format has
 * no zero length), MESOS_ENOMEM.
 * Thread safety: any thread.  Since 1.0.
 */
MESOS_EXTERN(mesos_status) mesos_recordio_encode(const void *data, size_t len, uint8_t **out,
                                                 size_t *out_len, mesos_error **err);

/* An incremental RecordIO decoder: feed it chunks as they arrive (split
 * anywhere), take complete records out. */
typedef struct mesos_recordio_decoder mesos_recordio_decoder;

/*
 * Creates a decoder that accepts records of at most `max_record` bytes
 * (0: 4 MiB, the limit common Mesos clients apply).  *out is freed with
 * mesos_recordio_decoder_free().  Errors: MESOS_ENOMEM.
 * Since 1.0.
 */
MESOS_EXTERN(mesos_status) mesos_recordio_decoder_new(mesos_recordio_decoder **out,
                                                      size_t max_record, mesos_error **err);

/* Frees a decoder and any partial record it holds.  NULL is accepted.
 * Since 1.0. */
MESOS_EXTERN(void) mesos_recordio_decoder_free(mesos_recordio_decoder *d);

/*
 * Gives the decoder the next `len` bytes of the stream.  The bytes are
 * borrowed, not copied: they must stay valid and unchanged until
 * mesos_recordio_decoder_next() has returned MESOS_EAGAIN (or an error)
 * for them.  Errors: MESOS_EBUSY if the previous chunk has not been
 * drained yet; the decoder's earlier failure if it has failed.
 * Since 1.0.
 */
MESOS_EXTERN(mesos_status) mesos_recordio_decoder_feed(mesos_recordio_decoder *d,
                                                       const void *data, size_t len,
                                                       mesos_error **err);

/*
 * Takes the next complete record.  MESOS_OK: *record points at *len bytes
 * (len > 0), borrowed from the decoder or from the fed chunk, valid until
 * the next call on this decoder.  MESOS_EAGAIN: the chunk is used up, feed
 * the next one; the decoder keeps any partial record itself.
 * Errors: MESOS_EPROTO for a length prefix that is not decimal digits
 * followed by "\n", or is 0; MESOS_ELIMIT for a record longer than
 * max_record (detected from the prefix, before the payload arrives);
 * MESOS_ENOMEM.  These failures are final: the framing is lost, and every
 * later call returns the same status.
 * Since 1.0.
 */
MESOS_EXTERN(mesos_status) mesos_recordio_decoder_next(mesos_recordio_decoder *d,
                                                       const uint8_t **record, size_t *len,
                                                       mesos_error **err);

/*
 * 1 when the decoder sits between records (a stream that ends here ended
 * cleanly), 0 when it holds part of a record or has failed.
 * Since 1.0.
 */
MESOS_EXTERN(int) mesos_recordio_decoder_idle(const mesos_recordio_decoder *d);

#ifdef __cplusplus
}
#endif

#endif /* MESOS_CODEC_H */
