/* The command a container with a Docker/OCI image runs (the docker/runtime
 * isolator's rules, spec/containerizer.md section 4.6): the image's
 * Entrypoint and Cmd merged with the TaskInfo's CommandInfo, the image's
 * Env under the task's environment, the working directory and the user. */
#ifndef MESOS_PROVISIONER_LAUNCH_H
#define MESOS_PROVISIONER_LAUNCH_H

#include "mesos/error.h"
#include "mesos/v1/mesos.pb-c.h"
#include "provisioner/image.h"

typedef struct mesos__launch_cmd {
  char *path;        /* the program to exec (looked up in the image's PATH
                        when it has no '/') */
  char **argv;       /* NULL-terminated argv, argv[0] included */
  char **env;        /* NULL-terminated "K=V": image Env, then the command's
                        environment overriding same-named variables */
  char *working_dir; /* image WorkingDir, else `sandbox_dir` */
  char *user;        /* CommandInfo.user, else the image's User, else NULL */
} mesos__launch_cmd;

/* `cmd` may be NULL (then the image decides: Entrypoint + Cmd).  EINVAL
 * (message for the task status) when shell is true without a value, or
 * when neither the command nor the image names a program. */
mesos_status mesos__image_launch_command(const mesos__image_config *cfg,
                                         const Mesos__V1__CommandInfo *cmd,
                                         const char *sandbox_dir, mesos__launch_cmd *out,
                                         mesos_error **err);
void mesos__launch_cmd_clear(mesos__launch_cmd *c);

#endif
