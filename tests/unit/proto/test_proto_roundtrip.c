/*
 * The C half of the protoc cross-check: every message of the corpus, as
 * encoded by protoc (the reference implementation), must unpack with the
 * protoc-c generated code without a single unknown field (so our descriptors
 * know every field protoc's do) and re-pack to exactly the same bytes.
 *
 * Corpus: tests/data/proto-text/NAME.txtpb names the type on its first line
 * ("# proto-message: mesos.v1.scheduler.Call"); tests/data/proto-bin/NAME.bin
 * is protoc's encoding (scripts/gen-proto-corpus.sh).  Environment, used by
 * tests/codec/protoc_crosscheck.sh:
 *   MESOS_PROTO_TEXT_DIR, MESOS_PROTO_BIN_DIR  read the corpus from elsewhere
 *   MESOS_PROTO_REPACK_DIR                     write each re-packed NAME.bin
 * `test_proto_roundtrip --list-types` prints the full name of every message
 * type the generated code has, one per line, and exits.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "support/proto_sample.h"
#include "support/testutil.h"

/* The corpus holds API messages of a few KiB; anything bigger is a mistake. */
#define CORPUS_MAX_FILE (1u << 20)
#define CORPUS_MIN_FILES 12

static const char *text_dir = "tests/data/proto-text";
static const char *bin_dir = "tests/data/proto-bin";
static const char *repack_dir = NULL;
static char **names = NULL; /* NAME of each NAME.txtpb, sorted */
static int n_names = 0;

static int read_file(const char *path, uint8_t **data, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return -errno;
  uint8_t *buf = malloc(CORPUS_MAX_FILE + 1);
  if (buf == NULL) {
    fclose(f);
    return -ENOMEM;
  }
  size_t n = fread(buf, 1, CORPUS_MAX_FILE + 1, f);
  int err = ferror(f);
  fclose(f);
  if (err || n > CORPUS_MAX_FILE) {
    free(buf);
    return err ? -EIO : -EFBIG;
  }
  *data = buf;
  *len = n;
  return 0;
}

/* The type named on the first line of NAME.txtpb. */
static void corpus_type(const char *name, char *type, size_t type_len) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.txtpb", text_dir, name);
  uint8_t *data;
  size_t len;
  ck_assert_msg(read_file(path, &data, &len) == 0, "cannot read %s", path);
  data[len] = '\0';
  static const char prefix[] = "# proto-message: ";
  ck_assert_msg(strncmp((const char *)data, prefix, sizeof prefix - 1) == 0,
                "%s: first line must be '%sTYPE'", path, prefix);
  const char *t = (const char *)data + sizeof prefix - 1;
  size_t n = strcspn(t, "\r\n \t");
  ck_assert_msg(n > 0 && n < type_len, "%s: bad type name", path);
  memcpy(type, t, n);
  type[n] = '\0';
  free(data);
}

START_TEST(test_proto__corpus_is_present) {
  ck_assert_msg(n_names >= CORPUS_MIN_FILES, "only %d corpus messages in %s (want >= %d)", n_names,
                text_dir, CORPUS_MIN_FILES);
}
END_TEST

START_TEST(test_proto__protoc_encoding_unpacks_completely_and_repacks_identically) {
  const char *name = names[_i];
  char type[256];
  corpus_type(name, type, sizeof type);
  const ProtobufCMessageDescriptor *d = mesos_test_proto_find(type);
  ck_assert_msg(d != NULL, "%s: no generated type %s", name, type);

  char path[1024];
  snprintf(path, sizeof path, "%s/%s.bin", bin_dir, name);
  uint8_t *wire;
  size_t len;
  ck_assert_msg(read_file(path, &wire, &len) == 0, "cannot read %s", path);
  ck_assert_msg(len > 0, "%s is empty", path);

  ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, wire);
  ck_assert_msg(m != NULL, "%s: protoc-c cannot unpack protoc's %s", name, type);
  ck_assert_msg(mesos_test_proto_unknown_fields(m) == 0,
                "%s: %zu fields protoc knows are unknown to the generated code", name,
                mesos_test_proto_unknown_fields(m));
  ck_assert_msg(protobuf_c_message_check(m), "%s: unpacked message fails the check", name);

  size_t size = protobuf_c_message_get_packed_size(m);
  uint8_t *out = malloc(size ? size : 1);
  ck_assert_ptr_nonnull(out);
  ck_assert_uint_eq(protobuf_c_message_pack(m, out), size);
  ck_assert_msg(size == len, "%s: re-packed to %zu bytes, protoc wrote %zu", name, size, len);
  for (size_t i = 0; i < len; i++)
    ck_assert_msg(out[i] == wire[i], "%s: byte %zu differs: 0x%02x vs protoc's 0x%02x", name, i,
                  out[i], wire[i]);

  if (repack_dir != NULL) {
    snprintf(path, sizeof path, "%s/%s.bin", repack_dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(out, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
  }
  free(out);
  free(wire);
  protobuf_c_message_free_unpacked(m, NULL);
}
END_TEST

static int is_txtpb(const struct dirent *e) {
  size_t n = strlen(e->d_name);
  return n > 6 && e->d_name[0] != '.' && strcmp(e->d_name + n - 6, ".txtpb") == 0;
}

static void load_corpus_names(void) {
  struct dirent **list = NULL;
  int n = scandir(text_dir, &list, is_txtpb, alphasort);
  if (n < 0) return; /* test_proto__corpus_is_present reports it */
  names = calloc((size_t)n + 1, sizeof *names);
  for (int i = 0; i < n; i++) {
    if (names != NULL) {
      names[i] = strdup(list[i]->d_name);
      if (names[i] != NULL) names[i][strlen(names[i]) - 6] = '\0';
    }
    free(list[i]);
  }
  free(list);
  if (names != NULL) n_names = n;
}

static Suite *make_suite(void) {
  Suite *s = suite_create("proto_roundtrip");
  TCase *tc = tcase_create("corpus");
  tcase_add_test(tc, test_proto__corpus_is_present);
  tcase_add_loop_test(tc, test_proto__protoc_encoding_unpacks_completely_and_repacks_identically, 0,
                      n_names);
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--list-types") == 0) {
    size_t n;
    const ProtobufCMessageDescriptor *const *all = mesos_test_proto_messages(&n);
    for (size_t i = 0; i < n; i++) printf("%s\n", all[i]->name);
    return 0;
  }
  if (getenv("MESOS_PROTO_TEXT_DIR")) text_dir = getenv("MESOS_PROTO_TEXT_DIR");
  if (getenv("MESOS_PROTO_BIN_DIR")) bin_dir = getenv("MESOS_PROTO_BIN_DIR");
  repack_dir = getenv("MESOS_PROTO_REPACK_DIR");
  load_corpus_names();
  int rc = mesos_test_main(make_suite());
  for (int i = 0; i < n_names; i++) free(names[i]);
  free(names);
  return rc;
}
