//! The curvature thread of the desktop app: the Hessian spectrum of the training objective at the
//! θ samples the training worker hands out every k steps (each [`Job`]'s request `run` on a
//! [`JobThread`]).
//!
//! Only the newest θ matters, so a newer sample replaces one still waiting and a slow analysis
//! never builds a queue. Answers carry the step and generation they belong to.

use std::sync::Arc;

use crate::analysis::curvature::{Job, Report};

use super::job::JobThread;

/// What the curvature thread reports.
pub enum CurvatureEvent {
    /// The thread picked up the sample of this step.
    Started {
        /// Which request (newer ones replace older).
        generation: u64,
        /// The step of the sampled θ.
        step: u64,
    },
    /// The analysis finished (or failed with a one-line reason).
    Done {
        /// Which request.
        generation: u64,
        /// The step of the sampled θ.
        step: u64,
        /// The report, or why there is none.
        result: Result<Box<Report>, String>,
    },
}

/// The handle the UI keeps.
pub struct CurvatureWorker {
    thread: JobThread<Job, CurvatureEvent>,
}

impl CurvatureWorker {
    /// Start the thread (at low priority); `repaint` wakes the UI when a result is ready.
    pub fn spawn(repaint: Arc<dyn Fn() + Send + Sync>) -> CurvatureWorker {
        // A panic is reported against the job that was running; the thread keeps the last
        // job's identity for it.
        let running: Arc<std::sync::Mutex<(u64, u64)>> = Arc::default();
        let on_panic_running = running.clone();
        let thread = JobThread::spawn(
            "nnlab-curvature",
            repaint,
            move |job: Job, cancel, emit| {
                let (generation, step) = (job.generation, job.sample.step);
                if let Ok(mut r) = running.lock() {
                    *r = (generation, step);
                }
                emit(CurvatureEvent::Started { generation, step });
                let result = job.run(&mut |_| {}, cancel).map(Box::new);
                emit(CurvatureEvent::Done {
                    generation,
                    step,
                    result,
                });
            },
            move |message| {
                let (generation, step) = on_panic_running.lock().map_or((0, 0), |r| *r);
                CurvatureEvent::Done {
                    generation,
                    step,
                    result: Err(format!("the curvature analysis failed: {message}")),
                }
            },
        );
        CurvatureWorker { thread }
    }

    /// Queue a job, replacing one still waiting.
    pub fn submit(&self, job: Job) {
        self.thread.submit(job);
    }

    /// Drop a job still waiting (the experiment it belongs to is gone).
    pub fn cancel(&self) {
        self.thread.cancel();
    }

    /// The next event, if one is waiting.
    pub fn try_recv(&self) -> Option<CurvatureEvent> {
        self.thread.try_recv()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::mpsc;

    use super::*;
    use crate::analysis::curvature::{Objective, Sample};
    use crate::analysis::hessian::Method;
    use crate::data::Dataset;
    use crate::net::Network;

    #[test]
    fn answers_come_back_with_their_step_and_generation() {
        use crate::net::spec::{Init, LayerSpec, Loss, NetworkSpec};
        let spec = NetworkSpec::new(
            2,
            vec![
                LayerSpec::new(3, crate::net::Activation::Tanh),
                LayerSpec::new(1, crate::net::Activation::Identity),
            ],
        );
        let net = Network::build(&spec, Loss::Mse).unwrap();
        let theta = crate::net::init::initialise(&net, Init::XavierNormal, 1.0, 3);
        let train = Dataset {
            inputs: 2,
            x: vec![0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8],
            y: vec![0.1, -0.2, 0.3, 0.4],
            task: crate::data::spec::Task::Regression,
            classes: 0,
        };
        let objective = Arc::new(Objective { net, train });
        let (ping_tx, ping_rx) = mpsc::channel::<()>();
        let ping_tx = Mutex::new(ping_tx);
        let w = CurvatureWorker::spawn(Arc::new(move || {
            let _ = ping_tx.lock().unwrap().send(());
        }));
        let job = |step| Job {
            sample: Sample {
                objective: objective.clone(),
                theta: theta.clone(),
                step,
                lr: 0.1,
                regularization: Default::default(),
                seed: 3,
                optimizer: None,
            },
            generation: 7,
            gauss_newton: false,
        };
        w.submit(job(1));
        w.submit(job(2));
        w.submit(job(3));
        let mut done = Vec::new();
        while done.last() != Some(&3) {
            ping_rx
                .recv_timeout(std::time::Duration::from_secs(20))
                .expect("an answer");
            while let Some(e) = w.try_recv() {
                if let CurvatureEvent::Done {
                    generation,
                    step,
                    result,
                } = e
                {
                    assert_eq!(generation, 7);
                    let a = result.unwrap();
                    assert_eq!(a.method, Method::Dense);
                    assert_eq!(a.params, 13);
                    assert!(a.lambda_max >= a.lambda_min);
                    let s: f64 = a.shares[0]
                        .iter()
                        .map(|l| l.weights + l.biases + l.other)
                        .sum();
                    assert!((s - 1.0).abs() < 1e-9, "{s}");
                    done.push(step);
                }
            }
        }
        // Jobs that waited while another ran were replaced: never more answers than jobs.
        assert!(done.len() <= 3, "{done:?}");
    }
}
