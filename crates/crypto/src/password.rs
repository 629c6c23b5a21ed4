use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use diningcoach_identity::ports::{PasswordCheck, PasswordHasher};
use diningcoach_identity::{IdentityError, Password, PasswordHash};
use diningcoach_kernel::InfraError;
use tokio::sync::Semaphore;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl HashingParams {
    /// OWASP's recommendation for argon2id: m = 19 MiB, t = 2, p = 1.
    pub const OWASP: HashingParams = HashingParams {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };
}

/// Hashes with argon2id. Each hash takes ~20 ms of one core and 19 MiB, so hashes run on threads of their own
/// (never on the async executor, where they would stall every other request) and a semaphore caps how many run at
/// once, which queues the excess under a flood of logins instead of thrashing.
///
/// The threads are a fixed set, one per slot, rather than tokio's blocking pool: glibc keeps a freed 19 MiB buffer
/// in the arena of the thread that used it, and the blocking pool's threads come and go, so memory grew with every
/// new thread (1.1 GB after a sign-up benchmark). A fixed set reuses its buffers: about slots × 19 MiB.
pub struct Argon2Hasher {
    params: HashingParams,
    jobs: Sender<HashJob>,
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when the account does not exist.
    decoy: String,
}

type HashJob = Box<dyn FnOnce(&Argon2<'static>) + Send>;

/// Starts `slots` hashing threads sharing one queue; they end when the queue's sender is dropped.
fn hashing_threads(
    argon2: &Argon2<'static>,
    slots: usize,
) -> Result<Sender<HashJob>, IdentityError> {
    let (sender, receiver) = channel::<HashJob>();
    let receiver = Arc::new(Mutex::new(receiver));
    for n in 0..slots {
        let receiver: Arc<Mutex<Receiver<HashJob>>> = receiver.clone();
        let argon2 = argon2.clone();
        std::thread::Builder::new()
            .name(format!("argon2-{n}"))
            .spawn(move || {
                loop {
                    let job = match receiver.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(&argon2),
                        Err(_) => return,
                    }
                }
            })
            .map_err(fault)?;
    }
    Ok(sender)
}

fn fault(error: impl std::fmt::Display) -> IdentityError {
    IdentityError::Infra(InfraError::Fault(format!("password hashing: {error}")))
}

impl Argon2Hasher {
    pub fn new(params: HashingParams, max_concurrent: usize) -> Result<Self, IdentityError> {
        let argon2_params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(fault)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2_params);
        let decoy = argon2
            .hash_password(b"decoy password that no user has")
            .map_err(fault)?
            .to_string();
        let slots = max_concurrent.max(1);
        Ok(Self {
            params,
            jobs: hashing_threads(&argon2, slots)?,
            permits: Arc::new(Semaphore::new(slots)),
            decoy,
        })
    }

    /// Runs `work` on a hashing thread once a permit is free.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T, IdentityError> {
        let _permit = self.permits.acquire().await.map_err(fault)?;
        let (done, result) = tokio::sync::oneshot::channel();
        let job: HashJob = Box::new(move |argon2| {
            // The caller may have gone (a closed connection): nobody to tell.
            let _ = done.send(work(argon2));
        });
        self.jobs.send(job).map_err(fault)?;
        result.await.map_err(fault)
    }

    /// True when `phc` was made with other parameters (or another algorithm) than today's.
    fn is_outdated(&self, phc: &str) -> bool {
        let mut parts = phc.split('$').skip(1);
        let (Some(algorithm), Some(_version), Some(params)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return true;
        };
        let expected = format!(
            "m={},t={},p={}",
            self.params.memory_kib, self.params.iterations, self.params.parallelism
        );
        algorithm != "argon2id" || params != expected
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, IdentityError> {
        let password = password.expose().to_owned();
        let phc = self
            .blocking(move |argon2| {
                argon2
                    .hash_password(password.as_bytes())
                    .map(|h| h.to_string())
            })
            .await?
            .map_err(fault)?;
        Ok(PasswordHash::new(phc))
    }

    async fn verify(
        &self,
        password: &Password,
        hash: &PasswordHash,
    ) -> Result<PasswordCheck, IdentityError> {
        let password = password.expose().to_owned();
        let phc = hash.as_str().to_owned();
        // The stored hash's own parameters are used, so older hashes still verify.
        let matched = self
            .blocking(move |argon2| {
                argon2
                    .verify_password(password.as_bytes(), phc.as_str())
                    .is_ok()
            })
            .await?;
        Ok(if matched {
            PasswordCheck::Match {
                outdated: self.is_outdated(hash.as_str()),
            }
        } else {
            PasswordCheck::Mismatch
        })
    }

    async fn waste_time(&self, password: &Password) {
        let password = password.expose().to_owned();
        let decoy = self.decoy.clone();
        let _ = self
            .blocking(move |argon2| {
                argon2
                    .verify_password(password.as_bytes(), decoy.as_str())
                    .is_ok()
            })
            .await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const CHEAP: HashingParams = HashingParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[tokio::test(flavor = "multi_thread")]
    async fn hashes_verify_and_flag_older_parameters() {
        let hasher = Argon2Hasher::new(CHEAP, 2).unwrap();
        let password = Password::presented("correct horse battery staple");
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(
            hasher.verify(&password, &hash).await.unwrap(),
            PasswordCheck::Match { outdated: false }
        );
        assert_eq!(
            hasher
                .verify(&Password::presented("wrong"), &hash)
                .await
                .unwrap(),
            PasswordCheck::Mismatch
        );

        let stronger = Argon2Hasher::new(
            HashingParams {
                memory_kib: 128,
                ..CHEAP
            },
            2,
        )
        .unwrap();
        assert_eq!(
            stronger.verify(&password, &hash).await.unwrap(),
            PasswordCheck::Match { outdated: true }
        );
        assert_eq!(
            stronger
                .verify(&password, &PasswordHash::new("not a phc string".into()))
                .await
                .unwrap(),
            PasswordCheck::Mismatch
        );
    }

    #[test]
    fn the_default_parameters_are_owasps() {
        let hasher = Argon2Hasher::new(HashingParams::OWASP, 1).unwrap();
        assert!(hasher.decoy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }
}
