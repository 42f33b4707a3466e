//! The flags Redis 7.0's key specs give each key a command names (COMMAND
//! GETKEYSANDFLAGS): how the key is used (`RO` read only, `RW` read and
//! written, `OW` overwritten, `RM` removed) and what happens to its data
//! (`access`, `update`, `insert`, `delete`). The table is Redis 7.0's, per
//! command and key spec; the n-th key a call names takes the n-th spec
//! (the last one for all the keys beyond).

/// Per command, the flags of each of its key specs.
const KEY_FLAGS: &[(&str, &[&[&str]])] = &[
    ("del", &[&["RM", "delete"]]),
    ("unlink", &[&["RM", "delete"]]),
    ("exists", &[&["RO"]]),
    ("type", &[&["RO"]]),
    ("rename", &[&["RW", "access", "delete"], &["OW", "update"]]),
    ("renamenx", &[&["RW", "access", "delete"], &["OW", "insert"]]),
    ("expire", &[&["RW", "update"]]),
    ("pexpire", &[&["RW", "update"]]),
    ("expireat", &[&["RW", "update"]]),
    ("pexpireat", &[&["RW", "update"]]),
    ("ttl", &[&["RO", "access"]]),
    ("pttl", &[&["RO", "access"]]),
    ("expiretime", &[&["RO", "access"]]),
    ("pexpiretime", &[&["RO", "access"]]),
    ("persist", &[&["RW", "update"]]),
    ("touch", &[&["RO"]]),
    ("copy", &[&["RO", "access"], &["OW", "update"]]),
    ("move", &[&["RW", "access", "update"]]),
    ("dump", &[&["RO", "access"]]),
    ("restore", &[&["OW", "update"]]),
    ("get", &[&["RO", "access"]]),
    ("set", &[&["RW", "access", "update", "variable_flags"]]),
    ("setnx", &[&["OW", "insert"]]),
    ("setex", &[&["OW", "update"]]),
    ("psetex", &[&["OW", "update"]]),
    ("mget", &[&["RO", "access"]]),
    ("mset", &[&["OW", "update"]]),
    ("msetnx", &[&["OW", "insert"]]),
    ("getset", &[&["RW", "access", "update"]]),
    ("getdel", &[&["RW", "access", "delete"]]),
    ("getex", &[&["RW", "access", "update"]]),
    ("append", &[&["RW", "insert"]]),
    ("strlen", &[&["RO"]]),
    ("incr", &[&["RW", "access", "update"]]),
    ("decr", &[&["RW", "access", "update"]]),
    ("incrby", &[&["RW", "access", "update"]]),
    ("decrby", &[&["RW", "access", "update"]]),
    ("incrbyfloat", &[&["RW", "access", "update"]]),
    ("getrange", &[&["RO", "access"]]),
    ("substr", &[&["RO", "access"]]),
    ("setrange", &[&["RW", "update"]]),
    ("lcs", &[&["RO", "access"]]),
    ("setbit", &[&["RW", "access", "update"]]),
    ("getbit", &[&["RO", "access"]]),
    ("bitcount", &[&["RO", "access"]]),
    ("lpush", &[&["RW", "insert"]]),
    ("rpush", &[&["RW", "insert"]]),
    ("lpushx", &[&["RW", "insert"]]),
    ("rpushx", &[&["RW", "insert"]]),
    ("lpop", &[&["RW", "access", "delete"]]),
    ("rpop", &[&["RW", "access", "delete"]]),
    ("llen", &[&["RO"]]),
    ("lrange", &[&["RO", "access"]]),
    ("lindex", &[&["RO", "access"]]),
    ("lset", &[&["RW", "update"]]),
    ("linsert", &[&["RW", "insert"]]),
    ("lrem", &[&["RW", "delete"]]),
    ("ltrim", &[&["RW", "delete"]]),
    ("lpos", &[&["RO", "access"]]),
    ("lmove", &[&["RW", "access", "delete"], &["RW", "insert"]]),
    ("rpoplpush", &[&["RW", "access", "delete"], &["RW", "insert"]]),
    ("blpop", &[&["RW", "access", "delete"]]),
    ("brpop", &[&["RW", "access", "delete"]]),
    ("blmove", &[&["RW", "access", "delete"], &["RW", "insert"]]),
    ("brpoplpush", &[&["RW", "access", "delete"], &["RW", "insert"]]),
    ("sort", &[&["RO", "access"], &["OW", "update"]]),
    ("sort_ro", &[&["RO", "access"]]),
    ("lmpop", &[&["RW", "access", "delete"]]),
    ("blmpop", &[&["RW", "access", "delete"]]),
    ("hset", &[&["RW", "update"]]),
    ("hsetnx", &[&["RW", "insert"]]),
    ("hget", &[&["RO", "access"]]),
    ("hmset", &[&["RW", "update"]]),
    ("hmget", &[&["RO", "access"]]),
    ("hdel", &[&["RW", "delete"]]),
    ("hexists", &[&["RO"]]),
    ("hlen", &[&["RO"]]),
    ("hkeys", &[&["RO", "access"]]),
    ("hvals", &[&["RO", "access"]]),
    ("hgetall", &[&["RO", "access"]]),
    ("hincrby", &[&["RW", "access", "update"]]),
    ("hincrbyfloat", &[&["RW", "access", "update"]]),
    ("hstrlen", &[&["RO"]]),
    ("hscan", &[&["RO", "access"]]),
    ("hrandfield", &[&["RO", "access"]]),
    ("sadd", &[&["RW", "insert"]]),
    ("srem", &[&["RW", "delete"]]),
    ("sismember", &[&["RO"]]),
    ("smismember", &[&["RO", "access"]]),
    ("smembers", &[&["RO", "access"]]),
    ("scard", &[&["RO"]]),
    ("spop", &[&["RW", "access", "delete"]]),
    ("srandmember", &[&["RO", "access"]]),
    ("smove", &[&["RW", "access", "delete"], &["RW", "insert"]]),
    ("sinter", &[&["RO", "access"]]),
    ("sunion", &[&["RO", "access"]]),
    ("sdiff", &[&["RO", "access"]]),
    ("sinterstore", &[&["RW", "update"], &["RO", "access"]]),
    ("sunionstore", &[&["OW", "update"], &["RO", "access"]]),
    ("sdiffstore", &[&["OW", "update"], &["RO", "access"]]),
    ("sintercard", &[&["RO", "access"]]),
    ("sscan", &[&["RO", "access"]]),
    ("zadd", &[&["RW", "update"]]),
    ("zrem", &[&["RW", "delete"]]),
    ("zscore", &[&["RO", "access"]]),
    ("zmscore", &[&["RO", "access"]]),
    ("zincrby", &[&["RW", "access", "update"]]),
    ("zcard", &[&["RO"]]),
    ("zcount", &[&["RO", "access"]]),
    ("zlexcount", &[&["RO", "access"]]),
    ("zrank", &[&["RO", "access"]]),
    ("zrevrank", &[&["RO", "access"]]),
    ("zrange", &[&["RO", "access"]]),
    ("zrangestore", &[&["OW", "update"], &["RO", "access"]]),
    ("zrangebyscore", &[&["RO", "access"]]),
    ("zrevrangebyscore", &[&["RO", "access"]]),
    ("zrangebylex", &[&["RO", "access"]]),
    ("zrevrangebylex", &[&["RO", "access"]]),
    ("zrevrange", &[&["RO", "access"]]),
    ("zremrangebyrank", &[&["RW", "delete"]]),
    ("zremrangebyscore", &[&["RW", "delete"]]),
    ("zremrangebylex", &[&["RW", "delete"]]),
    ("zpopmin", &[&["RW", "access", "delete"]]),
    ("zpopmax", &[&["RW", "access", "delete"]]),
    ("zmpop", &[&["RW", "access", "delete"]]),
    ("bzpopmin", &[&["RW", "access", "delete"]]),
    ("bzpopmax", &[&["RW", "access", "delete"]]),
    ("bzmpop", &[&["RW", "access", "delete"]]),
    ("zunionstore", &[&["OW", "update"], &["RO", "access"]]),
    ("zinterstore", &[&["OW", "update"], &["RO", "access"]]),
    ("zdiffstore", &[&["OW", "update"], &["RO", "access"]]),
    ("zunion", &[&["RO", "access"]]),
    ("zinter", &[&["RO", "access"]]),
    ("zdiff", &[&["RO", "access"]]),
    ("zintercard", &[&["RO", "access"]]),
    ("zrandmember", &[&["RO", "access"]]),
    ("zscan", &[&["RO", "access"]]),
    ("watch", &[&["RO"]]),
    ("xread", &[&["RO", "access"]]),
    ("xreadgroup", &[&["RO", "access"]]),
    ("migrate", &[&["RW", "access", "delete"], &["RW", "access", "delete", "incomplete"]]),
    ("bitpos", &[&["RO", "access"]]),
    ("bitop", &[&["OW", "update"], &["RO", "access"]]),
    ("bitfield", &[&["RW", "access", "update", "variable_flags"]]),
    ("bitfield_ro", &[&["RO", "access"]]),
    ("pfadd", &[&["RW", "insert"]]),
    ("pfcount", &[&["RW", "access"]]),
    ("pfmerge", &[&["RW", "access", "insert"], &["RO", "access"]]),
    ("pfdebug", &[&["RW", "access"]]),
    ("geoadd", &[&["RW", "update"]]),
    ("geopos", &[&["RO", "access"]]),
    ("geodist", &[&["RO", "access"]]),
    ("geohash", &[&["RO", "access"]]),
    ("georadius", &[&["RO", "access"], &["OW", "update"], &["OW", "update"]]),
    ("georadius_ro", &[&["RO", "access"]]),
    ("georadiusbymember", &[&["RO", "access"], &["OW", "update"], &["OW", "update"]]),
    ("georadiusbymember_ro", &[&["RO", "access"]]),
    ("geosearch", &[&["RO", "access"]]),
    ("geosearchstore", &[&["OW", "update"], &["RO", "access"]]),
    ("xadd", &[&["RW", "update"]]),
    ("xlen", &[&["RO"]]),
    ("xrange", &[&["RO", "access"]]),
    ("xrevrange", &[&["RO", "access"]]),
    ("xdel", &[&["RW", "delete"]]),
    ("xtrim", &[&["RW", "delete"]]),
    ("xsetid", &[&["RW", "update"]]),
    ("xack", &[&["RW", "update"]]),
    ("xpending", &[&["RO", "access"]]),
    ("xclaim", &[&["RW", "update"]]),
    ("xautoclaim", &[&["RW", "delete"]]),
    ("ssubscribe", &[&["not_key"]]),
    ("sunsubscribe", &[&["not_key"]]),
    ("spublish", &[&["not_key"]]),
];

/// The subcommands that take a key (always argument 2): their arity and
/// the key's flags, as Redis 7.0.15's COMMAND INFO gives them. Every other
/// subcommand has no key.
pub const SUBCOMMAND_KEYS: &[(&str, &str, i32, &[&str])] = &[
    ("object", "encoding", 3, &["RO"]),
    ("object", "freq", 3, &["RO"]),
    ("object", "idletime", 3, &["RO"]),
    ("object", "refcount", 3, &["RO"]),
    ("memory", "usage", -3, &["RO"]),
    ("xinfo", "consumers", 4, &["RO", "access"]),
    ("xinfo", "groups", 3, &["RO", "access"]),
    ("xinfo", "stream", -3, &["RO", "access"]),
    ("xgroup", "create", -5, &["RW", "insert"]),
    ("xgroup", "createconsumer", 5, &["RW", "insert"]),
    ("xgroup", "delconsumer", 5, &["RW", "delete"]),
    ("xgroup", "destroy", 4, &["RW", "delete"]),
    ("xgroup", "setid", -5, &["RW", "update"]),
];

/// The flags of the `n`-th key (0-based) a call of `name` with `argv`
/// names; empty for a command without key specs.
pub fn key_flags(name: &str, argv: &[alloc::vec::Vec<u8>], n: usize) -> &'static [&'static str] {
    // SET reads the old value only with GET (Redis's `setGetKeys`).
    if name == "set" {
        let get = argv.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get"));
        return if get { &["RW", "access", "update"] } else { &["OW", "update"] };
    }
    // BITFIELD only reads with GET and OVERFLOW alone (`bitfieldGetKeys`).
    if name == "bitfield" {
        let mut i = 2;
        while i < argv.len() {
            let left = argv.len() - i - 1;
            let a = argv[i].to_ascii_lowercase();
            match a.as_slice() {
                b"get" if left >= 2 => i += 3,
                b"overflow" if left >= 1 => i += 2,
                _ => return &["RW", "access", "update"],
            }
        }
        return &["RO", "access"];
    }
    // MIGRATE's key specs are incomplete: Redis finds its keys with
    // `migrateGetKeys`, which flags each one so.
    if name == "migrate" {
        return &["RW", "access", "delete"];
    }
    let Some((_, specs)) = KEY_FLAGS.iter().find(|(c, _)| *c == name) else { return &[] };
    specs.get(n.min(specs.len().saturating_sub(1))).copied().unwrap_or(&[])
}

/// Whether every key spec of `name` is flagged `not_key` (the shard
/// channels of SPUBLISH, SSUBSCRIBE, SUNSUBSCRIBE): to COMMAND GETKEYS,
/// such a command has no key arguments.
pub fn only_not_keys(name: &str) -> bool {
    KEY_FLAGS.iter().find(|(c, _)| *c == name).is_some_and(|(_, specs)| specs.iter().all(|s| s.contains(&"not_key")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn keys_take_their_spec_flags() {
        let args = |v: &[&str]| v.iter().map(|a| a.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(key_flags("set", &args(&["set", "k", "v"]), 0), ["OW", "update"]);
        assert_eq!(key_flags("set", &args(&["set", "k", "v", "get"]), 0), ["RW", "access", "update"]);
        assert_eq!(key_flags("lmove", &[], 1), ["RW", "insert"]);
        assert_eq!(key_flags("zunionstore", &[], 5), ["RO", "access"]);
        assert_eq!(key_flags("sort", &[], 1), ["OW", "update"]);
        assert!(key_flags("ping", &[], 0).is_empty());
        assert_eq!(key_flags("migrate", &[], 1), ["RW", "access", "delete"]);
        let bitfield = |v: &[&str]| key_flags("bitfield", &args(&[&["bitfield", "k"], v].concat()), 0);
        assert_eq!(bitfield(&[]), ["RO", "access"]);
        assert_eq!(bitfield(&["GET", "u8", "0", "OVERFLOW", "SAT"]), ["RO", "access"]);
        assert_eq!(bitfield(&["get", "u8", "0", "set", "u8", "0", "1"]), ["RW", "access", "update"]);
        assert_eq!(bitfield(&["get", "u8"]), ["RW", "access", "update"]);
        assert!(only_not_keys("spublish") && only_not_keys("ssubscribe") && only_not_keys("sunsubscribe"));
        assert!(!only_not_keys("publish") && !only_not_keys("get") && !only_not_keys("migrate"));
        // Every command with keys has flags.
        for spec in crate::commands::TABLE.iter().filter(|s| s.first_key > 0) {
            assert!(
                // Container commands: their subcommands carry the specs.
                !key_flags(spec.name, &[], 0).is_empty()
                    || matches!(spec.name, "object" | "memory" | "xinfo" | "xgroup"),
                "{}",
                spec.name
            );
        }
    }
}
