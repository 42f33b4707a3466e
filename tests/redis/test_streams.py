"""Stream commands through redis-py's own stream API: entries, ranges,
trimming, reads (blocking too), consumer groups, pending entries, claims,
XINFO, and a stream's DUMP/RESTORE round trip."""

import threading

import pytest
import redis

from conftest import connect
from test_lists import wait_until_blocked


def streams(reply):
    """XREAD/XREADGROUP's reply as {key: [(id, fields)]} however the
    protocol and redis-py shaped it (RESP3: a map whose values redis-py
    wraps in one more list; RESP2: a list of [key, entries])."""
    pairs = reply.items() if isinstance(reply, dict) else (reply or [])
    out = {}
    for key, entries in pairs:
        if entries and isinstance(entries[0], list):
            entries = entries[0]
        out[key] = [tuple(e) for e in entries]
    return out


def test_xadd_xrange_xrevrange_xlen(r):
    assert r.xadd("s", {"a": "1"}, id="1-1") == "1-1"
    assert r.xadd("s", {"b": "2"}, id="1-*") == "1-2"
    auto = r.xadd("s", {"c": "3", "d": "4"})
    ms, seq = auto.split("-")
    assert int(ms) > 1 and int(seq) == 0
    assert r.xlen("s") == 3
    assert r.xrange("s") == [("1-1", {"a": "1"}), ("1-2", {"b": "2"}), (auto, {"c": "3", "d": "4"})]
    assert r.xrange("s", "(1-1", "+", count=1) == [("1-2", {"b": "2"})]
    assert [e[0] for e in r.xrevrange("s", "+", "-")] == [auto, "1-2", "1-1"]
    assert r.xadd("nope", {"a": "1"}, nomkstream=True) is None
    assert r.exists("nope") == 0
    assert r.type("s") == "stream"
    with pytest.raises(redis.ResponseError, match="equal or smaller than the target stream top item"):
        r.xadd("s", {"a": "1"}, id="1-1")
    with pytest.raises(redis.ResponseError, match="^Invalid stream ID specified as stream command argument$"):
        r.xrange("s", "bad", "+")


def test_trimming_and_xdel(r):
    for i in range(1, 11):
        r.xadd("s", {"i": str(i)}, id=f"{i}-0")
    assert r.xdel("s", "1-0", "99-0") == 1
    assert r.xtrim("s", maxlen=5, approximate=False) == 4
    assert [e[0] for e in r.xrange("s")] == ["6-0", "7-0", "8-0", "9-0", "10-0"]
    assert r.xtrim("s", minid="8-0", approximate=False) == 2
    r.xadd("s", {"i": "11"}, id="11-0", maxlen=2, approximate=False)
    assert [e[0] for e in r.xrange("s")] == ["10-0", "11-0"]
    info = r.xinfo_stream("s")
    assert info["length"] == 2
    assert info["first-entry"] == ("10-0", {"i": "10"})
    assert info["last-entry"] == ("11-0", {"i": "11"})
    assert info["max-deleted-entry-id"] == "1-0"
    assert info["entries-added"] == 11
    assert info["recorded-first-entry-id"] == "10-0"
    assert r.execute_command("XSETID", "s", "20-0", "ENTRIESADDED", 30, "MAXDELETEDID", "15-0") in (True, "OK")
    info = r.xinfo_stream("s")
    assert (info["last-generated-id"], info["entries-added"], info["max-deleted-entry-id"]) == ("20-0", 30, "15-0")


def test_xread_and_blocking_xread(r, other):
    r.xadd("a", {"f": "1"}, id="1-0")
    r.xadd("b", {"f": "2"}, id="2-0")
    got = streams(r.xread({"a": 0, "b": "1-0"}))
    assert got == {"a": [("1-0", {"f": "1"})], "b": [("2-0", {"f": "2"})]}
    assert r.xread({"a": "$"}, block=50) in (None, [], {})

    result = {}

    def reader():
        c = connect()
        result["reply"] = c.xread({"a": "$"}, block=10000)
        c.close()

    t = threading.Thread(target=reader)
    t.start()
    wait_until_blocked(other, "XREAD")
    other.xadd("a", {"new": "yes"}, id="5-0")
    t.join(10)
    assert streams(result["reply"]) == {"a": [("5-0", {"new": "yes"})]}


def test_consumer_groups(r):
    for i in range(1, 5):
        r.xadd("s", {"n": str(i)}, id=f"{i}-0")
    assert r.xgroup_create("s", "g", id="0") is True
    with pytest.raises(redis.ResponseError, match="^BUSYGROUP Consumer Group name already exists$"):
        r.xgroup_create("s", "g", id="0")
    assert r.xgroup_create("fresh", "g", id="$", mkstream=True) is True
    got = streams(r.xreadgroup("g", "alice", {"s": ">"}, count=2))
    assert [e[0] for e in got["s"]] == ["1-0", "2-0"]
    got = streams(r.xreadgroup("g", "bob", {"s": ">"}))
    assert [e[0] for e in got["s"]] == ["3-0", "4-0"]
    # Alice's history.
    got = streams(r.xreadgroup("g", "alice", {"s": "0"}))
    assert [e[0] for e in got["s"]] == ["1-0", "2-0"]

    summary = r.xpending("s", "g")
    assert summary["pending"] == 4
    assert (summary["min"], summary["max"]) == ("1-0", "4-0")
    assert sorted((c["name"], int(c["pending"])) for c in summary["consumers"]) == [("alice", 2), ("bob", 2)]
    rng = r.xpending_range("s", "g", min="-", max="+", count=10, consumername="alice")
    assert [(p["message_id"], p["consumer"], p["times_delivered"]) for p in rng] == [
        ("1-0", "alice", 2),
        ("2-0", "alice", 2),
    ]
    assert r.xack("s", "g", "1-0", "9-0") == 1

    claimed = r.xclaim("s", "g", "carol", min_idle_time=0, message_ids=["2-0"])
    assert claimed == [("2-0", {"n": "2"})]
    assert r.xclaim("s", "g", "carol", 0, ["3-0"], justid=True) == ["3-0"]
    r.xdel("s", "4-0")
    cursor, entries, deleted = r.xautoclaim("s", "g", "dave", min_idle_time=0, start_id="0-0", count=10)[:3]
    assert cursor == "0-0"
    assert [e[0] for e in entries] == ["2-0", "3-0"]
    assert deleted == ["4-0"]

    groups = r.xinfo_groups("s")
    assert len(groups) == 1
    assert (groups[0]["name"], groups[0]["pending"], groups[0]["last-delivered-id"]) == ("g", 2, "4-0")
    assert groups[0]["entries-read"] == 4
    consumers = {c["name"]: c["pending"] for c in r.xinfo_consumers("s", "g")}
    assert consumers == {"alice": 0, "bob": 0, "carol": 0, "dave": 2}
    assert r.xgroup_createconsumer("s", "g", "erin") == 1
    assert r.xgroup_delconsumer("s", "g", "dave") == 2
    assert r.xgroup_setid("s", "g", "0", entries_read=0) is True
    assert r.xgroup_destroy("s", "g") == 1
    assert r.xinfo_groups("s") == []


def test_xinfo_stream_full(r):
    r.xadd("s", {"a": "1"}, id="1-0")
    r.xgroup_create("s", "g", id="0")
    r.xreadgroup("g", "c", {"s": ">"})
    full = r.xinfo_stream("s", full=True)
    assert full["length"] == 1
    entries = full["entries"]
    if isinstance(entries, dict):  # redis-py's RESP3 shape
        entries = list(entries.items())
    assert [tuple(e) for e in entries] == [("1-0", {"a": "1"})]
    group = full["groups"][0]
    assert group["name"] == "g" and group["pel-count"] == 1 and group["lag"] == 0
    assert group["consumers"][0]["name"] == "c"


def test_blocked_xreadgroup_on_deleted_stream(r, other):
    r.xgroup_create("s", "g", id="$", mkstream=True)
    result = {}

    def reader():
        c = connect()
        try:
            c.xreadgroup("g", "c", {"s": ">"}, block=10000)
        except redis.ResponseError as e:
            result["error"] = str(e)
        c.close()

    t = threading.Thread(target=reader)
    t.start()
    wait_until_blocked(other, "XREADGROUP")
    other.delete("s")
    t.join(10)
    assert result.get("error") == "UNBLOCKED the stream key no longer exists"


def test_dump_restore_and_copy(rb):
    rb.xadd(b"s", {b"a": b"1"}, id=b"1-0")
    rb.xadd(b"s", {b"b": b"\x00\xff"}, id=b"2-0")
    rb.xgroup_create(b"s", b"g", id=b"0")
    rb.xreadgroup(b"g", b"c", {b"s": b">"}, count=1)
    payload = rb.dump(b"s")
    assert rb.restore(b"t", 0, payload) in (True, b"OK")
    assert rb.xrange(b"t") == rb.xrange(b"s")
    assert rb.xpending(b"t", b"g")["pending"] == 1
    assert rb.copy(b"s", b"u") is True
    assert rb.xrange(b"u") == rb.xrange(b"s")
    assert rb.xpending(b"u", b"g")["pending"] == 1
