//! A `TokenCredential` for the Entra ID tests: counts its calls, records the scopes asked
//! for, and hands out the token, lifetime, failure or delay it is told to.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::error::{Error, ErrorKind};
use azure_core::time::OffsetDateTime;

/// What the next `get_token` does.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Returns this token, valid for this long.
    Token(String, Duration),
    /// Fails with this message.
    Fail(&'static str),
    /// Answers nothing for this long, then fails.
    Hang(Duration),
}

#[derive(Debug)]
pub struct TestCredential {
    calls: AtomicUsize,
    scopes: Mutex<Vec<String>>,
    behaviour: Mutex<Behaviour>,
}

impl TestCredential {
    pub fn new(behaviour: Behaviour) -> Arc<Self> {
        Arc::new(Self {
            calls: AtomicUsize::new(0),
            scopes: Mutex::new(Vec::new()),
            behaviour: Mutex::new(behaviour),
        })
    }

    /// A token valid for an hour.
    pub fn token(token: &str) -> Arc<Self> {
        Self::new(Behaviour::Token(token.into(), Duration::from_secs(3600)))
    }

    pub fn set(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The scopes of every call, each call's joined by spaces.
    pub fn scopes(&self) -> Vec<String> {
        self.scopes.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl TokenCredential for TestCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.scopes.lock().unwrap().push(scopes.join(" "));
        let behaviour = self.behaviour.lock().unwrap().clone();
        match behaviour {
            Behaviour::Token(token, life) => {
                Ok(AccessToken::new(token, OffsetDateTime::now_utc() + life))
            }
            Behaviour::Fail(message) => Err(Error::with_message(ErrorKind::Credential, message)),
            Behaviour::Hang(time) => {
                tokio::time::sleep(time).await;
                Err(Error::with_message(ErrorKind::Credential, "gave up"))
            }
        }
    }
}
