"""Introspection through redis-py's own APIs: the slow log, the latency
monitor and histograms, INFO commandstats/latencystats, OBJECT FREQ under
an LFU policy, MEMORY and WAIT. Settings changed here are put back."""

import pytest
import redis

from conftest import connect

SETTINGS = [
    "slowlog-log-slower-than",
    "slowlog-max-len",
    "latency-monitor-threshold",
    "maxmemory-policy",
    "lfu-log-factor",
    "lfu-decay-time",
    "latency-tracking-info-percentiles",
]


def text(v):
    """redis-py leaves some slow log fields as bytes."""
    return v.decode() if isinstance(v, bytes) else v


@pytest.fixture
def cfg(r):
    """The client, with the settings above restored afterwards."""
    saved = {name: r.config_get(name)[name] for name in SETTINGS}
    yield r
    for name, value in saved.items():
        r.config_set(name, value)
    r.slowlog_reset()
    r.latency_reset()


def test_slowlog_get_len_reset(cfg):
    r = cfg
    r.config_set("slowlog-log-slower-than", 0)
    r.config_set("slowlog-max-len", 5)
    r.slowlog_reset()
    r.client_setname("introspector")
    r.sadd("s", *range(40))
    r.set("k", "v" * 200)
    entries = r.slowlog_get(3)
    assert len(entries) == 3
    newest = entries[0]
    assert set(newest) >= {"id", "start_time", "duration", "command", "client_address", "client_name"}
    assert text(newest["client_name"]) == "introspector"
    assert newest["duration"] >= 0
    # Newest first; long arguments and long argument lists are cut as Redis cuts them.
    sadd = next(e for e in entries if text(e["command"]).lower().startswith("sadd"))
    assert text(sadd["command"]).endswith("... (11 more arguments)")
    assert entries[0]["id"] > entries[1]["id"]
    assert r.slowlog_len() == 5
    assert r.slowlog_reset()
    assert r.slowlog_len() == 1  # the RESET itself
    with pytest.raises(redis.ResponseError, match="count should be greater than or equal to -1"):
        r.slowlog_get(-2)


def test_slowlog_disabled_logs_nothing(cfg):
    r = cfg
    r.config_set("slowlog-log-slower-than", -1)
    r.slowlog_reset()
    r.ping()
    assert r.slowlog_len() == 0


def test_latency_monitor_and_histogram(cfg):
    r = cfg
    r.config_set("latency-monitor-threshold", 0)
    assert r.latency_latest() == []
    assert r.latency_history("command") == []
    with pytest.raises(redis.ResponseError, match="No samples available for event 'command'"):
        r.execute_command("LATENCY", "GRAPH", "command")
    assert r.latency_reset() == 0
    assert len(r.execute_command("LATENCY", "DOCTOR")) > 0
    r.config_resetstat()
    r.set("a", "1")
    r.set("b", "2")
    histogram = r.execute_command("LATENCY", "HISTOGRAM", "set", "nosuchcommand")
    if isinstance(histogram, list):  # RESP2: flat pairs
        histogram = dict(zip(histogram[::2], histogram[1::2]))
    assert list(histogram) == ["set"]
    detail = histogram["set"]
    if isinstance(detail, list):
        detail = dict(zip(detail[::2], detail[1::2]))
    assert detail["calls"] == 2


def test_info_commandstats_and_latencystats(cfg):
    r = cfg
    r.config_resetstat()
    r.set("a", "1")
    r.incr("a")
    with pytest.raises(redis.ResponseError):
        r.lpush("a", "x")
    stats = r.info("commandstats")
    assert stats["cmdstat_set"]["calls"] == 1
    assert {"usec", "usec_per_call", "rejected_calls", "failed_calls"} <= set(stats["cmdstat_set"])
    assert stats["cmdstat_lpush"]["failed_calls"] == 1
    r.config_set("latency-tracking-info-percentiles", "50 99.9")
    latency = r.info("latencystats")
    assert set(latency["latency_percentiles_usec_incrby"]) == {"p50", "p99.9"}
    assert "errorstat_WRONGTYPE" in r.info("errorstats")


def test_object_freq_needs_an_lfu_policy(cfg):
    r = cfg
    r.config_set("maxmemory-policy", "noeviction")
    r.set("k", "v")
    assert r.object("idletime", "k") >= 0
    with pytest.raises(redis.ResponseError, match="An LFU maxmemory policy is not selected"):
        r.object("freq", "k")
    r.config_set("maxmemory-policy", "allkeys-lfu")
    r.config_set("lfu-log-factor", 0)
    r.set("hot", "v")
    assert r.object("freq", "hot") == 5
    for _ in range(10):
        r.get("hot")
    assert r.object("freq", "hot") == 15
    with pytest.raises(redis.ResponseError, match="An LFU maxmemory policy is selected"):
        r.object("idletime", "hot")
    assert r.object("refcount", "hot") == 1
    assert r.object("encoding", "hot") == "embstr"
    assert r.object("freq", "missing") is None


def test_memory_usage_stats_doctor_purge(r):
    r.set("k", "v" * 100)
    assert r.memory_usage("k") >= 100
    assert r.memory_usage("k", samples=0) == r.memory_usage("k")
    assert r.memory_usage("missing") is None
    stats = r.memory_stats()
    assert stats["keys.count"] == 1
    assert stats["total.allocated"] >= stats["startup.allocated"]
    assert "db.0" in stats
    assert len(r.execute_command("MEMORY", "DOCTOR")) > 0
    assert r.memory_purge()


def test_wait_without_replicas(r):
    r.set("k", "v")
    assert r.wait(0, 0) == 0
    assert r.wait(1, 100) == 0


def test_command_getkeys_and_list(r):
    assert r.command_getkeys("MSET", "a", "1", "b", "2") == ["a", "b"]
    assert r.command_getkeys("ZUNIONSTORE", "d", "2", "x", "y") == ["d", "x", "y"]
    flags = r.execute_command("COMMAND GETKEYSANDFLAGS", "LMOVE", "src", "dst", "LEFT", "RIGHT")
    assert flags == [["src", ["RW", "access", "delete"]], ["dst", ["RW", "insert"]]]
    names = r.command_list()
    assert "slowlog|get" in names and "set" in names
    assert sorted(r.command_list(pattern="latency|hist*")) == ["latency|histogram", "latency|history"]
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("COMMAND LIST", "bad")
