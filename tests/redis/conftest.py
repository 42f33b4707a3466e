"""Fixtures for the redis-py suite run against the Redis appliance.

The driver (tests/tests/redis.rs) boots the appliance and sets REDIS_HOST and
REDIS_PORT; any Redis 7.0 server works too, e.g.
`REDIS_PORT=6379 target/venv/bin/python -m pytest tests/redis -q`.
Every test starts from an empty keyspace (FLUSHALL), so run it only against a
server whose data may be thrown away.
"""

import os

import pytest
import redis

HOST = os.environ.get("REDIS_HOST", "127.0.0.1")
PORT = int(os.environ.get("REDIS_PORT", "6379"))
# Generous: the appliance runs under QEMU's TCG emulation on a loaded machine.
TIMEOUT = float(os.environ.get("REDIS_TIMEOUT", "60"))


def connect(**kwargs):
    """A new connection (each call opens its own socket)."""
    kwargs.setdefault("decode_responses", True)
    return redis.Redis(host=HOST, port=PORT, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT, **kwargs)


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
