/*
 * Fuzz target for the incremental RecordIO decoder (lib/codec/recordio.c).
 * The first byte chooses the chunk size (1..32) the rest is fed in, and the
 * maximum record size (small, so the limit is reached).
 *
 * Checked: no crash or sanitizer report; the records and the final status
 * are the same whether the stream arrives in one piece or in chunks; every
 * record is non-empty and within the maximum; re-framing the records is no
 * longer than the input; nothing leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "codec/recordio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, what)                                \
  do {                                                   \
    if (!(cond)) {                                       \
      fprintf(stderr, "fuzz check failed: %s\n", what);  \
      abort();                                           \
    }                                                    \
  } while (0)

/* Decodes `data` in chunks of `chunk` bytes; appends each record, framed,
 * to `out`; returns the final status (EAGAIN: ran out of input). */
static mesos_status run(const uint8_t *data, size_t size, size_t chunk, size_t max,
                        mesos__buf *out) {
  mesos__recordio_decoder d;
  mesos__recordio_decoder_init(&d, max);
  mesos_status s = MESOS_EAGAIN;
  for (size_t pos = 0; pos < size && s == MESOS_EAGAIN; pos += chunk) {
    size_t len = size - pos < chunk ? size - pos : chunk;
    CHECK(mesos__recordio_decoder_feed(&d, data + pos, len, NULL) == MESOS_OK, "feed");
    const uint8_t *rec;
    size_t rl;
    while ((s = mesos__recordio_decoder_next(&d, &rec, &rl, NULL)) == MESOS_OK) {
      CHECK(rl > 0 && rl <= max, "record size");
      CHECK(mesos__recordio_append(out, rec, rl, NULL) == MESOS_OK, "append");
    }
  }
  mesos__recordio_decoder_free(&d);
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = 1 + (data[0] & 31), max = 1 + (size_t)(data[0] >> 5) * 40;
  data++;
  size--;
  int64_t live = mesos__alloc_live();
  mesos__buf whole = MESOS__BUF_INIT((size_t)16 << 20), pieces = MESOS__BUF_INIT((size_t)16 << 20);
  mesos_status a = run(data, size, size ? size : 1, max, &whole);
  mesos_status b = run(data, size, chunk, max, &pieces);
  CHECK(a == b, "status depends on chunking");
  CHECK(whole.len == pieces.len && (whole.len == 0 || memcmp(whole.data, pieces.data, whole.len) == 0),
        "records depend on chunking");
  /* Re-framing cannot make the records longer than the input they came
   * from (it is shorter only where a length had leading zeros). */
  CHECK(whole.len <= size, "re-framed records longer than the input");
  mesos__buf_free(&whole);
  mesos__buf_free(&pieces);
  CHECK(mesos__alloc_live() == live, "leak");
  return 0;
}
