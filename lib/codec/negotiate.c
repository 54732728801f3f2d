#include "codec/negotiate.h"

#include <protobuf-c/protobuf-c.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "codec/json.h"
#include "codec/pb.h"

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

/* Trims optional whitespace on both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n) {
  while (*n > 0 && is_ows(**s)) (*s)++, (*n)--;
  while (*n > 0 && is_ows((*s)[*n - 1])) (*n)--;
}

static bool token_eq(const char *s, size_t n, const char *lit) {
  return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

mesos__media mesos__media_parse(const char *s, size_t len) {
  if (s == NULL) return MESOS__MEDIA_NONE;
  const char *semi = memchr(s, ';', len);
  size_t n = semi ? (size_t)(semi - s) : len;
  trim(&s, &n);
  if (token_eq(s, n, MESOS__MEDIA_TYPE_JSON)) return MESOS__MEDIA_JSON;
  if (token_eq(s, n, MESOS__MEDIA_TYPE_PROTOBUF)) return MESOS__MEDIA_PROTOBUF;
  if (token_eq(s, n, MESOS__MEDIA_TYPE_RECORDIO)) return MESOS__MEDIA_RECORDIO;
  return MESOS__MEDIA_NONE;
}

const char *mesos__media_name(mesos__media m) {
  switch (m) {
    case MESOS__MEDIA_JSON: return MESOS__MEDIA_TYPE_JSON;
    case MESOS__MEDIA_PROTOBUF: return MESOS__MEDIA_TYPE_PROTOBUF;
    case MESOS__MEDIA_RECORDIO: return MESOS__MEDIA_TYPE_RECORDIO;
    default: return NULL;
  }
}

/* True when a q parameter value means 0 ("0", "0.", "0.000"). */
static bool q_is_zero(const char *v, size_t n) {
  trim(&v, &n);
  if (n == 0 || v[0] != '0') return false;
  size_t i = 1;
  if (i < n && v[i] == '.') i++;
  for (; i < n; i++)
    if (v[i] != '0') return false;
  return true;
}

bool mesos__accepts(const char *accept, const char *media_type) {
  if (accept == NULL) return true;
  const char *slash = strchr(media_type, '/');
  size_t type_len = slash ? (size_t)(slash - media_type) : strlen(media_type);
  int best = 0; /* specificity: 3 type/subtype, 2 type/any, 1 any/any */
  bool best_ok = false;
  const char *p = accept;
  while (*p) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    const char *entry = p;
    p = end ? end + 1 : p + n;
    const char *semi = memchr(entry, ';', n);
    const char *range = entry;
    size_t rn = semi ? (size_t)(semi - entry) : n;
    trim(&range, &rn);
    int spec = 0;
    if (token_eq(range, rn, media_type))
      spec = 3;
    else if (rn == type_len + 2 && strncasecmp(range, media_type, type_len) == 0 &&
             range[type_len] == '/' && range[type_len + 1] == '*')
      spec = 2;
    else if (token_eq(range, rn, "*/*"))
      spec = 1;
    if (spec <= best) continue; /* the first of equally specific ranges decides */
    bool ok = true;
    /* Parameters: only q matters. */
    const char *q = semi;
    while (q != NULL && q < entry + n) {
      const char *param = q + 1;
      const char *next = memchr(param, ';', (size_t)(entry + n - param));
      size_t pn = next ? (size_t)(next - param) : (size_t)(entry + n - param);
      trim(&param, &pn);
      if (pn >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=')
        ok = !q_is_zero(param + 2, pn - 2);
      q = next;
    }
    best = spec;
    best_ok = ok;
  }
  return best > 0 && best_ok;
}

static void refuse(mesos__negotiated *out, int status, const char *msg) {
  out->message = MESOS__MEDIA_NONE;
  out->streaming = false;
  out->http_status = status;
  out->error = msg;
}

void mesos__negotiate_request(const char *content_type, const char *message_content_type,
                              bool allow_streaming, mesos__negotiated *out) {
  memset(out, 0, sizeof *out);
  if (content_type == NULL)
    return refuse(out, 400, "Expecting 'Content-Type' to be present");
  mesos__media m = mesos__media_parse(content_type, strlen(content_type));
  if (m == MESOS__MEDIA_RECORDIO && allow_streaming) {
    if (message_content_type == NULL)
      return refuse(out, 400,
                    "Expecting 'Message-Content-Type' header to be present for a streaming "
                    "request");
    mesos__media mm = mesos__media_parse(message_content_type, strlen(message_content_type));
    if (mm != MESOS__MEDIA_JSON && mm != MESOS__MEDIA_PROTOBUF)
      return refuse(out, 415,
                    "Expecting 'Message-Content-Type' of application/json or "
                    "application/x-protobuf");
    out->message = mm;
    out->streaming = true;
    return;
  }
  if (m != MESOS__MEDIA_JSON && m != MESOS__MEDIA_PROTOBUF)
    return refuse(out, 415,
                  allow_streaming
                      ? "Expecting 'Content-Type' of application/json or "
                        "application/x-protobuf or application/recordio"
                      : "Expecting 'Content-Type' of application/json or "
                        "application/x-protobuf");
  if (message_content_type != NULL)
    return refuse(out, 415,
                  "Expecting 'Message-Content-Type' to be not set for non-streaming requests");
  out->message = m;
}

void mesos__negotiate_response(const char *accept, const char *message_accept,
                               bool streaming_call, mesos__negotiated *out) {
  memset(out, 0, sizeof *out);
  if (streaming_call && accept != NULL && mesos__accepts(accept, MESOS__MEDIA_TYPE_RECORDIO)) {
    /* Message-Accept picks the records' encoding; absent means JSON. */
    if (mesos__accepts(message_accept, MESOS__MEDIA_TYPE_JSON))
      out->message = MESOS__MEDIA_JSON;
    else if (mesos__accepts(message_accept, MESOS__MEDIA_TYPE_PROTOBUF))
      out->message = MESOS__MEDIA_PROTOBUF;
    else
      return refuse(out, 406,
                    "Expecting 'Message-Accept' to allow application/json or "
                    "application/x-protobuf");
    out->streaming = true;
    return;
  }
  if (message_accept != NULL)
    return refuse(out, 406,
                  "Expecting 'Message-Accept' to not be set for non-streaming responses");
  /* JSON first, whatever the q-values say: that is Mesos' order. */
  if (mesos__accepts(accept, MESOS__MEDIA_TYPE_JSON))
    out->message = MESOS__MEDIA_JSON;
  else if (mesos__accepts(accept, MESOS__MEDIA_TYPE_PROTOBUF))
    out->message = MESOS__MEDIA_PROTOBUF;
  else
    refuse(out, 406,
           "Expecting 'Accept' to allow application/json or application/x-protobuf");
}

void mesos__decode_body(const char *content_type, const char *body, size_t len,
                        const ProtobufCMessageDescriptor *desc, const char *what,
                        ProtobufCMessage **out, int *http_status, char *text, size_t cap) {
  mesos__decode_body_arena(content_type, body, len, desc, what, false, out, http_status, text,
                           cap);
}

void mesos__decode_body_arena(const char *content_type, const char *body, size_t len,
                              const ProtobufCMessageDescriptor *desc, const char *what,
                              bool arena, ProtobufCMessage **out, int *http_status, char *text,
                              size_t cap) {
  *out = NULL;
  *http_status = 0;
  mesos__negotiated neg;
  mesos__negotiate_request(content_type, NULL, false, &neg);
  if (neg.http_status) {
    *http_status = neg.http_status;
    snprintf(text, cap, "%s", neg.error);
    return;
  }
  mesos_error *err = NULL;
  mesos_status st = neg.message == MESOS__MEDIA_PROTOBUF
                        ? (arena ? mesos__pb_unpack_arena : mesos__pb_unpack)(
                              desc, (const uint8_t *)body, len, 0, 0, out, &err)
                        : mesos__json_decode(desc, body, len, NULL, out, &err);
  if (st != MESOS_OK) {
    *out = NULL;
    *http_status = 400;
    snprintf(text, cap, "Failed to parse body into %s: %s", what,
             err ? mesos_error_message(err) : mesos_status_str(st));
  }
  mesos_error_free(err);
}
