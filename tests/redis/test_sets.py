"""Set commands."""

import pytest
import redis


def test_add_remove_members(r):
    assert r.sadd("s", "a", "b", "c", "a") == 3
    assert r.sadd("s", "a") == 0
    assert r.smembers("s") == {"a", "b", "c"}
    assert r.scard("s") == 3
    assert r.sismember("s", "a") == 1
    assert r.sismember("s", "z") == 0
    assert r.smismember("s", ["a", "z", "c"]) == [1, 0, 1]
    assert r.srem("s", "a", "z") == 1
    assert r.smove("s", "t", "b") is True
    assert r.smove("s", "t", "nope") is False
    assert r.smembers("t") == {"b"}
    assert r.smembers("missing") == set()
    popped = r.spop("s")
    assert popped == "c"
    assert r.exists("s") == 0
    r.sadd("many", *range(10))
    picked = r.srandmember("many", 3)
    assert len(set(picked)) == 3 and set(picked) <= {str(i) for i in range(10)}
    assert len(r.srandmember("many", -20)) == 20
    assert len(r.spop("many", 4)) == 4
    assert r.scard("many") == 6


def test_algebra_and_store_forms(r):
    r.sadd("a", "1", "2", "3", "x")
    r.sadd("b", "2", "3", "4", "y")
    r.sadd("c", "3", "4", "5")
    assert r.sinter("a", "b") == {"2", "3"}
    assert r.sinter("a", "b", "c") == {"3"}
    assert r.sunion("a", "b") == {"1", "2", "3", "4", "x", "y"}
    assert r.sdiff("a", "b", "c") == {"1", "x"}
    assert r.sinter("a", "missing") == set()
    assert r.sinterstore("dst", ["a", "b"]) == 2
    assert r.smembers("dst") == {"2", "3"}
    assert r.sunionstore("dst", ["b", "c"]) == 5
    assert r.smembers("dst") == {"2", "3", "4", "5", "y"}
    assert r.sdiffstore("dst", ["a", "b"]) == 2
    assert r.smembers("dst") == {"1", "x"}
    assert r.sinterstore("dst", ["a", "missing"]) == 0
    assert r.exists("dst") == 0, "an empty result deletes the destination"


def test_sintercard(r):
    r.sadd("a", *range(100))
    r.sadd("b", *range(50, 150))
    assert r.sintercard(2, ["a", "b"]) == 50
    assert r.sintercard(2, ["a", "b"], limit=10) == 10
    assert r.sintercard(2, ["a", "missing"]) == 0
    with pytest.raises(redis.ResponseError, match="^numkeys should be greater than 0$"):
        r.execute_command("SINTERCARD", 0, "a")
    with pytest.raises(redis.ResponseError, match="^Number of keys can't be greater than number of args$"):
        r.execute_command("SINTERCARD", 3, "a", "b")


def test_sscan(r):
    members = {f"m{i}" for i in range(1000)}
    r.sadd("s", *members)
    assert set(r.sscan_iter("s")) == members
    assert set(r.sscan_iter("s", match="m99*")) == {"m99", "m990", "m991", "m992", "m993", "m994", "m995", "m996", "m997", "m998", "m999"}
