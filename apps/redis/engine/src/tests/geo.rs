//! Geo commands: replies checked against real Redis 7.0's for the same
//! requests, and properties of the geohash encoding and of the 9-cell
//! search against a brute-force scan.

#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use proptest::prelude::*;

use super::harness::*;
use crate::cmd::geo::{Hit, distance_text, search_zset};
use crate::geohash::{self, LAT_MAX, LAT_MIN, Search, Shape};
use crate::script;
use crate::types::zset::ZSet;

const SICILY: &[&str] = &["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"];

#[test]
fn replies_match_redis() {
    let mut h = H::new();
    let c = h.client();
    assert_eq!(h.cmd(c, SICILY), ":2\r\n");
    script!(h, c,
        ["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"] =>
            "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n",
        ["GEOPOS", "Sicily", "Palermo", "NonExisting"] =>
            "*2\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n",
        ["GEODIST", "Sicily", "Palermo", "Catania"] => "$11\r\n166274.1516\r\n",
        ["GEODIST", "Sicily", "Palermo", "Catania", "mi"] => "$8\r\n103.3182\r\n",
        ["GEODIST", "Sicily", "Palermo", "nobody"] => "$-1\r\n",
        ["GEODIST", "nokey", "a", "b"] => "$-1\r\n",
        ["GEOHASH", "Sicily", "Palermo", "Catania", "x"] =>
            "*3\r\n$11\r\nsqc8b49rny0\r\n$11\r\nsqdtr74hyu0\r\n$-1\r\n",
        ["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH", "ASC"] =>
            "*2\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n",
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "DESC", "WITHCOORD"] =>
            "*2\r\n*2\r\n$7\r\nPalermo\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*2\r\n$7\r\nCatania\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n",
        ["GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STOREDIST", "ASC", "COUNT", "1"] => ":1\r\n",
        ["ZRANGE", "dst", "0", "-1", "WITHSCORES"] => "*2\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n",
        ["GEORADIUSBYMEMBER", "Sicily", "Palermo", "1", "m", "STORE", "dst"] => ":1\r\n",
        ["ZRANGE", "dst", "0", "-1", "WITHSCORES"] => "*2\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n",
        ["GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"] => ":0\r\n",
        ["EXISTS", "dst"] => ":0\r\n",
        ["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "COUNT", "1", "ANY"] => "*1\r\n$7\r\nPalermo\r\n",
        ["GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "200", "km"] => "*2\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n",
    );
    h.cmd(c, &["HELLO", "3"]);
    assert_eq!(
        h.cmd(c, &["GEOPOS", "Sicily", "Palermo", "NonExisting"]),
        "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"
    );
}

#[test]
fn geoadd_is_zadd_with_options() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["GEOADD", "g", "-73.9454966", "40.747533", "lic"] => ":1\r\n",
        ["GEOADD", "g", "-73.9454966", "40.747533", "lic"] => ":0\r\n",
        ["GEOADD", "g", "CH", "40.747533", "-73.9454966", "lic"] => ":1\r\n",
        ["GEOADD", "g", "NX", "-73.9454966", "40.747533", "lic"] => ":0\r\n",
        ["GEOADD", "g", "XX", "-73.9454966", "40.747533", "new"] => ":0\r\n",
        ["GEOADD", "g", "CH", "XX", "-73.9454966", "40.747533", "lic"] => ":1\r\n",
        ["ZSCORE", "g", "lic"] => "$16\r\n1791875804419201\r\n",
        ["GEOADD", "g", "XX", "NX", "1", "2", "x"] => "-ERR syntax error\r\n",
        ["GEOADD", "g", "CH", "XX", "foo", "1", "2", "x"] => "-ERR syntax error\r\n",
        ["GEOADD", "g", "1", "2", "a", "foo", "bar", "b"] => "-ERR value is not a valid float\r\n",
        ["GEOADD", "g", "200", "10", "x"] => "-ERR invalid longitude,latitude pair 200.000000,10.000000\r\n",
        ["GEOADD", "g", "1", "-85.06", "x"] => "-ERR invalid longitude,latitude pair 1.000000,-85.060000\r\n",
        ["GEOADD", "g", "1", "2"] => "-ERR wrong number of arguments for 'geoadd' command\r\n",
        ["ZCARD", "g"] => ":1\r\n",
        ["SET", "s", "x"] => "+OK\r\n",
        ["GEOADD", "s", "1", "2", "x"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["GEOPOS", "s", "x"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["GEOSEARCH", "s", "FROMMEMBER", "x", "BYBOX", "1", "1", "m"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
}

#[test]
fn search_errors_and_missing_keys() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, SICILY);
    script!(h, c,
        ["GEORADIUS", "Sicily", "1", "2", "-1", "m"] => "-ERR radius cannot be negative\r\n",
        ["GEORADIUS", "Sicily", "1", "2", "x", "m"] => "-ERR need numeric radius\r\n",
        ["GEORADIUS", "Sicily", "1", "2", "1", "yd"] => "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n",
        ["GEORADIUS", "Sicily", "1", "2", "1", "m", "COUNT", "0"] => "-ERR COUNT must be > 0\r\n",
        ["GEORADIUS", "Sicily", "1", "2", "1", "m", "ANY"] => "-ERR the ANY argument requires COUNT argument\r\n",
        ["GEORADIUS", "Sicily", "1", "2", "1", "m", "STORE", "x", "WITHDIST"] =>
            "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n",
        ["GEORADIUS_RO", "Sicily", "1", "2", "1", "m", "STORE", "x"] => "-ERR syntax error\r\n",
        ["GEOSEARCH", "Sicily", "BYBOX", "1", "2", "m", "ASC"] =>
            "-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH\r\n",
        ["geosearch", "Sicily", "FROMLONLAT", "1", "2", "ASC", "WITHDIST"] =>
            "-ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch\r\n",
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "FROMMEMBER", "Palermo", "BYBOX", "1", "1", "m"] => "-ERR syntax error\r\n",
        ["GEOSEARCH", "Sicily", "FROMMEMBER", "nobody", "BYRADIUS", "1", "m"] => "-ERR could not decode requested zset member\r\n",
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "-1", "2", "m"] => "-ERR height or width cannot be negative\r\n",
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "a", "2", "m"] => "-ERR need numeric width\r\n",
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "1", "2", "m", "STOREDIST"] => "-ERR syntax error\r\n",
        ["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "m", "WITHDIST"] =>
            "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n",
        ["GEORADIUSBYMEMBER", "Sicily", "nobody", "1", "m"] => "-ERR could not decode requested zset member\r\n",
        ["GEORADIUS", "nokey", "1", "2", "1", "m"] => "*0\r\n",
        ["SET", "d", "x"] => "+OK\r\n",
        ["GEORADIUSBYMEMBER", "nokey", "x", "1", "m", "STORE", "d"] => ":0\r\n",
        ["EXISTS", "d"] => ":0\r\n",
        ["GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYBOX", "1", "1", "m"] => "*0\r\n",
    );
}

#[test]
fn search_store_propagates_and_notifies() {
    let mut h = H::new();
    let c = h.client();
    let sub = h.client();
    h.cmd(c, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    h.cmd(sub, &["PSUBSCRIBE", "__keyevent@0__:*"]);
    h.cmd(c, SICILY);
    h.cmd(c, &["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "a"]);
    h.cmd(c, &["GEOSEARCHSTORE", "b", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"]);
    let events = String::from_utf8_lossy(&h.take(sub)).into_owned();
    for e in ["__keyevent@0__:zadd", "__keyevent@0__:georadiusstore", "__keyevent@0__:geosearchstore"] {
        assert!(events.contains(e), "{e} missing from {events}");
    }
}

#[test]
fn distance_text_has_four_rounded_decimals() {
    assert_eq!(distance_text(0.0), "0.0000");
    assert_eq!(distance_text(0.77504), "0.7750");
    assert_eq!(distance_text(6.064_295_159_839_17e-5), "0.0001");
    assert_eq!(distance_text(0.00005), "0.0000");
    assert_eq!(distance_text(-1.23456), "-1.2346");
    assert_eq!(distance_text(166274.15156960033), "166274.1516");
}

#[test]
fn small_searches_scan_a_small_part_of_the_score_space() {
    let s = Search { long: 13.0, lat: 38.0, shape: Shape::Radius(1.0), conversion: 1000.0 };
    let span: u64 = s
        .cells()
        .iter()
        .filter(|c| !c.is_zero())
        .map(|&c| {
            let (min, max) = geohash::score_range(c);
            max - min
        })
        .sum();
    assert!(span > 0 && span < (1u64 << 52) / 1_000_000, "{span}");
}

/// Every member of a brute-force scan inside the search, in scan order.
fn brute_force(points: &[(f64, f64)], search: &Search) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = points
        .iter()
        .enumerate()
        .filter_map(|(i, &(lon, lat))| {
            let (dlon, dlat) = geohash::position_of(geohash::score_of(lon, lat).unwrap());
            search.distance_if_within(dlon, dlat).map(|_| format!("p{i}").into_bytes())
        })
        .collect();
    out.sort();
    out
}

fn names(hits: &[Hit]) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = hits.iter().map(|h| h.member.clone()).collect();
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Decoding a score gives back the position to within half a cell, and
    /// re-encoding the decoded position gives the same score.
    #[test]
    fn encode_decode_round_trip(lon in -180.0f64..=180.0, lat in LAT_MIN..=LAT_MAX) {
        let score = geohash::score_of(lon, lat).unwrap();
        prop_assert!(score < (1u64 << 52) as f64 + 1.0);
        let (dlon, dlat) = geohash::position_of(score);
        let cells = (1u64 << geohash::STEP_MAX) as f64;
        prop_assert!((dlon - lon).abs() <= 360.0 / cells / 2.0 + 1e-9, "lon {} -> {}", lon, dlon);
        prop_assert!((dlat - lat).abs() <= (LAT_MAX - LAT_MIN) / cells / 2.0 + 1e-9, "lat {} -> {}", lat, dlat);
        prop_assert_eq!(geohash::score_of(dlon, dlat), Some(score));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The 9-cell search finds exactly what a full scan finds (away from
    /// the poles, where Redis's cells are known to cover the area).
    #[test]
    fn search_matches_brute_force(
        points in prop::collection::vec((-180.0f64..180.0, -70.0f64..70.0), 1..300),
        (lon, lat) in (-180.0f64..180.0, -70.0f64..70.0),
        radius_km in 0.0f64..2000.0,
        (w, hgt) in (0.0f64..4000.0, 0.0f64..4000.0),
        by_box in any::<bool>(),
        near in 0usize..300,
    ) {
        let mut z = ZSet::new(7);
        for (i, &(plon, plat)) in points.iter().enumerate() {
            z.set(format!("p{i}").as_bytes(), geohash::score_of(plon, plat).unwrap());
        }
        // Half the searches are centred on a member, like FROMMEMBER.
        let (lon, lat) = if near % 2 == 0 { points[near % points.len()] } else { (lon, lat) };
        let shape = if by_box { Shape::Box { width: w, height: hgt } } else { Shape::Radius(radius_km) };
        let search = Search { long: lon, lat, shape, conversion: 1000.0 };
        let hits = search_zset(&z, &search, None);
        prop_assert_eq!(names(&hits), brute_force(&points, &search));
        for hit in &hits {
            prop_assert_eq!(Some(hit.dist), search.distance_if_within(hit.long, hit.lat));
        }
        // ANY stops at the limit.
        let any = search_zset(&z, &search, Some(3));
        prop_assert_eq!(any.len(), hits.len().min(3));
    }
}

/// GEOADD propagates as the ZADD it ran (Redis's form), while the slow
/// log keeps the command as the client sent it.
#[test]
fn geoadd_propagates_as_zadd_and_is_logged_as_sent() {
    let mut h = H::new();
    let replica = h.client();
    assert!(h.raw(replica, b"SYNC\r\n").starts_with(b"$"));
    let c = h.client();
    h.cmd(c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    h.cmd(c, &["GEOADD", "cities", "-122.33207", "47.60621", "Seattle"]);
    let stream = show(&h.take(replica));
    assert!(stream.contains("$4\r\nzadd\r\n$6\r\ncities\r\n$16\r\n1558507292839943\r\n$7\r\nSeattle\r\n"), "{stream}");
    let log = h.cmd(c, &["SLOWLOG", "GET", "1"]);
    assert!(log.contains("$6\r\nGEOADD\r\n") && log.contains("$10\r\n-122.33207\r\n"), "{log}");
}
