//! `cargo xtask disk`: the Redis appliance's data disks, on the host (the
//! work is `qemu_tests::datadisk`'s).
//!
//! - `create PATH --size SIZE`: an empty, formatted data disk (raw, or
//!   qcow2 when the name ends in `.qcow2`).
//! - `info PATH`: what is on it.
//! - `export PATH [--rdb FILE] [--aof DIR]`: the dataset as a `dump.rdb`
//!   and/or a Redis 7.0 multi-part AOF directory, for real Redis.
//! - `import FILE.rdb PATH`: seeds a disk (blank, or made by `create`) with
//!   a dump from real Redis 7.0 or 6.2.

use crate::args::Args;
use crate::{Result, step};
use qemu_tests::datadisk;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(args: &mut Args) -> Result<ExitCode> {
    match args.positional().as_deref() {
        Some("create") => {
            let size = args.value("--size")?.ok_or("missing --size SIZE (for example --size 1G)")?;
            let bytes = datadisk::parse_size(&size)
                .ok_or_else(|| format!("bad --size '{size}': use for example 512M or 4G"))?;
            let path = path_arg(args, "PATH (the disk image to create)")?;
            args.finish()?;
            println!("{}", datadisk::create(&path, bytes)?);
        }
        Some("info") => {
            let path = path_arg(args, "PATH (a disk image)")?;
            args.finish()?;
            println!("{}", datadisk::info(&path)?);
        }
        Some("export") => {
            let rdb = args.value("--rdb")?.map(PathBuf::from);
            let aof = args.value("--aof")?.map(PathBuf::from);
            let path = path_arg(args, "PATH (a disk image)")?;
            args.finish()?;
            println!("{}", datadisk::export(&path, rdb.as_deref(), aof.as_deref())?);
        }
        Some("import") => {
            let rdb = path_arg(args, "FILE.rdb (a dump from Redis)")?;
            let path = path_arg(args, "PATH (the disk image to seed)")?;
            args.finish()?;
            let keys = datadisk::import(&rdb, &path)?;
            step(&format!("{}: seeded with {keys} keys from {}", path.display(), rdb.display()));
        }
        Some(other) => return Err(format!("unknown disk command '{other}': use create, info, export or import")),
        None => return Err(String::from("missing disk command: create, info, export or import")),
    }
    Ok(ExitCode::SUCCESS)
}

fn path_arg(args: &mut Args, what: &str) -> Result<PathBuf> {
    args.positional().map(PathBuf::from).ok_or_else(|| format!("missing {what}"))
}
