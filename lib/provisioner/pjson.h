/* A small JSON document tree for the image formats (docker manifest.json,
 * repositories, v1 layer json, docker/OCI image config, OCI index and
 * manifest).  Those are not protobuf messages, so the reflective codec in
 * lib/codec/ does not apply.
 *
 * The parser is iterative with an explicit, bounded stack: image files are
 * untrusted input and a deeply nested document must fail with ELIMIT, not
 * overflow the C stack.  Numbers keep their text; strings are decoded
 * (escapes, \u surrogate pairs) and may contain NUL bytes (slen tells). */
#ifndef MESOS_PROVISIONER_PJSON_H
#define MESOS_PROVISIONER_PJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesos/error.h"

/* Image documents nest a handful of levels; 64 leaves room and bounds the
 * parser stack and the (recursive) free below it. */
#define MESOS__PJ_MAX_DEPTH 64
/* Largest document we parse: image configs with long histories reach a few
 * hundred KiB; 16 MiB is far beyond any real one. */
#define MESOS__PJ_MAX_INPUT ((size_t)16 << 20)

typedef enum {
  MESOS__PJ_NULL,
  MESOS__PJ_BOOL,
  MESOS__PJ_NUM,
  MESOS__PJ_STR,
  MESOS__PJ_ARR,
  MESOS__PJ_OBJ
} mesos__pj_kind;

typedef struct mesos__pj {
  mesos__pj_kind kind;
  bool b;
  char *s;     /* STR: decoded text (NUL-terminated); NUM: the number's text */
  size_t slen;
  struct mesos__pj **items; /* ARR, OBJ: values */
  char **keys;              /* OBJ: keys, parallel to items */
  size_t n, cap;
} mesos__pj;

/* Parses one JSON value (surrounding whitespace allowed, nothing else).
 * EINVAL with the byte offset on bad syntax, ELIMIT beyond the limits
 * above, ENOMEM.  *out is set only on success. */
mesos_status mesos__pj_parse(const char *text, size_t len, mesos__pj **out, mesos_error **err);
void mesos__pj_free(mesos__pj *v);

/* Member `key` of an object (the last one when a key repeats, as most JSON
 * readers do), or NULL when absent or `obj` is not an object. */
const mesos__pj *mesos__pj_get(const mesos__pj *obj, const char *key);
/* Like mesos__pj_get, but keys compare case-insensitively (Docker's Go
 * decoder matches struct fields that way: "config" and "Config"). */
const mesos__pj *mesos__pj_iget(const mesos__pj *obj, const char *key);
/* The string of a STR value without embedded NULs, else NULL. */
const char *mesos__pj_str(const mesos__pj *v);
/* An integral NUM value that fits int64; false otherwise. */
bool mesos__pj_int(const mesos__pj *v, int64_t *out);

#endif
