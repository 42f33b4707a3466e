//! The command table: name, arity, flags, key positions and handler of
//! every command. It drives dispatch and the COMMAND INFO/DOCS replies.

use crate::cmd::{bitfield, bitmap, hyperloglog};
use crate::cmd::{
    client, config, dump, geo, hash, info, keys, latency, lcs, list, memory, migrate, multi, persist, pubsub,
    server as srv, set, sort, stream, stream_group, stream_read, string, zset, zset_pop, zsetops,
};
use crate::server::{Ctx, Server};

pub type Handler = fn(&mut Server, &mut Ctx);

/// Command flags (a subset of Redis's, plus dispatch hints).
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const FAST: u32 = 1 << 9;
    pub const NO_AUTH: u32 = 1 << 10;
    pub const MOVABLE_KEYS: u32 = 1 << 11;
    /// Runs immediately inside MULTI instead of being queued.
    pub const NOT_QUEUED: u32 = 1 << 12;
    /// Allowed while a RESP2 client is subscribed.
    pub const PUBSUB_CONTEXT: u32 = 1 << 13;
    /// Refused inside MULTI (Redis's `no-multi`): queueing it fails the
    /// transaction.
    pub const NO_MULTI: u32 = 1 << 14;

    /// Flag names as COMMAND INFO reports them.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
    ];
}

use flags::*;

pub struct CommandSpec {
    /// Lowercase name.
    pub name: &'static str,
    /// Redis arity: exact count if positive, minimum if negative.
    pub arity: i32,
    pub flags: u32,
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub group: &'static str,
    pub handler: Handler,
}

impl CommandSpec {
    /// Indexes into argv of the keys named by the key positions (first,
    /// last, step) for a call with `argc` arguments; empty for commands
    /// without keys. Movable keys beyond these are not included.
    pub fn key_positions(&self, argc: usize) -> impl Iterator<Item = usize> + Clone {
        let argc = argc as i64;
        let first = i64::from(self.first_key);
        let last = if self.last_key < 0 { argc + i64::from(self.last_key) } else { i64::from(self.last_key) };
        let end = if first == 0 { 0 } else { last.min(argc - 1) + 1 };
        (first..end.max(first)).step_by(self.step.max(1) as usize).map(|i| i as usize)
    }
}

const fn c(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: (i32, i32, i32),
    group: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec { name, arity, flags, first_key: keys.0, last_key: keys.1, step: keys.2, group, handler }
}

const NONE: (i32, i32, i32) = (0, 0, 0);
const K1: (i32, i32, i32) = (1, 1, 1);
const K12: (i32, i32, i32) = (1, 2, 1);
const KALL: (i32, i32, i32) = (1, -1, 1);

const CONN: &str = "connection";
const SERVER: &str = "server";
const GENERIC: &str = "generic";
const STRING: &str = "string";
const BITMAP: &str = "bitmap";
const HYPERLOGLOG: &str = "hyperloglog";
const LIST: &str = "list";
const HASH: &str = "hash";
const SET: &str = "set";
const ZSET: &str = "sorted-set";
const STREAMG: &str = "stream";
const PUBSUBG: &str = "pubsub";
const GEO: &str = "geo";
const TX: &str = "transactions";
const SCRIPTING: &str = "scripting";
const CLUSTERG: &str = "cluster";

const RW: u32 = WRITE | DENYOOM;

pub static TABLE: &[CommandSpec] = &[
    // connection / server
    c("ping", -1, FAST | PUBSUB_CONTEXT, NONE, CONN, srv::ping),
    c("echo", 2, FAST | LOADING | STALE, NONE, CONN, srv::echo),
    c("quit", -1, FAST | NO_AUTH | STALE | LOADING | NOT_QUEUED | PUBSUB_CONTEXT, NONE, CONN, srv::quit),
    c("select", 2, FAST | LOADING | STALE, NONE, CONN, srv::select),
    c("auth", -2, FAST | NO_AUTH | NOSCRIPT | LOADING | STALE, NONE, CONN, srv::auth),
    c("hello", -1, FAST | NO_AUTH | NOSCRIPT | LOADING | STALE, NONE, CONN, srv::hello),
    c("reset", 1, FAST | NO_AUTH | NOSCRIPT | LOADING | STALE | NOT_QUEUED | PUBSUB_CONTEXT, NONE, CONN, srv::reset),
    c("client", -2, NOSCRIPT | LOADING | STALE, NONE, CONN, srv::client),
    c("info", -1, LOADING | STALE, NONE, SERVER, info::info),
    c("monitor", 1, ADMIN | NOSCRIPT | LOADING | STALE, NONE, SERVER, client::monitor),
    c("dbsize", 1, READONLY | FAST, NONE, SERVER, srv::dbsize),
    c("flushdb", -1, WRITE, NONE, SERVER, srv::flushdb),
    c("flushall", -1, WRITE, NONE, SERVER, srv::flushall),
    c("time", 1, FAST | LOADING | STALE, NONE, SERVER, srv::time),
    c("command", -1, LOADING | STALE, NONE, SERVER, srv::command),
    c("config", -2, ADMIN | NOSCRIPT | LOADING | STALE, NONE, SERVER, config::config),
    c("shutdown", -1, ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI, NONE, SERVER, srv::shutdown),
    c("lastsave", 1, FAST | LOADING | STALE, NONE, SERVER, persist::lastsave),
    c("save", 1, ADMIN | NOSCRIPT | NO_MULTI, NONE, SERVER, persist::save),
    c("bgsave", -1, ADMIN | NOSCRIPT, NONE, SERVER, persist::bgsave),
    c("bgrewriteaof", 1, ADMIN | NOSCRIPT, NONE, SERVER, persist::bgrewriteaof),
    c("sync", 1, ADMIN | NOSCRIPT | NO_MULTI, NONE, SERVER, persist::sync),
    c("wait", 3, NOSCRIPT, NONE, GENERIC, persist::wait),
    c("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE, NONE, SERVER, persist::debug),
    c("slowlog", -2, ADMIN | LOADING | STALE, NONE, SERVER, latency::slowlog),
    c("latency", -2, ADMIN | NOSCRIPT | LOADING | STALE, NONE, SERVER, latency::latency),
    c("swapdb", 3, WRITE | FAST, NONE, SERVER, srv::swapdb),
    c("role", 1, NOSCRIPT | LOADING | STALE | FAST, NONE, SERVER, srv::role),
    // cluster mode, which the appliance does not run in
    c("cluster", -2, 0, NONE, CLUSTERG, srv::cluster_disabled),
    c("readonly", 1, LOADING | STALE | FAST, NONE, CLUSTERG, srv::cluster_disabled),
    c("readwrite", 1, LOADING | STALE | FAST, NONE, CLUSTERG, srv::cluster_disabled),
    c("asking", 1, FAST, NONE, CLUSTERG, srv::cluster_disabled),
    c("function", -2, NOSCRIPT, NONE, SCRIPTING, srv::function),
    // generic keyspace
    c("del", -2, WRITE, KALL, GENERIC, keys::del),
    c("unlink", -2, WRITE | FAST, KALL, GENERIC, keys::del),
    c("exists", -2, READONLY | FAST, KALL, GENERIC, keys::exists),
    c("type", 2, READONLY | FAST, K1, GENERIC, keys::type_cmd),
    c("keys", 2, READONLY, NONE, GENERIC, keys::keys),
    c("scan", -2, READONLY, NONE, GENERIC, keys::scan),
    c("rename", 3, WRITE, K12, GENERIC, keys::rename),
    c("renamenx", 3, WRITE | FAST, K12, GENERIC, keys::renamenx),
    c("randomkey", 1, READONLY, NONE, GENERIC, keys::randomkey),
    c("expire", -3, WRITE | FAST, K1, GENERIC, keys::expire),
    c("pexpire", -3, WRITE | FAST, K1, GENERIC, keys::pexpire),
    c("expireat", -3, WRITE | FAST, K1, GENERIC, keys::expireat),
    c("pexpireat", -3, WRITE | FAST, K1, GENERIC, keys::pexpireat),
    c("ttl", 2, READONLY | FAST, K1, GENERIC, keys::ttl),
    c("pttl", 2, READONLY | FAST, K1, GENERIC, keys::pttl),
    c("expiretime", 2, READONLY | FAST, K1, GENERIC, keys::expiretime),
    c("pexpiretime", 2, READONLY | FAST, K1, GENERIC, keys::pexpiretime),
    c("persist", 2, WRITE | FAST, K1, GENERIC, keys::persist),
    c("touch", -2, READONLY | FAST, KALL, GENERIC, keys::touch),
    c("copy", -3, RW, K12, GENERIC, keys::copy),
    c("move", 3, WRITE | FAST, K1, GENERIC, keys::move_cmd),
    c("object", -2, READONLY, (2, 2, 1), GENERIC, keys::object),
    c("dump", 2, READONLY, K1, GENERIC, dump::dump),
    c("restore", -4, RW, K1, GENERIC, dump::restore),
    c("migrate", -6, WRITE | MOVABLE_KEYS, (3, 3, 1), GENERIC, migrate::migrate),
    c("memory", -2, READONLY, (2, 2, 1), SERVER, memory::memory),
    // strings
    c("get", 2, READONLY | FAST, K1, STRING, string::get),
    c("set", -3, RW, K1, STRING, string::set),
    c("setnx", 3, RW | FAST, K1, STRING, string::setnx),
    c("setex", 4, RW, K1, STRING, string::setex),
    c("psetex", 4, RW, K1, STRING, string::psetex),
    c("mget", -2, READONLY | FAST, KALL, STRING, string::mget),
    c("mset", -3, RW, (1, -1, 2), STRING, string::mset),
    c("msetnx", -3, RW, (1, -1, 2), STRING, string::msetnx),
    c("getset", 3, RW | FAST, K1, STRING, string::getset),
    c("getdel", 2, WRITE | FAST, K1, STRING, string::getdel),
    c("getex", -2, WRITE | FAST, K1, STRING, string::getex),
    c("append", 3, RW | FAST, K1, STRING, string::append),
    c("strlen", 2, READONLY | FAST, K1, STRING, string::strlen),
    c("incr", 2, RW | FAST, K1, STRING, string::incr),
    c("decr", 2, RW | FAST, K1, STRING, string::decr),
    c("incrby", 3, RW | FAST, K1, STRING, string::incrby),
    c("decrby", 3, RW | FAST, K1, STRING, string::decrby),
    c("incrbyfloat", 3, RW | FAST, K1, STRING, string::incrbyfloat),
    c("getrange", 4, READONLY, K1, STRING, string::getrange),
    c("substr", 4, READONLY, K1, STRING, string::getrange),
    c("setrange", 4, RW, K1, STRING, string::setrange),
    c("lcs", -3, READONLY, K12, STRING, lcs::lcs),
    c("setbit", 4, RW, K1, BITMAP, bitmap::setbit),
    c("getbit", 3, READONLY | FAST, K1, BITMAP, bitmap::getbit),
    c("bitcount", -2, READONLY, K1, BITMAP, bitmap::bitcount),
    c("bitpos", -3, READONLY, K1, BITMAP, bitmap::bitpos),
    c("bitop", -4, RW, (2, -1, 1), BITMAP, bitmap::bitop),
    c("bitfield", -2, RW, K1, BITMAP, bitfield::bitfield),
    c("bitfield_ro", -2, READONLY | FAST, K1, BITMAP, bitfield::bitfield_ro),
    // hyperloglog
    c("pfadd", -2, RW | FAST, K1, HYPERLOGLOG, hyperloglog::pfadd),
    c("pfcount", -2, READONLY, KALL, HYPERLOGLOG, hyperloglog::pfcount),
    c("pfmerge", -2, RW, KALL, HYPERLOGLOG, hyperloglog::pfmerge),
    c("pfselftest", 1, ADMIN, NONE, HYPERLOGLOG, hyperloglog::pfselftest),
    c("pfdebug", 3, RW | ADMIN, (2, 2, 1), HYPERLOGLOG, hyperloglog::pfdebug),
    // lists
    c("lpush", -3, RW | FAST, K1, LIST, list::lpush),
    c("rpush", -3, RW | FAST, K1, LIST, list::rpush),
    c("lpushx", -3, RW | FAST, K1, LIST, list::lpushx),
    c("rpushx", -3, RW | FAST, K1, LIST, list::rpushx),
    c("lpop", -2, WRITE | FAST, K1, LIST, list::lpop),
    c("rpop", -2, WRITE | FAST, K1, LIST, list::rpop),
    c("llen", 2, READONLY | FAST, K1, LIST, list::llen),
    c("lrange", 4, READONLY, K1, LIST, list::lrange),
    c("lindex", 3, READONLY, K1, LIST, list::lindex),
    c("lset", 4, RW, K1, LIST, list::lset),
    c("linsert", 5, RW, K1, LIST, list::linsert),
    c("lrem", 4, WRITE, K1, LIST, list::lrem),
    c("ltrim", 4, WRITE, K1, LIST, list::ltrim),
    c("lpos", -3, READONLY, K1, LIST, list::lpos),
    c("lmove", 5, RW, K12, LIST, list::lmove),
    c("rpoplpush", 3, RW, K12, LIST, list::rpoplpush),
    c("blpop", -3, WRITE | NOSCRIPT | BLOCKING, (1, -2, 1), LIST, list::blpop),
    c("brpop", -3, WRITE | NOSCRIPT | BLOCKING, (1, -2, 1), LIST, list::brpop),
    c("blmove", 6, RW | NOSCRIPT | BLOCKING, K12, LIST, list::blmove),
    c("brpoplpush", 4, RW | NOSCRIPT | BLOCKING, K12, LIST, list::brpoplpush),
    c("sort", -2, RW | MOVABLE_KEYS, K1, GENERIC, sort::sort),
    c("sort_ro", -2, READONLY | MOVABLE_KEYS, K1, GENERIC, sort::sort_ro),
    c("lmpop", -4, WRITE | MOVABLE_KEYS, NONE, LIST, list::lmpop),
    c("blmpop", -5, WRITE | BLOCKING | MOVABLE_KEYS, NONE, LIST, list::blmpop),
    // hashes
    c("hset", -4, RW | FAST, K1, HASH, hash::hset),
    c("hsetnx", 4, RW | FAST, K1, HASH, hash::hsetnx),
    c("hget", 3, READONLY | FAST, K1, HASH, hash::hget),
    c("hmset", -4, RW | FAST, K1, HASH, hash::hmset),
    c("hmget", -3, READONLY | FAST, K1, HASH, hash::hmget),
    c("hdel", -3, WRITE | FAST, K1, HASH, hash::hdel),
    c("hexists", 3, READONLY | FAST, K1, HASH, hash::hexists),
    c("hlen", 2, READONLY | FAST, K1, HASH, hash::hlen),
    c("hkeys", 2, READONLY, K1, HASH, hash::hkeys),
    c("hvals", 2, READONLY, K1, HASH, hash::hvals),
    c("hgetall", 2, READONLY, K1, HASH, hash::hgetall),
    c("hincrby", 4, RW | FAST, K1, HASH, hash::hincrby),
    c("hincrbyfloat", 4, RW | FAST, K1, HASH, hash::hincrbyfloat),
    c("hstrlen", 3, READONLY | FAST, K1, HASH, hash::hstrlen),
    c("hscan", -3, READONLY, K1, HASH, hash::hscan),
    c("hrandfield", -2, READONLY, K1, HASH, hash::hrandfield),
    // sets
    c("sadd", -3, RW | FAST, K1, SET, set::sadd),
    c("srem", -3, WRITE | FAST, K1, SET, set::srem),
    c("sismember", 3, READONLY | FAST, K1, SET, set::sismember),
    c("smismember", -3, READONLY | FAST, K1, SET, set::smismember),
    c("smembers", 2, READONLY, K1, SET, set::smembers),
    c("scard", 2, READONLY | FAST, K1, SET, set::scard),
    c("spop", -2, WRITE | FAST, K1, SET, set::spop),
    c("srandmember", -2, READONLY, K1, SET, set::srandmember),
    c("smove", 4, WRITE | FAST, K12, SET, set::smove),
    c("sinter", -2, READONLY, KALL, SET, set::sinter),
    c("sunion", -2, READONLY, KALL, SET, set::sunion),
    c("sdiff", -2, READONLY, KALL, SET, set::sdiff),
    c("sinterstore", -3, RW, KALL, SET, set::sinterstore),
    c("sunionstore", -3, RW, KALL, SET, set::sunionstore),
    c("sdiffstore", -3, RW, KALL, SET, set::sdiffstore),
    c("sintercard", -3, READONLY | MOVABLE_KEYS, NONE, SET, set::sintercard),
    c("sscan", -3, READONLY, K1, SET, set::sscan),
    // sorted sets
    c("zadd", -4, RW | FAST, K1, ZSET, zset::zadd),
    c("zrem", -3, WRITE | FAST, K1, ZSET, zset::zrem),
    c("zscore", 3, READONLY | FAST, K1, ZSET, zset::zscore),
    c("zmscore", -3, READONLY | FAST, K1, ZSET, zset::zmscore),
    c("zincrby", 4, RW | FAST, K1, ZSET, zset::zincrby),
    c("zcard", 2, READONLY | FAST, K1, ZSET, zset::zcard),
    c("zcount", 4, READONLY | FAST, K1, ZSET, zset::zcount),
    c("zlexcount", 4, READONLY | FAST, K1, ZSET, zset::zlexcount),
    c("zrank", 3, READONLY | FAST, K1, ZSET, zset::zrank),
    c("zrevrank", 3, READONLY | FAST, K1, ZSET, zset::zrevrank),
    c("zrange", -4, READONLY, K1, ZSET, zset::zrange),
    c("zrangestore", -5, RW, K12, ZSET, zset::zrangestore),
    c("zrangebyscore", -4, READONLY, K1, ZSET, zset::zrangebyscore),
    c("zrevrangebyscore", -4, READONLY, K1, ZSET, zset::zrevrangebyscore),
    c("zrangebylex", -4, READONLY, K1, ZSET, zset::zrangebylex),
    c("zrevrangebylex", -4, READONLY, K1, ZSET, zset::zrevrangebylex),
    c("zrevrange", -4, READONLY, K1, ZSET, zset::zrevrange),
    c("zremrangebyrank", 4, WRITE, K1, ZSET, zset::zremrangebyrank),
    c("zremrangebyscore", 4, WRITE, K1, ZSET, zset::zremrangebyscore),
    c("zremrangebylex", 4, WRITE, K1, ZSET, zset::zremrangebylex),
    c("zpopmin", -2, WRITE | FAST, K1, ZSET, zset::zpopmin),
    c("zpopmax", -2, WRITE | FAST, K1, ZSET, zset::zpopmax),
    c("zmpop", -4, WRITE | MOVABLE_KEYS, NONE, ZSET, zset_pop::zmpop),
    c("bzpopmin", -3, WRITE | NOSCRIPT | BLOCKING | FAST, (1, -2, 1), ZSET, zset_pop::bzpopmin),
    c("bzpopmax", -3, WRITE | NOSCRIPT | BLOCKING | FAST, (1, -2, 1), ZSET, zset_pop::bzpopmax),
    c("bzmpop", -5, WRITE | BLOCKING | MOVABLE_KEYS, NONE, ZSET, zset_pop::bzmpop),
    c("zunionstore", -4, RW | MOVABLE_KEYS, K1, ZSET, zsetops::zunionstore),
    c("zinterstore", -4, RW | MOVABLE_KEYS, K1, ZSET, zsetops::zinterstore),
    c("zdiffstore", -4, RW | MOVABLE_KEYS, K1, ZSET, zsetops::zdiffstore),
    c("zunion", -3, READONLY | MOVABLE_KEYS, NONE, ZSET, zsetops::zunion),
    c("zinter", -3, READONLY | MOVABLE_KEYS, NONE, ZSET, zsetops::zinter),
    c("zdiff", -3, READONLY | MOVABLE_KEYS, NONE, ZSET, zsetops::zdiff),
    c("zintercard", -3, READONLY | MOVABLE_KEYS, NONE, ZSET, zsetops::zintercard),
    c("zrandmember", -2, READONLY, K1, ZSET, zsetops::zrandmember),
    c("zscan", -3, READONLY, K1, ZSET, zset::zscan),
    // geo
    c("geoadd", -5, RW, K1, GEO, geo::geoadd),
    c("geopos", -2, READONLY, K1, GEO, geo::geopos),
    c("geodist", -4, READONLY, K1, GEO, geo::geodist),
    c("geohash", -2, READONLY, K1, GEO, geo::geohash),
    c("georadius", -6, WRITE | DENYOOM | MOVABLE_KEYS, K1, GEO, geo::georadius),
    c("georadius_ro", -6, READONLY, K1, GEO, geo::georadius_ro),
    c("georadiusbymember", -5, WRITE | DENYOOM | MOVABLE_KEYS, K1, GEO, geo::georadiusbymember),
    c("georadiusbymember_ro", -5, READONLY, K1, GEO, geo::georadiusbymember_ro),
    c("geosearch", -7, READONLY, K1, GEO, geo::geosearch),
    c("geosearchstore", -8, RW, K12, GEO, geo::geosearchstore),
    // streams
    c("xadd", -5, RW | FAST, K1, STREAMG, stream::xadd),
    c("xlen", 2, READONLY | FAST, K1, STREAMG, stream::xlen),
    c("xrange", -4, READONLY, K1, STREAMG, stream::xrange),
    c("xrevrange", -4, READONLY, K1, STREAMG, stream::xrevrange),
    c("xdel", -3, WRITE | FAST, K1, STREAMG, stream::xdel),
    c("xtrim", -4, WRITE, K1, STREAMG, stream::xtrim),
    c("xsetid", -3, RW | FAST, K1, STREAMG, stream::xsetid),
    c("xinfo", -2, READONLY, (2, 2, 1), STREAMG, stream::xinfo),
    c("xread", -4, READONLY | BLOCKING | MOVABLE_KEYS, NONE, STREAMG, stream_read::xread),
    c("xreadgroup", -7, WRITE | BLOCKING | MOVABLE_KEYS, NONE, STREAMG, stream_read::xreadgroup),
    c("xgroup", -2, RW, (2, 2, 1), STREAMG, stream_group::xgroup),
    c("xack", -4, WRITE | FAST, K1, STREAMG, stream_group::xack),
    c("xpending", -3, READONLY, K1, STREAMG, stream_group::xpending),
    c("xclaim", -6, WRITE | FAST, K1, STREAMG, stream_group::xclaim),
    c("xautoclaim", -6, WRITE | FAST, K1, STREAMG, stream_group::xautoclaim),
    // pub/sub
    c("subscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE | PUBSUB_CONTEXT, NONE, PUBSUBG, pubsub::subscribe),
    c("unsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE | PUBSUB_CONTEXT, NONE, PUBSUBG, pubsub::unsubscribe),
    c("psubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE | PUBSUB_CONTEXT, NONE, PUBSUBG, pubsub::psubscribe),
    c("punsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE | PUBSUB_CONTEXT, NONE, PUBSUBG, pubsub::punsubscribe),
    c("publish", 3, PUBSUB | LOADING | STALE | FAST, NONE, PUBSUBG, pubsub::publish),
    c("ssubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE | PUBSUB_CONTEXT, KALL, PUBSUBG, pubsub::ssubscribe),
    c("sunsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE | PUBSUB_CONTEXT, KALL, PUBSUBG, pubsub::sunsubscribe),
    c("spublish", 3, PUBSUB | LOADING | STALE | FAST, K1, PUBSUBG, pubsub::spublish),
    c("pubsub", -2, PUBSUB | LOADING | STALE, NONE, PUBSUBG, pubsub::pubsub),
    // transactions
    c("multi", 1, NOSCRIPT | LOADING | STALE | FAST | NOT_QUEUED, NONE, TX, multi::multi),
    c("exec", 1, NOSCRIPT | LOADING | STALE | NOT_QUEUED, NONE, TX, multi::exec),
    c("discard", 1, NOSCRIPT | LOADING | STALE | FAST | NOT_QUEUED, NONE, TX, multi::discard),
    c("watch", -2, NOSCRIPT | LOADING | STALE | FAST | NOT_QUEUED, KALL, TX, multi::watch),
    c("unwatch", 1, NOSCRIPT | LOADING | STALE | FAST, NONE, TX, multi::unwatch),
];

/// The key positions of a call of a command with movable keys that the
/// (first, last, step) triple cannot express (Redis's keynum key specs and
/// `sortGetKeys`); `None` for the other commands, `Some(empty)` when the
/// arguments name no valid keys.
pub fn movable_key_positions(name: &str, argv: &[alloc::vec::Vec<u8>]) -> Option<alloc::vec::Vec<usize>> {
    let numkeys_at = match name {
        "zunionstore" | "zinterstore" | "zdiffstore" => {
            // The destination, then numkeys sources.
            let mut keys = movable_key_positions("zunion", &argv[1..])?;
            if keys.is_empty() {
                return Some(keys);
            }
            keys.iter_mut().for_each(|k| *k += 1);
            keys.insert(0, 1);
            return Some(keys);
        }
        "zunion" | "zinter" | "zdiff" | "zintercard" | "sintercard" | "lmpop" | "zmpop" => 1,
        "blmpop" | "bzmpop" => 2,
        "sort" | "sort_ro" => {
            let mut keys = alloc::vec![1];
            let mut store = None;
            let mut i = 2;
            while i < argv.len() {
                let a = argv[i].to_ascii_lowercase();
                match a.as_slice() {
                    b"limit" => i += 2,
                    b"get" | b"by" => i += 1,
                    b"store" if name == "sort" && i + 1 < argv.len() => {
                        store = Some(i + 1);
                        i += 1;
                    }
                    _ => {}
                }
                i += 1;
            }
            keys.extend(store);
            return Some(keys);
        }
        // The source, then the key after the first STORE and the first
        // STOREDIST keyword past the fixed arguments (Redis's key specs).
        "georadius" | "georadiusbymember" => {
            let from = if name == "georadius" { 6 } else { 5 };
            let mut keys = alloc::vec![1];
            for keyword in [&b"store"[..], b"storedist"] {
                let at = (from..argv.len()).find(|&i| argv[i].eq_ignore_ascii_case(keyword));
                keys.extend(at.map(|i| i + 1).filter(|&k| k < argv.len()));
            }
            return Some(keys);
        }
        // Redis's key specs first: the key argument, unless KEYS is found
        // searching back from the second-to-last argument; that spec is
        // incomplete, so then `migrateGetKeys` decides: what follows KEYS
        // (none when the key argument is not empty).
        "migrate" => {
            if !(2..argv.len().saturating_sub(1)).any(|i| argv[i].eq_ignore_ascii_case(b"keys")) {
                return Some(alloc::vec![3]);
            }
            let mut i = 6;
            while i < argv.len() {
                let a = argv[i].to_ascii_lowercase();
                match a.as_slice() {
                    b"keys" if argv[3].is_empty() => return Some((i + 1..argv.len()).collect()),
                    b"keys" => return Some(alloc::vec::Vec::new()),
                    b"auth" => i += 1,
                    b"auth2" => i += 2,
                    _ => {}
                }
                i += 1;
            }
            return Some(alloc::vec![3]);
        }
        "xread" | "xreadgroup" => {
            // The keys are the first half of what follows STREAMS.
            let at = argv.iter().position(|a| a.eq_ignore_ascii_case(b"streams"));
            return Some(match at {
                Some(at) if (argv.len() - at - 1).is_multiple_of(2) => {
                    (at + 1..at + 1 + (argv.len() - at - 1) / 2).collect()
                }
                _ => alloc::vec::Vec::new(),
            });
        }
        _ => return None,
    };
    let n = argv.get(numkeys_at).and_then(|a| crate::util::parse_i64(a)).unwrap_or(0);
    match usize::try_from(n) {
        Ok(n) if n > 0 && n < argv.len().saturating_sub(numkeys_at) => {
            Some((numkeys_at + 1..=numkeys_at + n).collect())
        }
        _ => Some(alloc::vec::Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::TABLE;
    use alloc::vec::Vec;

    fn positions(name: &str, argc: usize) -> Vec<usize> {
        TABLE.iter().find(|c| c.name == name).unwrap().key_positions(argc).collect()
    }

    #[test]
    fn key_positions() {
        assert_eq!(positions("set", 5), [1]);
        assert_eq!(positions("mset", 5), [1, 3]);
        assert_eq!(positions("copy", 3), [1, 2]);
        assert_eq!(positions("del", 4), [1, 2, 3]);
        assert_eq!(positions("blpop", 4), [1, 2]);
        assert!(positions("ping", 1).is_empty());
        let args = |v: &[&str]| v.iter().map(|a| a.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(
            super::movable_key_positions("blmpop", &args(&["blmpop", "0", "2", "a", "b", "left"])),
            Some(alloc::vec![3, 4])
        );
        assert_eq!(super::movable_key_positions("lmpop", &args(&["lmpop", "5", "a", "left"])), Some(Vec::new()));
        assert_eq!(
            super::movable_key_positions(
                "sort",
                &args(&["sort", "k", "store", "x", "limit", "store", "y", "store", "d"])
            ),
            Some(alloc::vec![1, 8])
        );
        assert_eq!(
            super::movable_key_positions("sort_ro", &args(&["sort_ro", "k", "store", "x"])),
            Some(alloc::vec![1])
        );
        assert_eq!(super::movable_key_positions("get", &args(&["get", "k"])), None);
        assert_eq!(
            super::movable_key_positions(
                "georadius",
                &args(&["georadius", "k", "1", "2", "3", "m", "store", "a", "storedist", "b", "store", "c"])
            ),
            Some(alloc::vec![1, 7, 9])
        );
        assert_eq!(
            super::movable_key_positions("georadiusbymember", &args(&["georadiusbymember", "k", "m", "3", "m", "asc"])),
            Some(alloc::vec![1])
        );
    }
}
