/*
 * Header lists, reason phrases and token matching shared by the HTTP server
 * and client.
 *
 * Header lists are small (a request rarely carries more than 20 fields), so
 * lookups are linear scans with case-insensitive compares: a hash would cost
 * more to build than the scans it saves.
 */
#include "http/http.h"

#include <string.h>
#include <strings.h>

#include "base/alloc.h"

/* A list never grows past this many fields: a peer cannot make us keep an
 * unbounded array, and no legitimate message comes close. */
#define HTTP_HEADERS_MAX 1024

void mesos__http_headers_init(mesos__http_headers *h) {
  h->items = NULL;
  h->count = 0;
  h->cap = 0;
}

void mesos__http_headers_free(mesos__http_headers *h) {
  if (h == NULL) return;
  for (size_t i = 0; i < h->count; i++) {
    mesos__free(h->items[i].name);
    mesos__free(h->items[i].value);
  }
  mesos__free(h->items);
  mesos__http_headers_init(h);
}

static mesos_status headers_grow(mesos__http_headers *h) {
  if (h->count < h->cap) return MESOS_OK;
  if (h->cap >= HTTP_HEADERS_MAX) return MESOS_ELIMIT;
  size_t cap = h->cap ? h->cap * 2 : 8;
  if (cap > HTTP_HEADERS_MAX) cap = HTTP_HEADERS_MAX;
  size_t bytes;
  if (!mesos__size_mul(&bytes, cap, sizeof *h->items)) return MESOS_ENOMEM;
  mesos__http_header *n = mesos__realloc(h->items, bytes);
  if (n == NULL) return MESOS_ENOMEM;
  h->items = n;
  h->cap = cap;
  return MESOS_OK;
}

mesos_status mesos__http_headers_add(mesos__http_headers *h, const char *name, size_t name_len,
                                     const char *value, size_t value_len) {
  mesos_status st = headers_grow(h);
  if (st != MESOS_OK) return st;
  char *n = mesos__strndup(name, name_len);
  char *v = mesos__strndup(value, value_len);
  if (n == NULL || v == NULL) {
    mesos__free(n);
    mesos__free(v);
    return MESOS_ENOMEM;
  }
  h->items[h->count].name = n;
  h->items[h->count].value = v;
  h->count++;
  return MESOS_OK;
}

mesos_status mesos__http_headers_set(mesos__http_headers *h, const char *name,
                                     const char *value) {
  size_t out = 0;
  int replaced = 0;
  /* Keep the first occurrence's position (so the order the caller chose
   * survives) and drop the others. */
  for (size_t i = 0; i < h->count; i++) {
    if (strcasecmp(h->items[i].name, name) == 0) {
      if (replaced) {
        mesos__free(h->items[i].name);
        mesos__free(h->items[i].value);
        continue;
      }
      char *v = mesos__strdup(value);
      if (v == NULL) return MESOS_ENOMEM;
      mesos__free(h->items[i].value);
      h->items[i].value = v;
      replaced = 1;
    }
    h->items[out++] = h->items[i];
  }
  h->count = out;
  if (replaced) return MESOS_OK;
  return mesos__http_headers_add(h, name, strlen(name), value, strlen(value));
}

const char *mesos__http_headers_get(const mesos__http_headers *h, const char *name) {
  if (h == NULL) return NULL;
  for (size_t i = 0; i < h->count; i++)
    if (strcasecmp(h->items[i].name, name) == 0) return h->items[i].value;
  return NULL;
}

mesos_status mesos__http_headers_copy(mesos__http_headers *dst, const mesos__http_headers *src) {
  if (src == NULL) return MESOS_OK;
  for (size_t i = 0; i < src->count; i++) {
    mesos_status st =
        mesos__http_headers_add(dst, src->items[i].name, strlen(src->items[i].name),
                                src->items[i].value, strlen(src->items[i].value));
    if (st != MESOS_OK) return st;
  }
  return MESOS_OK;
}

const char *mesos__http_status_text(int status) {
  switch (status) {
  case 100: return "Continue";
  case 101: return "Switching Protocols";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 206: return "Partial Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 406: return "Not Acceptable";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 411: return "Length Required";
  case 413: return "Payload Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 416: return "Range Not Satisfiable";
  case 417: return "Expectation Failed";
  case 422: return "Unprocessable Entity";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  default: return "Unknown";
  }
}

static int is_ows(char c) { return c == ' ' || c == '\t'; }

int mesos__http_has_token(const char *value, const char *token) {
  if (value == NULL || token == NULL) return 0;
  size_t tlen = strlen(token);
  const char *p = value;
  while (*p) {
    while (*p == ',' || is_ows(*p)) p++;
    const char *start = p;
    while (*p && *p != ',') p++;
    const char *end = p;
    while (end > start && is_ows(end[-1])) end--;
    if ((size_t)(end - start) == tlen && tlen > 0 && strncasecmp(start, token, tlen) == 0)
      return 1;
  }
  return 0;
}
