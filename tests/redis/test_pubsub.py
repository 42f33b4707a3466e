"""Publish/subscribe across connections."""

import time

import pytest
import redis

from conftest import TIMEOUT, connect


def next_message(pubsub, deadline_s=TIMEOUT):
    """The next message (not a subscribe confirmation) or fail after the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            message = pubsub.get_message(timeout=1.0)
        except redis.TimeoutError:
            # redis-py's pure-Python RESP3 parser reports an idle wait so.
            continue
        if message is not None:
            return message
    raise AssertionError("no pub/sub message in time")


def test_subscribe_psubscribe_publish(r, mode):
    if mode == "resp3-python":
        pytest.skip("redis-py 5.2's pure-Python RESP3 parser drops pub/sub pushes (against real Redis too)")
    subscriber = connect()
    pubsub = subscriber.pubsub()
    try:
        pubsub.subscribe("news", "weather")
        assert next_message(pubsub) == {"type": "subscribe", "pattern": None, "channel": "news", "data": 1}
        assert next_message(pubsub) == {"type": "subscribe", "pattern": None, "channel": "weather", "data": 2}
        pubsub.psubscribe("news.*")
        assert next_message(pubsub) == {"type": "psubscribe", "pattern": None, "channel": "news.*", "data": 3}

        assert r.pubsub_numsub("news", "weather", "nobody") == [("news", 1), ("weather", 1), ("nobody", 0)]
        assert r.pubsub_numpat() == 1
        assert sorted(r.pubsub_channels()) == ["news", "weather"]
        assert r.pubsub_channels("w*") == ["weather"]

        assert r.publish("news", "hello") == 1
        assert next_message(pubsub) == {"type": "message", "pattern": None, "channel": "news", "data": "hello"}
        assert r.publish("news.tech", "rust") == 1
        assert next_message(pubsub) == {"type": "pmessage", "pattern": "news.*", "channel": "news.tech", "data": "rust"}
        assert r.publish("nobody", "x") == 0

        # A second subscriber: both get the message, and the count says 2.
        second = connect().pubsub()
        try:
            second.subscribe("news")
            assert next_message(second)["type"] == "subscribe"
            assert r.publish("news", "both") == 2
            assert next_message(pubsub)["data"] == "both"
            assert next_message(second)["data"] == "both"
        finally:
            second.close()

        pubsub.unsubscribe("weather")
        assert next_message(pubsub) == {"type": "unsubscribe", "pattern": None, "channel": "weather", "data": 2}
        assert r.publish("weather", "rain") == 0
        pubsub.punsubscribe()
        assert next_message(pubsub) == {"type": "punsubscribe", "pattern": None, "channel": "news.*", "data": 1}
        assert r.pubsub_numpat() == 0
    finally:
        pubsub.close()
        subscriber.close()
    # After the subscriber is gone nobody hears the channel.
    deadline = time.monotonic() + TIMEOUT
    while r.pubsub_numsub("news") != [("news", 0)]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert r.publish("news", "anyone?") == 0


def test_subscribed_resp2_client_may_only_use_pubsub_commands(r):
    # RESP2's subscribed context (RESP3 clients may run any command).
    raw = connect(protocol=2)
    try:
        conn = raw.connection_pool.get_connection("SUBSCRIBE")
        conn.send_command("SUBSCRIBE", "ch")
        assert conn.read_response() == ["subscribe", "ch", 1]
        conn.send_command("GET", "k")
        with pytest.raises(
            redis.ResponseError,
            match="^Can't execute 'get': only \\(P\\|S\\)SUBSCRIBE / \\(P\\|S\\)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context$",
        ):
            conn.read_response()
        conn.send_command("PING")
        assert conn.read_response() == ["pong", ""]
        conn.disconnect()
    finally:
        raw.close()


def test_keyspace_notifications(r, mode):
    if mode == "resp3-python":
        pytest.skip("redis-py 5.2's pure-Python RESP3 parser drops pub/sub pushes (against real Redis too)")
    assert r.config_set("notify-keyspace-events", "KEA") is True
    subscriber = connect()
    pubsub = subscriber.pubsub()
    try:
        assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AKE"}
        pubsub.psubscribe("__key*@0__:*")
        assert next_message(pubsub)["type"] == "psubscribe"
        r.set("k", "v")
        got = [next_message(pubsub) for _ in range(2)]
        assert {(m["channel"], m["data"]) for m in got} == {("__keyspace@0__:k", "set"), ("__keyevent@0__:set", "k")}
        r.lpush("l", "x")
        got = [next_message(pubsub) for _ in range(2)]
        assert {(m["channel"], m["data"]) for m in got} == {("__keyspace@0__:l", "lpush"), ("__keyevent@0__:lpush", "l")}
        r.delete("k")
        got = [next_message(pubsub) for _ in range(2)]
        assert {(m["channel"], m["data"]) for m in got} == {("__keyspace@0__:k", "del"), ("__keyevent@0__:del", "k")}
        # Only key-event notifications for generic commands: keyspace ones are masked out.
        assert r.config_set("notify-keyspace-events", "Eg") is True
        r.expire("l", 100)
        assert next_message(pubsub) == {
            "type": "pmessage",
            "pattern": "__key*@0__:*",
            "channel": "__keyevent@0__:expire",
            "data": "l",
        }
    finally:
        r.config_set("notify-keyspace-events", "")
        pubsub.close()
        subscriber.close()
