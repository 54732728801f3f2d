#include "codec/base64.h"

static const char enc_tab[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63: digit value; 64: skip (whitespace); 65: stop ('='); 66: invalid. */
static const uint8_t dec_tab[256] = {
#define I 66
    I,  I,  I,  I,  I,  I,  I,  I,  I,  64, 64, 64, 64, 64, I,  I,  /* 0x00 */
    I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  /* 0x10 */
    64, I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  62, I,  I,  I,  63, /* 0x20 */
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, I,  I,  I,  65, I,  I,  /* 0x30 */
    I,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, /* 0x40 */
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, I,  I,  I,  I,  I,  /* 0x50 */
    I,  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, /* 0x60 */
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, I,  I,  I,  I,  I,  /* 0x70 */
    I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,
    I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,
    I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,
    I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,
    I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,
    I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,
    I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,
    I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,  I,
#undef I
};

bool mesos__base64_encoded_len(size_t n, size_t *out) {
  size_t groups = n / 3 + (n % 3 != 0);
  if (groups > SIZE_MAX / 4) return false;
  *out = groups * 4;
  return true;
}

size_t mesos__base64_encode(const uint8_t *in, size_t n, char *out) {
  char *o = out;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    o[0] = enc_tab[v >> 18];
    o[1] = enc_tab[(v >> 12) & 63];
    o[2] = enc_tab[(v >> 6) & 63];
    o[3] = enc_tab[v & 63];
    o += 4;
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)in[i] << 16;
    o[0] = enc_tab[v >> 18];
    o[1] = enc_tab[(v >> 12) & 63];
    o[2] = o[3] = '=';
    o += 4;
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
    o[0] = enc_tab[v >> 18];
    o[1] = enc_tab[(v >> 12) & 63];
    o[2] = enc_tab[(v >> 6) & 63];
    o[3] = '=';
    o += 4;
  }
  return (size_t)(o - out);
}

bool mesos__base64_decode(const char *in, size_t n, uint8_t *out, size_t *out_len,
                          size_t *bad_at) {
  uint32_t acc = 0;
  unsigned bits = 0;
  size_t w = 0, last = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t d = dec_tab[(uint8_t)in[i]];
    if (d < 64) {
      acc = acc << 6 | d;
      bits += 6;
      last = i;
      if (bits >= 8) {
        bits -= 8;
        out[w++] = (uint8_t)(acc >> bits);
        acc &= (1u << bits) - 1;
      }
    } else if (d == 64) {
      continue;
    } else if (d == 65) {
      break;
    } else {
      *bad_at = i;
      return false;
    }
  }
  /* A group of one character leaves 6 bits: no byte can come from it. */
  if (bits == 6) {
    *bad_at = last;
    return false;
  }
  *out_len = w;
  return true;
}
