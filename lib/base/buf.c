#include "base/buf.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"

void mesos__buf_init(mesos__buf *b, size_t max) {
  b->data = NULL;
  b->len = b->cap = 0;
  b->max = max;
}

void mesos__buf_free(mesos__buf *b) {
  mesos__free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void mesos__buf_clear(mesos__buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

mesos_status mesos__buf_reserve(mesos__buf *b, size_t extra) {
  size_t need;
  /* need + 1 (the NUL) must fit too: with max == SIZE_MAX it could wrap. */
  if (!mesos__size_add(&need, b->len, extra) || need > b->max || need == SIZE_MAX)
    return MESOS_ELIMIT;
  if (need + 1 <= b->cap) return MESOS_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need + 1) {
    if (cap > SIZE_MAX / 2) { cap = need + 1; break; }
    cap *= 2;
  }
  char *d = mesos__realloc(b->data, cap);
  if (d == NULL) return MESOS_ENOMEM;
  b->data = d;
  b->cap = cap;
  return MESOS_OK;
}

mesos_status mesos__buf_append(mesos__buf *b, const void *p, size_t n) {
  mesos_status s = mesos__buf_reserve(b, n);
  if (s != MESOS_OK) return s;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return MESOS_OK;
}

mesos_status mesos__buf_puts(mesos__buf *b, const char *s) {
  return mesos__buf_append(b, s, strlen(s));
}

mesos_status mesos__buf_putc(mesos__buf *b, char c) { return mesos__buf_append(b, &c, 1); }

mesos_status mesos__buf_vprintf(mesos__buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) return MESOS_EINVAL;
  mesos_status s = mesos__buf_reserve(b, (size_t)n);
  if (s != MESOS_OK) return s;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return MESOS_OK;
}

mesos_status mesos__buf_printf(mesos__buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mesos_status s = mesos__buf_vprintf(b, fmt, ap);
  va_end(ap);
  return s;
}

void mesos__buf_consume(mesos__buf *b, size_t n) {
  if (n >= b->len) {
    mesos__buf_clear(b);
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
  b->data[b->len] = '\0';
}

char *mesos__buf_detach(mesos__buf *b, size_t *len) {
  char *d = b->data;
  if (len) *len = b->len;
  if (d == NULL) d = mesos__strdup("");
  b->data = NULL;
  b->len = b->cap = 0;
  return d;
}
