/* Test hooks of log.c; not for production callers. */
#ifndef MESOS_REGISTRY_LOG_INT_H
#define MESOS_REGISTRY_LOG_INT_H

/* The steps of mesos__rlog_snapshot, in order, at which the crash tests
 * kill the process ("kill -9 at chosen points"). */
typedef enum mesos__rlog_point {
  MESOS__RLOG_POINT_SNAPSHOT_TMP_SYNCED = 1, /* snapshot.G+1.tmp complete, not renamed */
  MESOS__RLOG_POINT_SNAPSHOT_RENAMED,        /* renamed, directory not yet fsynced */
  MESOS__RLOG_POINT_SEGMENT_CREATED,         /* log.G+1 durable, generation G not removed */
  MESOS__RLOG_POINT_OLD_REMOVED,             /* generation G removed: the snapshot is done */
  MESOS__RLOG_POINT_COUNT
} mesos__rlog_point;

/* When set, called at each point above. */
extern void (*mesos__rlog_test_hook)(mesos__rlog_point point);

#endif
