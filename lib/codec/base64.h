/* Base64 as Mesos uses it for `bytes` fields in JSON: standard alphabet
 * with '=' padding on output; lenient on input (see mesos__base64_decode). */
#ifndef MESOS_CODEC_BASE64_H
#define MESOS_CODEC_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes needed to encode `n` bytes (no NUL); false when it overflows. */
bool mesos__base64_encoded_len(size_t n, size_t *out);

/* Encodes `n` bytes into `out`, which holds mesos__base64_encoded_len(n)
 * bytes.  Returns the number written. */
size_t mesos__base64_encode(const uint8_t *in, size_t n, char *out);

/* Decodes `n` characters into `out` (at least n * 3 / 4 + 3 bytes), storing
 * the decoded length in *out_len.  Follows Mesos: decoding stops at the
 * first '=', whitespace is skipped, missing padding is accepted.  Returns
 * false for any other character outside A-Za-z0-9+/ or a dangling single
 * character (6 bits cannot make a byte); *bad_at then holds its offset. */
bool mesos__base64_decode(const char *in, size_t n, uint8_t *out, size_t *out_len,
                          size_t *bad_at);

#endif
