/*
 * URL parsing for the HTTP client (RFC 3986, restricted to http and https).
 *
 * The parser works on a length-checked copy of the input and never recurses.
 * Every string a mesos__url holds is derived from the validated pieces, so
 * what goes on the request line and into the Host header can hold no space,
 * CR, LF or NUL: a URL cannot smuggle a second header or request.
 */
#include "http/url.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"

/* Longest host name: DNS allows 253 characters in text form. */
#define URL_HOST_MAX 253

/* How much of a bad URL an error message quotes; the rest is cut so a huge
 * hostile Location header cannot make a huge log line. */
#define URL_QUOTE_MAX 200

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* Characters of a DNS name or IPv4 literal (RFC 3986 reg-name without
 * percent escapes and sub-delims, which no resolver accepts anyway). */
static int is_host_char(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
}

void mesos__url_free(mesos__url *u) {
  if (u == NULL) return;
  mesos__free(u->host);
  mesos__free(u->target);
  mesos__free(u->href);
  mesos__free(u->authority);
  mesos__free(u->host_header);
  memset(u, 0, sizeof *u);
}

/* Checks that every byte may appear in a URL we send: printable ASCII only,
 * and every '%' starts a two-digit hex escape. */
static mesos_status check_bytes(const char *url, size_t len, const char *what,
                                mesos_error **err) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)url[i];
    if (c <= 0x20 || c >= 0x7f)
      return mesos__err(err, MESOS_EINVAL,
                        "%s '%.*s': byte 0x%02x at offset %zu is not allowed "
                        "(spaces, control and non-ASCII bytes must be percent-encoded)",
                        what, URL_QUOTE_MAX, url, c, i);
    if (c == '%' && (i + 2 >= len || !is_hex(url[i + 1]) || !is_hex(url[i + 2])))
      return mesos__err(err, MESOS_EINVAL,
                        "%s '%.*s': '%%' at offset %zu is not followed by two hex digits",
                        what, URL_QUOTE_MAX, url, i);
  }
  return MESOS_OK;
}

/* Builds href, authority and host_header from the parsed pieces. */
static mesos_status url_finish(mesos__url *u) {
  const char *lb = u->is_ipv6 ? "[" : "", *rb = u->is_ipv6 ? "]" : "";
  int default_port = u->port == (u->tls ? 443 : 80);
  mesos__buf b = MESOS__BUF_INIT(MESOS__URL_MAX * 2);
  mesos_status st = mesos__buf_printf(&b, "%s%s%s:%u", lb, u->host, rb, (unsigned)u->port);
  if (st != MESOS_OK) goto fail;
  u->authority = mesos__buf_detach(&b, NULL);
  if (default_port) st = mesos__buf_printf(&b, "%s%s%s", lb, u->host, rb);
  else st = mesos__buf_printf(&b, "%s", u->authority);
  if (st != MESOS_OK) goto fail;
  u->host_header = mesos__buf_detach(&b, NULL);
  st = mesos__buf_printf(&b, "%s://%s%s", u->tls ? "https" : "http", u->host_header, u->target);
  if (st != MESOS_OK) goto fail;
  u->href = mesos__buf_detach(&b, NULL);
  if (u->authority && u->host_header && u->href) return MESOS_OK;
  st = MESOS_ENOMEM;
fail:
  mesos__buf_free(&b);
  return st;
}

mesos_status mesos__url_parse(mesos__url *out, const char *url, mesos_error **err) {
  memset(out, 0, sizeof *out);
  if (url == NULL) return mesos__err(err, MESOS_EINVAL, "URL is NULL");
  size_t len = strnlen(url, MESOS__URL_MAX + 1);
  if (len > MESOS__URL_MAX)
    return mesos__err(err, MESOS_EINVAL, "URL '%.*s...' is longer than %d bytes",
                      URL_QUOTE_MAX, url, MESOS__URL_MAX);
  if (len == 0) return mesos__err(err, MESOS_EINVAL, "URL is empty");
  mesos_status st = check_bytes(url, len, "URL", err);
  if (st != MESOS_OK) return st;

  /* scheme "://" */
  const char *p = url, *end = url + len;
  const char *sep = strstr(url, "://");
  size_t slen = sep ? (size_t)(sep - url) : 0;
  if (sep && slen == 4 && strncasecmp(url, "http", 4) == 0) {
    out->tls = 0;
  } else if (sep && slen == 5 && strncasecmp(url, "https", 5) == 0) {
    out->tls = 1;
  } else {
    int has_scheme = sep != NULL && slen > 0 && is_alpha(url[0]);
    for (size_t i = 0; has_scheme && i < slen; i++)
      if (!is_alpha(url[i]) && !is_digit(url[i]) && url[i] != '+' && url[i] != '-' &&
          url[i] != '.')
        has_scheme = 0;
    if (has_scheme)
      return mesos__err(err, MESOS_EINVAL, "URL '%.*s': scheme '%.*s' is not supported "
                        "(only http and https)", URL_QUOTE_MAX, url, (int)slen, url);
    return mesos__err(err, MESOS_EINVAL, "URL '%.*s': expected http:// or https:// at the start",
                      URL_QUOTE_MAX, url);
  }
  p = sep + 3;

  /* authority: up to the first '/', '?' or '#' */
  const char *auth = p;
  while (p < end && *p != '/' && *p != '?' && *p != '#') p++;
  const char *auth_end = p;
  if (memchr(auth, '@', (size_t)(auth_end - auth)))
    return mesos__err(err, MESOS_EINVAL, "URL '%.*s': credentials in URLs are not supported "
                      "(send an Authorization header instead)", URL_QUOTE_MAX, url);
  const char *host, *host_end, *port_str = NULL;
  if (auth < auth_end && *auth == '[') {
    const char *rb = memchr(auth, ']', (size_t)(auth_end - auth));
    if (rb == NULL)
      return mesos__err(err, MESOS_EINVAL, "URL '%.*s': '[' without ']' in the host",
                        URL_QUOTE_MAX, url);
    host = auth + 1;
    host_end = rb;
    if (rb + 1 < auth_end) {
      if (rb[1] != ':')
        return mesos__err(err, MESOS_EINVAL, "URL '%.*s': unexpected text after ']'",
                          URL_QUOTE_MAX, url);
      port_str = rb + 2;
    }
    char v6[INET6_ADDRSTRLEN + 1];
    struct in6_addr a6;
    size_t hl = (size_t)(host_end - host);
    if (hl == 0 || hl >= sizeof v6)
      return mesos__err(err, MESOS_EINVAL, "URL '%.*s': bad IPv6 address", URL_QUOTE_MAX, url);
    memcpy(v6, host, hl);
    v6[hl] = '\0';
    if (inet_pton(AF_INET6, v6, &a6) != 1)
      return mesos__err(err, MESOS_EINVAL, "URL '%.*s': '%s' is not an IPv6 address",
                        URL_QUOTE_MAX, url, v6);
    out->is_ipv6 = 1;
  } else {
    host = auth;
    const char *colon = memchr(auth, ':', (size_t)(auth_end - auth));
    host_end = colon ? colon : auth_end;
    if (colon) port_str = colon + 1;
    for (const char *h = host; h < host_end; h++)
      if (!is_host_char(*h))
        return mesos__err(err, MESOS_EINVAL, "URL '%.*s': character '%c' is not allowed in "
                          "a host name", URL_QUOTE_MAX, url, *h);
  }
  if (host_end == host)
    return mesos__err(err, MESOS_EINVAL, "URL '%.*s': missing host", URL_QUOTE_MAX, url);
  if ((size_t)(host_end - host) > URL_HOST_MAX)
    return mesos__err(err, MESOS_EINVAL, "URL '%.*s': host name longer than %d characters",
                      URL_QUOTE_MAX, url, URL_HOST_MAX);
  out->port = out->tls ? 443 : 80;
  if (port_str && port_str < auth_end) { /* "host:" alone means the default */
    unsigned long port = 0;
    for (const char *q = port_str; q < auth_end; q++) {
      if (!is_digit(*q) || port > 65535)
        return mesos__err(err, MESOS_EINVAL, "URL '%.*s': bad port '%.*s'", URL_QUOTE_MAX, url,
                          (int)(auth_end - port_str), port_str);
      port = port * 10 + (unsigned long)(*q - '0');
    }
    if (port == 0 || port > 65535)
      return mesos__err(err, MESOS_EINVAL, "URL '%.*s': port %lu is out of range (1-65535)",
                        URL_QUOTE_MAX, url, port);
    out->port = (uint16_t)port;
  }

  /* path and query up to '#'; the fragment is never sent */
  const char *target = auth_end;
  const char *hash = memchr(target, '#', (size_t)(end - target));
  const char *target_end = hash ? hash : end;
  size_t tlen = (size_t)(target_end - target);
  int need_slash = tlen == 0 || *target == '?';
  size_t total;
  if (!mesos__size_add(&total, tlen, 2)) return MESOS_ENOMEM;
  out->host = mesos__strndup(host, (size_t)(host_end - host));
  out->target = mesos__malloc(total);
  if (out->host == NULL || out->target == NULL) {
    mesos__url_free(out);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  for (char *h = out->host; *h; h++) *h = lower(*h);
  size_t off = 0;
  if (need_slash) out->target[off++] = '/';
  memcpy(out->target + off, target, tlen);
  out->target[off + tlen] = '\0';
  if (url_finish(out) != MESOS_OK) {
    mesos__url_free(out);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  return MESOS_OK;
}

mesos_status mesos__url_copy(mesos__url *out, const mesos__url *src) {
  memset(out, 0, sizeof *out);
  out->tls = src->tls;
  out->port = src->port;
  out->is_ipv6 = src->is_ipv6;
  out->host = mesos__strdup(src->host);
  out->target = mesos__strdup(src->target);
  out->href = mesos__strdup(src->href);
  out->authority = mesos__strdup(src->authority);
  out->host_header = mesos__strdup(src->host_header);
  if (!out->host || !out->target || !out->href || !out->authority || !out->host_header) {
    mesos__url_free(out);
    return MESOS_ENOMEM;
  }
  return MESOS_OK;
}

int mesos__url_same_origin(const mesos__url *a, const mesos__url *b) {
  return a->tls == b->tls && a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* Appends path `p` (starting with '/') to `out` with "." and ".."
 * segments removed (RFC 3986 section 5.2.4), in one pass: ".." drops the
 * last segment already written, so no stack is needed. */
static mesos_status remove_dot_segments(mesos__buf *out, const char *p, size_t n) {
  size_t i = 0;
  mesos_status st = MESOS_OK;
  while (i < n && st == MESOS_OK) {
    size_t j = i + 1;
    while (j < n && p[j] != '/') j++;
    const char *seg = p + i + 1;
    size_t sl = j - i - 1;
    int last = j >= n;
    if (sl == 1 && seg[0] == '.') {
      if (last) st = mesos__buf_putc(out, '/');
    } else if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
      while (out->len > 0 && out->data[out->len - 1] != '/') out->len--;
      if (out->len > 0) out->len--;
      if (out->data) out->data[out->len] = '\0';
      if (last) st = mesos__buf_putc(out, '/');
    } else {
      st = mesos__buf_putc(out, '/');
      if (st == MESOS_OK) st = mesos__buf_append(out, seg, sl);
    }
    i = j;
  }
  if (st == MESOS_OK && out->len == 0) st = mesos__buf_putc(out, '/');
  return st;
}

/* True when `ref` starts with "scheme:" (RFC 3986 section 3.1), i.e. it is
 * an absolute URL and not a path that happens to hold a ':'. */
static int has_scheme(const char *ref) {
  if (!is_alpha(ref[0])) return 0;
  for (const char *p = ref + 1; *p; p++) {
    if (*p == ':') return 1;
    if (!is_alpha(*p) && !is_digit(*p) && *p != '+' && *p != '-' && *p != '.') return 0;
  }
  return 0;
}

mesos_status mesos__url_resolve(mesos__url *out, const mesos__url *base, const char *ref,
                                mesos_error **err) {
  memset(out, 0, sizeof *out);
  if (ref == NULL || ref[0] == '\0')
    return mesos__err(err, MESOS_EINVAL, "Location is empty");
  size_t len = strnlen(ref, MESOS__URL_MAX + 1);
  if (len > MESOS__URL_MAX)
    return mesos__err(err, MESOS_EINVAL, "Location '%.*s...' is longer than %d bytes",
                      URL_QUOTE_MAX, ref, MESOS__URL_MAX);
  mesos_status st = check_bytes(ref, len, "Location", err);
  if (st != MESOS_OK) return st;
  if (has_scheme(ref)) return mesos__url_parse(out, ref, err);

  mesos__buf b = MESOS__BUF_INIT(MESOS__URL_MAX);
  if (ref[0] == '/' && ref[1] == '/') {
    /* network-path reference: keep only the scheme */
    st = mesos__buf_printf(&b, "%s:%s", base->tls ? "https" : "http", ref);
  } else {
    const char *hash = strchr(ref, '#');
    size_t rlen = hash ? (size_t)(hash - ref) : len;
    const char *q = memchr(ref, '?', rlen);
    size_t path_len = q ? (size_t)(q - ref) : rlen;
    const char *bq = strchr(base->target, '?');
    size_t base_path_len = bq ? (size_t)(bq - base->target) : strlen(base->target);
    st = mesos__buf_printf(&b, "%s://%s", base->tls ? "https" : "http", base->host_header);
    if (st == MESOS_OK) {
      mesos__buf path = MESOS__BUF_INIT(MESOS__URL_MAX);
      if (path_len == 0) {
        /* "" or "?query": the base path */
        st = mesos__buf_append(&path, base->target, base_path_len);
      } else if (ref[0] == '/') {
        st = mesos__buf_append(&path, ref, path_len);
      } else {
        /* merge: the base path up to its last '/', then the reference */
        const char *slash = base->target;
        for (size_t i = 0; i < base_path_len; i++)
          if (base->target[i] == '/') slash = base->target + i;
        st = mesos__buf_append(&path, base->target, (size_t)(slash - base->target) + 1);
        if (st == MESOS_OK) st = mesos__buf_append(&path, ref, path_len);
      }
      /* Dot removal gets its own buffer: ".." must never eat into the
       * scheme and host already written to `b`. */
      mesos__buf clean = MESOS__BUF_INIT(MESOS__URL_MAX);
      if (st == MESOS_OK) st = remove_dot_segments(&clean, path.data, path.len);
      if (st == MESOS_OK) st = mesos__buf_append(&b, clean.data, clean.len);
      mesos__buf_free(&clean);
      mesos__buf_free(&path);
    }
    if (st == MESOS_OK) {
      if (q) st = mesos__buf_append(&b, q, rlen - path_len);
      else if (path_len == 0 && bq) st = mesos__buf_puts(&b, bq);
    }
  }
  if (st != MESOS_OK) {
    mesos__buf_free(&b);
    if (st == MESOS_ELIMIT)
      return mesos__err(err, MESOS_EINVAL, "Location '%.*s' resolves to a URL longer than %d "
                        "bytes", URL_QUOTE_MAX, ref, MESOS__URL_MAX);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  st = mesos__url_parse(out, b.data, err);
  mesos__buf_free(&b);
  return st;
}
