//! Typed JSON records over store transactions.
use rampart_aws_types::AwsError;
use rampart_store::{Expect, ReadTxn, Txn};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The first `limit` keys under a due-time index (`<prefix><sortable time>/...`): what a
/// background job has to act on next, oldest first.
pub async fn due_keys(
    store: &rampart_store::Store,
    prefix: &'static str,
    limit: usize,
) -> Result<Vec<String>, AwsError> {
    store
        .read_offloaded(move |tx| {
            let page = tx.scan(prefix, None, limit)?;
            Ok::<_, AwsError>(page.into_iter().map(|(k, _)| k).collect())
        })
        .await
}

pub fn get<T: DeserializeOwned>(
    tx: &mut (impl ReadTxn + ?Sized),
    key: &str,
) -> Result<Option<(T, u64)>, AwsError> {
    match tx.get(key)? {
        Some(record) => {
            let value = serde_json::from_slice(&record.value).map_err(|_| corrupt(key))?;
            Ok(Some((value, record.version)))
        }
        None => Ok(None),
    }
}

pub fn put<T: Serialize>(
    tx: &mut (impl Txn + ?Sized),
    key: &str,
    value: &T,
    expect: Expect,
) -> Result<u64, AwsError> {
    let bytes =
        serde_json::to_vec(value).map_err(|_| AwsError::internal("cannot encode a record"))?;
    Ok(tx.put(key, &bytes, expect)?)
}

pub fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, AwsError> {
    serde_json::from_slice(bytes).map_err(|_| corrupt(key))
}

fn corrupt(key: &str) -> AwsError {
    tracing::error!(key, "stored record does not decode");
    AwsError::internal(
        "The request processing has failed because of an unknown error, exception or failure.",
    )
}
