//! What the ingestion service's answer means for each item of a batch.

use serde::Deserialize;

/// The part of the service's response body (`TrackResponse` in the ingestion swagger) that
/// decides anything: one entry per item not accepted. Its counts and messages are not read
/// (a message may quote field values).
#[derive(Debug, Default, Deserialize)]
struct TrackResponse {
    #[serde(default)]
    errors: Vec<ItemError>,
}

/// One item not accepted: its position in the request and its status.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemError {
    index: usize,
    status_code: u16,
}

/// Whole-request statuses worth another try (the item status codes use the same rule).
pub(crate) fn is_retriable_status(code: u16) -> bool {
    matches!(code, 408 | 429 | 500 | 502 | 503 | 504)
}

/// What to do with each item of a batch after one answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Accepted and stored.
    pub accepted: usize,
    /// Indexes (into the request) to send again.
    pub retry: Vec<usize>,
    /// Refused for good (400/402/403, other non-retriable codes).
    pub rejected: usize,
    /// Accepted but sampled out by the service (item status 206).
    pub sampled_out: usize,
    /// What the answer says of the endpoint as a whole.
    pub verdict: Verdict,
}

/// What a whole-request answer says about sending at all, beyond its items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The endpoint serves: go on as the items say.
    #[default]
    Serving,
    /// 402 or 439: the resource's daily cap or quota is spent. The items are refused;
    /// sending pauses, so no retry storm follows.
    OverQuota,
    /// 401, 403, or 400 "Authentication not supported" (an Entra-only resource got no
    /// token): the credentials are refused. The items are kept (to the spool) and sending
    /// pauses: a fixed configuration will deliver them later.
    Unauthorized,
}

/// What to tell the user of a [`Verdict::Unauthorized`] answer with this status, knowing
/// whether requests carried an Entra ID token.
pub(crate) fn unauthorized_hint(status: u16, has_credential: bool) -> &'static str {
    match (status, has_credential) {
        (403, _) => "the identity is not allowed to send to this resource (403): the identity needs the Monitoring Metrics Publisher role on the resource",
        (400, false) => "this resource accepts only Microsoft Entra ID tokens: configure a credential (TelemetryBuilder::credential, feature `entra`)",
        (_, true) => "the ingestion endpoint refused the Entra ID token: check that the credential's tenant is the resource's and that the connection string's AADAudience matches its cloud",
        (_, false) => "the ingestion endpoint refused the credentials: check the connection string's instrumentation key, or, if the resource has local authentication disabled, configure an Entra ID credential (TelemetryBuilder::credential)",
    }
}

/// The service's answer to a request without a token for a resource that takes only
/// Entra ID tokens (in the body, whatever its shape).
fn says_authentication_not_supported(body: &[u8]) -> bool {
    const TEXT: &[u8] = b"authentication not supported";
    body.windows(TEXT.len())
        .any(|w| w.eq_ignore_ascii_case(TEXT))
}

/// Classifies an HTTP answer for a batch of `len` items. Redirects are handled before this.
///
/// * 200: all accepted.
/// * 206, and 400/500 with a readable body: per item from `errors` (items not listed were
///   accepted); item code 206 is "sampled out", retriable codes are resent by index.
/// * 206 with an unreadable body: everything is resent (duplicates beat losses).
/// * 408, 429, 500, 502, 503, 504 (without a usable body): all resent.
/// * 402, 439: all rejected, [`Verdict::OverQuota`].
/// * 401, 403, and 400 "Authentication not supported": all kept, [`Verdict::Unauthorized`].
/// * anything else (400, 404, ...): all rejected.
pub(crate) fn classify(status: u16, body: &[u8], len: usize) -> Outcome {
    let all_retry = || Outcome {
        retry: (0..len).collect(),
        ..Outcome::default()
    };
    let all_rejected = || Outcome {
        rejected: len,
        ..Outcome::default()
    };
    if (200..300).contains(&status) && status != 206 {
        return Outcome {
            accepted: len,
            ..Outcome::default()
        };
    }
    let unauthorized = || Outcome {
        verdict: Verdict::Unauthorized,
        ..all_retry()
    };
    if status == 400 && says_authentication_not_supported(body) {
        return unauthorized();
    }
    let parsed = serde_json::from_slice::<TrackResponse>(body)
        .ok()
        .filter(|r| !r.errors.is_empty());
    match (status, parsed) {
        (206 | 400 | 500, Some(response)) => per_item(&response, len),
        (206, None) => all_retry(),
        (s, _) if is_retriable_status(s) => all_retry(),
        (402 | 439, _) => Outcome {
            verdict: Verdict::OverQuota,
            ..all_rejected()
        },
        (401 | 403, _) => unauthorized(),
        _ => all_rejected(),
    }
}

fn per_item(response: &TrackResponse, len: usize) -> Outcome {
    // 0 = accepted, else the item's status code; out-of-range indexes are ignored.
    let mut codes = vec![0u16; len];
    for e in &response.errors {
        if let Some(slot) = codes.get_mut(e.index) {
            *slot = e.status_code;
        }
    }
    let mut out = Outcome::default();
    for (i, code) in codes.into_iter().enumerate() {
        match code {
            0 | 200 => out.accepted += 1,
            206 => out.sampled_out += 1,
            c if is_retriable_status(c) => out.retry.push(i),
            _ => out.rejected += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(errors: &[(usize, u16)]) -> Vec<u8> {
        let errors: Vec<_> = errors
            .iter()
            .map(|(i, c)| serde_json::json!({"index": i, "statusCode": c, "message": "m"}))
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "itemsReceived": 5, "itemsAccepted": 5 - errors.len(), "errors": errors
        }))
        .unwrap()
    }

    #[test]
    fn ok_accepts_everything() {
        assert_eq!(classify(200, b"", 3).accepted, 3);
        assert_eq!(classify(200, b"garbage", 3).accepted, 3);
    }

    #[test]
    fn partial_resends_only_retriable_indexes() {
        let o = classify(206, &body(&[(0, 400), (2, 500), (3, 206), (4, 429)]), 5);
        assert_eq!(
            o,
            Outcome {
                accepted: 1,
                retry: vec![2, 4],
                rejected: 1,
                sampled_out: 1,
                verdict: Verdict::Serving,
            }
        );
    }

    #[test]
    fn server_error_with_body_is_per_item() {
        let o = classify(500, &body(&[(1, 500)]), 3);
        assert_eq!((o.accepted, o.retry.clone()), (2, vec![1]));
    }

    #[test]
    fn bad_request_with_retriable_items_keeps_them() {
        let o = classify(400, &body(&[(0, 400), (1, 503)]), 2);
        assert_eq!((o.rejected, o.retry.clone()), (1, vec![1]));
    }

    #[test]
    fn whole_batch_codes() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert_eq!(classify(s, b"", 2).retry, vec![0, 1], "{s}");
        }
        for s in [400, 404] {
            assert_eq!(classify(s, b"", 2).rejected, 2, "{s}");
        }
        for s in [402, 439] {
            let o = classify(s, b"", 2);
            assert_eq!((o.rejected, o.verdict), (2, Verdict::OverQuota), "{s}");
        }
        for s in [401, 403] {
            let o = classify(s, b"", 2);
            assert_eq!(
                (o.retry, o.verdict),
                (vec![0, 1], Verdict::Unauthorized),
                "{s}"
            );
        }
    }

    #[test]
    fn authentication_not_supported_keeps_the_items() {
        let b = br#"{"errors":[{"index":0,"statusCode":400,"message":"Authentication NOT supported"}]}"#;
        let o = classify(400, b, 2);
        assert_eq!((o.retry, o.verdict), (vec![0, 1], Verdict::Unauthorized));
        assert_eq!(
            classify(400, b"Authentication not supported", 1).rejected,
            0
        );
        assert!(unauthorized_hint(403, true).contains("Monitoring Metrics Publisher role"));
        assert!(unauthorized_hint(400, false).contains("TelemetryBuilder::credential"));
    }

    #[test]
    fn partial_with_unreadable_body_resends_all() {
        assert_eq!(classify(206, b"<html>", 2).retry, vec![0, 1]);
    }

    #[test]
    fn out_of_range_index_is_ignored() {
        let o = classify(206, &body(&[(9, 500)]), 2);
        assert_eq!(o.accepted, 2);
    }

    #[test]
    fn parses_service_shape() {
        let r: TrackResponse = serde_json::from_str(
            r#"{"itemsReceived":5,"itemsAccepted":3,"errors":[{"index":0,"statusCode":400,"message":"103: Field 'time'"}]}"#,
        )
        .unwrap();
        assert_eq!((r.errors[0].index, r.errors[0].status_code), (0, 400));
    }
}
