"""Hash commands."""

import pytest
import redis


def test_hset_hget_hgetall(r):
    assert r.hset("h", mapping={"a": "1", "b": "2"}) == 2
    assert r.hset("h", "a", "10") == 0
    assert r.hset("h", "c", "3") == 1
    assert r.hget("h", "a") == "10"
    assert r.hget("h", "missing") is None
    assert r.hget("nokey", "a") is None
    assert r.hgetall("h") == {"a": "10", "b": "2", "c": "3"}
    assert r.hgetall("nokey") == {}
    assert r.hmget("h", "a", "x", "c") == ["10", None, "3"]
    assert r.hlen("h") == 3
    assert sorted(r.hkeys("h")) == ["a", "b", "c"]
    assert sorted(r.hvals("h")) == ["10", "2", "3"]
    assert r.hexists("h", "b") is True
    assert r.hexists("h", "z") is False
    assert r.hstrlen("h", "a") == 2
    assert r.hsetnx("h", "a", "x") == 0
    assert r.hsetnx("h", "d", "4") == 1


def test_hdel_and_empty_hash_removed(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert r.hdel("h", "a", "missing") == 1
    assert r.hdel("h", "b") == 1
    assert r.exists("h") == 0


def test_hincrby_hincrbyfloat(r):
    assert r.hincrby("h", "n", 5) == 5
    assert r.hincrby("h", "n", -7) == -2
    assert r.hincrbyfloat("h", "f", 1.25) == 1.25
    assert r.hincrbyfloat("h", "f", 1.25) == 2.5
    r.hset("h", "s", "text")
    with pytest.raises(redis.ResponseError, match="^hash value is not an integer$"):
        r.hincrby("h", "s", 1)
    with pytest.raises(redis.ResponseError, match="^hash value is not a float$"):
        r.hincrbyfloat("h", "s", 1)


def test_hscan_and_hrandfield(r):
    fields = {f"f{i}": str(i) for i in range(600)}
    r.hset("small", mapping={k: v for k, v in list(fields.items())[:512]})
    assert r.object("encoding", "small") == "listpack", "hash-max-listpack-entries is 512"
    r.hset("h", mapping=fields)
    assert r.object("encoding", "h") == "hashtable"
    assert dict(r.hscan_iter("h")) == fields
    assert dict(r.hscan_iter("h", match="f1?")) == {f"f{i}": str(i) for i in range(10, 20)}
    picked = r.hrandfield("h", 5)
    assert len(set(picked)) == 5 and set(picked) <= set(fields)
    assert r.hrandfield("nokey") is None
