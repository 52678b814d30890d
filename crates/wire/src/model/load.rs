//! botocore `service-2.json` -> [`ServiceModel`]. Only the fields the codecs use are
//! deserialized; documentation strings are skipped by serde without being allocated.
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};

use super::{
    Bounds, ErrorInfo, ListShape, MapShape, Member, NumberKind, Operation, ServiceModel, Shape,
    ShapeId, ShapeKind, StringShape, Structure, TimestampFormat, lower_first,
};
use crate::protocol::Protocol;

#[derive(Deserialize)]
struct RawModel {
    metadata: RawMetadata,
    #[serde(default)]
    operations: HashMap<String, RawOperation>,
    #[serde(default)]
    shapes: HashMap<String, RawShape>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawMetadata {
    pub api_version: String,
    pub endpoint_prefix: String,
    #[serde(default)]
    pub signing_name: Option<String>,
    pub protocol: String,
    #[serde(default)]
    pub protocols: Option<Vec<String>>,
    #[serde(default)]
    pub target_prefix: Option<String>,
    #[serde(default)]
    pub json_version: Option<String>,
    #[serde(default)]
    pub xml_namespace: Option<String>,
    #[serde(default)]
    pub service_id: Option<String>,
}

impl RawMetadata {
    /// The protocol botocore picks: the first of its priority list the model supports.
    pub(crate) fn protocol(&self) -> Protocol {
        const PRIORITY: [&str; 6] = [
            "json",
            "rest-json",
            "rest-xml",
            "smithy-rpc-v2-cbor",
            "query",
            "ec2",
        ];
        let chosen = self
            .protocols
            .as_ref()
            .and_then(|list| {
                PRIORITY
                    .iter()
                    .find(|p| list.iter().any(|l| l == *p))
                    .copied()
            })
            .unwrap_or(self.protocol.as_str());
        Protocol::from_model(chosen, self.json_version.as_deref())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOperation {
    #[serde(default)]
    http: RawHttp,
    #[serde(default)]
    input: Option<RawShapeRef>,
    #[serde(default)]
    output: Option<RawShapeRef>,
    #[serde(default)]
    errors: Vec<RawShapeRef>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawHttp {
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    request_uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawShapeRef {
    shape: String,
    #[serde(default)]
    result_wrapper: Option<String>,
    #[serde(default)]
    location_name: Option<String>,
    #[serde(default)]
    sensitive: bool,
    #[serde(default)]
    flattened: bool,
    #[serde(default)]
    timestamp_format: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawShape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    members: OrderedMembers,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    member: Option<RawShapeRef>,
    #[serde(default)]
    key: Option<RawShapeRef>,
    #[serde(default)]
    value: Option<RawShapeRef>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(default, rename = "enum")]
    enum_values: Option<Vec<String>>,
    #[serde(default)]
    sensitive: bool,
    #[serde(default)]
    flattened: bool,
    #[serde(default)]
    timestamp_format: Option<String>,
    #[serde(default)]
    error: Option<RawErrorTrait>,
    #[serde(default)]
    exception: bool,
    #[serde(default)]
    fault: bool,
    #[serde(default)]
    union: bool,
    #[serde(default)]
    document: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawErrorTrait {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    http_status_code: Option<u16>,
    #[serde(default)]
    sender_fault: Option<bool>,
}

/// Structure members in model order (the order AWS writes them in XML responses).
#[derive(Default)]
struct OrderedMembers(Vec<(String, RawShapeRef)>);

impl<'de> Deserialize<'de> for OrderedMembers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedMembers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of members")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(4));
                while let Some((k, v)) = map.next_entry::<String, RawShapeRef>()? {
                    out.push((k, v));
                }
                Ok(OrderedMembers(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Reads only the `metadata` object of a model. botocore writes it right after `version`, so only
/// the first kilobytes need decompressing; this keeps service lookup cheap without loading models.
pub(crate) fn parse_metadata(gz: &[u8]) -> Result<RawMetadata, String> {
    use std::io::Read;
    let mut decoder = flate2::read::GzDecoder::new(gz);
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(start) = find(&buf, b"\"metadata\"") {
            let after = start + b"\"metadata\"".len();
            if let Some(rest) = buf.get(after..) {
                let colon = rest.iter().position(|b| *b == b':');
                if let Some(colon) = colon {
                    let value = rest.get(colon + 1..).unwrap_or(&[]);
                    let mut stream =
                        serde_json::Deserializer::from_slice(value).into_iter::<RawMetadata>();
                    match stream.next() {
                        Some(Ok(meta)) => return Ok(meta),
                        Some(Err(e)) if !e.is_eof() => return Err(e.to_string()),
                        _ => {}
                    }
                }
            }
        }
        let n = decoder.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("model has no metadata".into());
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
        if buf.len() > 1 << 20 {
            return Err("metadata not found in the first MiB".into());
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Decompresses and converts a whole model. The raw JSON is dropped before returning.
pub(crate) fn parse_model(
    name: &'static str,
    gz: &[u8],
    global: bool,
) -> Result<ServiceModel, String> {
    use std::io::Read;
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut json)
        .map_err(|e| format!("{name}: {e}"))?;
    let model = parse_model_json(name, &json, global);
    drop(json);
    model
}

/// Converts an uncompressed `service-2.json`.
pub(crate) fn parse_model_json(
    name: &'static str,
    json: &[u8],
    global: bool,
) -> Result<ServiceModel, String> {
    let raw: RawModel = serde_json::from_slice(json).map_err(|e| format!("{name}: {e}"))?;
    let mut model = convert(name, raw, global)?;
    for (service, shape, member) in EXTRA_SENSITIVE {
        if *service == name {
            mark_sensitive(&mut model, shape, member);
        }
    }
    Ok(model)
}

/// Members Rampart treats as sensitive although the model does not mark them: they are bearer
/// secrets that must not reach audit records or logs. (CloudTrail itself logs STS session tokens;
/// we choose not to.)
const EXTRA_SENSITIVE: &[(&str, &str, &str)] = &[("sts", "Credentials", "SessionToken")];

fn mark_sensitive(model: &mut ServiceModel, shape: &str, member: &str) {
    let Some(id) = model.shape_id(shape) else {
        return;
    };
    if let Some(Shape {
        kind: ShapeKind::Structure(s),
        ..
    }) = model.shapes.get_mut(id.0 as usize)
    {
        for m in s.members.iter_mut().filter(|m| &*m.name == member) {
            m.sensitive = true;
        }
    }
}

fn convert(name: &'static str, raw: RawModel, global: bool) -> Result<ServiceModel, String> {
    let mut names: Vec<&String> = raw.shapes.keys().collect();
    names.sort();
    let shape_ids: HashMap<Box<str>, ShapeId> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (Box::<str>::from(n.as_str()), ShapeId(i as u32)))
        .collect();
    let resolve = |target: &str| -> Result<ShapeId, String> {
        shape_ids
            .get(target)
            .copied()
            .ok_or_else(|| format!("{name}: unknown shape {target}"))
    };

    let mut shapes = Vec::with_capacity(names.len());
    for shape_name in &names {
        let Some(raw_shape) = raw.shapes.get(*shape_name) else {
            continue;
        };
        let kind = convert_kind(raw_shape, shape_name, &resolve)?;
        shapes.push(Shape {
            name: shape_name.as_str().into(),
            kind,
            sensitive: raw_shape.sensitive,
            compiled: OnceLock::new(),
        });
    }

    let mut operations = HashMap::with_capacity(raw.operations.len());
    for (op_name, op) in &raw.operations {
        let input = op.input.as_ref().map(|r| resolve(&r.shape)).transpose()?;
        let output = op.output.as_ref().map(|r| resolve(&r.shape)).transpose()?;
        let errors = op
            .errors
            .iter()
            .map(|r| resolve(&r.shape))
            .collect::<Result<Vec<_>, _>>()?;
        operations.insert(
            Box::<str>::from(op_name.as_str()),
            Operation {
                name: op_name.as_str().into(),
                input,
                output,
                result_wrapper: op
                    .output
                    .as_ref()
                    .and_then(|r| r.result_wrapper.as_deref())
                    .map(Into::into),
                errors,
                http_method: op.http.method.as_deref().unwrap_or("POST").into(),
                request_uri: op.http.request_uri.as_deref().unwrap_or("/").into(),
            },
        );
    }
    let mut operation_names: Vec<Box<str>> = operations.keys().cloned().collect();
    operation_names.sort();

    let meta = raw.metadata;
    let protocol = meta.protocol();
    let json_error_message_key = message_key(&shapes);
    let error_message_keys = shapes
        .iter()
        .filter_map(|shape| match &shape.kind {
            ShapeKind::Structure(Structure {
                error: Some(info),
                members,
                ..
            }) => {
                let key = members.iter().find_map(|m| match &*m.name {
                    "Message" => Some("Message"),
                    "message" => Some("message"),
                    _ => None,
                })?;
                Some((info.code.clone(), key))
            }
            _ => None,
        })
        .collect();
    let xml_namespace = meta.xml_namespace.clone().or_else(|| {
        matches!(protocol, Protocol::AwsQuery | Protocol::Ec2Query).then(|| {
            format!(
                "https://{}.amazonaws.com/doc/{}/",
                meta.endpoint_prefix, meta.api_version
            )
        })
    });
    Ok(ServiceModel {
        name,
        signing_name: meta
            .signing_name
            .clone()
            .unwrap_or_else(|| meta.endpoint_prefix.clone()),
        endpoint_prefix: meta.endpoint_prefix,
        protocol,
        target_prefix: meta.target_prefix,
        api_version: meta.api_version,
        xml_namespace,
        json_version: meta.json_version,
        service_id: meta.service_id.unwrap_or_default(),
        global,
        json_error_message_key,
        error_message_keys,
        operations,
        operation_names,
        shapes,
        shape_ids,
    })
}

/// `Message` if the model's error shapes spell it so (Secrets Manager), else `message`.
fn message_key(shapes: &[Shape]) -> &'static str {
    let (mut upper, mut lower) = (0usize, 0usize);
    for shape in shapes {
        if let ShapeKind::Structure(s) = &shape.kind {
            if s.error.is_none() {
                continue;
            }
            for m in &s.members {
                match &*m.name {
                    "Message" => upper += 1,
                    "message" => lower += 1,
                    _ => {}
                }
            }
        }
    }
    if upper > lower { "Message" } else { "message" }
}

fn timestamp_format(s: Option<&str>) -> Option<TimestampFormat> {
    match s? {
        "iso8601" => Some(TimestampFormat::Iso8601),
        "unixTimestamp" => Some(TimestampFormat::UnixTimestamp),
        "rfc822" => Some(TimestampFormat::Rfc822),
        _ => None,
    }
}

fn convert_kind(
    raw: &RawShape,
    shape_name: &str,
    resolve: &dyn Fn(&str) -> Result<ShapeId, String>,
) -> Result<ShapeKind, String> {
    let bounds = Bounds {
        min: raw.min,
        max: raw.max,
    };
    Ok(match raw.kind.as_str() {
        "structure" if raw.document => ShapeKind::Document,
        "structure" => {
            let mut members = Vec::with_capacity(raw.members.0.len());
            for (member_name, r) in &raw.members.0 {
                members.push(Member {
                    name: member_name.as_str().into(),
                    path_name: lower_first(member_name),
                    shape: resolve(&r.shape)?,
                    required: raw.required.iter().any(|q| q == member_name),
                    location_name: r.location_name.as_deref().map(Into::into),
                    sensitive: r.sensitive,
                    flattened: r.flattened,
                    timestamp_format: timestamp_format(r.timestamp_format.as_deref()),
                });
            }
            let error = (raw.exception || raw.fault || raw.error.is_some()).then(|| {
                let fault = raw.fault;
                let declared = raw.error.as_ref();
                let status = declared
                    .and_then(|e| e.http_status_code)
                    .unwrap_or(if fault { 500 } else { 400 });
                ErrorInfo {
                    code: declared
                        .and_then(|e| e.code.as_deref())
                        .unwrap_or(shape_name)
                        .into(),
                    status,
                    sender_fault: declared
                        .and_then(|e| e.sender_fault)
                        .unwrap_or(!fault && status < 500),
                }
            });
            ShapeKind::Structure(Structure {
                members,
                error,
                union: raw.union,
            })
        }
        "list" => {
            let member = raw
                .member
                .as_ref()
                .ok_or_else(|| format!("list {shape_name} has no member"))?;
            ShapeKind::List(ListShape {
                member: resolve(&member.shape)?,
                member_name: member.location_name.as_deref().map(Into::into),
                flattened: raw.flattened,
                length: bounds,
            })
        }
        "map" => {
            let key = raw
                .key
                .as_ref()
                .ok_or_else(|| format!("map {shape_name} has no key"))?;
            let value = raw
                .value
                .as_ref()
                .ok_or_else(|| format!("map {shape_name} has no value"))?;
            ShapeKind::Map(MapShape {
                key: resolve(&key.shape)?,
                value: resolve(&value.shape)?,
                key_name: key.location_name.as_deref().map(Into::into),
                value_name: value.location_name.as_deref().map(Into::into),
                flattened: raw.flattened,
                length: bounds,
            })
        }
        "string" => ShapeKind::String(StringShape {
            length: bounds,
            pattern: raw.pattern.as_deref().map(Into::into),
            enum_values: raw
                .enum_values
                .as_ref()
                .map(|v| v.iter().map(|s| Box::<str>::from(s.as_str())).collect()),
        }),
        "integer" => number(NumberKind::Integer, bounds),
        "long" => number(NumberKind::Long, bounds),
        "short" => number(NumberKind::Short, bounds),
        "byte" => number(NumberKind::Byte, bounds),
        "float" => number(NumberKind::Float, bounds),
        "double" => number(NumberKind::Double, bounds),
        "bigInteger" => number(NumberKind::BigInteger, bounds),
        "bigDecimal" => number(NumberKind::BigDecimal, bounds),
        "boolean" => ShapeKind::Boolean,
        "blob" => ShapeKind::Blob { length: bounds },
        "timestamp" => ShapeKind::Timestamp {
            format: timestamp_format(raw.timestamp_format.as_deref()),
        },
        "document" => ShapeKind::Document,
        other => return Err(format!("shape {shape_name} has unknown type {other}")),
    })
}

fn number(kind: NumberKind, range: Bounds) -> ShapeKind {
    ShapeKind::Number { kind, range }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn metadata_is_read_from_the_top_of_the_model() {
        let model = br#"{"version":"2.0","metadata":{"apiVersion":"2020-01-01","endpointPrefix":"x","protocol":"json","jsonVersion":"1.0","targetPrefix":"X_20200101"},"operations":{}}"#;
        let meta = parse_metadata(&gz(model)).unwrap();
        assert_eq!(meta.endpoint_prefix, "x");
        assert_eq!(meta.protocol(), Protocol::AwsJson1_0);
        assert_eq!(meta.target_prefix.as_deref(), Some("X_20200101"));
    }

    #[test]
    fn protocols_list_follows_botocore_priority() {
        let model = br#"{"metadata":{"apiVersion":"1","endpointPrefix":"x","protocol":"query","protocols":["query","smithy-rpc-v2-cbor"]}}"#;
        assert_eq!(
            parse_metadata(&gz(model)).unwrap().protocol(),
            Protocol::RpcV2Cbor
        );
        let model = br#"{"metadata":{"apiVersion":"1","endpointPrefix":"x","protocol":"query","protocols":["smithy-rpc-v2-cbor","json"]}}"#;
        assert_eq!(
            parse_metadata(&gz(model)).unwrap().protocol(),
            Protocol::AwsJson1_1
        );
    }

    #[test]
    fn broken_models_are_errors() {
        assert!(parse_metadata(b"not gzip at all").is_err());
        assert!(parse_metadata(&gz(br#"{"version":"2.0"}"#)).is_err());
        assert!(parse_metadata(&gz(br#"{"metadata":{"apiVersion":1}}"#)).is_err());
        assert!(parse_model("x", b"not gzip", false).is_err());
        let dangling = br#"{"metadata":{"apiVersion":"1","endpointPrefix":"x","protocol":"json"},"operations":{"Op":{"name":"Op","http":{},"input":{"shape":"Missing"}}},"shapes":{}}"#;
        assert!(
            parse_model_json("x", dangling, false)
                .unwrap_err()
                .contains("unknown shape Missing")
        );
        let bad_type = br#"{"metadata":{"apiVersion":"1","endpointPrefix":"x","protocol":"json"},"shapes":{"S":{"type":"quaternion"}}}"#;
        assert!(parse_model_json("x", bad_type, false).is_err());
    }
}
