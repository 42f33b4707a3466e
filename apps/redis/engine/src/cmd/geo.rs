//! Geo commands (Redis's geo.c): positions stored as sorted-set members
//! whose scores are 52-bit geohashes (see [`crate::geohash`]). GEOADD is
//! ZADD with encoded scores (and propagates as that ZADD); the searches
//! (GEOSEARCH[STORE], GEORADIUS[BYMEMBER][_RO]) scan only the score
//! ranges of the 9 cells around the centre, then filter by exact distance.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{int_arg, read_as, text};
use crate::geohash::{self, Search, Shape};
use crate::server::{Ctx, Server};
use crate::types::zset::{ScoreRange, ZSet};
use crate::util::{eq_ic, i64_bytes, parse_f64};

/// Argument `i` as a float, replying `msg` (or the standard float error)
/// when it is not one.
fn float_or(c: &mut Ctx, i: usize, msg: Option<&str>) -> Option<f64> {
    let v = parse_f64(c.arg(i));
    if v.is_none() {
        match msg {
            Some(m) => c.out.err(m),
            None => c.not_float(),
        }
    }
    v
}

/// The longitude and latitude at arguments `i` and `i + 1`, checked
/// against the encoding's limits (extractLongLatOrReply).
fn long_lat_arg(c: &mut Ctx, i: usize) -> Option<(f64, f64)> {
    let long = float_or(c, i, None)?;
    let lat = float_or(c, i + 1, None)?;
    if !geohash::valid_position(long, lat) {
        c.out.err(&format!("ERR invalid longitude,latitude pair {long:.6},{lat:.6}"));
        return None;
    }
    Some((long, lat))
}

/// Meters per unit of a unit argument (m, km, ft, mi), replying the error
/// for another unit.
fn unit_arg(c: &mut Ctx, i: usize) -> Option<f64> {
    let u = c.arg(i);
    let factor = if eq_ic(u, "m") {
        1.0
    } else if eq_ic(u, "km") {
        1000.0
    } else if eq_ic(u, "ft") {
        0.3048
    } else if eq_ic(u, "mi") {
        1609.34
    } else {
        c.out.err("ERR unsupported unit provided. please use M, KM, FT, MI");
        return None;
    };
    Some(factor)
}

/// `<radius> <unit>` at argument `i`: (radius, meters per unit).
fn radius_arg(c: &mut Ctx, i: usize) -> Option<(f64, f64)> {
    let r = float_or(c, i, Some("ERR need numeric radius"))?;
    if r < 0.0 {
        c.out.err("ERR radius cannot be negative");
        return None;
    }
    Some((r, unit_arg(c, i + 1)?))
}

/// `<width> <height> <unit>` at argument `i`: (width, height, meters per unit).
fn box_arg(c: &mut Ctx, i: usize) -> Option<(f64, f64, f64)> {
    let w = float_or(c, i, Some("ERR need numeric width"))?;
    let h = float_or(c, i + 1, Some("ERR need numeric height"))?;
    if h < 0.0 || w < 0.0 {
        c.out.err("ERR height or width cannot be negative");
        return None;
    }
    Some((w, h, unit_arg(c, i + 2)?))
}

/// A distance as Redis prints it: rounded (half to even) to 4 decimals.
pub fn distance_text(d: f64) -> String {
    let scaled = libm::rint(d * 10000.0) as i64;
    let sign = if scaled < 0 { "-" } else { "" };
    let v = scaled.unsigned_abs();
    format!("{sign}{}.{:04}", v / 10000, v % 10000)
}

/// A coordinate as Redis prints it (`%.17Lf` without trailing zeros).
pub fn coord_text(v: f64) -> String {
    if v.is_infinite() {
        return String::from(if v > 0.0 { "inf" } else { "-inf" });
    }
    let mut s = format!("{v:.17}");
    if s.contains('.') {
        let keep = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(keep);
    }
    if s == "-0" {
        s = String::from("0");
    }
    s
}

/// A coordinate reply: a bulk string in RESP2, a double in RESP3.
fn reply_coord(c: &mut Ctx, v: f64) {
    let t = coord_text(v);
    if c.out.is_resp3() {
        c.out.raw(format!(",{t}\r\n").as_bytes());
    } else {
        c.out.bulk(t.as_bytes());
    }
}

/// GEOADD key [NX|XX] [CH] long lat member [...]: runs as the ZADD of
/// the members with their encoded positions as scores.
pub fn geoadd(s: &mut Server, c: &mut Ctx) {
    let (mut nx, mut xx) = (false, false);
    let mut first = 2;
    while first < c.argc() {
        let o = c.arg(first);
        if eq_ic(o, "nx") {
            nx = true;
        } else if eq_ic(o, "xx") {
            xx = true;
        } else if !eq_ic(o, "ch") {
            break;
        }
        first += 1;
    }
    if !(c.argc() - first).is_multiple_of(3) || (nx && xx) {
        c.syntax_error();
        return;
    }
    let mut zadd = Vec::with_capacity(first + (c.argc() - first) / 3 * 2);
    zadd.push(b"zadd".to_vec());
    zadd.extend(c.argv[1..first].iter().cloned());
    for i in (first..c.argc()).step_by(3) {
        let Some((long, lat)) = long_lat_arg(c, i) else { return };
        let score = geohash::score_of(long, lat).unwrap_or(0.0);
        zadd.push(i64_bytes(score as i64));
        zadd.push(c.take_arg(i + 2));
    }
    // ZADD runs on the translated arguments and is what propagates (as in
    // Redis); the slow log and MONITOR keep seeing the GEOADD as sent.
    let original = core::mem::replace(&mut c.argv, zadd);
    let moved = core::mem::take(&mut c.moved);
    super::zset::zadd(s, c);
    let zadd = core::mem::replace(&mut c.argv, original);
    c.moved = moved;
    if c.dirty > 0 && c.rewrite.is_none() {
        c.rewrite = Some(alloc::vec![zadd]);
    }
}

/// The stored zset at `argv[1]` for GEOPOS/GEOHASH: `Err` after replying
/// WRONGTYPE, `Ok(None)` when missing.
fn lookup<'s>(s: &'s mut Server, c: &mut Ctx) -> Result<Option<&'s ZSet>, ()> {
    let value = s.read(c.db, &c.argv[1]);
    if value.is_none() {
        return Ok(None);
    }
    read_as::<ZSet>(value, c, |_| {}).map(Some).ok_or(())
}

pub fn geopos(s: &mut Server, c: &mut Ctx) {
    let Ok(z) = lookup(s, c) else { return };
    c.out.array(c.argc() - 2);
    for i in 2..c.argc() {
        match z.and_then(|z| z.score(&c.argv[i])) {
            Some(score) => {
                let (long, lat) = geohash::position_of(score);
                c.out.array(2);
                reply_coord(c, long);
                reply_coord(c, lat);
            }
            None => c.out.null_array(),
        }
    }
}

pub fn geohash(s: &mut Server, c: &mut Ctx) {
    let Ok(z) = lookup(s, c) else { return };
    c.out.array(c.argc() - 2);
    for i in 2..c.argc() {
        match z.and_then(|z| z.score(&c.argv[i])) {
            Some(score) => c.out.bulk(&geohash::standard_string(score)),
            None => c.out.null(),
        }
    }
}

pub fn geodist(s: &mut Server, c: &mut Ctx) {
    let to_meter = match c.argc() {
        5 => match unit_arg(c, 4) {
            Some(u) => u,
            None => return,
        },
        4 => 1.0,
        _ => {
            c.syntax_error();
            return;
        }
    };
    let Some(z) = read_as::<ZSet>(s.read(c.db, &c.argv[1]), c, |c| c.out.null()) else { return };
    match (z.score(&c.argv[2]), z.score(&c.argv[3])) {
        (Some(a), Some(b)) => {
            let (lon1, lat1) = geohash::position_of(a);
            let (lon2, lat2) = geohash::position_of(b);
            let d = geohash::distance(lon1, lat1, lon2, lat2) / to_meter;
            c.out.bulk(distance_text(d).as_bytes());
        }
        _ => c.out.null(),
    }
}

/// One search hit.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub member: Vec<u8>,
    pub score: f64,
    pub long: f64,
    pub lat: f64,
    /// Meters from the centre.
    pub dist: f64,
}

/// The members of `z` inside `search`, found by range queries over the
/// scores of the 9 covering cells (membersOfAllNeighbors), in scan order;
/// stops after `limit` hits when given (ANY).
pub fn search_zset(z: &ZSet, search: &Search, limit: Option<usize>) -> Vec<Hit> {
    let cells = search.cells();
    let mut hits = Vec::new();
    let mut last: Option<usize> = None;
    let full = |hits: &Vec<Hit>| limit.is_some_and(|l| hits.len() >= l);
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        // Huge radiuses can make neighbours repeat: skip a repeat of the
        // last cell scanned.
        if last.is_some_and(|j| cells[j] == *cell) {
            continue;
        }
        if full(&hits) {
            break;
        }
        let (min, max) = geohash::score_range(*cell);
        let range = ScoreRange { min: min as f64, max: max as f64, minex: false, maxex: true };
        let list = z.list();
        let mut node = list.first_in_range(&range);
        while let Some(x) = node {
            let (score, member) = list.entry(x);
            if score >= range.max {
                break;
            }
            let (long, lat) = geohash::position_of(score);
            if let Some(dist) = search.distance_if_within(long, lat) {
                hits.push(Hit { member: member.to_vec(), score, long, lat, dist });
            }
            if full(&hits) {
                break;
            }
            node = list.next(x);
        }
        last = Some(i);
    }
    hits
}

#[derive(Clone, Copy, PartialEq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// Which search command runs (Redis's RADIUS_* / GEOSEARCH flags).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Radius { by_member: bool, read_only: bool },
    Search { store: bool },
}

/// Where results go: the reply, or a key (with distances as scores when
/// `dist`).
struct Store {
    key: Vec<u8>,
    dist: bool,
}

/// The options after the fixed arguments of a search command.
struct Options {
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    sort: Sort,
    any: bool,
    count: usize,
    store: Option<Store>,
}

/// The shared implementation of every search command (georadiusGeneric).
fn search_generic(s: &mut Server, c: &mut Ctx, kind: Kind) {
    let src = if kind == (Kind::Search { store: true }) { 2 } else { 1 };
    let value = s.read(c.db, &c.argv[src]);
    let z = match value {
        None => None,
        Some(v) => match read_as::<ZSet>(Some(v), c, |_| {}) {
            Some(z) => Some(z),
            None => return,
        },
    };
    let mut center: Option<(f64, f64)> = None;
    let mut shape: Option<(Shape, f64)> = None;
    let base = match kind {
        Kind::Radius { by_member: false, .. } => {
            let Some(pos) = long_lat_arg(c, 2) else { return };
            let Some((r, conv)) = radius_arg(c, 4) else { return };
            (center, shape) = (Some(pos), Some((Shape::Radius(r), conv)));
            6
        }
        Kind::Radius { by_member: true, .. } => {
            if let Some(z) = z {
                let Some(score) = z.score(c.arg(2)) else {
                    c.out.err("ERR could not decode requested zset member");
                    return;
                };
                let Some((r, conv)) = radius_arg(c, 3) else { return };
                (center, shape) = (Some(geohash::position_of(score)), Some((Shape::Radius(r), conv)));
            }
            5
        }
        Kind::Search { .. } => src + 1,
    };
    let Some(opts) = parse_options(c, kind, base, z, &mut center, &mut shape) else { return };
    let Some(z) = z else {
        match opts.store {
            Some(st) => {
                if s.delete(c.db, &st.key) {
                    s.notify(crate::notify::GENERIC, "del", c.db, &st.key);
                    s.modified(c, c.db, &st.key);
                }
                c.out.int(0);
            }
            None => c.out.array(0),
        }
        return;
    };
    let (Some((long, lat)), Some((shape, conversion))) = (center, shape) else { return };
    let search = Search { long, lat, shape, conversion };
    let mut sort = opts.sort;
    if opts.count != 0 && sort == Sort::None && !opts.any {
        sort = Sort::Asc;
    }
    let mut hits = search_zset(z, &search, opts.any.then_some(opts.count));
    match sort {
        Sort::Asc => hits.sort_by(|a, b| a.dist.partial_cmp(&b.dist).unwrap_or(core::cmp::Ordering::Equal)),
        Sort::Desc => hits.sort_by(|a, b| b.dist.partial_cmp(&a.dist).unwrap_or(core::cmp::Ordering::Equal)),
        Sort::None => {}
    }
    if opts.count != 0 {
        hits.truncate(opts.count);
    }
    for h in &mut hits {
        h.dist /= conversion;
    }
    match opts.store {
        None => reply_hits(c, &hits, &opts),
        Some(st) => {
            let seed = s.new_seed();
            let mut result = ZSet::new(seed);
            for h in &hits {
                result.set(&h.member, if st.dist { h.dist } else { h.score });
            }
            let event = if matches!(kind, Kind::Search { .. }) { "geosearchstore" } else { "georadiusstore" };
            super::zsetops::store_zset(s, c, &st.key, result, event);
        }
    }
}

/// Parses the options from argument `base` on; FROMMEMBER, FROMLONLAT,
/// BYRADIUS and BYBOX (GEOSEARCH only) fill `center` and `shape`.
fn parse_options(
    c: &mut Ctx,
    kind: Kind,
    base: usize,
    z: Option<&ZSet>,
    center: &mut Option<(f64, f64)>,
    shape: &mut Option<(Shape, f64)>,
) -> Option<Options> {
    let search = matches!(kind, Kind::Search { .. });
    let store_allowed = matches!(kind, Kind::Radius { read_only: false, .. });
    let mut o = Options {
        with_dist: false,
        with_hash: false,
        with_coord: false,
        sort: Sort::None,
        any: false,
        count: 0,
        store: None,
    };
    if let Kind::Search { store: true } = kind {
        o.store = Some(Store { key: c.arg(1).to_vec(), dist: false });
    }
    let (mut from_member, mut from_loc, mut by_radius, mut by_box) = (false, false, false, false);
    let argc = c.argc();
    let mut i = base;
    while i < argc {
        let a = c.arg(i).to_ascii_lowercase();
        let left = argc - i - 1;
        match a.as_slice() {
            b"withdist" => o.with_dist = true,
            b"withhash" => o.with_hash = true,
            b"withcoord" => o.with_coord = true,
            b"any" => o.any = true,
            b"asc" => o.sort = Sort::Asc,
            b"desc" => o.sort = Sort::Desc,
            b"count" if left >= 1 => {
                let n = int_arg(c, i + 1)?;
                if n <= 0 {
                    c.out.err("ERR COUNT must be > 0");
                    return None;
                }
                o.count = usize::try_from(n).unwrap_or(usize::MAX);
                i += 1;
            }
            b"store" | b"storedist" if left >= 1 && store_allowed => {
                o.store = Some(Store { key: c.arg(i + 1).to_vec(), dist: a == b"storedist" });
                i += 1;
            }
            b"storedist" if kind == (Kind::Search { store: true }) => {
                if let Some(st) = o.store.as_mut() {
                    st.dist = true;
                }
            }
            b"frommember" if left >= 1 && search && !from_loc => {
                if let Some(z) = z {
                    let Some(score) = z.score(c.arg(i + 1)) else {
                        c.out.err("ERR could not decode requested zset member");
                        return None;
                    };
                    *center = Some(geohash::position_of(score));
                }
                from_member = true;
                i += 1;
            }
            b"fromlonlat" if left >= 2 && search && !from_member => {
                *center = Some(long_lat_arg(c, i + 1)?);
                from_loc = true;
                i += 2;
            }
            b"byradius" if left >= 2 && search && !by_box => {
                let (r, conv) = radius_arg(c, i + 1)?;
                *shape = Some((Shape::Radius(r), conv));
                by_radius = true;
                i += 2;
            }
            b"bybox" if left >= 3 && search && !by_radius => {
                let (w, h, conv) = box_arg(c, i + 1)?;
                *shape = Some((Shape::Box { width: w, height: h }, conv));
                by_box = true;
                i += 3;
            }
            _ => {
                c.syntax_error();
                return None;
            }
        }
        i += 1;
    }
    if o.store.is_some() && (o.with_dist || o.with_hash || o.with_coord) {
        let what = if search { "GEOSEARCHSTORE" } else { "STORE option in GEORADIUS" };
        c.out.err(&format!("ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"));
        return None;
    }
    if search && !(from_member || from_loc) {
        let name = text(c.arg(0));
        c.out.err(&format!("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"));
        return None;
    }
    if search && !(by_radius || by_box) {
        let name = text(c.arg(0));
        c.out.err(&format!("ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"));
        return None;
    }
    if o.any && o.count == 0 {
        c.out.err("ERR the ANY argument requires COUNT argument");
        return None;
    }
    Some(o)
}

/// Replies the hits: bare members, or per member an array with the
/// distance, hash and coordinates asked for.
fn reply_hits(c: &mut Ctx, hits: &[Hit], o: &Options) {
    let extra = usize::from(o.with_dist) + usize::from(o.with_hash) + usize::from(o.with_coord);
    c.out.array(hits.len());
    for h in hits {
        if c.out.overflowed() {
            break;
        }
        if extra > 0 {
            c.out.array(extra + 1);
        }
        c.out.bulk(&h.member);
        if o.with_dist {
            c.out.bulk(distance_text(h.dist).as_bytes());
        }
        if o.with_hash {
            c.out.int(h.score as i64);
        }
        if o.with_coord {
            c.out.array(2);
            reply_coord(c, h.long);
            reply_coord(c, h.lat);
        }
    }
}

pub fn georadius(s: &mut Server, c: &mut Ctx) {
    search_generic(s, c, Kind::Radius { by_member: false, read_only: false });
}
pub fn georadius_ro(s: &mut Server, c: &mut Ctx) {
    search_generic(s, c, Kind::Radius { by_member: false, read_only: true });
}
pub fn georadiusbymember(s: &mut Server, c: &mut Ctx) {
    search_generic(s, c, Kind::Radius { by_member: true, read_only: false });
}
pub fn georadiusbymember_ro(s: &mut Server, c: &mut Ctx) {
    search_generic(s, c, Kind::Radius { by_member: true, read_only: true });
}
pub fn geosearch(s: &mut Server, c: &mut Ctx) {
    search_generic(s, c, Kind::Search { store: false });
}
pub fn geosearchstore(s: &mut Server, c: &mut Ctx) {
    search_generic(s, c, Kind::Search { store: true });
}
