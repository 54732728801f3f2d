/* Golden JSON (tests/data/codec/golden/): inputs as clients send them,
 * outputs as Mesos answers them (spec/http-api.md section 5).  Each input
 * is decoded and re-encoded; the result must equal the output
 * semantically (key order free, numbers by value). */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "codec/registry.h"
#include "support/testutil.h"

#define GOLDEN_DIR "tests/data/codec/golden"

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  char *buf = malloc(1 << 20);
  *len = fread(buf, 1, (1 << 20) - 1, f);
  buf[*len] = '\0';
  fclose(f);
  return buf;
}

/* Semantic equality of two JSON trees; writes where they differ. */
static bool same(yajl_val a, yajl_val b, char *why, size_t n, const char *path, int depth) {
  if (depth > 100) return snprintf(why, n, "%s: too deep", path), false;
  if (a->type != b->type) return snprintf(why, n, "%s: types differ", path), false;
  switch (a->type) {
    case yajl_t_string:
      if (strcmp(a->u.string, b->u.string) != 0)
        return snprintf(why, n, "%s: \"%s\" vs \"%s\"", path, a->u.string, b->u.string), false;
      return true;
    case yajl_t_number: {
      double x = strtod(a->u.number.r, NULL), y = strtod(b->u.number.r, NULL);
      if (x != y) return snprintf(why, n, "%s: %s vs %s", path, a->u.number.r, b->u.number.r), false;
      return true;
    }
    case yajl_t_array:
      if (a->u.array.len != b->u.array.len) return snprintf(why, n, "%s: lengths differ", path), false;
      for (size_t i = 0; i < a->u.array.len; i++) {
        char sub[512];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (!same(a->u.array.values[i], b->u.array.values[i], why, n, sub, depth + 1)) return false;
      }
      return true;
    case yajl_t_object:
      if (a->u.object.len != b->u.object.len)
        return snprintf(why, n, "%s: %zu keys vs %zu", path, a->u.object.len, b->u.object.len), false;
      for (size_t i = 0; i < a->u.object.len; i++) {
        const char *key = a->u.object.keys[i];
        const char *p[2] = {key, NULL};
        yajl_val other = yajl_tree_get(b, p, yajl_t_any);
        char sub[512];
        snprintf(sub, sizeof sub, "%s.%s", path, key);
        if (other == NULL) return snprintf(why, n, "%s: missing", sub), false;
        if (!same(a->u.object.values[i], other, why, n, sub, depth + 1)) return false;
      }
      return true;
    default:
      return true; /* true, false, null: the type says it all */
  }
}

static char *reencode(const ProtobufCMessageDescriptor *d, const char *json, size_t len) {
  ProtobufCMessage *m = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__json_decode(d, json, len, NULL, &m, &err), &err);
  mesos__buf b = MESOS__BUF_INIT(1 << 20);
  ck_assert_mesos_ok(mesos__json_encode(m, &b, &err), &err);
  mesos__pb_free(m);
  return mesos__buf_detach(&b, NULL);
}

static void check_same(const char *name, const char *got, const char *want) {
  char e1[256], e2[256], why[1024] = "";
  yajl_val g = yajl_tree_parse(got, e1, sizeof e1);
  yajl_val w = yajl_tree_parse(want, e2, sizeof e2);
  ck_assert_msg(g != NULL, "%s: our output is not JSON: %s", name, e1);
  ck_assert_msg(w != NULL, "%s: golden output is not JSON: %s", name, e2);
  ck_assert_msg(same(g, w, why, sizeof why, "", 0), "%s: %s\ngot:  %s\nwant: %s", name, why, got, want);
  yajl_tree_free(g);
  yajl_tree_free(w);
}

START_TEST(test_golden__client_json_decodes_and_encodes_as_mesos_does) {
  DIR *dir = opendir(GOLDEN_DIR);
  ck_assert_msg(dir != NULL, "no %s (run from the repository root)", GOLDEN_DIR);
  int cases = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    size_t nl = strlen(e->d_name);
    if (nl < 9 || strcmp(e->d_name + nl - 8, ".in.json") != 0) continue;
    char in_path[512], out_path[512];
    snprintf(in_path, sizeof in_path, "%s/%s", GOLDEN_DIR, e->d_name);
    snprintf(out_path, sizeof out_path, "%s/%.*s.out.json", GOLDEN_DIR, (int)(nl - 8), e->d_name);
    size_t in_len, out_len;
    char *in = slurp(in_path, &in_len), *want = slurp(out_path, &out_len);
    char *body = strchr(in, '\n');
    ck_assert_ptr_nonnull(body);
    *body++ = '\0';
    const ProtobufCMessageDescriptor *d = mesos__codec_find_message(in);
    ck_assert_msg(d != NULL, "%s: unknown type %s", e->d_name, in);
    char *got = reencode(d, body, strlen(body));
    check_same(e->d_name, got, want);
    /* Mesos' own output reads back to itself. */
    char *again = reencode(d, want, out_len);
    check_same(e->d_name, again, want);
    mesos__free(again);
    mesos__free(got);
    free(in);
    free(want);
    cases++;
  }
  closedir(dir);
  ck_assert_int_ge(cases, 9);
}
END_TEST

static Suite *golden_suite(void) {
  Suite *s = suite_create("codec_golden");
  TCase *tc = tcase_create("golden");
  tcase_add_test(tc, test_golden__client_json_decodes_and_encodes_as_mesos_does);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(golden_suite()); }
