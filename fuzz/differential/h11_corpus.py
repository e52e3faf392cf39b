#!/usr/bin/env python3
"""Differential corpus for companion's request parser against h11 (PyPI).

Generates requests (valid, borderline, malformed, and random mutations of valid
ones), each followed by a second request so that framing shows, and records what
h11's server side makes of each: accept (and where the next request starts), reject,
or incomplete. The Swift test `H11DifferentialTests` parses the same bytes with
RequestParser and compares; every disagreement must be one of the justified
categories listed there, with its RFC section.

    python3 fuzz/differential/h11_corpus.py --write Tests/Fixtures/h11/corpus.tsv
    python3 fuzz/differential/h11_corpus.py --check Tests/Fixtures/h11/corpus.tsv  # CI

Deterministic: a fixed seed, so --check regenerates the committed file byte for byte
and fails when this h11 disagrees with the verdicts recorded there.
"""
import argparse
import random
import sys

import h11

SEED = 20261204
NEXT = b"GET /next HTTP/1.1\r\nHost: next.test\r\n\r\n"

METHODS = [b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"TRACE", b"PROPFIND", b"M-SEARCH", b"get"]
PATHS = [b"/", b"/index.html", b"/a/b/c.txt", b"/%7Euser/", b"/search?q=a+b&x=%20", b"/caf%C3%A9",
         b"/a;b=c", b"/..%2F", b"/a//b", b"/?", b"/a?b?c", b"/~!$&'()*+,;=:@"]
FIELD_NAMES = [b"Accept", b"User-Agent", b"X-Custom", b"accept-encoding", b"If-None-Match", b"Range", b"X_Under",
               b"Cookie", b"Referer", b"X-A.B", b"X!#$%&'*+-.^_`|~"]
FIELD_VALUES = [b"*/*", b"gzip, deflate", b"curl/8.0", b"\"abc\"", b"bytes=0-99", b"", b"a\tb", b"caf\xc3\xa9",
                b"\x80\xff", b"  padded  ", b"x=1; y=2", b"(comment)"]


def head(method, target, version, fields, terminator=b"\r\n"):
    lines = [method + b" " + target + b" " + version]
    lines += [name + b":" + (b" " if value else b"") + value for name, value in fields]
    return terminator.join(lines) + terminator + terminator


def valid(rng):
    method = rng.choice(METHODS[:-1])
    target = rng.choice(PATHS)
    fields = [(b"Host", rng.choice([b"a.test", b"a.test:8080", b"127.0.0.1", b"[::1]:80", b"xn--caf-dma.test"]))]
    for _ in range(rng.randint(0, 6)):
        fields.append((rng.choice(FIELD_NAMES), rng.choice(FIELD_VALUES)))
    rng.shuffle(fields)
    body = b""
    if rng.random() < 0.3:
        body = bytes(rng.randint(0x61, 0x7a) for _ in range(rng.randint(0, 40)))
        fields.append((b"Content-Length", str(len(body)).encode()))
    return head(method, target, b"HTTP/1.1", fields) + body


BORDERLINE = [
    ("leading-crlf", lambda r: b"\r\n" + head(b"GET", b"/", b"HTTP/1.1", [(b"Host", b"a")])),
    ("leading-lf", lambda r: b"\n" + head(b"GET", b"/", b"HTTP/1.1", [(b"Host", b"a")])),
    ("bare-lf", lambda r: head(b"GET", b"/", b"HTTP/1.1", [(b"Host", b"a"), (b"X", b"y")], b"\n")),
    ("http10-no-host", lambda r: head(b"GET", b"/", b"HTTP/1.0", [])),
    ("http10-host", lambda r: head(b"GET", b"/", b"HTTP/1.0", [(b"Host", b"a")])),
    ("empty-host", lambda r: head(b"GET", b"/", b"HTTP/1.1", [(b"Host", b"")])),
    ("absolute-form", lambda r: head(b"GET", b"http://a.test/x?y", b"HTTP/1.1", [(b"Host", b"a.test")])),
    ("asterisk-form", lambda r: head(b"OPTIONS", b"*", b"HTTP/1.1", [(b"Host", b"a")])),
    ("authority-form", lambda r: head(b"CONNECT", b"a.test:443", b"HTTP/1.1", [(b"Host", b"a.test:443")])),
    ("ows-tabs", lambda r: b"GET / HTTP/1.1\r\nHost:\ta\t\r\nX:  \t v \t\r\n\r\n"),
    ("cl-zero", lambda r: head(b"POST", b"/", b"HTTP/1.1", [(b"Host", b"a"), (b"Content-Length", b"0")])),
    ("cl-leading-zeros", lambda r: head(b"POST", b"/", b"HTTP/1.1", [(b"Host", b"a"), (b"Content-Length", b"003")]) + b"abc"),
    ("obs-text", lambda r: head(b"GET", b"/", b"HTTP/1.1", [(b"Host", b"a"), (b"X", bytes(range(0x80, 0x100)))])),
    ("connection-close", lambda r: head(b"GET", b"/", b"HTTP/1.1", [(b"Host", b"a"), (b"Connection", b"close")])),
    ("many-fields", lambda r: head(b"GET", b"/", b"HTTP/1.1", [(b"Host", b"a")] + [(b"X-%d" % i, b"v") for i in range(90)])),
    ("long-target", lambda r: head(b"GET", b"/" + b"a" * r.randint(1000, 6000), b"HTTP/1.1", [(b"Host", b"a")])),
    ("long-value", lambda r: head(b"GET", b"/", b"HTTP/1.1", [(b"Host", b"a"), (b"X", b"v" * r.randint(1000, 9000))])),
    ("trailing-ws-value", lambda r: b"GET / HTTP/1.1\r\nHost: a   \r\n\r\n"),
]

MALFORMED = [
    ("space-before-colon", lambda r: b"GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
    ("no-colon", lambda r: b"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"),
    ("empty-name", lambda r: b"GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n"),
    ("obs-fold", lambda r: b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n  b\r\n\r\n"),
    ("ws-before-first-field", lambda r: b"GET / HTTP/1.1\r\n Host: a\r\n\r\n"),
    ("nul-in-value", lambda r: b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n"),
    ("ctl-in-value", lambda r: b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n"),
    ("bare-cr-in-value", lambda r: b"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"),
    ("del-in-value", lambda r: b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n"),
    ("bad-method-char", lambda r: b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("empty-method", lambda r: b" / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("two-spaces", lambda r: b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("no-version", lambda r: b"GET /\r\nHost: a\r\n\r\n"),
    ("lowercase-version", lambda r: b"GET / http/1.1\r\nHost: a\r\n\r\n"),
    ("version-2", lambda r: b"GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
    ("version-1-2", lambda r: b"GET / HTTP/1.2\r\nHost: a\r\n\r\n"),
    ("version-1-10", lambda r: b"GET / HTTP/1.10\r\nHost: a\r\n\r\n"),
    ("version-0-9", lambda r: b"GET / HTTP/0.9\r\nHost: a\r\n\r\n"),
    ("te-chunked", lambda r: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    ("te-and-cl", lambda r: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n"),
    ("te-gzip", lambda r: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"),
    ("cl-negative", lambda r: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"),
    ("cl-plus", lambda r: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc"),
    ("cl-hex", lambda r: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc"),
    ("cl-list-same", lambda r: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc"),
    ("cl-list-differ", lambda r: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd"),
    ("cl-twice-same", lambda r: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"),
    ("cl-twice-differ", lambda r: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
    ("cl-inner-space", lambda r: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n"),
    ("cl-huge", lambda r: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
    ("duplicate-host", lambda r: b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    ("missing-host", lambda r: b"GET / HTTP/1.1\r\nX: y\r\n\r\n"),
    ("host-with-space", lambda r: b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
    ("host-with-slash", lambda r: b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"),
    ("host-userinfo", lambda r: b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"),
    ("target-space", lambda r: b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("target-ctl", lambda r: b"GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("target-nul", lambda r: b"GET /a\x00 HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("target-fragment", lambda r: b"GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("target-relative", lambda r: b"GET a/b HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("target-high-bytes", lambda r: b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("empty-target", lambda r: b"GET  HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("cr-only-lines", lambda r: b"GET / HTTP/1.1\rHost: a\r\r"),
    ("field-name-high-byte", lambda r: b"GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: v\r\n\r\n"),
    ("trailing-space-version", lambda r: b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n"),
    ("tab-separator", lambda r: b"GET\t/\tHTTP/1.1\r\nHost: a\r\n\r\n"),
    ("header-too-big", lambda r: head(b"GET", b"/", b"HTTP/1.1", [(b"Host", b"a"), (b"X", b"v" * 20000)])),
    ("target-too-long", lambda r: head(b"GET", b"/" + b"a" * 9000, b"HTTP/1.1", [(b"Host", b"a")])),
    ("truncated", lambda r: valid(r)[: r.randint(1, 20)]),
]


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        choice = rng.random()
        pos = rng.randrange(len(data) + 1)
        if choice < 0.3 and len(data) > 1:
            del data[min(pos, len(data) - 1)]
        elif choice < 0.6:
            data.insert(pos, rng.choice(b" \t\r\n:\x00\x7f\x80/;,=\"%aZ0"))
        elif len(data) > 0:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
    return bytes(data)


def h11_verdict(data):
    """('accept', next_request_offset) | ('reject', None) | ('incomplete', None)."""
    connection = h11.Connection(h11.SERVER, max_incomplete_event_size=32 * 1024)
    connection.receive_data(data)
    try:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            return "incomplete", None
        assert isinstance(event, h11.Request), event
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                return "incomplete", None
            if isinstance(event, h11.EndOfMessage):
                break
        rest, _closed = connection.trailing_data
        return "accept", len(data) - len(rest)
    except h11.RemoteProtocolError:
        return "reject", None


def cases():
    rng = random.Random(SEED)
    for index in range(1500):
        yield "valid", valid(rng)
    for kind, make in BORDERLINE:
        for _ in range(8 if kind.startswith("long-") else 40):
            yield kind, make(rng)
    for kind, make in MALFORMED:
        count = {"truncated": 100, "header-too-big": 2, "target-too-long": 2}.get(kind, 10)
        for _ in range(count):
            yield kind, make(rng)
    for _ in range(3000):
        yield "mutated", mutate(rng, valid(rng))


def corpus_lines():
    """One case a line: KIND TAB VERDICT TAB FRAME (-1 unless accepted) TAB HEX-BYTES."""
    lines = []
    for kind, request in cases():
        # A truncated head stays truncated: nothing follows it yet.
        data = request if kind == "truncated" else request + NEXT
        verdict, frame = h11_verdict(data)
        lines.append(f"{kind}\t{verdict}\t{-1 if frame is None else frame}\t{data.hex()}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", metavar="FILE")
    group.add_argument("--check", metavar="FILE")
    args = parser.parse_args()
    text = corpus_lines()
    if args.write:
        with open(args.write, "w") as out:
            out.write(text)
        print(f"{text.count(chr(10))} cases written to {args.write} (h11 {h11.__version__})")
        return 0
    with open(args.check) as committed:
        if committed.read() != text:
            print(f"{args.check}: h11 {h11.__version__} disagrees with the committed verdicts; regenerate with --write")
            return 1
    print(f"{args.check}: {text.count(chr(10))} cases, h11 {h11.__version__} agrees")
    return 0


if __name__ == "__main__":
    sys.exit(main())
