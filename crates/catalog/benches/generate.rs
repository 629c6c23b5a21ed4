//! Throughput of the synthetic generator (`diningcoach-cli catalog generate`), the import parser over its
//! output, and barcode parsing. Target: ≥ 50,000 generated foods/s on the 2-core machine.
//!
//! `CARGO_TARGET_DIR=/work/target-catalog cargo bench -p diningcoach-catalog --bench generate`; figures in
//! `docs/catalog.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use diningcoach_catalog::{
    Gtin, ImportFormat, generate, read_foods, write_foods_csv, write_foods_off,
};

const FOODS: u64 = 10_000;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("catalog");
    group.throughput(Throughput::Elements(FOODS));
    group.bench_function("generate 10k foods", |b| {
        b.iter(|| generate(black_box(42), FOODS).count());
    });

    let mut file = Vec::new();
    write_foods_csv(&mut file, generate(42, FOODS)).unwrap();
    group.bench_function("parse 10k csv rows", |b| {
        b.iter(|| {
            read_foods(black_box(&file[..]), ImportFormat::DiningCoachCsv)
                .unwrap()
                .filter(Result::is_ok)
                .count()
        });
    });

    let mut off = Vec::new();
    write_foods_off(&mut off, generate(42, FOODS)).unwrap();
    group.bench_function("parse 10k off rows", |b| {
        b.iter(|| {
            read_foods(black_box(&off[..]), ImportFormat::OpenFoodFacts)
                .unwrap()
                .filter(Result::is_ok)
                .count()
        });
    });

    let codes: Vec<String> = generate(42, FOODS)
        .filter_map(|f| f.gtin().map(|g| g.printed().to_owned()))
        .collect();
    group.throughput(Throughput::Elements(codes.len() as u64));
    group.bench_function("parse barcodes", |b| {
        b.iter(|| codes.iter().filter(|c| Gtin::parse(c).is_ok()).count());
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
