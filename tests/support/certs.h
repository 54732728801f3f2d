/*
 * Test certificates, made with the openssl command-line tool (a real,
 * independent implementation, so our TLS code is not testing itself).
 *
 * mesos_test_make_certs(dir) writes these PEM files into `dir` (which must
 * exist); every key is unencrypted:
 *
 *   ca.crt ca.key                    test CA "mesos-test-ca" (EC P-256)
 *   server.crt server.key            CN=localhost, SAN DNS:localhost,
 *                                    IP:127.0.0.1, IP:::1, serverAuth (EC)
 *   server-rsa.crt server-rsa.key    the same names with an RSA-2048 key
 *   client.crt client.key            CN=mesos-test-client, clientAuth
 *   expired-client.crt/.key          like client but expired yesterday
 *   other-ca.crt other-ca.key        an unrelated CA "mesos-other-ca"
 *   other-server.crt/.key            CN=localhost issued by other-ca
 *   other-client.crt/.key            CN=mesos-other-client by other-ca
 *   intermediate-ca.crt/.key         CA "mesos-intermediate-ca" issued by ca
 *   leaf-server.crt/.key             like server, issued by intermediate-ca
 *   chain-server.crt/.key            leaf-server.crt + intermediate-ca.crt (a
 *                                    chain file, as real servers have) and
 *                                    its key: verifies against ca.crt alone
 *
 * Typical use, once per test program (certificates cost tens of ms each):
 *
 *   static char certdir[64];
 *   setup:    mesos_test_certs_dir(certdir, sizeof certdir) == 0 &&
 *             mesos_test_make_certs(certdir) == 0
 *   teardown: mesos_test_rmtree(certdir)
 */
#ifndef MESOS_TEST_CERTS_H
#define MESOS_TEST_CERTS_H

#include <stddef.h>

/* 1 when the openssl binary can be run, else 0. */
int mesos_test_have_openssl(void);

/* Creates a fresh private directory under $TMPDIR (or /tmp) and writes its
 * path into buf.  0 on success, -1 (with a message on stderr) on failure. */
int mesos_test_certs_dir(char *buf, size_t cap);

/* Generates every file listed above into dir.  0 on success; -1 on failure,
 * after printing the failing openssl command and its output to stderr. */
int mesos_test_make_certs(const char *dir);

/* "<dir>/<name>" in a buffer that lives until the next 16 calls; for
 * building option structs in tests without bookkeeping. */
const char *mesos_test_cert(const char *dir, const char *name);

/* Removes dir and the regular files directly inside it (what
 * mesos_test_make_certs creates).  NULL or "" is ignored. */
void mesos_test_rmtree(const char *dir);

#endif
