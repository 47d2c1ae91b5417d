"""lecternd under systemd's protocols, without systemd: sd_notify messages
(READY, STATUS, RELOADING, STOPPING, WATCHDOG) recorded on our own
NOTIFY_SOCKET; socket activation with systemd-socket-activate; journald
priority prefixes when JOURNAL_STREAM names stderr.
"""
import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

from harness import Daemon, Client, LECTERND


class NotifyRecorder:
    """An AF_UNIX datagram socket standing in for systemd's notify socket."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []

    def drain(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            self.messages.append(data.decode("utf-8", "replace"))
        return self.messages

    def wait_for(self, needle, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(needle in m for m in self.messages):
                return True
            self.drain(0.2)
        return False

    def close(self):
        self.sock.close()


class TestNotify(unittest.TestCase):

    def test_ready_status_watchdog_reload_stopping(self):
        d = Daemon()
        self.addCleanup(d.cleanup)
        rec = NotifyRecorder(os.path.join(d.tmp, "notify.sock"))
        self.addCleanup(rec.close)
        # A watchdog of 400 ms: pings at half of it.
        d.env = {"NOTIFY_SOCKET": rec.path, "WATCHDOG_USEC": "400000"}
        d.start()
        self.assertTrue(rec.wait_for("READY=1"), rec.messages)
        self.assertTrue(any("STATUS=" in m for m in rec.messages), rec.messages)
        before = sum(m.count("WATCHDOG=1") for m in rec.messages)
        rec.drain(1.5)
        pings = sum(m.count("WATCHDOG=1") for m in rec.messages) - before
        self.assertGreaterEqual(pings, 3, f"watchdog pings in 1.5 s: {pings}")
        self.assertLessEqual(pings, 12, f"watchdog pings in 1.5 s: {pings}")

        n = len(rec.messages)
        d.signal(signal.SIGHUP)
        self.assertTrue(rec.wait_for("RELOADING=1"), rec.messages[n:])
        rec.drain(0.5)
        self.assertTrue(any("READY=1" in m for m in rec.messages[n:]), rec.messages[n:])

        d.signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(10), 0)
        rec.drain(0.3)
        self.assertTrue(any("STOPPING=1" in m for m in rec.messages), rec.messages)

    def test_no_watchdog_no_pings(self):
        d = Daemon()
        self.addCleanup(d.cleanup)
        rec = NotifyRecorder(os.path.join(d.tmp, "notify.sock"))
        self.addCleanup(rec.close)
        d.env = {"NOTIFY_SOCKET": rec.path}
        d.start()
        self.assertTrue(rec.wait_for("READY=1"), rec.messages)
        rec.drain(1.0)
        self.assertFalse(any("WATCHDOG=1" in m for m in rec.messages), rec.messages)


class TestSocketActivation(unittest.TestCase):

    def test_systemd_socket_activate(self):
        tool = shutil.which("systemd-socket-activate")
        if tool is None:
            self.skipTest("systemd-socket-activate is not installed")
        d = Daemon()
        self.addCleanup(d.cleanup)
        path = d.socket
        proc = subprocess.Popen([tool, "-l", path, LECTERND, "-f", "-c", d.conf_path],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=open(d.stderr_path, "ab"), cwd=d.tmp)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        deadline = time.monotonic() + 10
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.05)
        # The listening socket is systemd-socket-activate's: the daemon
        # starts on the first connection and serves on the passed fd.
        with Client(path, timeout=10) as c:
            st = c.ok("status")
            self.assertEqual(st["protocol"], 1)
            c.ok("person.add", {"name": "Activated", "email": "act@school.example"})
        with Client(path, timeout=10) as c:
            self.assertEqual(c.ok("person.get", {"email": "act@school.example"})["name"],
                             "Activated")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(10), 0)


class TestJournal(unittest.TestCase):

    def test_priority_prefixes_under_journald(self):
        d = Daemon()
        self.addCleanup(d.cleanup)
        with open(d.stderr_path, "ab"):
            pass
        st = os.stat(d.stderr_path)
        d.env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        d.start()
        d.stop()
        lines = [l for l in d.stderr_text().splitlines() if l and not l.startswith("----")]
        self.assertTrue(lines, "nothing logged")
        for l in lines:
            self.assertRegex(l, r"^<[0-7]>", l)
            self.assertNotRegex(l, r"^<\d>\d{4}-\d\d-\d\d ", "timestamp under journald")

    def test_timestamps_otherwise(self):
        d = Daemon()
        self.addCleanup(d.cleanup)
        d.start()
        d.stop()
        lines = [l for l in d.stderr_text().splitlines() if l and not l.startswith("----")]
        self.assertTrue(lines, "nothing logged")
        for l in lines:
            self.assertRegex(l, r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d lecternd\[\d+\]: ", l)


if __name__ == "__main__":
    unittest.main()
