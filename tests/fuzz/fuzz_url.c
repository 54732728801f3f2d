/*
 * Fuzz target for the HTTP client's URL parser and Location resolution.
 *
 * Input: a URL, optionally followed by a NUL byte and a Location to
 * resolve against it.  Checked: no crash or sanitizer report; a parsed URL
 * is normalised for good (parsing its href again gives the same pieces);
 * nothing that reaches the request line or Host header holds a space or a
 * control byte; every allocation is released.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "http/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_clean(const char *what, const char *s) {
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c <= 0x20 || c >= 0x7f) {
      fprintf(stderr, "fuzz_url: %s holds byte 0x%02x: '%s'\n", what, c, s);
      abort();
    }
  }
}

static void check_url(const mesos__url *u) {
  check_clean("href", u->href);
  check_clean("target", u->target);
  check_clean("host_header", u->host_header);
  if (u->target[0] != '/') {
    fprintf(stderr, "fuzz_url: target '%s' does not start with '/'\n", u->target);
    abort();
  }
  if (u->port == 0) abort();
  mesos__url again;
  if (mesos__url_parse(&again, u->href, NULL) != MESOS_OK) {
    fprintf(stderr, "fuzz_url: href '%s' does not parse again\n", u->href);
    abort();
  }
  if (strcmp(again.href, u->href) != 0 || strcmp(again.target, u->target) != 0 ||
      strcmp(again.host, u->host) != 0 || again.port != u->port || again.tls != u->tls) {
    fprintf(stderr, "fuzz_url: '%s' is not stable ('%s')\n", u->href, again.href);
    abort();
  }
  mesos__url_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int64_t live = mesos__alloc_live();
  char *in = malloc(size + 1);
  if (in == NULL) return 0;
  memcpy(in, data, size);
  in[size] = '\0';
  const char *ref = NULL;
  size_t first = strlen(in);
  if (first < size) ref = in + first + 1;

  mesos__url u;
  mesos_error *err = NULL;
  if (mesos__url_parse(&u, in, &err) == MESOS_OK) {
    check_url(&u);
    if (ref) {
      mesos__url r;
      mesos_error *e2 = NULL;
      if (mesos__url_resolve(&r, &u, ref, &e2) == MESOS_OK) check_url(&r);
      else if (e2 == NULL) abort(); /* a failure always says why */
      mesos_error_free(e2);
      mesos__url_free(&r);
    }
  } else if (err == NULL) {
    abort();
  }
  mesos_error_free(err);
  mesos__url_free(&u);
  free(in);
  if (mesos__alloc_live() != live) {
    fprintf(stderr, "fuzz_url: %lld allocations leaked\n",
            (long long)(mesos__alloc_live() - live));
    abort();
  }
  return 0;
}
