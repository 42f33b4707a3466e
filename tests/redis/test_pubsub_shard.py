"""Shard pub/sub (SSUBSCRIBE/SPUBLISH) through redis-py's sharded API."""

import time

import pytest

from conftest import TIMEOUT, connect


def next_sharded(pubsub, deadline_s=TIMEOUT):
    """The next sharded message or confirmation, or fail after the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        message = pubsub.get_sharded_message(timeout=1.0)
        if message is not None:
            return message
    raise AssertionError("no sharded pub/sub message in time")


def test_ssubscribe_spublish(r, mode):
    if mode == "resp3-python":
        pytest.skip("redis-py 5.2's pure-Python RESP3 parser drops pub/sub pushes (against real Redis too)")
    pubsub = connect().pubsub()
    try:
        pubsub.ssubscribe("orders", "stock")
        assert next_sharded(pubsub) == {"type": "ssubscribe", "pattern": None, "channel": "orders", "data": 1}
        assert next_sharded(pubsub) == {"type": "ssubscribe", "pattern": None, "channel": "stock", "data": 2}
        assert sorted(r.pubsub_shardchannels()) == ["orders", "stock"]
        assert r.pubsub_shardchannels("o*") == ["orders"]
        assert r.pubsub_shardnumsub("orders", "nobody") == [("orders", 1), ("nobody", 0)]
        # Ordinary channels and shard channels are apart.
        assert r.pubsub_channels() == []
        assert r.publish("orders", "x") == 0

        assert r.spublish("orders", "hello") == 1
        assert next_sharded(pubsub) == {"type": "smessage", "pattern": None, "channel": "orders", "data": "hello"}
        assert r.spublish("nobody", "x") == 0

        clients = [c for c in r.client_list() if c["ssub"] != "0"]
        assert len(clients) == 1 and clients[0]["ssub"] == "2" and "P" in clients[0]["flags"]
        assert r.info("stats")["pubsubshard_channels"] == 2

        pubsub.sunsubscribe("stock")
        assert next_sharded(pubsub) == {"type": "sunsubscribe", "pattern": None, "channel": "stock", "data": 1}
        assert r.pubsub_shardnumsub("stock") == [("stock", 0)]
    finally:
        pubsub.close()
    # Closing the connection drops its subscriptions.
    deadline = time.monotonic() + TIMEOUT
    while r.pubsub_shardchannels() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert r.pubsub_shardchannels() == []
