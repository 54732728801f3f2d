/* The agent's checkpoint files: atomic replacement (also under kill -9),
 * damage detection, and the append-only update stream with a torn tail. */
#include <signal.h>
#include <sys/wait.h>

#include "codec/pb.h"
#include "mesos/internal/checkpoint.pb-c.h"
#include "registry/checkpoint.h"
#include "registry/checkpoint_int.h"
#include "unit/registry/regtest.h"

typedef Mesos__Internal__AgentCheckpoint AgentCkpt;
typedef Mesos__Internal__StatusUpdateRecord UpdateRec;

static void write_agent(const char *path, const char *id, const char *boot) {
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  Mesos__V1__AgentInfo info = MESOS__V1__AGENT_INFO__INIT;
  AgentCkpt c = MESOS__INTERNAL__AGENT_CHECKPOINT__INIT;
  aid.value = (char *)id;
  info.hostname = "host";
  info.id = &aid;
  c.info = &info;
  c.boot_id = (char *)boot;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__checkpoint_write(path, &c.base, &err), &err);
}

static AgentCkpt *read_agent(const char *path, mesos_status want) {
  ProtobufCMessage *m = NULL;
  mesos_error *err = NULL;
  mesos_status s =
      mesos__checkpoint_read(path, &mesos__internal__agent_checkpoint__descriptor, &m, &err);
  ck_assert_msg(s == want, "read %s: %s (%s)", path, mesos_status_name(s),
                err ? mesos_error_message(err) : "");
  mesos_error_free(err);
  return (AgentCkpt *)m;
}

START_TEST(test_checkpoint__message_round_trips_and_parents_are_created) {
  int64_t live = mesos__alloc_live();
  char dir[PATH_MAX], path[PATH_MAX];
  regtest_path(dir, sizeof dir, "ckpt");
  ck_assert_int_lt(snprintf(path, sizeof path, "%s/meta/slaves/a1/slave.info", dir),
                   (int)sizeof path);
  write_agent(path, "a1", "boot-1");
  AgentCkpt *c = read_agent(path, MESOS_OK);
  ck_assert_str_eq(c->info->id->value, "a1");
  ck_assert_str_eq(c->boot_id, "boot-1");
  mesos__pb_free(c);
  write_agent(path, "a1", "boot-2");
  c = read_agent(path, MESOS_OK);
  ck_assert_str_eq(c->boot_id, "boot-2");
  mesos__pb_free(c);
  char tmp[PATH_MAX + 8];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  ck_assert(!regtest_exists(tmp));
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_checkpoint__missing_file_is_not_found) {
  char path[PATH_MAX];
  regtest_path(path, sizeof path, "absent");
  ck_assert_ptr_null(read_agent(path, MESOS_ENOTFOUND));
}
END_TEST

START_TEST(test_checkpoint__damaged_files_are_refused) {
  int64_t live = mesos__alloc_live();
  char path[PATH_MAX];
  regtest_path(path, sizeof path, "damaged");
  write_agent(path, "a1", "boot");
  size_t len;
  unsigned char *good = regtest_read(path, &len);

  regtest_flip(path, len - 3); /* payload byte */
  ck_assert_ptr_null(read_agent(path, MESOS_EPROTO));
  regtest_write(path, good, len - 1, O_TRUNC); /* truncated */
  ck_assert_ptr_null(read_agent(path, MESOS_EPROTO));
  regtest_write(path, good, len, O_TRUNC);
  regtest_write(path, "junk", 4, O_APPEND); /* trailing bytes */
  ck_assert_ptr_null(read_agent(path, MESOS_EPROTO));
  regtest_write(path, "", 0, O_TRUNC); /* empty */
  ck_assert_ptr_null(read_agent(path, MESOS_EPROTO));
  /* Checksummed, but not an AgentCheckpoint. */
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__checkpoint_write_bytes(path, "\xff\xff\xff", 3, &err), &err);
  ck_assert_ptr_null(read_agent(path, MESOS_EPROTO));
  /* And intact again. */
  regtest_write(path, good, len, O_TRUNC);
  AgentCkpt *c = read_agent(path, MESOS_OK);
  mesos__pb_free(c);
  free(good);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

static void kill_self(const char *tmp) {
  (void)tmp;
  raise(SIGKILL);
}

START_TEST(test_checkpoint__kill_between_write_and_rename_leaves_the_old_content) {
  char path[PATH_MAX];
  regtest_path(path, sizeof path, "atomic");
  write_agent(path, "a1", "old");
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    mesos__checkpoint_before_rename_hook = kill_self;
    write_agent(path, "a1", "new");
    _exit(0); /* not reached */
  }
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  char tmp[PATH_MAX + 8];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  ck_assert(regtest_exists(tmp)); /* the complete new file never got renamed */
  AgentCkpt *c = read_agent(path, MESOS_OK);
  ck_assert_str_eq(c->boot_id, "old");
  mesos__pb_free(c);
  /* The leftover temporary does not get in the next write's way. */
  write_agent(path, "a1", "newer");
  c = read_agent(path, MESOS_OK);
  ck_assert_str_eq(c->boot_id, "newer");
  mesos__pb_free(c);
  ck_assert(!regtest_exists(tmp));
}
END_TEST

START_TEST(test_checkpoint__kill_9_at_random_moments_never_exposes_a_partial_file) {
  char path[PATH_MAX];
  regtest_path(path, sizeof path, "random");
  /* Two large contents so a write takes long enough to be interrupted. */
  size_t n = 256 << 10;
  unsigned char *a = malloc(n), *b = malloc(n);
  memset(a, 'A', n);
  memset(b, 'B', n);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__checkpoint_write_bytes(path, a, n, &err), &err);
  srand((unsigned)getpid());
  for (int round = 0; round < 5; round++) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      for (int i = 0;; i++)
        if (mesos__checkpoint_write_bytes(path, i % 2 ? a : b, n, NULL) != MESOS_OK) _exit(3);
    }
    usleep((useconds_t)(1000 + rand() % 30000));
    kill(pid, SIGKILL);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status), "writer exited early with status %d", status);
    uint8_t *got = NULL;
    size_t len = 0;
    ck_assert_mesos_ok(mesos__checkpoint_read_bytes(path, 0, &got, &len, &err), &err);
    ck_assert_uint_eq(len, n);
    ck_assert(memcmp(got, a, n) == 0 || memcmp(got, b, n) == 0);
    mesos__free(got);
  }
  free(a);
  free(b);
}
END_TEST

START_TEST(test_checkpoint__symlink_is_replaced_atomically) {
  char dir[PATH_MAX], link[PATH_MAX], buf[64];
  regtest_path(dir, sizeof dir, "links");
  ck_assert_int_lt(snprintf(link, sizeof link, "%s/runs/latest", dir), (int)sizeof link);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__checkpoint_symlink(link, "c1", &err), &err);
  ssize_t n = readlink(link, buf, sizeof buf - 1);
  ck_assert_int_eq(n, 2);
  buf[n] = '\0';
  ck_assert_str_eq(buf, "c1");
  /* A leftover temporary from a crash does not get in the way. */
  char tmp[PATH_MAX + 8];
  snprintf(tmp, sizeof tmp, "%s.tmp", link);
  ck_assert_int_eq(symlink("stale", tmp), 0);
  ck_assert_mesos_ok(mesos__checkpoint_symlink(link, "c2", &err), &err);
  n = readlink(link, buf, sizeof buf - 1);
  buf[n] = '\0';
  ck_assert_str_eq(buf, "c2");
  ck_assert(!regtest_exists(tmp) && access(tmp, F_OK) != 0);
  ck_assert_int_eq(mesos__checkpoint_symlink(link, "", &err), MESOS_EINVAL);
  mesos_error_free(err);
}
END_TEST

START_TEST(test_checkpoint__list_ids_returns_sorted_safe_directories_only) {
  int64_t live = mesos__alloc_live();
  char dir[PATH_MAX], p[PATH_MAX];
  regtest_dir(dir, sizeof dir, "list");
  const char *dirs[] = {"t3", "t1", "t2", "bad\tname"};
  for (int i = 0; i < 4; i++) {
    ck_assert_int_lt(snprintf(p, sizeof p, "%s/%s", dir, dirs[i]), (int)sizeof p);
    ck_assert_int_eq(mkdir(p, 0700), 0);
  }
  ck_assert_int_lt(snprintf(p, sizeof p, "%s/file", dir), (int)sizeof p);
  regtest_write(p, "x", 1, O_TRUNC);
  ck_assert_int_lt(snprintf(p, sizeof p, "%s/latest", dir), (int)sizeof p);
  ck_assert_int_eq(symlink("t1", p), 0);
  ck_assert_int_lt(snprintf(p, sizeof p, "%s/t9", dir), (int)sizeof p);
  ck_assert_int_eq(symlink("t1", p), 0); /* a link, not a directory of ours */
  char **ids = NULL;
  size_t n = 0;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__checkpoint_list_ids(dir, 0, &ids, &n, &err), &err);
  ck_assert_uint_eq(n, 3);
  ck_assert_str_eq(ids[0], "t1");
  ck_assert_str_eq(ids[1], "t2");
  ck_assert_str_eq(ids[2], "t3");
  mesos__checkpoint_free_ids(ids, n);
  ck_assert_int_eq(mesos__checkpoint_list_ids(dir, 2, &ids, &n, &err), MESOS_ELIMIT);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_lt(snprintf(p, sizeof p, "%s/none", dir), (int)sizeof p);
  ck_assert_int_eq(mesos__checkpoint_list_ids(p, 0, &ids, &n, &err), MESOS_ENOTFOUND);
  mesos_error_free(err);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

/* ---- update streams ---- */

typedef struct {
  int n;
  int uuids[64];
} updates;

static mesos_status collect_update(ProtobufCMessage *msg, void *ud) {
  updates *u = ud;
  UpdateRec *r = (UpdateRec *)msg;
  ck_assert_int_lt(u->n, 64);
  u->uuids[u->n++] = r->has_uuid && r->uuid.len == 1 ? r->uuid.data[0] : -1;
  mesos__pb_free(msg);
  return MESOS_OK;
}

static void append_ack(mesos__update_stream *s, int i) {
  uint8_t byte = (uint8_t)i;
  UpdateRec r = MESOS__INTERNAL__STATUS_UPDATE_RECORD__INIT;
  r.type = MESOS__INTERNAL__STATUS_UPDATE_RECORD__TYPE__ACK;
  r.has_uuid = 1;
  r.uuid.len = 1;
  r.uuid.data = &byte;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__update_stream_append(s, &r.base, &err), &err);
}

static mesos__update_stream *open_stream(const char *path, updates *u) {
  mesos__update_stream *s = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__update_stream_open(&s, path, &mesos__internal__status_update_record__descriptor,
                                               collect_update, u, &err),
                     &err);
  return s;
}

static mesos_status read_stream(const char *path, updates *u, bool *torn) {
  mesos_error *err = NULL;
  mesos_status s = mesos__update_stream_read(path, &mesos__internal__status_update_record__descriptor,
                                             collect_update, u, torn, &err);
  mesos_error_free(err);
  return s;
}

START_TEST(test_update_stream__appends_replay_and_a_torn_tail_is_tolerated) {
  int64_t live = mesos__alloc_live();
  char dir[PATH_MAX], path[PATH_MAX];
  regtest_path(dir, sizeof dir, "stream");
  ck_assert_int_lt(snprintf(path, sizeof path, "%s/tasks/t1/task.updates", dir),
                   (int)sizeof path);
  updates u = {0};
  mesos__update_stream *s = open_stream(path, &u);
  ck_assert_int_eq(u.n, 0);
  for (int i = 1; i <= 3; i++) append_ack(s, i);
  mesos__update_stream_close(s);

  bool torn = true;
  ck_assert_int_eq(read_stream(path, &u, &torn), MESOS_OK);
  ck_assert(!torn);
  ck_assert_int_eq(u.n, 3);
  ck_assert_int_eq(u.uuids[2], 3);

  /* Cut the last record: readers skip it and leave the file alone. */
  size_t size = regtest_file_size(path);
  ck_assert_int_eq(truncate(path, (off_t)(size - 2)), 0);
  u.n = 0;
  ck_assert_int_eq(read_stream(path, &u, &torn), MESOS_OK);
  ck_assert(torn);
  ck_assert_int_eq(u.n, 2);
  ck_assert_uint_eq(regtest_file_size(path), size - 2);

  /* The writer truncates it and appends after the last good record. */
  u.n = 0;
  s = open_stream(path, &u);
  ck_assert_int_eq(u.n, 2);
  append_ack(s, 9);
  mesos__update_stream_close(s);
  u.n = 0;
  ck_assert_int_eq(read_stream(path, &u, &torn), MESOS_OK);
  ck_assert(!torn);
  ck_assert_int_eq(u.n, 3);
  ck_assert_int_eq(u.uuids[0], 1);
  ck_assert_int_eq(u.uuids[1], 2);
  ck_assert_int_eq(u.uuids[2], 9);
  ck_assert_int_eq(mesos__alloc_live(), live);
}
END_TEST

START_TEST(test_update_stream__damage_before_valid_records_is_refused) {
  char path[PATH_MAX];
  regtest_path(path, sizeof path, "damaged-stream");
  updates u = {0};
  mesos__update_stream *s = open_stream(path, &u);
  for (int i = 1; i <= 3; i++) append_ack(s, i);
  mesos__update_stream_close(s);
  regtest_flip(path, 16 + 2); /* inside the first record's payload */
  size_t before_len, after_len;
  unsigned char *before = regtest_read(path, &before_len);
  ck_assert_int_eq(read_stream(path, &u, NULL), MESOS_EPROTO);
  mesos__update_stream *s2 = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__update_stream_open(&s2, path, &mesos__internal__status_update_record__descriptor,
                                             collect_update, &u, &err),
                   MESOS_EPROTO);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "offset 0"));
  mesos_error_free(err);
  unsigned char *after = regtest_read(path, &after_len);
  ck_assert_uint_eq(before_len, after_len);
  ck_assert(memcmp(before, after, before_len) == 0);
  free(before);
  free(after);
  /* A missing stream is not found, for the reader. */
  regtest_path(path, sizeof path, "no-stream");
  ck_assert_int_eq(read_stream(path, &u, NULL), MESOS_ENOTFOUND);
  ck_assert(!regtest_exists(path));
}
END_TEST

START_TEST(test_update_stream__checkpoint_file_is_not_a_stream_and_vice_versa) {
  char path[PATH_MAX];
  regtest_path(path, sizeof path, "kinds");
  write_agent(path, "a1", "boot");
  updates u = {0};
  ck_assert_int_eq(read_stream(path, &u, NULL), MESOS_EPROTO);
  regtest_path(path, sizeof path, "kinds2");
  mesos__update_stream *s = open_stream(path, &u);
  append_ack(s, 1);
  mesos__update_stream_close(s);
  ck_assert_ptr_null(read_agent(path, MESOS_EPROTO));
}
END_TEST

/* Counts records, checking that record n (from 1) carries uuid byte n. */
static mesos_status count_update(ProtobufCMessage *msg, void *ud) {
  int *count = ud;
  UpdateRec *r = (UpdateRec *)msg;
  bool ok = r->has_uuid && r->uuid.len == 1 && r->uuid.data[0] == (uint8_t)(*count + 1);
  mesos__pb_free(msg);
  if (!ok) return MESOS_EPROTO;
  (*count)++;
  return MESOS_OK;
}

START_TEST(test_update_stream__kill_9_loses_no_acknowledged_append) {
  char path[PATH_MAX];
  regtest_path(path, sizeof path, "kill9-stream");
  srand((unsigned)getpid() * 7u);
  int acked = 0;
  for (int round = 0; round < 3; round++) {
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      mesos__update_stream *cs = NULL;
      if (mesos__update_stream_open(&cs, path, &mesos__internal__status_update_record__descriptor,
                                    NULL, NULL, NULL) != MESOS_OK)
        _exit(3);
      for (int n = acked + 1;; n++) {
        /* uuid bytes wrap at 256; the count is what the test checks */
        uint8_t byte = (uint8_t)n;
        UpdateRec r = MESOS__INTERNAL__STATUS_UPDATE_RECORD__INIT;
        r.type = MESOS__INTERNAL__STATUS_UPDATE_RECORD__TYPE__ACK;
        r.has_uuid = 1;
        r.uuid.len = 1;
        r.uuid.data = &byte;
        if (mesos__update_stream_append(cs, &r.base, NULL) != MESOS_OK) _exit(4);
        if (write(fds[1], &n, sizeof n) != sizeof n) _exit(5);
      }
    }
    close(fds[1]);
    int v;
    ck_assert_int_eq(read(fds[0], &v, sizeof v), (ssize_t)sizeof v);
    acked = v;
    usleep((useconds_t)(rand() % 40000));
    kill(pid, SIGKILL);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status), "child exited early with status %d", status);
    while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v) acked = v;
    close(fds[0]);
    /* Count with the reader, each record checked, then let the next
     * round's writer go on from exactly what is there. */
    int count = 0;
    mesos_error *err = NULL;
    ck_assert_mesos_ok(mesos__update_stream_read(path,
                                                 &mesos__internal__status_update_record__descriptor,
                                                 count_update, &count, NULL, &err),
                       &err);
    ck_assert_msg(count >= acked && count <= acked + 1, "round %d: %d acknowledged, %d present",
                  round, acked, count);
    acked = count;
  }
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("registry_checkpoint");
  TCase *tc = tcase_create("checkpoint");
  tcase_add_test(tc, test_checkpoint__message_round_trips_and_parents_are_created);
  tcase_add_test(tc, test_checkpoint__missing_file_is_not_found);
  tcase_add_test(tc, test_checkpoint__damaged_files_are_refused);
  tcase_add_test(tc, test_checkpoint__kill_between_write_and_rename_leaves_the_old_content);
  tcase_add_test(tc, test_checkpoint__kill_9_at_random_moments_never_exposes_a_partial_file);
  tcase_add_test(tc, test_checkpoint__symlink_is_replaced_atomically);
  tcase_add_test(tc, test_checkpoint__list_ids_returns_sorted_safe_directories_only);
  tcase_add_test(tc, test_update_stream__appends_replay_and_a_torn_tail_is_tolerated);
  tcase_add_test(tc, test_update_stream__damage_before_valid_records_is_refused);
  tcase_add_test(tc, test_update_stream__checkpoint_file_is_not_a_stream_and_vice_versa);
  tcase_add_test(tc, test_update_stream__kill_9_loses_no_acknowledged_append);
  REGTEST_TCASE(s, tc, 60);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }
