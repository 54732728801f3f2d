/* The agent's checkpointed resources and persistent volumes
 * (lib/agent/volumes.c): volume paths, CHECKPOINT_RESOURCES applied as a
 * whole or refused as a whole, DESTROY removing the directory, sandbox
 * links and the container paths refused. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "agent/volumes.h"
#include "base/alloc.h"
#include "codec/pb.h"
#include "registry/checkpoint.h"
#include "support/testutil.h"

static char dir[64];
static mesos_agent agent;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/test-volumes-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  memset(&agent, 0, sizeof agent);
  agent.work_dir = dir;
}

static void teardown(void) {
  mesos__agent_volumes_free(&agent);
  nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A persistent volume of 8 MB disk reserved for `role`. */
typedef struct volume {
  Mesos__V1__Resource r;
  Mesos__V1__Value__Scalar size;
  Mesos__V1__Resource__ReservationInfo res, *resp;
  Mesos__V1__Resource__DiskInfo disk;
  Mesos__V1__Resource__DiskInfo__Persistence persistence;
  Mesos__V1__Volume volume;
} volume;

static Mesos__V1__Resource *make_volume(volume *v, const char *role, const char *id,
                                        const char *container_path) {
  mesos__v1__resource__init(&v->r);
  mesos__v1__value__scalar__init(&v->size);
  mesos__v1__resource__reservation_info__init(&v->res);
  mesos__v1__resource__disk_info__init(&v->disk);
  mesos__v1__resource__disk_info__persistence__init(&v->persistence);
  mesos__v1__volume__init(&v->volume);
  v->size.value = 8;
  v->res.has_type = 1;
  v->res.type = MESOS__V1__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC;
  v->res.role = (char *)role;
  v->resp = &v->res;
  v->persistence.id = (char *)id;
  v->volume.container_path = (char *)container_path;
  v->volume.mode = MESOS__V1__VOLUME__MODE__RW;
  v->disk.persistence = &v->persistence;
  v->disk.volume = &v->volume;
  v->r.name = "disk";
  v->r.type = MESOS__V1__VALUE__TYPE__SCALAR;
  v->r.scalar = &v->size;
  v->r.n_reservations = 1;
  v->r.reservations = &v->resp;
  v->r.disk = &v->disk;
  return &v->r;
}

static int is_dir(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

START_TEST(test_volumes__path_of_a_volume_and_unsafe_ids) {
  volume v;
  char *p = NULL;
  ck_assert_int_eq(mesos__agent_volume_path(&p, dir, make_volume(&v, "eng/web", "v1", "d"), NULL),
                   MESOS_OK);
  char want[200];
  snprintf(want, sizeof want, "%s/volumes/roles/eng web/v1", dir);
  ck_assert_str_eq(p, want);
  mesos__free(p);
  const char *bad[] = {"..", "a/b", "", "."};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    mesos_error *e = NULL;
    p = NULL;
    ck_assert_int_eq(mesos__agent_volume_path(&p, dir, make_volume(&v, "r", bad[i], "d"), &e),
                     MESOS_EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(mesos_error_message(e), "persistence id"));
    mesos_error_free(e);
  }
  /* Not a volume. */
  Mesos__V1__Resource cpus = MESOS__V1__RESOURCE__INIT;
  cpus.name = "cpus";
  mesos_error *e = NULL;
  ck_assert_int_eq(mesos__agent_volume_path(&p, dir, &cpus, &e), MESOS_EINVAL);
  mesos_error_free(e);
}
END_TEST

START_TEST(test_volumes__checkpoint_create_refuse_destroy) {
  volume v;
  Mesos__V1__Resource *one[1] = {make_volume(&v, "r", "v1", "data")};
  Mesos__Internal__CheckpointResources cr = MESOS__INTERNAL__CHECKPOINT_RESOURCES__INIT;
  cr.n_resources = 1;
  cr.resources = one;
  mesos__agent_volumes_checkpoint(&agent, &cr);
  char vol[200], info[200];
  snprintf(vol, sizeof vol, "%s/volumes/roles/r/v1", dir);
  snprintf(info, sizeof info, "%s/meta/resources/resources.info", dir);
  ck_assert(is_dir(vol));
  ProtobufCMessage *m = NULL;
  ck_assert_int_eq(
      mesos__checkpoint_read(info, &mesos__internal__checkpoint_resources__descriptor, &m, NULL),
      MESOS_OK);
  ck_assert_uint_eq(((Mesos__Internal__CheckpointResources *)m)->n_resources, 1);
  mesos__pb_free(m);
  Mesos__V1__Resource **rep = NULL;
  size_t n = 0;
  mesos__agent_volumes_reported(&agent, &rep, &n);
  ck_assert_uint_eq(n, 1);

  /* A hostile id anywhere refuses the whole message: nothing changes. */
  volume w;
  Mesos__V1__Resource *two[2] = {one[0], make_volume(&w, "r", "..", "x")};
  cr.n_resources = 2;
  cr.resources = two;
  mesos__agent_volumes_checkpoint(&agent, &cr);
  mesos__agent_volumes_reported(&agent, &rep, &n);
  ck_assert_uint_eq(n, 1);
  ck_assert(is_dir(vol));

  /* DESTROY: the volume's directory goes, with what a task wrote. */
  char file[300];
  snprintf(file, sizeof file, "%s/f", vol);
  FILE *fp = fopen(file, "w");
  ck_assert_ptr_nonnull(fp);
  fclose(fp);
  cr.n_resources = 0;
  cr.resources = NULL;
  mesos__agent_volumes_checkpoint(&agent, &cr);
  ck_assert(!is_dir(vol));
  mesos__agent_volumes_reported(&agent, &rep, &n);
  ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_volumes__sandbox_links_and_refused_container_paths) {
  volume v;
  Mesos__V1__Resource *one[1] = {make_volume(&v, "r", "v1", "sub/data")};
  Mesos__Internal__CheckpointResources cr = MESOS__INTERNAL__CHECKPOINT_RESOURCES__INIT;
  cr.n_resources = 1;
  cr.resources = one;
  mesos__agent_volumes_checkpoint(&agent, &cr);
  char sandbox[200], link[300], target[300], want[300];
  snprintf(sandbox, sizeof sandbox, "%s/sandbox", dir);
  ck_assert_int_eq(mesos__agent_volumes_prepare(&agent, sandbox, one, 1, NULL), MESOS_OK);
  snprintf(link, sizeof link, "%s/sub/data", sandbox);
  ssize_t len = readlink(link, target, sizeof target - 1);
  ck_assert_int_gt(len, 0);
  target[len] = '\0';
  snprintf(want, sizeof want, "%s/volumes/roles/r/v1", dir);
  ck_assert_str_eq(target, want);
  /* Again (a relaunch): replaced, not an error. */
  ck_assert_int_eq(mesos__agent_volumes_link(&agent, sandbox, one, 1, NULL), MESOS_OK);

  const char *bad[] = {"/abs", "../out", "a/../../b", "", "a//b"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    make_volume(&v, "r", "v1", bad[i]);
    mesos_error *e = NULL;
    ck_assert_int_eq(mesos__agent_volumes_link(&agent, sandbox, one, 1, &e), MESOS_EINVAL);
    ck_assert_ptr_nonnull(strstr(mesos_error_message(e), "container_path"));
    mesos_error_free(e);
  }
  /* A volume this agent was never told about. */
  volume w;
  Mesos__V1__Resource *other[1] = {make_volume(&w, "r", "v2", "x")};
  mesos_error *e = NULL;
  ck_assert_int_eq(mesos__agent_volumes_link(&agent, sandbox, other, 1, &e), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(e), "not on this agent"));
  mesos_error_free(e);
  /* No volume: nothing made. */
  char none[200];
  snprintf(none, sizeof none, "%s/none", dir);
  ck_assert_int_eq(mesos__agent_volumes_prepare(&agent, none, NULL, 0, NULL), MESOS_OK);
  ck_assert(!is_dir(none));
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_volumes");
  TCase *tc = tcase_create("volumes");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_volumes__path_of_a_volume_and_unsafe_ids);
  tcase_add_test(tc, test_volumes__checkpoint_create_refuse_destroy);
  tcase_add_test(tc, test_volumes__sandbox_links_and_refused_container_paths);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
