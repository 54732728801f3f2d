/* Layer input stream: file range -> (gzip) -> bytes, hashed both ways. */
#include "provisioner/zin.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <mbedtls/sha256.h>

#include "base/alloc.h"
#include "base/error.h"

/* Read size of the raw file: large enough that syscalls do not dominate
 * first-time extraction, small enough for many concurrent extractions. */
#define ZIN_RAW_CHUNK (256 * 1024)

/* Decompression and hashing run on a thread of their own, a few chunks
 * ahead of the reader: the reader (the tar extractor) spends its time in
 * file-creating syscalls, so on two cores the two halves overlap, as
 * `tar -xz` overlaps tar and gzip. */
#define ZQ_SLOTS 4
#define ZQ_CHUNK (256 * 1024)

typedef struct {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  unsigned char *buf[ZQ_SLOTS];
  size_t len[ZQ_SLOTS];
  unsigned head, tail, count;
  size_t pos; /* consumer's offset in buf[head] */
  bool done, stop;
  mesos_status st;
  mesos_error *err;
} zqueue;

struct mesos__zin {
  int fd;
  uint64_t off, left;      /* next raw offset, raw bytes left in the range */
  uint64_t max_out, plain_bytes, raw_bytes;
  mesos__zin_format fmt;
  bool hash_raw, hash_plain, owns_fd, bounded, raw_eof, end, z_live, z_done;
  z_stream zs;
  unsigned char *raw;
  size_t raw_len, raw_pos; /* unconsumed raw bytes: raw[raw_pos .. raw_len) */
  zqueue *q;               /* the read-ahead thread, once reading started */
  mbedtls_sha256_context h_raw, h_plain;
};

static void hex32(const unsigned char d[32], char hex[65]) {
  static const char x[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    hex[2 * i] = x[d[i] >> 4];
    hex[2 * i + 1] = x[d[i] & 15];
  }
  hex[64] = '\0';
}

void mesos__sha256_hex(const void *p, size_t n, char hex[65]) {
  unsigned char d[32];
  mbedtls_sha256_ret(p, n, d, 0);
  hex32(d, hex);
}

/* Refills raw[] when it is empty; sets raw_eof at the end of the range. */
static mesos_status fill(mesos__zin *z, mesos_error **err) {
  if (z->raw_pos < z->raw_len || z->raw_eof) return MESOS_OK;
  size_t want = ZIN_RAW_CHUNK;
  if (z->left < want) want = (size_t)z->left;
  if (want == 0) {
    z->raw_eof = true;
    z->raw_len = z->raw_pos = 0;
    return MESOS_OK;
  }
  ssize_t n;
  do {
    n = pread(z->fd, z->raw, want, (off_t)z->off);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return mesos__err_errno(err, MESOS_EIO, errno, "reading layer");
  if (n == 0) {
    if (z->bounded)
      return mesos__err(err, MESOS_EPROTO, "layer file is shorter than its declared size");
    z->raw_eof = true;
    z->raw_len = z->raw_pos = 0;
    return MESOS_OK;
  }
  z->off += (uint64_t)n;
  if (z->bounded) z->left -= (uint64_t)n;
  z->raw_len = (size_t)n;
  z->raw_pos = 0;
  z->raw_bytes += (uint64_t)n;
  if (z->hash_raw) mbedtls_sha256_update_ret(&z->h_raw, z->raw, (size_t)n);
  return MESOS_OK;
}

mesos_status mesos__zin_open(int fd, uint64_t offset, uint64_t length, uint64_t max_out,
                             mesos__zin **out, mesos_error **err) {
  mesos__zin *z = MESOS__NEW(mesos__zin);
  if (z == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  z->raw = mesos__malloc(ZIN_RAW_CHUNK);
  if (z->raw == NULL) {
    mesos__free(z);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  z->fd = fd;
  z->off = offset;
  /* "To end of file" is kept as a huge count so the arithmetic is one path. */
  z->hash_raw = z->hash_plain = true;
  z->bounded = length != UINT64_MAX;
  z->left = length;
  z->max_out = max_out;
  mbedtls_sha256_init(&z->h_raw);
  mbedtls_sha256_init(&z->h_plain);
  mbedtls_sha256_starts_ret(&z->h_raw, 0);
  mbedtls_sha256_starts_ret(&z->h_plain, 0);
  mesos_status st = fill(z, err);
  if (st != MESOS_OK) goto fail;
  const unsigned char *r = z->raw;
  size_t n = z->raw_len;
  if (n >= 2 && r[0] == 0x1f && r[1] == 0x8b) {
    z->fmt = MESOS__ZIN_GZIP;
    /* 16 + MAX_WBITS: gzip wrapper only. */
    if (inflateInit2(&z->zs, 16 + MAX_WBITS) != Z_OK) {
      st = mesos__err(err, MESOS_ENOMEM, "zlib: inflateInit2 failed");
      goto fail;
    }
    z->z_live = true;
  } else if (n >= 4 && r[0] == 0x28 && r[1] == 0xb5 && r[2] == 0x2f && r[3] == 0xfd) {
    st = mesos__err(err, MESOS_EUNSUPPORTED, "zstd-compressed layers are not supported");
    goto fail;
  } else if (n >= 3 && r[0] == 'B' && r[1] == 'Z' && r[2] == 'h') {
    st = mesos__err(err, MESOS_EUNSUPPORTED, "bzip2-compressed layers are not supported");
    goto fail;
  } else if (n >= 6 && memcmp(r, "\xfd" "7zXZ", 5) == 0) {
    st = mesos__err(err, MESOS_EUNSUPPORTED, "xz-compressed layers are not supported");
    goto fail;
  } else {
    z->fmt = MESOS__ZIN_PLAIN;
  }
  *out = z;
  return MESOS_OK;
fail:
  mesos__zin_free(z);
  return st;
}

static void zq_stop(mesos__zin *z) {
  zqueue *q = z->q;
  if (q == NULL) return;
  pthread_mutex_lock(&q->mu);
  q->stop = true;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
  pthread_join(q->th, NULL);
  for (int i = 0; i < ZQ_SLOTS; i++) mesos__free(q->buf[i]);
  mesos_error_free(q->err);
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->cv);
  mesos__free(q);
  z->q = NULL;
}

void mesos__zin_free(mesos__zin *z) {
  if (z == NULL) return;
  zq_stop(z);
  if (z->z_live) inflateEnd(&z->zs);
  if (z->owns_fd) close(z->fd);
  mbedtls_sha256_free(&z->h_raw);
  mbedtls_sha256_free(&z->h_plain);
  mesos__free(z->raw);
  mesos__free(z);
}

void mesos__zin_hash(mesos__zin *z, bool raw, bool plain) {
  /* The first raw chunk was hashed by open; turning raw hashing off only
   * makes that digest meaningless, which the caller said it does not use. */
  z->hash_raw = raw;
  z->hash_plain = plain;
}

void mesos__zin_set_owned_fd(mesos__zin *z) { z->owns_fd = true; }

mesos__zin_format mesos__zin_format_of(const mesos__zin *z) { return z->fmt; }

static mesos_status account(mesos__zin *z, const void *buf, size_t n, mesos_error **err) {
  z->plain_bytes += n;
  if (z->plain_bytes > z->max_out)
    return mesos__err(err, MESOS_ELIMIT, "layer expands to more than %llu bytes",
                      (unsigned long long)z->max_out);
  if (z->hash_plain) mbedtls_sha256_update_ret(&z->h_plain, buf, n);
  return MESOS_OK;
}

static mesos_status zin_read_direct(mesos__zin *z, void *buf, size_t cap, size_t *got,
                                    mesos_error **err) {
  *got = 0;
  if (z->end || cap == 0) return MESOS_OK;
  mesos_status st;
  if (z->fmt == MESOS__ZIN_PLAIN) {
    if ((st = fill(z, err)) != MESOS_OK) return st;
    if (z->raw_eof) {
      z->end = true;
      return MESOS_OK;
    }
    size_t n = z->raw_len - z->raw_pos;
    if (n > cap) n = cap;
    memcpy(buf, z->raw + z->raw_pos, n);
    z->raw_pos += n;
    *got = n;
    return account(z, buf, n, err);
  }
  /* gzip: possibly several members back to back (RFC 1952 allows it and
   * pigz writes them). */
  for (;;) {
    if ((st = fill(z, err)) != MESOS_OK) return st;
    if (z->z_done) {
      if (z->raw_eof) {
        z->end = true;
        return MESOS_OK;
      }
      /* Another member follows: it must be gzip too. */
      if (z->raw[z->raw_pos] != 0x1f)
        return mesos__err(err, MESOS_EPROTO, "corrupt gzip stream: garbage after the end");
      inflateReset(&z->zs);
      z->z_done = false;
    }
    if (z->raw_eof)
      return mesos__err(err, MESOS_EPROTO, "corrupt gzip stream: truncated");
    z->zs.next_in = z->raw + z->raw_pos;
    z->zs.avail_in = (uInt)(z->raw_len - z->raw_pos);
    z->zs.next_out = buf;
    z->zs.avail_out = cap > (1u << 30) ? (1u << 30) : (uInt)cap;
    uInt avail_before = z->zs.avail_out;
    int zr = inflate(&z->zs, Z_NO_FLUSH);
    z->raw_pos = z->raw_len - z->zs.avail_in;
    size_t n = avail_before - z->zs.avail_out;
    if (zr == Z_STREAM_END) {
      z->z_done = true;
    } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
      return mesos__err(err, MESOS_EPROTO, "corrupt gzip stream: %s",
                        z->zs.msg != NULL ? z->zs.msg : "inflate failed");
    }
    if (n > 0) {
      *got = n;
      return account(z, buf, n, err);
    }
  }
}

mesos_status mesos__zin_drain(mesos__zin *z, mesos_error **err) {
  unsigned char tmp[16384];
  size_t got;
  do {
    mesos_status st = mesos__zin_read(z, tmp, sizeof tmp, &got, err);
    if (st != MESOS_OK) return st;
  } while (got > 0);
  return MESOS_OK;
}

void mesos__zin_raw_digest(mesos__zin *z, char hex[65]) {
  unsigned char d[32];
  mbedtls_sha256_context c;
  mbedtls_sha256_init(&c);
  mbedtls_sha256_clone(&c, &z->h_raw);
  mbedtls_sha256_finish_ret(&c, d);
  mbedtls_sha256_free(&c);
  hex32(d, hex);
}

void mesos__zin_plain_digest(mesos__zin *z, char hex[65]) {
  unsigned char d[32];
  mbedtls_sha256_context c;
  mbedtls_sha256_init(&c);
  mbedtls_sha256_clone(&c, &z->h_plain);
  mbedtls_sha256_finish_ret(&c, d);
  mbedtls_sha256_free(&c);
  hex32(d, hex);
}

uint64_t mesos__zin_plain_bytes(const mesos__zin *z) { return z->plain_bytes; }
uint64_t mesos__zin_raw_bytes(const mesos__zin *z) { return z->raw_bytes; }

static void *zq_main(void *arg) {
  mesos__zin *z = arg;
  zqueue *q = z->q;
  pthread_mutex_lock(&q->mu);
  for (;;) {
    while (q->count == ZQ_SLOTS && !q->stop) pthread_cond_wait(&q->cv, &q->mu);
    if (q->stop) break;
    unsigned slot = q->tail;
    pthread_mutex_unlock(&q->mu);
    /* Fill the slot fully (the tar reader wants big pieces). */
    size_t have = 0, got = 0;
    mesos_error *e = NULL;
    mesos_status st = MESOS_OK;
    do {
      st = zin_read_direct(z, q->buf[slot] + have, ZQ_CHUNK - have, &got, &e);
      have += got;
    } while (st == MESOS_OK && got > 0 && have < ZQ_CHUNK);
    pthread_mutex_lock(&q->mu);
    if (have > 0) {
      q->len[slot] = have;
      q->tail = (q->tail + 1) % ZQ_SLOTS;
      q->count++;
    }
    if (st != MESOS_OK || got == 0) {
      q->st = st;
      q->err = e;
      q->done = true;
      pthread_cond_broadcast(&q->cv);
      break;
    }
    pthread_cond_broadcast(&q->cv);
  }
  pthread_mutex_unlock(&q->mu);
  return NULL;
}

static mesos_status zq_start(mesos__zin *z, mesos_error **err) {
  zqueue *q = MESOS__NEW(zqueue);
  if (q == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  for (int i = 0; i < ZQ_SLOTS; i++) {
    if ((q->buf[i] = mesos__malloc(ZQ_CHUNK)) == NULL) {
      for (int k = 0; k < i; k++) mesos__free(q->buf[k]);
      mesos__free(q);
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
    }
  }
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->cv, NULL);
  z->q = q;
  int r = pthread_create(&q->th, NULL, zq_main, z);
  if (r != 0) {
    for (int i = 0; i < ZQ_SLOTS; i++) mesos__free(q->buf[i]);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    mesos__free(q);
    z->q = NULL;
    return mesos__err_errno(err, MESOS_EIO, r, "starting the decompression thread");
  }
  return MESOS_OK;
}

mesos_status mesos__zin_read(mesos__zin *z, void *buf, size_t cap, size_t *got, mesos_error **err) {
  *got = 0;
  if (cap == 0) return MESOS_OK;
  mesos_status st;
  if (z->q == NULL && (st = zq_start(z, err)) != MESOS_OK) return st;
  zqueue *q = z->q;
  pthread_mutex_lock(&q->mu);
  while (q->count == 0 && !q->done) pthread_cond_wait(&q->cv, &q->mu);
  if (q->count == 0) {
    st = q->st;
    if (st != MESOS_OK)
      mesos__err(err, st, "%s", q->err ? mesos_error_message(q->err) : mesos_status_name(st));
    pthread_mutex_unlock(&q->mu);
    return st;
  }
  size_t n = q->len[q->head] - q->pos;
  if (n > cap) n = cap;
  memcpy(buf, q->buf[q->head] + q->pos, n);
  q->pos += n;
  if (q->pos == q->len[q->head]) {
    q->pos = 0;
    q->head = (q->head + 1) % ZQ_SLOTS;
    q->count--;
    pthread_cond_broadcast(&q->cv);
  }
  pthread_mutex_unlock(&q->mu);
  *got = n;
  return MESOS_OK;
}
