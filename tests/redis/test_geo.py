"""Geo commands through redis-py's geo API (positions in sorted sets)."""

import pytest
import redis

SICILY = (13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania")


def test_geoadd_pos_dist_hash(r):
    assert r.geoadd("Sicily", SICILY) == 2
    assert r.geoadd("Sicily", (13.361389, 38.115556, "Palermo"), nx=True) == 0
    assert r.geoadd("Sicily", (13.5, 38.1, "Palermo", 1, 2, "new"), xx=True, ch=True) == 1
    assert r.zcard("Sicily") == 2
    r.geoadd("Sicily", (13.361389, 38.115556, "Palermo"))
    # The scores are Redis's 52-bit geohashes.
    assert r.zscore("Sicily", "Palermo") == 3479099956230698
    (lon, lat), missing = r.geopos("Sicily", "Palermo", "nobody")
    assert missing is None
    assert lon == pytest.approx(13.36138933897018433)
    assert lat == pytest.approx(38.11555639549629859)
    assert r.geodist("Sicily", "Palermo", "Catania") == 166274.1516
    assert r.geodist("Sicily", "Palermo", "Catania", unit="km") == 166.2742
    assert r.geodist("Sicily", "Palermo", "nobody") is None
    assert r.geohash("Sicily", "Palermo", "Catania", "nobody") == ["sqc8b49rny0", "sqdtr74hyu0", None]


def test_geoadd_errors(r):
    with pytest.raises(redis.ResponseError, match="^invalid longitude,latitude pair 200.000000,10.000000$"):
        r.geoadd("g", (200, 10, "x"))
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("GEOADD", "g", "NX", "XX", 1, 2, "x")
    r.set("s", "x")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.geoadd("s", (1, 2, "x"))


def test_geosearch_shapes_and_options(r):
    r.geoadd("Sicily", SICILY)
    assert r.geosearch("Sicily", longitude=15, latitude=37, radius=200, unit="km", sort="ASC") == [
        "Catania",
        "Palermo",
    ]
    assert r.geosearch("Sicily", longitude=15, latitude=37, radius=100, unit="km") == ["Catania"]
    assert r.geosearch("Sicily", member="Palermo", width=400, height=400, unit="km", sort="DESC") == [
        "Catania",
        "Palermo",
    ]
    hits = r.geosearch(
        "Sicily", longitude=15, latitude=37, radius=200, unit="km", sort="ASC", withdist=True, withhash=True, withcoord=True
    )
    assert [h[0] for h in hits] == ["Catania", "Palermo"]
    assert [h[1] for h in hits] == [56.4413, 190.4424]
    assert [h[2] for h in hits] == [3479447370796909, 3479099956230698]
    assert hits[0][3] == pytest.approx((15.08726745843887329, 37.50266842333162032))
    assert r.geosearch("Sicily", longitude=15, latitude=37, radius=200, unit="km", count=1) == ["Catania"]
    assert len(r.geosearch("Sicily", longitude=15, latitude=37, radius=200, unit="km", count=1, any=True)) == 1
    assert r.geosearch("nokey", longitude=15, latitude=37, radius=200, unit="km") == []
    with pytest.raises(redis.ResponseError, match="^could not decode requested zset member$"):
        r.geosearch("Sicily", member="nobody", radius=1, unit="km")
    with pytest.raises(redis.ResponseError, match="^radius cannot be negative$"):
        r.geosearch("Sicily", longitude=15, latitude=37, radius=-1, unit="km")


def test_georadius_family(r):
    r.geoadd("Sicily", SICILY)
    assert r.georadius("Sicily", 15, 37, 200, unit="km", sort="ASC") == ["Catania", "Palermo"]
    assert r.georadius("Sicily", 15, 37, 200, unit="km", withdist=True, sort="DESC") == [
        ["Palermo", 190.4424],
        ["Catania", 56.4413],
    ]
    assert r.georadiusbymember("Sicily", "Palermo", 200, unit="km", sort="ASC") == ["Palermo", "Catania"]
    assert r.execute_command("GEORADIUS_RO", "Sicily", 15, 37, 100, "km") == ["Catania"]
    assert r.execute_command("GEORADIUSBYMEMBER_RO", "Sicily", "Catania", 1, "km") == ["Catania"]
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("GEORADIUS_RO", "Sicily", 15, 37, 100, "km", "STORE", "x")


def test_store_forms(r):
    r.geoadd("Sicily", SICILY)
    assert r.georadius("Sicily", 15, 37, 200, unit="km", store="dst") == 2
    assert r.zscore("dst", "Palermo") == 3479099956230698
    assert r.georadius("Sicily", 15, 37, 200, unit="km", store_dist="dst") == 2
    assert r.zscore("dst", "Catania") == pytest.approx(56.441257870158204)
    assert r.geosearchstore("dst2", "Sicily", longitude=15, latitude=37, radius=100, unit="km") == 1
    assert r.zrange("dst2", 0, -1) == ["Catania"]
    assert r.geosearchstore("dst2", "Sicily", longitude=15, latitude=37, radius=200, unit="km", storedist=True) == 2
    assert r.zscore("dst2", "Catania") == pytest.approx(56.441257870158204)
    # An empty result deletes the destination.
    assert r.geosearchstore("dst2", "Sicily", longitude=0, latitude=0, radius=1, unit="m") == 0
    assert r.exists("dst2") == 0
    with pytest.raises(redis.ResponseError, match="^GEOSEARCHSTORE is not compatible"):
        r.execute_command("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 1, "km", "WITHDIST")
