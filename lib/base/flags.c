#include "base/flags.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/units.h"

/* A file:// flag value larger than this is refused (ACLs and credentials
 * files are kilobytes; this only stops a wrong path such as a disk image). */
#define FLAG_FILE_MAX (16u << 20)

typedef struct flag_value {
  const mesos__flag_def *def;
  char *str;     /* owned string form, or NULL */
  int set;       /* 1 = environment, 2 = command line */
  union {
    bool b;
    int64_t i;
    double d;
    uint64_t u; /* duration ns or bytes */
  } v;
} flag_value;

struct mesos__flags {
  flag_value *values;
  size_t n;
};

static const flag_value *find_value(const mesos__flags *f, const char *name) {
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->values[i].def->name, name) == 0) return &f->values[i];
  return NULL;
}

/* Matches `name` (length len) against a def's name and aliases. */
static bool def_matches(const mesos__flag_def *d, const char *name, size_t len) {
  if (strlen(d->name) == len && strncmp(d->name, name, len) == 0) return true;
  const char *a = d->aliases;
  while (a && *a) {
    const char *comma = strchr(a, ',');
    size_t alen = comma ? (size_t)(comma - a) : strlen(a);
    if (alen == len && strncmp(a, name, len) == 0) return true;
    a = comma ? comma + 1 : NULL;
  }
  return false;
}

static mesos_status read_file_value(const char *path, char **out, const char *flag,
                                    mesos_error **err) {
  FILE *fp = fopen(path, "rb");
  if (fp == NULL)
    return mesos__err(err, MESOS_EINVAL, "--%s: cannot read '%s': %s", flag, path,
                      strerror(errno));
  mesos__buf b = MESOS__BUF_INIT(FLAG_FILE_MAX);
  char chunk[4096];
  size_t n;
  mesos_status st = MESOS_OK;
  while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
    st = mesos__buf_append(&b, chunk, n);
    if (st != MESOS_OK) break;
  }
  int rerr = ferror(fp);
  fclose(fp);
  if (st != MESOS_OK || rerr) {
    mesos__buf_free(&b);
    if (st == MESOS_ELIMIT)
      return mesos__err(err, MESOS_EINVAL, "--%s: '%s' is larger than %u bytes", flag, path,
                        FLAG_FILE_MAX);
    return mesos__err(err, st ? st : MESOS_EIO, "--%s: cannot read '%s'", flag, path);
  }
  *out = mesos__buf_detach(&b, NULL);
  return *out ? MESOS_OK : MESOS_ENOMEM;
}

/* Converts and validates the string form into the typed value.  `raw` is
 * consumed (stored or freed). */
static mesos_status set_value(flag_value *fv, char *raw, int how, mesos_error **err) {
  const mesos__flag_def *d = fv->def;
  mesos_error *e = NULL;
  mesos_status st = MESOS_OK;
  switch (d->type) {
    case MESOS__FLAG_BOOL:
      if (strcmp(raw, "true") == 0 || strcmp(raw, "1") == 0) fv->v.b = true;
      else if (strcmp(raw, "false") == 0 || strcmp(raw, "0") == 0) fv->v.b = false;
      else st = mesos__err(err, MESOS_EINVAL, "--%s: expected true or false, got '%s'",
                           d->name, raw);
      break;
    case MESOS__FLAG_INT:
      st = mesos__parse_int64(raw, &fv->v.i, d->name, &e);
      break;
    case MESOS__FLAG_DOUBLE:
      st = mesos__parse_double(raw, &fv->v.d, d->name, &e);
      break;
    case MESOS__FLAG_DURATION:
      st = mesos__parse_duration(raw, &fv->v.u, &e);
      break;
    case MESOS__FLAG_BYTES:
      st = mesos__parse_bytes(raw, &fv->v.u, &e);
      break;
    case MESOS__FLAG_TEXT:
      if (strncmp(raw, "file://", 7) == 0) {
        char *contents = NULL;
        st = read_file_value(raw + 7, &contents, d->name, err);
        if (st == MESOS_OK) {
          mesos__free(raw);
          raw = contents;
        }
      }
      break;
    case MESOS__FLAG_STRING:
      break;
  }
  if (st == MESOS_OK && d->choices) {
    bool ok = false;
    const char *c = d->choices;
    size_t rlen = strlen(raw);
    while (c && *c && !ok) {
      const char *bar = strchr(c, '|');
      size_t clen = bar ? (size_t)(bar - c) : strlen(c);
      ok = clen == rlen && strncmp(c, raw, clen) == 0;
      c = bar ? bar + 1 : NULL;
    }
    if (!ok)
      st = mesos__err(err, MESOS_EINVAL, "--%s: '%s' is not one of %s", d->name, raw,
                      d->choices);
  }
  if (e) st = mesos__err_wrap(err, st, e, "--%s: %s", d->name, mesos_error_message(e));
  if (st != MESOS_OK) {
    mesos__free(raw);
    return st;
  }
  mesos__free(fv->str);
  fv->str = raw;
  fv->set = how;
  return MESOS_OK;
}

static mesos_status apply(mesos__flags *f, const char *name, size_t len, const char *value,
                          bool negated, int how, mesos_error **err) {
  flag_value *fv = NULL;
  for (size_t i = 0; i < f->n; i++)
    if (def_matches(f->values[i].def, name, len)) fv = &f->values[i];
  if (fv == NULL) {
    if (how == 1) return MESOS_OK; /* unrelated MESOS_* variable */
    return mesos__err(err, MESOS_EINVAL, "unknown flag '--%s%.*s'", negated ? "no-" : "",
                      (int)len, name);
  }
  const mesos__flag_def *d = fv->def;
  if (how == 2 && fv->set == 2)
    return mesos__err(err, MESOS_EINVAL, "flag '--%s' given more than once", d->name);
  if (negated) {
    if (d->type != MESOS__FLAG_BOOL)
      return mesos__err(err, MESOS_EINVAL, "'--no-%s' is only for boolean flags", d->name);
    if (value)
      return mesos__err(err, MESOS_EINVAL, "'--no-%s' takes no value", d->name);
    value = "false";
  }
  if (value == NULL) {
    if (d->type != MESOS__FLAG_BOOL)
      return mesos__err(err, MESOS_EINVAL, "flag '--%s' needs a value (--%s=...)", d->name,
                        d->name);
    value = "true";
  }
  char *raw = mesos__strdup(value);
  if (raw == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  return set_value(fv, raw, how, err);
}

/* MESOS_WORK_DIR -> work_dir */
static mesos_status apply_env(mesos__flags *f, const char *entry, mesos_error **err) {
  if (strncmp(entry, "MESOS_", 6) != 0) return MESOS_OK;
  const char *eq = strchr(entry, '=');
  if (eq == NULL) return MESOS_OK;
  char name[128];
  size_t len = (size_t)(eq - entry - 6);
  if (len == 0 || len >= sizeof name) return MESOS_OK;
  for (size_t i = 0; i < len; i++) name[i] = (char)tolower((unsigned char)entry[6 + i]);
  name[len] = '\0';
  return apply(f, name, len, eq + 1, false, 1, err);
}

mesos_status mesos__flags_parse(mesos__flags **out, const mesos__flag_def *defs, size_t ndefs,
                                int argc, char *const *argv, char *const *envp,
                                mesos_error **err) {
  mesos__flags *f = MESOS__NEW(mesos__flags);
  if (f == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  f->values = mesos__calloc(ndefs ? ndefs : 1, sizeof *f->values);
  if (f->values == NULL) {
    mesos__free(f);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  f->n = ndefs;
  mesos_status st = MESOS_OK;
  for (size_t i = 0; i < ndefs && st == MESOS_OK; i++) {
    f->values[i].def = &defs[i];
    if (defs[i].def) {
      char *raw = mesos__strdup(defs[i].def);
      st = raw ? set_value(&f->values[i], raw, 0, err) : MESOS_ENOMEM;
    }
  }
  for (size_t i = 0; envp && envp[i] && st == MESOS_OK; i++) st = apply_env(f, envp[i], err);
  for (int i = 1; i < argc && st == MESOS_OK; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
      st = mesos__err(err, MESOS_EINVAL, "unexpected argument '%s' (flags look like --name=value)",
                      a);
      break;
    }
    a += 2;
    bool negated = strncmp(a, "no-", 3) == 0;
    if (negated) a += 3;
    const char *eq = strchr(a, '=');
    size_t len = eq ? (size_t)(eq - a) : strlen(a);
    st = apply(f, a, len, eq ? eq + 1 : NULL, negated, 2, err);
  }
  if (st != MESOS_OK) {
    mesos__flags_free(f);
    return st;
  }
  *out = f;
  return MESOS_OK;
}

void mesos__flags_free(mesos__flags *f) {
  if (f == NULL) return;
  for (size_t i = 0; i < f->n; i++) mesos__free(f->values[i].str);
  mesos__free(f->values);
  mesos__free(f);
}

bool mesos__flags_is_set(const mesos__flags *f, const char *name) {
  const flag_value *v = find_value(f, name);
  return v && v->set > 0;
}

const char *mesos__flags_get(const mesos__flags *f, const char *name) {
  const flag_value *v = find_value(f, name);
  return v ? v->str : NULL;
}

bool mesos__flags_bool(const mesos__flags *f, const char *name) {
  const flag_value *v = find_value(f, name);
  return v && v->str && v->v.b;
}

int64_t mesos__flags_int(const mesos__flags *f, const char *name) {
  const flag_value *v = find_value(f, name);
  return v && v->str ? v->v.i : 0;
}

double mesos__flags_double(const mesos__flags *f, const char *name) {
  const flag_value *v = find_value(f, name);
  return v && v->str ? v->v.d : 0.0;
}

uint64_t mesos__flags_duration_ns(const mesos__flags *f, const char *name) {
  const flag_value *v = find_value(f, name);
  return v && v->str ? v->v.u : 0;
}

uint64_t mesos__flags_bytes(const mesos__flags *f, const char *name) {
  const flag_value *v = find_value(f, name);
  return v && v->str ? v->v.u : 0;
}

bool mesos__flags_at(const mesos__flags *f, size_t i, const char **name, const char **value) {
  if (i >= f->n) return false;
  *name = f->values[i].def->name;
  *value = f->values[i].str;
  return true;
}

mesos_status mesos__flags_usage(const mesos__flag_def *defs, size_t ndefs, const char *program,
                                mesos__buf *out) {
  mesos_status st = mesos__buf_printf(out, "Usage: %s [options]\n\n", program);
  for (size_t i = 0; i < ndefs && st == MESOS_OK; i++) {
    const mesos__flag_def *d = &defs[i];
    if (d->type == MESOS__FLAG_BOOL) st = mesos__buf_printf(out, "  --[no-]%s\n", d->name);
    else st = mesos__buf_printf(out, "  --%s=VALUE\n", d->name);
    if (st == MESOS_OK && d->help) st = mesos__buf_printf(out, "      %s\n", d->help);
    if (st == MESOS_OK && d->choices)
      st = mesos__buf_printf(out, "      (one of: %s)\n", d->choices);
    if (st == MESOS_OK && d->def) st = mesos__buf_printf(out, "      (default: %s)\n", d->def);
    if (st == MESOS_OK && d->aliases)
      st = mesos__buf_printf(out, "      (deprecated alias: --%s)\n", d->aliases);
  }
  return st;
}

mesos_status mesos__flags_copy(mesos__flags **out, const mesos__flag_def *defs, size_t ndefs,
                               const mesos__flags *src, mesos_error **err) {
  mesos__flags *f = NULL;
  mesos_status st = mesos__flags_parse(&f, defs, ndefs, 0, NULL, NULL, err);
  for (size_t i = 0; st == MESOS_OK && i < src->n; i++) {
    const flag_value *sv = &src->values[i];
    if (sv->set == 0 || sv->str == NULL) continue;
    flag_value *fv = NULL;
    for (size_t k = 0; k < f->n && fv == NULL; k++)
      if (strcmp(f->values[k].def->name, sv->def->name) == 0) fv = &f->values[k];
    if (fv == NULL) continue; /* not in this table */
    char *raw = mesos__strdup(sv->str);
    if (raw == NULL) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    } else if (fv->def->type == MESOS__FLAG_TEXT) {
      /* Already the file's contents: never read a file:// value twice. */
      mesos__free(fv->str);
      fv->str = raw;
      fv->set = sv->set;
    } else {
      st = set_value(fv, raw, sv->set, err);
    }
  }
  if (st != MESOS_OK) {
    mesos__flags_free(f);
    return st;
  }
  *out = f;
  return MESOS_OK;
}

mesos_status mesos__flags_usage_string(const mesos__flag_def *defs, size_t ndefs,
                                       const char *program, char **out, mesos_error **err) {
  mesos__buf b = MESOS__BUF_INIT(1 << 20);
  mesos_status st = mesos__flags_usage(defs, ndefs, program, &b);
  if (st != MESOS_OK) {
    mesos__buf_free(&b);
    return mesos__err(err, st, "usage: %s", mesos_status_str(st));
  }
  *out = mesos__buf_detach(&b, NULL);
  return *out ? MESOS_OK : mesos__err(err, MESOS_ENOMEM, "out of memory");
}

/* ------------------------------------------------------------ daemon handles */

/* The handle's first member, its parsed flags (see flags.h). */
static mesos__flags *const *handle_flags(const void *handle) {
  return (mesos__flags *const *)handle;
}

mesos_status mesos__flags_handle_parse(void **out, size_t size, const mesos__flag_def *defs,
                                       size_t ndefs, int argc, char *const *argv,
                                       char *const *envp, mesos_error **err) {
  if (size < sizeof(mesos__flags *)) return mesos__err(err, MESOS_EINVAL, "flag handle too small");
  void *h = mesos__calloc(1, size);
  if (h == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos__flags *f = NULL;
  mesos_status st = mesos__flags_parse(&f, defs, ndefs, argc, argv, envp, err);
  if (st != MESOS_OK) {
    mesos__free(h);
    return st;
  }
  memcpy(h, &f, sizeof f);
  *out = h;
  return MESOS_OK;
}

void mesos__flags_handle_free(void *handle) {
  if (handle == NULL) return;
  mesos__flags_free(*handle_flags(handle));
  mesos__free(handle);
}

int mesos__flags_handle_bool(const void *handle, const char *name) {
  return handle && name && mesos__flags_bool(*handle_flags(handle), name) ? 1 : 0;
}

const char *mesos__flags_handle_get(const void *handle, const char *name) {
  return handle && name ? mesos__flags_get(*handle_flags(handle), name) : NULL;
}
