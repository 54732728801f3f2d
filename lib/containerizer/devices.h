/*
 * Device access rules for containers, and their two enforcements.
 *
 * A rule is Mesos's (and the v1 devices controller's) text form
 * "<type> <major>:<minor> <access>": type c (character), b (block) or a
 * (all); major and minor a number or '*'; access a non-empty subset of
 * "rwm" (read, write, mknod).  cgroup v1 takes the text as it is
 * (devices.allow).  cgroup v2 has no devices controller: the kernel asks
 * a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup, so the
 * rules are compiled into one, hand-assembled (no libbpf, no clang): an
 * allow-list that answers 1 for the first matching rule and 0 otherwise.
 */
#ifndef MESOS_CONTAINERIZER_DEVICES_H
#define MESOS_CONTAINERIZER_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include "mesos/containerizer.h"

enum { MESOS__DEV_READ = 1, MESOS__DEV_WRITE = 2, MESOS__DEV_MKNOD = 4 };

typedef struct mesos__dev_rule {
  char type;      /* 'c', 'b' or 'a' */
  int64_t major;  /* -1: any */
  int64_t minor;  /* -1: any */
  unsigned access;/* MESOS__DEV_* */
} mesos__dev_rule;

/* Rules in a program at most: Mesos's default list has 14; the bound
 * keeps the program far below the verifier's limits. */
#define MESOS__DEV_RULES_MAX 256

/* Mesos's default whitelist (spec, cgroups/devices): mknod of anything,
 * rwm on the terminal and pseudo devices. */
extern const char *const mesos__dev_default_rules[];
extern const size_t mesos__dev_default_nrules;

/* Parses one rule.  MESOS_EINVAL names what is wrong. */
mesos_status mesos__dev_rule_parse(const char *text, mesos__dev_rule *out, mesos_error **err);

/* Compiles rules into BPF instructions (struct bpf_insn, 8 bytes each).
 * *out is allocated (mesos__free); *ninsns its length.  Pure: tests
 * check the program by running it through mesos__dev_program_eval. */
mesos_status mesos__dev_program(const mesos__dev_rule *rules, size_t n, void **out,
                                size_t *ninsns, mesos_error **err);

/* Interprets a program made by mesos__dev_program for one access
 * (type 'c'/'b', one MESOS__DEV_* bit): 1 allowed, 0 denied, -1 an
 * instruction the compiler never emits.  For tests without a kernel. */
int mesos__dev_program_eval(const void *insns, size_t ninsns, char type, uint32_t major,
                            uint32_t minor, unsigned access);

/* Loads the program for `rules` and attaches it to the cgroup v2
 * directory `cgroup_dir` (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI: programs
 * of ancestors still apply, so this can only narrow access).  The program
 * stays attached until the cgroup is removed.  Errors: MESOS_EUNSUPPORTED
 * (no bpf(2) or no cgroup BPF in this kernel), MESOS_EIO (load, with the
 * verifier's log, or attach failed). */
mesos_status mesos__dev_bpf_attach(const char *cgroup_dir, const mesos__dev_rule *rules, size_t n,
                                   mesos_error **err);

#endif
