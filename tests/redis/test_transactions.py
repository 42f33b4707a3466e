"""MULTI/EXEC, DISCARD, WATCH."""

import pytest
import redis
from redis.exceptions import ExecAbortError


def test_multi_exec(r):
    pipe = r.pipeline(transaction=True)
    pipe.set("a", "1").incr("a").rpush("l", "x", "y").lrange("l", 0, -1).get("missing")
    assert pipe.execute() == [True, 2, 2, ["x", "y"], None]


def test_exec_runs_later_commands_after_a_runtime_error(r):
    r.set("s", "text")
    pipe = r.pipeline(transaction=True)
    pipe.set("before", "1").incr("s").set("after", "2")
    results = pipe.execute(raise_on_error=False)
    assert results[0] is True
    assert isinstance(results[1], redis.ResponseError)
    assert str(results[1]) == "value is not an integer or out of range"
    assert results[2] is True
    assert r.mget("before", "after") == ["1", "2"], "no rollback"


def test_discard(r):
    conn = r.connection_pool.get_connection("MULTI")
    try:
        conn.send_command("MULTI")
        assert conn.read_response() == "OK"
        conn.send_command("SET", "k", "v")
        assert conn.read_response() == "QUEUED"
        conn.send_command("DISCARD")
        assert conn.read_response() == "OK"
        conn.send_command("EXEC")
        with pytest.raises(redis.ResponseError, match="^EXEC without MULTI$"):
            conn.read_response()
        conn.send_command("DISCARD")
        with pytest.raises(redis.ResponseError, match="^DISCARD without MULTI$"):
            conn.read_response()
        conn.send_command("MULTI")
        conn.read_response()
        conn.send_command("MULTI")
        with pytest.raises(redis.ResponseError, match="^MULTI calls can not be nested$"):
            conn.read_response()
        conn.send_command("DISCARD")
        conn.read_response()
    finally:
        r.connection_pool.release(conn)
    assert r.exists("k") == 0


def test_watch_aborts_when_another_connection_modifies_the_key(r, other):
    r.set("balance", 100)
    with r.pipeline(transaction=True) as pipe:
        pipe.watch("balance")
        balance = int(pipe.get("balance"))
        other.incrby("balance", 5)
        pipe.multi()
        pipe.set("balance", balance - 10)
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("balance") == "105"
    # Without interference the same transaction goes through.
    with r.pipeline(transaction=True) as pipe:
        pipe.watch("balance")
        balance = int(pipe.get("balance"))
        pipe.multi()
        pipe.set("balance", balance - 10)
        assert pipe.execute() == [True]
    assert r.get("balance") == "95"


def test_watch_aborts_on_expiry_and_delete(r, other):
    r.set("k", "v")
    with r.pipeline(transaction=True) as pipe:
        pipe.watch("k")
        other.delete("k")
        pipe.multi()
        pipe.set("k", "mine")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.exists("k") == 0


def test_execabort_on_queued_error(r):
    conn = r.connection_pool.get_connection("MULTI")
    try:
        conn.send_command("MULTI")
        assert conn.read_response() == "OK"
        conn.send_command("SET", "k", "v")
        assert conn.read_response() == "QUEUED"
        conn.send_command("NOSUCHCOMMAND")
        with pytest.raises(redis.ResponseError, match="^unknown command 'NOSUCHCOMMAND', with args beginning with: $"):
            conn.read_response()
        conn.send_command("GET")
        with pytest.raises(redis.ResponseError, match="^wrong number of arguments for 'get' command$"):
            conn.read_response()
        conn.send_command("EXEC")
        # redis-py maps the EXECABORT error code to ExecAbortError.
        with pytest.raises(ExecAbortError, match="^Transaction discarded because of previous errors.$"):
            conn.read_response()
    finally:
        r.connection_pool.release(conn)
    assert r.exists("k") == 0
    # redis-py's transactional pipeline reports the command that was refused.
    pipe = r.pipeline(transaction=True)
    pipe.set("k", "v")
    pipe.execute_command("SET", "k")
    with pytest.raises(
        redis.ResponseError,
        match="^Command # 2 \\(SET k\\) of pipeline caused error: wrong number of arguments for 'set' command$",
    ):
        pipe.execute()
    assert r.exists("k") == 0
