/*
 * Types shared by the HTTP/1.1 server (server.h) and client (client.h).
 */
#ifndef MESOS_HTTP_HTTP_H
#define MESOS_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "mesos/common.h"

/* One header field.  Both strings are NUL-terminated and owned by the
 * message that holds them. */
typedef struct mesos__http_header {
  char *name;
  char *value;
} mesos__http_header;

/* An ordered header list (duplicates kept, in arrival order). */
typedef struct mesos__http_headers {
  mesos__http_header *items;
  size_t count;
  size_t cap;
} mesos__http_headers;

void mesos__http_headers_init(mesos__http_headers *h);
void mesos__http_headers_free(mesos__http_headers *h);
/* Appends a copy of name/value.  MESOS_ENOMEM. */
mesos_status mesos__http_headers_add(mesos__http_headers *h, const char *name, size_t name_len,
                                     const char *value, size_t value_len);
/* Replaces every field called `name` by one with `value` (or adds it). */
mesos_status mesos__http_headers_set(mesos__http_headers *h, const char *name,
                                     const char *value);
/* The first value of `name` (case-insensitive), borrowed, or NULL. */
const char *mesos__http_headers_get(const mesos__http_headers *h, const char *name);
/* Copies every field of `src` onto the end of `dst`. */
mesos_status mesos__http_headers_copy(mesos__http_headers *dst, const mesos__http_headers *src);

/* The reason phrase for a status code ("OK", "Not Found"), "Unknown" else. */
const char *mesos__http_status_text(int status);

/* True if the comma-separated header value contains `token`
 * (case-insensitive), e.g. Connection: keep-alive, Upgrade. */
int mesos__http_has_token(const char *value, const char *token);

#endif
