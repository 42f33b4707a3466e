"""Fixtures for the redis-py suite run against the Redis appliance.

The driver (tests/tests/redis.rs) boots the appliance and sets REDIS_HOST and
REDIS_PORT; any Redis 7.0 server works too, e.g.
`REDIS_PORT=6379 target/venv/bin/python -m pytest tests/redis -q`.
Every test starts from an empty keyspace (FLUSHALL), so run it only against a
server whose data may be thrown away.

Every test runs in four modes, as applications use Redis: RESP2 and RESP3
(HELLO 3), each with redis-py's pure-Python reply parser and with hiredis
(the C parser most deployments install). The mode's id is part of the test's
name (`test_x[resp3-hiredis]`).
"""

import os

import pytest
import redis
from redis._parsers import _HiredisParser, _RESP2Parser, _RESP3Parser

# (protocol, hiredis?) per mode.
MODES = {
    "resp2-python": (2, False),
    "resp2-hiredis": (2, True),
    "resp3-python": (3, False),
    "resp3-hiredis": (3, True),
}
_mode = MODES["resp2-python"]


@pytest.fixture(autouse=True, params=list(MODES), ids=list(MODES))
def mode(request):
    """Runs each test once per mode; `connect` uses the current one."""
    global _mode
    _mode = MODES[request.param]
    yield request.param
    _mode = MODES["resp2-python"]

HOST = os.environ.get("REDIS_HOST", "127.0.0.1")
PORT = int(os.environ.get("REDIS_PORT", "6379"))
# Generous: the appliance runs under QEMU's TCG emulation on a loaded machine.
TIMEOUT = float(os.environ.get("REDIS_TIMEOUT", "60"))


def connect(**kwargs):
    """A new connection (each call opens its own socket) in the current mode;
    `protocol=` overrides the mode's protocol."""
    kwargs.setdefault("decode_responses", True)
    protocol, hiredis = _mode
    kwargs.setdefault("protocol", protocol)
    if hiredis:
        kwargs.setdefault("parser_class", _HiredisParser)
    else:
        kwargs.setdefault("parser_class", _RESP3Parser if kwargs["protocol"] == 3 else _RESP2Parser)
    pool = redis.ConnectionPool(
        host=HOST, port=PORT, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT, **kwargs
    )
    return redis.Redis(connection_pool=pool)


def resp3():
    """True when the current mode speaks RESP3."""
    return _mode[0] == 3


def scored(reply):
    """Member-score pairs as (member, float) tuples, however the protocol and
    redis-py shaped them (RESP3 nests each pair in an array; ZPOPMIN without
    a count gives one flat pair; redis-py leaves ZMPOP's RESP2 scores as text)."""
    if reply and not isinstance(reply[0], (list, tuple)):
        reply = [reply]
    return [(member, float(score)) for member, score in reply]


@pytest.fixture
def r():
    """A text client (decode_responses) on database 0 with an empty keyspace."""
    client = connect()
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def rb():
    """A bytes client (no decoding) on database 0 with an empty keyspace."""
    client = connect(decode_responses=False)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def other():
    """A second, independent connection."""
    client = connect()
    yield client
    client.close()
