/* The reflective JSON codec: any protobuf-c message to and from the JSON
 * mapping Mesos uses (spec/http-api.md section 5), driven only by the
 * message descriptors.
 *
 * Decoding streams the text through yajl's callback parser with an explicit
 * stack (no recursion), building the protobuf-c structs directly in an
 * arena (arena.h); the result is freed, as a whole only, with
 * mesos__pb_free().  Encoding writes into a mesos__buf. */
#ifndef MESOS_CODEC_JSON_H
#define MESOS_CODEC_JSON_H

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#include "base/buf.h"
#include "mesos/error.h"

/* Default limits; every one can be lowered per call, none switched off. */
#define MESOS__JSON_MAX_DEPTH 64                   /* JSON nesting (objects + arrays) */
#define MESOS__JSON_MAX_INPUT ((size_t)64 << 20)    /* bytes of JSON text */
#define MESOS__JSON_MAX_ALLOC ((size_t)256 << 20)   /* bytes the decoded message may take */
/* max_alloc counts the bytes of every piece (every doubling of a repeated
 * field in full, and values replaced by a repeated key); the arena's block
 * slack comes on top, at most a quarter of each block plus one block. */

typedef struct mesos__json_limits {
  unsigned max_depth;  /* 0: MESOS__JSON_MAX_DEPTH (larger values are clamped) */
  size_t max_input;    /* 0: MESOS__JSON_MAX_INPUT */
  size_t max_alloc;    /* 0: MESOS__JSON_MAX_ALLOC */
} mesos__json_limits;

/*
 * Decodes one JSON object of `len` bytes into a new message of type `desc`.
 * `limits` may be NULL.  Unknown keys and `null` values are ignored; bad
 * types, bad enum names in required fields, bad base64, numbers out of range
 * and missing required fields fail with MESOS_EINVAL and a message naming
 * the path ("offer_ids[0].value: required field missing"); exceeding a limit
 * fails with MESOS_ELIMIT.  *out is set only on success.
 * Doubles also take the strings "Infinity", "-Infinity" and "NaN", and the
 * bare Infinity / -Infinity tokens newer Mesos writes for unlimited limits
 * (not JSON: text with them is retried once with the tokens quoted).
 */
mesos_status mesos__json_decode(const ProtobufCMessageDescriptor *desc, const char *json,
                                size_t len, const mesos__json_limits *limits,
                                ProtobufCMessage **out, mesos_error **err);

/*
 * Appends the JSON encoding of `msg` to `out` (bounded by out->max:
 * MESOS_ELIMIT).  Follows Mesos: declaration order, enums by name, 64-bit
 * integers as numbers, bytes as base64, doubles with a decimal point,
 * unset optional fields omitted unless they declare a default (then the
 * default is written, except for deprecated fields), empty repeated fields
 * omitted, maps as objects.  Messages nested deeper than
 * MESOS__JSON_MAX_DEPTH fail with MESOS_ELIMIT.  On failure `out` keeps
 * its old length.
 */
mesos_status mesos__json_encode(const ProtobufCMessage *msg, mesos__buf *out, mesos_error **err);

/* The largest output of mesos__json_quote for n bytes: every byte as
 * \u00XX plus the two quotes.  The caller checks n <= MESOS__JSON_QUOTE_MAX_IN. */
#define MESOS__JSON_QUOTE_MAX_IN ((SIZE_MAX - 8) / 6)
#define MESOS__JSON_QUOTE_ROOM(n) ((n) * 6 + 2)

/* Writes s[0..n) as a quoted JSON string at p (room for
 * MESOS__JSON_QUOTE_ROOM(n) bytes): plain bytes as they are (UTF-8 passes
 * through), quotes, backslashes and control characters escaped.  Returns
 * the end of what it wrote.  The direct /state and GET_STATE writers share
 * it (lib/master/state.c, state_v1.c). */
char *mesos__json_quote(char *p, const char *s, size_t n);

#endif
