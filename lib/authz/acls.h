/* Mesos ACLs (the --acls JSON, message mesos.ACLs) compiled into a matcher.
 *
 * Parsing goes through the reflective JSON codec (json.h: bounded depth,
 * input and allocation), then every repeated field of mesos.ACLs becomes
 * one rule list, in file order.  Matching follows spec/authorization.md
 * §2.4: the first rule whose subject and object entities both *match* the
 * request decides, and it allows only if both entities *allow*; no match
 * gives `permissive`.
 *
 * Speed: a request carries one subject value at most, so the rules that
 * can match a principal are the rules naming it plus the rules whose
 * subject is ANY or NONE.  For every (key, principal) that list is merged
 * at compile time, in file order, and found with one hash lookup; a
 * request then scans only its own candidates.
 *
 * A compiled set is immutable and reference-counted, so approvers built
 * from it survive a reload that swaps in a new set. */
#ifndef MESOS_AUTHZ_ACLS_H
#define MESOS_AUTHZ_ACLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesos/error.h"

typedef struct mesos__acls mesos__acls;

/* Largest merged candidate index (entries over all keys and principals):
 * 1,000 principals each with 1,000 shared ANY-subject rules stay far below;
 * beyond it the principals fall back to a full scan of the key's rules. */
#define MESOS__ACLS_MAX_INDEX ((size_t)16 << 20)

/* Sets the index budget of later parses (tests: 0 forces the full-scan
 * path); returns the old one.  Not thread-safe. */
size_t mesos__acls_set_index_budget(size_t entries);

/* Compiles `len` bytes of ACL JSON.  MESOS_EINVAL / MESOS_ELIMIT /
 * MESOS_ENOMEM as mesos_local_authorizer_new documents. */
mesos_status mesos__acls_parse(mesos__acls **out, const char *json, size_t len,
                               mesos_error **err);

mesos__acls *mesos__acls_ref(mesos__acls *a);
void mesos__acls_unref(mesos__acls *a);

/* The decision for (action, subject, object): 1 allowed, 0 denied.
 * `subject` NULL = no principal (ANY); `object` NULL = no object (ANY).
 * Actions with two ACL keys (LAUNCH_NESTED_CONTAINER[_SESSION]) need both
 * to allow.  An action the table does not know is denied. */
int mesos__acls_check(const mesos__acls *a, int32_t action, const char *subject,
                      const char *object);

/* As mesos__acls_check, with the second value of the two-key actions
 * (`parent`: the parent executor's user; NULL = ANY). */
int mesos__acls_check2(const mesos__acls *a, int32_t action, const char *subject,
                       const char *object, const char *parent);

/* A (subject, action) resolved once, for approvers that decide many
 * objects: the candidate lists are looked up at bind time, so each
 * decision is a scan of the few candidate rules.  Valid while `a` is. */
typedef struct mesos__acls_binding {
  const mesos__acls *acls;
  const char *subject; /* borrowed */
  int k1, k2;
  const void *c1, *c2; /* candidate lists (NULL: scan all rules) */
  /* 0 or 1: the decision for every object (it depends on none: the
   * candidate rules all decide alike); -1: it depends on the object. */
  int constant;
} mesos__acls_binding;
void mesos__acls_bind(mesos__acls_binding *b, const mesos__acls *a, int32_t action,
                      const char *subject);
int mesos__acls_check_bound(const mesos__acls_binding *b, const char *object,
                            const char *parent);
/* Works out, once, whether the binding's answer depends on the object at
 * all (b->constant); approvers that decide many objects call it. */
void mesos__acls_bind_precompute(mesos__acls_binding *b);

/* Mesos 1.0's remove_quotas rules (acls_1_0.proto): removing a quota, by
 * the principal that set it (the object; none when the quota has no
 * recorded setter).  An internal action: mesos__acls_check decides it,
 * no authorizer is ever asked it (it is not a mesos_authz_action). */
#define MESOS__AUTHZ_REMOVE_QUOTA_LEGACY 1000
/* Whether the ACLs hold Mesos 1.0's set_quotas / remove_quotas rules (they
 * exclude update_quotas: a load error, as in 1.0).  Then setting a quota
 * is decided by set_quotas (as UPDATE_QUOTA, by role) and removing one by
 * remove_quotas (MESOS__AUTHZ_REMOVE_QUOTA_LEGACY), as 1.0 did. */
bool mesos__acls_legacy_quota(const mesos__acls *a);

/* Whether `action` is a valid mesos_authz_action number. */
bool mesos__authz_action_valid(int32_t action);

/* Number of rules for ACL key `key` ("run_tasks"), -1 for an unknown key
 * (tests). */
long mesos__acls_rule_count(const mesos__acls *a, const char *key);
bool mesos__acls_permissive(const mesos__acls *a);

/* The ACL JSON keys this implementation knows, NULL-terminated (tests). */
extern const char *const mesos__acls_keys[];

#endif
