#!/usr/bin/env python3
"""A scriptable HTTP/1.1 server for the HTTP client's tests.

It is an independent peer (Python's socket and ssl modules, not our code),
with handlers that misbehave on purpose: chunked streams pushed with delays,
307 redirects and loops, slow answers, oversized heads and bodies, broken
status lines, connections closed at awkward moments.

Usage: http_peer.py [--bind ADDR] [--tls CERT KEY]
Binds ADDR (default 127.0.0.1) on a free port, prints the port on stdout,
then serves until killed.  Every response carries X-Conn-Id (the number of
the TCP connection, counted from 1 since start) and X-Req-Index (the number
of the request on that connection), so a test can see connection reuse.
"""
import socket
import ssl
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

lock = threading.Lock()
conn_count = 0

# The longest request head or body this peer reads; the client under test
# only sends small requests.
MAX_READ = 16 << 20


def arg(q, name, default):
    return q.get(name, [default])[0]


class Conn:
    def __init__(self, sock, conn_id):
        self.sock = sock
        self.conn_id = conn_id
        self.buf = b""
        self.reqs = 0

    def read_until(self, sep):
        while sep not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data
            if len(self.buf) > MAX_READ:
                return None
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_n(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def respond(self, status, body=b"", headers=(), reason="OK", head_only=False):
        if isinstance(body, str):
            body = body.encode()
        lines = ["HTTP/1.1 %d %s" % (status, reason),
                 "X-Conn-Id: %d" % self.conn_id,
                 "X-Req-Index: %d" % self.reqs,
                 "Content-Length: %d" % len(body)]
        lines += ["%s: %s" % h for h in headers]
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode() + (b"" if head_only else body))

    def chunked_head(self, extra=()):
        lines = ["HTTP/1.1 200 OK", "X-Conn-Id: %d" % self.conn_id,
                 "X-Req-Index: %d" % self.reqs, "Transfer-Encoding: chunked",
                 "Content-Type: text/plain"]
        lines += ["%s: %s" % h for h in extra]
        self.send("\r\n".join(lines) + "\r\n\r\n")

    def chunk(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.send(b"%x\r\n" % len(data) + data + b"\r\n")


def handle_request(c, method, target, headers, body):
    """Answers one request.  Returns False when the connection must end."""
    u = urlsplit(target)
    q = parse_qs(u.query)
    path = u.path
    head_only = method == "HEAD"
    if path == "/echo":
        auth = headers.get("authorization", "-")
        c.respond(200, ("%s %s\n" % (method, target)).encode() + body,
                  headers=[("X-Authorization", auth),
                           ("X-User-Agent", headers.get("user-agent", "-")),
                           ("X-Custom", headers.get("x-custom", "-")),
                           ("X-Host", headers.get("host", "-"))],
                  head_only=head_only)
    elif path == "/chunks":
        n, delay = int(arg(q, "n", "5")), float(arg(q, "delay", "0.05"))
        c.chunked_head()
        for i in range(n):
            c.chunk("chunk-%d\n" % i)
            time.sleep(delay)
        c.send("0\r\n\r\n")
    elif path == "/forever":
        delay = float(arg(q, "delay", "0.02"))
        c.chunked_head()
        i = 0
        try:
            while True:
                c.chunk("event-%d\n" % i)
                i += 1
                time.sleep(delay)
        except OSError:
            return False
    elif path == "/silent-after-head":
        c.chunked_head()
        c.chunk("first\n")
        time.sleep(float(arg(q, "delay", "5")))
        return False
    elif path == "/redirect":
        code = int(arg(q, "code", "307"))
        c.respond(code, "moved", headers=[("Location", arg(q, "to", "/echo"))],
                  reason="Redirect")
    elif path == "/loop":
        c.respond(307, "", headers=[("Location", "/loop")], reason="Temporary Redirect")
    elif path == "/slow":
        time.sleep(float(arg(q, "delay", "2")))
        c.respond(200, "slow")
    elif path == "/bighead":
        c.respond(200, "x", headers=[("X-Big", "a" * int(arg(q, "n", "100000")))])
    elif path == "/manyheaders":
        c.respond(200, "x", headers=[("X-H%d" % i, "v") for i in range(int(arg(q, "n", "300")))])
    elif path == "/bigbody":
        c.respond(200, b"b" * int(arg(q, "n", "100000")))
    elif path == "/malformed":
        c.send("HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n")
        return False
    elif path == "/garbage":
        c.send("HELLO THERE\r\n\r\n")
        return False
    elif path == "/truncated":
        c.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..")
        return False
    elif path == "/close-after":
        # keep-alive is implied (HTTP/1.1, no Connection: close) but the
        # connection is closed right after the response
        c.respond(200, "closing")
        return False
    elif path == "/idle-close":
        c.respond(200, "idle-close")
        c.sock.settimeout(float(arg(q, "after", "0.1")))
    elif path == "/eof-body":
        c.send("HTTP/1.1 200 OK\r\nX-Conn-Id: %d\r\n\r\nread until close" % c.conn_id)
        return False
    elif path == "/interim":
        c.send("HTTP/1.1 100 Continue\r\n\r\n")
        c.respond(200, "after interim")
    elif path == "/extra":
        c.respond(200, "ok")
        c.send("JUNK")
    elif path == "/late-junk":
        c.respond(200, "ok")
        time.sleep(0.1)
        c.send("JUNK")
    elif path == "/conns":
        with lock:
            n = conn_count
        c.respond(200, str(n))
    else:
        c.respond(404, "not found", reason="Not Found")
    return True


def serve_conn(sock, conn_id):
    c = Conn(sock, conn_id)
    try:
        while True:
            head = c.read_until(b"\r\n\r\n")
            if head is None:
                return
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            n = int(headers.get("content-length", "0"))
            body = c.read_n(n) if n else b""
            if body is None:
                return
            c.reqs += 1
            if not handle_request(c, method, target, headers, body):
                return
            if headers.get("connection", "").lower() == "close":
                return
    except (OSError, ValueError):
        return
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    global conn_count
    bind = "127.0.0.1"
    ctx = None
    args = sys.argv[1:]
    while args:
        a = args.pop(0)
        if a == "--bind":
            bind = args.pop(0)
        elif a == "--tls":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(args.pop(0), args.pop(0))
    fam = socket.AF_INET6 if ":" in bind else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((bind, 0))
    ls.listen(64)
    print(ls.getsockname()[1], flush=True)
    while True:
        s, _ = ls.accept()
        with lock:
            conn_count += 1
            cid = conn_count
        if ctx is not None:
            def tls_conn(raw, cid):
                try:
                    raw.settimeout(5)
                    t = ctx.wrap_socket(raw, server_side=True)
                    t.settimeout(None)
                except (OSError, ssl.SSLError):
                    raw.close()
                    return
                serve_conn(t, cid)
            threading.Thread(target=tls_conn, args=(s, cid), daemon=True).start()
        else:
            threading.Thread(target=serve_conn, args=(s, cid), daemon=True).start()


if __name__ == "__main__":
    main()
