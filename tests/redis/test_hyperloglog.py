"""HyperLogLog: PFADD, PFCOUNT (one key and a union), PFMERGE, PFDEBUG and
the checks on strings that are not HyperLogLogs, through redis-py's APIs."""

import pytest
import redis

NOT_HLL = "^WRONGTYPE Key is not a valid HyperLogLog string value.$"


def test_pfadd_pfcount(r):
    assert r.pfadd("h") == 1
    assert r.exists("h") == 1
    assert r.pfcount("h") == 0
    assert r.pfadd("h", "a", "b", "c") == 1
    assert r.pfadd("h", "a", "b", "c") == 0
    assert r.pfcount("h") == 3
    assert r.pfadd("h", *range(1000)) == 1
    assert abs(r.pfcount("h") - 1003) < 1003 * 0.05
    assert r.pfcount("missing") == 0


def test_union_and_merge(r):
    r.pfadd("h1", "a", "b", "c")
    r.pfadd("h2", "b", "c", "d")
    r.pfadd("h3", "c", "d", "e")
    assert r.pfcount("h1", "h2", "h3", "missing") == 5
    assert r.pfmerge("dest", "h1", "h2", "h3") is True
    assert r.pfcount("dest") == 5
    assert r.execute_command("PFDEBUG", "ENCODING", "dest") == "sparse"
    assert r.execute_command("PFDEBUG", "TODENSE", "dest") == 1
    assert r.execute_command("PFDEBUG", "ENCODING", "dest") == "dense"
    assert r.pfcount("dest") == 5
    assert len(r.execute_command("PFDEBUG", "GETREG", "h1")) == 16384


def test_values_are_redis_strings(rb):
    rb.pfadd("h", "a", "b", "c")
    value = rb.get("h")
    assert value[:4] == b"HYLL" and value[4] == 1
    rb.set("copy", value)
    assert rb.pfcount("copy") == 3
    # The cached count lives in the header.
    assert rb.getrange("copy", 15, 15) == b"\x00"


def test_not_a_hyperloglog(r):
    r.set("s", "bar")
    with pytest.raises(redis.ResponseError, match=NOT_HLL):
        r.pfadd("s", "1")
    with pytest.raises(redis.ResponseError, match=NOT_HLL):
        r.pfcount("s")
    with pytest.raises(redis.ResponseError, match=NOT_HLL):
        r.pfmerge("d", "s")
    r.pfadd("h", "a")
    r.append("h", "garbage")
    with pytest.raises(redis.ResponseError, match="^INVALIDOBJ Corrupted HLL object detected$"):
        r.pfcount("h")
    r.lpush("l", "x")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE Operation against a key holding the wrong kind of value$"):
        r.pfadd("l", "x")
