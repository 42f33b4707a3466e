"""Generic keyspace commands."""

import time

import pytest
import redis

from conftest import connect


def test_del_exists_type(r):
    r.set("s", "v")
    r.rpush("l", "a")
    r.hset("h", "f", "v")
    r.sadd("set", "m")
    r.zadd("z", {"m": 1})
    assert [r.type(k) for k in ("s", "l", "h", "set", "z", "missing")] == [
        "string",
        "list",
        "hash",
        "set",
        "zset",
        "none",
    ]
    assert r.exists("s", "l", "missing", "s") == 3
    assert r.delete("s", "l", "missing") == 2
    assert r.exists("s", "l") == 0
    assert r.unlink("h") == 1


def test_keys_patterns(r):
    r.mset({"user:1": "a", "user:2": "b", "user:10": "c", "item:1": "d", "u[x]": "e"})
    assert sorted(r.keys("user:*")) == ["user:1", "user:10", "user:2"]
    assert sorted(r.keys("user:?")) == ["user:1", "user:2"]
    assert sorted(r.keys("*:1")) == ["item:1", "user:1"]
    assert r.keys("u\\[x\\]") == ["u[x]"]
    assert r.keys("nothing*") == []
    assert len(r.keys("*")) == 5


def test_scan_match_count_type(r):
    r.mset({f"key:{i}": i for i in range(200)})
    r.rpush("list:1", "x")
    r.sadd("set:1", "x")
    seen = []
    cursor = 0
    rounds = 0
    while True:
        cursor, batch = r.scan(cursor, count=17)
        seen.extend(batch)
        rounds += 1
        if cursor == 0:
            break
    assert rounds > 1
    assert sorted(set(seen)) == sorted([f"key:{i}" for i in range(200)] + ["list:1", "set:1"])
    assert sorted(r.scan_iter(match="key:1?")) == [f"key:{i}" for i in range(10, 20)]
    assert list(r.scan_iter(_type="list")) == ["list:1"]
    assert list(r.scan_iter(match="*:1", _type="set")) == ["set:1"]


def test_rename(r):
    r.set("a", "1")
    r.set("b", "2")
    assert r.rename("a", "c") is True
    assert r.get("c") == "1" and r.exists("a") == 0
    assert r.renamenx("c", "b") is False
    assert r.renamenx("c", "d") is True
    with pytest.raises(redis.ResponseError, match="^no such key$"):
        r.rename("missing", "x")


def test_expire_ttl_persist(r):
    r.set("k", "v")
    assert r.ttl("k") == -1
    assert r.ttl("missing") == -2
    assert r.pttl("missing") == -2
    assert r.expire("k", 100) is True
    assert 90 <= r.ttl("k") <= 100
    assert 0 < r.pttl("k") <= 100_000
    assert r.expire("k", 200, nx=True) is False
    assert r.expire("k", 200, gt=True) is True
    assert 190 <= r.ttl("k") <= 200
    assert r.persist("k") is True
    assert r.persist("k") is False
    assert r.ttl("k") == -1
    assert r.expire("missing", 10) is False
    at = int(time.time()) + 1000
    assert r.expireat("k", at) is True
    assert r.expiretime("k") == at
    # SET without KEEPTTL clears the TTL; with KEEPTTL it stays.
    r.set("k", "w", keepttl=True)
    assert r.expiretime("k") == at
    r.set("k", "x")
    assert r.ttl("k") == -1


def test_key_expires_after_px(r):
    assert r.set("short", "lived", px=200) is True
    assert r.get("short") == "lived"
    deadline = time.monotonic() + 30
    while r.get("short") is not None:
        assert time.monotonic() < deadline, "a key with PX 200 still exists after 30 s"
        time.sleep(0.05)
    assert r.exists("short") == 0
    assert r.ttl("short") == -2
    assert r.psetex("gone", 1, "x") is True
    deadline = time.monotonic() + 30
    while r.exists("gone"):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_expired_keys_leave_dbsize(r):
    r.set("stays", "1")
    for i in range(20):
        r.set(f"volatile:{i}", "x", px=100)
    deadline = time.monotonic() + 30
    # The active expiry cycle (not just lazy expiry on access) removes them.
    while r.dbsize() != 1:
        assert time.monotonic() < deadline, f"dbsize is still {r.dbsize()}"
        time.sleep(0.05)


def test_copy(r):
    r.rpush("src", "a", "b")
    assert r.copy("src", "dst") is True
    assert r.lrange("dst", 0, -1) == ["a", "b"]
    r.rpush("dst", "c")
    assert r.lrange("src", 0, -1) == ["a", "b"], "COPY is deep"
    assert r.copy("src", "dst") is False
    assert r.copy("src", "dst", replace=True) is True
    assert r.lrange("dst", 0, -1) == ["a", "b"]
    assert r.copy("src", "dst", destination_db=2) is True
    with connect(db=2) as db2:
        assert db2.lrange("dst", 0, -1) == ["a", "b"]


def test_move(r):
    r.set("k", "v")
    assert r.move("k", 3) is True
    assert r.exists("k") == 0
    with connect(db=3) as db3:
        assert db3.get("k") == "v"
    r.set("k", "again")
    assert r.move("k", 3) is False, "the key exists in the target database"
    assert r.get("k") == "again"


def test_object_encoding(r):
    r.set("int", 12345)
    r.set("short", "abc")
    r.set("long", "x" * 100)
    r.rpush("list", "a")
    r.hset("hash", "f", "v")
    r.sadd("intset", 1, 2, 3)
    r.sadd("strset", "a", "b")
    r.zadd("zset", {"a": 1})
    r.zadd("bigzset", {f"m{i}": i for i in range(200)})
    assert r.object("encoding", "int") == "int"
    assert r.object("encoding", "short") == "embstr"
    assert r.object("encoding", "long") == "raw"
    assert r.object("encoding", "list") == "quicklist"
    assert r.object("encoding", "hash") == "listpack"
    assert r.object("encoding", "intset") == "intset"
    assert r.object("encoding", "strset") == "hashtable"
    assert r.object("encoding", "zset") == "listpack"
    assert r.object("encoding", "bigzset") == "skiplist"
    assert r.object("encoding", "missing") is None
