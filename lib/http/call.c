/* The request side of mesos__decode_body (codec/negotiate.h): the media
 * rules and error texts live there, once; this only reads the request and
 * answers it when the body is refused. */
#include "http/call.h"

#include "codec/negotiate.h"

static ProtobufCMessage *decode(mesos__http_request *req, const ProtobufCMessageDescriptor *desc,
                                const char *what, bool arena) {
  size_t len = 0;
  const char *body = mesos__http_request_body(req, &len);
  ProtobufCMessage *msg = NULL;
  int status = 0;
  char text[1024];
  mesos__decode_body_arena(mesos__http_request_header(req, "Content-Type"), body, len, desc, what,
                           arena, &msg, &status, text, sizeof text);
  if (msg == NULL) mesos__http_respond_text(req, status, text);
  return msg;
}

ProtobufCMessage *mesos__decode_call(mesos__http_request *req,
                                    const ProtobufCMessageDescriptor *desc, const char *what) {
  return decode(req, desc, what, false);
}

ProtobufCMessage *mesos__decode_call_arena(mesos__http_request *req,
                                          const ProtobufCMessageDescriptor *desc,
                                          const char *what) {
  return decode(req, desc, what, true);
}
