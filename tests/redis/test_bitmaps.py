"""Bitmaps and bit fields: SETBIT/GETBIT, BITCOUNT and BITPOS with BYTE/BIT
ranges, BITOP, BITFIELD and BITFIELD_RO, through redis-py's own APIs."""

import pytest
import redis


def test_setbit_getbit_bitcount(rb):
    assert rb.setbit("b", 7, 1) == 0
    assert rb.setbit("b", 0, 1) == 0
    assert rb.getbit("b", 0) == 1
    assert rb.getbit("b", 1000) == 0
    assert rb.get("b") == b"\x81"
    rb.set("s", "foobar")
    assert rb.bitcount("s") == 26
    assert rb.bitcount("s", 1, -2) == 18
    assert rb.bitcount("s", 5, 30, "BIT") == 17
    assert rb.bitcount("s", 1, 1, "BYTE") == 6
    with pytest.raises(redis.ResponseError, match="^bit offset is not an integer or out of range$"):
        rb.setbit("b", 2**32 * 8, 1)


def test_bitpos(rb):
    assert rb.bitpos("missing", 0) == 0
    assert rb.bitpos("missing", 1) == -1
    rb.set("s", b"\xff\xf0\x00")
    assert rb.bitpos("s", 0) == 12
    assert rb.bitpos("s", 1, 2) == -1
    assert rb.bitpos("s", 0, 1, -1, "BIT") == 12
    rb.set("ones", b"\xff\xff")
    assert rb.bitpos("ones", 0) == 16
    assert rb.bitpos("ones", 0, 0, -1) == -1
    with pytest.raises(redis.ResponseError, match="^The bit argument must be 1 or 0.$"):
        rb.execute_command("BITPOS", "s", 2)


def test_bitop(rb):
    rb.set("a", b"\x01\x02\xff\xff")
    rb.set("b", b"\x01\x02\xff")
    assert rb.bitop("AND", "r", "a", "b") == 4
    assert rb.get("r") == b"\x01\x02\xff\x00"
    assert rb.bitop("OR", "r", "a", "b", "missing") == 4
    assert rb.get("r") == b"\x01\x02\xff\xff"
    assert rb.bitop("XOR", "r", "a", "b") == 4
    assert rb.get("r") == b"\x00\x00\x00\xff"
    assert rb.bitop("NOT", "r", "b") == 3
    assert rb.get("r") == b"\xfe\xfd\x00"
    assert rb.bitop("OR", "r", "missing") == 0
    assert rb.exists("r") == 0
    with pytest.raises(redis.ResponseError, match="^BITOP NOT must be called with a single source key.$"):
        rb.bitop("NOT", "r", "a", "b")
    rb.lpush("l", "x")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        rb.bitop("AND", "r", "a", "l")


def test_bitfield(r):
    bf = r.bitfield("bits")
    bf.set("i8", 0, -100).set("u8", "#1", 200).get("i8", 0).incrby("u8", "#1", 100)
    assert bf.execute() == [0, 0, -100, 44]
    sat = r.bitfield("bits", default_overflow="SAT")
    assert sat.incrby("i8", 0, -100).incrby("u8", "#1", 300).execute() == [-128, 255]
    fail = r.bitfield("bits").overflow("FAIL").incrby("u8", "#1", 1).get("u8", "#1")
    assert fail.execute() == [None, 255]
    assert r.bitfield("bits").set("i64", 64, -(2**63)).get("i64", 64).execute() == [0, -(2**63)]
    assert r.bitfield_ro("bits", "u8", 8, items=[("u8", 0)]) == [255, 128]
    assert r.bitfield_ro("missing", "i16", 0) == [0]
    with pytest.raises(redis.ResponseError, match="^BITFIELD_RO only supports the GET subcommand$"):
        r.execute_command("BITFIELD_RO", "bits", "SET", "u8", 0, 1)
    with pytest.raises(redis.ResponseError, match="^Invalid bitfield type"):
        r.bitfield("bits").get("u64", 0).execute()
