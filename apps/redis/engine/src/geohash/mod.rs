//! Redis's geohash: the 52-bit interleaved encoding that GEOADD stores as
//! a sorted-set score, its decoding back to a position, the 9-cell
//! neighbourhood that covers a search area, and the haversine distances
//! (Redis's `geohash.c` and `geohash_helper.c`, same constants, bit layout
//! and floating-point steps, so scores are bit-identical to real Redis's).

mod trig;

use libm::sqrt;
use trig::cos;

/// 26 steps per axis: 52 bits, exactly representable in a double score.
pub const STEP_MAX: u8 = 26;
/// The latitude limits of EPSG:900913 (no geocoding at the poles).
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;

/// Earth's quadratic mean radius for WGS-84, as Redis uses it.
pub const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = core::f64::consts::PI / 180.0;

/// A geohash prefix: `step` bits per axis, latitude in the even bits and
/// longitude in the odd ones. `step == 0` with no bits is "no cell".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Cell {
    pub bits: u64,
    pub step: u8,
}

impl Cell {
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

/// A closed interval of one coordinate.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Span {
    pub min: f64,
    pub max: f64,
}

/// The longitude and latitude spans a cell covers.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Area {
    pub longitude: Span,
    pub latitude: Span,
}

/// The coordinate ranges the stored encoding uses (Web Mercator limits).
pub const MERCATOR_LONG: Span = Span { min: LONG_MIN, max: LONG_MAX };
pub const MERCATOR_LAT: Span = Span { min: LAT_MIN, max: LAT_MAX };
/// The ranges of the standard geohash that GEOHASH prints.
pub const STANDARD_LAT: Span = Span { min: -90.0, max: 90.0 };

/// Spreads the low 32 bits of `x` into the even bit positions.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Gathers the even bit positions of `x` into the low 32 bits.
fn gather(v: u64) -> u32 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF;
    x as u32
}

/// Latitude cell index in the even bits, longitude in the odd ones.
pub fn interleave(lat: u32, long: u32) -> u64 {
    spread(lat) | (spread(long) << 1)
}

/// The inverse of [`interleave`]: (latitude index, longitude index).
pub fn deinterleave(bits: u64) -> (u32, u32) {
    (gather(bits), gather(bits >> 1))
}

/// Whether a position can be encoded (Redis's GEOADD limits).
pub fn valid_position(long: f64, lat: f64) -> bool {
    (LONG_MIN..=LONG_MAX).contains(&long) && (LAT_MIN..=LAT_MAX).contains(&lat)
}

/// The `step`-bit cell of a position within the given ranges; `None` when
/// it lies outside Redis's limits or the ranges (geohashEncode).
pub fn encode_in(long_range: Span, lat_range: Span, long: f64, lat: f64, step: u8) -> Option<Cell> {
    if step == 0 || step > 32 || !valid_position(long, lat) {
        return None;
    }
    if lat < lat_range.min || lat > lat_range.max || long < long_range.min || long > long_range.max {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (lat - lat_range.min) / (lat_range.max - lat_range.min) * scale;
    let long_offset = (long - long_range.min) / (long_range.max - long_range.min) * scale;
    // C's double -> uint32_t conversion truncates toward zero.
    Some(Cell { bits: interleave(lat_offset as u32, long_offset as u32), step })
}

/// [`encode_in`] with the stored encoding's ranges.
pub fn encode(long: f64, lat: f64, step: u8) -> Option<Cell> {
    encode_in(MERCATOR_LONG, MERCATOR_LAT, long, lat, step)
}

/// The sorted-set score of a position: its 26-step cell aligned to 52 bits.
pub fn score_of(long: f64, lat: f64) -> Option<f64> {
    encode(long, lat, STEP_MAX).map(|c| align52(c) as f64)
}

/// A cell's bits shifted up to the 52-bit score layout.
pub fn align52(cell: Cell) -> u64 {
    cell.bits << (52 - u32::from(cell.step) * 2)
}

/// The area a cell covers within the given ranges (geohashDecode).
pub fn decode_in(long_range: Span, lat_range: Span, cell: Cell) -> Option<Area> {
    if cell.is_zero() {
        return None;
    }
    let (ilat, ilong) = deinterleave(cell.bits);
    let scale = (1u64 << cell.step) as f64;
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let at = |min: f64, i: u32, size: f64| min + (f64::from(i) / scale) * size;
    let (ilat1, ilong1) = (ilat.wrapping_add(1), ilong.wrapping_add(1));
    Some(Area {
        latitude: Span { min: at(lat_range.min, ilat, lat_scale), max: at(lat_range.min, ilat1, lat_scale) },
        longitude: Span { min: at(long_range.min, ilong, long_scale), max: at(long_range.min, ilong1, long_scale) },
    })
}

/// [`decode_in`] with the stored encoding's ranges.
pub fn decode(cell: Cell) -> Option<Area> {
    decode_in(MERCATOR_LONG, MERCATOR_LAT, cell)
}

/// The centre of an area, clamped to the limits: (longitude, latitude).
pub fn area_center(area: &Area) -> (f64, f64) {
    let long = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (long, lat)
}

/// The position a sorted-set score stands for (Redis's decodeGeohash; a
/// score that is not a geohash decodes to wherever its bits point).
pub fn position_of(score: f64) -> (f64, f64) {
    // C's double -> uint64_t: truncation; Rust's `as` saturates out of range.
    let cell = Cell { bits: score as u64, step: STEP_MAX };
    decode(cell).map(|a| area_center(&a)).unwrap_or((0.0, 0.0))
}

/// Bits of the longitude axis (odd positions) and of the latitude axis.
const LONG_BITS: u64 = 0xaaaa_aaaa_aaaa_aaaa;
const LAT_BITS: u64 = 0x5555_5555_5555_5555;

/// Moves a cell one step along the axis whose bits are `axis` (LONG_BITS:
/// east for `d > 0`, west for `d < 0`; LAT_BITS: north or south): adds or
/// subtracts one in that axis's bits alone (geohash_move_x / _y).
fn move_along(cell: &mut Cell, d: i8, axis: u64) {
    if d == 0 {
        return;
    }
    let width = 64 - u32::from(cell.step) * 2;
    let mut moved = cell.bits & axis;
    let kept = cell.bits & !axis;
    // The other axis's bits set: carries pass through them.
    let zz = !axis >> width;
    if d > 0 {
        moved = moved.wrapping_add(zz.wrapping_add(1));
    } else {
        moved |= zz;
        moved = moved.wrapping_sub(zz.wrapping_add(1));
    }
    moved &= axis >> width;
    cell.bits = moved | kept;
}

fn neighbour(cell: Cell, dx: i8, dy: i8) -> Cell {
    let mut n = cell;
    move_along(&mut n, dx, LONG_BITS);
    move_along(&mut n, dy, LAT_BITS);
    n
}

/// The shape of a search around a centre, sizes in the query's unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    Radius(f64),
    Box { width: f64, height: f64 },
}

/// A search: centre (longitude, latitude), shape, and the unit's size in
/// meters (`conversion`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Search {
    pub long: f64,
    pub lat: f64,
    pub shape: Shape,
    pub conversion: f64,
}

/// The cells to scan for a search, in Redis's order: centre, N, S, E, W,
/// NE, NW, SE, SW; cells known not to reach the search area are zero.
pub type Cells = [Cell; 9];

/// How many steps the cells of a search with this radius get
/// (geohashEstimateStepsByRadius).
pub fn estimate_steps(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

impl Search {
    /// Half the height and half the width in meters.
    fn half_extent_m(&self) -> (f64, f64) {
        match self.shape {
            Shape::Radius(r) => (self.conversion * r, self.conversion * r),
            Shape::Box { width, height } => (self.conversion * (height / 2.0), self.conversion * (width / 2.0)),
        }
    }

    /// The bounding box: (min long, min lat, max long, max lat)
    /// (geohashBoundingBox).
    pub fn bounds(&self) -> [f64; 4] {
        let (height, width) = self.half_extent_m();
        let lat_delta = height / EARTH_RADIUS_IN_METERS / D_R;
        let long_delta_top = width / EARTH_RADIUS_IN_METERS / cos((self.lat + lat_delta) * D_R) / D_R;
        let long_delta_bottom = width / EARTH_RADIUS_IN_METERS / cos((self.lat - lat_delta) * D_R) / D_R;
        let delta = if self.lat < 0.0 { long_delta_bottom } else { long_delta_top };
        [self.long - delta, self.lat - lat_delta, self.long + delta, self.lat + lat_delta]
    }

    /// The radius of the circle around the search, in meters.
    fn radius_m(&self) -> f64 {
        let r = match self.shape {
            Shape::Radius(r) => r,
            Shape::Box { width, height } => sqrt((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)),
        };
        r * self.conversion
    }

    /// The centre cell and its eight neighbours covering the search
    /// (geohashCalculateAreasByShapeWGS84).
    pub fn cells(&self) -> Cells {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounds();
        let mut steps = estimate_steps(self.radius_m(), self.lat);
        let around = |steps: u8| {
            let hash = encode(self.long, self.lat, steps).unwrap_or_default();
            let area = decode(hash).unwrap_or_default();
            (hash, area)
        };
        let (mut hash, mut area) = around(steps);
        let edge = |dx, dy| decode(neighbour(hash, dx, dy)).unwrap_or_default();
        let decrease = edge(0, 1).latitude.max < max_lat
            || edge(0, -1).latitude.min > min_lat
            || edge(1, 0).longitude.max < max_lon
            || edge(-1, 0).longitude.min > min_lon;
        if steps > 1 && decrease {
            steps -= 1;
            (hash, area) = around(steps);
        }
        let mut cells = [
            hash,
            neighbour(hash, 0, 1),
            neighbour(hash, 0, -1),
            neighbour(hash, 1, 0),
            neighbour(hash, -1, 0),
            neighbour(hash, 1, 1),
            neighbour(hash, -1, 1),
            neighbour(hash, 1, -1),
            neighbour(hash, -1, -1),
        ];
        if steps >= 2 {
            // Drop the rows and columns the bounding box does not reach.
            const N: usize = 1;
            const S: usize = 2;
            const E: usize = 3;
            const W: usize = 4;
            const NE: usize = 5;
            const NW: usize = 6;
            const SE: usize = 7;
            const SW: usize = 8;
            let mut drop = |ids: [usize; 3]| ids.iter().for_each(|&i| cells[i] = Cell::default());
            if area.latitude.min < min_lat {
                drop([S, SW, SE]);
            }
            if area.latitude.max > max_lat {
                drop([N, NE, NW]);
            }
            if area.longitude.min < min_lon {
                drop([W, SW, NW]);
            }
            if area.longitude.max > max_lon {
                drop([E, SE, NE]);
            }
        }
        cells
    }

    /// The distance in meters from the centre to a point, when the point
    /// is inside the search (geoWithinShape).
    pub fn distance_if_within(&self, long: f64, lat: f64) -> Option<f64> {
        match self.shape {
            Shape::Radius(r) => {
                let limit = r * self.conversion;
                if clearly_beyond(rough_distance(self.long, self.lat, long, lat), limit) {
                    return None;
                }
                let d = distance(self.long, self.lat, long, lat);
                (d <= limit).then_some(d)
            }
            Shape::Box { width, height } => {
                let (width_m, height_m) = (width * self.conversion, height * self.conversion);
                if lat_distance(lat, self.lat) > height_m / 2.0 {
                    return None;
                }
                if clearly_beyond(rough_distance(long, lat, self.long, lat), width_m / 2.0)
                    || distance(long, lat, self.long, lat) > width_m / 2.0
                {
                    return None;
                }
                Some(distance(self.long, self.lat, long, lat))
            }
        }
    }
}

/// Whether a distance computed with plain libm (within a few ulps of the
/// correctly rounded one) is surely above `limit`: most candidates of a
/// search are rejected so, before the slower exact [`distance`].
fn clearly_beyond(rough: f64, limit: f64) -> bool {
    rough > limit * (1.0 + 1e-9) + 1e-6
}

/// The score interval `[min, max)` of the members inside a cell.
pub fn score_range(cell: Cell) -> (u64, u64) {
    let next = Cell { bits: cell.bits.wrapping_add(1), step: cell.step };
    (align52(cell), align52(next))
}

/// Distance along a meridian (geohashGetLatDistance).
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (lat2 * D_R - lat1 * D_R).abs()
}

/// Haversine great-circle distance in meters (geohashGetDistance), with
/// correctly rounded trigonometry like Redis's libc.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    haversine([lon1, lat1, lon2, lat2], trig::sin, trig::cos, trig::asin)
}

/// [`distance`] with plain libm trigonometry: faster, off by a few ulps.
fn rough_distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    haversine([lon1, lat1, lon2, lat2], libm::sin, libm::cos, libm::asin)
}

type Trig = fn(f64) -> f64;

fn haversine([lon1, lat1, lon2, lat2]: [f64; 4], sin: Trig, cos: Trig, asin: Trig) -> f64 {
    let lon1r = lon1 * D_R;
    let lon2r = lon2 * D_R;
    let v = sin((lon2r - lon1r) / 2.0);
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = lat1 * D_R;
    let lat2r = lat2 * D_R;
    let u = sin((lat2r - lat1r) / 2.0);
    let a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * asin(sqrt(a))
}

/// The 11-character standard geohash of a stored score (GEOHASH): the
/// position re-encoded with latitude -90..90, the 11th character zero.
pub fn standard_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (long, lat) = position_of(score);
    let bits = encode_in(MERCATOR_LONG, STANDARD_LAT, long, lat, STEP_MAX).map(|c| c.bits).unwrap_or(0);
    let mut out = [b'0'; 11];
    for (i, ch) in out.iter_mut().enumerate().take(10) {
        *ch = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    out
}
