#!/usr/bin/env python3
"""Converts the Bitbrains GWA-T-12 trace into a virtplan project, for benchmarks.

Usage: python3 bench/convert_trace.py [TARBALL] [OUTDIR]

TARBALL defaults to ../shared/data/bitbrains-rnd-2013-07.tar.gz (relative to
the repository), OUTDIR to target/bitbrains. The output is never committed:
it is cut from data that must stay in ../shared.

Each VM of the trace becomes a server with its own measurement file in
virtplan's CSV format (metrics/<n>.csv) and a KDL entry in servers.kdl,
plus estate.kdl with a project, a platform, a host model and a cluster.
Conversions (the trace's KB are taken as KiB):
  cpu_ghz    = CPU usage [MHz] / 1000
  mem_gib    = Memory usage [KB] / 1024^2
  disk_mb_s  = (disk read + write [KB/s]) * 1024 / 1e6
  net_mbit_s = (network received + transmitted [KB/s]) * 1024 * 8 / 1e6
The trace has no IOPS. Its timestamps are Unix seconds. Servers take their
provisioned cores and memory; a VM reporting 0 cores or 0 memory is given 1
core or 1 GiB, as a user fixing an export would, and the row data is kept as
measured (so virtplan's own checks see what the trace holds).
"""

import os
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARBALL = os.path.join(ROOT, "..", "shared", "data", "bitbrains-rnd-2013-07.tar.gz")
OUTDIR = os.path.join(ROOT, "target", "bitbrains")


def fmt(x):
    """A number with at most 3 decimals, trailing zeros removed."""
    s = "%.3f" % x
    s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def convert(tarball, outdir):
    os.makedirs(os.path.join(outdir, "metrics"), exist_ok=True)
    servers = []
    with tarfile.open(tarball, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(".csv")]
        members.sort(key=lambda m: int(os.path.basename(m.name)[:-4]))
        for m in members:
            n = os.path.basename(m.name)[:-4]
            data = tar.extractfile(m)
            if data is None:
                continue
            lines = data.read().decode("utf-8", "replace").splitlines()
            cores, cap_mhz, mem_kb = 0, 0.0, 0.0
            out = ["timestamp,cpu_ghz,mem_gib,disk_mb_s,net_mbit_s"]
            for line in lines[1:]:
                f = [x.strip() for x in line.split(";")]
                if len(f) < 11:
                    continue
                try:
                    ts = int(float(f[0]))
                    c, cap, use = int(float(f[1])), float(f[2]), float(f[3])
                    mcap, muse = float(f[5]), float(f[6])
                    dr, dw, nr, nt = float(f[7]), float(f[8]), float(f[9]), float(f[10])
                except ValueError:
                    continue
                cores, cap_mhz, mem_kb = max(cores, c), max(cap_mhz, cap), max(mem_kb, mcap)
                out.append(
                    "%d,%s,%s,%s,%s"
                    % (
                        ts,
                        fmt(use / 1000.0),
                        fmt(muse / 1024.0 / 1024.0),
                        fmt((dr + dw) * 1024 / 1e6),
                        fmt((nr + nt) * 1024 * 8 / 1e6),
                    )
                )
            with open(os.path.join(outdir, "metrics", n + ".csv"), "w") as w:
                w.write("\n".join(out) + "\n")
            cores = max(cores, 1)
            clock_mhz = cap_mhz / cores if cap_mhz > 0 else 2000.0
            mem_gib = max(1, int(round(mem_kb / 1024 / 1024))) if mem_kb > 0 else 1
            servers.append((n, cores, clock_mhz, mem_gib))
    with open(os.path.join(outdir, "estate.kdl"), "w") as w:
        w.write(
            'project "bitbrains" {\n    currency "EUR"\n    timezone "UTC"\n}\n'
            'platform "esxi" {\n    vms-per-core 8\n    vcpu-per-core 4\n    cpu-overhead "8%"\n'
            '    io-overhead "10%"\n    memory-overhead-per-vm "512MiB"\n}\n'
            'host-model "r660" {\n    sockets 2\n    cores-per-socket 8\n    clock "2.6GHz"\n'
            '    memory "256GiB"\n    storage-iops 250000\n    storage-throughput "8000MB/s"\n'
            '    network "25Gbps"\n    price 32000\n}\n'
            'cluster "trace" {\n    platform "esxi"\n    host-model "r660"\n    failures-to-tolerate 1\n}\n'
        )
    with open(os.path.join(outdir, "servers.kdl"), "w") as w:
        for n, cores, clock_mhz, mem_gib in servers:
            w.write(
                'server "vm%s" {\n    sockets 1\n    cores-per-socket %d\n    clock "%sMHz"\n'
                '    memory "%dGiB"\n    metrics "metrics/%s.csv"\n}\n' % (n, cores, fmt(clock_mhz), mem_gib, n)
            )
    return len(servers)


def main():
    tarball = sys.argv[1] if len(sys.argv) > 1 else TARBALL
    outdir = sys.argv[2] if len(sys.argv) > 2 else OUTDIR
    if not os.path.exists(tarball):
        print("skipped: %s not found (the trace lives in ../shared/data)" % tarball)
        return 0
    count = convert(tarball, outdir)
    print("wrote %d servers to %s" % (count, outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
