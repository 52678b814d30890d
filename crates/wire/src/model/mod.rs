//! The compact, in-memory form of a botocore service model: only what the codecs, the validator
//! and redaction need (no documentation, no examples). Shapes live in one vector and refer to each
//! other by [`ShapeId`], so walking a request is index lookups, never string lookups.
mod load;

use std::collections::HashMap;
use std::sync::OnceLock;

pub(crate) use load::{parse_metadata, parse_model, parse_model_json};

use crate::protocol::Protocol;

/// Index of a shape inside its [`ServiceModel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShapeId(pub(crate) u32);

/// Service-level facts from the model's `metadata` block.
#[derive(Debug, Clone)]
pub struct ServiceModel {
    /// Rampart's name for the service: botocore's directory name (`iam`, `kms`, ...).
    pub name: &'static str,
    /// `metadata.endpointPrefix` (`iam`, `kms`, `secretsmanager`).
    pub endpoint_prefix: String,
    /// SigV4 signing name (`metadata.signingName`, defaulting to the endpoint prefix).
    pub signing_name: String,
    pub protocol: Protocol,
    /// awsJson `X-Amz-Target` prefix (`TrentService` for KMS).
    pub target_prefix: Option<String>,
    pub api_version: String,
    /// awsQuery response namespace: `https://<svc>.amazonaws.com/doc/<apiVersion>/`.
    pub xml_namespace: Option<String>,
    /// awsJson version (`1.0` / `1.1`).
    pub json_version: Option<String>,
    /// `metadata.serviceId` (`IAM`, `Secrets Manager`).
    pub service_id: String,
    /// Global services (IAM) live in region `global`.
    pub global: bool,
    /// Whether JSON error bodies spell the message `Message` (Secrets Manager) or `message` (KMS),
    /// as the model's own error shapes do.
    pub json_error_message_key: &'static str,
    /// Per modelled error code, how its shape spells the message member (SSM mixes both).
    pub(crate) error_message_keys: HashMap<Box<str>, &'static str>,
    pub(crate) operations: HashMap<Box<str>, Operation>,
    /// Sorted, for stable listings.
    pub(crate) operation_names: Vec<Box<str>>,
    pub(crate) shapes: Vec<Shape>,
    pub(crate) shape_ids: HashMap<Box<str>, ShapeId>,
}

/// One operation of a service.
#[derive(Debug, Clone)]
pub struct Operation {
    pub name: Box<str>,
    pub input: Option<ShapeId>,
    pub output: Option<ShapeId>,
    /// awsQuery: the element wrapping the output members (`ListUsersResult`).
    pub result_wrapper: Option<Box<str>>,
    /// Error shapes the operation may return.
    pub errors: Vec<ShapeId>,
    /// HTTP binding (used by restJson1 later).
    pub http_method: Box<str>,
    pub request_uri: Box<str>,
}

/// A named shape with its constraints.
#[derive(Debug)]
pub struct Shape {
    pub name: Box<str>,
    pub kind: ShapeKind,
    /// The shape itself is marked `sensitive` (so is every member targeting it).
    pub sensitive: bool,
    /// Compiled `pattern`, built on first use. `None` inside means the pattern is not usable with
    /// the `regex` crate (lookaround, back-references) and the check is skipped.
    pub(crate) compiled: OnceLock<Option<crate::pattern::Pattern>>,
}

impl Clone for Shape {
    fn clone(&self) -> Self {
        Shape {
            name: self.name.clone(),
            kind: self.kind.clone(),
            sensitive: self.sensitive,
            compiled: OnceLock::new(),
        }
    }
}

/// Bounds from `min`/`max`: lengths for strings (characters), blobs (bytes), lists and maps
/// (entries); values for numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bounds {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    Byte,
    Short,
    Integer,
    Long,
    Float,
    Double,
    BigInteger,
    BigDecimal,
}

impl NumberKind {
    pub fn is_integral(self) -> bool {
        !matches!(
            self,
            NumberKind::Float | NumberKind::Double | NumberKind::BigDecimal
        )
    }

    /// The Java class name AWS's (Coral) deserializer uses in its messages.
    pub(crate) fn java_name(self) -> &'static str {
        match self {
            NumberKind::Byte => "Byte",
            NumberKind::Short => "Short",
            NumberKind::Integer => "Integer",
            NumberKind::Long => "Long",
            NumberKind::Float => "Float",
            NumberKind::Double => "Double",
            NumberKind::BigInteger => "BigInteger",
            NumberKind::BigDecimal => "BigDecimal",
        }
    }

    pub(crate) fn clamp_range(self) -> (f64, f64) {
        match self {
            NumberKind::Byte => (i8::MIN as f64, i8::MAX as f64),
            NumberKind::Short => (i16::MIN as f64, i16::MAX as f64),
            NumberKind::Integer => (i32::MIN as f64, i32::MAX as f64),
            _ => (i64::MIN as f64, i64::MAX as f64),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampFormat {
    Iso8601,
    UnixTimestamp,
    Rfc822,
}

#[derive(Debug, Clone)]
pub enum ShapeKind {
    Structure(Structure),
    List(ListShape),
    Map(MapShape),
    String(StringShape),
    Number {
        kind: NumberKind,
        range: Bounds,
    },
    Boolean,
    Blob {
        length: Bounds,
    },
    Timestamp {
        format: Option<TimestampFormat>,
    },
    /// Smithy document type: any JSON, passed through.
    Document,
}

#[derive(Debug, Clone)]
pub struct Structure {
    pub members: Vec<Member>,
    /// Present when the structure is an error shape.
    pub error: Option<ErrorInfo>,
    pub union: bool,
}

#[derive(Debug, Clone)]
pub struct ListShape {
    pub member: ShapeId,
    /// `locationName` of the list member (`member` when absent).
    pub member_name: Option<Box<str>>,
    pub flattened: bool,
    pub length: Bounds,
}

#[derive(Debug, Clone)]
pub struct MapShape {
    pub key: ShapeId,
    pub value: ShapeId,
    pub key_name: Option<Box<str>>,
    pub value_name: Option<Box<str>>,
    pub flattened: bool,
    pub length: Bounds,
}

#[derive(Debug, Clone)]
pub struct StringShape {
    pub length: Bounds,
    pub pattern: Option<Box<str>>,
    pub enum_values: Option<Box<[Box<str>]>>,
}

/// A structure member.
#[derive(Debug, Clone)]
pub struct Member {
    /// The model's member name (`UserName`): the canonical key.
    pub name: Box<str>,
    /// The name in validation paths: lower-camel-cased (`userName`), as AWS writes it.
    pub path_name: Box<str>,
    pub shape: ShapeId,
    pub required: bool,
    /// `locationName` (serialized name) if the model gives one.
    pub location_name: Option<Box<str>>,
    /// Member-level `sensitive` (the target shape may be sensitive too).
    pub sensitive: bool,
    pub flattened: bool,
    pub timestamp_format: Option<TimestampFormat>,
}

impl Member {
    /// The name on the wire for XML / query protocols.
    pub fn wire_name(&self) -> &str {
        self.location_name.as_deref().unwrap_or(&self.name)
    }
}

/// What an error shape says about itself (`error.code`, `httpStatusCode`, `senderFault`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorInfo {
    pub code: Box<str>,
    pub status: u16,
    pub sender_fault: bool,
}

impl ServiceModel {
    /// Loads a botocore `service-2.json` that is not embedded (tests, tools). The result is not
    /// registered for lookups.
    pub fn from_json(
        name: &'static str,
        json: &[u8],
        global: bool,
    ) -> Result<ServiceModel, String> {
        parse_model_json(name, json, global)
    }

    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    /// Every modelled operation name, sorted.
    pub fn operation_names(&self) -> impl Iterator<Item = &str> {
        self.operation_names.iter().map(|n| &**n)
    }

    pub fn shape(&self, id: ShapeId) -> &Shape {
        // Ids are only ever made by the loader, which resolves every reference, so the index is
        // always in range; `get` keeps the no-panic rule anyway.
        self.shapes
            .get(id.0 as usize)
            .unwrap_or_else(|| placeholder_shape())
    }

    pub fn shape_id(&self, name: &str) -> Option<ShapeId> {
        self.shape_ids.get(name).copied()
    }

    pub fn shape_by_name(&self, name: &str) -> Option<&Shape> {
        self.shape_id(name).map(|id| self.shape(id))
    }

    /// The error facts of an error shape (`NoSuchEntityException` -> `NoSuchEntity`, 404, sender).
    pub fn error_info(&self, shape_name: &str) -> Option<&ErrorInfo> {
        match &self.shape_by_name(shape_name)?.kind {
            ShapeKind::Structure(s) => s.error.as_ref(),
            _ => None,
        }
    }

    /// String shapes whose `pattern` the `regex` crate cannot express (lookaround,
    /// back-references): their pattern check is skipped. Compiles every pattern of the model.
    pub fn unchecked_patterns(&self) -> Vec<(&str, &str)> {
        self.shapes
            .iter()
            .filter_map(|shape| match &shape.kind {
                ShapeKind::String(StringShape {
                    pattern: Some(p), ..
                }) if crate::pattern::compiled(shape, p).is_none() => Some((&*shape.name, &**p)),
                _ => None,
            })
            .collect()
    }

    /// The JSON key for the message of an error with this code: the modelled error shape's own
    /// spelling (`Message` / `message`), else the service's usual one.
    pub fn json_message_key(&self, code: &str) -> &'static str {
        self.error_message_keys
            .get(code)
            .copied()
            .unwrap_or(self.json_error_message_key)
    }

    /// Number of shapes (for diagnostics and tests).
    pub fn shape_count(&self) -> usize {
        self.shapes.len()
    }
}

/// Stands in for an out-of-range id; unreachable for ids made by the loader.
fn placeholder_shape() -> &'static Shape {
    static PLACEHOLDER: OnceLock<Shape> = OnceLock::new();
    PLACEHOLDER.get_or_init(|| Shape {
        name: "".into(),
        kind: ShapeKind::Document,
        sensitive: true,
        compiled: OnceLock::new(),
    })
}

/// `UserName` -> `userName`: AWS's validation messages lower-case the first letter only.
pub(crate) fn lower_first(name: &str) -> Box<str> {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => {
            let mut out = String::with_capacity(name.len());
            out.extend(first.to_lowercase());
            out.push_str(chars.as_str());
            out.into()
        }
        None => "".into(),
    }
}
