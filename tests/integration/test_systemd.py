"""The systemd unit: a hardened sandbox (exposure <= 1.5) that
`systemd-analyze verify` accepts without warnings."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import TOP, LECTERND

UNIT = os.path.join(TOP, "systemd", "lecternd.service")
SOCKET_UNIT = os.path.join(TOP, "systemd", "lecternd.socket")


def exec_path(unit_text):
    m = re.search(r"^ExecStart=[-@:+!]*(\S+)", unit_text, re.M)
    return m.group(1) if m else None


@unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
class SystemdUnit(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.path.exists(UNIT), f"{UNIT} does not exist")
        with open(UNIT) as f:
            self.text = f.read()
        self.tmp = tempfile.mkdtemp(prefix="lectern-unit-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def verifiable_copy(self):
        """The unit itself if its ExecStart binary exists, else a copy in a
        temp dir whose ExecStart points at build/lecternd (with the socket unit
        beside it, if there is one)."""
        binary = exec_path(self.text)
        self.assertIsNotNone(binary, "no ExecStart= line")
        if os.path.exists(binary) and not os.path.exists(SOCKET_UNIT):
            return UNIT
        self.assertTrue(os.access(LECTERND, os.X_OK), f"{LECTERND} not built")
        text = re.sub(r"^(ExecStart=[-@:+!]*)\S+", lambda m: m.group(1) + LECTERND,
                      self.text, flags=re.M)
        text = re.sub(r"^(ExecReload=[-@:+!]*)" + re.escape(binary),
                      lambda m: m.group(1) + LECTERND, text, flags=re.M)
        path = os.path.join(self.tmp, "lecternd.service")
        with open(path, "w") as f:
            f.write(text)
        if os.path.exists(SOCKET_UNIT):
            shutil.copy(SOCKET_UNIT, os.path.join(self.tmp, "lecternd.socket"))
        return path

    def test_type_notify_and_directories(self):
        self.assertRegex(self.text, r"(?m)^Type=notify(-reload)?\s*$")
        self.assertRegex(self.text, r"(?m)^StateDirectory=\S*lectern")
        self.assertRegex(self.text, r"(?m)^RuntimeDirectory=\S*lectern")

    def test_man_pages_exist(self):
        pages = re.findall(r"man:([\w.-]+)\((\d)\)", self.text)
        have = set()
        for root, _, files in os.walk(os.path.join(TOP, "docs")):
            have.update(files)
        for name, sec in pages:
            self.assertTrue(any(f == f"{name}.{sec}" or f.startswith(f"{name}.{sec}.")
                                for f in have),
                            f"Documentation=man:{name}({sec}) but no docs/{name}.{sec}")

    def test_security_exposure(self):
        p = subprocess.run(["systemd-analyze", "security", "--offline=yes", UNIT],
                           capture_output=True, text=True, timeout=60)
        out = p.stdout + p.stderr
        m = re.search(r"Overall exposure level for \S+:\s*([0-9.]+)", out)
        self.assertIsNotNone(m, "no exposure level in:\n" + out[-3000:])
        level = float(m.group(1))
        self.assertLessEqual(level, 1.5, "exposure too high:\n" + "\n".join(
            l for l in out.splitlines() if l.startswith("✗"))[:4000])

    def test_verify_clean(self):
        path = self.verifiable_copy()
        units = [path]
        sock = os.path.join(os.path.dirname(path), "lecternd.socket")
        if os.path.exists(sock):
            units.append(sock)
        # --man=no: the pages are checked in the repository (test_man_pages_exist),
        # not among the installed ones
        p = subprocess.run(["systemd-analyze", "verify", "--man=no"] + units, capture_output=True,
                           text=True, timeout=60, cwd=os.path.dirname(path))
        out = (p.stdout + p.stderr).strip()
        self.assertEqual(p.returncode, 0, out)
        self.assertEqual(out, "", "systemd-analyze verify complained:\n" + out)


if __name__ == "__main__":
    unittest.main()
