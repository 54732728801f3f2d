#include "base/build_info.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* __DATE__ is "Mmm dd yyyy" (day padded with a space), __TIME__ "hh:mm:ss";
 * both are fixed-width, so they are read by position, not scanned. */
static void parse(struct tm *tm) {
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  static const char d[] = __DATE__, t[] = __TIME__;
  memset(tm, 0, sizeof *tm);
  for (int i = 0; i < 12; i++)
    if (memcmp(d, months + 3 * i, 3) == 0) tm->tm_mon = i;
  tm->tm_mday = (d[4] == ' ' ? 0 : d[4] - '0') * 10 + (d[5] - '0');
  tm->tm_year = (d[7] - '0') * 1000 + (d[8] - '0') * 100 + (d[9] - '0') * 10 + (d[10] - '0') - 1900;
  tm->tm_hour = (t[0] - '0') * 10 + (t[1] - '0');
  tm->tm_min = (t[3] - '0') * 10 + (t[4] - '0');
  tm->tm_sec = (t[6] - '0') * 10 + (t[7] - '0');
}

const char *mesos__build_date(char *buf, size_t cap) {
  struct tm tm;
  parse(&tm);
  snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

double mesos__build_time(void) {
  struct tm tm;
  parse(&tm);
  return (double)timegm(&tm);
}
