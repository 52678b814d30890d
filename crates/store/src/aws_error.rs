//! How a store failure reaches an AWS client when a handler does not map it to something more
//! specific itself (e.g. a create-only conflict to `EntityAlreadyExists`).
use rampart_aws_types::AwsError;

use crate::error::StoreError;

impl From<StoreError> for AwsError {
    fn from(e: StoreError) -> AwsError {
        match e {
            // Two writers raced on one record: AWS answers such races with a conflict the caller retries.
            StoreError::Conflict { .. } => AwsError::new(
                "ConcurrentModificationException",
                409,
                "The request was rejected because it attempted to modify a resource that another request modified at the same time. Retry the request.",
            ),
            StoreError::Busy(_) => AwsError::new(
                "ServiceUnavailable",
                503,
                "The service is temporarily unable to handle the request. Retry the request.",
            ),
            StoreError::InvalidArgument(message) => AwsError::validation(message),
            other => {
                // Details stay in the server's log; the client learns only that it was our fault.
                tracing::error!(error = %other, "store failure");
                AwsError::internal(
                    "The request processing has failed because of an unknown error, exception or failure.",
                )
            }
        }
    }
}
