#include "base/uuid.h"

#include <errno.h>
#include <sys/random.h>

mesos_status mesos__uuid_random(uint8_t out[16]) {
  size_t got = 0;
  while (got < 16) {
    ssize_t n = getrandom(out + got, 16 - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return MESOS_EIO;
    }
    got += (size_t)n;
  }
  out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);
  out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
  return MESOS_OK;
}

void mesos__uuid_format(const uint8_t u[16], char out[MESOS__UUID_STR_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[u[i] >> 4];
    out[o++] = hex[u[i] & 15];
  }
  out[o] = '\0';
}

mesos_status mesos__uuid_random_str(char out[MESOS__UUID_STR_LEN + 1]) {
  uint8_t u[16];
  mesos_status st = mesos__uuid_random(u);
  if (st == MESOS_OK) mesos__uuid_format(u, out);
  return st;
}
