"""The real lectern's CPD reports against the real lecternd (issue 5;
docs/PROTOCOL.md, "Reports"): `--json` prints exactly the protocol's
result; `--csv` is RFC 4180 (CRLF, quotes doubled), UTF-8 and formula-safe
(a school named =HYPERLINK(...) comes out as '=HYPERLINK(...), and so do
cells starting with +, - and @); the coverage table has one bar per
group, the weakest first.

The daemon is build/lecternd-test with its clock on 2026-11-23 12:00
Moscow; the data is made through the protocol.
"""
import csv
import io
import json
import os
import re
import subprocess
import unittest

from cpd_district import CpdCase, csv_text
from harness import LECTERN, require_binaries

EVIL = '=HYPERLINK("http://x.example","go")'
SCHOOLS = {
    # organization: (people, of whom trained in the window)
    "School No. 5": (5, 2),
    EVIL: (3, 1),
    "+SUM(1,2)": (2, 0),
    "-minus school": (4, 3),
    "@at school": (2, 1),
    'Лицей № 2, "лучший"': (4, 4),
    None: (1, 0),
}
EVIL_POSITION = "=cmd|' /C calc'!A0"
DANGER = ("=", "+", "-", "@", "\t", "\r")
BAR = re.compile(r"[\u2580-\u259f]{5,}")


class CliReports(CpdCase):
    now = "2026-11-23T12:00"

    @classmethod
    def setUpClass(cls):
        require_binaries(LECTERN)
        super().setUpClass()
        try:
            cls.load()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def load(cls):
        people, rows = [], []
        i = 0
        for org, (n, trained) in SCHOOLS.items():
            for k in range(n):
                i += 1
                email = f"cli{i:03d}@school.example"
                pos = EVIL_POSITION if i == 2 else ("teacher" if k % 2 else None)
                people.append([f"Teacher {i:03d}", email, org or "", pos or ""])
                if k < trained:
                    rows.append([email, "=1+1 assessment" if i == 1 else "Assessment",
                                 "18", f"2025-0{1 + k}-15"])
                elif k == trained:
                    # long ago: overdue (a negative days_left)
                    rows.append([email, "Old course", "18", "2021-03-01"])
        r = cls.c.ok("person.import", {"csv": csv_text(["name", "email", "organization",
                                                        "position"], people)})
        assert r["errors"] == [], r
        r = cls.c.ok("training.import", {"csv": csv_text(["email", "title", "hours",
                                                          "completed_on"], rows)})
        assert r["recorded"] == len(rows), r

    def run_cli(self, *args):
        rc, out, err = self.daemon.cli(*args)
        self.assertEqual(rc, 0, f"lectern {' '.join(args)} -> {rc}\n{out}\n{err}")
        return out

    def run_bytes(self, *args):
        """stdout as bytes (to see the CRLFs), via a second run in binary."""
        env = dict(os.environ, LC_ALL="C.UTF-8")
        env.pop("LECTERN_SOCKET", None)
        p = subprocess.run([LECTERN, "-s", self.daemon.socket] + list(args),
                           capture_output=True, env=env, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def parse_csv(self, *args):
        raw = self.run_bytes(*args)
        text = raw.decode("utf-8")             # UTF-8, or this raises
        self.assertTrue(raw.endswith(b"\r\n"), raw[-40:])
        self.assertEqual(raw.count(b"\n"), raw.count(b"\r\n"), "records end in CRLF")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        self.assertGreater(len(rows), 1)
        width = len(rows[0])
        for r in rows:
            self.assertEqual(len(r), width, r)
            for cell in r:
                if cell.startswith(DANGER):
                    self.assertRegex(cell, r"^-\d+(\.\d+)?$",
                                     f"a cell a spreadsheet would run as a formula: {cell!r}")
        return rows

    # -- --json --------------------------------------------------------------------
    def test_json_is_the_protocol_result(self):
        cases = [
            (["report", "coverage"], "report.coverage", {}),
            (["report", "coverage", "--by", "organization"], "report.coverage",
             {"by": "organization"}),
            (["report", "coverage", "--by", "position", "--from", "2025-01-01", "--to",
              "2025-12-31"], "report.coverage", {"by": "position", "from": "2025-01-01",
                                                 "to": "2025-12-31"}),
            (["report", "coverage", "--by", "position", "--organization", "School No. 5"],
             "report.coverage", {"by": "position", "organization": "School No. 5"}),
            (["report", "due"], "report.recertification", {}),
            (["report", "due", "--as-of", "2027-02-28", "--status", "overdue,never"],
             "report.recertification", {"as_of": "2027-02-28", "status": ["overdue", "never"]}),
            (["report", "hours"], "report.hours", {}),
            (["report", "hours", "--by", "organization"], "report.hours", {"by": "organization"}),
            (["completions", "--from", "2025-01-01"], "completion.list", {"from": "2025-01-01"}),
        ]
        for argv, cmd, args in cases:
            with self.subTest(argv=argv):
                out = self.run_cli("--json", *argv)
                self.assertEqual(json.loads(out), self.c.ok(cmd, args))

    # -- --csv ---------------------------------------------------------------------
    def test_coverage_csv_is_formula_safe(self):
        rows = self.parse_csv("report", "coverage", "--by", "organization", "--csv")
        result = self.c.ok("report.coverage", {"by": "organization"})
        first = [r[0] for r in rows[1:]]
        for g in result["groups"]:
            name = g["group"]
            if name is None:
                continue
            shown = "'" + name if name.startswith(DANGER) else name
            self.assertEqual(first.count(shown), 1, f"{name!r} as {shown!r} in {first}")
        self.assertIn("'" + EVIL, first)
        self.assertIn("'+SUM(1,2)", first)
        self.assertIn("'-minus school", first)
        self.assertIn("'@at school", first)
        self.assertIn('Лицей № 2, "лучший"', first)
        # the numbers of a row are the protocol's
        header = rows[0]
        g5 = next(g for g in result["groups"] if g["group"] == "School No. 5")
        row = dict(zip(header, next(r for r in rows if r[0] == "School No. 5")))
        for key in ("trained", "total", "percent", "hours"):
            if key in row:
                self.assertEqual(float(row[key]), float(g5[key]), (key, row))
        self.assertTrue({"trained", "total", "percent"} <= set(header), header)
        # raw: the comma-and-quotes school is quoted with its quotes doubled
        raw = self.run_bytes("report", "coverage", "--by", "organization", "--csv").decode()
        self.assertIn('"Лицей № 2, ""лучший"""', raw)
        self.assertIn('"\'=HYPERLINK(""http://x.example"",""go"")"', raw)

    def test_due_and_completions_csv(self):
        rows = self.parse_csv("report", "due", "--csv")
        cells = [c for r in rows for c in r]
        self.assertIn("'" + EVIL_POSITION, cells)
        self.assertNotIn(EVIL_POSITION, cells)
        self.assertIn("'" + EVIL, cells)
        people = self.c.ok("report.recertification", {})["people"]
        self.assertEqual(len(rows) - 1, len(people), "a header and one row per person")
        rows = self.parse_csv("completions", "--csv")
        cells = [c for r in rows for c in r]
        self.assertIn("'=1+1 assessment", cells)
        self.assertEqual(len(rows) - 1, len(self.c.ok("completion.list", {})))
        rows = self.parse_csv("report", "hours", "--by", "organization", "--csv")
        self.assertIn("'" + EVIL, [c for r in rows for c in r])

    # -- the table -----------------------------------------------------------------
    def test_coverage_table_has_one_bar_per_group(self):
        out = self.run_cli("report", "coverage", "--by", "organization")
        result = self.c.ok("report.coverage", {"by": "organization"})
        lines = out.splitlines()
        bar_lines = [ln for ln in lines if BAR.search(ln)]
        self.assertIn(len(bar_lines), (len(result["groups"]), len(result["groups"]) + 1),
                      "one bar per group (and perhaps one for the total):\n" + out)
        at = []
        for g in result["groups"]:
            if g["group"] is None:
                continue
            mine = [i for i, ln in enumerate(lines) if g["group"] in ln]
            self.assertEqual(len(mine), 1, f"{g['group']!r} on one line:\n{out}")
            self.assertRegex(lines[mine[0]], BAR, f"{g['group']!r} has a bar:\n{out}")
            self.assertIn(f"{g['trained']}", lines[mine[0]])
            at.append((mine[0], g["percent"], lines[mine[0]]))
        # the rows in the report's order, the weakest first, the bars growing
        self.assertEqual([a[0] for a in at], sorted(a[0] for a in at), out)
        self.assertEqual(len(at), len(SCHOOLS) - 1)
        self.assertEqual(at[0][1], min(a[1] for a in at), "the weakest school first")
        fills = [BAR.search(ln).group().count("\u2588") for _, _, ln in at]
        self.assertEqual(fills, sorted(fills), "longer bars for higher shares:\n" + out)
        full = next(ln for _, p, ln in at if p == 100)
        empty = next(ln for _, p, ln in at if p == 0)
        self.assertGreater(BAR.search(full).group().count("\u2588"),
                           BAR.search(empty).group().count("\u2588"))

    def test_errors(self):
        for argv in (["report", "coverage", "--by", "school"],
                     ["report", "coverage", "--from", "2026-02-30"],
                     ["report", "due", "--status", "late"],
                     ["report", "hours", "--person", "nobody@nowhere.example"]):
            with self.subTest(argv=argv):
                rc, out, err = self.daemon.cli(*argv)
                self.assertNotEqual(rc, 0, out)
                self.assertTrue(err.strip(), "the refusal is explained on stderr")


if __name__ == "__main__":
    unittest.main()
