#!/usr/bin/env python3
"""Makes the redis7-*.rdb fixtures with real Redis 7.0: starts
redis-server (REDIS_SERVER, default "redis-server") on a Unix socket in a
temporary directory with each fixture's settings, sends commands.txt
(expanded as that file's header says) through `redis-cli --pipe`, SAVEs,
and copies dump.rdb here."""
import os, re, shlex, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.environ.get("REDIS_SERVER", "redis-server")

FIXTURES = {
    # Redis 7.0's default thresholds, compressed quicklist nodes, LZF.
    "redis7-compact": ["--list-compress-depth", "1"],
    # Everything in the non-compact encodings, no LZF, no checksum.
    "redis7-plain": [
        "--hash-max-listpack-entries", "0", "--zset-max-listpack-entries", "0",
        "--set-max-intset-entries", "0", "--list-max-listpack-size", "1",
        "--rdbcompression", "no", "--rdbchecksum", "no",
    ],
}


def unescape(tok):
    out = bytearray()
    i = 0
    while i < len(tok):
        c = tok[i]
        if c == "\\" and i + 1 < len(tok):
            n = tok[i + 1]
            if n == "x":
                out.append(int(tok[i + 2:i + 4], 16))
                i += 4
                continue
            out += {"r": b"\r", "n": b"\n", "\\": b"\\"}[n]
            i += 2
            continue
        out += c.encode()
        i += 1
    return bytes(out)


def expand(tok):
    m = re.search(r"\{(-?\d+)\.\.(-?\d+)\}", tok)
    if m:
        out = []
        for n in range(int(m.group(1)), int(m.group(2)) + 1):
            out += re.sub(r"\{-?\d+\.\.-?\d+\}", str(n), tok).split("~")
        return [unescape(t) for t in out]
    m = re.fullmatch(r"REPEAT:(\d+):(.*)", tok)
    if m:
        return [unescape(m.group(2)) * int(m.group(1))]
    return [unescape(tok)]


def commands(path):
    for line in open(path):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        if line.startswith("!"):
            yield [t.encode().decode("unicode_escape").encode() for t in shlex.split(line[1:])]
        else:
            yield [a for tok in line.split() for a in expand(tok)]


def resp(argv):
    out = b"*%d\r\n" % len(argv)
    for a in argv:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def make(name, args, cmds):
    with tempfile.TemporaryDirectory() as d:
        sock = os.path.join(d, "sock")
        proc = subprocess.Popen([SERVER, "--port", "0", "--unixsocket", sock, "--dir", d, "--save", "",
                                 "--enable-debug-command", "yes", "--logfile", os.path.join(d, "log")] + args)
        try:
            for _ in range(100):
                if os.path.exists(sock):
                    break
                time.sleep(0.05)
            payload = b"".join(resp(c) for c in cmds) + resp([b"SAVE"])
            subprocess.run(["redis-cli", "-s", sock, "--pipe"], input=payload, check=True)
        finally:
            proc.terminate()
            proc.wait()
        with open(os.path.join(d, "dump.rdb"), "rb") as f:
            data = f.read()
    with open(os.path.join(HERE, name + ".rdb"), "wb") as f:
        f.write(data)
    print(name, len(data), "bytes")


cmds = list(commands(os.path.join(HERE, "commands.txt")))
for name, args in FIXTURES.items():
    make(name, args, cmds)
make("redis7-stream", [], [[b"XADD", b"st", b"1-1", b"a", b"1"], [b"SET", b"after", b"x"]])
# Streams with several nodes, tombstones, fields unlike the master entry's,
# integer and long values, consumer groups with pending entries; an empty
# stream with a group; LZF off so the listpacks can be compared byte for byte.
stream_cmds = [c.split(b" ") for c in [
    b"XADD st 1-1 a 1 b 2",
    b"XADD st 1-2 a 3 b -4",
    b"XADD st 1-3 c 99999999999 d x",
    b"XADD st 5-0 a 1 b 2",
    b"XADD st 5-7 a 1",
    b"XADD st 9-0 a " + b"y" * 100 + b" b " + b"z" * 5000,
    b"XADD st 9-1 a 12345 b 0",
    b"XADD st 10-0 a 1 b 2",
    b"XADD st 11-0 a 1 b 2",
    b"XDEL st 1-2 9-0",
    b"XGROUP CREATE st g1 0",
    b"XGROUP CREATE st g2 5-0",
    b"XGROUP CREATE st g3 $",
    b"XREADGROUP GROUP g1 alice COUNT 3 STREAMS st >",
    b"XREADGROUP GROUP g1 bob COUNT 2 STREAMS st >",
    b"XCLAIM st g1 bob 0 1-1 TIME 1700000000000 RETRYCOUNT 7",
    b"XACK st g1 1-3",
    b"XGROUP CREATECONSUMER st g1 carol",
    b"XREADGROUP GROUP g2 dave NOACK STREAMS st >",
    b"XGROUP CREATE empty g $ MKSTREAM",
    b"XADD dry 1-1 f v",
    b"XDEL dry 1-1",
    b"XSETID dry 7-7 ENTRIESADDED 3 MAXDELETEDID 2-0",
]]
make("redis7-stream-groups", ["--stream-node-max-entries", "4", "--rdbcompression", "no"], stream_cmds)
