/* Content negotiation for the v1 HTTP APIs (spec/http-api.md 1.2, 1.3,
 * 4.4): which encoding a request body uses, which one the response gets,
 * or the status code and message Mesos answers instead.
 *
 * Media types are compared more leniently than Mesos does (case-insensitive,
 * parameters such as "; charset=utf-8" ignored), which the spec allows:
 * everything Mesos accepts is accepted. */
#ifndef MESOS_CODEC_NEGOTIATE_H
#define MESOS_CODEC_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>

#define MESOS__MEDIA_TYPE_JSON "application/json"
#define MESOS__MEDIA_TYPE_PROTOBUF "application/x-protobuf"
#define MESOS__MEDIA_TYPE_RECORDIO "application/recordio"

typedef enum mesos__media {
  MESOS__MEDIA_NONE = 0,
  MESOS__MEDIA_JSON = 1,
  MESOS__MEDIA_PROTOBUF = 2,
  MESOS__MEDIA_RECORDIO = 3,
} mesos__media;

/* The outcome of a negotiation: what to use, or how to refuse. */
typedef struct mesos__negotiated {
  /* Encoding of the body, or of every record when `streaming`. */
  mesos__media message;
  /* The body is a RecordIO stream with Content-Type application/recordio
   * (agent ATTACH_CONTAINER_INPUT requests, agent ProcessIO responses);
   * the encoding inside is `message` (Message-Content-Type). */
  bool streaming;
  /* 0 when negotiation succeeded; else 400, 406 or 415 ... */
  int http_status;
  /* ... with this plain-text body (static storage). */
  const char *error;
} mesos__negotiated;

/* Classifies one media type ("application/json; charset=utf-8" -> JSON);
 * NONE for anything else.  `s` need not be NUL-terminated. */
mesos__media mesos__media_parse(const char *s, size_t len);

/* The header value for a media type ("application/json"). */
const char *mesos__media_name(mesos__media m);

/*
 * Whether an Accept header value admits `media_type` ("application/json").
 * NULL (no header) admits everything.  The most specific matching range
 * decides (type/subtype over type/any over any/any); it admits unless its
 * q is 0.  Repeated Accept headers are passed joined with ",".
 */
bool mesos__accepts(const char *accept, const char *media_type);

/*
 * Request side.  `content_type` / `message_content_type` are the header
 * values or NULL when absent; `allow_streaming` is true only where a
 * RecordIO request body exists (the agent operator API).  Mesos' answers:
 * no Content-Type -> 400 "Expecting 'Content-Type' to be present"; an
 * unknown one -> 415; recordio without Message-Content-Type -> 400, with a
 * bad one -> 415; Message-Content-Type on a non-streaming request -> 415.
 */
void mesos__negotiate_request(const char *content_type, const char *message_content_type,
                              bool allow_streaming, mesos__negotiated *out);

/*
 * Response side.  `accept` / `message_accept` are header values or NULL.
 * For an ordinary response (`streaming_call` false): JSON when acceptable
 * (also without Accept, whatever the q-values say), else protobuf when
 * acceptable, else 406; Message-Accept is refused with 406.  Event streams
 * of the scheduler, executor and master operator APIs are ordinary in this
 * sense: RecordIO framing with the negotiated Content-Type.
 * For the agent's ProcessIO streams (`streaming_call` true): when Accept
 * admits application/recordio the response is a recordio stream whose
 * records use Message-Accept (JSON by default, then protobuf, else 406);
 * otherwise the historic form, negotiated as an ordinary response.
 */
void mesos__negotiate_response(const char *accept, const char *message_accept,
                               bool streaming_call, mesos__negotiated *out);

/*
 * The transport checks and decoding of a POSTed call (spec 1.5 steps 5-6),
 * for every v1 endpoint: the request side of the negotiation above, then
 * `body` decoded as `desc` in JSON or protobuf.  On success *out (free
 * with mesos__pb_free).  Otherwise *out is NULL, *http_status is what to
 * answer (400 or 415) and `text` (of `cap` bytes) the plain-text body,
 * Mesos's "Failed to parse body into <what>: ..." for an undecodable one.
 */
struct ProtobufCMessage;
struct ProtobufCMessageDescriptor;
void mesos__decode_body(const char *content_type, const char *body, size_t len,
                        const struct ProtobufCMessageDescriptor *desc, const char *what,
                        struct ProtobufCMessage **out, int *http_status, char *text, size_t cap);
/* The same; with `arena` a protobuf body is decoded into an arena
 * (mesos__pb_unpack_arena: free it only as a whole, keep no piece).  JSON
 * bodies always are. */
void mesos__decode_body_arena(const char *content_type, const char *body, size_t len,
                              const struct ProtobufCMessageDescriptor *desc, const char *what,
                              bool arena, struct ProtobufCMessage **out, int *http_status,
                              char *text, size_t cap);

#endif
