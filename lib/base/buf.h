/* Growable byte buffer with a mandatory maximum (every growable buffer in the
 * library has one, so hostile input cannot grow memory without bound). */
#ifndef MESOS_BASE_BUF_H
#define MESOS_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "mesos/common.h"

typedef struct mesos__buf {
  char *data;  /* NUL-terminated when len > 0 or after any append */
  size_t len;
  size_t cap;
  size_t max;  /* largest len allowed; appends beyond it fail with ELIMIT */
} mesos__buf;

#define MESOS__BUF_INIT(maxlen) {NULL, 0, 0, (maxlen)}

void mesos__buf_init(mesos__buf *b, size_t max);
void mesos__buf_free(mesos__buf *b);       /* releases memory; buffer reusable */
void mesos__buf_clear(mesos__buf *b);      /* len = 0, keeps memory */
/* Ensures room for `extra` more bytes (plus NUL). ELIMIT / ENOMEM. */
mesos_status mesos__buf_reserve(mesos__buf *b, size_t extra);
mesos_status mesos__buf_append(mesos__buf *b, const void *p, size_t n);
mesos_status mesos__buf_puts(mesos__buf *b, const char *s);
mesos_status mesos__buf_putc(mesos__buf *b, char c);
mesos_status mesos__buf_printf(mesos__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
mesos_status mesos__buf_vprintf(mesos__buf *b, const char *fmt, va_list ap);
/* Drops the first n bytes. */
void mesos__buf_consume(mesos__buf *b, size_t n);
/* Hands the data to the caller (free with mesos__free); buffer becomes empty. */
char *mesos__buf_detach(mesos__buf *b, size_t *len);

#endif
