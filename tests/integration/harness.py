"""Shared code for lectern's integration tests.

Daemon   -- the real build/lecternd in a temporary directory (maildir
            transport, socket in the temp dir, zone Europe/Moscow).
Client   -- raw bytes on the control socket (greeting, lines, replies).
cli()    -- the real build/lectern, returning (rc, stdout, stderr).
SmtpServer -- a real SMTP server on 127.0.0.1 (aiosmtpd), recording what
            it receives, scriptable to refuse, drop or delay.

Runs under Debian's /usr/bin/python3 (standard library + aiosmtpd).
"""
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

TOP = os.environ.get("LECTERN_TOP") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("LECTERN_BUILD") or os.path.join(TOP, "build")
LECTERND = os.path.join(BUILD, "lecternd")
# The same daemon with the test hooks (the test clock) compiled in.
LECTERND_TEST = os.path.join(BUILD, "lecternd-test")
LECTERN = os.path.join(BUILD, "lectern")

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


class HarnessError(AssertionError):
    """A failure of the component under test seen by the harness."""


def require_binaries(*names):
    for path in names or (LECTERND, LECTERN):
        if not os.access(path, os.X_OK):
            raise HarnessError(f"{path} is not built (run make -j2 all)")


def default_config(tmp):
    """The base configuration as {section: {key: value}}."""
    return {
        "daemon": {
            "state_dir": os.path.join(tmp, "state"),
            "socket": os.path.join(tmp, "lectern.sock"),
            "timezone": "Europe/Moscow",
            "lang": "en",
            "log_level": "debug",
        },
        "mail": {
            "url": "maildir:" + os.path.join(tmp, "maildir"),
            "from": "Lectern Test <lectern@lectern.test>",
            "domain": "lectern.test",
        },
        "reminders": {
            "default": "1d, 1h",
        },
    }


def render_config(sections):
    out = []
    for section, keys in sections.items():
        out.append(f"[{section}]")
        for k, v in keys.items():
            if v is None:
                continue
            out.append(f"{k} = {v}")
        out.append("")
    return "\n".join(out)


def merge_config(base, overrides):
    """overrides: {section: {key: value}}; a value None removes the key."""
    merged = {s: dict(k) for s, k in base.items()}
    for section, keys in (overrides or {}).items():
        sec = merged.setdefault(section, {})
        for k, v in keys.items():
            if v is None:
                sec.pop(k, None)
            else:
                sec[k] = v
    return merged


def wait_until(pred, timeout, what, poll=0.05):
    """Call pred every poll seconds until it returns something true, and
    return that; fail after timeout seconds, naming what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)


def shut_down(daemon, smtp=None, timeout=STOP_TIMEOUT):
    """A test's own daemon stopped and its directory removed, then its SMTP
    server stopped; either may be None."""
    try:
        if daemon is not None:
            if daemon.alive():
                daemon.stop(timeout=timeout)
            daemon.cleanup()
    finally:
        if smtp is not None:
            smtp.stop()


def connect_unix(path, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


class Daemon:
    """The real lecternd in a temporary directory.

    d = Daemon(overrides={"daemon": {"max_line": "1048576"}}); d.start()
    ... d.stop()  (asserts exit 0 within 5 s); d.restart() keeps the state.

    Daemon(test_clock=OFFSET) runs build/lecternd-test with its clock
    OFFSET seconds ahead of the machine's (negative: behind);
    d.set_clock(OFFSET) steps it, as a step of the system clock would.
    """

    def __init__(self, overrides=None, tmp=None, start_args=(), env=None,
                 test_clock=None):
        self.binary = LECTERND if test_clock is None else LECTERND_TEST
        require_binaries(self.binary)
        self.tmp = tmp or tempfile.mkdtemp(prefix="lectern-it-")
        self.own_tmp = tmp is None
        os.makedirs(os.path.join(self.tmp, "state"), exist_ok=True)
        os.makedirs(os.path.join(self.tmp, "maildir"), exist_ok=True)
        self.config = merge_config(default_config(self.tmp), overrides)
        self.conf_path = os.path.join(self.tmp, "lectern.conf")
        self.stderr_path = os.path.join(self.tmp, "lecternd.stderr")
        self.start_args = list(start_args)
        self.env = env
        self.proc = None
        self.clock_path = None
        if test_clock is not None:
            self.clock_path = os.path.join(self.tmp, "clock")
            self.set_clock(test_clock)
        self.write_config()

    def set_clock(self, offset):
        """Step the test clock to OFFSET seconds from the machine's clock
        (written whole, then renamed: the daemon sees one change)."""
        tmp = self.clock_path + ".new"
        with open(tmp, "w") as f:
            f.write("%d\n" % int(offset))
        os.rename(tmp, self.clock_path)

    def clock_for(self, when):
        """The offset that makes the daemon's clock read WHEN (epoch s) now."""
        return int(when - time.time())

    # -- configuration ---------------------------------------------------
    @property
    def socket(self):
        return self.config["daemon"]["socket"]

    @property
    def maildir(self):
        url = self.config["mail"]["url"]
        return url[len("maildir:"):] if url.startswith("maildir:") else None

    def write_config(self, text=None):
        with open(self.conf_path, "w", encoding="utf-8") as f:
            f.write(render_config(self.config) if text is None else text)

    def set_config(self, overrides):
        self.config = merge_config(self.config, overrides)
        self.write_config()

    # -- process ---------------------------------------------------------
    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def stderr_text(self):
        try:
            with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def start(self, wait=True):
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("daemon already running")
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        env.pop("LISTEN_FDS", None)
        env.pop("LISTEN_PID", None)
        if self.env:
            env.update(self.env)
        if self.clock_path:
            env["LECTERN_TEST_CLOCK"] = self.clock_path
        with open(self.stderr_path, "ab") as err:
            err.write(b"---- start ----\n")
            err.flush()
            self.proc = subprocess.Popen(
                [self.binary, "-f", "-c", self.conf_path] + self.start_args,
                stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=env,
                cwd=self.tmp)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise HarnessError(
                    f"lecternd exited with {rc} during start-up; stderr:\n"
                    + self.stderr_text()[-4000:])
            try:
                s = connect_unix(self.socket, timeout=1.0)
                try:
                    line = _recv_line(s, 2.0)
                finally:
                    s.close()
                if line is not None:
                    return
                last = "no greeting"
            except (FileNotFoundError, ConnectionRefusedError) as e:
                last = e
            except OSError as e:
                last = e
            time.sleep(0.05)
        self.kill()
        raise HarnessError(f"lecternd did not answer on {self.socket} within "
                           f"{timeout} s ({last}); stderr:\n" + self.stderr_text()[-4000:])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM; raises HarnessError unless it exits 0 within timeout."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            self.proc = None
            raise HarnessError(f"lecternd had already exited with {rc}; stderr:\n"
                               + self.stderr_text()[-4000:])
        self.proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise HarnessError(f"lecternd did not exit within {timeout} s of SIGTERM; "
                               "stderr:\n" + self.stderr_text()[-4000:])
        self.proc = None
        if rc != 0:
            raise HarnessError(f"lecternd exited with {rc} after SIGTERM; stderr:\n"
                               + self.stderr_text()[-4000:])
        return time.monotonic() - t0

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        self.kill()
        if self.own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def rss_kib(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise HarnessError("no VmRSS")

    # -- conveniences ----------------------------------------------------
    def client(self, **kw):
        return Client(self.socket, **kw)

    def cli(self, *args, **kw):
        return cli(*args, sock=self.socket, **kw)

    def request(self, cmd, args=None):
        with self.client() as c:
            return c.request(cmd, args)

    def ok(self, cmd, args=None):
        with self.client() as c:
            return c.ok(cmd, args)

    def run_check(self, conf_path=None):
        """lecternd -n -c FILE -> (rc, stdout, stderr)."""
        p = subprocess.run([LECTERND, "-n", "-c", conf_path or self.conf_path],
                           capture_output=True, text=True, timeout=20, cwd=self.tmp)
        return p.returncode, p.stdout, p.stderr


def _recv_line(sock, timeout):
    """Read one line from a fresh socket (byte-wise buffering elsewhere)."""
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            return None
        if not chunk:
            return None
        buf += chunk
    return buf.split(b"\n", 1)[0]


class ClientClosed(HarnessError):
    pass


class Client:
    """Raw bytes on the control socket.

    Reads the greeting on connect (self.greeting, a dict). send() takes
    bytes (sent as is) or a dict (JSON + '\\n'); recv() returns the next
    reply line decoded as JSON (or raises on timeout/close).
    """

    def __init__(self, path, timeout=10.0, greet=True):
        self.path = path
        self.timeout = timeout
        self.sock = connect_unix(path, timeout)
        self.buf = b""
        self.next_id = 1
        self.greeting = None
        if greet:
            line = self.recv_line()
            self.greeting = json.loads(line)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        if isinstance(data, (dict, list)):
            data = (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")
        elif isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def recv_line(self, timeout=None):
        """The next line (bytes, without '\\n'). ClientClosed on EOF,
        socket.timeout when nothing arrives in time."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout(f"no reply line within {timeout} s")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 16)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise ClientClosed("connection closed by the daemon"
                                   + (f" (pending {self.buf[:200]!r})" if self.buf else ""))
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def recv(self, timeout=None):
        line = self.recv_line(timeout)
        try:
            return json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise HarnessError(f"reply is not JSON/UTF-8: {line[:300]!r} ({e})")

    def wait_closed(self, timeout):
        """True if the daemon closes the connection within timeout
        (replies that arrive meanwhile are discarded)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self.buf += chunk

    def request(self, cmd, args=None, id=None, timeout=None):
        if id is None:
            id = self.next_id
            self.next_id += 1
        req = {"id": id, "cmd": cmd}
        if args is not None:
            req["args"] = args
        self.send(req)
        reply = self.recv(timeout)
        if reply.get("id") != id:
            raise HarnessError(f"reply id {reply.get('id')!r} != request id {id!r}: {reply}")
        return reply

    def ok(self, cmd, args=None):
        reply = self.request(cmd, args)
        if reply.get("ok") is not True or "result" not in reply:
            raise HarnessError(f"{cmd} {json.dumps(args, ensure_ascii=False)[:500]} "
                               f"refused: {json.dumps(reply, ensure_ascii=False)[:800]}")
        return reply["result"]

    def err(self, cmd, args=None):
        """The error object of a request that must fail."""
        reply = self.request(cmd, args)
        if reply.get("ok") is not False or not isinstance(reply.get("error"), dict):
            raise HarnessError(f"{cmd} {json.dumps(args, ensure_ascii=False)[:500]} "
                               f"should fail but got: {json.dumps(reply, ensure_ascii=False)[:800]}")
        return reply["error"]


def cli(*args, sock=None, input=None, env=None, timeout=30, prefix=(), binary=None):
    """Run build/lectern -s SOCK ARGS... -> (rc, stdout, stderr) as text."""
    cmd = list(prefix) + [binary or LECTERN]
    if sock is not None:
        cmd += ["-s", sock]
    cmd += [str(a) for a in args]
    e = dict(os.environ)
    e.pop("LECTERN_SOCKET", None)
    e.setdefault("LC_ALL", "C.UTF-8")
    if env:
        e.update(env)
    p = subprocess.run(cmd, input=input, capture_output=True, text=True,
                       encoding="utf-8", errors="replace", env=e, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class DaemonCase(unittest.TestCase):
    """One daemon per test class (overrides in `daemon_overrides`)."""
    daemon_overrides = None
    daemon = None

    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(overrides=cls.daemon_overrides)
        try:
            cls.daemon.start()
        except BaseException:
            cls.daemon.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        d = cls.daemon
        if d is None:
            return
        try:
            if d.alive():
                d.stop()
        finally:
            d.cleanup()

    def setUp(self):
        if not self.daemon.alive():
            self.fail("lecternd is not running (died during an earlier test); stderr:\n"
                      + self.daemon.stderr_text()[-3000:])

    def client(self, **kw):
        return self.daemon.client(**kw)

    def assertServing(self, msg=""):
        """A fresh, well-behaved client's status request is answered."""
        try:
            with self.daemon.client(timeout=10) as c:
                r = c.request("status")
        except Exception as e:
            self.fail(f"daemon no longer serves status {msg}: {e}; alive={self.daemon.alive()}")
        self.assertTrue(r.get("ok"), f"status refused {msg}: {r}")

    def assertError(self, err, code, field=None, msg=None):
        self.assertEqual(err.get("code"), code, msg or err)
        self.assertIsInstance(err.get("message"), str, err)
        self.assertTrue(err["message"], err)
        if field is not None:
            self.assertEqual(err.get("field"), field, msg or err)


class CliCase(DaemonCase):
    """DaemonCase for tests of the lectern binary: a protocol client in
    self.c, and lectern runs that must succeed."""

    def setUp(self):
        super().setUp()
        require_binaries(LECTERN)
        self.c = self.client()

    def tearDown(self):
        self.c.close()

    def run_ok(self, *args, **kw):
        """lectern ARGS..., which must exit 0; its stdout."""
        rc, out, err = self.daemon.cli(*args, **kw)
        self.assertEqual(rc, 0, f"lectern {' '.join(map(str, args))} -> {rc}\n{out}\n{err}")
        return out

    def run_json(self, *args):
        """lectern --json ARGS..., which must exit 0; its output decoded."""
        out = self.run_ok("--json", *args)
        try:
            return json.loads(out)
        except ValueError:
            self.fail(f"--json output is not JSON: {out[:500]!r}")


_counter = [0]


def unique(prefix="p"):
    _counter[0] += 1
    return f"{prefix}{os.getpid()}x{_counter[0]}"


# --------------------------------------------------------------------------
# SMTP server on loopback
# --------------------------------------------------------------------------

class Received:
    """One message the SMTP server accepted (DATA answered 250)."""

    def __init__(self, mail_from, rcpt_tos, data, peer):
        self.mail_from = mail_from
        self.rcpt_tos = list(rcpt_tos)
        self.data = data          # bytes, exactly as received (dot-unstuffed)
        self.peer = peer
        self.time = time.time()

    def message(self):
        import email
        import email.policy
        return email.message_from_bytes(self.data, policy=email.policy.default)


class _Handler:
    def __init__(self, owner):
        self.o = owner

    async def _script(self, stage, server, key=None):
        o = self.o
        with o.lock:
            o.commands.append((stage, key))
            delay = o.delays.get(stage, 0)
            drop = False
            if o.drops.get(stage, 0) > 0:
                o.drops[stage] -= 1
                drop = True
        if delay:
            await asyncio.sleep(delay)
        if drop:
            with o.lock:
                o.dropped += 1
            server.transport.abort()
            raise ConnectionResetError("scripted drop")

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        await self._script("EHLO", server)
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        await self._script("MAIL", server, address)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await self._script("RCPT", server, address)
        with self.o.lock:
            reply = self.o.rcpt_replies.get(address.lower())
            self.o.rcpt_attempts.append(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await self._script("DATA", server)
        with self.o.lock:
            reply = self.o.data_reply
            if reply:
                return reply
            self.o.messages.append(Received(envelope.mail_from, envelope.rcpt_tos,
                                            envelope.original_content, session.peer))
            self.o.cond.notify_all()
        return "250 OK: queued"


class SmtpServer:
    """A real SMTP server on 127.0.0.1 with a free port (aiosmtpd).

    Records every accepted message in .messages (Received objects: envelope
    and raw bytes). Scriptable:
      refuse(addr, "450 4.2.0 mailbox busy")   RCPT reply for one recipient
      data_reply = "451 4.3.0 try later"       reply to DATA for everyone
      drop("DATA", n=1)                        abort the connection at a stage
                                               (EHLO, MAIL, RCPT, DATA)
      delay("DATA", 2.0)                       sleep before answering a stage
    """

    def __init__(self):
        from aiosmtpd.controller import Controller
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.messages = []
        self.commands = []
        self.rcpt_attempts = []
        self.rcpt_replies = {}
        self.data_reply = None
        self.drops = {}
        self.delays = {}
        self.dropped = 0
        self._listen = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listen.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listen.bind(("127.0.0.1", 0))
        self.port = self._listen.getsockname()[1]
        listen = self._listen

        class _Controller(Controller):
            def _create_server(ctl):
                return ctl.loop.create_server(ctl._factory_invoker, sock=listen)

        self.controller = _Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                      enable_SMTPUTF8=True, decode_data=False,
                                      data_size_limit=64 * 1024 * 1024,
                                      ident="lectern-test-smtp")

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def start(self):
        self.controller.start()
        with self.lock:
            self.commands.clear()   # forget the controller's own trigger connection
        return self

    def stop(self):
        try:
            self.controller.stop()
        finally:
            try:
                self._listen.close()
            except OSError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def refuse(self, address, reply):
        with self.lock:
            self.rcpt_replies[address.lower()] = reply

    def accept(self, address):
        with self.lock:
            self.rcpt_replies.pop(address.lower(), None)

    def drop(self, stage, n=1):
        with self.lock:
            self.drops[stage] = n

    def delay(self, stage, seconds):
        with self.lock:
            self.delays[stage] = seconds

    def received(self):
        with self.lock:
            return list(self.messages)

    def wait_for(self, n, timeout=10.0):
        """Wait until at least n messages were accepted; returns them."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return list(self.messages)
