#include "codec/recordio.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"

void mesos__recordio_decoder_init(mesos__recordio_decoder *d, size_t max_record) {
  memset(d, 0, sizeof *d);
  d->max_record = max_record ? max_record : MESOS__RECORDIO_MAX_RECORD;
  /* The assembly buffer holds at most one payload. */
  mesos__buf_init(&d->partial, d->max_record);
}

void mesos__recordio_decoder_free(mesos__recordio_decoder *d) {
  mesos__buf_free(&d->partial);
  d->chunk = NULL;
  d->chunk_len = d->chunk_pos = 0;
}

bool mesos__recordio_decoder_idle(const mesos__recordio_decoder *d) {
  return d->failed == MESOS_OK && !d->in_payload && d->digits == 0 &&
         d->chunk_pos == d->chunk_len;
}

static mesos_status fail(mesos__recordio_decoder *d, mesos_status code, mesos_error **err,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static mesos_status fail(mesos__recordio_decoder *d, mesos_status code, mesos_error **err,
                         const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->failed_msg, sizeof d->failed_msg, fmt, ap);
  va_end(ap);
  d->failed = code;
  d->chunk = NULL;
  d->chunk_len = d->chunk_pos = 0;
  mesos__buf_free(&d->partial);
  return mesos__err(err, code, "recordio: %s", d->failed_msg);
}

mesos_status mesos__recordio_decoder_feed(mesos__recordio_decoder *d, const void *data,
                                          size_t len, mesos_error **err) {
  if (d->failed != MESOS_OK)
    return mesos__err(err, d->failed, "recordio: stream failed earlier: %s", d->failed_msg);
  if (d->chunk_pos < d->chunk_len)
    return mesos__err(err, MESOS_EBUSY, "recordio: previous chunk not drained yet");
  if (len > 0 && data == NULL) return mesos__err(err, MESOS_EINVAL, "recordio: no data");
  d->chunk = data;
  d->chunk_len = len;
  d->chunk_pos = 0;
  return MESOS_OK;
}

mesos_status mesos__recordio_decoder_next(mesos__recordio_decoder *d, const uint8_t **rec,
                                          size_t *len, mesos_error **err) {
  if (d->failed != MESOS_OK)
    return mesos__err(err, d->failed, "recordio: stream failed earlier: %s", d->failed_msg);
  if (d->release_partial) {
    mesos__buf_clear(&d->partial);
    d->release_partial = false;
  }
  for (;;) {
    size_t avail = d->chunk_len - d->chunk_pos;
    const uint8_t *p = d->chunk ? d->chunk + d->chunk_pos : NULL;
    if (!d->in_payload) {
      /* The length is checked digit by digit, so an oversize or garbage
       * prefix fails at once instead of after a newline that may never
       * come. */
      size_t i = 0;
      for (; i < avail; i++) {
        uint8_t c = p[i];
        if (c == '\n') break;
        if (c < '0' || c > '9')
          return fail(d, MESOS_EPROTO, err, "invalid length prefix: byte 0x%02x is not a digit",
                      c);
        if (++d->digits > MESOS__RECORDIO_MAX_DIGITS ||
            d->want > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
          return fail(d, MESOS_ELIMIT, err, "record length exceeds the maximum of %zu bytes",
                      d->max_record);
        d->want = d->want * 10 + (uint64_t)(c - '0');
        if (d->want > d->max_record)
          return fail(d, MESOS_ELIMIT, err,
                      "record length %llu exceeds the maximum of %zu bytes",
                      (unsigned long long)d->want, d->max_record);
      }
      d->chunk_pos += i;
      if (i == avail) {
        d->chunk = NULL;
        d->chunk_len = d->chunk_pos = 0;
        return MESOS_EAGAIN;
      }
      d->chunk_pos++; /* the '\n' */
      if (d->digits == 0) return fail(d, MESOS_EPROTO, err, "empty length prefix");
      if (d->want == 0) return fail(d, MESOS_EPROTO, err, "zero-length record");
      d->in_payload = true;
      continue;
    }
    size_t need = (size_t)d->want;
    if (d->partial.len == 0 && avail >= need) {
      /* The whole payload is in this chunk: hand it out in place. */
      *rec = p;
      *len = need;
      d->chunk_pos += need;
      d->in_payload = false;
      d->want = 0;
      d->digits = 0;
      return MESOS_OK;
    }
    size_t take = need - d->partial.len;
    if (take > avail) take = avail;
    if (take > 0) {
      mesos_status s = mesos__buf_append(&d->partial, p, take);
      if (s != MESOS_OK) return fail(d, s, err, "cannot buffer a %zu-byte record", need);
      d->chunk_pos += take;
    }
    if (d->partial.len < need) {
      d->chunk = NULL;
      d->chunk_len = d->chunk_pos = 0;
      return MESOS_EAGAIN;
    }
    *rec = (const uint8_t *)d->partial.data;
    *len = need;
    d->release_partial = true;
    d->in_payload = false;
    d->want = 0;
    d->digits = 0;
    return MESOS_OK;
  }
}

size_t mesos__recordio_header(uint64_t len, char *out) {
  char tmp[21];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + len % 10);
    len /= 10;
  } while (len > 0);
  for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  out[n] = '\n';
  return n + 1;
}

mesos_status mesos__recordio_append(mesos__buf *b, const void *data, size_t len,
                                    mesos_error **err) {
  if (len == 0) return mesos__err(err, MESOS_EINVAL, "recordio: records cannot be empty");
  char hdr[24];
  size_t h = mesos__recordio_header(len, hdr);
  size_t total;
  if (!mesos__size_add(&total, h, len))
    return mesos__err(err, MESOS_ELIMIT, "recordio: record too large");
  mesos_status s = mesos__buf_reserve(b, total);
  if (s != MESOS_OK)
    return mesos__err(err, s, s == MESOS_ELIMIT ? "recordio: record exceeds the buffer limit"
                                                : "recordio: out of memory");
  memcpy(b->data + b->len, hdr, h);
  memcpy(b->data + b->len + h, data, len);
  b->len += total;
  b->data[b->len] = '\0';
  return MESOS_OK;
}
