#!/usr/bin/python3
"""A small SMTP server on loopback for the delivery unit tests (aiosmtpd).

usage: smtp_server.py PORTFILE OUTDIR [options]

Binds 127.0.0.1 port 0, writes the port to PORTFILE (atomically), and
records every accepted message as OUTDIR/N.eml (the bytes received, dot
stuffing undone) with the envelope in OUTDIR/N.env ("from\\nrcpt\\n").
Every SMTP reply it gives to MAIL, RCPT and AUTH is appended to
OUTDIR/replies.

Options:
  --tempfail ADDR:N   answer 451 to RCPT TO:<ADDR> the first N times
  --reject ADDR       answer 550 to RCPT TO:<ADDR>
  --reject-from       answer 550 to every MAIL FROM
  --auth USER:PASS    offer AUTH PLAIN/LOGIN and require it
  --auth-fail         (with --auth) refuse every login with 535
  --delay-dot SECS    wait this long before answering the final dot
                      (OUTDIR/dot-wait is created when the wait begins)
  --delay-rcpt SECS   wait this long before answering each RCPT
"""
import argparse
import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP, AuthResult


class Handler:
    def __init__(self, args):
        self.args = args
        self.seq = 0
        self.tempfail = {}
        for t in args.tempfail:
            addr, n = t.rsplit(":", 1)
            self.tempfail[addr.lower()] = int(n)
        self.reject = {a.lower() for a in args.reject}

    def note(self, line):
        with open(os.path.join(self.args.outdir, "replies"), "a") as f:
            f.write(line + "\n")

    async def handle_MAIL(self, server, session, envelope, address, options):
        if self.args.reject_from:
            self.note("550 MAIL " + address)
            return "550 5.7.1 Sender refused by policy"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        a = address.lower()
        if self.args.delay_rcpt:
            await asyncio.sleep(self.args.delay_rcpt)
        if self.tempfail.get(a, 0) > 0:
            self.tempfail[a] -= 1
            self.note("451 RCPT " + address)
            return "451 4.3.0 Try again later"
        if a in self.reject:
            self.note("550 RCPT " + address)
            return "550 5.1.1 <%s>: Recipient address rejected" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.delay_dot:
            with open(os.path.join(self.args.outdir, "dot-wait"), "w"):
                pass
            await asyncio.sleep(self.args.delay_dot)
        self.seq += 1
        base = os.path.join(self.args.outdir, "%d" % self.seq)
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".env", "w") as f:
            f.write(envelope.mail_from + "\n" + "\n".join(envelope.rcpt_tos)
                    + "\n")
        os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 Ok: queued as Q%d" % self.seq


def main():
    p = argparse.ArgumentParser()
    p.add_argument("portfile")
    p.add_argument("outdir")
    p.add_argument("--tempfail", action="append", default=[])
    p.add_argument("--reject", action="append", default=[])
    p.add_argument("--reject-from", action="store_true")
    p.add_argument("--auth")
    p.add_argument("--auth-fail", action="store_true")
    p.add_argument("--delay-dot", type=float, default=0)
    p.add_argument("--delay-rcpt", type=float, default=0)
    args = p.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    handler = Handler(args)

    kw = {}
    if args.auth:
        user, pw = args.auth.split(":", 1)

        def check(server, session, envelope, mechanism, auth_data):
            ok = (not args.auth_fail and auth_data.login.decode() == user
                  and auth_data.password.decode() == pw)
            handler.note("AUTH %s" % ("ok" if ok else "refused"))
            return AuthResult(success=ok, handled=False)

        kw = dict(authenticator=check, auth_required=True,
                  auth_require_tls=False)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", decode_data=False, **kw),
        "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    with open(args.portfile + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(args.portfile + ".tmp", args.portfile)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    sys.exit(main())
