//! Training steps per second on the three reference runs (see `nnlab bench` and
//! benches/pytorch_reference.py for the side-by-side with PyTorch).

use criterion::{Criterion, criterion_group, criterion_main};
use nnlab::bench::REFERENCES;

fn train_steps(c: &mut Criterion) {
    for r in &REFERENCES {
        let mut trainer = r.trainer();
        trainer.collect_stats = false;
        c.bench_function(&format!("step/{}: {}", r.name, r.description), |b| {
            b.iter(|| trainer.step())
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = train_steps
}
criterion_main!(benches);
