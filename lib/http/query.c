#include "http/query.h"

#include <string.h>

#include "base/alloc.h"
#include "base/error.h"

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

mesos_status mesos__query_get(const char *query, const char *name, size_t max, char **out,
                              mesos_error **err) {
  if (query == NULL || name == NULL || out == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos__query_get: NULL argument");
  size_t nlen = strlen(name);
  const char *p = query;
  while (*p) {
    size_t plen = strcspn(p, "&");
    size_t klen = strcspn(p, "=&");
    if (klen == nlen && memcmp(p, name, nlen) == 0) {
      const char *v = p + klen;
      size_t vlen = 0;
      if (*v == '=') {
        v++;
        vlen = plen - klen - 1;
      }
      /* Decoding only shrinks, so vlen + 1 bytes always suffice. */
      char *s = mesos__malloc(vlen + 1);
      if (s == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
      size_t o = 0;
      for (size_t i = 0; i < vlen; i++) {
        char c = v[i];
        if (c == '+') {
          c = ' ';
        } else if (c == '%') {
          int hi = i + 2 < vlen ? hexval(v[i + 1]) : -1;
          int lo = i + 2 < vlen ? hexval(v[i + 2]) : -1;
          if (hi < 0 || lo < 0) {
            mesos__free(s);
            return mesos__err(err, MESOS_EINVAL, "'%s': bad percent escape", name);
          }
          c = (char)(hi * 16 + lo);
          if (c == '\0') {
            mesos__free(s);
            return mesos__err(err, MESOS_EINVAL, "'%s' must not contain a NUL byte", name);
          }
          i += 2;
        }
        s[o++] = c;
      }
      s[o] = '\0';
      if (o > max) {
        mesos__free(s);
        return mesos__err(err, MESOS_ELIMIT, "'%s' is longer than %zu bytes", name, max);
      }
      *out = s;
      return MESOS_OK;
    }
    p += plen;
    if (*p == '&') p++;
  }
  return MESOS_ENOTFOUND;
}
