/*
 * Fuzz target for the HTTP Basic Authorization header parser and the
 * credentials file parser (lib/authz/credentials.c).
 *
 * Input: a header value; the same bytes are also parsed as a credentials
 * file.  Checked: no crash or sanitizer report; a header that parses gives
 * a principal without ':' and re-encodes to exactly the input; a parsed
 * credentials set verifies nothing for an unknown principal; every
 * allocation is released.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "mesos/authn.h"
#include "mesos/memory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *h = malloc(size + 1);
  if (!h) return 0;
  memcpy(h, data, size);
  h[size] = '\0';
  char *p = NULL, *s = NULL;
  mesos_error *err = NULL;
  if (mesos_basic_auth_parse(h, &p, &s, &err) == MESOS_OK) {
    if (strchr(p, ':')) {
      fprintf(stderr, "fuzz_authorization_header: principal with ':'\n");
      abort();
    }
    char *again = NULL;
    if (mesos_basic_auth_encode(p, s, &again, NULL) != MESOS_OK || strcmp(again, h) != 0) {
      fprintf(stderr, "fuzz_authorization_header: '%s' does not round-trip\n", h);
      abort();
    }
    mesos_free(again);
    mesos_free(p);
    mesos_free(s);
  } else {
    mesos_error_free(err);
  }
  err = NULL;
  mesos_credentials *c = NULL;
  if (mesos_credentials_parse(&c, (const char *)data, size, &err) == MESOS_OK) {
    if (mesos_credentials_verify(c, "\x01no-such-principal", "x", 1)) abort();
    mesos_credentials_free(c);
  } else {
    mesos_error_free(err);
  }
  free(h);
  if (mesos__alloc_live() != 0) {
    fprintf(stderr, "fuzz_authorization_header: %lld allocations leaked\n",
            (long long)mesos__alloc_live());
    abort();
  }
  return 0;
}
