/* RecordIO framing of Mesos streams (spec/http-api.md 1.6):
 *
 *   record = length "\n" payload     length: decimal ASCII, never 0
 *
 * The decoder is incremental and zero-copy where it can be: records that
 * lie wholly inside the chunk fed last are returned as pointers into it;
 * only a record split across chunks is assembled in the decoder's own
 * buffer, which never grows past the maximum record size. */
#ifndef MESOS_CODEC_RECORDIO_H
#define MESOS_CODEC_RECORDIO_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "mesos/error.h"

/* Default maximum record: 4 MiB, the cap common Mesos clients apply. */
#define MESOS__RECORDIO_MAX_RECORD ((size_t)4 << 20)

/* Longest length prefix we accept, in digits (UINT64_MAX has 20). */
#define MESOS__RECORDIO_MAX_DIGITS 20

typedef struct mesos__recordio_decoder {
  size_t max_record;
  /* The chunk being consumed (borrowed from the caller until next()
   * returns MESOS_EAGAIN). */
  const uint8_t *chunk;
  size_t chunk_len, chunk_pos;
  /* Header parsing state. */
  uint64_t want;     /* length parsed so far / payload length */
  unsigned digits;   /* digits of the length seen so far */
  bool in_payload;
  /* A payload split across chunks is assembled here. */
  mesos__buf partial;
  bool release_partial; /* the last record returned lives in `partial` */
  /* Sticky failure: once the framing is lost, nothing after it can be
   * trusted, so every later call fails with the same status. */
  mesos_status failed;
  char failed_msg[160];
} mesos__recordio_decoder;

/* max_record 0 means MESOS__RECORDIO_MAX_RECORD. */
void mesos__recordio_decoder_init(mesos__recordio_decoder *d, size_t max_record);
void mesos__recordio_decoder_free(mesos__recordio_decoder *d);

/* Hands the decoder the next chunk of the stream (borrowed: it must stay
 * valid until mesos__recordio_decoder_next returns MESOS_EAGAIN or an
 * error).  MESOS_EBUSY if the previous chunk has not been drained yet. */
mesos_status mesos__recordio_decoder_feed(mesos__recordio_decoder *d, const void *data,
                                          size_t len, mesos_error **err);

/* The next complete record: MESOS_OK with *rec / *len (borrowed, valid
 * until the next call on the decoder or until the chunk is released),
 * MESOS_EAGAIN when more input is needed (the chunk is then fully consumed
 * and released), or MESOS_EPROTO for a bad length prefix (non-digit, empty,
 * zero) / MESOS_ELIMIT for a record above the maximum; those failures are
 * sticky. */
mesos_status mesos__recordio_decoder_next(mesos__recordio_decoder *d, const uint8_t **rec,
                                          size_t *len, mesos_error **err);

/* True when the decoder is between records (no partial header or
 * payload): a stream that ends here ended cleanly. */
bool mesos__recordio_decoder_idle(const mesos__recordio_decoder *d);

/* Writes the header for a `len`-byte record into `out` (>= 22 bytes);
 * returns its length. */
size_t mesos__recordio_header(uint64_t len, char *out);

/* Appends one framed record to `b` (bounded by b->max: MESOS_ELIMIT).
 * Empty records are refused (MESOS_EINVAL): the format has no zero length. */
mesos_status mesos__recordio_append(mesos__buf *b, const void *data, size_t len,
                                    mesos_error **err);

#endif
