#!/usr/bin/env python3
"""Durable 8 KiB writes per second into written space of one file (like the
log's zeroed segments), each `pwrite` followed by `fdatasync`, from 1, 2 and 4
threads at once: shows whether this disk overlaps fsyncs, which decides
whether a group commit with more than one fsync in flight could help.

    python3 bench/fsync-parallel.py [DIR]     # default /var/tmp (the local disk)
"""
import os
import sys
import threading
import time

SIZE = 64 << 20
WRITE = 8192
TOTAL = 1500


def main():
    path = os.path.join(sys.argv[1] if len(sys.argv) > 1 else "/var/tmp", "fsync-parallel.dat")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.pwrite(fd, b"\0" * SIZE, 0)
        os.fsync(fd)

        def writer(k, n, results):
            latencies = []
            block = b"x" * WRITE
            for i in range(n):
                offset = (k * (SIZE // 4) + i * WRITE) % (SIZE - WRITE)
                started = time.perf_counter()
                os.pwrite(fd, block, offset)
                os.fdatasync(fd)
                latencies.append(time.perf_counter() - started)
            results[k] = latencies

        for threads in (1, 2, 4, 1, 2, 4):
            n = TOTAL // threads
            results = {}
            workers = [threading.Thread(target=writer, args=(k, n, results)) for k in range(threads)]
            started = time.perf_counter()
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            elapsed = time.perf_counter() - started
            latencies = sorted(x for v in results.values() for x in v)
            print(
                f"threads {threads}: {threads * n / elapsed:6.0f} durable writes/s, "
                f"p50 {latencies[len(latencies) // 2] * 1e6:4.0f} µs, "
                f"p99 {latencies[int(len(latencies) * 0.99)] * 1e6:4.0f} µs"
            )
    finally:
        os.close(fd)
        os.unlink(path)


if __name__ == "__main__":
    main()
