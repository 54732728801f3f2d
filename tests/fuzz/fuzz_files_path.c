/*
 * Fuzz target for what a /files request carries before it touches the file
 * system: the query string (mesos__query_get) and the path normalisation
 * and root lookup of the files service (lib/files/files.c).
 *
 * Input: a query string.  Checked: no crash or sanitizer report; a decoded
 * value never holds a NUL and is never longer than the limit; a normalised
 * path starts with '/', has no empty, "." or ".." component, no control
 * character and no trailing '/', and normalising it again changes nothing;
 * browse and read answer every path with a status and, on failure, a
 * message (the attached root does not exist, so nothing is opened); every
 * allocation is released.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "files/files.h"
#include "http/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *path) {
  fprintf(stderr, "fuzz_files_path: %s: '%s'\n", what, path);
  abort();
}

static void check_normalized(const char *p) {
  size_t n = strlen(p);
  if (p[0] != '/') fail("not absolute", p);
  if (n > 1 && p[n - 1] == '/') fail("trailing slash", p);
  if (strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../")) fail("bad component", p);
  if ((n >= 2 && strcmp(p + n - 2, "/.") == 0) || (n >= 3 && strcmp(p + n - 3, "/..") == 0))
    fail("bad last component", p);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) fail("control character", p);
  char again[MESOS__FILES_MAX_PATH + 2];
  if (mesos__files_normalize(p, again, sizeof again, NULL) != MESOS_OK || strcmp(again, p) != 0)
    fail("not idempotent", p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536) return 0;
  char *query = malloc(size + 1);
  if (query == NULL) return 0;
  memcpy(query, data, size);
  query[size] = '\0';
  char *path = NULL;
  mesos_error *err = NULL;
  mesos_status st = mesos__query_get(query, "path", MESOS__FILES_MAX_PATH, &path, &err);
  if (st == MESOS_OK) {
    if (strlen(path) > MESOS__FILES_MAX_PATH) fail("longer than the limit", path);
    char norm[MESOS__FILES_MAX_PATH + 2];
    mesos_error *e = NULL;
    if (mesos__files_normalize(path, norm, sizeof norm, &e) == MESOS_OK) check_normalized(norm);
    else if (e == NULL || mesos_error_message(e)[0] == '\0') fail("refused without a message", path);
    mesos_error_free(e);
    mesos__files *f = NULL;
    if (mesos__files_new(&f, NULL) == MESOS_OK &&
        mesos__files_attach(f, "/nonexistent/mesos-fuzz-root", "/sb", NULL) == MESOS_OK) {
      mesos__file_entry *v = NULL;
      size_t n = 0;
      e = NULL;
      st = mesos__files_browse(f, path, &v, &n, &e);
      if (st == MESOS_OK) mesos__files_entries_free(v, n);
      else if (e == NULL || mesos_error_message(e)[0] == '\0') fail("browse: no message", path);
      mesos_error_free(e);
      char *d = NULL;
      size_t len = 0;
      uint64_t fsize = 0;
      e = NULL;
      st = mesos__files_read(f, path, 0, 16, 16, &d, &len, &fsize, &e);
      if (st == MESOS_OK) mesos__free(d);
      else if (e == NULL || mesos_error_message(e)[0] == '\0') fail("read: no message", path);
      mesos_error_free(e);
    }
    mesos__files_free(f);
    mesos__free(path);
  } else if (st != MESOS_ENOTFOUND) {
    if (err == NULL || mesos_error_message(err)[0] == '\0') fail("query refused without a message", query);
  }
  mesos_error_free(err);
  free(query);
  if (mesos__alloc_live() != 0) {
    fprintf(stderr, "fuzz_files_path: %lld allocations leaked\n", (long long)mesos__alloc_live());
    abort();
  }
  return 0;
}
