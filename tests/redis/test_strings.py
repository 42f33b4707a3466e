"""String and bitmap commands."""

import time

import pytest
import redis


def test_set_options(r):
    assert r.set("k", "v1") is True
    assert r.set("k", "v2", nx=True) is None
    assert r.set("new", "v", xx=True) is None
    assert r.set("k", "v3", xx=True) is True
    assert r.set("k", "v4", get=True) == "v3"
    assert r.set("absent", "v", get=True) is None
    assert r.set("k", "v5", ex=100) is True
    assert 90 <= r.ttl("k") <= 100
    assert r.set("k", "v6", px=50_000) is True
    assert 40_000 <= r.pttl("k") <= 50_000
    assert r.get("k") == "v6"
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("SET", "k", "v", "NX", "XX")
    with pytest.raises(redis.ResponseError, match="^invalid expire time in 'set' command$"):
        r.execute_command("SET", "k", "v", "EX", 0)
    assert r.setnx("k", "x") is False
    assert r.setex("e", 10, "x") is True
    assert r.getdel("e") == "x"
    assert r.getdel("e") is None
    r.set("g", "v")
    assert r.getex("g", ex=100) == "v"
    assert 90 <= r.ttl("g") <= 100
    assert r.getset("g", "w") == "v"
    assert r.ttl("g") == -1


def test_mget_mset(r):
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "missing", "b") == ["1", None, "2"]
    assert r.msetnx({"b": "x", "c": "3"}) is False
    assert r.get("c") is None
    assert r.msetnx({"c": "3", "d": "4"}) is True
    assert r.mget(["c", "d"]) == ["3", "4"]
    r.rpush("list", "x")
    assert r.mget("a", "list") == ["1", None], "MGET returns nil for non-strings"


def test_incr_family(r):
    assert r.incr("n") == 1
    assert r.incrby("n", 41) == 42
    assert r.decr("n") == 41
    assert r.decrby("n", 50) == -9
    assert r.get("n") == "-9"
    r.set("big", 2**63 - 1)
    with pytest.raises(redis.ResponseError, match="^increment or decrement would overflow$"):
        r.incr("big")
    r.set("text", "abc")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.incr("text")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.incrby("n", "1.5")


def test_incrbyfloat(r):
    assert r.incrbyfloat("f", 10.5) == 10.5
    assert r.incrbyfloat("f", 0.1) == 10.6
    assert r.get("f") == "10.6"
    assert r.incrbyfloat("f", -5) == 5.6
    r.set("e", "5.0e3")
    assert r.incrbyfloat("e", 200) == 5200.0
    assert r.get("e") == "5200"
    r.set("text", "abc")
    with pytest.raises(redis.ResponseError, match="^value is not a valid float$"):
        r.incrbyfloat("text", 1)


def test_append_strlen_ranges(r):
    assert r.append("s", "Hello") == 5
    assert r.append("s", " World") == 11
    assert r.strlen("s") == 11
    assert r.strlen("missing") == 0
    assert r.getrange("s", 0, 4) == "Hello"
    assert r.getrange("s", -5, -1) == "World"
    assert r.getrange("s", 5, 2) == ""
    assert r.getrange("s", 0, 1000) == "Hello World"
    assert r.setrange("s", 6, "Redis") == 11
    assert r.get("s") == "Hello Redis"
    assert r.setrange("pad", 3, "x") == 4
    assert r.get("pad") == "\x00\x00\x00x"


def test_bits(r):
    assert r.setbit("b", 7, 1) == 0
    assert r.setbit("b", 7, 1) == 1
    assert r.getbit("b", 7) == 1
    assert r.getbit("b", 6) == 0
    assert r.getbit("b", 10_000) == 0
    assert r.setbit("b", 100, 1) == 0
    assert r.strlen("b") == 13
    assert r.bitcount("b") == 2
    r.set("fb", "foobar")
    assert r.bitcount("fb") == 26
    assert r.bitcount("fb", 0, 0) == 4
    assert r.bitcount("fb", 1, 1) == 6
    assert r.bitcount("fb", 5, 30, "BIT") == 17
    with pytest.raises(redis.ResponseError, match="^bit offset is not an integer or out of range$"):
        r.setbit("b", -1, 1)
    with pytest.raises(redis.ResponseError, match="^bit is not an integer or out of range$"):
        r.execute_command("SETBIT", "b", 1, 2)


def test_lcs(r):
    r.mset({"a": "ohmytext", "b": "mynewtext"})
    assert r.lcs("a", "b") == "mytext"
    assert r.lcs("a", "b", len=True) == 6
    idx = r.lcs("a", "b", idx=True, minmatchlen=4, withmatchlen=True)
    matches = idx["matches"] if isinstance(idx, dict) else idx[1]
    length = idx["len"] if isinstance(idx, dict) else idx[3]
    assert matches == [[[4, 7], [5, 8], 4]]
    assert length == 6
    assert r.lcs("a", "missing") == ""


def test_absolute_expiry_times(r):
    now_ms = int(time.time() * 1000)
    assert r.set("k", "v", pxat=now_ms + 10_000) is True
    # The appliance's clock may be a little ahead of or behind the host's.
    assert 9_000 <= r.pttl("k") <= 10_500
    assert r.set("k", "v", exat=now_ms // 1000 + 100) is True
    assert 98 <= r.ttl("k") <= 101
    assert r.getex("k", pxat=now_ms + 20_000) == "v"
    assert 19_000 <= r.pttl("k") <= 20_500
    assert r.getex("k", persist=True) == "v"
    assert r.ttl("k") == -1
    assert r.pexpireat("k", now_ms + 5_000) is True
    assert 4_000 <= r.pttl("k") <= 5_500
    assert r.expiretime("k") in {(now_ms + 5_000) // 1000, (now_ms + 5_000) // 1000 + 1}
