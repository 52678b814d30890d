//! Pagination over a store prefix with opaque tokens (`NextToken` / IAM's `Marker`).
//!
//! A token encodes the last key returned, relative to the listing's prefix, so a token can only
//! ever continue the listing it came from: a forged or foreign token either fails to decode or
//! stays inside the same namespace.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart_aws_types::AwsError;
use rampart_store::{ReadTxn, Record};

const TOKEN_VERSION: &str = "v1:";

pub fn encode_token(prefix: &str, last_key: &str) -> String {
    let rest = last_key.strip_prefix(prefix).unwrap_or(last_key);
    URL_SAFE_NO_PAD.encode(format!("{TOKEN_VERSION}{rest}"))
}

/// The key to continue after, or `None` when the token does not belong to this listing.
pub fn decode_token(prefix: &str, token: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(token.as_bytes()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix(TOKEN_VERSION)?;
    Some(format!("{prefix}{rest}"))
}

/// One page of records under `prefix` that pass `keep`, at most `max_items`, and the token for
/// the next page. `invalid_token` is the service's error for a token it did not issue.
/// One page of records and the token for the next page.
pub type Page = (Vec<(String, Record)>, Option<String>);

pub fn page(
    tx: &mut (impl ReadTxn + ?Sized),
    prefix: &str,
    token: Option<&str>,
    max_items: usize,
    invalid_token: impl Fn() -> AwsError,
    mut keep: impl FnMut(&str, &Record) -> bool,
) -> Result<Page, AwsError> {
    let mut after = match token {
        Some(t) => Some(decode_token(prefix, t).ok_or_else(&invalid_token)?),
        None => None,
    };
    let max_items = max_items.max(1);
    let mut out = Vec::new();
    loop {
        let batch = tx.scan(prefix, after.as_deref(), 256)?;
        let exhausted = batch.len() < 256;
        for (key, record) in batch {
            after = Some(key.clone());
            if !keep(&key, &record) {
                continue;
            }
            if out.len() == max_items {
                // One more exists: the token continues after the last one returned.
                let next = out
                    .last()
                    .map(|(k, _): &(String, Record)| encode_token(prefix, k));
                return Ok((out, next));
            }
            out.push((key, record));
        }
        if exhausted {
            return Ok((out, None));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_store::{Expect, Store};

    #[test]
    fn pages_through_everything_exactly_once() {
        let store = Store::open_in_memory().unwrap();
        store
            .write_blocking(|tx| {
                for i in 0..1000 {
                    tx.put(&format!("a/k/{i:04}"), b"{}", Expect::Any)?;
                }
                tx.put("a/kz", b"{}", Expect::Any)?;
                Ok::<_, rampart_store::StoreError>(())
            })
            .unwrap();
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let t = token.clone();
            let (items, next) = store
                .read_blocking(move |tx| {
                    page(
                        tx,
                        "a/k/",
                        t.as_deref(),
                        77,
                        || AwsError::validation("bad token"),
                        |k, _| !k.ends_with('3'),
                    )
                })
                .unwrap();
            assert!(items.len() <= 77);
            seen.extend(items.into_iter().map(|(k, _)| k));
            match next {
                Some(n) => token = Some(n),
                None => break,
            }
        }
        assert_eq!(seen.len(), 900);
        let mut sorted = seen.clone();
        sorted.dedup();
        assert_eq!(sorted.len(), 900);
        assert!(!seen.iter().any(|k| k == "a/kz"));
    }

    #[test]
    fn foreign_tokens_are_rejected() {
        let store = Store::open_in_memory().unwrap();
        let r = store.read_blocking(|tx| {
            page(
                tx,
                "a/",
                Some("!!notbase64"),
                10,
                || AwsError::validation("bad token"),
                |_, _| true,
            )
        });
        assert!(r.is_err());
        assert_eq!(
            decode_token("x/", &encode_token("x/", "x/abc")).unwrap(),
            "x/abc"
        );
    }
}
