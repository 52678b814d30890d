//! From the canonical `Value` the wire crate decoded (already checked against the model) to a
//! handler's own typed struct, and back.
use rampart_aws_types::AwsError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Deserializes a handler's input. The model already validated types and constraints, so a
/// failure here is a mismatch between the handler's struct and the model.
pub fn parse<T: DeserializeOwned>(input: Value) -> Result<T, AwsError> {
    serde_json::from_value(input).map_err(|e| {
        AwsError::new(
            "SerializationException",
            400,
            format!("Cannot read the request: {e}"),
        )
    })
}

/// Serializes a handler's output, dropping `None` members (serde's `skip_serializing_if`).
pub fn output<T: Serialize>(output: &T) -> Result<Value, AwsError> {
    serde_json::to_value(output).map_err(|_| AwsError::internal("cannot encode the response"))
}

/// Blobs travel as base64 in the canonical form.
pub mod blob {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}
