/*
 * init_plan: what the launcher (lib/containerizer/launcher.c) tells the
 * container init helper (daemons/mesos-container-init.c) it execs as a
 * container's first process.
 *
 * Why a separate program: the init used to be a raw clone of the agent,
 * i.e. a copy-on-write copy of a big multi-threaded process.  Copying its
 * page tables (and the faults and TLB shootdowns that followed while the
 * agent kept running) was most of a launch, and glibc calls such as setuid
 * in that child are unsafe (setxid signals threads that the child does
 * not have).  Now the launcher clones with CLONE_VM|CLONE_VFORK into the
 * new namespaces and execs this small static program at once; the program
 * is single-threaded, so it may use glibc freely.
 *
 * Descriptors the helper starts with: 0 /dev/null, 1 and 2 the task's
 * stdout and stderr, INIT_FD_SYNC a stream socket (the plan, then one byte
 * "go" once the agent has isolated the init; EOF = give up),
 * INIT_FD_ERR the error pipe (a failed step is written there as text; EOF
 * without text = the task exec'ed), INIT_FD_STATUS the status file (the
 * task's wait status as decimal text, written when it exits).
 *
 * The plan is a byte string in host byte order (both ends are built from
 * one tree and run on one machine):
 *   u32 magic, u32 length of the rest (at most INIT_PLAN_MAX), then
 *   u32 namespaces (MESOS_NS_*), str rootfs, str hostname, str cwd,
 *   str exe, u32 switch_user, u32 uid, u32 gid, u32 ngroups, u32 gid...,
 *   u32 nsteps, per step: u32 kind (INIT_STEP_*), str src, str dst,
 *   str fstype, u64 flags, str data, u32 mode, u64 dev, u32 remount_ro;
 *   u32 argc, str...; u32 envc, str...
 * A str is u32 length (INIT_STR_NULL for none) and that many bytes
 * followed by a NUL.
 */
#ifndef MESOS_CONTAINERIZER_INIT_PLAN_H
#define MESOS_CONTAINERIZER_INIT_PLAN_H

#define INIT_PLAN_MAGIC 0x314e494du /* "MIN1" */
#define INIT_PLAN_MAX (16u << 20)
#define INIT_STR_NULL 0xffffffffu

#define INIT_FD_SYNC 3
#define INIT_FD_ERR 4
#define INIT_FD_STATUS 5
#define INIT_NFDS 6

/* The helper's file name, looked for beside the program (or in
 * --launcher_dir). */
#define INIT_HELPER_NAME "mesos-container-init"

enum { INIT_STEP_MOUNT, INIT_STEP_MKDIR, INIT_STEP_MKNOD, INIT_STEP_SYMLINK };

/* Limits the helper enforces on a plan (the launcher's are lower). */
#define INIT_MAX_STEPS 4096
#define INIT_MAX_GROUPS 65536
#define INIT_MAX_ARGS 65536

#endif
