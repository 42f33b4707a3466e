"""Sorted set commands."""

import pytest
import redis

from conftest import scored


@pytest.fixture
def z(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
    return r


def test_zadd_flags(r):
    assert r.zadd("z", {"a": 1, "b": 2}) == 2
    assert r.zadd("z", {"a": 5, "c": 3}, nx=True) == 1
    assert r.zscore("z", "a") == 1.0
    assert r.zadd("z", {"a": 5, "new": 9}, xx=True) == 0
    assert r.zscore("z", "a") == 5.0
    assert r.zscore("z", "new") is None
    assert r.zadd("z", {"a": 6, "b": 1}, ch=True) == 2
    assert r.zadd("z", {"a": 2}, gt=True, ch=True) == 0
    assert r.zadd("z", {"a": 2}, lt=True, ch=True) == 1
    assert r.zadd("z", {"a": 10}, incr=True) == 12.0
    assert r.zadd("z", {"a": 1}, nx=True, incr=True) is None
    assert r.zincrby("z", 0.5, "b") == 1.5
    assert r.zcard("z") == 3
    assert r.zmscore("z", ["a", "nope", "c"]) == [12.0, None, 3.0]
    with pytest.raises(redis.ResponseError, match="^XX and NX options at the same time are not compatible$"):
        r.execute_command("ZADD", "z", "NX", "XX", 1, "a")
    with pytest.raises(redis.ResponseError, match="^value is not a valid float$"):
        r.execute_command("ZADD", "z", "notafloat", "a")


def test_zrange_forms(z):
    assert z.zrange("z", 0, -1) == ["a", "b", "c", "d", "e"]
    assert scored(z.zrange("z", 0, 1, withscores=True)) == [("a", 1.0), ("b", 2.0)]
    assert z.zrange("z", 0, 1, desc=True) == ["e", "d"]
    assert z.zrange("z", "(1", 3, byscore=True) == ["b", "c"]
    assert z.zrange("z", "-inf", "+inf", byscore=True, offset=1, num=2) == ["b", "c"]
    assert scored(z.zrange("z", 4, 2, byscore=True, desc=True, withscores=True)) == [("d", 4.0), ("c", 3.0), ("b", 2.0)]
    assert z.zrangebyscore("z", 2, "(4") == ["b", "c"]
    assert z.zrevrangebyscore("z", "+inf", 4) == ["e", "d"]
    assert scored(z.zrevrange("z", 0, 0, withscores=True)) == [("e", 5.0)]


def test_zrange_bylex(r):
    r.zadd("lex", {m: 0 for m in ["apple", "banana", "cherry", "date", "fig"]})
    assert r.zrange("lex", "[b", "(d", bylex=True) == ["banana", "cherry"]
    assert r.zrange("lex", "-", "+", bylex=True, offset=1, num=2) == ["banana", "cherry"]
    assert r.zrange("lex", "+", "[cherry", bylex=True, desc=True) == ["fig", "date", "cherry"]
    assert r.zrangebylex("lex", "(banana", "[date") == ["cherry", "date"]
    assert r.zlexcount("lex", "-", "+") == 5
    with pytest.raises(redis.ResponseError, match="^min or max not valid string range item$"):
        r.zrangebylex("lex", "b", "d")


def test_rank_count_remove_pop(z):
    assert z.zrank("z", "c") == 2
    assert z.zrevrank("z", "c") == 2
    assert z.zrank("z", "nope") is None
    assert z.zcount("z", 2, 4) == 3
    assert z.zcount("z", "(2", "+inf") == 3
    assert z.zrem("z", "a", "nope") == 1
    assert scored(z.zpopmin("z")) == [("b", 2.0)]
    assert scored(z.zpopmax("z", 2)) == [("e", 5.0), ("d", 4.0)]
    assert z.zrange("z", 0, -1) == ["c"]
    z.zadd("r", {f"m{i}": i for i in range(10)})
    assert z.zremrangebyrank("r", 0, 2) == 3
    assert z.zremrangebyscore("r", 8, "+inf") == 2
    assert z.zrange("r", 0, -1) == ["m3", "m4", "m5", "m6", "m7"]


def test_zunionstore_zinterstore_weights(r):
    r.zadd("a", {"x": 1, "y": 2, "z": 3})
    r.zadd("b", {"y": 10, "z": 20, "w": 30})
    assert r.zunionstore("u", ["a", "b"]) == 4
    assert scored(r.zrange("u", 0, -1, withscores=True)) == [("x", 1.0), ("y", 12.0), ("z", 23.0), ("w", 30.0)]
    assert r.zunionstore("u", {"a": 2, "b": 1}, aggregate="MAX") == 4
    assert scored(r.zrange("u", 0, -1, withscores=True)) == [("x", 2.0), ("y", 10.0), ("z", 20.0), ("w", 30.0)]
    assert r.zinterstore("i", {"a": 3, "b": 0.5}) == 2
    assert scored(r.zrange("i", 0, -1, withscores=True)) == [("y", 11.0), ("z", 19.0)]
    assert r.zinterstore("i", ["a", "b"], aggregate="MIN") == 2
    assert scored(r.zrange("i", 0, -1, withscores=True)) == [("y", 2.0), ("z", 3.0)]
    r.sadd("plain", "x", "y")
    assert r.zinterstore("i", ["a", "plain"]) == 2, "sets count as score 1"
    assert scored(r.zrange("i", 0, -1, withscores=True)) == [("x", 2.0), ("y", 3.0)]
    assert r.zinterstore("i", ["a", "missing"]) == 0
    assert r.exists("i") == 0
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("ZUNIONSTORE", "u", 2, "a", "b", "WEIGHTS", 1)


def test_zmpop_bzmpop_bzpopmin_bzpopmax(r):
    assert r.zmpop(1, ["none"], min=True) is None
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    popped = r.zmpop(2, ["none", "z"], min=True)
    assert popped[0] == "z" and scored(popped[1]) == [("a", 1.0)]
    popped = r.zmpop(1, ["z"], max=True, count=10)
    assert popped[0] == "z" and scored(popped[1]) == [("c", 3.0), ("b", 2.0)]
    assert r.exists("z") == 0
    with pytest.raises(redis.ResponseError, match="^count should be greater than 0$"):
        r.execute_command("ZMPOP", 1, "z", "MIN", "COUNT", 0)
    assert r.bzmpop(0.1, 1, ["z"], min=True) is None
    r.zadd("z", {"x": 10, "y": 20})
    popped = r.bzmpop(1, 1, ["z"], max=True)
    assert popped[0] == "z" and scored(popped[1]) == [("y", 20.0)]
    assert list(r.bzpopmin(["none", "z"], timeout=1)) == ["z", "x", 10.0]
    assert r.bzpopmin(["z"], timeout=0.1) is None
    r.zadd("z2", {"p": 1, "q": 2})
    assert list(r.bzpopmax(["z2"], timeout=1)) == ["z2", "q", 2.0]


def test_zunion_zinter_zdiff_zintercard_zrangestore_zrandmember(r):
    r.zadd("a", {"x": 1, "y": 2, "z": 3})
    r.zadd("b", {"y": 10, "z": 20, "w": 30})
    assert r.zunion(["a", "b"]) == ["x", "y", "z", "w"]
    assert scored(r.zunion(["a", "b"], withscores=True)) == [("x", 1.0), ("y", 12.0), ("z", 23.0), ("w", 30.0)]
    assert scored(r.zinter({"a": 2, "b": 1}, aggregate="MAX", withscores=True)) == [("y", 10.0), ("z", 20.0)]
    assert r.zdiff(["a", "b"]) == ["x"]
    assert r.zdiffstore("d", ["b", "a"]) == 1
    assert r.zrange("d", 0, -1) == ["w"]
    assert r.zintercard(2, ["a", "b"]) == 2
    assert r.zintercard(2, ["a", "b"], limit=1) == 1
    assert r.zrangestore("s", "b", 0, 1) == 2
    assert r.zrange("s", 0, -1) == ["y", "z"]
    assert r.zrandmember("a") in {"x", "y", "z"}
    assert sorted(r.zrandmember("a", 5)) == ["x", "y", "z"]
    assert len(r.zrandmember("a", -5)) == 5
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("ZUNIONSTORE", "u", 2, "a", "b", "WITHSCORES")
