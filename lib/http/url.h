/*
 * http:// and https:// URLs for the HTTP client: parsing, resolving a
 * redirect's Location against the URL it came from, and the pieces a request
 * needs (the Host header value and the request target).
 *
 * Only what an HTTP/1.1 client sends is accepted, and nothing is repaired
 * silently: a URL with a space, a control byte, a byte above 0x7e, user
 * credentials or a bad port is refused with MESOS_EINVAL and a message that
 * names the problem, instead of being "fixed" into a request the caller did
 * not mean.  Percent escapes are kept as they are (never decoded), so the
 * target sent is exactly the one given.
 */
#ifndef MESOS_HTTP_URL_H
#define MESOS_HTTP_URL_H

#include <stdint.h>

#include "mesos/error.h"

/* Longest URL accepted, in bytes.  Servers commonly refuse request lines
 * above 8 KiB; Mesos' own endpoints use short paths. */
#define MESOS__URL_MAX 8192

typedef struct mesos__url {
  int tls;          /* 1 for https */
  char *host;       /* lower-case; an IPv6 literal without brackets */
  uint16_t port;    /* the explicit port, else 80 / 443 */
  int is_ipv6;      /* host is an IPv6 literal */
  char *target;     /* path and query, always starting with '/' */
  /* The whole URL, normalised: scheme and host lower-case, default port
   * dropped, empty path as "/", fragment dropped.  For messages. */
  char *href;
  /* "host:port" / "[v6]:port" always with the port: the connection pool key
   * (with `tls`) and the name errors use for the peer. */
  char *authority;
  /* The Host header value: like `authority`, without a default port. */
  char *host_header;
} mesos__url;

/* Parses an absolute http(s) URL into `out` (which the caller frees with
 * mesos__url_free, also after a failure).
 * MESOS_EINVAL with a message naming the problem; MESOS_ENOMEM. */
mesos_status mesos__url_parse(mesos__url *out, const char *url, mesos_error **err);

/* Resolves `ref` (a redirect's Location: absolute, "//host/path", "/path",
 * "path", "../path" or "?query") against `base` as RFC 3986 section 5.2
 * says, dot segments removed, and parses the result into `out`.
 * MESOS_EINVAL, MESOS_ENOMEM. */
mesos_status mesos__url_resolve(mesos__url *out, const mesos__url *base, const char *ref,
                                mesos_error **err);

/* Copies `src` into `out`.  MESOS_ENOMEM. */
mesos_status mesos__url_copy(mesos__url *out, const mesos__url *src);

/* Frees the strings inside `u` and zeroes it.  NULL is accepted. */
void mesos__url_free(mesos__url *u);

/* True when both URLs reach the same scheme, host and port. */
int mesos__url_same_origin(const mesos__url *a, const mesos__url *b);

#endif
