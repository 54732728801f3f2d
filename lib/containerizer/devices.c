/*
 * Device rules and the cgroup v2 device program.  See devices.h.
 *
 * The program, for a context {access_type, major, minor} where
 * access_type = (access bits << 16) | device type bit:
 *
 *   r2 = ctx->access_type & 0xffff      device type (BPF_DEVCG_DEV_*)
 *   r3 = ctx->access_type >> 16         requested access (BPF_DEVCG_ACC_*)
 *   r4 = ctx->major
 *   r5 = ctx->minor
 *   per rule:
 *     if r2 != type goto next           (left out for type 'a')
 *     r1 = r3 & allowed; if r1 != r3 goto next   (left out for "rwm")
 *     if r4 != major goto next          (left out for '*')
 *     if r5 != minor goto next          (left out for '*')
 *     r0 = 1; exit
 *   next: ...
 *   r0 = 0; exit
 *
 * The kernel asks once per open/mknod with one access bit set, but the
 * subset test also answers correctly for a combined request.
 */
#include "containerizer/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"

const char *const mesos__dev_default_rules[] = {
  "c *:* m",     "b *:* m",     "c 5:1 rwm", /* console */ "c 4:0 rwm", /* tty0 */
  "c 4:1 rwm",   /* tty1 */     "c 136:* rwm", /* pts */ "c 5:2 rwm", /* ptmx */
  "c 10:200 rwm", /* net/tun */ "c 1:3 rwm", /* null */ "c 1:5 rwm", /* zero */
  "c 1:7 rwm",   /* full */     "c 5:0 rwm", /* tty */ "c 1:9 rwm", /* urandom */
  "c 1:8 rwm",   /* random */
};
const size_t mesos__dev_default_nrules =
    sizeof mesos__dev_default_rules / sizeof *mesos__dev_default_rules;

/* Device numbers are 12 (major) and 20 (minor) bits in the kernel. */
#define MAJOR_MAX 4095
#define MINOR_MAX 1048575

static int parse_num(const char **p, int64_t max, int64_t *out) {
  const char *s = *p;
  if (*s == '*') {
    *out = -1;
    *p = s + 1;
    return 1;
  }
  if (*s < '0' || *s > '9') return 0;
  int64_t v = 0;
  while (*s >= '0' && *s <= '9') {
    v = v * 10 + (*s - '0');
    if (v > max) return 0;
    s++;
  }
  *out = v;
  *p = s;
  return 1;
}

mesos_status mesos__dev_rule_parse(const char *text, mesos__dev_rule *out, mesos_error **err) {
  if (text == NULL || out == NULL) return mesos__err(err, MESOS_EINVAL, "device rule: NULL");
  const char *p = text;
  mesos__dev_rule r = {0};
  r.type = *p;
  if (r.type != 'c' && r.type != 'b' && r.type != 'a') goto bad;
  p++;
  if (r.type == 'a' && *p == '\0') { /* "a" alone: everything */
    r.major = r.minor = -1;
    r.access = MESOS__DEV_READ | MESOS__DEV_WRITE | MESOS__DEV_MKNOD;
    *out = r;
    return MESOS_OK;
  }
  if (*p++ != ' ') goto bad;
  if (!parse_num(&p, MAJOR_MAX, &r.major) || *p++ != ':' || !parse_num(&p, MINOR_MAX, &r.minor))
    goto bad;
  if (*p++ != ' ' || *p == '\0') goto bad;
  for (; *p; p++) {
    unsigned bit = *p == 'r' ? MESOS__DEV_READ : *p == 'w' ? MESOS__DEV_WRITE
                 : *p == 'm' ? MESOS__DEV_MKNOD : 0;
    if (bit == 0 || (r.access & bit)) goto bad;
    r.access |= bit;
  }
  *out = r;
  return MESOS_OK;
bad:
  return mesos__err(err, MESOS_EINVAL,
                    "device rule '%.64s': expected '<c|b|a> <major|*>:<minor|*> <rwm subset>'",
                    text);
}

/* ------------------------------------------------------------ compiler */

#define INSN(c, d, s, o, i) \
  ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

static unsigned bpf_access(unsigned a) {
  unsigned v = 0;
  if (a & MESOS__DEV_READ) v |= BPF_DEVCG_ACC_READ;
  if (a & MESOS__DEV_WRITE) v |= BPF_DEVCG_ACC_WRITE;
  if (a & MESOS__DEV_MKNOD) v |= BPF_DEVCG_ACC_MKNOD;
  return v;
}

#define ALL_ACCESS (MESOS__DEV_READ | MESOS__DEV_WRITE | MESOS__DEV_MKNOD)

/* Instructions of one rule's block (the final "r0 = 1; exit" included). */
static size_t block_len(const mesos__dev_rule *r) {
  return (r->type != 'a') + (r->access != ALL_ACCESS ? 3 : 0) + (r->major >= 0) +
         (r->minor >= 0) + 2;
}

mesos_status mesos__dev_program(const mesos__dev_rule *rules, size_t n, void **out,
                                size_t *ninsns, mesos_error **err) {
  *out = NULL;
  *ninsns = 0;
  if (n > MESOS__DEV_RULES_MAX)
    return mesos__err(err, MESOS_ELIMIT, "device program: more than %d rules",
                      MESOS__DEV_RULES_MAX);
  size_t total = 6 + 2; /* prologue, final deny */
  for (size_t i = 0; i < n; i++) {
    if (rules[i].access == 0 || (rules[i].access & ~ALL_ACCESS))
      return mesos__err(err, MESOS_EINVAL, "device program: rule %zu has no valid access", i);
    total += block_len(&rules[i]);
  }
  struct bpf_insn *prog = mesos__calloc(total, sizeof *prog);
  if (prog == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  size_t pc = 0;
  prog[pc++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0);
  prog[pc++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
  prog[pc++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_3, BPF_REG_1, 0, 0);
  prog[pc++] = INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
  prog[pc++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0);
  prog[pc++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0);
  for (size_t i = 0; i < n; i++) {
    const mesos__dev_rule *r = &rules[i];
    size_t next = pc + block_len(r);
    /* A jump's offset counts from the instruction after it. */
#define SKIP() ((int16_t)(next - (pc + 1)))
    if (r->type != 'a') {
      int t = r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK;
      prog[pc] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, SKIP(), t);
      pc++;
    }
    if (r->access != ALL_ACCESS) {
      prog[pc++] = INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
      prog[pc++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int32_t)bpf_access(r->access));
      prog[pc] = INSN(BPF_JMP | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_3, SKIP(), 0);
      pc++;
    }
    if (r->major >= 0) {
      prog[pc] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, SKIP(), (int32_t)r->major);
      pc++;
    }
    if (r->minor >= 0) {
      prog[pc] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, SKIP(), (int32_t)r->minor);
      pc++;
    }
#undef SKIP
    prog[pc++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
    prog[pc++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  }
  prog[pc++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
  prog[pc++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  *out = prog;
  *ninsns = pc;
  return MESOS_OK;
}

/* Just the instructions the compiler emits; anything else is -1. */
int mesos__dev_program_eval(const void *insns, size_t ninsns, char type, uint32_t major,
                            uint32_t minor, unsigned access) {
  const struct bpf_insn *p = insns;
  uint32_t ctx[3] = {(bpf_access(access) << 16) |
                         (uint32_t)(type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK),
                     major, minor};
  uint64_t r[11] = {0};
  for (size_t pc = 0; pc < ninsns; pc++) {
    const struct bpf_insn *in = &p[pc];
    uint64_t src = in->src_reg < 11 ? r[in->src_reg] : 0;
    if (in->dst_reg >= 11) return -1;
    uint64_t *dst = &r[in->dst_reg];
    switch (in->code) {
      case BPF_LDX | BPF_W | BPF_MEM:
        if (in->src_reg != BPF_REG_1 || in->off < 0 || in->off > 8 || in->off % 4) return -1;
        *dst = ctx[in->off / 4];
        break;
      case BPF_ALU | BPF_AND | BPF_K: *dst = (uint32_t)(*dst & (uint32_t)in->imm); break;
      case BPF_ALU | BPF_RSH | BPF_K: *dst = (uint32_t)*dst >> in->imm; break;
      case BPF_ALU | BPF_MOV | BPF_X: *dst = (uint32_t)src; break;
      case BPF_ALU64 | BPF_MOV | BPF_K: *dst = (uint64_t)(int64_t)in->imm; break;
      case BPF_JMP | BPF_JNE | BPF_K:
        if (*dst != (uint64_t)(int64_t)in->imm) pc += (size_t)in->off;
        break;
      case BPF_JMP | BPF_JNE | BPF_X:
        if (*dst != src) pc += (size_t)in->off;
        break;
      case BPF_JMP | BPF_EXIT: return (int)r[0];
      default: return -1;
    }
  }
  return -1;
}

/* ------------------------------------------------------------ kernel */

static long sys_bpf(int cmd, union bpf_attr *attr) {
  return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

/* The verifier's explanation is kept short: the first lines say it. */
#define VERIFIER_LOG 4096

mesos_status mesos__dev_bpf_attach(const char *cgroup_dir, const mesos__dev_rule *rules, size_t n,
                                   mesos_error **err) {
  void *insns;
  size_t ninsns;
  mesos_status st = mesos__dev_program(rules, n, &insns, &ninsns, err);
  if (st != MESOS_OK) return st;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (uint64_t)(uintptr_t)insns;
  a.insn_cnt = (uint32_t)ninsns;
  a.license = (uint64_t)(uintptr_t) "Apache-2.0";
  memcpy(a.prog_name, "mesos_devices", 14);
  int prog = (int)sys_bpf(BPF_PROG_LOAD, &a);
  if (prog < 0) {
    int e = errno;
    if (e == ENOSYS) {
      mesos__free(insns);
      return mesos__err(err, MESOS_EUNSUPPORTED,
                        "cgroups/devices: this kernel has no bpf(2), needed for device control "
                        "on cgroup v2");
    }
    /* Once more with the verifier's log, for the message. */
    char *log = mesos__malloc(VERIFIER_LOG);
    if (log) {
      log[0] = '\0';
      a.log_buf = (uint64_t)(uintptr_t)log;
      a.log_size = VERIFIER_LOG;
      a.log_level = 1;
      int again = (int)sys_bpf(BPF_PROG_LOAD, &a);
      if (again >= 0) close(again);
      log[VERIFIER_LOG - 1] = '\0';
    }
    st = mesos__err(err, e == EINVAL && log && log[0] == '\0' ? MESOS_EUNSUPPORTED : MESOS_EIO,
                    "cgroups/devices: loading the device program (%zu instructions): %s%s%.400s",
                    ninsns, strerror(e), log && log[0] ? "; verifier: " : "", log ? log : "");
    mesos__free(log);
    mesos__free(insns);
    return st;
  }
  mesos__free(insns);
  int cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) {
    int e = errno;
    close(prog);
    return mesos__err(err, MESOS_EIO, "cgroups/devices: open %s: %s", cgroup_dir, strerror(e));
  }
  memset(&a, 0, sizeof a);
  a.target_fd = (uint32_t)cg;
  a.attach_bpf_fd = (uint32_t)prog;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  long r = sys_bpf(BPF_PROG_ATTACH, &a);
  int e = errno;
  /* The attachment holds its own reference to the program. */
  close(prog);
  close(cg);
  if (r != 0)
    return mesos__err(err, MESOS_EIO, "cgroups/devices: attaching the device program to %s: %s",
                      cgroup_dir, strerror(e));
  return MESOS_OK;
}
