//! The password strength estimate on a dedicated, bounded pool of threads.
//!
//! The estimate (zxcvbn, in `roster-domain`) costs up to a few hundred milliseconds of CPU for
//! a crafted password. On an HTTP worker or a tokio core thread it stalls every request that
//! thread serves; here a fixed number of workers run it, and a bounded queue turns overload
//! into an immediate `Overloaded` (503 with `Retry-After`) instead of unbounded waiting, as
//! the argon2 pool does. The pools are separate, so a burst of estimates does not delay
//! logins, and a burst of logins does not delay estimates.
//!
//! Why the wait is bounded: each estimate is bounded in the domain (cost by construction,
//! and [`STRENGTH_BUDGET`] of time), and a job that waited longer than [`MAX_WAIT`] for a
//! worker is answered `Overloaded` without being estimated. So a burst of ordinary passwords
//! (about a millisecond each) fits in the queue, while under a flood of crafted ones every
//! request still gets an answer within about `MAX_WAIT + STRENGTH_BUDGET`.

use std::thread;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use roster_app::model::HashError;
use roster_app::ports::PasswordStrength;
use roster_domain::{PasswordProblem, PlainPassword, STRENGTH_BUDGET};
use tokio::sync::oneshot;

/// Pool sizing, from settings (`password.strength_workers`, `password.strength_queue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrengthSettings {
    /// Estimating threads (default: the number of cores, like the argon2 pool; each estimate
    /// is short and bounded, and the request threads are separate threads, so they still get
    /// their share of the CPU).
    pub workers: usize,
    /// Jobs that may wait for a worker before new ones are refused as overloaded.
    pub queue_capacity: usize,
}

/// The longest a job waits for a worker before it is answered `Overloaded` unestimated.
pub const MAX_WAIT: Duration = Duration::from_millis(500);

impl Default for StrengthSettings {
    fn default() -> Self {
        let workers = thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            workers,
            queue_capacity: 16 * workers,
        }
    }
}

/// Invalid strength pool settings.
#[derive(Debug, thiserror::Error)]
pub enum StrengthConfigError {
    #[error("password strength workers and queue capacity must be at least 1")]
    Pool,
    #[error("could not start password strength thread: {0}")]
    Spawn(std::io::Error),
}

struct Job {
    password: PlainPassword,
    user_inputs: Vec<String>,
    queued_at: Instant,
    reply: oneshot::Sender<Result<Option<PasswordProblem>, HashError>>,
}

/// The `PasswordStrength` adapter. Dropping it closes the queue and the workers exit.
#[derive(Debug)]
pub struct StrengthPool {
    queue: Sender<Job>,
}

impl StrengthPool {
    /// Starts the workers.
    ///
    /// # Errors
    /// Zero workers or capacity, or a thread that cannot be spawned.
    pub fn start(settings: StrengthSettings) -> Result<Self, StrengthConfigError> {
        Self::with_budget(settings, STRENGTH_BUDGET)
    }

    fn with_budget(
        settings: StrengthSettings,
        budget: Duration,
    ) -> Result<Self, StrengthConfigError> {
        if settings.workers == 0 || settings.queue_capacity == 0 {
            return Err(StrengthConfigError::Pool);
        }
        let (queue, jobs) = crossbeam_channel::bounded::<Job>(settings.queue_capacity);
        for index in 0..settings.workers {
            let jobs = jobs.clone();
            thread::Builder::new()
                .name(format!("strength-{index}"))
                .spawn(move || run(&jobs, budget))
                .map_err(StrengthConfigError::Spawn)?;
        }
        Ok(Self { queue })
    }

    /// Jobs waiting for a worker (for metrics).
    pub fn queue_depth(&self) -> usize {
        self.queue.len()
    }
}

fn overloaded() -> HashError {
    HashError::Overloaded {
        retry_after_secs: 1,
    }
}

fn run(jobs: &Receiver<Job>, budget: Duration) {
    while let Ok(job) = jobs.recv() {
        // A caller that went away (a dropped request) still costs this estimate: the queue
        // bound, not cancellation, is what limits the work.
        if job.reply.is_closed() {
            continue;
        }
        if job.queued_at.elapsed() > MAX_WAIT {
            let _ = job.reply.send(Err(overloaded()));
            continue;
        }
        let inputs: Vec<&str> = job.user_inputs.iter().map(String::as_str).collect();
        let _ = job.reply.send(Ok(job.password.weakness(&inputs, budget)));
    }
}

#[async_trait]
impl PasswordStrength for StrengthPool {
    async fn weakness(
        &self,
        password: &PlainPassword,
        user_inputs: Vec<String>,
    ) -> Result<Option<PasswordProblem>, HashError> {
        let (reply, answer) = oneshot::channel();
        // The worker needs its own copy; normalizing a normalized password changes nothing.
        let job = Job {
            password: PlainPassword::new(password.expose()),
            user_inputs,
            queued_at: Instant::now(),
            reply,
        };
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                // Not a warning: anyone can fill the queue, and each refusal is a 503 that the
                // HTTP metrics count already.
                tracing::debug!("password strength queue full");
                return Err(overloaded());
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(HashError::Internal("strength workers stopped".into()));
            }
        }
        answer
            .await
            .map_err(|_| HashError::Internal("strength worker dropped the job".into()))?
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn estimates_on_the_pool_like_the_domain() {
        let pool = StrengthPool::start(StrengthSettings {
            workers: 1,
            queue_capacity: 2,
        })
        .unwrap();
        let strong = PlainPassword::new("quartz-lantern-fjord-obelisk-9");
        assert_eq!(pool.weakness(&strong, Vec::new()).await, Ok(None));
        let weak = pool
            .weakness(&PlainPassword::new("passwordpassword"), Vec::new())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(weak.code(), "weak_password");
        // The user's own data: strong on its own, refused as theirs.
        let own = PlainPassword::new("Xk9#mQ2vLz7!pW4r");
        assert_eq!(pool.weakness(&own, Vec::new()).await, Ok(None));
        let personal = pool
            .weakness(&own, vec!["xk9#mq2vlz7!pw4r@example.com".to_owned()])
            .await
            .unwrap();
        assert_eq!(personal.map(|p| p.code()), Some("weak_password"));
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once_as_overloaded() {
        // One worker, a queue of one, a burst of 20 crafted passwords: most are refused.
        let pool = Arc::new(
            StrengthPool::start(StrengthSettings {
                workers: 1,
                queue_capacity: 1,
            })
            .unwrap(),
        );
        let crafted = "p@$$w0rd|0v3(00k!3{0ff33[h@r|!3<@|!3n+!99er7!6er5h@d0wdr@90nm0nk3y%b0%\
            2!pp3r8@5k3+4ng3|p@$$w0rd|0v3(00k!3{0ff33[h@r|!3<@|!3n+!99";
        let burst: Vec<_> = (0..20)
            .map(|_| {
                let pool = Arc::clone(&pool);
                tokio::spawn(async move {
                    pool.weakness(&PlainPassword::new(crafted), Vec::new())
                        .await
                })
            })
            .collect();
        let (mut overloaded, mut answered) = (0, 0);
        for task in burst {
            match task.await.unwrap() {
                Ok(_) => answered += 1,
                Err(HashError::Overloaded { retry_after_secs }) => {
                    assert!(retry_after_secs >= 1);
                    overloaded += 1;
                }
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert!(answered >= 1, "some work must be done");
        assert!(overloaded >= 10, "queue bound not enforced: {overloaded}");
    }

    #[tokio::test]
    async fn a_job_that_waited_too_long_is_overloaded_unestimated() {
        let pool = StrengthPool::start(StrengthSettings {
            workers: 1,
            queue_capacity: 4,
        })
        .unwrap();
        let (reply, answer) = oneshot::channel();
        pool.queue
            .try_send(Job {
                password: PlainPassword::new("quartz-lantern-fjord-obelisk-9"),
                user_inputs: Vec::new(),
                queued_at: Instant::now().checked_sub(2 * MAX_WAIT).unwrap(),
                reply,
            })
            .unwrap();
        assert_eq!(
            answer.await.unwrap(),
            Err(HashError::Overloaded {
                retry_after_secs: 1
            })
        );
    }

    #[tokio::test]
    async fn an_exhausted_budget_counts_as_weak() {
        let pool = StrengthPool::with_budget(
            StrengthSettings {
                workers: 1,
                queue_capacity: 1,
            },
            Duration::ZERO,
        )
        .unwrap();
        let answer = pool
            .weakness(
                &PlainPassword::new("quartz-lantern-fjord-obelisk-9"),
                Vec::new(),
            )
            .await
            .unwrap();
        assert_eq!(answer.map(|p| p.code()), Some("weak_password"));
    }

    #[test]
    fn settings_are_checked() {
        let zero = StrengthSettings {
            workers: 0,
            queue_capacity: 1,
        };
        assert!(matches!(
            StrengthPool::start(zero),
            Err(StrengthConfigError::Pool)
        ));
        let defaults = StrengthSettings::default();
        assert!(defaults.workers >= 1 && defaults.queue_capacity >= defaults.workers);
    }
}
