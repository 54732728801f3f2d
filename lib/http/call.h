/* Decoding a POSTed v1 API call: the transport checks every v1 endpoint
 * makes before it looks at the call (spec 1.5 steps 5-6), shared by the
 * master's scheduler, agent and operator endpoints and the agent's operator
 * endpoint. */
#ifndef MESOS_HTTP_CALL_H
#define MESOS_HTTP_CALL_H

#include <protobuf-c/protobuf-c.h>

#include "http/server.h"

/* Checks the Content-Type (400/415) and decodes the body as `desc` in JSON
 * or protobuf (400 "Failed to parse body into <what>: ...").  Returns the
 * message (free with mesos__pb_free), or NULL after answering the request
 * with the reason as text. */
ProtobufCMessage *mesos__decode_call(mesos__http_request *req,
                                    const ProtobufCMessageDescriptor *desc, const char *what);
/* The same, a protobuf body decoded into an arena too (codec/pb.h
 * mesos__pb_unpack_arena): for calls whose handler keeps no piece of the
 * message (it copies what it keeps). */
ProtobufCMessage *mesos__decode_call_arena(mesos__http_request *req,
                                          const ProtobufCMessageDescriptor *desc,
                                          const char *what);

#endif
