"""List commands, including blocking pops served by another connection."""

import threading
import time

import pytest
import redis

from conftest import connect


def wait_until_blocked(r, command):
    """Waits until the server reports one client blocked (in `command`)."""
    deadline = time.monotonic() + 30
    while r.info("clients")["blocked_clients"] != 1:
        assert time.monotonic() < deadline, f"the {command} client never blocked"
        time.sleep(0.02)


def test_push_pop_with_count(r):
    assert r.rpush("l", "a", "b", "c") == 3
    assert r.lpush("l", "z", "y") == 5
    assert r.lrange("l", 0, -1) == ["y", "z", "a", "b", "c"]
    assert r.lpop("l") == "y"
    assert r.rpop("l") == "c"
    assert r.lpop("l", 2) == ["z", "a"]
    assert r.rpop("l", 5) == ["b"]
    assert r.exists("l") == 0, "an emptied list is deleted"
    assert r.lpop("l") is None
    assert r.lpop("l", 2) is None
    assert r.lpushx("l", "x") == 0
    r.rpush("l", "a")
    assert r.rpushx("l", "b") == 2
    assert r.llen("l") == 2
    assert r.lindex("l", -1) == "b"
    assert r.lset("l", 0, "A") is True
    with pytest.raises(redis.ResponseError, match="^index out of range$"):
        r.lset("l", 5, "x")


def test_lrange_linsert_lrem_ltrim(r):
    r.rpush("l", *"abcabca")
    assert r.lrange("l", 1, 3) == ["b", "c", "a"]
    assert r.lrange("l", -2, -1) == ["c", "a"]
    assert r.lrange("l", 5, 1) == []
    assert r.linsert("l", "before", "b", "B") == 8
    assert r.linsert("l", "after", "c", "C") == 9
    assert r.linsert("l", "after", "nope", "x") == -1
    assert r.linsert("missing", "after", "a", "x") == 0
    assert r.lrange("l", 0, -1) == ["a", "B", "b", "c", "C", "a", "b", "c", "a"]
    assert r.lrem("l", 2, "a") == 2
    assert r.lrange("l", 0, -1) == ["B", "b", "c", "C", "b", "c", "a"]
    assert r.lrem("l", -1, "c") == 1
    assert r.lrange("l", 0, -1) == ["B", "b", "c", "C", "b", "a"]
    assert r.lrem("l", 0, "b") == 2
    assert r.ltrim("l", 1, -2) is True
    assert r.lrange("l", 0, -1) == ["c", "C"]
    assert r.ltrim("l", 5, 10) is True
    assert r.exists("l") == 0


def test_lpos(r):
    r.rpush("l", *"abcdeabcde")
    assert r.lpos("l", "c") == 2
    assert r.lpos("l", "c", rank=2) == 7
    assert r.lpos("l", "c", rank=-1) == 7
    assert r.lpos("l", "c", count=0) == [2, 7]
    assert r.lpos("l", "c", count=1) == [2]
    assert r.lpos("l", "c", maxlen=2) is None
    assert r.lpos("l", "x") is None
    with pytest.raises(redis.ResponseError, match="RANK can't be zero"):
        r.lpos("l", "c", rank=0)


def test_lmove(r):
    r.rpush("src", "a", "b", "c")
    assert r.lmove("src", "dst", "LEFT", "RIGHT") == "a"
    assert r.lmove("src", "dst", "RIGHT", "LEFT") == "c"
    assert r.lrange("dst", 0, -1) == ["c", "a"]
    assert r.lmove("src", "src", "LEFT", "RIGHT") == "b", "rotating a one-element list"
    assert r.rpoplpush("dst", "src") == "a"
    assert r.lrange("src", 0, -1) == ["a", "b"]
    assert r.lmove("missing", "dst", "LEFT", "LEFT") is None


def test_blpop_served_by_push_from_another_connection(r, other):
    result = {}

    def waiter():
        with connect() as blocked:
            result["value"] = blocked.blpop(["q1", "q2"], timeout=30)

    thread = threading.Thread(target=waiter)
    thread.start()
    # Wait until the server reports the client as blocked, then push.
    wait_until_blocked(r, "BLPOP")
    assert other.rpush("q2", "hello", "world") == 2
    thread.join(60)
    assert not thread.is_alive()
    assert tuple(result["value"]) == ("q2", "hello")
    assert r.lrange("q2", 0, -1) == ["world"]
    assert r.info("clients")["blocked_clients"] == 0


def test_blpop_returns_immediately_when_data_is_there(r):
    r.rpush("q", "x")
    assert tuple(r.blpop("q", timeout=1)) == ("q", "x")
    r.rpush("q", "a", "b")
    assert tuple(r.brpop("q", timeout=1)) == ("q", "b")


def test_blpop_times_out(r):
    started = time.monotonic()
    assert r.blpop("empty", timeout=0.3) is None
    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 20, elapsed
    with pytest.raises(redis.ResponseError, match="^timeout is negative$"):
        r.execute_command("BLPOP", "empty", -1)


def test_lmpop_and_blmpop(r, other):
    assert r.lmpop(2, "none", "l", direction="LEFT") is None
    r.rpush("l", "a", "b", "c")
    assert r.lmpop(2, "none", "l", direction="LEFT") == ["l", ["a"]]
    assert r.lmpop(1, "l", direction="RIGHT", count=5) == ["l", ["c", "b"]]
    assert r.exists("l") == 0
    with pytest.raises(redis.ResponseError, match="^count should be greater than 0$"):
        r.execute_command("LMPOP", 1, "l", "LEFT", "COUNT", 0)
    with pytest.raises(redis.ResponseError, match="^numkeys should be greater than 0$"):
        r.execute_command("LMPOP", 0, "l", "LEFT")
    assert r.blmpop(0.1, 1, "l", direction="LEFT") is None
    r.rpush("l2", "x", "y")
    assert r.blmpop(1, 2, "l", "l2", direction="RIGHT", count=1) == ["l2", ["y"]]

    # A blocked BLMPOP is served when another connection pushes.
    result = {}

    def waiter():
        with connect() as blocked:
            result["value"] = blocked.blmpop(30, 2, "q1", "q2", direction="LEFT", count=2)

    thread = threading.Thread(target=waiter)
    thread.start()
    wait_until_blocked(r, "BLMPOP")
    assert other.rpush("q2", "1", "2", "3") == 3
    thread.join(60)
    assert not thread.is_alive()
    assert result["value"] == ["q2", ["1", "2"]]
    assert r.lrange("q2", 0, -1) == ["3"]


def test_blpop_woken_by_a_key_moved_into_place(r, other):
    result = {}

    def waiter():
        with connect() as blocked:
            result["value"] = blocked.blpop(["target"], timeout=30)

    thread = threading.Thread(target=waiter)
    thread.start()
    wait_until_blocked(r, "BLPOP")
    other.rpush("source", "moved")
    assert other.rename("source", "target") is True
    thread.join(60)
    assert not thread.is_alive()
    assert tuple(result["value"]) == ("target", "moved")
