#!/usr/bin/env python3
"""Generate the synthetic measurements of the virtplan examples.

Writes, in virtplan's own CSV format, two weeks of hourly samples
(2026-03-02, a Monday, to 2026-03-15, 336 rows) for

  * every measured server of examples/realistic/  -> realistic/metrics/<server>.csv
  * every measured server of examples/small/      -> small/metrics/<server>.csv

Columns: timestamp,cpu_pct,mem_gib,disk_iops,disk_mb_s,net_mbit_s
  cpu_pct     share of the server's whole CPU, 0-100
  mem_gib     memory in use, never above the installed memory
  disk_iops   disk operations per second (read + write)
  disk_mb_s   disk throughput in MB/s (read + write)
  net_mbit_s  network traffic in Mbit/s (in + out)

The output is deterministic: the same bytes on every run and every Python 3
version. Only the standard library is used; the noise comes from a seeded
xorshift64* generator and all arithmetic is basic IEEE-754 (+ - * /), so no
math-library differences can creep in.

The server tables below must agree with the KDL files (names, cores, memory,
which servers are measured). At the end the script reads the KDL files with a
few regular expressions and checks exactly that, plus that every `metrics`
path named in a KDL file exists and that the generated load really has the
intended properties (the saturated servers saturated, the others not).

Usage: python3 examples/realistic/generate_metrics.py
"""

import datetime
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.dirname(HERE)

START = datetime.datetime(2026, 3, 2, 0, 0, 0)  # a Monday, UTC
DAYS = 14
HOURS = DAYS * 24
HEADER = "timestamp,cpu_pct,mem_gib,disk_iops,disk_mb_s,net_mbit_s\n"

MASK64 = (1 << 64) - 1


class Rng:
    """xorshift64* seeded from a string: identical on every platform."""

    def __init__(self, text):
        h = 0xCBF29CE484222325  # FNV-1a 64
        for b in text.encode("utf-8"):
            h ^= b
            h = (h * 0x100000001B3) & MASK64
        self.state = h or 0x9E3779B97F4A7C15

    def next(self):
        x = self.state
        x ^= x >> 12
        x ^= (x << 25) & MASK64
        x ^= x >> 27
        self.state = x
        return (x * 0x2545F4914F6CDD1D) & MASK64

    def uniform(self):
        """A float in [0, 1)."""
        return (self.next() >> 11) / 9007199254740992.0

    def sym(self):
        """A float in [-1, 1)."""
        return 2.0 * self.uniform() - 1.0


# ---------------------------------------------------------------- daily shapes
#
# Each shape is a pair of 24-hour curves (weekday, weekend) in percent of the
# role's peak, for CPU; optionally separate curves for disk I/O and network.
# Memory follows the CPU curve between the role's low and high fractions.

OFFICE_WD = [5, 4, 4, 4, 4, 6, 15, 45, 85, 100, 100, 95, 75, 90, 100, 95, 80, 55, 30, 20, 15, 10, 8, 6]
OFFICE_WE = [4, 4, 4, 4, 4, 4, 5, 6, 8, 10, 12, 12, 12, 12, 10, 10, 8, 8, 6, 6, 5, 5, 4, 4]

SHAPES = {
    # web and application servers: business hours on weekdays
    "office": {"cpu": (OFFICE_WD, OFFICE_WE)},
    # the online shop: evenings and weekends
    "shop": {
        "cpu": (
            [25, 15, 10, 8, 8, 10, 15, 25, 35, 45, 50, 55, 60, 55, 50, 50, 55, 65, 80, 95, 100, 95, 75, 45],
            [35, 25, 15, 10, 8, 10, 15, 25, 45, 60, 70, 75, 75, 70, 70, 70, 75, 85, 95, 100, 100, 95, 80, 55],
        ),
    },
    # the shop database: shop curve, nightly vacuum and backup at 01-03
    "shopdb": {
        "cpu": (
            [25, 45, 40, 10, 8, 10, 15, 25, 35, 45, 50, 55, 60, 55, 50, 50, 55, 65, 80, 95, 100, 95, 75, 45],
            [35, 45, 40, 10, 8, 10, 15, 25, 45, 60, 70, 75, 75, 70, 70, 70, 75, 85, 95, 100, 100, 95, 80, 55],
        ),
        "io": (
            [25, 100, 90, 20, 8, 10, 15, 25, 35, 45, 50, 55, 60, 55, 50, 50, 55, 65, 80, 90, 95, 90, 70, 40],
            [35, 100, 90, 20, 8, 10, 15, 25, 45, 60, 70, 75, 75, 70, 70, 70, 75, 85, 90, 95, 95, 90, 75, 50],
        ),
    },
    # batch: the nightly jobs, every night
    "night": {
        "cpu": (
            [70, 100, 100, 95, 80, 40, 10, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 8, 15, 35],
            [40, 60, 60, 50, 30, 15, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 8, 20],
        ),
    },
    # backup: incrementals every night, fulls over the weekend
    "backup": {
        "cpu": (
            [100, 100, 100, 95, 80, 50, 20, 8, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 8, 10, 20, 45, 80, 95],
            [100, 100, 100, 100, 100, 95, 90, 80, 60, 40, 20, 10, 8, 8, 8, 8, 8, 10, 15, 30, 60, 90, 100, 100],
        ),
    },
    # databases: business hours plus the nightly maintenance (index rebuild,
    # statistics, backup) at 01-03, which is all disk
    "db": {
        "cpu": (
            [10, 55, 60, 40, 8, 8, 15, 45, 85, 100, 100, 95, 75, 90, 100, 95, 80, 55, 30, 20, 18, 15, 12, 10],
            [8, 55, 60, 40, 6, 6, 6, 7, 9, 11, 12, 12, 12, 12, 11, 10, 9, 8, 7, 7, 6, 6, 6, 6],
        ),
        "io": (
            [12, 100, 100, 70, 10, 8, 12, 35, 65, 75, 75, 70, 55, 65, 75, 70, 60, 40, 22, 15, 12, 12, 10, 10],
            [8, 100, 100, 70, 8, 6, 6, 6, 7, 8, 9, 9, 9, 9, 8, 8, 7, 7, 6, 6, 6, 6, 6, 6],
        ),
    },
    # the data warehouse: nightly loads, then the analysts all day (saturated)
    "dw": {
        "cpu": (
            [92, 100, 100, 100, 96, 85, 70, 80, 96, 100, 100, 100, 96, 100, 100, 100, 100, 96, 85, 70, 60, 55, 60, 80],
            [92, 100, 100, 100, 96, 80, 45, 30, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 30, 40, 70],
        ),
    },
    # Exchange: everybody opens their mail at 08-09; online maintenance at night
    "mail": {
        "cpu": (
            [10, 8, 8, 8, 8, 10, 25, 60, 100, 85, 65, 60, 55, 55, 60, 60, 55, 45, 30, 22, 18, 15, 12, 10],
            [8, 8, 8, 8, 8, 8, 8, 9, 10, 12, 12, 12, 12, 12, 12, 12, 11, 10, 10, 10, 9, 9, 8, 8],
        ),
        "io": (
            [12, 40, 40, 40, 40, 15, 25, 60, 100, 85, 65, 60, 55, 55, 60, 60, 55, 45, 30, 22, 18, 15, 12, 12],
            [10, 40, 40, 40, 40, 12, 10, 10, 11, 12, 12, 12, 12, 12, 12, 12, 11, 10, 10, 10, 10, 10, 10, 10],
        ),
    },
    # domain controllers: nearly idle, a logon burst at 08
    "dc": {
        "cpu": (
            [5, 5, 5, 5, 5, 5, 10, 40, 100, 50, 25, 20, 20, 25, 20, 20, 15, 10, 8, 6, 5, 5, 5, 5],
            [5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 5, 5, 5],
        ),
    },
    # monitoring, logging, licence servers: steady around the clock
    "flat": {
        "cpu": (
            [90, 90, 88, 88, 88, 90, 92, 95, 100, 100, 100, 100, 98, 100, 100, 100, 98, 95, 92, 92, 90, 90, 90, 90],
            [88, 88, 88, 88, 88, 88, 88, 88, 88, 88, 88, 88, 88, 88, 88, 88, 88, 88, 88, 88, 88, 88, 88, 88],
        ),
    },
    # WSUS: synchronises at 02-04, serves the clients in the morning
    "patch": {
        "cpu": (
            [5, 5, 60, 100, 60, 10, 10, 30, 70, 60, 40, 30, 25, 25, 25, 20, 15, 10, 8, 6, 5, 5, 5, 5],
            [5, 5, 60, 100, 60, 10, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 5, 5, 5],
        ),
    },
    # the ERP: business hours, then the evening postings at 22-00
    "erp": {
        "cpu": (
            [35, 10, 8, 8, 8, 8, 15, 45, 85, 100, 100, 95, 75, 90, 100, 95, 80, 55, 30, 20, 15, 20, 55, 60],
            [10, 5, 5, 5, 5, 5, 5, 6, 8, 10, 10, 10, 10, 10, 8, 8, 6, 6, 5, 5, 5, 5, 20, 25],
        ),
    },
    # the CI build server: compiles all working day, nightly builds (saturated)
    "build": {
        "cpu": (
            [20, 60, 60, 30, 10, 10, 15, 45, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 80, 50, 30, 20, 15, 15],
            [15, 55, 55, 25, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8],
        ),
    },
    # test and development: working hours, bursty
    "dev": {
        "cpu": (
            [3, 3, 3, 3, 3, 3, 5, 15, 50, 80, 90, 70, 40, 70, 100, 85, 60, 30, 10, 5, 4, 3, 3, 3],
            [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3],
        ),
    },
}

# ---------------------------------------------------------------- roles
#
# A role is a shape plus levels: cpu (idle %, peak %), mem (low, high share of
# installed memory), iops (idle, peak), io_kb (average I/O size, for MB/s),
# net (idle, peak Mbit/s), dayvar (day-to-day variation), burst (chance per
# hour of a short CPU burst).

ROLES = {
    "dc":         dict(shape="dc",     cpu=(2, 14),  mem=(0.30, 0.38),  iops=(15, 180),    io_kb=8,   net=(1, 25)),
    "dhcp":       dict(shape="dc",     cpu=(1, 6),   mem=(0.20, 0.24),  iops=(5, 40),      io_kb=8,   net=(0.5, 5)),
    "dns":        dict(shape="office", cpu=(2, 10),  mem=(0.18, 0.22),  iops=(5, 30),      io_kb=8,   net=(2, 40)),
    "shop-web":   dict(shape="shop",   cpu=(4, 55),  mem=(0.30, 0.45),  iops=(20, 300),    io_kb=16,  net=(10, 260)),
    "web":        dict(shape="office", cpu=(2, 40),  mem=(0.35, 0.50),  iops=(15, 200),    io_kb=16,  net=(2, 120)),
    "proxy":      dict(shape="office", cpu=(3, 35),  mem=(0.40, 0.55),  iops=(30, 450),    io_kb=16,  net=(10, 380)),
    "shop-app":   dict(shape="shop",   cpu=(6, 50),  mem=(0.45, 0.60),  iops=(30, 350),    io_kb=16,  net=(10, 200)),
    "app":        dict(shape="office", cpu=(4, 45),  mem=(0.35, 0.55),  iops=(30, 450),    io_kb=16,  net=(5, 150)),
    "esb":        dict(shape="office", cpu=(8, 50),  mem=(0.55, 0.65),  iops=(40, 600),    io_kb=16,  net=(10, 220)),
    "batch":      dict(shape="night",  cpu=(2, 70),  mem=(0.20, 0.50),  iops=(20, 1500),   io_kb=64,  net=(2, 200)),
    "db":         dict(shape="db",     cpu=(5, 55),  mem=(0.80, 0.86),  iops=(300, 6500),  io_kb=16,  net=(10, 250)),
    "dw":         dict(shape="dw",     cpu=(40, 99), mem=(0.86, 0.90),  iops=(2000, 7500), io_kb=64,  net=(20, 300), dayvar=0.02),
    "shop-db":    dict(shape="shopdb", cpu=(6, 45),  mem=(0.75, 0.82),  iops=(400, 5000),  io_kb=16,  net=(10, 220)),
    "shop-standby": dict(shape="shopdb", cpu=(3, 15), mem=(0.70, 0.75), iops=(200, 2500),  io_kb=16,  net=(8, 150)),
    "oracle":     dict(shape="db",     cpu=(8, 60),  mem=(0.78, 0.82),  iops=(500, 9000),  io_kb=16,  net=(15, 300)),
    "standby":    dict(shape="db",     cpu=(3, 15),  mem=(0.78, 0.80),  iops=(300, 4000),  io_kb=16,  net=(10, 200)),
    "mail":       dict(shape="mail",   cpu=(8, 55),  mem=(0.82, 0.88),  iops=(400, 5000),  io_kb=32,  net=(15, 300)),
    "relay":      dict(shape="mail",   cpu=(2, 25),  mem=(0.30, 0.40),  iops=(10, 200),    io_kb=8,   net=(2, 80)),
    "file":       dict(shape="office", cpu=(1, 12),  mem=(0.30, 0.55),  iops=(50, 900),    io_kb=64,  net=(5, 250)),
    "print":      dict(shape="office", cpu=(1, 10),  mem=(0.25, 0.35),  iops=(5, 120),     io_kb=32,  net=(1, 30)),
    "backup":     dict(shape="backup", cpu=(2, 60),  mem=(0.20, 0.60),  iops=(20, 3000),   io_kb=64,  net=(2, 850)),
    "monitoring": dict(shape="flat",   cpu=(10, 28), mem=(0.50, 0.55),  iops=(150, 600),   io_kb=16,  net=(10, 40)),
    "mondb":      dict(shape="flat",   cpu=(12, 35), mem=(0.60, 0.65),  iops=(800, 2200),  io_kb=16,  net=(10, 40)),
    "log-full":   dict(shape="flat",   cpu=(30, 55), mem=(0.962, 0.985), iops=(900, 2500), io_kb=32,  net=(20, 80)),
    "wsus":       dict(shape="patch",  cpu=(2, 25),  mem=(0.40, 0.50),  iops=(20, 500),    io_kb=64,  net=(2, 200)),
    "av":         dict(shape="office", cpu=(2, 15),  mem=(0.40, 0.45),  iops=(20, 200),    io_kb=16,  net=(2, 60)),
    "jump":       dict(shape="office", cpu=(1, 20),  mem=(0.20, 0.40),  iops=(10, 150),    io_kb=16,  net=(1, 30)),
    "rds":        dict(shape="office", cpu=(3, 65),  mem=(0.12, 0.70),  iops=(30, 1200),   io_kb=16,  net=(3, 180)),
    "license":    dict(shape="flat",   cpu=(1, 4),   mem=(0.15, 0.17),  iops=(2, 20),      io_kb=8,   net=(0.2, 3)),
    "pdm":        dict(shape="office", cpu=(3, 30),  mem=(0.40, 0.55),  iops=(40, 800),    io_kb=64,  net=(5, 200)),
    "erp":        dict(shape="erp",    cpu=(6, 60),  mem=(0.55, 0.75),  iops=(100, 1500),  io_kb=16,  net=(10, 200)),
    "erp-if":     dict(shape="erp",    cpu=(3, 30),  mem=(0.30, 0.45),  iops=(30, 500),    io_kb=16,  net=(5, 80)),
    "edi":        dict(shape="office", cpu=(2, 20),  mem=(0.30, 0.40),  iops=(20, 300),    io_kb=16,  net=(2, 50)),
    "mft":        dict(shape="office", cpu=(1, 12),  mem=(0.25, 0.30),  iops=(10, 250),    io_kb=64,  net=(2, 120)),
    "dev":        dict(shape="dev",    cpu=(1, 25),  mem=(0.20, 0.45),  iops=(10, 300),    io_kb=16,  net=(1, 40), dayvar=0.3, burst=0.03),
    "devdb":      dict(shape="dev",    cpu=(1, 20),  mem=(0.60, 0.70),  iops=(50, 1500),   io_kb=16,  net=(1, 40), dayvar=0.3, burst=0.03),
    "build":      dict(shape="build",  cpu=(10, 100), mem=(0.40, 0.80), iops=(100, 1400),  io_kb=32,  net=(5, 200), dayvar=0.02),
}

# Roles whose servers are meant to be saturated (flagged fix-first).
SATURATED_ROLES = {"dw", "build", "log-full"}

# ---------------------------------------------------------------- the servers
#
# (name, cores, installed memory in GiB, role or None when not measured,
#  overrides of the role's levels)

REALISTIC = [
    # directory services
    ("dc01", 8, 32, "dc", {}),
    ("dc02", 8, 32, "dc", {}),
    ("dc03", 8, 32, "dc", {"cpu": (2, 10)}),
    ("dhcp01", 8, 32, "dhcp", {}),
    ("ns01", 8, 32, "dns", {}),
    # web
    ("web01", 8, 64, "shop-web", {}),
    ("web02", 8, 64, "shop-web", {}),
    ("web03", 8, 64, "shop-web", {}),
    ("web04", 8, 32, "web", {}),
    ("web05", 8, 32, "web", {}),
    ("web06", 8, 64, "web", {"cpu": (2, 30)}),
    ("proxy01", 8, 32, "proxy", {}),
    # applications
    ("app01", 20, 128, "shop-app", {}),
    ("app02", 20, 128, "shop-app", {}),
    ("app03", 20, 128, "app", {"cpu": (6, 55)}),
    ("app04", 20, 128, "app", {"cpu": (3, 30)}),
    ("app05", 20, 128, "esb", {}),
    ("app06", 20, 128, "app", {"cpu": (2, 35)}),
    ("app07", 20, 128, "app", {"iops": (40, 900), "io_kb": 64}),
    ("batch01", 20, 128, "batch", {}),
    ("batch02", 20, 128, "batch", {"cpu": (2, 55)}),
    ("hr01", 20, 128, "app", {"cpu": (2, 25)}),
    # databases
    ("sql01", 32, 256, "db", {}),
    ("sql02", 32, 256, "db", {"cpu": (4, 40), "iops": (200, 4500)}),
    ("sql03", 32, 256, "dw", {}),
    ("pg01", 20, 192, "shop-db", {}),
    ("pg02", 20, 192, "shop-standby", {}),
    ("ora01", 32, 384, "oracle", {}),
    ("ora02", 32, 384, "standby", {}),
    # mail
    ("exch01", 20, 192, "mail", {}),
    ("exch02", 20, 192, "mail", {"cpu": (7, 50)}),
    ("smtp01", 8, 32, "relay", {}),
    # files and print
    ("fs01", 20, 64, "file", {}),
    ("fs02", 20, 64, "file", {"iops": (40, 700)}),
    ("fs03", 20, 64, "file", {"iops": (60, 1200), "net": (5, 320)}),
    ("print01", 8, 16, "print", {}),
    ("print02", 8, 16, None, {}),
    # infrastructure
    ("bkp01", 20, 128, "backup", {}),
    ("bkp02", 20, 128, "backup", {"cpu": (2, 45), "iops": (10, 2000), "io_kb": 128}),
    ("mon01", 20, 64, "monitoring", {}),
    ("mon02", 20, 64, "mondb", {}),
    ("log01", 20, 96, "log-full", {}),
    ("wsus01", 8, 32, "wsus", {}),
    ("av01", 8, 32, "av", {}),
    ("pki01", 8, 32, None, {}),
    ("jump01", 8, 32, "jump", {}),
    ("rds01", 20, 256, "rds", {}),
    ("rds02", 20, 256, "rds", {"cpu": (3, 60)}),
    # special
    ("cadlic01", 8, 32, "license", {}),
    ("cadvault01", 20, 128, "pdm", {}),
    ("fax01", 8, 32, None, {}),
    ("erp01", 24, 192, "erp", {}),
    ("erp02", 20, 128, "erp-if", {}),
    ("edi01", 20, 128, "edi", {}),
    ("mft01", 8, 32, "mft", {}),
    # test and development
    ("test-web01", 20, 64, "dev", {}),
    ("test-app01", 20, 64, "dev", {}),
    ("test-sql01", 20, 64, "devdb", {}),
    ("uat-web01", 20, 64, "dev", {"cpu": (1, 15)}),
    ("uat-app01", 20, 64, "dev", {}),
    ("uat-sql01", 20, 64, "devdb", {}),
    ("dev-app01", 20, 64, "dev", {"cpu": (1, 35)}),
    ("dev-pg01", 20, 64, None, {}),
    ("build01", 16, 64, "build", {}),
    ("test-erp01", 20, 64, "dev", {"cpu": (1, 10)}),
]

SMALL = [
    ("dc01", 8, 32, "dc", {}),
    ("file01", 8, 32, "file", {"iops": (40, 700)}),
    ("mail01", 16, 96, "mail", {"cpu": (6, 45), "iops": (200, 2500)}),
    ("sql01", 20, 128, "db", {"cpu": (4, 50), "iops": (200, 4000)}),
    ("app01", 16, 64, "erp", {"cpu": (5, 50)}),
    ("web01", 8, 16, "web", {"cpu": (2, 30)}),
    ("backup01", 12, 64, "backup", {"iops": (20, 1800), "net": (2, 900)}),
    ("mon01", 4, 16, "monitoring", {"iops": (100, 450)}),
    ("print01", 4, 16, None, {}),
    ("dev01", 16, 64, None, {}),
]

ESTATES = [
    ("realistic", REALISTIC),
    ("small", SMALL),
]


# ---------------------------------------------------------------- generation


def level(lo_hi, f):
    lo, hi = lo_hi
    return lo + (hi - lo) * f


def clip(x, lo, hi):
    return lo if x < lo else hi if x > hi else x


def fmt1(x):
    s = "%.1f" % x
    return "0.0" if s == "-0.0" else s


def series(seed, mem_gib, role, overrides):
    """The rows of one server: a list of (timestamp, cpu, mem, iops, mb_s, net)."""
    p = dict(ROLES[role])
    p.update(overrides)
    shape = SHAPES[p["shape"]]
    cpu_curves = shape["cpu"]
    io_curves = shape.get("io", cpu_curves)
    net_curves = shape.get("net", io_curves)
    dayvar = p.get("dayvar", 0.1)
    burst = p.get("burst", 0.01)
    rng = Rng(seed)
    day_factor = [1.0 + dayvar * rng.sym() for _ in range(DAYS)]
    rows = []
    for i in range(HOURS):
        day, hour = divmod(i, 24)
        weekend = day % 7 >= 5
        k = 1 if weekend else 0
        df = day_factor[day]
        fc = cpu_curves[k][hour] / 100.0
        fi = io_curves[k][hour] / 100.0
        fn = net_curves[k][hour] / 100.0

        cpu = level(p["cpu"], clip(fc * df, 0.0, 1.0)) * (1.0 + 0.06 * rng.sym()) + 0.8 * rng.sym()
        if rng.uniform() < burst:
            cpu += 5.0 + 20.0 * rng.uniform()
        cpu = clip(cpu, 0.3, 100.0)

        mem = mem_gib * (level(p["mem"], fc) + 0.005 * rng.sym())
        mem = clip(mem, 0.5, float(mem_gib))

        iops = level(p["iops"], fi * df) * (1.0 + 0.08 * rng.sym())
        iops = clip(iops, 1.0, 1.0e9)
        mb_s = iops * p["io_kb"] * (1.0 + 0.1 * rng.sym()) / 1024.0

        net = level(p["net"], fn * df) * (1.0 + 0.08 * rng.sym())
        net = clip(net, 0.1, 1.0e9)

        ts = (START + datetime.timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append((ts, fmt1(cpu), fmt1(mem), "%d" % int(iops + 0.5), fmt1(mb_s), fmt1(net)))
    return rows


def render(rows):
    return HEADER + "".join(",".join(r) + "\n" for r in rows)


def p95(values):
    """Nearest-rank 95th percentile."""
    v = sorted(values)
    return v[(95 * len(v) + 99) // 100 - 1]


# ---------------------------------------------------------------- KDL checks
#
# The KDL files are read with regular expressions only: enough for the blocks
# `defaults { ... }`, `class "x" extends="y" { ... }` and
# `server "x" class="y" { ... }` as the examples write them (one level of
# braces, the closing brace at the start of a line).

BLOCK = re.compile(r'^(server|class|defaults)\b([^{\n]*)\{[^\n]*\n(.*?)^\}', re.M | re.S)
FIELD = re.compile(r'^\s*([a-z-]+)\s+(.*?)\s*$', re.M)
METRICS = re.compile(r'^\s*metrics\s+"([^"]+)"', re.M)


def strip_comments(text):
    out = []
    for line in text.split("\n"):
        in_str = False
        cut = len(line)
        i = 0
        while i < len(line):
            c = line[i]
            if c == "\\" and in_str:
                i += 2
                continue
            if c == '"':
                in_str = not in_str
            elif not in_str and line.startswith("//", i):
                cut = i
                break
            i += 1
        out.append(line[:cut])
    return "\n".join(out)


def kdl_files(root):
    found = []
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".kdl"):
                found.append(os.path.join(d, f))
    return sorted(found)


def read_estate(root):
    """servers, classes, defaults, and metrics paths of one example directory."""
    servers, classes, defaults, metrics = {}, {}, {}, []
    for path in kdl_files(root):
        text = strip_comments(open(path, encoding="utf-8").read())
        for m in METRICS.finditer(text):
            metrics.append((path, m.group(1)))
        for kind, header, body in BLOCK.findall(text):
            fields = {}
            for key, value in FIELD.findall(body):
                fields.setdefault(key, value)
            name = re.match(r'\s*"([^"]+)"', header)
            parent = re.search(r'(?:class|extends)="([^"]+)"', header)
            fields["@parent"] = parent.group(1) if parent else None
            fields["@file"] = path
            if kind == "defaults":
                defaults = fields
            elif kind == "class":
                classes[name.group(1)] = fields
            else:
                servers[name.group(1)] = fields
    return servers, classes, defaults, metrics


def resolve(server, classes, defaults, key):
    chain = [server]
    parent = server["@parent"]
    while parent:
        chain.append(classes[parent])
        parent = classes[parent]["@parent"]
    chain.append(defaults)
    for layer in chain:
        if key in layer:
            return layer[key].strip('"')
    return None


def gib(text):
    m = re.fullmatch(r"(\d+)GiB", text)
    if not m:
        raise ValueError("memory %r is not in whole GiB" % text)
    return int(m.group(1))


def mbit(text):
    m = re.fullmatch(r"(\d+)(G|M)bps", text)
    return int(m.group(1)) * (1000 if m.group(2) == "G" else 1)


def check(estate, table, generated):
    """Problems found between the table, the KDL files and the generated data."""
    root = os.path.join(EXAMPLES, estate)
    servers, classes, defaults, metrics = read_estate(root)
    problems = []
    names = {row[0] for row in table}
    for n in sorted(set(servers) - names):
        problems.append("%s: server %s is in the KDL files but not in the table" % (estate, n))
    for n in sorted(names - set(servers)):
        problems.append("%s: server %s is in the table but not in the KDL files" % (estate, n))

    # every metrics path named in a KDL file exists
    referenced = set()
    for path, rel in metrics:
        full = os.path.normpath(os.path.join(os.path.dirname(path), rel))
        referenced.add(full)
        if not os.path.isfile(full):
            problems.append("%s: %s names %s, which does not exist" % (estate, os.path.relpath(path, EXAMPLES), rel))
    for full in sorted(set(generated) - referenced):
        problems.append("%s: %s is generated but no server names it" % (estate, os.path.relpath(full, EXAMPLES)))

    for name, cores, mem, role, _ in table:
        s = servers.get(name)
        if s is None:
            continue
        sockets = resolve(s, classes, defaults, "sockets")
        cps = resolve(s, classes, defaults, "cores-per-socket")
        kdl_cores = int(sockets) * int(cps) if sockets and cps else None
        kdl_mem = gib(resolve(s, classes, defaults, "memory"))
        if kdl_cores != cores:
            problems.append("%s: %s has %s cores in KDL, %d in the table" % (estate, name, kdl_cores, cores))
        if kdl_mem != mem:
            problems.append("%s: %s has %d GiB in KDL, %d in the table" % (estate, name, kdl_mem, mem))
        has_metrics = "metrics" in s
        if has_metrics != (role is not None):
            problems.append("%s: %s: measured in the table = %s, metrics in KDL = %s" % (estate, name, role is not None, has_metrics))
        if role is None:
            continue
        want = os.path.normpath(os.path.join(os.path.dirname(s["@file"]), s["metrics"].strip('"')))
        if want != os.path.join(root, "metrics", name + ".csv"):
            problems.append("%s: %s: metrics path %s is not metrics/%s.csv" % (estate, name, want, name))

        # the generated load has the intended properties
        rows = generated[os.path.join(root, "metrics", name + ".csv")]
        cpu95 = p95([float(r[1]) for r in rows])
        mems = [float(r[2]) for r in rows]
        iops95 = p95([float(r[3]) for r in rows])
        net95 = p95([float(r[5]) for r in rows])
        if max(mems) > mem:
            problems.append("%s: %s uses more memory than installed" % (estate, name))
        if role in SATURATED_ROLES:
            if not (cpu95 >= 90.0 or p95(mems) >= 0.95 * mem):
                problems.append("%s: %s should be saturated (cpu p95 %.1f, mem p95 %.1f of %d)" % (estate, name, cpu95, p95(mems), mem))
        else:
            if cpu95 >= 85.0 or max(mems) >= 0.93 * mem:
                problems.append("%s: %s is saturated by accident (cpu p95 %.1f, mem max %.1f of %d)" % (estate, name, cpu95, max(mems), mem))
        disk_iops = resolve(s, classes, defaults, "disk-iops")
        if disk_iops and iops95 >= 0.85 * int(disk_iops):
            problems.append("%s: %s: IOPS p95 %.0f too close to its disks' %s" % (estate, name, iops95, disk_iops))
        nic = resolve(s, classes, defaults, "nic-speed")
        if nic and net95 >= 0.85 * mbit(nic):
            problems.append("%s: %s: network p95 %.0f too close to its NIC's %s" % (estate, name, net95, nic))
    return problems


def main():
    problems = []
    total = 0
    for estate, table in ESTATES:
        out_dir = os.path.join(EXAMPLES, estate, "metrics")
        os.makedirs(out_dir, exist_ok=True)
        generated = {}
        for name, cores, mem, role, overrides in table:
            if role is None:
                continue
            rows = series(estate + "/" + name, mem, role, overrides)
            path = os.path.join(out_dir, name + ".csv")
            data = render(rows).encode("ascii")
            with open(path, "wb") as f:
                f.write(data)
            generated[path] = rows
            total += len(data)
        # remove stale files of servers no longer measured
        for f in sorted(os.listdir(out_dir)):
            full = os.path.join(out_dir, f)
            if f.endswith(".csv") and full not in generated:
                os.remove(full)
        problems += check(estate, table, generated)
        print("%s: %d servers, %d measured" % (estate, len(table), len(generated)))
    print("wrote %d bytes of CSV" % total)
    if problems:
        for p in problems:
            print("PROBLEM: " + p, file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
