//! argon2id on a dedicated, bounded pool of threads.
//!
//! Why not `spawn_blocking`: a large shared blocking pool lets many 19 MiB hashes run at once
//! and glibc keeps the freed arenas, so RSS grows to gigabytes under a registration burst. Here
//! a fixed number of workers each own one preallocated block buffer, reused for every hash
//! (no page faults per hash), and a bounded queue turns overload into an immediate
//! `Overloaded` instead of unbounded waiting. A job that still waited longer than
//! `max_queue_wait` (default [`MAX_QUEUE_WAIT`]) for a worker is answered `Overloaded` unhashed, so that a request making
//! several hashing calls (a password change: verify, then hash) is answered within seconds
//! however the queue is sized.

use std::thread;
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use password_hash::{Output, ParamsString, PasswordHash as PhcHash, SaltString};
use rand::rngs::OsRng;
use roster_app::model::{HashError, PasswordHash};
use roster_app::ports::PasswordHasher;
use roster_domain::PlainPassword;
use tokio::sync::oneshot;

/// Length of the derived key, in bytes.
const OUTPUT_LEN: usize = 32;

/// argon2id cost parameters and pool sizing, from settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Settings {
    /// Memory per hash in KiB (OWASP / contract default 19456 = 19 MiB).
    pub memory_kib: u32,
    /// Passes over memory (default 2).
    pub iterations: u32,
    /// Lanes (default 1).
    pub parallelism: u32,
    /// Hashing threads (default: number of cores).
    pub workers: usize,
    /// Jobs that may wait for a worker before new ones are refused as overloaded.
    pub queue_capacity: usize,
    /// A job that waited longer for a worker is answered overloaded, unhashed.
    pub max_queue_wait: Duration,
}

impl Default for Argon2Settings {
    fn default() -> Self {
        let workers = thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            workers,
            queue_capacity: 16 * workers,
            max_queue_wait: MAX_QUEUE_WAIT,
        }
    }
}

/// Invalid argon2 settings.
#[derive(Debug, thiserror::Error)]
pub enum HasherConfigError {
    #[error("invalid argon2 parameters: {0}")]
    Params(argon2::Error),
    #[error("argon2 workers and queue capacity must be at least 1")]
    Pool,
    #[error("could not start hashing thread: {0}")]
    Spawn(std::io::Error),
    #[error("could not compute the dummy hash: {0}")]
    Dummy(String),
}

/// The default longest wait of a job for a hashing worker before it is answered `Overloaded`.
pub const MAX_QUEUE_WAIT: Duration = Duration::from_millis(500);

enum Job {
    Hash {
        password: PlainPassword,
        reply: oneshot::Sender<Result<PasswordHash, HashError>>,
    },
    Verify {
        password: PlainPassword,
        stored: PasswordHash,
        reply: oneshot::Sender<Result<bool, HashError>>,
    },
}

/// The `PasswordHasher` adapter. Dropping it closes the queue and the workers exit.
#[derive(Debug)]
pub struct Argon2Hasher {
    queue: Sender<(Instant, Job)>,
    /// A hash of a random password, verified against when the email is unknown.
    dummy: PasswordHash,
}

impl Argon2Hasher {
    /// Starts the workers and computes the dummy hash (one hash at start-up).
    ///
    /// # Errors
    /// Invalid parameters or a thread that cannot be spawned.
    pub fn start(settings: Argon2Settings) -> Result<Self, HasherConfigError> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            Some(OUTPUT_LEN),
        )
        .map_err(HasherConfigError::Params)?;
        if settings.workers == 0 || settings.queue_capacity == 0 {
            return Err(HasherConfigError::Pool);
        }
        let (queue, jobs) = crossbeam_channel::bounded::<(Instant, Job)>(settings.queue_capacity);
        for index in 0..settings.workers {
            let jobs = jobs.clone();
            let params = params.clone();
            thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || Worker::new(params).run(&jobs, settings.max_queue_wait))
                .map_err(HasherConfigError::Spawn)?;
        }
        let mut worker = Worker::new(params);
        let mut random = [0u8; 32];
        rand::RngCore::fill_bytes(&mut OsRng, &mut random);
        let dummy = worker
            .hash(&hex::encode(random))
            .map_err(|e| HasherConfigError::Dummy(e.to_string()))?;
        Ok(Self { queue, dummy })
    }

    /// Jobs waiting for a worker (for metrics).
    pub fn queue_depth(&self) -> usize {
        self.queue.len()
    }

    fn submit(&self, job: Job) -> Result<(), HashError> {
        match self.queue.try_send((Instant::now(), job)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(overloaded()),
            Err(TrySendError::Disconnected(_)) => {
                Err(HashError::Internal("hashing workers stopped".into()))
            }
        }
    }
}

fn overloaded() -> HashError {
    HashError::Overloaded {
        retry_after_secs: 1,
    }
}

fn worker_gone<T>(_: T) -> HashError {
    HashError::Internal("hashing worker dropped the job".into())
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: PlainPassword) -> Result<PasswordHash, HashError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash { password, reply })?;
        answer.await.map_err(worker_gone)?
    }

    async fn verify(
        &self,
        password: PlainPassword,
        stored: Option<PasswordHash>,
    ) -> Result<bool, HashError> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy.clone());
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify {
            password,
            stored,
            reply,
        })?;
        let matched = answer.await.map_err(worker_gone)??;
        Ok(known && matched)
    }
}

/// One hashing thread and the memory it reuses for every hash.
struct Worker {
    params: Params,
    blocks: Vec<Block>,
}

impl Worker {
    fn new(params: Params) -> Self {
        let blocks = vec![Block::default(); params.block_count()];
        Self { params, blocks }
    }

    fn run(mut self, jobs: &Receiver<(Instant, Job)>, max_wait: Duration) {
        while let Ok((queued_at, job)) = jobs.recv() {
            if queued_at.elapsed() > max_wait {
                match job {
                    Job::Hash { reply, .. } => {
                        let _ = reply.send(Err(overloaded()));
                    }
                    Job::Verify { reply, .. } => {
                        let _ = reply.send(Err(overloaded()));
                    }
                }
                continue;
            }
            match job {
                Job::Hash { password, reply } => {
                    let _ = reply.send(self.hash(password.expose()));
                }
                Job::Verify {
                    password,
                    stored,
                    reply,
                } => {
                    let _ = reply.send(self.verify(password.expose(), &stored));
                }
            }
        }
    }

    fn compute(
        &mut self,
        algorithm: Algorithm,
        version: Version,
        params: &Params,
        password: &str,
        salt: &[u8],
    ) -> Result<[u8; OUTPUT_LEN], HashError> {
        let needed = params.block_count();
        if self.blocks.len() < needed {
            self.blocks.resize(needed, Block::default());
        }
        let mut out = [0u8; OUTPUT_LEN];
        Argon2::new(algorithm, version, params.clone())
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut out,
                &mut self.blocks[..needed],
            )
            .map_err(|e| HashError::Internal(format!("argon2: {e}")))?;
        Ok(out)
    }

    fn hash(&mut self, password: &str) -> Result<PasswordHash, HashError> {
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_buf = [0u8; 64];
        let salt_bytes = salt
            .decode_b64(&mut salt_buf)
            .map_err(|e| HashError::Internal(e.to_string()))?;
        let params = self.params.clone();
        let out = self.compute(
            Algorithm::Argon2id,
            Version::V0x13,
            &params,
            password,
            salt_bytes,
        )?;
        let phc = PhcHash {
            algorithm: argon2::ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params)
                .map_err(|e| HashError::Internal(e.to_string()))?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| HashError::Internal(e.to_string()))?),
        };
        Ok(PasswordHash::new(phc.to_string()))
    }

    fn verify(&mut self, password: &str, stored: &PasswordHash) -> Result<bool, HashError> {
        let malformed = |e: password_hash::Error| HashError::Internal(format!("stored hash: {e}"));
        let phc = PhcHash::new(stored.as_str()).map_err(malformed)?;
        let algorithm =
            Algorithm::try_from(phc.algorithm).map_err(|e| HashError::Internal(e.to_string()))?;
        let version = phc
            .version
            .map_or(Ok(Version::V0x13), Version::try_from)
            .map_err(|e| HashError::Internal(e.to_string()))?;
        let params = Params::try_from(&phc).map_err(malformed)?;
        let expected = phc
            .hash
            .ok_or_else(|| HashError::Internal("stored hash has no output".into()))?;
        let mut salt_buf = [0u8; 64];
        let salt = phc
            .salt
            .ok_or_else(|| HashError::Internal("stored hash has no salt".into()))?;
        let salt_bytes = salt.decode_b64(&mut salt_buf).map_err(malformed)?;
        if expected.len() != OUTPUT_LEN {
            return Err(HashError::Internal(
                "stored hash has an unexpected length".into(),
            ));
        }
        let out = self.compute(algorithm, version, &params, password, salt_bytes)?;
        // `Output` compares in constant time.
        Ok(Output::new(&out).map_err(malformed)? == expected)
    }
}

#[cfg(test)]
mod tests {
    use argon2::PasswordVerifier;

    use super::*;

    fn cheap() -> Argon2Settings {
        Argon2Settings {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
            workers: 2,
            queue_capacity: 8,
            max_queue_wait: MAX_QUEUE_WAIT,
        }
    }

    #[tokio::test]
    async fn hash_then_verify_round_trips_and_rejects_wrong_password() {
        let hasher = Argon2Hasher::start(cheap()).unwrap();
        let hash = hasher
            .hash(PlainPassword::new("a long enough passphrase"))
            .await
            .unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(!hash.as_str().contains("passphrase"));
        assert!(
            hasher
                .verify(
                    PlainPassword::new("a long enough passphrase"),
                    Some(hash.clone())
                )
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(PlainPassword::new("a long enough passphrasE"), Some(hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn default_parameters_produce_hashes_the_reference_crate_accepts() {
        let hasher = Argon2Hasher::start(Argon2Settings {
            workers: 1,
            queue_capacity: 1,
            max_queue_wait: MAX_QUEUE_WAIT,
            ..Argon2Settings::default()
        })
        .unwrap();
        let hash = hasher
            .hash(PlainPassword::new("production parameters here"))
            .await
            .unwrap();
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_str()
        );
        let parsed = PhcHash::new(hash.as_str()).unwrap();
        Argon2::default()
            .verify_password(b"production parameters here", &parsed)
            .unwrap();
    }

    #[tokio::test]
    async fn verifies_hashes_made_by_the_reference_crate_with_other_parameters() {
        use argon2::PasswordHasher as _;
        let params = Params::new(2048, 1, 1, None).unwrap();
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"made elsewhere", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        let hasher = Argon2Hasher::start(cheap()).unwrap();
        assert!(
            hasher
                .verify(
                    PlainPassword::new("made elsewhere"),
                    Some(PasswordHash::new(reference))
                )
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn unknown_account_verifies_against_the_dummy_and_fails() {
        let hasher = Argon2Hasher::start(cheap()).unwrap();
        assert!(
            !hasher
                .verify(PlainPassword::new("whatever"), None)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn malformed_stored_hash_is_an_internal_error() {
        let hasher = Argon2Hasher::start(cheap()).unwrap();
        let result = hasher
            .verify(
                PlainPassword::new("x"),
                Some(PasswordHash::new("not a hash")),
            )
            .await;
        assert!(matches!(result, Err(HashError::Internal(_))));
    }

    #[tokio::test]
    async fn a_job_that_waited_too_long_is_overloaded_unhashed() {
        let hasher = Argon2Hasher::start(cheap()).unwrap();
        let (reply, answer) = oneshot::channel();
        let queued_at = Instant::now().checked_sub(2 * MAX_QUEUE_WAIT).unwrap();
        let job = Job::Hash {
            password: PlainPassword::new("waited too long"),
            reply,
        };
        hasher.queue.try_send((queued_at, job)).unwrap();
        assert_eq!(answer.await.unwrap(), Err(overloaded()));
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once_as_overloaded() {
        // One worker, a queue of one, expensive hashes: most of a burst of 20 must be refused.
        let hasher = std::sync::Arc::new(
            Argon2Hasher::start(Argon2Settings {
                memory_kib: 8192,
                iterations: 3,
                parallelism: 1,
                workers: 1,
                queue_capacity: 1,
                max_queue_wait: MAX_QUEUE_WAIT,
            })
            .unwrap(),
        );
        let burst: Vec<_> = (0..20)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.hash(PlainPassword::new("burst of work")).await })
            })
            .collect();
        let mut overloaded = 0;
        let mut completed = 0;
        for task in burst {
            match task.await.unwrap() {
                Ok(_) => completed += 1,
                Err(HashError::Overloaded { retry_after_secs }) => {
                    assert!(retry_after_secs >= 1);
                    overloaded += 1;
                }
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert!(completed >= 1, "some work must be done");
        assert!(
            overloaded >= 10,
            "queue bound not enforced: {overloaded} overloaded"
        );
    }
}
