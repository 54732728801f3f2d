/* Test hooks of checkpoint.c; not for production callers. */
#ifndef MESOS_REGISTRY_CHECKPOINT_INT_H
#define MESOS_REGISTRY_CHECKPOINT_INT_H

/* When set, called by mesos__checkpoint_write_bytes after the temporary
 * file is complete and fsynced and before it is renamed into place: the
 * crash tests kill the process there ("kill -9 at chosen points"). */
extern void (*mesos__checkpoint_before_rename_hook)(const char *tmp_path);

#endif
