/* ACL JSON parsing and the local authorizer's decisions
 * (spec/authorization.md §2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authz/acls.h"
#include "authz/authz_int.h"
#include "base/alloc.h"
#include "support/oom.h"
#include "support/testutil.h"

static mesos__acls *parse_ok(const char *json) {
  mesos__acls *a = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos__acls_parse(&a, json, strlen(json), &err), &err);
  return a;
}

static mesos_status parse_err(const char *json, char *msg, size_t cap) {
  mesos__acls *a = NULL;
  mesos_error *err = NULL;
  mesos_status st = mesos__acls_parse(&a, json, strlen(json), &err);
  ck_assert_msg(st != MESOS_OK, "'%s' was accepted", json);
  ck_assert_ptr_null(a);
  ck_assert_ptr_nonnull(err);
  if (msg) snprintf(msg, cap, "%s", mesos_error_message(err));
  mesos_error_free(err);
  return st;
}

static int check(const mesos__acls *a, int32_t action, const char *subj, const char *obj) {
  return mesos__acls_check(a, action, subj, obj);
}

START_TEST(test_acls__every_action_key_of_the_spec_loads_one_rule) {
  char json[512];
  size_t n = 0;
  for (const char *const *k = mesos__acls_keys; *k; k++, n++) {
    const char *obj = "{\"values\": [\"x\"]}";
    if (strcmp(*k, "get_endpoints") == 0) obj = "{\"values\": [\"/metrics/snapshot\"]}";
    /* Find the object field name by trying the names the spec uses. */
    static const char *const fields[] = {"roles", "users", "framework_principals",
                                         "reserver_principals", "creator_principals", "paths",
                                         "logs", "flags", "level", "agents", "machines",
                                         "resource_providers", "images", NULL};
    int loaded = 0;
    for (const char *const *f = fields; *f && !loaded; f++) {
      for (int pass = 0; pass < 2 && !loaded; pass++) {
        snprintf(json, sizeof json,
                 "{\"%s\": [{\"principals\": {\"values\": [\"p\"]}, \"%s\": %s}]}", *k, *f,
                 pass == 0 ? obj : "{\"type\": \"ANY\"}");
        mesos__acls *a = NULL;
        if (mesos__acls_parse(&a, json, strlen(json), NULL) == MESOS_OK) {
          ck_assert_int_eq(mesos__acls_rule_count(a, *k), 1);
          mesos__acls_unref(a);
          loaded = 1;
        }
      }
    }
    ck_assert_msg(loaded, "no rule for key %s loaded", *k);
  }
  /* Every key of the spec's table (53 in 1.9), none forgotten. */
  ck_assert_uint_eq(n, 54);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_acls__malformed_documents_are_refused_with_a_reason) {
  char msg[512];
  parse_err("", msg, sizeof msg);
  parse_err("not json", msg, sizeof msg);
  parse_err("[]", msg, sizeof msg);
  parse_err("{\"permissive\": \"yes\"}", msg, sizeof msg);
  parse_err("{\"run_tasks\": {\"principals\": {\"type\": \"ANY\"}}}", msg, sizeof msg);
  parse_err("{\"run_tasks\": [{\"users\": {\"type\": \"ANY\"}}]}", msg, sizeof msg);
  ck_assert_msg(strstr(msg, "principals") != NULL, "%s", msg);
  parse_err("{\"run_tasks\": [{\"principals\": {\"type\": \"ANY\"}}]}", msg, sizeof msg);
  ck_assert_msg(strstr(msg, "users") != NULL, "%s", msg);
  parse_err("{\"run_tasks\": [{\"principals\": {\"type\": \"SOMETIMES\"}, \"users\": "
            "{\"type\": \"ANY\"}}]}", msg, sizeof msg);
  parse_err("{\"run_tasks\": [{\"principals\": {\"values\": \"a\"}, \"users\": "
            "{\"type\": \"ANY\"}}]}", msg, sizeof msg);
  parse_err("{\"run_tasks\": [{\"principals\": {\"values\": [1]}, \"users\": "
            "{\"type\": \"ANY\"}}]}", msg, sizeof msg);
  /* ANY/NONE-only objects. */
  parse_err("{\"view_flags\": [{\"principals\": {\"type\": \"ANY\"}, \"flags\": "
            "{\"values\": [\"f\"]}}]}", msg, sizeof msg);
  ck_assert_msg(strstr(msg, "view_flags[0].flags") != NULL, "%s", msg);
  parse_err("{\"set_log_level\": [{\"principals\": {\"type\": \"ANY\"}, \"level\": {}}]}", msg,
            sizeof msg);
  /* get_endpoints only for the paths Mesos authorizes that way. */
  parse_err("{\"get_endpoints\": [{\"principals\": {\"type\": \"ANY\"}, \"paths\": "
            "{\"values\": [\"/state\"]}}]}", msg, sizeof msg);
  ck_assert_msg(strstr(msg, "/state") != NULL, "%s", msg);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_acls__hostile_sizes_and_nesting_are_limited) {
  /* Nesting far beyond an ACL's own depth. */
  size_t depth = 5000;
  char *deep = malloc(depth * 2 + 64);
  size_t o = 0;
  o += (size_t)sprintf(deep + o, "{\"x\":");
  for (size_t i = 0; i < depth; i++) deep[o++] = '[';
  for (size_t i = 0; i < depth; i++) deep[o++] = ']';
  deep[o++] = '}';
  deep[o] = '\0';
  mesos_status st = parse_err(deep, NULL, 0);
  ck_assert(st == MESOS_ELIMIT || st == MESOS_EINVAL);
  free(deep);
  /* Bigger than the limit: refused before parsing. */
  size_t big = (size_t)MESOS_ACLS_MAX_BYTES + 1;
  char *huge = malloc(big + 1);
  memset(huge, ' ', big);
  huge[0] = '{';
  huge[big - 1] = '}';
  huge[big] = '\0';
  mesos__acls *a = NULL;
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos__acls_parse(&a, huge, big, &err), MESOS_ELIMIT);
  mesos_error_free(err);
  free(huge);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_acls__unknown_keys_are_ignored_and_empty_document_is_permissive) {
  mesos__acls *a = parse_ok("{\"run_taskz\": [], \"shutdown_frameworks\": []}");
  ck_assert(mesos__acls_permissive(a));
  ck_assert_int_eq(check(a, MESOS_AUTHZ_RUN_TASK, "anyone", "root"), 1);
  mesos__acls_unref(a);
  a = parse_ok("{\"permissive\": false}");
  ck_assert_int_eq(check(a, MESOS_AUTHZ_RUN_TASK, "anyone", "root"), 0);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_VIEW_FLAGS, NULL, NULL), 0);
  mesos__acls_unref(a);
}
END_TEST

/* "Principals foo and bar may run tasks as alice; nobody else may run
 * tasks as alice; everything else by permissive (true)". */
START_TEST(test_acls__run_tasks_as_user_example) {
  mesos__acls *a = parse_ok(
      "{\"run_tasks\": ["
      " {\"principals\": {\"values\": [\"foo\", \"bar\"]}, \"users\": {\"values\": [\"alice\"]}},"
      " {\"principals\": {\"type\": \"NONE\"}, \"users\": {\"values\": [\"alice\"]}}"
      "]}");
  ck_assert_int_eq(check(a, MESOS_AUTHZ_RUN_TASK, "foo", "alice"), 1);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_RUN_TASK, "bar", "alice"), 1);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_RUN_TASK, "baz", "alice"), 0);
  /* Not about alice: no rule matches, permissive. */
  ck_assert_int_eq(check(a, MESOS_AUTHZ_RUN_TASK, "baz", "bob"), 1);
  /* Without a principal (authentication off) the subject is ANY: the
   * SOME rule does not match, the NONE-subject rule does and denies. */
  ck_assert_int_eq(check(a, MESOS_AUTHZ_RUN_TASK, NULL, "alice"), 0);
  mesos__acls_unref(a);
}
END_TEST

/* "Only ops may tear down frameworks; permissive false". */
/* Mesos 1.0's deprecated keys are read as 1.0 read them, after the
 * current key's rules; remove_quotas decides a removal by the principal
 * that set the quota; update_quotas cannot be combined with set_quotas or
 * remove_quotas (a load error naming them, as 1.0). */
START_TEST(test_acls__mesos_1_0_deprecated_keys_still_decide) {
  mesos__acls *a = parse_ok(
      "{\"teardown_frameworks\": ["
      " {\"principals\": {\"values\": [\"ops\"]}, \"framework_principals\": {\"type\": \"ANY\"}}],"
      " \"shutdown_frameworks\": ["
      " {\"principals\": {\"values\": [\"ops\", \"dev\"]}, \"framework_principals\": "
      "{\"type\": \"NONE\"}},"
      " {\"principals\": {\"values\": [\"fw\"]}, \"framework_principals\": {\"values\": [\"fw\"]}}],"
      " \"set_quotas\": ["
      " {\"principals\": {\"values\": [\"ops\"]}, \"roles\": {\"type\": \"ANY\"}},"
      " {\"principals\": {\"type\": \"ANY\"}, \"roles\": {\"type\": \"NONE\"}}]}");
  /* teardown_frameworks first: ops allowed; then shutdown_frameworks. */
  ck_assert_int_eq(check(a, MESOS_AUTHZ_TEARDOWN_FRAMEWORK, "ops", "x"), 1);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_TEARDOWN_FRAMEWORK, "dev", "x"), 0);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_TEARDOWN_FRAMEWORK, "fw", "fw"), 1);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_TEARDOWN_FRAMEWORK, "other", "x"), 1); /* permissive */
  ck_assert_int_eq(mesos__acls_rule_count(a, "teardown_frameworks"), 3);
  /* set_quotas: setting a quota (both call forms). */
  ck_assert_int_eq(check(a, MESOS_AUTHZ_UPDATE_QUOTA, "ops", "r"), 1);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_UPDATE_QUOTA, "dev", "r"), 0);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_UPDATE_QUOTA_WITH_CONFIG, "dev", "r"), 0);
  ck_assert(mesos__acls_legacy_quota(a));
  mesos__acls_unref(a);
  /* An empty remove_quotas is harmless. */
  a = parse_ok("{\"remove_quotas\": []}");
  ck_assert(!mesos__acls_legacy_quota(a));
  mesos__acls_unref(a);
  /* remove_quotas: ops removes anyone's quota, dev only those it set,
   * nobody else any (nor a quota nobody is recorded to have set, unless
   * ANY). */
  a = parse_ok("{\"remove_quotas\": ["
               " {\"principals\": {\"values\": [\"ops\"]}, \"quota_principals\": {\"type\": \"ANY\"}},"
               " {\"principals\": {\"values\": [\"dev\"]}, \"quota_principals\": {\"values\": [\"dev\"]}},"
               " {\"principals\": {\"type\": \"ANY\"}, \"quota_principals\": {\"type\": \"NONE\"}}]}");
  ck_assert(mesos__acls_legacy_quota(a));
  ck_assert_int_eq(mesos__acls_rule_count(a, "remove_quotas"), 3);
  ck_assert_int_eq(check(a, MESOS__AUTHZ_REMOVE_QUOTA_LEGACY, "ops", "dev"), 1);
  ck_assert_int_eq(check(a, MESOS__AUTHZ_REMOVE_QUOTA_LEGACY, "ops", NULL), 1);
  ck_assert_int_eq(check(a, MESOS__AUTHZ_REMOVE_QUOTA_LEGACY, "dev", "dev"), 1);
  ck_assert_int_eq(check(a, MESOS__AUTHZ_REMOVE_QUOTA_LEGACY, "dev", "ops"), 0);
  ck_assert_int_eq(check(a, MESOS__AUTHZ_REMOVE_QUOTA_LEGACY, "dev", NULL), 0);
  ck_assert_int_eq(check(a, MESOS__AUTHZ_REMOVE_QUOTA_LEGACY, "eve", "eve"), 0);
  /* Setting is not its business (no set_quotas rules: permissive). */
  ck_assert_int_eq(check(a, MESOS_AUTHZ_UPDATE_QUOTA, "eve", "r"), 1);
  mesos__acls_unref(a);
  mesos__acls *b = NULL;
  mesos_error *err = NULL;
  const char *both[] = {
      "{\"update_quotas\": [{\"principals\": {\"type\": \"ANY\"}, \"roles\": {\"type\": \"ANY\"}}],"
      " \"remove_quotas\": [{\"principals\": {\"type\": \"ANY\"}, "
      "\"quota_principals\": {\"type\": \"NONE\"}}]}",
      "{\"update_quotas\": [{\"principals\": {\"type\": \"ANY\"}, \"roles\": {\"type\": \"ANY\"}}],"
      " \"set_quotas\": [{\"principals\": {\"type\": \"ANY\"}, \"roles\": {\"type\": \"NONE\"}}]}"};
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(mesos__acls_parse(&b, both[i], strlen(both[i]), &err), MESOS_EINVAL);
    ck_assert_msg(strstr(mesos_error_message(err), "update_quotas") &&
                      strstr(mesos_error_message(err), "remove_quotas"),
                  "%s", mesos_error_message(err));
    mesos_error_free(err);
    err = NULL;
  }
  /* A deprecated rule of the wrong shape names its own key. */
  const char *bad = "{\"shutdown_frameworks\": [{\"principals\": {\"type\": \"ANY\"}}]}";
  ck_assert_int_eq(mesos__acls_parse(&b, bad, strlen(bad), &err), MESOS_EINVAL);
  ck_assert_msg(strstr(mesos_error_message(err), "shutdown_frameworks") != NULL, "%s",
                mesos_error_message(err));
  mesos_error_free(err);
}
END_TEST

/* The disk actions (1.7+/1.8+; no daemon asks them: their operations are
 * not supported) load and decide by the disk's role like the other role
 * actions, hierarchical roles included. */
START_TEST(test_acls__disk_actions_decide_by_role) {
  static const struct {
    const char *key;
    int32_t action;
  } keys[] = {
      {"create_block_disks", MESOS_AUTHZ_CREATE_BLOCK_DISK},
      {"destroy_block_disks", MESOS_AUTHZ_DESTROY_BLOCK_DISK},
      {"create_mount_disks", MESOS_AUTHZ_CREATE_MOUNT_DISK},
      {"destroy_mount_disks", MESOS_AUTHZ_DESTROY_MOUNT_DISK},
      {"destroy_raw_disks", MESOS_AUTHZ_DESTROY_RAW_DISK},
  };
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    char json[512];
    snprintf(json, sizeof json,
             "{\"permissive\": false, \"%s\": [{\"principals\": {\"values\": [\"ops\"]}, "
             "\"roles\": {\"values\": [\"eng/%%\", \"web\"]}}]}",
             keys[i].key);
    mesos__acls *a = NULL;
    ck_assert_int_eq(mesos__acls_parse(&a, json, strlen(json), NULL), MESOS_OK);
    ck_assert_int_eq(check(a, keys[i].action, "ops", "web"), 1);
    ck_assert_int_eq(check(a, keys[i].action, "ops", "eng/data"), 1);
    ck_assert_int_eq(check(a, keys[i].action, "ops", "eng"), 0);
    ck_assert_int_eq(check(a, keys[i].action, "dev", "web"), 0);
    ck_assert_int_eq(check(a, keys[i].action, "ops", "other"), 0);
    mesos__acls_unref(a);
  }
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_acls__teardown_only_by_ops_non_permissive) {
  mesos__acls *a = parse_ok(
      "{\"permissive\": false, \"teardown_frameworks\": ["
      " {\"principals\": {\"values\": [\"ops\"]}, \"framework_principals\": {\"type\": \"ANY\"}}"
      "]}");
  ck_assert_int_eq(check(a, MESOS_AUTHZ_TEARDOWN_FRAMEWORK, "ops", "fw1"), 1);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_TEARDOWN_FRAMEWORK, "ops", NULL), 1);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_TEARDOWN_FRAMEWORK, "dev", "fw1"), 0);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_TEARDOWN_FRAMEWORK, NULL, "fw1"), 0);
  /* Other actions have no rules: permissive false denies them. */
  ck_assert_int_eq(check(a, MESOS_AUTHZ_RUN_TASK, "ops", "root"), 0);
  mesos__acls_unref(a);
}
END_TEST

START_TEST(test_acls__first_match_wins_so_a_deny_before_an_allow_denies) {
  mesos__acls *a = parse_ok(
      "{\"register_frameworks\": ["
      " {\"principals\": {\"values\": [\"a\"]}, \"roles\": {\"type\": \"NONE\"}},"
      " {\"principals\": {\"values\": [\"a\"]}, \"roles\": {\"values\": [\"web\"]}},"
      " {\"principals\": {\"type\": \"ANY\"}, \"roles\": {\"values\": [\"web\"]}}"
      "]}");
  ck_assert_int_eq(check(a, MESOS_AUTHZ_REGISTER_FRAMEWORK, "a", "web"), 0);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_REGISTER_FRAMEWORK, "b", "web"), 1);
  mesos__acls_unref(a);
  /* The other order: the allow comes first. */
  a = parse_ok(
      "{\"register_frameworks\": ["
      " {\"principals\": {\"values\": [\"a\"]}, \"roles\": {\"values\": [\"web\"]}},"
      " {\"principals\": {\"values\": [\"a\"]}, \"roles\": {\"type\": \"NONE\"}}"
      "]}");
  ck_assert_int_eq(check(a, MESOS_AUTHZ_REGISTER_FRAMEWORK, "a", "web"), 1);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_REGISTER_FRAMEWORK, "a", "db"), 0);
  mesos__acls_unref(a);
}
END_TEST

/* The matches/allows tables of §2.4, cell by cell, for request SOME and
 * ANY against rule SOME, NONE and ANY (object side). */
START_TEST(test_acls__entity_tables_cell_by_cell) {
  mesos__acls *some = parse_ok("{\"permissive\": true, \"run_tasks\": [{\"principals\": "
                               "{\"type\": \"ANY\"}, \"users\": {\"values\": [\"u\"]}}]}");
  mesos__acls *none = parse_ok("{\"permissive\": true, \"run_tasks\": [{\"principals\": "
                               "{\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}]}");
  mesos__acls *any = parse_ok("{\"permissive\": false, \"run_tasks\": [{\"principals\": "
                              "{\"type\": \"ANY\"}, \"users\": {\"type\": \"ANY\"}}]}");
  /* request SOME: SOME R⊆V match+allow; else no match -> permissive. */
  ck_assert_int_eq(check(some, MESOS_AUTHZ_RUN_TASK, "p", "u"), 1);
  ck_assert_int_eq(check(some, MESOS_AUTHZ_RUN_TASK, "p", "v"), 1); /* permissive */
  /* request ANY vs SOME: no match -> permissive. */
  ck_assert_int_eq(check(some, MESOS_AUTHZ_RUN_TASK, "p", NULL), 1);
  /* NONE rule: matches everything, allows nothing. */
  ck_assert_int_eq(check(none, MESOS_AUTHZ_RUN_TASK, "p", "u"), 0);
  ck_assert_int_eq(check(none, MESOS_AUTHZ_RUN_TASK, "p", NULL), 0);
  /* ANY rule: matches and allows, whatever permissive says. */
  ck_assert_int_eq(check(any, MESOS_AUTHZ_RUN_TASK, "p", "u"), 1);
  ck_assert_int_eq(check(any, MESOS_AUTHZ_RUN_TASK, "p", NULL), 1);
  ck_assert_int_eq(check(any, MESOS_AUTHZ_RUN_TASK, NULL, NULL), 1);
  mesos__acls_unref(some);
  mesos__acls_unref(none);
  mesos__acls_unref(any);
  /* Subject side: a SOME subject never matches a request without a
   * principal; an empty values list matches nobody. */
  mesos__acls *s = parse_ok("{\"permissive\": false, \"view_flags\": ["
                            " {\"principals\": {\"values\": []}, \"flags\": {\"type\": \"ANY\"}},"
                            " {\"principals\": {\"values\": [\"ops\"]}, \"flags\": {\"type\": \"ANY\"}}"
                            "]}");
  ck_assert_int_eq(check(s, MESOS_AUTHZ_VIEW_FLAGS, "ops", NULL), 1);
  ck_assert_int_eq(check(s, MESOS_AUTHZ_VIEW_FLAGS, "dev", NULL), 0);
  ck_assert_int_eq(check(s, MESOS_AUTHZ_VIEW_FLAGS, NULL, NULL), 0);
  /* ANY/NONE-only actions ignore the object a caller passes. */
  ck_assert_int_eq(check(s, MESOS_AUTHZ_VIEW_FLAGS, "ops", "whatever"), 1);
  mesos__acls_unref(s);
}
END_TEST

START_TEST(test_acls__hierarchical_roles_match_strictly_below_the_prefix) {
  mesos__acls *a = parse_ok(
      "{\"permissive\": false, \"register_frameworks\": ["
      " {\"principals\": {\"values\": [\"eng-lead\"]}, \"roles\": {\"values\": [\"eng/%\"]}},"
      " {\"principals\": {\"values\": [\"eng-lead\"]}, \"roles\": {\"values\": [\"eng\"]}}"
      "], \"run_tasks\": ["
      " {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"values\": [\"eng/%\"]}}"
      "]}");
  ck_assert_int_eq(check(a, MESOS_AUTHZ_REGISTER_FRAMEWORK, "eng-lead", "eng/a"), 1);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_REGISTER_FRAMEWORK, "eng-lead", "eng/a/b"), 1);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_REGISTER_FRAMEWORK, "eng-lead", "eng"), 1); /* rule 2 */
  ck_assert_int_eq(check(a, MESOS_AUTHZ_REGISTER_FRAMEWORK, "eng-lead", "engineering"), 0);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_REGISTER_FRAMEWORK, "eng-lead", "eng/"), 0);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_REGISTER_FRAMEWORK, "other", "eng/a"), 0);
  /* Users are not roles: "eng/%" is a literal user name there. */
  ck_assert_int_eq(check(a, MESOS_AUTHZ_RUN_TASK, "x", "eng/a"), 0);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_RUN_TASK, "x", "eng/%"), 1);
  mesos__acls_unref(a);
}
END_TEST

START_TEST(test_acls__two_key_actions_need_both_keys_to_allow) {
  mesos__acls *a = parse_ok(
      "{\"launch_nested_containers_as_user\": ["
      " {\"principals\": {\"values\": [\"p\"]}, \"users\": {\"values\": [\"nobody\"]}},"
      " {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}],"
      " \"launch_nested_containers_under_parent_with_user\": ["
      " {\"principals\": {\"values\": [\"p\"]}, \"users\": {\"values\": [\"svc\"]}},"
      " {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}]}");
  ck_assert_int_eq(mesos__acls_check2(a, MESOS_AUTHZ_LAUNCH_NESTED_CONTAINER, "p", "nobody",
                                      "svc"), 1);
  ck_assert_int_eq(mesos__acls_check2(a, MESOS_AUTHZ_LAUNCH_NESTED_CONTAINER, "p", "nobody",
                                      "root"), 0);
  ck_assert_int_eq(mesos__acls_check2(a, MESOS_AUTHZ_LAUNCH_NESTED_CONTAINER, "p", "root",
                                      "svc"), 0);
  /* UPDATE_QUOTA_WITH_CONFIG is decided by update_quotas. */
  mesos__acls_unref(a);
  a = parse_ok("{\"update_quotas\": [{\"principals\": {\"type\": \"ANY\"}, \"roles\": "
               "{\"type\": \"NONE\"}}]}");
  ck_assert_int_eq(check(a, MESOS_AUTHZ_UPDATE_QUOTA_WITH_CONFIG, "p", "r"), 0);
  ck_assert_int_eq(check(a, MESOS_AUTHZ_UPDATE_QUOTA, "p", "r"), 0);
  ck_assert_int_eq(check(a, 999, "p", "r"), 0);
  ck_assert_int_eq(check(a, 0, "p", "r"), 0);
  mesos__acls_unref(a);
}
END_TEST

START_TEST(test_acls__large_rule_sets_decide_like_a_linear_scan) {
  /* 1,000 rules for 300 principals with shared ANY/NONE rules in between:
   * the indexed decision must equal a naive first-match scan. */
  enum { NR = 1000 };
  size_t cap = NR * 160 + 64, o = 0;
  char *json = malloc(cap);
  o += (size_t)snprintf(json + o, cap - o, "{\"permissive\": false, \"run_tasks\": [");
  for (int i = 0; i < NR; i++) {
    const char *sep = i ? "," : "";
    if (i % 97 == 0)
      o += (size_t)snprintf(json + o, cap - o,
                            "%s{\"principals\": {\"type\": \"ANY\"}, \"users\": {\"values\": "
                            "[\"u%d\"]}}", sep, i % 50);
    else if (i % 89 == 0)
      o += (size_t)snprintf(json + o, cap - o,
                            "%s{\"principals\": {\"type\": \"NONE\"}, \"users\": {\"values\": "
                            "[\"u%d\"]}}", sep, (i + 7) % 50);
    else
      o += (size_t)snprintf(json + o, cap - o,
                            "%s{\"principals\": {\"values\": [\"p%d\", \"p%d\"]}, \"users\": "
                            "{\"values\": [\"u%d\"]}}", sep, i % 300, (i * 7) % 300, i % 50);
  }
  o += (size_t)snprintf(json + o, cap - o, "]}");
  /* Pass 0 with the per-principal index, pass 1 with no index budget (the
   * full-scan fallback): both must agree with the naive scan. */
  for (int pass = 0; pass < 2; pass++) {
    size_t old_budget = mesos__acls_set_index_budget(pass ? 0 : MESOS__ACLS_MAX_INDEX);
    mesos__acls *a = parse_ok(json);
    mesos__acls_set_index_budget(old_budget);
    ck_assert_int_eq(mesos__acls_rule_count(a, "run_tasks"), NR);
    char p[16], u[16];
    for (int pi = 0; pi < 310; pi += 3) {
      for (int ui = 0; ui < 52; ui += 5) {
        snprintf(p, sizeof p, "p%d", pi);
        snprintf(u, sizeof u, "u%d", ui);
        int want = 0; /* permissive false */
        for (int i = 0; i < NR; i++) {
          int rule_u = i % 97 == 0 ? i % 50 : i % 89 == 0 ? (i + 7) % 50 : i % 50;
          if (rule_u != ui) continue;
          if (i % 97 == 0) { want = 1; break; }
          if (i % 89 == 0) { want = 0; break; }
          if (i % 300 == pi || (i * 7) % 300 == pi) { want = 1; break; }
        }
        ck_assert_msg(check(a, MESOS_AUTHZ_RUN_TASK, p, u) == want, "pass %d: %s %s", pass, p, u);
      }
    }
    mesos__acls_unref(a);
  }
  free(json);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

/* ------------------------------------------------------------ public API */

typedef struct answer {
  int calls;
  mesos_status st;
  int allowed;
} answer;

static void on_answer(mesos_status st, int allowed, void *ud) {
  answer *a = ud;
  a->calls++;
  a->st = st;
  a->allowed = allowed;
}

static int ask(mesos_authorizer *az, int32_t action, const char *subj, const char *value) {
  mesos_authz_object obj = MESOS_AUTHZ_OBJECT_INIT;
  obj.value = value;
  mesos_authz_request r = MESOS_AUTHZ_REQUEST_INIT;
  r.action = action;
  r.subject = subj;
  r.object = value ? &obj : NULL;
  answer ans = {0, 0, 0};
  ck_assert_int_eq(mesos_authorizer_authorized(az, &r, on_answer, &ans), MESOS_OK);
  ck_assert_int_eq(ans.calls, 1);
  ck_assert_int_eq(ans.st, MESOS_OK);
  return ans.allowed;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  ck_assert_int_eq(chmod(path, 0600), 0);
}

static void got_approver(mesos_status st, mesos_authz_approver *ap, void *ud) {
  ck_assert_int_eq(st, MESOS_OK);
  *(mesos_authz_approver **)ud = ap;
}

/* As got_approver, for runs where the approver may fail (OOM torture). */
static void got_approver_any(mesos_status st, mesos_authz_approver *ap, void *ud) {
  *(mesos_authz_approver **)ud = st == MESOS_OK ? ap : NULL;
}

START_TEST(test_local_authorizer__file_reload_keeps_old_rules_when_malformed) {
  char dir[] = "/tmp/authz-test-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[128], url[160];
  snprintf(path, sizeof path, "%s/acls.json", dir);
  snprintf(url, sizeof url, "file://%s", path);
  write_file(path, "{\"permissive\": false, \"view_flags\": [{\"principals\": {\"values\": "
                   "[\"ops\"]}, \"flags\": {\"type\": \"ANY\"}}]}");
  mesos_authorizer *az = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_local_authorizer_new(&az, url, &err), &err);
  ck_assert_int_eq(ask(az, MESOS_AUTHZ_VIEW_FLAGS, "ops", NULL), 1);
  ck_assert_int_eq(ask(az, MESOS_AUTHZ_VIEW_FLAGS, "dev", NULL), 0);

  /* An approver taken now keeps the rules it was built from. */
  mesos_authz_approver *ap = NULL;
  ck_assert_int_eq(mesos_authorizer_approver(az, "ops", MESOS_AUTHZ_VIEW_FLAGS, got_approver,
                                             &ap), MESOS_OK);
  ck_assert_ptr_nonnull(ap);

  write_file(path, "{\"permissive\": false, \"view_flags\": [{\"principals\": {\"values\": "
                   "[\"dev\"]}, \"flags\": {\"type\": \"ANY\"}}]}");
  ck_assert_mesos_ok(mesos_authorizer_reload(az, &err), &err);
  ck_assert_int_eq(ask(az, MESOS_AUTHZ_VIEW_FLAGS, "ops", NULL), 0);
  ck_assert_int_eq(ask(az, MESOS_AUTHZ_VIEW_FLAGS, "dev", NULL), 1);
  ck_assert_int_eq(mesos_authz_approver_approved(ap, NULL), 1);
  mesos_authz_approver_free(ap);

  write_file(path, "{\"view_flags\": [{\"principals\": {\"values\": [\"x\"]}}]}");
  ck_assert_int_eq(mesos_authorizer_reload(az, &err), MESOS_EINVAL);
  ck_assert_msg(strstr(mesos_error_message(err), "acls.json") != NULL, "%s",
                mesos_error_message(err));
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(ask(az, MESOS_AUTHZ_VIEW_FLAGS, "dev", NULL), 1); /* old rules */
  ck_assert_int_eq(ask(az, MESOS_AUTHZ_VIEW_FLAGS, "ops", NULL), 0);

  unlink(path);
  ck_assert_int_eq(mesos_authorizer_reload(az, &err), MESOS_EIO);
  mesos_error_free(err);
  ck_assert_int_eq(ask(az, MESOS_AUTHZ_VIEW_FLAGS, "dev", NULL), 1);
  mesos_authorizer_free(az);
  rmdir(dir);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

START_TEST(test_local_authorizer__inline_json_none_and_bad_requests) {
  mesos_authorizer *az = NULL;
  mesos_error *err = NULL;
  /* No ACLs: everything allowed. */
  ck_assert_mesos_ok(mesos_local_authorizer_new(&az, NULL, &err), &err);
  ck_assert_int_eq(ask(az, MESOS_AUTHZ_RUN_TASK, "p", "root"), 1);
  mesos_authorizer_free(az);
  ck_assert_mesos_ok(mesos_local_authorizer_new(
                         &az, "  {\"run_tasks\": [{\"principals\": {\"type\": \"ANY\"}, "
                              "\"users\": {\"values\": [\"root\"]}}], \"permissive\": false}",
                         &err), &err);
  ck_assert_int_eq(ask(az, MESOS_AUTHZ_RUN_TASK, "p", "root"), 1);
  ck_assert_int_eq(ask(az, MESOS_AUTHZ_RUN_TASK, "p", "nobody"), 0);
  /* Reloading inline ACLs keeps them. */
  ck_assert_mesos_ok(mesos_authorizer_reload(az, &err), &err);
  ck_assert_int_eq(ask(az, MESOS_AUTHZ_RUN_TASK, "p", "root"), 1);
  /* Bad requests: done never runs. */
  answer ans = {0, 0, 0};
  mesos_authz_request r = MESOS_AUTHZ_REQUEST_INIT;
  r.action = 1000;
  ck_assert_int_eq(mesos_authorizer_authorized(az, &r, on_answer, &ans), MESOS_EINVAL);
  r.action = MESOS_AUTHZ_RUN_TASK;
  r.version = 99;
  ck_assert_int_eq(mesos_authorizer_authorized(az, &r, on_answer, &ans), MESOS_EINVAL);
  ck_assert_int_eq(mesos_authorizer_authorized(az, NULL, on_answer, &ans), MESOS_EINVAL);
  ck_assert_int_eq(ans.calls, 0);
  mesos_authorizer_free(az);
  /* Unreadable path and malformed inline JSON. */
  ck_assert_int_eq(mesos_local_authorizer_new(&az, "/nonexistent/acls.json", &err), MESOS_EIO);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos_local_authorizer_new(&az, "{\"run_tasks\": 3}", &err), MESOS_EINVAL);
  mesos_error_free(err);
  ck_assert_str_eq(mesos_authz_action_name(MESOS_AUTHZ_VIEW_FLAGS), "VIEW_FLAGS");
  ck_assert_ptr_null(mesos_authz_action_name(0));
  ck_assert_ptr_null(mesos_authz_action_name(54));
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

/* A fake vendor authorizer that counts calls and answers later. */
typedef struct fake_az {
  int authorized_calls, approver_calls, reloads, frees;
  mesos_authz_done_fn held;
  void *held_ud;
} fake_az;

static void fake_authorized(void *ud, const mesos_authz_request *req, mesos_authz_done_fn done,
                            void *done_ud) {
  fake_az *f = ud;
  f->authorized_calls++;
  (void)req;
  f->held = done;
  f->held_ud = done_ud;
}
static int fake_approved(void *aud, const mesos_authz_object *o) {
  (void)aud;
  return o && o->value && strcmp(o->value, "ok") == 0;
}
static const mesos_authz_approver_ops FAKE_APPROVER = {MESOS_AUTHZ_APPROVER_OPS_VERSION,
                                                       fake_approved, NULL};
static void fake_approver(void *ud, const char *subject, int32_t action,
                          mesos_authz_approver_fn done, void *done_ud) {
  fake_az *f = ud;
  (void)subject;
  (void)action;
  f->approver_calls++;
  done(MESOS_OK, &FAKE_APPROVER, NULL, done_ud);
}
static mesos_status fake_reload(void *ud, mesos_error **err) {
  (void)err;
  ((fake_az *)ud)->reloads++;
  return MESOS_OK;
}
static void fake_free(void *ud) { ((fake_az *)ud)->frees++; }

START_TEST(test_authorizer__vendor_table_contract) {
  fake_az f = {0};
  mesos_authorizer_ops ops = {MESOS_AUTHORIZER_OPS_VERSION, fake_authorized, fake_approver,
                              fake_reload, fake_free};
  mesos_authorizer *az = NULL;
  mesos_error *err = NULL;
  mesos_authorizer_ops bad = ops;
  bad.version = 7;
  ck_assert_int_eq(mesos_authorizer_new(&az, &bad, &f, &err), MESOS_EVERSION);
  mesos_error_free(err);
  err = NULL;
  bad = ops;
  bad.approver = NULL;
  ck_assert_int_eq(mesos_authorizer_new(&az, &bad, &f, &err), MESOS_EINVAL);
  ck_assert_msg(strstr(mesos_error_message(err), "approver") != NULL, "%s",
                mesos_error_message(err));
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(f.frees, 0);
  ck_assert_mesos_ok(mesos_authorizer_new(&az, &ops, &f, &err), &err);
  /* An asynchronous answer arrives after the call returned. */
  answer ans = {0, 0, 0};
  mesos_authz_request r = MESOS_AUTHZ_REQUEST_INIT;
  r.action = MESOS_AUTHZ_RUN_TASK;
  ck_assert_int_eq(mesos_authorizer_authorized(az, &r, on_answer, &ans), MESOS_OK);
  ck_assert_int_eq(ans.calls, 0);
  f.held(MESOS_OK, 1, f.held_ud);
  ck_assert_int_eq(ans.calls, 1);
  ck_assert_int_eq(ans.allowed, 1);
  mesos_authz_approver *ap = NULL;
  ck_assert_int_eq(mesos_authorizer_approver(az, "p", MESOS_AUTHZ_VIEW_TASK, got_approver, &ap),
                   MESOS_OK);
  mesos_authz_object o = MESOS_AUTHZ_OBJECT_INIT;
  o.value = "ok";
  ck_assert_int_eq(mesos_authz_approver_approved(ap, &o), 1);
  o.value = "no";
  ck_assert_int_eq(mesos_authz_approver_approved(ap, &o), 0);
  mesos_authz_approver_free(ap);
  ck_assert_mesos_ok(mesos_authorizer_reload(az, &err), &err);
  ck_assert_int_eq(f.reloads, 1);
  mesos_authorizer_free(az);
  ck_assert_int_eq(f.frees, 1);
  ck_assert_int_eq(mesos__alloc_live(), 0);
}
END_TEST

/* Every allocation of parsing, compiling and approving fails once: each
 * run fails with MESOS_ENOMEM and leaves nothing behind. */
static mesos_status oom_acls_op(void *ud) {
  (void)ud;
  const char *json =
      "{\"permissive\": false, \"run_tasks\": ["
      " {\"principals\": {\"values\": [\"a\", \"b\"]}, \"users\": {\"values\": "
      "[\"u1\", \"u2\", \"u3\", \"u4\", \"u5\", \"u6\", \"u7\", \"u8\", \"u9\", \"u10\"]}},"
      " {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}],"
      " \"register_frameworks\": [{\"principals\": {\"values\": [\"a\"]}, \"roles\": "
      "{\"values\": [\"eng/%\"]}}]}";
  mesos_authorizer *az = NULL;
  mesos_error *err = NULL;
  mesos_status st = mesos_local_authorizer_new(&az, json, &err);
  if (st != MESOS_OK) {
    mesos_error_free(err);
    return st;
  }
  mesos_authz_approver *ap = NULL;
  mesos_authz_approver_done_fn cb = got_approver_any;
  st = mesos_authorizer_approver(az, "a", MESOS_AUTHZ_RUN_TASK, cb, &ap);
  if (st == MESOS_OK && ap == NULL) st = MESOS_ENOMEM;
  mesos_authz_approver_free(ap);
  mesos_authorizer_free(az);
  return st;
}

START_TEST(test_acls__out_of_memory_anywhere_fails_cleanly) {
  ck_assert_uint_gt(mesos_test_oom_torture(oom_acls_op, NULL, 100000), 10);
}
END_TEST

/* Approvers work out once whether their answer depends on the object
 * (mesos__acls_bind_precompute); whatever they work out, every decision
 * must be the one a plain check gives.  Random rule sets of SOME / ANY /
 * NONE entities, every principal and object, both permissive values. */
START_TEST(test_acls__precomputed_approvers_decide_like_plain_checks) {
  static const char *const vals[] = {"u0", "u1", "u2"};
  static const char *const subjects[] = {NULL, "p0", "p1", "p2", "nobody"};
  static const char *const objects[] = {NULL, "u0", "u1", "u2", "other"};
  unsigned seed = 7;
  int constant_seen = 0, varying_seen = 0;
  for (int round = 0; round < 400; round++) {
    char json[4096];
    size_t o = 0;
    seed = seed * 1103515245u + 12345u;
    int nrules = 1 + (int)((seed >> 8) % 5);
    o += (size_t)snprintf(json + o, sizeof json - o, "{\"permissive\": %s, \"view_tasks\": [",
                          (seed >> 20) & 1 ? "true" : "false");
    for (int r = 0; r < nrules; r++) {
      char ent[2][96];
      for (int e = 0; e < 2; e++) {
        seed = seed * 1103515245u + 12345u;
        unsigned k = (seed >> 8) % 5;
        if (k == 0) snprintf(ent[e], sizeof ent[e], "{\"type\": \"ANY\"}");
        else if (k == 1) snprintf(ent[e], sizeof ent[e], "{\"type\": \"NONE\"}");
        else if (e == 0) snprintf(ent[e], sizeof ent[e], "{\"values\": [\"p%u\"]}", k % 3);
        else snprintf(ent[e], sizeof ent[e], "{\"values\": [\"%s\"]}", vals[k % 3]);
      }
      o += (size_t)snprintf(json + o, sizeof json - o, "%s{\"principals\": %s, \"users\": %s}",
                            r ? "," : "", ent[0], ent[1]);
    }
    snprintf(json + o, sizeof json - o, "]}");
    mesos__acls *a = parse_ok(json);
    for (size_t si = 0; si < sizeof subjects / sizeof subjects[0]; si++) {
      mesos__acls_binding b;
      mesos__acls_bind(&b, a, MESOS_AUTHZ_VIEW_TASK, subjects[si]);
      mesos__acls_bind_precompute(&b);
      if (b.constant >= 0) constant_seen++;
      else varying_seen++;
      for (size_t oi = 0; oi < sizeof objects / sizeof objects[0]; oi++)
        ck_assert_msg(mesos__acls_check_bound(&b, objects[oi], objects[oi]) ==
                          check(a, MESOS_AUTHZ_VIEW_TASK, subjects[si], objects[oi]),
                      "%s: subject %s object %s", json, subjects[si] ? subjects[si] : "(none)",
                      objects[oi] ? objects[oi] : "(none)");
    }
    mesos__acls_unref(a);
  }
  /* Both kinds occurred, so both paths were compared. */
  ck_assert_int_gt(constant_seen, 100);
  ck_assert_int_gt(varying_seen, 100);
  /* The case state filtering meets: an operator under a final ANY rule,
   * after rules naming users for everybody. */
  mesos__acls *a = parse_ok(
      "{\"view_tasks\": [{\"principals\": {\"type\": \"ANY\"}, \"users\": {\"values\": [\"u1\"]}},"
      " {\"principals\": {\"values\": [\"ops\"]}, \"users\": {\"type\": \"ANY\"}},"
      " {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}]}");
  mesos__acls_binding b;
  mesos__acls_bind(&b, a, MESOS_AUTHZ_VIEW_TASK, "ops");
  mesos__acls_bind_precompute(&b);
  ck_assert_int_eq(b.constant, 1);
  mesos__acls_bind(&b, a, MESOS_AUTHZ_VIEW_TASK, "dev");
  mesos__acls_bind_precompute(&b);
  ck_assert_int_eq(b.constant, -1);
  ck_assert_int_eq(mesos__acls_check_bound(&b, "u1", "u1"), 1);
  ck_assert_int_eq(mesos__acls_check_bound(&b, "u2", "u2"), 0);
  mesos__acls_unref(a);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("acls");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_acls__every_action_key_of_the_spec_loads_one_rule);
  tcase_add_test(tc, test_acls__malformed_documents_are_refused_with_a_reason);
  tcase_add_test(tc, test_acls__hostile_sizes_and_nesting_are_limited);
  tcase_add_test(tc, test_acls__unknown_keys_are_ignored_and_empty_document_is_permissive);
  tcase_add_test(tc, test_acls__run_tasks_as_user_example);
  tcase_add_test(tc, test_acls__teardown_only_by_ops_non_permissive);
  tcase_add_test(tc, test_acls__mesos_1_0_deprecated_keys_still_decide);
  tcase_add_test(tc, test_acls__first_match_wins_so_a_deny_before_an_allow_denies);
  tcase_add_test(tc, test_acls__entity_tables_cell_by_cell);
  tcase_add_test(tc, test_acls__hierarchical_roles_match_strictly_below_the_prefix);
  tcase_add_test(tc, test_acls__two_key_actions_need_both_keys_to_allow);
  tcase_add_test(tc, test_acls__large_rule_sets_decide_like_a_linear_scan);
  tcase_add_test(tc, test_acls__precomputed_approvers_decide_like_plain_checks);
  tcase_add_test(tc, test_local_authorizer__file_reload_keeps_old_rules_when_malformed);
  tcase_add_test(tc, test_local_authorizer__inline_json_none_and_bad_requests);
  tcase_add_test(tc, test_authorizer__vendor_table_contract);
  tcase_add_test(tc, test_acls__out_of_memory_anywhere_fails_cleanly);
  tcase_add_test(tc, test_acls__disk_actions_decide_by_role);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }
