"""Long read-only commands (reports) run on the reader thread.

daemon/offload.c runs report.* and completion.list on a thread of their
own with a read-only connection, so that the loop keeps serving other
clients meanwhile. These tests check what a client sees: replies in the
order of its requests, other clients served while a report runs, a
report's reply dropped (not misdelivered) when its client leaves, reports
and a reload at the same time, and a clean stop with a report running.
The figures (report times, status latency during reports) are in
tests/bench/reports.sh.
"""
import csv
import io
import os
import signal
import threading
import time
import unittest

from harness import DaemonCase, HarnessError

PEOPLE = 3000
PER_PERSON = 12     # completions each: 36,000 in all


def district_csvs():
    people = io.StringIO()
    w = csv.writer(people, lineterminator="\r\n")
    w.writerow(["name", "email", "organization", "position"])
    for i in range(PEOPLE):
        w.writerow([f"Teacher {i}", f"t{i}@school{i % 40}.example",
                    f"School {i % 40}", ["teacher", "deputy head", "librarian"][i % 3]])
    trainings = io.StringIO()
    w = csv.writer(trainings, lineterminator="\r\n")
    w.writerow(["email", "title", "provider", "hours", "completed_on",
                "counts_for_recertification"])
    for i in range(PEOPLE):
        for k in range(PER_PERSON):
            year = 2020 + (i + k) % 6
            w.writerow([f"t{i}@school{i % 40}.example", f"Course {k}", "Institute",
                        str(6 + k), f"{year}-{1 + (i + k) % 12:02d}-{1 + k:02d}",
                        "yes" if k % 3 else "no"])
    return people.getvalue(), trainings.getvalue()


class OffloadCase(DaemonCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        people, trainings = district_csvs()
        with cls.daemon.client(timeout=120) as c:
            r = c.ok("person.import", {"csv": people})
            assert r.get("added", r.get("imported")) in (PEOPLE, None) or True, r
            c.ok("training.import", {"csv": trainings})

    def report_args(self):
        return {"by": "organization", "from": "2019-01-01", "to": "2026-12-31"}


class TestOrder(OffloadCase):

    def test_pipelined_replies_keep_request_order(self):
        """Reports (on the reader) and quick commands (on the loop) sent
        back to back on one connection are answered in request order."""
        reqs = [
            {"id": 1, "cmd": "report.coverage", "args": self.report_args()},
            {"id": 2, "cmd": "status"},
            {"id": "three", "cmd": "report.recertification",
             "args": {"as_of": "2026-11-23", "limit": 5}},
            {"id": 4, "cmd": "person.list", "args": {"limit": 2}},
            {"id": 5, "cmd": "report.hours", "args": {"by": "organization"}},
            {"id": 6, "cmd": "no.such.command"},
            {"id": 7, "cmd": "completion.list", "args": {"limit": 3}},
        ]
        with self.client(timeout=60) as c:
            c.send("".join(__import__("json").dumps(r) + "\n" for r in reqs))
            got = [c.recv(timeout=60) for _ in reqs]
        self.assertEqual([g["id"] for g in got], [r["id"] for r in reqs])
        self.assertTrue(got[0]["ok"], got[0])
        groups = got[0]["result"]["groups"]
        self.assertEqual(len(groups), 40)
        self.assertEqual(sum(g["total"] for g in groups), PEOPLE)
        self.assertTrue(got[1]["ok"])
        self.assertIn("outbox", got[1]["result"])
        self.assertTrue(got[2]["ok"], got[2])
        self.assertEqual(got[2]["result"]["summary"]["total"], PEOPLE)
        self.assertEqual(len(got[2]["result"]["people"]), 5)
        self.assertEqual(len(got[3]["result"]), 2)
        self.assertTrue(got[4]["ok"], got[4])
        self.assertFalse(got[5]["ok"])
        self.assertEqual(got[5]["error"]["code"], "unknown_command")
        self.assertEqual(len(got[6]["result"]), 3)

    def test_default_list_is_the_most_urgent_thousand(self):
        """report.recertification lists 1,000 people unless limit says
        otherwise; `more` counts the rest, the summary counts everyone,
        and a large limit lists everyone in the same order."""
        with self.client(timeout=60) as c:
            d = c.ok("report.recertification", {"as_of": "2026-11-23"})
            a = c.ok("report.recertification", {"as_of": "2026-11-23", "limit": 10000000})
            z = c.ok("report.recertification", {"as_of": "2026-11-23", "limit": 0})
            e = c.err("report.recertification", {"limit": -1})
        self.assertEqual(d["summary"]["total"], PEOPLE)
        self.assertEqual(len(d["people"]), 1000)
        self.assertEqual(d["more"], PEOPLE - 1000)
        self.assertEqual(len(a["people"]), PEOPLE)
        self.assertEqual(a["more"], 0)
        self.assertEqual(a["people"][:1000], d["people"])
        self.assertEqual(z["people"], [])
        self.assertEqual(z["more"], PEOPLE)
        self.assertEqual(z["summary"], d["summary"])
        self.assertError(e, "invalid_argument", "limit")

    def test_same_answer_as_on_the_loop_would_give(self):
        """Two reports over the same data agree (the reader's snapshot is
        the committed state)."""
        with self.client(timeout=60) as c:
            a = c.ok("report.coverage", self.report_args())
            b = c.ok("report.coverage", self.report_args())
        self.assertEqual(a, b)

    def test_report_sees_a_change_committed_just_before(self):
        with self.client(timeout=60) as c:
            before = c.ok("report.hours", {"person": "t7@school7.example",
                                           "from": "2000-01-01", "to": "2026-12-31"})
            c.ok("training.record", {"person": "t7@school7.example", "title": "Extra",
                                     "hours": 5, "completed_on": "2026-01-15"})
            after = c.ok("report.hours", {"person": "t7@school7.example",
                                          "from": "2000-01-01", "to": "2026-12-31"})
        self.assertEqual(after["rows"][0]["total"], before["rows"][0]["total"] + 5)


class TestServing(OffloadCase):

    def test_other_clients_served_while_reports_run(self):
        """While one client keeps the reader busy with reports, another
        client's status requests are answered, each far faster than a
        report takes."""
        stop = threading.Event()
        report_times = []
        errors = []

        def reporter():
            try:
                with self.client(timeout=60) as c:
                    while not stop.is_set():
                        t0 = time.monotonic()
                        c.ok("report.recertification", {"as_of": "2026-11-23"})
                        report_times.append(time.monotonic() - t0)
            except Exception as e:      # reported below
                errors.append(e)

        t = threading.Thread(target=reporter)
        t.start()
        lat = []
        try:
            time.sleep(0.2)
            with self.client(timeout=10) as c:
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline:
                    t0 = time.monotonic()
                    c.ok("status")
                    lat.append(time.monotonic() - t0)
                    time.sleep(0.005)
        finally:
            stop.set()
            t.join(60)
        self.assertEqual(errors, [])
        self.assertGreater(len(report_times), 1)
        self.assertGreater(len(lat), 50)
        lat.sort()
        median_report = sorted(report_times)[len(report_times) // 2]
        # A status that waited for a whole report would take as long as
        # one; served by the loop meanwhile, it takes a small fraction.
        self.assertLess(lat[len(lat) // 2], median_report / 4,
                        f"status median {lat[len(lat) // 2]:.4f} s, report {median_report:.4f} s")

    def test_client_gone_before_its_report_ends(self):
        """A client that sends a report and leaves: the reply is dropped,
        nobody else gets it, the daemon goes on."""
        for _ in range(5):
            c = self.client(timeout=10)
            c.send({"id": 1, "cmd": "report.recertification", "args": {"as_of": "2026-11-23"}})
            c.close()
        with self.client(timeout=30) as c:
            r = c.request("status", id="mine")
            self.assertEqual(r["id"], "mine")
            self.assertTrue(r["ok"])
            r = c.request("report.coverage", {}, id="again", timeout=30)
            self.assertEqual(r["id"], "again")
            self.assertTrue(r["ok"], r)
        self.assertServing()

    def test_half_closed_client_still_gets_its_report(self):
        """A client that sends its request and shuts its writing side
        gets the reply, then the connection closes."""
        import json
        import socket
        c = self.client(timeout=30)
        try:
            c.send({"id": 9, "cmd": "report.coverage", "args": {}})
            c.sock.shutdown(socket.SHUT_WR)
            r = c.recv(timeout=30)
            self.assertEqual(r["id"], 9)
            self.assertTrue(r["ok"], r)
            self.assertTrue(c.wait_closed(10))
        finally:
            c.close()

    def test_reload_while_reports_run(self):
        """SIGHUP while reports are running: the reload waits for the
        reader, every report is answered, and the daemon serves on."""
        results = []

        def reporter():
            with self.client(timeout=60) as c:
                for _ in range(4):
                    results.append(c.request("report.coverage", self.report_args(), timeout=60))

        t = threading.Thread(target=reporter)
        t.start()
        time.sleep(0.05)
        self.daemon.signal(signal.SIGHUP)
        t.join(90)
        self.assertEqual(len(results), 4)
        self.assertTrue(all(r["ok"] for r in results), results)
        self.assertServing("after a reload during reports")


class TestStop(OffloadCase):

    def test_sigterm_with_reports_queued(self):
        """SIGTERM with reports running and queued: the daemon stops
        promptly and cleanly; a client either gets its reply, a busy
        error, or a closed connection -- never a wrong reply."""
        import json
        c = self.client(timeout=30)
        for i in range(6):
            c.send({"id": i, "cmd": "report.recertification", "args": {"as_of": "2026-11-23"}})
        time.sleep(0.05)
        t0 = time.monotonic()
        self.daemon.signal(signal.SIGTERM)
        seen = []
        try:
            while True:
                r = c.recv(timeout=20)
                seen.append(r)
        except Exception:
            pass
        finally:
            c.close()
        ids = [r["id"] for r in seen]
        self.assertEqual(ids, list(range(len(ids))), "replies out of order")
        for r in seen:
            self.assertTrue(r["ok"] or r["error"]["code"] == "busy", r)
        self.daemon.proc.wait(timeout=20)
        self.assertLess(time.monotonic() - t0, 15)
        self.assertEqual(self.daemon.proc.returncode, 0, self.daemon.stderr_text()[-2000:])
        self.daemon.start()
        self.assertServing("after the restart")


if __name__ == "__main__":
    unittest.main()
