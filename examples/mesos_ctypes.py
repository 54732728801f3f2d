#!/usr/bin/env python3
"""libmesos-core from Python with ctypes only: no compiled glue.

What a binding author needs, in one file:

  * load libmesos-core.so.1 and declare the functions used (argtypes and
    restype: ctypes guesses int otherwise, which truncates pointers);
  * read the run-time version (mesos_version_string);
  * parse, add and format resources (mesos/resources.h);
  * run a master inside this process on a mesos_loop that Python drives
    from its own poll() loop (mesos_loop_fd / mesos_loop_timeout_ms /
    mesos_loop_run_once, the embedding model of mesos/loop.h);
  * run an agent: the mesos-agent daemon when --agent PATH is given, else
    in this process with mesos_agent_new on the same loop;
  * subscribe a framework with the C scheduler client, whose callbacks are
    Python functions (ctypes CFUNCTYPE; references kept alive for as long
    as the library may call them);
  * launch one task, acknowledge its updates, and exit 0 once it finished.

Usage: mesos_ctypes.py [--lib PATH] [--agent PATH] [--timeout SECS]
"""

import argparse
import ctypes
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p
c_uint32 = ctypes.c_uint32
c_uint64 = ctypes.c_uint64
c_size_t = ctypes.c_size_t
c_int = ctypes.c_int

MESOS_OK = 0


class MesosError(Exception):
    pass


# ------------------------------------------------------------ the library


def load(path):
    lib = ctypes.CDLL(path)

    def fn(name, restype, *argtypes):
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = list(argtypes)

    # Every fallible function returns a mesos_status and takes a
    # `mesos_error **` last; the error's message explains the failure.
    fn("mesos_version_string", c_char_p)
    fn("mesos_error_message", c_char_p, c_void_p)
    fn("mesos_error_free", None, c_void_p)
    fn("mesos_status_name", c_char_p, c_int)
    fn("mesos_free", None, c_void_p)
    fn("mesos_resources_new", c_int, ctypes.POINTER(c_void_p), ctypes.POINTER(c_void_p))
    fn("mesos_resources_free", None, c_void_p)
    fn("mesos_resources_parse", c_int, c_void_p, c_char_p, c_char_p, ctypes.POINTER(c_void_p))
    fn("mesos_resources_add", c_int, c_void_p, c_void_p, ctypes.POINTER(c_void_p))
    fn("mesos_resources_scalar", ctypes.c_double, c_void_p, c_char_p)
    fn("mesos_resources_format", c_int, c_void_p, ctypes.POINTER(c_void_p),
       ctypes.POINTER(c_void_p))
    fn("mesos_loop_new", c_int, ctypes.POINTER(c_void_p), c_void_p, ctypes.POINTER(c_void_p))
    fn("mesos_loop_free", None, c_void_p)
    fn("mesos_loop_fd", c_int, c_void_p)
    fn("mesos_loop_timeout_ms", c_int, c_void_p)
    fn("mesos_loop_run_once", c_int, c_void_p)
    fn("mesos_master_options_init", c_int, c_void_p, c_uint32)
    fn("mesos_master_new", c_int, ctypes.POINTER(c_void_p), c_void_p, c_void_p, c_void_p,
       ctypes.POINTER(c_void_p))
    fn("mesos_master_port", c_uint32, c_void_p)
    fn("mesos_master_free", None, c_void_p)
    fn("mesos_agent_options_init", c_int, c_void_p, c_uint32)
    fn("mesos_agent_new", c_int, ctypes.POINTER(c_void_p), c_void_p, c_void_p, c_void_p,
       ctypes.POINTER(c_void_p))
    fn("mesos_agent_free", None, c_void_p)
    fn("mesos_scheduler_options_init", c_int, c_void_p, c_uint32)
    fn("mesos_scheduler_new", c_int, ctypes.POINTER(c_void_p), c_void_p, c_void_p,
       ctypes.POINTER(c_void_p))
    fn("mesos_scheduler_free", None, c_void_p)
    fn("mesos_scheduler_framework_id", c_char_p, c_void_p)
    fn("mesos_scheduler_call_json", c_int, c_void_p, c_char_p, c_void_p, c_void_p,
       ctypes.POINTER(c_void_p))
    fn("mesos_scheduler_decline", c_int, c_void_p, c_char_p, ctypes.c_double,
       ctypes.POINTER(c_void_p))
    fn("mesos_scheduler_acknowledge", c_int, c_void_p, c_char_p, c_char_p,
       ctypes.POINTER(ctypes.c_uint8 * 16), ctypes.POINTER(c_void_p))
    fn("mesos_scheduler_event_offers", c_int, c_void_p, c_size_t,
       ctypes.POINTER(ctypes.POINTER(Offer)), ctypes.POINTER(c_size_t), ctypes.POINTER(c_void_p))
    fn("mesos_scheduler_event_update", c_int, c_void_p, c_size_t,
       ctypes.POINTER(ctypes.POINTER(TaskStatus)), ctypes.POINTER(c_void_p))
    return lib


def check(lib, status, err, what):
    """Raises MesosError with the library's message when status != OK."""
    if status == MESOS_OK:
        return
    msg = lib.mesos_error_message(err).decode() if err.value else ""
    name = lib.mesos_status_name(status).decode()
    if err.value:
        lib.mesos_error_free(err)
    raise MesosError(f"{what}: {name}: {msg}")


# ------------------------------------------------------------ structs
# The public structs, field for field as in the headers.  Options structs
# are filled by their *_options_init twin first, so fields a newer header
# appends keep their defaults.


class MasterOptions(ctypes.Structure):  # mesos/master.h, version 1
    _fields_ = [("version", c_uint32), ("ip", c_char_p), ("port", c_uint32),
                ("hostname", c_char_p), ("work_dir", c_char_p), ("registry", c_char_p),
                ("cluster", c_char_p), ("heartbeat_interval_ms", c_uint64)]


class AgentOptions(ctypes.Structure):  # mesos/agent.h, version 1
    _fields_ = [("version", c_uint32), ("master", c_char_p), ("work_dir", c_char_p),
                ("ip", c_char_p), ("port", c_uint32), ("hostname", c_char_p),
                ("resources", c_char_p), ("attributes", c_char_p)]


ON_CONNECTED = ctypes.CFUNCTYPE(None, c_void_p, c_void_p)
ON_DISCONNECTED = ctypes.CFUNCTYPE(None, c_void_p, c_char_p, c_void_p)
ON_EVENT = ctypes.CFUNCTYPE(None, c_void_p, c_char_p, c_void_p, c_size_t, c_void_p)
CALL_DONE = ctypes.CFUNCTYPE(None, c_void_p, c_int, c_int, c_char_p, c_void_p)


class SchedulerOptions(ctypes.Structure):  # mesos/scheduler.h, version 1
    _fields_ = [("version", c_uint32), ("masters", c_char_p), ("content_type", c_uint32),
                ("framework_info", c_void_p), ("framework_info_len", c_size_t),
                ("framework_info_json", c_char_p), ("backoff_min_ms", c_uint32),
                ("backoff_max_ms", c_uint32), ("heartbeat_misses", c_uint32),
                ("tls_ca_file", c_char_p), ("on_connected", ON_CONNECTED),
                ("on_disconnected", ON_DISCONNECTED), ("on_event", ON_EVENT), ("ud", c_void_p)]


class Offer(ctypes.Structure):  # mesos_scheduler_offer
    _fields_ = [("id", c_char_p), ("agent_id", c_char_p), ("hostname", c_char_p),
                ("cpus", ctypes.c_double), ("mem", ctypes.c_double), ("disk", ctypes.c_double)]


class TaskStatus(ctypes.Structure):  # mesos_scheduler_task_status
    _fields_ = [("task_id", c_char_p), ("agent_id", c_char_p), ("state", c_char_p),
                ("reason", c_char_p), ("message", c_char_p), ("source", c_char_p),
                ("has_uuid", c_int), ("uuid", ctypes.c_uint8 * 16), ("terminal", c_int)]


# ------------------------------------------------------------ the program


def log(msg):
    print(f"[ctypes] {msg}", flush=True)


def resources_demo(lib):
    err = c_void_p()
    a, b = c_void_p(), c_void_p()
    check(lib, lib.mesos_resources_new(ctypes.byref(a), ctypes.byref(err)), err, "resources_new")
    check(lib, lib.mesos_resources_new(ctypes.byref(b), ctypes.byref(err)), err, "resources_new")
    try:
        check(lib, lib.mesos_resources_parse(a, b"cpus:2;mem:512;ports:[31000-31009]", b"*",
                                             ctypes.byref(err)), err, "parse")
        check(lib, lib.mesos_resources_parse(b, b"cpus:1.5;mem:256;disk:100", b"*",
                                             ctypes.byref(err)), err, "parse")
        check(lib, lib.mesos_resources_add(a, b, ctypes.byref(err)), err, "add")
        cpus = lib.mesos_resources_scalar(a, b"cpus")
        if abs(cpus - 3.5) > 1e-9:
            raise MesosError(f"cpus after add: {cpus}, expected 3.5")
        text = c_void_p()
        check(lib, lib.mesos_resources_format(a, ctypes.byref(text), ctypes.byref(err)), err,
              "format")
        log(f"resources: {ctypes.string_at(text).decode()}")
        lib.mesos_free(text)
        # A bad resource string is an error value with a message, not a crash.
        st = lib.mesos_resources_parse(b, b"cpus:lots", b"*", ctypes.byref(err))
        if st == MESOS_OK:
            raise MesosError("'cpus:lots' was accepted")
        log(f"refused as expected: {lib.mesos_error_message(err).decode()}")
        lib.mesos_error_free(err)
    finally:
        lib.mesos_resources_free(a)
        lib.mesos_resources_free(b)


class Framework:
    """The scheduler side: one task, then done."""

    def __init__(self, lib, command):
        self.lib = lib
        self.command = command
        self.sched = c_void_p()
        self.launched = False
        self.state = None
        self.done = False
        self.failed = None
        # The library keeps these function pointers: they must outlive it.
        self.cb_connected = ON_CONNECTED(self.on_connected)
        self.cb_disconnected = ON_DISCONNECTED(self.on_disconnected)
        self.cb_event = ON_EVENT(self.on_event)
        self.cb_call = CALL_DONE(self.on_call_done)

    def on_connected(self, s, ud):
        fid = self.lib.mesos_scheduler_framework_id(s)
        log(f"subscribed as framework {fid.decode()}")

    def on_disconnected(self, s, reason, ud):
        log(f"disconnected: {reason.decode()}")

    def on_call_done(self, s, status, http_status, message, ud):
        if status != MESOS_OK or http_status >= 400:
            self.failed = f"ACCEPT answered {http_status}: {message.decode() if message else ''}"

    def on_event(self, s, type_name, event, length, ud):
        # Exceptions cannot cross back into C: record them instead.
        try:
            name = type_name.decode()
            if name == "OFFERS":
                self.offers(event, length)
            elif name == "UPDATE":
                self.update(event, length)
        except Exception as e:  # noqa: BLE001 - reported after the callback
            self.failed = f"{type(e).__name__}: {e}"

    def offers(self, event, length):
        lib, err = self.lib, c_void_p()
        offers, count = ctypes.POINTER(Offer)(), c_size_t()
        check(lib, lib.mesos_scheduler_event_offers(event, length, ctypes.byref(offers),
                                                    ctypes.byref(count), ctypes.byref(err)),
              err, "event_offers")
        try:
            for i in range(count.value):
                o = offers[i]
                if self.launched or o.cpus < 0.1 or o.mem < 32:
                    check(lib, lib.mesos_scheduler_decline(self.sched, o.id, 5.0,
                                                           ctypes.byref(err)), err, "decline")
                    continue
                log(f"offer {o.id.decode()} from {o.hostname.decode()}: "
                    f"cpus {o.cpus:g} mem {o.mem:g}")
                call = (
                    '{"type":"ACCEPT","accept":{"offer_ids":[{"value":"%s"}],'
                    '"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"py-task",'
                    '"task_id":{"value":"py-task-1"},"agent_id":{"value":"%s"},'
                    '"command":{"value":"%s"},"resources":['
                    '{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},'
                    '{"name":"mem","type":"SCALAR","scalar":{"value":32}}]}]}}]}}'
                    % (o.id.decode(), o.agent_id.decode(), self.command))
                check(lib, lib.mesos_scheduler_call_json(self.sched, call.encode(),
                                                         ctypes.cast(self.cb_call, c_void_p),
                                                         None, ctypes.byref(err)),
                      err, "accept")
                self.launched = True
                log("launched py-task-1")
        finally:
            lib.mesos_free(offers)

    def update(self, event, length):
        lib, err = self.lib, c_void_p()
        st = ctypes.POINTER(TaskStatus)()
        check(lib, lib.mesos_scheduler_event_update(event, length, ctypes.byref(st),
                                                    ctypes.byref(err)), err, "event_update")
        try:
            s = st.contents
            self.state = s.state.decode()
            log(f"task {s.task_id.decode()} is {self.state}"
                + (f" ({s.message.decode()})" if s.message else ""))
            if s.has_uuid:
                check(lib, lib.mesos_scheduler_acknowledge(self.sched, s.agent_id, s.task_id,
                                                           ctypes.byref(s.uuid),
                                                           ctypes.byref(err)),
                      err, "acknowledge")
            if s.terminal:
                self.done = True
                if self.state != "TASK_FINISHED":
                    self.failed = f"task ended in {self.state}"
        finally:
            lib.mesos_free(st)


def drive(lib, loop, until, timeout_s):
    """Python's own poll() loop around the library's: wait on the loop's fd
    for at most the loop's next timer, then let it run what is ready."""
    fd = lib.mesos_loop_fd(loop)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    deadline = time.monotonic() + timeout_s
    while not until():
        left_ms = int((deadline - time.monotonic()) * 1000)
        if left_ms <= 0:
            return False
        t = lib.mesos_loop_timeout_ms(loop)
        poller.poll(left_ms if t < 0 else min(t, left_ms))
        if lib.mesos_loop_run_once(loop) < 0:
            raise MesosError("mesos_loop_run_once failed")
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", default=os.environ.get("MESOS_CORE_LIB", "libmesos-core.so.1"))
    ap.add_argument("--agent", help="path of mesos-agent (default: an agent in this process)")
    ap.add_argument("--timeout", type=float, default=30.0)
    args = ap.parse_args()

    lib = load(args.lib)
    log(f"libmesos-core {lib.mesos_version_string().decode()} from {args.lib}")
    resources_demo(lib)

    err = c_void_p()
    loop, master, agent, fw = c_void_p(), c_void_p(), c_void_p(), None
    agent_proc = None
    work = tempfile.mkdtemp(prefix="mesos-ctypes-")
    try:
        check(lib, lib.mesos_loop_new(ctypes.byref(loop), None, ctypes.byref(err)), err,
              "loop_new")
        mo = MasterOptions()
        check(lib, lib.mesos_master_options_init(ctypes.byref(mo), 1), err, "options_init")
        mo.ip, mo.port, mo.hostname = b"127.0.0.1", 0, b"ctypes-master"
        check(lib, lib.mesos_master_new(ctypes.byref(master), loop, ctypes.byref(mo), None,
                                        ctypes.byref(err)), err, "master_new")
        port = lib.mesos_master_port(master)
        log(f"master listening on 127.0.0.1:{port}")

        resources = b"cpus:1;mem:256;disk:64;ports:[31000-31009]"
        if args.agent:
            agent_proc = subprocess.Popen(
                [args.agent, f"--master=127.0.0.1:{port}", "--ip=127.0.0.1", "--port=0",
                 f"--work_dir={work}/agent", "--hostname=ctypes-agent",
                 "--resources=" + resources.decode(), "--logging_level=WARNING",
                 "--registration_backoff_factor=100ms"])
            log(f"agent daemon {args.agent} started (pid {agent_proc.pid})")
        else:
            ao = AgentOptions()
            check(lib, lib.mesos_agent_options_init(ctypes.byref(ao), 1), err, "options_init")
            ao.master = f"127.0.0.1:{port}".encode()
            ao.work_dir = f"{work}/agent".encode()
            ao.ip, ao.port, ao.hostname, ao.resources = b"127.0.0.1", 0, b"ctypes-agent", resources
            check(lib, lib.mesos_agent_new(ctypes.byref(agent), loop, ctypes.byref(ao), None,
                                           ctypes.byref(err)), err, "agent_new")
            log("agent running in this process")

        fw = Framework(lib, "echo hello from a task launched by Python")
        so = SchedulerOptions()
        check(lib, lib.mesos_scheduler_options_init(ctypes.byref(so), 1), err, "options_init")
        so.masters = f"http://127.0.0.1:{port}".encode()
        so.content_type = 1  # MESOS_SCHEDULER_CONTENT_JSON
        so.framework_info_json = b'{"user":"nobody","name":"ctypes example"}'
        so.on_connected, so.on_disconnected, so.on_event = (fw.cb_connected, fw.cb_disconnected,
                                                            fw.cb_event)
        check(lib, lib.mesos_scheduler_new(ctypes.byref(fw.sched), loop, ctypes.byref(so),
                                           ctypes.byref(err)), err, "scheduler_new")

        ok = drive(lib, loop, lambda: fw.done or fw.failed is not None, args.timeout)
        if fw.failed:
            raise MesosError(fw.failed)
        if not ok:
            raise MesosError(f"no terminal update within {args.timeout:g}s (last: {fw.state})")
        log("task finished: done")
        return 0
    except MesosError as e:
        print(f"[ctypes] error: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        if fw is not None and fw.sched.value:
            lib.mesos_scheduler_free(fw.sched)
        if agent_proc is not None:
            agent_proc.terminate()
            try:
                # Keep the master answering while the agent says goodbye.
                drive(lib, loop, lambda: agent_proc.poll() is not None, 10)
            except MesosError:
                pass
            if agent_proc.poll() is None:
                agent_proc.kill()
            agent_proc.wait()
        if agent.value:
            lib.mesos_agent_free(agent)
        if master.value:
            lib.mesos_master_free(master)
        if loop.value:
            # Let closing connections finish, then free the loop.
            for _ in range(10):
                lib.mesos_loop_run_once(loop)
            lib.mesos_loop_free(loop)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
