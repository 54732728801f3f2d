/*
 * Fuzz target for the safe tar extractor and the layer stream
 * (lib/provisioner/tar.c, zin.c).  The input is a layer (plain or gzip)
 * extracted into a fresh directory `box/root`; the first byte picks the
 * whiteout mode (overlay only as root: it needs mknod and trusted xattrs).
 *
 * Checked: no crash or sanitizer report; nothing appears in `box` beside
 * `root` (no escape through `..`, absolute names, links); nothing leaks;
 * the directory tree is removable afterwards.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesos/error.h"
#include "provisioner/tar.h"
#include "provisioner/zin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, what)                               \
  do {                                                  \
    if (!(cond)) {                                      \
      fprintf(stderr, "fuzz check failed: %s\n", what); \
      abort();                                          \
    }                                                   \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  bool overlay = (data[0] & 1) && geteuid() == 0;
  data++;
  size--;
  char box[] = "/tmp/fuzz-tar-XXXXXX";
  CHECK(mkdtemp(box) != NULL, "mkdtemp");
  int boxfd = open(box, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK(boxfd >= 0, "open box");
  CHECK(mkdirat(boxfd, "root", 0755) == 0, "mkdir root");
  int rfd = openat(boxfd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int mfd = memfd_create("layer", MFD_CLOEXEC);
  CHECK(rfd >= 0 && mfd >= 0, "open root / memfd");
  CHECK(size == 0 || write(mfd, data, size) == (ssize_t)size, "write memfd");

  mesos__zin *z = NULL;
  mesos_error *err = NULL;
  mesos__tar_opts o = {0};
  o.whiteouts = overlay ? MESOS__TAR_WHITEOUT_OVERLAY : MESOS__TAR_WHITEOUT_KEEP;
  o.max_file_size = 1 << 20;
  o.max_total_size = 4 << 20;
  o.max_entries = 2000;
  if (mesos__zin_open(mfd, 0, UINT64_MAX, 8 << 20, &z, &err) == MESOS_OK)
    (void)mesos__tar_extract_zin(rfd, z, &o, NULL, &err);
  mesos_error_free(err);
  mesos__zin_free(z);
  close(mfd);
  close(rfd);

  /* Only "root" may exist in the box. */
  DIR *d = fdopendir(dup(boxfd));
  CHECK(d != NULL, "opendir box");
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    CHECK(strcmp(de->d_name, "root") == 0, "an entry escaped the extraction root");
  }
  closedir(d);
  CHECK(mesos__rmtree_at(boxfd, "root", NULL) == MESOS_OK, "remove the extracted tree");
  close(boxfd);
  CHECK(rmdir(box) == 0, "rmdir box");
  return 0;
}
