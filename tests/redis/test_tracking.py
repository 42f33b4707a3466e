"""Client-side caching: CLIENT TRACKING with RESP2 REDIRECT to a subscribed
connection (redis-py's pubsub API) and RESP3 invalidation pushes (read off
one connection with redis-py's connection API)."""

import pytest
import redis

from conftest import TIMEOUT, connect, resp3
from test_pubsub import next_message


def test_redirect_to_resp2_subscriber(r, mode):
    if resp3():
        pytest.skip("the RESP2 __redis__:invalidate channel is for RESP2 redirect targets")
    target = connect()
    pubsub = target.pubsub()
    tracker = connect().client()
    try:
        pubsub.subscribe("__redis__:invalidate")
        pubsub.get_message(timeout=TIMEOUT)  # the subscribe confirmation
        target_id = next(int(c["id"]) for c in r.client_list() if c["cmd"] == "subscribe")
        assert tracker.client_tracking_on(clientid=target_id)
        assert tracker.client_getredir() == target_id
        r.set("k", "v1")
        assert tracker.get("k") == "v1"
        r.set("k", "v2")
        message = next_message(pubsub)
        assert message["channel"] == "__redis__:invalidate"
        assert message["data"] == ["k"]
        info = tracker.client_trackinginfo()
        assert info[1] == ["on"] and info[3] == target_id
        assert "t" in tracker.client_info()["flags"]
        assert int(r.info("clients")["tracking_clients"]) == 1
        assert tracker.client_tracking_off()
        assert tracker.client_getredir() == -1
    finally:
        pubsub.close()
        tracker.close()


def test_bcast_prefix_overlap_error(r):
    tracker = connect().client()
    try:
        tracker.client_tracking_on(bcast=True, prefix=["user:"])
        with pytest.raises(redis.ResponseError, match="Prefix 'user:1' overlaps with an existing prefix 'user:'"):
            tracker.client_tracking_on(bcast=True, prefix=["user:1"])
        assert int(r.info("stats")["tracking_total_prefixes"]) == 1
    finally:
        tracker.close()
    assert "tracking_total_prefixes" in r.info("stats")


def test_resp3_invalidation_push_after_own_write(r, mode):
    if not resp3():
        pytest.skip("pushes on the tracking connection need RESP3")
    if mode == "resp3-python":
        pytest.skip("redis-py 5.2's pure-Python RESP3 parser drops pushes (against real Redis too)")
    tracker = connect().client()
    conn = tracker.connection
    try:
        assert tracker.client_tracking_on()
        tracker.get("k")
        conn.send_command("SET", "k", "v")
        assert conn.read_response() in ("OK", True)
        push = conn.read_response(push_request=True)
        assert push == ["invalidate", ["k"]]
        conn.send_command("FLUSHALL")
        assert conn.read_response() in ("OK", True)
        assert conn.read_response(push_request=True) == ["invalidate", None]
    finally:
        tracker.close()
