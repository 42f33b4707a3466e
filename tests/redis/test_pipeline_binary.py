"""Pipelines and binary-safe values."""

import os


def test_thousand_commands_in_one_pipeline(r):
    pipe = r.pipeline(transaction=False)
    for i in range(1000):
        pipe.set(f"p:{i}", i)
    for i in range(1000):
        pipe.incr(f"p:{i}")
    results = pipe.execute()
    assert results[:1000] == [True] * 1000
    assert results[1000:] == [i + 1 for i in range(1000)]
    assert r.dbsize() == 1000
    assert r.mget([f"p:{i}" for i in range(0, 1000, 100)]) == [str(i + 1) for i in range(0, 1000, 100)]


def test_all_byte_values(rb):
    value = bytes(range(256))
    key = b"key\x00with\r\nnul\xff"
    assert rb.set(key, value) is True
    assert rb.get(key) == value
    assert rb.strlen(key) == 256
    assert rb.getrange(key, 0, 3) == b"\x00\x01\x02\x03"
    assert rb.getrange(key, -2, -1) == b"\xfe\xff"
    assert rb.exists(key) == 1
    rb.rpush(b"list", value, b"\r\n", b"")
    assert rb.lrange(b"list", 0, -1) == [value, b"\r\n", b""]
    rb.hset(b"hash", value, value)
    assert rb.hgetall(b"hash") == {value: value}
    assert rb.echo(value) == value


def test_one_mib_random_value_round_trip(rb):
    value = os.urandom(1 << 20)
    assert rb.set(b"big", value) is True
    assert rb.strlen(b"big") == 1 << 20
    assert rb.get(b"big") == value
    assert rb.append(b"big", b"tail") == (1 << 20) + 4
    assert rb.getrange(b"big", (1 << 20) - 2, -1) == value[-2:] + b"tail"
    other_value = os.urandom(1 << 20)
    assert rb.getset(b"big", other_value) == value + b"tail"
    assert rb.get(b"big") == other_value
