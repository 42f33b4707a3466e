"""Connection and server commands."""

import time

import pytest
import redis

from conftest import connect, resp3


def test_ping_echo(r):
    assert r.ping() is True
    # PING with a message is a bulk reply (redis-py's PING callback compares it with "PONG").
    assert r.execute_command("PING", "PONG") is True
    assert r.execute_command("PING", "hi") is False
    assert r.echo("hello\r\nworld") == "hello\r\nworld"


def test_select_keeps_databases_apart(r):
    r.set("k", "db0")
    db1 = connect(db=1)
    try:
        assert db1.get("k") is None
        assert db1.set("k", "db1") is True
        assert db1.dbsize() == 1
        assert r.get("k") == "db0"
        with pytest.raises(redis.ResponseError, match="^DB index is out of range$"):
            r.execute_command("SELECT", 16)
        with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
            r.execute_command("SELECT", "x")
    finally:
        db1.close()


def test_dbsize_and_flushdb(r):
    assert r.dbsize() == 0
    r.mset({"a": 1, "b": 2, "c": 3})
    assert r.dbsize() == 3
    assert r.flushdb() is True
    assert r.dbsize() == 0


def test_time(r):
    seconds, micros = r.time()
    assert abs(seconds - time.time()) < 120, "the guest's wall clock follows the host's"
    assert 0 <= micros < 1_000_000


def test_client_name_id_list(r, other):
    assert r.client_getname() is None
    assert r.client_setname("first") is True
    assert r.client_getname() == "first"
    with pytest.raises(redis.ResponseError, match="^Client names cannot contain spaces, newlines or special characters.$"):
        r.client_setname("has space")
    first_id = r.client_id()
    other_id = other.client_id()
    assert isinstance(first_id, int) and first_id > 0
    assert other_id != first_id
    other.client_setname("second")
    clients = r.client_list()
    by_id = {int(c["id"]): c for c in clients}
    assert by_id[first_id]["name"] == "first"
    assert by_id[other_id]["name"] == "second"
    assert by_id[first_id]["cmd"] == "client|list"
    assert by_id[first_id]["db"] == "0"
    mine = r.client_list(client_id=[str(first_id)])
    assert [int(c["id"]) for c in mine] == [first_id]


def test_info_sections(r):
    r.set("a", "1")
    r.set("b", "2", ex=100)
    server = r.info("server")
    assert server["redis_version"] == "7.0.15"
    assert server["redis_mode"] == "standalone"
    assert "used_memory" not in server
    memory = r.info("memory")
    assert memory["used_memory"] > 0
    assert "maxmemory" in memory
    keyspace = r.info("keyspace")
    assert keyspace == {"db0": {"keys": 2, "expires": 1, "avg_ttl": keyspace["db0"]["avg_ttl"]}}
    everything = r.info("all")
    for field in ("redis_version", "connected_clients", "used_memory", "total_commands_processed", "role"):
        assert field in everything, field
    assert everything["role"] == "master"
    assert everything["connected_clients"] >= 1
    stats = r.info("stats")
    assert stats["total_commands_processed"] > 0


def test_command_count_and_info(r):
    count = r.command_count()
    assert count > 100
    # COMMAND LIST also names subcommands (config|get); COMMAND COUNT does not.
    names = r.execute_command("COMMAND LIST")
    assert count == len([n for n in names if "|" not in n])
    assert {"get", "set", "zadd", "blpop", "multi"} <= set(names)
    # A two-word name skips redis-py's COMMAND callback (which cannot parse the nil entry).
    info = r.execute_command("COMMAND INFO", "get", "set", "nosuchcommand")
    assert info[0][:6] == ["get", 2, ["readonly", "fast"], 1, 1, 1]
    assert info[1][:6] == ["set", -3, ["write", "denyoom"], 1, 1, 1]
    assert info[2] is None


def test_config_get_set(r):
    assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    assert r.config_set("maxmemory-policy", "allkeys-lru") is True
    try:
        assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    finally:
        r.config_set("maxmemory-policy", "noeviction")
    assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    many = r.config_get("maxmemory*")
    assert {"maxmemory", "maxmemory-policy"} <= set(many)
    with pytest.raises(redis.ResponseError, match="^Unknown option or number of arguments for CONFIG SET - 'no-such-parameter'$"):
        r.config_set("no-such-parameter", "1")


def test_auth_with_requirepass(r):
    assert r.config_set("requirepass", "s3cret") is True
    try:
        # Connections made before keep working; new ones must authenticate.
        assert r.ping() is True
        if resp3():
            # A RESP3 client says HELLO 3 first, which needs the password.
            with pytest.raises(redis.AuthenticationError, match="^HELLO must be called with the client already authenticated"):
                connect(lib_name=None, lib_version=None).ping()
        # No CLIENT SETINFO on connect (Redis 7.2 answers it with NOAUTH, which redis-py cannot ignore).
        stranger = connect(protocol=2, lib_name=None, lib_version=None)
        try:
            with pytest.raises(redis.AuthenticationError, match="^Authentication required.$"):
                stranger.get("k")
            with pytest.raises(redis.AuthenticationError, match="^invalid username-password pair or user is disabled.$"):
                stranger.execute_command("AUTH", "wrong")
            assert stranger.execute_command("AUTH", "s3cret") is True
            assert stranger.set("k", "v") is True
        finally:
            stranger.close()
        with connect(password="s3cret") as friend:
            assert friend.get("k") == "v"
        with connect(username="default", password="s3cret") as friend:
            assert friend.ping() is True
    finally:
        r.config_set("requirepass", "")
    with connect() as anyone:
        assert anyone.get("k") == "v"


def test_auth_without_password_configured(r):
    with pytest.raises(
        redis.AuthenticationError,
        match="^AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct[?]$",
    ):
        r.execute_command("AUTH", "whatever")


def test_hello_3_and_resp3_replies(r):
    r3 = connect(protocol=3)
    try:
        hello = r3.execute_command("HELLO", "3")
        assert hello["server"] == "redis"
        assert hello["version"] == "7.0.15"
        assert hello["proto"] == 3
        assert hello["role"] == "master"
        assert hello["modules"] == []
        assert isinstance(hello["id"], int)
        r3.hset("h", mapping={"f": "v", "g": "w"})
        # RESP3 maps, sets and doubles come back as dict, set and float.
        assert r3.execute_command("HGETALL", "h") == {"f": "v", "g": "w"}
        r3.sadd("s", "x", "y")
        assert r3.execute_command("SMEMBERS", "s") == {"x", "y"}
        r3.zadd("z", {"m": 1.5})
        assert r3.execute_command("ZSCORE", "z", "m") == 1.5
        assert r3.get("missing") is None
    finally:
        r3.close()
    hello2 = r.execute_command("HELLO", "2")
    assert hello2[:6] == ["server", "redis", "version", "7.0.15", "proto", 2]
    with pytest.raises(redis.ResponseError, match="^NOPROTO unsupported protocol version$"):
        r.execute_command("HELLO", "4")


def test_config_get_and_set_several_parameters(r):
    before = r.config_get("hz")["hz"]
    entries = r.config_get("hash-max-listpack-entries")["hash-max-listpack-entries"]
    try:
        assert r.execute_command("CONFIG", "SET", "hz", "20", "maxmemory-policy", "allkeys-lru") in (True, "OK")
        got = r.execute_command("CONFIG", "GET", "hz", "maxmemory-p*")
        got = dict(zip(got[::2], got[1::2])) if isinstance(got, list) else got
        assert got == {"hz": "20", "maxmemory-policy": "allkeys-lru"}
        # All or nothing: one bad value and none is set.
        with pytest.raises(redis.ResponseError, match="maxmemory-policy"):
            r.execute_command("CONFIG", "SET", "hz", "30", "maxmemory-policy", "bogus")
        assert r.config_get("hz") == {"hz": "20"}
        # The encoding parameters are accepted under both names.
        assert r.config_set("hash-max-ziplist-entries", 64) is True
        assert r.config_get("hash-max-listpack-entries") == {"hash-max-listpack-entries": "64"}
    finally:
        r.execute_command("CONFIG", "SET", "hz", before, "maxmemory-policy", "noeviction", "hash-max-listpack-entries", entries)


def test_memory_usage_and_client_introspection(r):
    r.set("k", "x" * 1000)
    assert 1000 < r.memory_usage("k") < 2000
    assert r.memory_usage("missing") is None
    info = r.client_info()
    assert info["cmd"] == "client|info" and "id" in info and "addr" in info
    assert r.execute_command("CLIENT", "NO-EVICT", "on") in (True, "OK")
    assert r.execute_command("CLIENT", "NO-EVICT", "off") in (True, "OK")
    assert r.client_pause(100, all=False) is True
    assert r.client_unpause() in (True, "OK")
