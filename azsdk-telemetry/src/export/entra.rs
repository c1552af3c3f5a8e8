//! Entra ID bearer tokens for ingestion (feature `entra`): the cache the transport asks for
//! the `Authorization` header of each request, on the worker thread only.
//!
//! A fetch starts when the worker starts (so a short-lived CLI usually has its token by its
//! first batch) and runs as a task of the worker's runtime: a request abandoned at a flush
//! deadline leaves it running for the next one. A token is used until its refresh time:
//! 5 minutes before `expires_on`, or half its lifetime for tokens shorter than 10 minutes.
//! A failed refresh keeps a still valid token (and tries again halfway to its expiry); with
//! no valid token the request fails with a [`TokenError`] and the worker pauses and spools.
//! The token lives only in a sensitive `HeaderValue`, which `Debug` does not show.

use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::{AccessToken, TokenCredential};
use reqwest::header::HeaderValue;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The scope when the connection string has no `AADAudience`.
pub(crate) const DEFAULT_SCOPE: &str = "https://monitor.azure.com//.default";
/// How long before `expires_on` a token is replaced.
const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);
/// Longest wait for the credential (a developer tool or a token endpoint).
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// The scope for a connection string's `AADAudience`: the audience followed by `/.default`
/// (`https://monitor.azure.us/` gives `https://monitor.azure.us//.default`).
pub(crate) fn scope(audience: Option<&str>) -> String {
    audience.map_or_else(|| DEFAULT_SCOPE.to_owned(), |a| format!("{a}/.default"))
}

/// No token could be had. Its message names the cause, never a token.
#[derive(Debug, thiserror::Error)]
#[error("could not get a Microsoft Entra ID token for scope {scope}: {cause}; check the credential given to TelemetryBuilder::credential")]
pub(crate) struct TokenError {
    scope: String,
    cause: String,
}

type Fetch = JoinHandle<Result<AccessToken, String>>;

struct Cached {
    header: HeaderValue,
    refresh_at: Instant,
    expires_at: Instant,
}

/// The credential, its scope, the token in use and the fetch under way.
pub(crate) struct TokenCache {
    credential: Arc<dyn TokenCredential>,
    scope: String,
    token: Option<Cached>,
    fetch: Option<Fetch>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("scope", &self.scope)
            .field("has_token", &self.token.is_some())
            .field("fetching", &self.fetch.is_some())
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// Starts the first fetch; must be called inside the worker's runtime.
    pub(crate) fn start(credential: Arc<dyn TokenCredential>, scope: String) -> Self {
        let mut cache = TokenCache {
            credential,
            scope,
            token: None,
            fetch: None,
        };
        cache.fetch = Some(cache.spawn_fetch());
        cache
    }

    fn spawn_fetch(&self) -> Fetch {
        let (credential, scope) = (Arc::clone(&self.credential), self.scope.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(FETCH_TIMEOUT, credential.get_token(&[&scope], None)).await {
                Ok(got) => got.map_err(|e| e.to_string()),
                Err(_) => Err(format!(
                    "the credential gave no answer within {FETCH_TIMEOUT:?}"
                )),
            }
        })
    }

    /// The `Authorization` header for the next request, fetching a token when there is
    /// none or it is due for refresh.
    pub(crate) async fn header(&mut self) -> Result<HeaderValue, TokenError> {
        if let Some(t) = self
            .token
            .as_ref()
            .filter(|t| Instant::now() < t.refresh_at)
        {
            return Ok(t.header.clone());
        }
        let fetch = match &mut self.fetch {
            Some(fetch) => fetch,
            None => self.fetch.insert(self.spawn_fetch()),
        };
        let fetched = fetch.await;
        self.fetch = None;
        let now = Instant::now();
        let fetched = fetched
            .unwrap_or_else(|_| Err("the credential panicked".to_owned()))
            .and_then(|token| Cached::new(&token, now));
        match (fetched, &mut self.token) {
            (Ok(token), slot) => Ok(slot.insert(token).header.clone()),
            (Err(cause), Some(old)) if now < old.expires_at => {
                tracing::debug!(target: "azsdk_telemetry::export", %cause, "an Entra ID token refresh failed; the current token is used until it expires");
                old.refresh_at = now + (old.expires_at - now) / 2;
                Ok(old.header.clone())
            }
            (Err(cause), slot) => {
                *slot = None;
                let scope = self.scope.clone();
                Err(TokenError { scope, cause })
            }
        }
    }
}

impl Cached {
    fn new(token: &AccessToken, now: Instant) -> Result<Self, String> {
        let mut header = HeaderValue::try_from(format!("Bearer {}", token.token.secret()))
            .map_err(|_| "the credential returned a token that is not valid in an HTTP header")?;
        header.set_sensitive(true);
        let left = token.expires_on - azure_core::time::OffsetDateTime::now_utc();
        let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
        let refresh_in = if left > 2 * REFRESH_BEFORE {
            left - REFRESH_BEFORE
        } else {
            left / 2
        };
        Ok(Cached {
            header,
            refresh_at: now + refresh_in,
            expires_at: now + left,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_core::time::OffsetDateTime;

    const SECRET: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.secret-token";

    #[derive(Debug)]
    struct Fixed;

    #[async_trait::async_trait]
    impl TokenCredential for Fixed {
        async fn get_token(
            &self,
            _: &[&str],
            _: Option<azure_core::credentials::TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AccessToken> {
            Ok(AccessToken::new(
                SECRET,
                OffsetDateTime::now_utc() + REFRESH_BEFORE,
            ))
        }
    }

    #[tokio::test]
    async fn the_token_is_in_no_debug_output_and_short_ones_refresh_at_half_life() {
        let mut cache = TokenCache::start(Arc::new(Fixed), scope(None));
        let header = cache.header().await.unwrap();
        assert_eq!(header.to_str().unwrap(), format!("Bearer {SECRET}"));
        for shown in [format!("{cache:?}"), format!("{header:?}")] {
            assert!(!shown.contains("secret-token"), "{shown}");
        }
        let token = cache.token.as_ref().unwrap();
        let half = (token.refresh_at - Instant::now()).as_secs();
        assert!((148..=150).contains(&half), "{half}");
        let broken = AccessToken::new("a\nb", OffsetDateTime::now_utc());
        assert!(Cached::new(&broken, Instant::now()).is_err());
    }
}
