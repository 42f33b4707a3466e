"""Error replies, exactly as Redis words them."""

import pytest
import redis

WRONGTYPE = "^WRONGTYPE Operation against a key holding the wrong kind of value$"


def test_wrongtype(r):
    r.set("s", "v")
    r.rpush("l", "x")
    for call in (
        lambda: r.lpush("s", "x"),
        lambda: r.hget("s", "f"),
        lambda: r.sadd("l", "x"),
        lambda: r.zadd("l", {"m": 1}),
        lambda: r.get("l"),
        lambda: r.incr("l"),
        lambda: r.append("l", "x"),
        lambda: r.smembers("s"),
    ):
        with pytest.raises(redis.ResponseError, match=WRONGTYPE):
            call()
    assert r.get("s") == "v", "a failed command changes nothing"
    assert r.lrange("l", 0, -1) == ["x"]


def test_syntax_errors(r):
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("SET", "k", "v", "BOGUS")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("ZRANGE", "z", 0, 1, "NOPE")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("LINSERT", "l", "MIDDLE", "a", "b")


def test_not_an_integer(r):
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.execute_command("EXPIRE", "k", "soon")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.execute_command("LRANGE", "l", "zero", 1)
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.execute_command("INCRBY", "k", "99999999999999999999")
    with pytest.raises(redis.ResponseError, match="^value is not a valid float$"):
        r.execute_command("INCRBYFLOAT", "k", "1.0.0")


def test_unknown_command_and_arity(r):
    with pytest.raises(
        redis.ResponseError, match="^unknown command 'FROBNICATE', with args beginning with: 'a' 'b' $"
    ):
        r.execute_command("FROBNICATE", "a", "b")
    with pytest.raises(redis.ResponseError, match="^wrong number of arguments for 'get' command$"):
        r.execute_command("GET")
    with pytest.raises(redis.ResponseError, match="^wrong number of arguments for 'lpush' command$"):
        r.execute_command("LPUSH", "l")
    with pytest.raises(redis.ResponseError, match="^unknown subcommand 'NOPE'. Try CONFIG HELP.$"):
        r.execute_command("CONFIG", "NOPE")
    # The connection is still usable.
    assert r.ping() is True
