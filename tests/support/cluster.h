/*
 * A real mesos-master and mesos-agent on loopback for an integration test
 * program: the per-program temporary directory (an unchecked fixture, so
 * it goes away even when a test fails), the daemons' start-up with the
 * flags every such test uses, the wait until each answers /health, and a
 * teardown that checks both exit 0.  One test program holds one cluster
 * (usually a static); its fields are for the tests to read.
 *
 * Also the waits that replace fixed pauses before killing an agent: the
 * agent's id and a task's acknowledgements on disk.
 */
#ifndef MESOS_TEST_CLUSTER_H
#define MESOS_TEST_CLUSTER_H

#include <stddef.h>
#include <sys/types.h>

typedef struct mesos_test_cluster {
  char base_dir[256];   /* this program's directory, under /tmp */
  pid_t master_pid;     /* -1 when not running */
  pid_t agent_pid;
  int master_port;
  int agent_port;       /* a new free port at every agent start */
  char work_dir[512];   /* the last started agent's: <base_dir>/<name> */
  char agent_log[512];  /* its stderr: <base_dir>/<name>.log */
  /* Set by the test before an agent starts (zero: the defaults below). */
  const char *agent_program;   /* another mesos-agent binary (an upgrade); it
                                * gets --launcher_dir of the built daemons */
  const char *agent_resources; /* instead of the default --resources */
  int keep_agent_port;         /* an agent started again under the same name
                                * keeps its port (as an operator's would: its
                                * executors come back to that address) */
} mesos_test_cluster;

/* Creates the program's directory `prefix`-XXXXXX (e.g.
 * "/tmp/mesos-agent-test") and marks no daemon running. */
void mesos_test_cluster_make_base(mesos_test_cluster *c, const char *prefix);
/* SIGKILLs every process with its cwd under the directory (executors and
 * tasks run in their own session: the agent's PDEATHSIG never reaches
 * them), then removes it; MESOS_TEST_KEEP=1 keeps it (and says where). */
void mesos_test_cluster_remove_base(mesos_test_cluster *c);

/* mesos-master on 127.0.0.1 with --allocation_interval=50ms,
 * --logging_level=WARNING and `extra` flags (NULL-terminated, may be
 * NULL); asserts it answers /health within 10 s. */
void mesos_test_cluster_start_master(mesos_test_cluster *c, char *const *extra);

/* A master again on c->master_port (the last one's, after it was
 * killed), with `extra` flags; asserts it answers /health within 10 s. */
void mesos_test_cluster_restart_master(mesos_test_cluster *c, char *const *extra);
/* SIGKILLs the master and reaps it. */
void mesos_test_cluster_kill_master(mesos_test_cluster *c);

/* mesos-agent `name` (work dir <base_dir>/<name>, stderr to
 * <base_dir>/<name>.log) registering with the master, on 127.0.0.1 with
 * --hostname=`hostname` (NULL: "agent-test"),
 * --resources=cpus:4;mem:1024;disk:1024;ports:[31000-31100],
 * --registration_backoff_factor=50ms, --executor_shutdown_grace_period=1secs
 * and `extra` flags (at most 20).  c->agent_program, c->agent_resources and
 * c->keep_agent_port change the program, the resources and the port.
 * Returns its pid without waiting. */
pid_t mesos_test_cluster_spawn_agent(mesos_test_cluster *c, const char *name,
                                     const char *hostname, char *const *extra);
/* The same, kept in c->agent_pid; asserts it answers /health within 10 s. */
void mesos_test_cluster_start_agent(mesos_test_cluster *c, const char *name,
                                    const char *hostname, char *const *extra);
/* SIGKILLs the agent and reaps it (the executors stay). */
void mesos_test_cluster_kill_agent(mesos_test_cluster *c);
/* Stops the agent, then the master (SIGTERM, SIGKILL after 5 s), asserting
 * each exits 0. */
void mesos_test_cluster_stop(mesos_test_cluster *c);

/* Waits (10 s) until the agent in `work_dir` checkpointed its id
 * (meta/slaves/latest): it does so when REGISTERED arrives, which can be
 * after the master already offered its resources.  Fails the test after. */
void mesos_test_wait_agent_id(const char *work_dir);

/* Waits until task `task` of executor `exec` has the acknowledgements of
 * its first `acks` status updates in its task.updates under `work_dir`:
 * what a restarted agent reads back, so it re-sends none of them.  (A
 * command task's executor id is its task id.)  Fails the test after
 * `timeout_ms`, saying how many it found. */
void mesos_test_wait_acks(const char *work_dir, const char *exec, const char *task, int acks,
                          int timeout_ms);

#endif
