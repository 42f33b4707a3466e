#!/usr/bin/env python3
"""Makes the HyperLogLog fixtures with real Redis 7.0: starts redis-server
(REDIS_SERVER, default "redis-server") on a Unix socket in a temporary
directory, builds each HyperLogLog below with PFADD/PFCOUNT/PFMERGE and
PFDEBUG, and writes the value GET returns to NAME.hll, and what Redis
answered to expected.txt. Needs redis-py (`pip install redis`)."""
import os, subprocess, sys, tempfile, time

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.environ.get("REDIS_SERVER", "redis-server")


def elements(prefix, n):
    return [f"{prefix}{i}" for i in range(n)]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "redis.sock")
        proc = subprocess.Popen(
            [SERVER, "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                if os.path.exists(sock):
                    break
                time.sleep(0.05)
            r = redis.Redis(unix_socket_path=sock)
            out = []

            def save(name, key):
                with open(os.path.join(HERE, name + ".hll"), "wb") as f:
                    f.write(r.get(key))

            # Sparse, cache stale (PFADD leaves it so).
            r.pfadd("abc", "a", "b", "c")
            save("sparse-abc", "abc")
            out.append(f"sparse-abc count {r.pfcount('abc')}")
            out.append(f"sparse-abc decode {r.execute_command('PFDEBUG', 'DECODE', 'abc').decode()}")
            # Sparse with a cached count.
            r.pfadd("s100", *elements("e", 100))
            out.append(f"sparse-100 count {r.pfcount('s100')}")
            save("sparse-100", "s100")
            # Dense (promoted past hll-sparse-max-bytes 3000), cached count.
            r.pfadd("d5000", *elements("e", 5000))
            out.append(f"dense-5000 encoding {r.execute_command('PFDEBUG', 'ENCODING', 'd5000').decode()}")
            out.append(f"dense-5000 count {r.pfcount('d5000')}")
            save("dense-5000", "d5000")
            # A union: sparse 100 "f" elements into a copy of the dense one.
            r.pfadd("f100", *elements("f", 100))
            out.append(f"union count {r.pfcount('d5000', 'f100')}")
            r.pfmerge("merged", "s100", "f100")
            out.append(f"merged count {r.pfcount('merged')}")
            save("merged", "merged")
            # 200000 elements: large registers, dense.
            for i in range(0, 200000, 10000):
                r.pfadd("d200k", *[f"x{j}" for j in range(i, i + 10000)])
            out.append(f"dense-200k count {r.pfcount('d200k')}")
            save("dense-200k", "d200k")
            with open(os.path.join(HERE, "expected.txt"), "w") as f:
                f.write("\n".join(out) + "\n")
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
