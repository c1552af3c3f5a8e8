//! Application Insights connection strings.
//!
//! A connection string is a list of `Key=Value` pairs separated by `;`. Keys are
//! case-insensitive; surrounding whitespace is ignored. The keys this exporter reads:
//!
//! | Key                  | Meaning                                                                 |
//! |----------------------|-------------------------------------------------------------------------|
//! | `InstrumentationKey` | Required. The resource's key (a GUID).                                  |
//! | `IngestionEndpoint`  | Explicit ingestion endpoint. Wins over everything else.                 |
//! | `EndpointSuffix`     | Cloud suffix; the endpoint becomes `https://dc.{suffix}`.               |
//! | `Location`           | Only with `EndpointSuffix`: `https://{location}.dc.{suffix}`.           |
//! | `Authorization`      | Optional; only `ikey` is supported.                                     |
//! | `AADAudience`        | Entra ID audience (a URL); the token scope is it + `/.default`.         |
//!
//! Without `IngestionEndpoint` or `EndpointSuffix` the endpoint is the global
//! `https://dc.services.visualstudio.com`. Other keys (`LiveEndpoint`, `ApplicationId`, ...)
//! are accepted and ignored. Errors never contain the instrumentation key.

use std::fmt;
use std::net::IpAddr;

/// The global ingestion endpoint used when the connection string names none.
pub(crate) const DEFAULT_INGESTION_ENDPOINT: &str = "https://dc.services.visualstudio.com";

/// Longest connection string accepted (the limit the .NET SDK enforces).
pub(crate) const MAX_CONNECTION_STRING_LEN: usize = 4096;

/// A parsed Application Insights connection string.
///
/// `Debug` and `Display` redact the instrumentation key.
///
/// ```
/// use azsdk_telemetry::ConnectionString;
///
/// let cs = ConnectionString::parse(
///     "InstrumentationKey=00000000-0000-0000-0000-000000000000;EndpointSuffix=applicationinsights.azure.cn;Location=chinaeast2",
/// )?;
/// assert_eq!(cs.ingestion_endpoint(), "https://chinaeast2.dc.applicationinsights.azure.cn");
/// assert!(!format!("{cs:?}").contains("00000000-0000"));
/// # Ok::<(), azsdk_telemetry::ConnectionStringError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionString {
    instrumentation_key: String,
    ingestion_endpoint: String,
    aad_audience: Option<String>,
}

/// Why a connection string was refused. The message never contains the instrumentation key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionStringError {
    /// The string is empty or only whitespace.
    #[error("the connection string is empty; copy it from the Application Insights resource's Overview page")]
    Empty,
    /// The string is longer than 4,096 bytes.
    #[error("the connection string is {len} characters long; at most {max} are accepted")]
    TooLong {
        /// Length of the input.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A `;`-separated segment has no `=`.
    #[error("segment {segment} of the connection string is not of the form Key=Value")]
    MissingEquals {
        /// 1-based position of the segment.
        segment: usize,
    },
    /// A segment has an empty key (`=value`).
    #[error("segment {segment} of the connection string has an empty key")]
    EmptyKey {
        /// 1-based position of the segment.
        segment: usize,
    },
    /// `InstrumentationKey` is absent or empty.
    #[error("the connection string has no InstrumentationKey; add InstrumentationKey=<guid>")]
    MissingInstrumentationKey,
    /// `InstrumentationKey` is not a GUID (the value itself is not shown).
    #[error("the InstrumentationKey in the connection string is not a GUID (expected 8-4-4-4-12 hexadecimal digits)")]
    InvalidInstrumentationKey,
    /// `Authorization` names something other than `ikey` (shown only when it looks like a
    /// scheme name, never a value that could be a secret).
    #[error("Authorization={0} is not supported; remove it or use Authorization=ikey")]
    UnsupportedAuthorization(String),
    /// `AADAudience` is not an absolute URL.
    #[error("the AADAudience in the connection string is not an absolute URL; use the audience of the resource's cloud, e.g. AADAudience=https://monitor.azure.com/")]
    InvalidAadAudience,
    /// The ingestion endpoint is not an absolute http(s) URL.
    #[error("the ingestion endpoint {endpoint:?} is not a valid URL: {reason}")]
    InvalidEndpoint {
        /// The endpoint as given (endpoints are not secret).
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `http://` was used for a host that is not loopback.
    #[error("the ingestion endpoint {endpoint:?} uses http://; use https:// (plain http is only allowed for 127.0.0.0/8, ::1 and localhost)")]
    InsecureEndpoint {
        /// The endpoint as given.
        endpoint: String,
    },
}

impl ConnectionString {
    /// Parses a connection string as the official Azure Monitor exporters do.
    ///
    /// Precedence of the endpoint: `IngestionEndpoint`, then `EndpointSuffix` (with
    /// `Location` as a prefix), then the global endpoint (`https://dc.services.visualstudio.com`). A repeated key keeps its
    /// last value. Empty segments (`a=b;;c=d`, a trailing `;`) are ignored. The endpoint is
    /// trimmed and loses its trailing `/`.
    ///
    /// ```
    /// use azsdk_telemetry::ConnectionString;
    /// let cs = ConnectionString::parse(
    ///     " instrumentationkey = 00000000-0000-0000-0000-000000000000 ; IngestionEndpoint=https://westus2-1.in.applicationinsights.azure.com/ ",
    /// )?;
    /// assert_eq!(cs.instrumentation_key(), "00000000-0000-0000-0000-000000000000");
    /// assert_eq!(cs.ingestion_endpoint(), "https://westus2-1.in.applicationinsights.azure.com");
    /// # Ok::<(), azsdk_telemetry::ConnectionStringError>(())
    /// ```
    pub fn parse(input: &str) -> Result<Self, ConnectionStringError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(ConnectionStringError::Empty);
        }
        if input.len() > MAX_CONNECTION_STRING_LEN {
            return Err(ConnectionStringError::TooLong {
                len: input.len(),
                max: MAX_CONNECTION_STRING_LEN,
            });
        }
        let mut ikey = None;
        let mut ingestion = None;
        let mut suffix = None;
        let mut location = None;
        let mut audience = None;
        for (i, segment) in input.split(';').enumerate() {
            let segment = segment.trim();
            if segment.is_empty() {
                continue;
            }
            let Some((key, value)) = segment.split_once('=') else {
                return Err(ConnectionStringError::MissingEquals { segment: i + 1 });
            };
            let (key, value) = (key.trim(), value.trim());
            if key.is_empty() {
                return Err(ConnectionStringError::EmptyKey { segment: i + 1 });
            }
            let non_empty = (!value.is_empty()).then(|| value.to_owned());
            match key.to_ascii_lowercase().as_str() {
                "instrumentationkey" => ikey = non_empty,
                "ingestionendpoint" => ingestion = non_empty,
                "endpointsuffix" => suffix = non_empty,
                "location" => location = non_empty,
                "aadaudience" => audience = non_empty,
                "authorization" if !value.eq_ignore_ascii_case("ikey") => {
                    // A scheme name (`AAD`) is shown; anything else may be a pasted secret.
                    let scheme =
                        value.len() <= 16 && value.bytes().all(|b| b.is_ascii_alphabetic());
                    return Err(ConnectionStringError::UnsupportedAuthorization(
                        if scheme { value } else { "<redacted>" }.to_owned(),
                    ));
                }
                _ => {}
            }
        }
        let ikey = ikey.ok_or(ConnectionStringError::MissingInstrumentationKey)?;
        if !is_guid(&ikey) {
            return Err(ConnectionStringError::InvalidInstrumentationKey);
        }
        let endpoint = match (ingestion, suffix) {
            (Some(explicit), _) => explicit,
            (None, Some(suffix)) => {
                let suffix = suffix.trim_matches('.');
                match location {
                    Some(loc) => format!("https://{loc}.dc.{suffix}"),
                    None => format!("https://dc.{suffix}"),
                }
            }
            (None, None) => DEFAULT_INGESTION_ENDPOINT.to_owned(),
        };
        let endpoint = validate_endpoint(&endpoint, &ikey)?;
        if audience.as_deref().is_some_and(|a| {
            reqwest::Url::parse(a).map_or(true, |url| url.host_str().is_none_or(str::is_empty))
        }) {
            return Err(ConnectionStringError::InvalidAadAudience);
        }
        Ok(Self {
            instrumentation_key: ikey,
            ingestion_endpoint: endpoint,
            aad_audience: audience,
        })
    }

    /// Reads and parses `APPLICATIONINSIGHTS_CONNECTION_STRING`; `None` when it is unset or empty.
    ///
    /// ```
    /// if let Some(parsed) = azsdk_telemetry::ConnectionString::from_env() {
    ///     let cs = parsed?;
    ///     println!("sending to {}", cs.ingestion_endpoint());
    /// }
    /// # Ok::<(), azsdk_telemetry::ConnectionStringError>(())
    /// ```
    pub fn from_env() -> Option<Result<Self, ConnectionStringError>> {
        let value = std::env::var_os(crate::config::ENV_CONNECTION_STRING)?;
        let value = value.to_string_lossy();
        if value.trim().is_empty() {
            return None;
        }
        Some(Self::parse(&value))
    }

    /// The instrumentation key (case preserved). Treat it as a credential: do not log it.
    pub fn instrumentation_key(&self) -> &str {
        &self.instrumentation_key
    }

    /// The ingestion endpoint, without a trailing slash, e.g. `https://dc.services.visualstudio.com`.
    pub fn ingestion_endpoint(&self) -> &str {
        &self.ingestion_endpoint
    }

    /// The `AADAudience` value, if the connection string has one. With an Entra ID
    /// credential (feature `entra`) the token's scope is this audience followed by
    /// `/.default`, else `https://monitor.azure.com//.default`.
    ///
    /// ```
    /// use azsdk_telemetry::ConnectionString;
    /// let cs = ConnectionString::parse(
    ///     "InstrumentationKey=00000000-0000-0000-0000-000000000000;aadaudience=https://monitor.azure.us/",
    /// )?;
    /// assert_eq!(cs.aad_audience(), Some("https://monitor.azure.us/"));
    /// # Ok::<(), azsdk_telemetry::ConnectionStringError>(())
    /// ```
    pub fn aad_audience(&self) -> Option<&str> {
        self.aad_audience.as_deref()
    }

    /// The URL batches are POSTed to: `{ingestion_endpoint}/v2.1/track`.
    pub fn track_url(&self) -> String {
        format!("{}/v2.1/track", self.ingestion_endpoint)
    }
}

impl std::str::FromStr for ConnectionString {
    type Err = ConnectionStringError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl ConnectionString {
    /// The endpoint for messages: redacted when it holds the key (a URL may, in any part).
    fn shown_endpoint(&self) -> &str {
        if mentions_key(&self.ingestion_endpoint, &self.instrumentation_key) {
            "<redacted>"
        } else {
            &self.ingestion_endpoint
        }
    }
}

impl fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionString")
            .field("instrumentation_key", &"<redacted>")
            .field("ingestion_endpoint", &self.shown_endpoint())
            .field("aad_audience", &self.aad_audience)
            .finish()
    }
}

impl fmt::Display for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "InstrumentationKey=<redacted>;IngestionEndpoint={}",
            self.shown_endpoint()
        )
    }
}

/// 8-4-4-4-12 hexadecimal digits, either case. (No version/variant check: the service
/// documents that keys are not always RFC 4122 GUIDs.)
fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8usize, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `endpoint` holds the instrumentation `key`, with or without its hyphens, in any
/// case.
fn mentions_key(endpoint: &str, key: &str) -> bool {
    let (endpoint, key) = (endpoint.to_ascii_lowercase(), key.to_ascii_lowercase());
    endpoint.contains(&key) || endpoint.contains(&key.replace('-', ""))
}

/// Checks scheme and host, trims the trailing `/`, and refuses plain http off loopback.
/// Errors show the endpoint unless it holds credentials or the key.
fn validate_endpoint(raw: &str, key: &str) -> Result<String, ConnectionStringError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let leaks = trimmed.contains('@') || mentions_key(trimmed, key);
    let shown = if leaks { "<redacted>" } else { trimmed }.to_owned();
    let invalid = |reason: &str| ConnectionStringError::InvalidEndpoint {
        endpoint: shown.clone(),
        reason: reason.to_owned(),
    };
    let url = reqwest::Url::parse(trimmed).map_err(|e| invalid(&e.to_string()))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment"));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err(ConnectionStringError::InsecureEndpoint { endpoint: shown }),
        other => return Err(invalid(&format!("scheme {other:?} is not http(s)"))),
    }
    Ok(trimmed.to_owned())
}

/// True for `localhost`, `127.0.0.0/8` and `::1`.
pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.eq_ignore_ascii_case("localhost.")
        }
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}
