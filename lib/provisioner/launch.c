/* Launch command for image containers: see launch.h. */
#include "provisioner/launch.h"

#include <string.h>

#include "base/alloc.h"
#include "base/error.h"

/* A growing NULL-terminated string list; a command line or environment of
 * more than this many entries is refused (Linux's own argv limit is in
 * bytes, ARG_MAX; this keeps a hostile image config from asking for an
 * absurd array). */
#define LIST_MAX 65536

typedef struct {
  char **v;
  size_t n, cap;
  bool oom;
} slist;

static void sl_add(slist *l, const char *s, size_t n) {
  if (l->oom) return;
  if (l->n + 1 >= l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 8;
    if (nc > LIST_MAX + 1) {
      l->oom = true;
      return;
    }
    char **nv = mesos__realloc(l->v, nc * sizeof *nv);
    if (nv == NULL) {
      l->oom = true;
      return;
    }
    l->v = nv;
    l->cap = nc;
  }
  char *d = mesos__strndup(s, n);
  if (d == NULL) {
    l->oom = true;
    return;
  }
  l->v[l->n++] = d;
  l->v[l->n] = NULL;
}

static void sl_adds(slist *l, const char *s) { sl_add(l, s, strlen(s)); }

static void sl_free(slist *l) {
  for (size_t i = 0; i < l->n; i++) mesos__free(l->v[i]);
  mesos__free(l->v);
  memset(l, 0, sizeof *l);
}

static size_t count(char *const *v) {
  size_t n = 0;
  while (v && v[n]) n++;
  return n;
}

void mesos__launch_cmd_clear(mesos__launch_cmd *c) {
  if (c == NULL) return;
  for (char **p = c->argv; p && *p; p++) mesos__free(*p);
  for (char **p = c->env; p && *p; p++) mesos__free(*p);
  mesos__free(c->argv);
  mesos__free(c->env);
  mesos__free(c->path);
  mesos__free(c->working_dir);
  mesos__free(c->user);
  memset(c, 0, sizeof *c);
}

/* Sets NAME=value in the list, replacing an entry of the same name. */
static void env_set(slist *l, const char *name, const char *value) {
  if (l->oom) return;
  size_t nl = strlen(name), vl = strlen(value);
  char *kv = mesos__malloc(nl + vl + 2);
  if (kv == NULL) {
    l->oom = true;
    return;
  }
  memcpy(kv, name, nl);
  kv[nl] = '=';
  memcpy(kv + nl + 1, value, vl + 1);
  for (size_t i = 0; i < l->n; i++) {
    if (strncmp(l->v[i], name, nl) == 0 && l->v[i][nl] == '=') {
      mesos__free(l->v[i]);
      l->v[i] = kv;
      return;
    }
  }
  sl_add(l, kv, nl + vl + 1);
  mesos__free(kv);
}

mesos_status mesos__image_launch_command(const mesos__image_config *cfg,
                                         const Mesos__V1__CommandInfo *cmd,
                                         const char *sandbox_dir, mesos__launch_cmd *out,
                                         mesos_error **err) {
  memset(out, 0, sizeof *out);
  slist argv = {0}, env = {0};
  bool shell = cmd == NULL ? false : (cmd->has_shell ? cmd->shell : true);
  const char *value = cmd ? cmd->value : NULL;
  size_t nargs = cmd ? cmd->n_arguments : 0;
  char *const *E = cfg ? cfg->entrypoint : NULL, *const *C = cfg ? cfg->cmd : NULL;
  size_t nE = count(E), nC = count(C);

  if (shell) {
    if (value == NULL)
      return mesos__err(err, MESOS_EINVAL, "shell command requested without a value");
    sl_adds(&argv, "/bin/sh");
    sl_adds(&argv, "-c");
    sl_adds(&argv, value);
  } else if (value != NULL) {
    /* Mesos passes `arguments` as the whole argv (argv[0] included) and
     * execs `value`; with no arguments argv is just the program. */
    if (nargs == 0) sl_adds(&argv, value);
    for (size_t i = 0; i < nargs; i++) sl_adds(&argv, cmd->arguments[i]);
  } else if (nargs == 0) {
    if (nE == 0 && nC == 0)
      return mesos__err(err, MESOS_EINVAL, "no command: the task gives none and the image has "
                                           "neither Entrypoint nor Cmd");
    for (size_t i = 0; i < nE; i++) sl_adds(&argv, E[i]);
    for (size_t i = 0; i < nC; i++) sl_adds(&argv, C[i]);
  } else {
    if (nE > 0) {
      for (size_t i = 0; i < nE; i++) sl_adds(&argv, E[i]);
    } else if (nC > 0) {
      sl_adds(&argv, C[0]);
    } else {
      return mesos__err(err, MESOS_EINVAL, "task gives arguments but no command, and the image "
                                           "has neither Entrypoint nor Cmd");
    }
    for (size_t i = 0; i < nargs; i++) sl_adds(&argv, cmd->arguments[i]);
  }

  /* Environment: the image's first, the command's on top. */
  for (size_t i = 0; cfg && cfg->env && cfg->env[i]; i++) {
    const char *kv = cfg->env[i], *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv) continue; /* not NAME=value: ignored, as Docker does */
    char *name = mesos__strndup(kv, (size_t)(eq - kv));
    if (name == NULL) {
      env.oom = true;
      break;
    }
    env_set(&env, name, eq + 1);
    mesos__free(name);
  }
  if (cmd && cmd->environment) {
    for (size_t i = 0; i < cmd->environment->n_variables; i++) {
      const Mesos__V1__Environment__Variable *v = cmd->environment->variables[i];
      if (v->name == NULL || v->name[0] == '\0' || strchr(v->name, '=')) continue;
      env_set(&env, v->name, v->value ? v->value : "");
    }
  }
  if (env.v == NULL && !env.oom) {
    env.v = mesos__calloc(1, sizeof *env.v);
    if (env.v == NULL) env.oom = true;
  }
  /* The program: /bin/sh for shell commands, `value` when given (argv is
   * then the task's arguments as they are), else argv[0]. */
  const char *prog = shell ? "/bin/sh" : value != NULL ? value : argv.v ? argv.v[0] : NULL;
  if (!argv.oom && prog != NULL && (out->path = mesos__strdup(prog)) == NULL) argv.oom = true;
  const char *wd = cfg && cfg->working_dir ? cfg->working_dir : sandbox_dir;
  const char *user = cmd && cmd->user ? cmd->user : cfg ? cfg->user : NULL;
  if (argv.oom || env.oom || (wd && (out->working_dir = mesos__strdup(wd)) == NULL) ||
      (user && (out->user = mesos__strdup(user)) == NULL)) {
    bool limit = (argv.oom && argv.cap >= LIST_MAX) || (env.oom && env.cap >= LIST_MAX);
    sl_free(&argv);
    sl_free(&env);
    mesos__launch_cmd_clear(out);
    return limit ? mesos__err(err, MESOS_ELIMIT, "command line or environment too long")
                 : mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  out->argv = argv.v;
  out->env = env.v;
  return MESOS_OK;
}
