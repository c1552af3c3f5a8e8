//! HTTP transport: gzip, POST to `/v2.1/track`, redirects to Azure Monitor hosts only.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderValue, ACCEPT, CONTENT_ENCODING, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::Url;

use super::connection_string::is_loopback;
use super::retry::parse_retry_after;

/// Most redirects followed for one request.
pub(crate) const MAX_REDIRECTS: usize = 10;

/// Host suffixes a redirect may lead to (besides loopback and the configured host).
pub(crate) const REDIRECT_ALLOWED_SUFFIXES: &[&str] = &[
    ".applicationinsights.azure.com",
    ".monitor.azure.com",
    ".services.visualstudio.com",
    ".applicationinsights.azure.cn",
    ".applicationinsights.azure.us",
    ".applicationinsights.us",
];

/// Largest response body read (the service's answers are small).
const MAX_RESPONSE_BODY: usize = 256 * 1024;

/// A request that produced no usable HTTP answer. Messages never include the key (it is
/// only inside the gzip body) and name the endpoint host at most.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TransportError {
    /// Connect, TLS, timeout or I/O failure.
    #[error("request to the ingestion endpoint failed: {0}")]
    Http(#[source] reqwest::Error),
    /// A 307/308 pointed somewhere this exporter does not send telemetry.
    #[error("refused to follow a redirect to {0}: only https Azure Monitor hosts (or loopback) are allowed")]
    RedirectRefused(String),
    /// A 307/308 without a usable `Location`.
    #[error("the ingestion endpoint answered a redirect without a valid Location header")]
    BadLocation,
    /// More than [`MAX_REDIRECTS`] hops.
    #[error("gave up after {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    /// No Entra ID token: nothing was sent.
    #[cfg(feature = "entra")]
    #[error(transparent)]
    Token(super::entra::TokenError),
}

impl TransportError {
    /// The credential gave no token (the request was not sent).
    pub(crate) fn is_token(&self) -> bool {
        #[cfg(feature = "entra")]
        let token = matches!(self, TransportError::Token(_));
        #[cfg(not(feature = "entra"))]
        let token = false;
        token
    }
}

/// An HTTP answer from the service (after redirects).
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Parsed `Retry-After`, if any.
    pub retry_after: Option<Duration>,
    /// Response body (truncated to 256 KiB).
    pub body: Vec<u8>,
}

pub(crate) struct Transport {
    client: reqwest::Client,
    configured: Url,
    current: Url,
    /// Bearer tokens, when an Entra ID credential is configured.
    #[cfg(feature = "entra")]
    pub(crate) token: Option<super::entra::TokenCache>,
}

impl Transport {
    pub(crate) fn new(track_url: &str, timeout: Duration) -> Result<Self, String> {
        let url = Url::parse(track_url).map_err(|e| format!("invalid endpoint URL: {e}"))?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("azsdk-telemetry/", env!("CARGO_PKG_VERSION")));
        if is_loopback(&url) {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| format!("could not build the HTTP client: {e}"))?;
        Ok(Self {
            client,
            configured: url.clone(),
            current: url,
            #[cfg(feature = "entra")]
            token: None,
        })
    }

    fn redirect_allowed(&self, to: &Url) -> bool {
        if is_loopback(to) {
            return matches!(to.scheme(), "http" | "https");
        }
        if to.scheme() != "https" {
            return false;
        }
        let Some(host) = to.host_str() else {
            return false;
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        host == self
            .configured
            .host_str()
            .unwrap_or_default()
            .to_ascii_lowercase()
            || REDIRECT_ALLOWED_SUFFIXES.iter().any(|s| host.ends_with(s))
    }

    /// Whether requests carry an Entra ID token.
    pub(crate) fn has_credential(&self) -> bool {
        #[cfg(feature = "entra")]
        let has = self.token.is_some();
        #[cfg(not(feature = "entra"))]
        let has = false;
        has
    }

    /// POSTs one gzipped body (with the bearer token, if any), following up to
    /// [`MAX_REDIRECTS`] allowed 307/308 hops and remembering where the last one led.
    pub(crate) async fn post(&mut self, body: Vec<u8>) -> Result<Answer, TransportError> {
        #[cfg(feature = "entra")]
        let bearer = match &mut self.token {
            Some(cache) => Some(cache.header().await.map_err(TransportError::Token)?),
            None => None,
        };
        let mut url = self.current.clone();
        for hop in 0..=MAX_REDIRECTS {
            let request = self.client.post(url.clone());
            #[cfg(feature = "entra")]
            let request = match &bearer {
                Some(value) => request.header(reqwest::header::AUTHORIZATION, value.clone()),
                None => request,
            };
            let sent = request
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-json-stream"),
                )
                .header(CONTENT_ENCODING, HeaderValue::from_static("gzip"))
                .header(ACCEPT, HeaderValue::from_static("application/json"))
                .body(body.clone())
                .send()
                .await;
            let response = match sent {
                Ok(r) => r,
                Err(e) => {
                    if self.current != self.configured {
                        // A remembered redirect target that fails sends us back home.
                        self.current = self.configured.clone();
                    }
                    return Err(TransportError::Http(e));
                }
            };
            let status = response.status().as_u16();
            if status == 307 || status == 308 {
                let next = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|loc| url.join(loc.trim()).ok())
                    .ok_or(TransportError::BadLocation)?;
                if !self.redirect_allowed(&next) {
                    return Err(TransportError::RedirectRefused(
                        next.host_str().unwrap_or("<no host>").to_owned(),
                    ));
                }
                if hop == MAX_REDIRECTS {
                    return Err(TransportError::TooManyRedirects);
                }
                tracing::debug!(target: "azsdk_telemetry::export", to = %next.host_str().unwrap_or_default(), status, "following redirect");
                url = next;
                continue;
            }
            if hop > 0 {
                self.current = url;
            }
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            let mut body = Vec::new();
            let mut response = response;
            // A body that breaks off is treated as what arrived so far.
            while let Ok(Some(chunk)) = response.chunk().await {
                let room = MAX_RESPONSE_BODY.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if room <= chunk.len() {
                    break;
                }
            }
            return Ok(Answer {
                status,
                retry_after,
                body,
            });
        }
        Err(TransportError::TooManyRedirects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_allowlist() {
        let t = Transport::new(
            "https://westus-0.in.applicationinsights.azure.com/v2.1/track",
            Duration::from_secs(1),
        )
        .unwrap();
        let ok = |u: &str| t.redirect_allowed(&Url::parse(u).unwrap());
        assert!(ok(
            "https://eastus-8.in.applicationinsights.azure.com/v2.1/track"
        ));
        assert!(ok("https://dc.services.visualstudio.com/v2.1/track"));
        assert!(ok("https://x.monitor.azure.com/v2.1/track"));
        assert!(ok("http://127.0.0.1:9/v2.1/track"));
        assert!(!ok(
            "http://eastus.in.applicationinsights.azure.com/v2.1/track"
        ));
        assert!(!ok(
            "https://applicationinsights.azure.com.evil.example/v2.1/track"
        ));
        assert!(!ok("https://evil.example/v2.1/track"));
    }
}
