"""SORT and SORT_RO through redis-py's `sort` and `sort_ro`: numeric and
ALPHA order, LIMIT, BY (patterns, hash fields, `nosort`), GET (several,
`#`, hash fields), STORE, and the errors."""

import pytest
import redis


@pytest.fixture
def people(r):
    """Users 1..4 with weights, names in hashes, and the list of their ids."""
    r.rpush("ids", 3, 1, 4, 2)
    for uid, weight, name in [(1, 40, "ann"), (2, 10, "bob"), (3, 30, "cid"), (4, 20, "dee")]:
        r.set(f"weight_{uid}", weight)
        r.hset(f"user:{uid}", mapping={"name": name, "age": 60 - weight})
    return r


def test_numeric_alpha_desc_and_limit(r):
    r.rpush("n", 10, 2, 33, -1, 2.5)
    assert r.sort("n") == ["-1", "2", "2.5", "10", "33"]
    assert r.sort("n", desc=True) == ["33", "10", "2.5", "2", "-1"]
    assert r.sort("n", start=1, num=2) == ["2", "2.5"]
    assert r.sort("n", start=4, num=10) == ["33"]
    assert r.sort("n", start=9, num=1) == []
    r.sadd("words", "pear", "apple", "fig")
    assert r.sort("words", alpha=True) == ["apple", "fig", "pear"]
    r.zadd("z", {"b": 1, "a": 2, "c": 3})
    assert r.sort("z", alpha=True, desc=True) == ["c", "b", "a"]
    assert r.sort("missing") == []


def test_by_get_and_hash_fields(people):
    r = people
    assert r.sort("ids", by="weight_*") == ["2", "4", "3", "1"]
    assert r.sort("ids", by="user:*->age") == ["1", "3", "4", "2"]
    assert r.sort("ids", by="weight_*", get="user:*->name") == ["bob", "dee", "cid", "ann"]
    assert r.sort("ids", by="weight_*", get=["#", "user:*->name"], groups=True) == [
        ("2", "bob"),
        ("4", "dee"),
        ("3", "cid"),
        ("1", "ann"),
    ]
    # A GET pattern naming nothing gives nil; BY nosort keeps the list's order.
    assert r.sort("ids", by="nosort", get="nokey_*") == [None, None, None, None]
    assert r.sort("ids", by="nosort") == ["3", "1", "4", "2"]
    assert r.sort_ro("ids", by="weight_*", get="user:*->name", desc=True) == ["ann", "cid", "dee", "bob"]


def test_store(people):
    r = people
    assert r.sort("ids", by="weight_*", get="user:*->name", store="names") == 4
    assert r.lrange("names", 0, -1) == ["bob", "dee", "cid", "ann"]
    # Storing an empty result deletes the destination.
    assert r.sort("missing", store="names") == 0
    assert r.exists("names") == 0


def test_errors(r):
    r.rpush("l", "a", "1")
    with pytest.raises(redis.ResponseError, match="^One or more scores can't be converted into double$"):
        r.sort("l")
    r.set("s", "x")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.sort("s")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("SORT", "l", "ALPHA", "BOGUS")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("SORT_RO", "l", "ALPHA", "STORE", "d")
