#include "support/certs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs argv (argv[0] looked up in PATH) with cwd = dir and its output in
 * dir/openssl.log; prints the command and the log when it fails. */
static int run_in(const char *dir, char *const argv[]) {
  char log[512];
  snprintf(log, sizeof log, "%s/openssl.log", dir);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return -1;
  }
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || nul < 0 || chdir(dir) != 0) _exit(126);
    dup2(nul, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    execvp(argv[0], argv);
    _exit(127);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
  fprintf(stderr, "certs: command failed (status 0x%x):", (unsigned)st);
  for (int i = 0; argv[i]; i++) fprintf(stderr, " %s", argv[i]);
  fprintf(stderr, "\n");
  FILE *f = fopen(log, "r");
  if (f) {
    char line[512];
    while (fgets(line, sizeof line, f)) fprintf(stderr, "  | %s", line);
    fclose(f);
  }
  return -1;
}

int mesos_test_have_openssl(void) {
  char tmp[] = "/tmp/mesos-openssl-probe-XXXXXX";
  if (mkdtemp(tmp) == NULL) return 0;
  char *argv[] = {"openssl", "version", NULL};
  /* run_in prints on failure; a missing binary should just say "no". */
  int saved = dup(2), nul = open("/dev/null", O_WRONLY);
  if (saved >= 0 && nul >= 0) dup2(nul, 2);
  int ok = run_in(tmp, argv) == 0;
  if (saved >= 0) {
    dup2(saved, 2);
    close(saved);
  }
  if (nul >= 0) close(nul);
  mesos_test_rmtree(tmp);
  return ok;
}

int mesos_test_certs_dir(char *buf, size_t cap) {
  const char *base = getenv("TMPDIR");
  if (base == NULL || base[0] == '\0') base = "/tmp";
  int n = snprintf(buf, cap, "%s/mesos-certs-XXXXXX", base);
  if (n < 0 || (size_t)n >= cap) {
    fprintf(stderr, "certs: directory name too long\n");
    return -1;
  }
  if (mkdtemp(buf) == NULL) {
    fprintf(stderr, "certs: mkdtemp %s: %s\n", buf, strerror(errno));
    buf[0] = '\0';
    return -1;
  }
  return 0;
}

static int write_file(const char *dir, const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    fprintf(stderr, "certs: %s: %s\n", path, strerror(errno));
    return -1;
  }
  int ok = fputs(text, f) >= 0;
  if (fclose(f) != 0) ok = 0;
  return ok ? 0 : -1;
}

/* A self-signed CA; openssl's default req config adds CA:TRUE. */
static int make_ca(const char *dir, const char *name, const char *cn) {
  char key[64], crt[64], subj[128];
  snprintf(key, sizeof key, "%s.key", name);
  snprintf(crt, sizeof crt, "%s.crt", name);
  snprintf(subj, sizeof subj, "/CN=%s", cn);
  char *argv[] = {"openssl", "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                  "-days", "3650", "-subj", subj, NULL};
  return run_in(dir, argv);
}

/* A key + CSR, then a certificate from `ca` with the extensions file `ext`.
 * `days` may be negative: "-1" gives a certificate that expired yesterday. */
static int make_leaf(const char *dir, const char *name, const char *cn, const char *ca,
                     const char *ext, const char *days, int rsa, int serial) {
  char key[64], csr[64], crt[64], subj[128], cacrt[64], cakey[64], ser[16];
  snprintf(key, sizeof key, "%s.key", name);
  snprintf(csr, sizeof csr, "%s.csr", name);
  snprintf(crt, sizeof crt, "%s.crt", name);
  snprintf(subj, sizeof subj, "/CN=%s", cn);
  snprintf(cacrt, sizeof cacrt, "%s.crt", ca);
  snprintf(cakey, sizeof cakey, "%s.key", ca);
  snprintf(ser, sizeof ser, "%d", serial);
  char *req_ec[] = {"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
                    "-subj", subj, NULL};
  char *req_rsa[] = {"openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                     "-out", csr, "-subj", subj, NULL};
  if (run_in(dir, rsa ? req_rsa : req_ec) != 0) return -1;
  char *sign[] = {"openssl", "x509", "-req", "-in", csr, "-CA", cacrt, "-CAkey", cakey,
                  "-set_serial", ser, "-days", (char *)days, "-sha256", "-extfile", (char *)ext,
                  "-out", crt, NULL};
  if (run_in(dir, sign) != 0) return -1;
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, csr);
  unlink(path);
  return 0;
}

/* Concatenates files (in dir) into `out` (in dir). */
static int concat(const char *dir, const char *out, const char *const *in) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, out);
  FILE *o = fopen(path, "w");
  if (o == NULL) {
    fprintf(stderr, "certs: %s: %s\n", path, strerror(errno));
    return -1;
  }
  int ok = 1;
  for (int i = 0; in[i] && ok; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, in[i]);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
      fprintf(stderr, "certs: %s: %s\n", path, strerror(errno));
      ok = 0;
      break;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
      if (fwrite(buf, 1, n, o) != n) ok = 0;
    fclose(f);
  }
  if (fclose(o) != 0) ok = 0;
  return ok ? 0 : -1;
}

int mesos_test_make_certs(const char *dir) {
  static const char server_ext[] =
      "basicConstraints=CA:FALSE\n"
      "keyUsage=critical,digitalSignature,keyEncipherment\n"
      "extendedKeyUsage=serverAuth\n"
      "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n";
  static const char client_ext[] =
      "basicConstraints=CA:FALSE\n"
      "keyUsage=critical,digitalSignature\n"
      "extendedKeyUsage=clientAuth\n";
  static const char intermediate_ext[] =
      "basicConstraints=critical,CA:TRUE,pathlen:0\n"
      "keyUsage=critical,keyCertSign,cRLSign\n";
  if (write_file(dir, "server.ext", server_ext) != 0 ||
      write_file(dir, "client.ext", client_ext) != 0 ||
      write_file(dir, "intermediate.ext", intermediate_ext) != 0)
    return -1;
  if (make_ca(dir, "ca", "mesos-test-ca") != 0 ||
      make_ca(dir, "other-ca", "mesos-other-ca") != 0 ||
      make_leaf(dir, "server", "localhost", "ca", "server.ext", "3650", 0, 2) != 0 ||
      make_leaf(dir, "server-rsa", "localhost", "ca", "server.ext", "3650", 1, 3) != 0 ||
      make_leaf(dir, "client", "mesos-test-client", "ca", "client.ext", "3650", 0, 4) != 0 ||
      make_leaf(dir, "expired-client", "mesos-expired-client", "ca", "client.ext", "-1", 0, 5) != 0 ||
      make_leaf(dir, "other-server", "localhost", "other-ca", "server.ext", "3650", 0, 6) != 0 ||
      make_leaf(dir, "other-client", "mesos-other-client", "other-ca", "client.ext", "3650", 0, 7) != 0 ||
      make_leaf(dir, "intermediate-ca", "mesos-intermediate-ca", "ca", "intermediate.ext", "3650", 0,
                8) != 0 ||
      make_leaf(dir, "leaf-server", "localhost", "intermediate-ca", "server.ext", "3650", 0, 9) != 0)
    return -1;
  const char *const chain[] = {"leaf-server.crt", "intermediate-ca.crt", NULL};
  if (concat(dir, "chain-server.crt", chain) != 0) return -1;
  const char *const chain_key[] = {"leaf-server.key", NULL};
  if (concat(dir, "chain-server.key", chain_key) != 0) return -1;
  return 0;
}

const char *mesos_test_cert(const char *dir, const char *name) {
  static char ring[16][512];
  static unsigned next;
  char *b = ring[next++ % 16];
  snprintf(b, sizeof ring[0], "%s/%s", dir, name);
  return b;
}

void mesos_test_rmtree(const char *dir) {
  if (dir == NULL || dir[0] == '\0') return;
  DIR *d = opendir(dir);
  if (d != NULL) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      char path[1024];
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(dir);
}
