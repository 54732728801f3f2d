/*
 * Fuzz target for the image layout readers (lib/provisioner/image.c,
 * pjson.c): docker-save manifest.json, legacy repositories + <id>/json,
 * OCI index.json + manifest + config, and image configs.
 *
 * Input: a selector byte, then up to three documents separated by a line
 * "--".  Digests cannot be guessed by a fuzzer, so the placeholders @D1@
 * and @D2@ in any document are replaced by the sha256 of documents 1 and 2
 * before they are written as blobs:
 *   0: OCI layout: index.json = doc 0, blobs/sha256/<D1> = doc 1, <D2> = doc 2
 *   1: docker-save: manifest.json = doc 0, <D1>.json = doc 1
 *   2: legacy: repositories = doc 0, <64 x 'a'>/json = doc 1,
 *      <64 x 'b'>/json = doc 2
 *   3: doc 0 as an image config
 * The directory is opened as the image "x:latest".
 *
 * Checked: no crash or sanitizer report; a successful open has 1..128
 * layers, each with a store key; nothing leaks.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "provisioner/image.h"
#include "provisioner/tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, what)                               \
  do {                                                  \
    if (!(cond)) {                                      \
      fprintf(stderr, "fuzz check failed: %s\n", what); \
      abort();                                          \
    }                                                   \
  } while (0)

typedef struct {
  char *p;
  size_t n;
} doc;

/* Replaces every `pat` in d by `rep` (same-or-longer is fine: reallocs). */
static void subst(doc *d, const char *pat, const char *rep) {
  size_t pl = strlen(pat), rl = strlen(rep);
  for (size_t i = 0; i + pl <= d->n;) {
    if (memcmp(d->p + i, pat, pl) != 0) {
      i++;
      continue;
    }
    char *np = malloc(d->n - pl + rl + 1);
    CHECK(np != NULL, "malloc");
    memcpy(np, d->p, i);
    memcpy(np + i, rep, rl);
    memcpy(np + i + rl, d->p + i + pl, d->n - i - pl);
    d->n = d->n - pl + rl;
    np[d->n] = '\0';
    free(d->p);
    d->p = np;
    i += rl;
  }
}

static void put(int dirfd, const char *name, const doc *d) {
  char tmp[256];
  snprintf(tmp, sizeof tmp, "%s", name);
  for (char *s = strchr(tmp, '/'); s; s = strchr(s + 1, '/')) {
    *s = '\0';
    mkdirat(dirfd, tmp, 0755);
    *s = '/';
  }
  int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  CHECK(fd >= 0, "create file");
  CHECK(d->n == 0 || write(fd, d->p, d->n) == (ssize_t)d->n, "write file");
  close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > (1 << 20)) return 0;
  int sel = data[0] % 4;
  doc docs[3] = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
  const char *p = (const char *)data + 1, *end = (const char *)data + size;
  for (int i = 0; i < 3; i++) {
    const char *sep = i < 2 ? memmem(p, (size_t)(end - p), "\n--\n", 4) : NULL;
    const char *e = sep ? sep : end;
    docs[i].n = (size_t)(e - p);
    docs[i].p = malloc(docs[i].n + 1);
    CHECK(docs[i].p != NULL, "malloc");
    memcpy(docs[i].p, p, docs[i].n);
    docs[i].p[docs[i].n] = '\0';
    p = sep ? sep + 4 : end;
  }
  if (sel == 3) {
    mesos__image_config c;
    if (mesos__image_config_parse(docs[0].p, docs[0].n, &c, NULL) == MESOS_OK)
      mesos__image_config_clear(&c);
    for (int i = 0; i < 3; i++) free(docs[i].p);
    return 0;
  }
  /* doc 2 first: doc 1 may name it; both may be named by doc 0. */
  char h2[65], h1[65], ref[80];
  mesos__sha256_hex(docs[2].p, docs[2].n, h2);
  snprintf(ref, sizeof ref, "sha256:%s", h2);
  subst(&docs[1], "@D2@", ref);
  subst(&docs[0], "@D2@", ref);
  mesos__sha256_hex(docs[1].p, docs[1].n, h1);
  snprintf(ref, sizeof ref, "sha256:%s", h1);
  subst(&docs[0], "@D1@", ref);

  char box[] = "/tmp/fuzz-image-XXXXXX";
  CHECK(mkdtemp(box) != NULL, "mkdtemp");
  int bfd = open(box, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK(bfd >= 0, "open box");
  char name[128];
  doc layout = {(char *)"{\"imageLayoutVersion\":\"1.0.0\"}", 30};
  switch (sel) {
    case 0:
      put(bfd, "oci-layout", &layout);
      put(bfd, "index.json", &docs[0]);
      snprintf(name, sizeof name, "blobs/sha256/%s", h1);
      put(bfd, name, &docs[1]);
      snprintf(name, sizeof name, "blobs/sha256/%s", h2);
      put(bfd, name, &docs[2]);
      break;
    case 1:
      put(bfd, "manifest.json", &docs[0]);
      snprintf(name, sizeof name, "%s.json", h1);
      put(bfd, name, &docs[1]);
      break;
    default:
      put(bfd, "repositories", &docs[0]);
      memset(name, 'a', 64);
      snprintf(name + 64, sizeof name - 64, "/json");
      put(bfd, name, &docs[1]);
      memset(name, 'b', 64);
      put(bfd, name, &docs[2]);
      break;
  }
  mesos__image_ref r;
  CHECK(mesos__image_ref_parse("x:latest", &r, NULL) == MESOS_OK, "ref");
  mesos__image *img = NULL;
  if (mesos__image_open_path(box, &r, &img, NULL) == MESOS_OK) {
    CHECK(img->nlayers >= 1 && img->nlayers <= MESOS__IMAGE_MAX_LAYERS, "layer count");
    for (size_t i = 0; i < img->nlayers; i++) CHECK(img->layers[i].key != NULL, "layer key");
    mesos__image_free(img);
  }
  mesos__image_ref_clear(&r);
  for (int i = 0; i < 3; i++) free(docs[i].p);
  char *slash = strrchr(box, '/');
  int tfd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK(mesos__rmtree_at(tfd, slash + 1, NULL) == MESOS_OK, "remove box");
  close(tfd);
  close(bfd);
  return 0;
}
