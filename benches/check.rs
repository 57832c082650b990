//! Benchmark: `check` of a generated 10,000-server estate in 100 files.
//!
//! Run with `cargo bench --bench check`. Prints the median and spread of
//! several runs; the target is a median under one second on 2 cores.
//! The estate is generated in memory, deterministically: 100 files of 100
//! servers each, using classes, dependencies, tags and windows, plus one
//! file with the project, platform, host models, clusters and classes.

use std::time::Instant;

use virtplan::source::MemorySource;

fn estate(servers: usize, files: usize) -> MemorySource {
    let mut src = MemorySource::new();
    let mut head = String::from(
        "project \"bench\" {\n    currency \"EUR\"\n    timezone \"UTC\"\n    horizon-years 5\n}\n\
         platform \"esxi\" {\n    vms-per-core 8\n    vcpu-per-core 4\n    cpu-overhead \"8%\"\n    io-overhead \"15%\"\n    memory-overhead-per-vm \"512MiB\"\n}\n\
         host-model \"big\" {\n    sockets 2\n    cores-per-socket 32\n    clock \"2.8GHz\"\n    memory \"1TiB\"\n    storage-iops 200000\n    storage-throughput \"4000MB/s\"\n    network \"25Gbps\"\n    price 30000\n}\n\
         cluster \"prod\" {\n    platform \"esxi\"\n    host-model \"big\"\n    failures-to-tolerate 1\n}\n\
         cluster \"test\" {\n    platform \"esxi\"\n    host-model \"big\"\n}\n",
    );
    for c in 0..10 {
        let cluster = if c % 3 == 0 { "test" } else { "prod" };
        head.push_str(&format!(
            "class \"class{c}\" {{\n    sockets 2\n    cores-per-socket {}\n    clock \"2.4GHz\"\n    memory \"{}GiB\"\n    disk-size \"500GB\"\n    os \"linux\" edition=\"rhel8\"\n    cluster \"{cluster}\"\n    window \"sat 22:00-sun 06:00\"\n    criticality \"medium\"\n}}\n",
            4 + c % 4 * 2,
            16 << (c % 4)
        ));
    }
    src = src.with("estate.kdl", head);
    let per_file = servers / files;
    for f in 0..files {
        let mut text = String::new();
        for i in 0..per_file {
            let n = f * per_file + i;
            text.push_str(&format!(
                "server \"srv{n:05}\" class=\"class{}\" {{\n    disk-used \"{}GB\"\n    tags \"app{}\" \"{}\"\n    owner \"team{}\"\n",
                n % 10,
                40 + n % 200,
                n % 50,
                if n.is_multiple_of(7) { "pci" } else { "corp" },
                n % 20
            ));
            if n > 0 {
                text.push_str(&format!("    depends-on \"srv{:05}\"\n", (n * 7919) % n));
            }
            text.push_str("}\n");
        }
        src = src.with(&format!("servers{f:03}.kdl"), text);
    }
    src
}

fn main() {
    let src = estate(10_000, 100);
    let bytes: usize = src.files.values().map(Vec::len).sum();
    let runs = 7;
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let compiled = virtplan::check(&src);
        times.push(start.elapsed().as_secs_f64());
        assert!(
            !compiled.diags.has_errors(),
            "the generated estate must check clean"
        );
        assert_eq!(compiled.model.map(|m| m.servers.len()), Some(10_000));
    }
    times.sort_by(f64::total_cmp);
    println!(
        "check: 10000 servers in 100 files ({:.1} MB): median {:.3} s, min {:.3} s, max {:.3} s over {runs} runs",
        bytes as f64 / 1e6,
        times[runs / 2],
        times[0],
        times[runs - 1]
    );
}
