#include "base/units.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "base/error.h"
#include "base/uuid.h"

struct unit {
  const char *name;
  uint64_t scale;
};

/* Longest names first where one is a prefix of another is not needed: the
 * whole suffix must match exactly. */
static const struct unit duration_units[] = {
  {"ns", 1},
  {"us", UINT64_C(1000)},
  {"ms", UINT64_C(1000000)},
  {"secs", UINT64_C(1000000000)},
  {"mins", UINT64_C(60000000000)},
  {"hrs", UINT64_C(3600000000000)},
  {"days", UINT64_C(86400000000000)},
  {"weeks", UINT64_C(604800000000000)},
};

static const struct unit byte_units[] = {
  {"B", 1},
  {"KB", UINT64_C(1) << 10},
  {"MB", UINT64_C(1) << 20},
  {"GB", UINT64_C(1) << 30},
  {"TB", UINT64_C(1) << 40},
};

#define NUNITS(a) (sizeof(a) / sizeof((a)[0]))

/* Splits "<number><unit>" at the first character that cannot be part of a
 * number. */
static const char *unit_suffix(const char *s) {
  const char *p = s;
  while (*p && (strchr("0123456789.+-eE", *p) != NULL)) {
    /* 'e' only counts as exponent if followed by digit/sign */
    if ((*p == 'e' || *p == 'E') && !(p[1] >= '0' && p[1] <= '9') && p[1] != '-' &&
        p[1] != '+')
      break;
    p++;
  }
  return p;
}

mesos_status mesos__parse_duration(const char *s, uint64_t *ns, mesos_error **err) {
  if (s == NULL || *s == '\0') return mesos__err(err, MESOS_EINVAL, "empty duration");
  const char *suffix = unit_suffix(s);
  if (suffix == s) return mesos__err(err, MESOS_EINVAL, "duration '%s': no number", s);
  for (size_t i = 0; i < NUNITS(duration_units); i++) {
    if (strcmp(suffix, duration_units[i].name) != 0) continue;
    char num[64];
    size_t n = (size_t)(suffix - s);
    if (n >= sizeof num) return mesos__err(err, MESOS_EINVAL, "duration '%s': too long", s);
    memcpy(num, s, n);
    num[n] = '\0';
    double v;
    if (mesos__parse_double(num, &v, "duration", NULL) != MESOS_OK || v < 0 || !isfinite(v))
      return mesos__err(err, MESOS_EINVAL, "duration '%s': bad number '%s'", s, num);
    double total = v * (double)duration_units[i].scale;
    if (total >= 18446744073709551615.0)
      return mesos__err(err, MESOS_EINVAL, "duration '%s': too large", s);
    *ns = (uint64_t)llround(total);
    return MESOS_OK;
  }
  return mesos__err(err, MESOS_EINVAL,
                    "duration '%s': unknown unit (use ns, us, ms, secs, mins, hrs, days, weeks)",
                    s);
}

void mesos__format_duration(uint64_t ns, char *out, size_t cap) {
  size_t i = NUNITS(duration_units);
  while (i > 1 && ns < duration_units[i - 1].scale) i--;
  const struct unit *u = &duration_units[i - 1];
  if (ns % u->scale == 0) {
    snprintf(out, cap, "%llu%s", (unsigned long long)(ns / u->scale), u->name);
  } else {
    /* Not whole in this unit: print with up to 9 significant decimals and
     * strip trailing zeros, as "1.5secs". */
    char num[64];
    snprintf(num, sizeof num, "%.9f", (double)ns / (double)u->scale);
    char *dot = strchr(num, '.');
    if (dot) {
      char *end = num + strlen(num) - 1;
      while (end > dot && *end == '0') *end-- = '\0';
      if (end == dot) *end = '\0';
    }
    snprintf(out, cap, "%s%s", num, u->name);
  }
}

mesos_status mesos__parse_bytes(const char *s, uint64_t *bytes, mesos_error **err) {
  if (s == NULL || *s == '\0') return mesos__err(err, MESOS_EINVAL, "empty byte size");
  const char *suffix = unit_suffix(s);
  if (suffix == s) return mesos__err(err, MESOS_EINVAL, "byte size '%s': no number", s);
  for (size_t i = 0; i < NUNITS(byte_units); i++) {
    if (strcmp(suffix, byte_units[i].name) != 0) continue;
    char num[64];
    size_t n = (size_t)(suffix - s);
    if (n >= sizeof num) return mesos__err(err, MESOS_EINVAL, "byte size '%s': too long", s);
    memcpy(num, s, n);
    num[n] = '\0';
    uint64_t v;
    if (mesos__parse_uint64(num, &v, "byte size", NULL) != MESOS_OK)
      return mesos__err(err, MESOS_EINVAL, "byte size '%s': bad number '%s'", s, num);
    if (__builtin_mul_overflow(v, byte_units[i].scale, bytes))
      return mesos__err(err, MESOS_EINVAL, "byte size '%s': too large", s);
    return MESOS_OK;
  }
  return mesos__err(err, MESOS_EINVAL, "byte size '%s': unknown unit (use B, KB, MB, GB, TB)",
                    s);
}

void mesos__format_bytes(uint64_t bytes, char *out, size_t cap) {
  size_t i = NUNITS(byte_units);
  while (i > 1 && (bytes == 0 || bytes % byte_units[i - 1].scale != 0)) i--;
  snprintf(out, cap, "%llu%s", (unsigned long long)(bytes / byte_units[i - 1].scale),
           byte_units[i - 1].name);
}

mesos_status mesos__parse_int64(const char *s, int64_t *out, const char *what,
                                mesos_error **err) {
  if (s == NULL || *s == '\0') return mesos__err(err, MESOS_EINVAL, "%s: empty", what);
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || *end != '\0' || end == s)
    return mesos__err(err, MESOS_EINVAL, "%s: '%s' is not an integer", what, s);
  *out = (int64_t)v;
  return MESOS_OK;
}

mesos_status mesos__parse_uint64(const char *s, uint64_t *out, const char *what,
                                 mesos_error **err) {
  if (s == NULL || *s == '\0') return mesos__err(err, MESOS_EINVAL, "%s: empty", what);
  if (s[0] == '-' || s[0] == '+' || s[0] == ' ')
    return mesos__err(err, MESOS_EINVAL, "%s: '%s' is not a non-negative integer", what, s);
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || end == s)
    return mesos__err(err, MESOS_EINVAL, "%s: '%s' is not a non-negative integer", what, s);
  *out = (uint64_t)v;
  return MESOS_OK;
}

mesos_status mesos__parse_double(const char *s, double *out, const char *what,
                                 mesos_error **err) {
  if (s == NULL || *s == '\0') return mesos__err(err, MESOS_EINVAL, "%s: empty", what);
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || *end != '\0' || end == s || !isfinite(v))
    return mesos__err(err, MESOS_EINVAL, "%s: '%s' is not a number", what, s);
  *out = v;
  return MESOS_OK;
}

double mesos__wall_seconds(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

uint64_t mesos__backoff_draw(uint64_t *ceiling_ms, uint64_t max_ms) {
  uint8_t rnd[16];
  uint64_t x = 0;
  if (mesos__uuid_random(rnd) == MESOS_OK) memcpy(&x, rnd, sizeof x);
  uint64_t b = *ceiling_ms;
  uint64_t delay = b == UINT64_MAX ? x : x % (b + 1);
  *ceiling_ms = b > max_ms / 2 ? max_ms : b * 2;
  return delay;
}
