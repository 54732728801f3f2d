/* Helper of tests/bench/image_extract.sh: provisions one image from a
 * local registry into a fresh store (first-time extraction of every layer)
 * and prints the seconds it took and the layers extracted:
 *   image_extract_tool REGISTRY REF STORE WORKDIR BACKEND
 *   -> "seconds <s> layers <n>" */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mesos/log.h"
#include "provisioner/provisioner.h"

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s REGISTRY REF STORE WORKDIR BACKEND\n", argv[0]);
    return 2;
  }
  mesos__provisioner_opts o = {0};
  o.registry_dir = argv[1];
  o.store_dir = argv[3];
  o.work_dir = argv[4];
  o.backend = argv[5];
  mesos__provisioner *p = NULL;
  mesos_error *err = NULL;
  if (mesos__provisioner_new(&o, &p, &err) != MESOS_OK) {
    fprintf(stderr, "provisioner: %s\n", mesos_error_message(err));
    return 1;
  }
  mesos_log_set_level(MESOS_LOG_WARNING);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  mesos__provision_info *info = NULL;
  if (mesos__provisioner_provision_sync(p, "bench", argv[2], false, &info, &err) != MESOS_OK) {
    fprintf(stderr, "provision: %s\n", mesos_error_message(err));
    return 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("seconds %.6f layers %llu\n", (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9,
         (unsigned long long)info->extracted);
  mesos__provision_info_free(info);
  int rc = mesos__provisioner_destroy(p, "bench", &err) == MESOS_OK ? 0 : 1;
  mesos__provisioner_free(p);
  mesos_error_free(err);
  return rc;
}
