//! CloudTrail's record format (eventVersion 1.09): the event for one API call and for one
//! background action of Rampart itself (`AwsServiceEvent`). The caller supplies everything
//! (time, ids, already-redacted parameters); nothing here reads the clock.
use rampart_services::{AuditResource, Principal, PrincipalKind, ServiceEvent};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

pub const EVENT_VERSION: &str = "1.09";

/// What is known about a temporary-credential session (AssumedRole, FederatedUser).
#[derive(Debug, Clone, Default)]
pub struct SessionFacts {
    /// When the session's credentials were issued.
    pub creation_date: Option<OffsetDateTime>,
    pub mfa_authenticated: bool,
}

/// Who made the call.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    /// An authenticated principal.
    Principal {
        principal: &'a Principal,
        session: &'a SessionFacts,
    },
    /// Authentication failed: only the claimed access key (if any) is known.
    Unknown { access_key_id: Option<&'a str> },
}

/// `tlsDetails`, present when the request came over TLS.
#[derive(Debug, Clone)]
pub struct TlsDetails {
    pub tls_version: String,
    pub cipher_suite: String,
    pub client_provided_host_header: String,
}

/// One API call, as the pipeline saw it.
#[derive(Debug, Clone)]
pub struct ApiCall<'a> {
    pub time: OffsetDateTime,
    /// `kms.amazonaws.com`
    pub event_source: &'a str,
    pub event_name: &'a str,
    pub region: &'a str,
    pub source_ip: &'a str,
    pub user_agent: &'a str,
    pub caller: Caller<'a>,
    /// Already redacted (model-sensitive members hidden).
    pub request_parameters: Value,
    pub response_elements: Value,
    /// The error code as the wire rendered it, and its message.
    pub error: Option<(&'a str, &'a str)>,
    pub request_id: &'a str,
    pub event_id: &'a str,
    pub read_only: bool,
    pub resources: &'a [AuditResource],
    /// The account the event belongs to (`recipientAccountId`); `None` when unknown.
    pub recipient_account: Option<&'a str>,
    pub tls: Option<&'a TlsDetails>,
}

/// CloudTrail's timestamp: RFC 3339 in UTC, whole seconds (`2024-01-02T03:04:05Z`).
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// `userIdentity` for an authenticated principal.
pub fn user_identity(principal: &Principal, session: &SessionFacts) -> Value {
    serde_json::to_value(UserIdentity::of(principal, session)).unwrap_or(Value::Null)
}

/// `userIdentity` as a typed value borrowing from the principal: the request path serializes
/// it straight into the record (building it as a JSON map cost more than the rest of the
/// record). Members in CloudTrail's order; at most one of the optional ones applies.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_context: Option<Value>,
}

impl<'a> UserIdentity<'a> {
    /// An authenticated principal.
    pub fn of(principal: &'a Principal, session: &SessionFacts) -> UserIdentity<'a> {
        let mut id = UserIdentity {
            kind: principal.identity_type(),
            principal_id: Some(&principal.user_id),
            arn: Some(&principal.arn),
            account_id: Some(&principal.account),
            access_key_id: Some(&principal.access_key_id),
            identity_provider: None,
            user_name: None,
            session_context: None,
        };
        match &principal.kind {
            PrincipalKind::Root | PrincipalKind::Anonymous => {}
            PrincipalKind::WebIdentity { provider } => id.identity_provider = Some(provider),
            PrincipalKind::IamUser { name } => id.user_name = Some(name),
            PrincipalKind::AssumedRole { role_name, .. } => {
                // Without STS's facts: principalId is `AROA...:session`, the issuer is the role.
                let role_id = principal.user_id.split(':').next().unwrap_or_default();
                let role_arn = format!(
                    "arn:{}:iam::{}:role/{role_name}",
                    rampart_aws_types::PARTITION,
                    principal.account
                );
                let issuer = issuer_json(principal, &role_arn, role_id);
                id.session_context = Some(session_context(principal, session, issuer));
            }
            PrincipalKind::FederatedUser { .. } => {
                // The federation token was issued to an IAM user (or root) of the account.
                let issuer = issuer_json(principal, "", &principal.account);
                id.session_context = Some(session_context(principal, session, issuer));
            }
        }
        id
    }

    /// A caller that could not be authenticated: only the access key it claimed, if any.
    pub fn unknown(access_key_id: Option<&'a str>) -> UserIdentity<'a> {
        UserIdentity {
            kind: "Unknown",
            principal_id: None,
            arn: None,
            account_id: None,
            access_key_id,
            identity_provider: None,
            user_name: None,
            session_context: None,
        }
    }

    /// The LookupEvents `Username` (see [`identity_username`]).
    pub fn username(&self) -> Option<String> {
        match self.kind {
            "Root" => Some("root".to_string()),
            "IAMUser" => self.user_name.map(str::to_string),
            "AssumedRole" | "FederatedUser" => self
                .arn
                .unwrap_or_default()
                .rsplit('/')
                .next()
                .map(str::to_string),
            _ => None,
        }
    }
}

/// `sessionIssuer`: from the session STS issued when the principal carries it, else from what
/// the caller derived (`fallback_arn`, `fallback_id`).
fn issuer_json(principal: &Principal, fallback_arn: &str, fallback_id: &str) -> Value {
    let (arn, id) = match &principal.session {
        Some(s) if !s.issuer_arn.is_empty() => (s.issuer_arn.as_str(), s.issuer_id.as_str()),
        _ => (fallback_arn, fallback_id),
    };
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    let (kind, name) = if let Some(path_name) = resource.strip_prefix("role/") {
        ("Role", path_name.rsplit('/').next())
    } else if let Some(path_name) = resource.strip_prefix("user/") {
        ("IAMUser", path_name.rsplit('/').next())
    } else if resource == "root" {
        ("Root", None)
    } else {
        ("IAMUser", None)
    };
    let mut m = Map::new();
    m.insert("type".into(), kind.into());
    m.insert("principalId".into(), id.into());
    if !arn.is_empty() {
        m.insert("arn".into(), arn.into());
    }
    m.insert("accountId".into(), principal.account.clone().into());
    if let Some(n) = name {
        m.insert("userName".into(), n.into());
    }
    Value::Object(m)
}

/// `sessionContext.attributes`: STS's issue time and MFA flag when the principal carries them,
/// else what the caller passed.
fn session_context(principal: &Principal, facts: &SessionFacts, issuer: Value) -> Value {
    let (created, mfa) = match &principal.session {
        Some(s) => (
            OffsetDateTime::from_unix_timestamp(s.issued_at).ok(),
            s.mfa_authenticated,
        ),
        None => (facts.creation_date, facts.mfa_authenticated),
    };
    let mut attributes = Map::new();
    if let Some(created) = created {
        attributes.insert("creationDate".into(), format_time(created).into());
    }
    attributes.insert("mfaAuthenticated".into(), mfa.to_string().into());
    json!({ "sessionIssuer": issuer, "attributes": attributes })
}

fn resources_json(resources: &[AuditResource], fallback_account: Option<&str>) -> Value {
    Value::Array(
        resources
            .iter()
            .map(|r| {
                // The owner account is the ARN's fifth field when it has one.
                let account = r
                    .arn
                    .split(':')
                    .nth(4)
                    .filter(|a| !a.is_empty())
                    .or(fallback_account);
                let mut m = Map::new();
                if let Some(a) = account {
                    m.insert("accountId".into(), a.into());
                }
                m.insert("type".into(), r.resource_type.clone().into());
                m.insert("ARN".into(), r.arn.clone().into());
                Value::Object(m)
            })
            .collect(),
    )
}

/// The record of one API call, as a typed value: serialized straight to JSON on the request
/// path (no `Value` tree to build, allocate and walk again), in CloudTrail's member order.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiCallRecord<'a> {
    /// `eventTime` in Unix seconds (for the index; not a member of the record).
    #[serde(skip)]
    pub seconds: i64,
    pub event_version: &'static str,
    pub user_identity: UserIdentity<'a>,
    pub event_time: String,
    pub event_source: &'a str,
    pub event_name: &'a str,
    pub aws_region: &'a str,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: &'a str,
    pub user_agent: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<&'a str>,
    pub request_parameters: Value,
    pub response_elements: Value,
    #[serde(rename = "requestID")]
    pub request_id: &'a str,
    /// Empty: the audit writer adds it (it carries the sequence number).
    #[serde(rename = "eventID", skip_serializing_if = "str::is_empty")]
    pub event_id: &'a str,
    pub read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Value>,
    pub event_type: &'static str,
    pub management_event: bool,
    /// `null` when the account is unknown (a request that failed authentication).
    pub recipient_account_id: Option<&'a str>,
    pub event_category: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_details: Option<Value>,
}

impl<'a> ApiCallRecord<'a> {
    pub fn new(call: ApiCall<'a>) -> ApiCallRecord<'a> {
        let user_identity = match call.caller {
            Caller::Principal { principal, session } => UserIdentity::of(principal, session),
            Caller::Unknown { access_key_id } => UserIdentity::unknown(access_key_id),
        };
        ApiCallRecord {
            seconds: call.time.unix_timestamp(),
            event_version: EVENT_VERSION,
            user_identity,
            event_time: format_time(call.time),
            event_source: call.event_source,
            event_name: call.event_name,
            aws_region: call.region,
            source_ip_address: call.source_ip,
            user_agent: call.user_agent,
            error_code: call.error.map(|(code, _)| code),
            error_message: call.error.map(|(_, message)| message),
            request_parameters: call.request_parameters,
            response_elements: call.response_elements,
            request_id: call.request_id,
            event_id: call.event_id,
            read_only: call.read_only,
            resources: (!call.resources.is_empty())
                .then(|| resources_json(call.resources, call.recipient_account)),
            event_type: "AwsApiCall",
            management_event: true,
            recipient_account_id: call.recipient_account,
            event_category: "Management",
            tls_details: call.tls.map(|tls| {
                json!({
                    "tlsVersion": tls.tls_version,
                    "cipherSuite": tls.cipher_suite,
                    "clientProvidedHostHeader": tls.client_provided_host_header,
                })
            }),
        }
    }
}

/// The record of one API call.
pub fn api_call_event(call: ApiCall<'_>) -> Value {
    serde_json::to_value(ApiCallRecord::new(call)).unwrap_or(Value::Null)
}

/// The record of a background action (`AwsServiceEvent`): the acting service is the identity.
pub fn service_event(event: &ServiceEvent, event_id: &str) -> Value {
    let mut e = Map::new();
    e.insert("eventVersion".into(), EVENT_VERSION.into());
    e.insert(
        "userIdentity".into(),
        json!({ "type": "AWSService", "accountId": event.account, "invokedBy": event.event_source }),
    );
    e.insert("eventTime".into(), format_time(event.time).into());
    e.insert("eventSource".into(), event.event_source.clone().into());
    e.insert("eventName".into(), event.event_name.clone().into());
    e.insert("awsRegion".into(), event.region.clone().into());
    e.insert("sourceIPAddress".into(), event.event_source.clone().into());
    e.insert("userAgent".into(), event.event_source.clone().into());
    e.insert("requestParameters".into(), Value::Null);
    e.insert("responseElements".into(), Value::Null);
    if !event_id.is_empty() {
        e.insert("eventID".into(), event_id.into());
    }
    e.insert("readOnly".into(), false.into());
    if !event.resources.is_empty() {
        e.insert(
            "resources".into(),
            resources_json(&event.resources, Some(&event.account)),
        );
    }
    e.insert("eventType".into(), "AwsServiceEvent".into());
    e.insert("managementEvent".into(), true.into());
    e.insert("recipientAccountId".into(), event.account.clone().into());
    if let Some(details) = &event.details {
        e.insert("serviceEventDetails".into(), details.clone());
    }
    e.insert("eventCategory".into(), "Management".into());
    Value::Object(e)
}

/// CloudTrail's `Username` for an event (what LookupEvents shows and filters on): `root` for
/// the root user, the user name, the role session name or the federated user's name.
pub fn username(event: &Value) -> Option<String> {
    identity_username(event.get("userIdentity")?)
}

/// [`username`] from the `userIdentity` object itself.
pub fn identity_username(id: &Value) -> Option<String> {
    let arn = id.get("arn").and_then(Value::as_str).unwrap_or_default();
    match id.get("type").and_then(Value::as_str)? {
        "Root" => Some("root".to_string()),
        "IAMUser" => id
            .get("userName")
            .and_then(Value::as_str)
            .map(str::to_string),
        "AssumedRole" | "FederatedUser" => arn.rsplit('/').next().map(str::to_string),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_are_written_as_cloudtrail_writes_them() {
        for t in [
            datetime!(2026-11-29 23:59:07 UTC),
            datetime!(1970-01-01 00:00:00 UTC),
            datetime!(0001-02-03 04:05:06 UTC),
            datetime!(9999-12-31 23:59:59.999 UTC),
            datetime!(2024-02-29 12:00:00 +02:00),
        ] {
            let u = t.to_offset(time::UtcOffset::UTC);
            let expected = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                u.year(),
                u8::from(u.month()),
                u.day(),
                u.hour(),
                u.minute(),
                u.second()
            );
            assert_eq!(format_time(t), expected);
            assert_eq!(
                parse_time(&expected).map(|p| p.unix_timestamp()),
                Some(u.unix_timestamp())
            );
        }
        assert_eq!(
            format_time(datetime!(2024-02-29 12:00:00 +02:00)),
            "2024-02-29T10:00:00Z"
        );
    }

    fn principal(kind: PrincipalKind, arn: &str, user_id: &str) -> Principal {
        // Built from `root` so the test does not depend on every field of `Principal`.
        let mut p = Principal::root("123456789012", "ASIAEXAMPLE");
        p.kind = kind;
        p.arn = arn.into();
        p.user_id = user_id.into();
        p
    }

    #[test]
    fn assumed_role_identity_has_a_session_issuer() {
        let p = principal(
            PrincipalKind::AssumedRole {
                role_name: "admin".into(),
                session_name: "alice".into(),
            },
            "arn:aws:sts::123456789012:assumed-role/admin/alice",
            "AROAEXAMPLEID:alice",
        );
        let s = SessionFacts {
            creation_date: Some(datetime!(2024-05-06 07:08:09 UTC)),
            mfa_authenticated: true,
        };
        let id = user_identity(&p, &s);
        assert_eq!(id["type"], "AssumedRole");
        let ctx = &id["sessionContext"];
        assert_eq!(ctx["sessionIssuer"]["type"], "Role");
        assert_eq!(ctx["sessionIssuer"]["principalId"], "AROAEXAMPLEID");
        assert_eq!(
            ctx["sessionIssuer"]["arn"],
            "arn:aws:iam::123456789012:role/admin"
        );
        assert_eq!(ctx["sessionIssuer"]["userName"], "admin");
        assert_eq!(ctx["attributes"]["creationDate"], "2024-05-06T07:08:09Z");
        assert_eq!(ctx["attributes"]["mfaAuthenticated"], "true");
        let event = json!({ "userIdentity": id });
        assert_eq!(username(&event).as_deref(), Some("alice"));
    }

    #[test]
    fn sts_session_facts_win() {
        let mut p = principal(
            PrincipalKind::AssumedRole {
                role_name: "ops".into(),
                session_name: "s1".into(),
            },
            "arn:aws:sts::123456789012:assumed-role/ops/s1",
            "AROAOPS:s1",
        );
        p.session = Some(std::sync::Arc::new(rampart_services::principal::Session {
            issued_at: 1_700_000_000,
            issuer_arn: "arn:aws:iam::123456789012:role/team/ops".into(),
            issuer_id: "AROAREALID".into(),
            mfa_authenticated: true,
            ..Default::default()
        }));
        let id = user_identity(&p, &SessionFacts::default());
        let ctx = &id["sessionContext"];
        assert_eq!(
            ctx["sessionIssuer"]["arn"],
            "arn:aws:iam::123456789012:role/team/ops"
        );
        assert_eq!(ctx["sessionIssuer"]["principalId"], "AROAREALID");
        assert_eq!(ctx["sessionIssuer"]["userName"], "ops");
        assert_eq!(ctx["attributes"]["creationDate"], "2023-11-14T22:13:20Z");
        assert_eq!(ctx["attributes"]["mfaAuthenticated"], "true");
    }

    #[test]
    fn root_and_user_identities() {
        let root = Principal::root("123456789012", "AKIAROOT");
        let id = user_identity(&root, &SessionFacts::default());
        assert_eq!(id["type"], "Root");
        assert!(id.get("sessionContext").is_none());
        assert_eq!(
            username(&json!({ "userIdentity": id })).as_deref(),
            Some("root")
        );
        let bob = principal(
            PrincipalKind::IamUser { name: "bob".into() },
            "arn:aws:iam::123456789012:user/bob",
            "AIDABOB",
        );
        let id = user_identity(&bob, &SessionFacts::default());
        assert_eq!(id["userName"], "bob");
        assert_eq!(
            username(&json!({ "userIdentity": id })).as_deref(),
            Some("bob")
        );
    }

    #[test]
    fn api_call_record_fields() {
        let root = Principal::root("123456789012", "AKIAROOT");
        let session = SessionFacts::default();
        let resources = [AuditResource {
            arn: "arn:aws:kms:us-east-1:123456789012:key/k1".into(),
            resource_type: "AWS::KMS::Key".into(),
        }];
        let tls = TlsDetails {
            tls_version: "TLSv1.3".into(),
            cipher_suite: "TLS_AES_128_GCM_SHA256".into(),
            client_provided_host_header: "kms.example".into(),
        };
        let call = ApiCall {
            time: datetime!(2024-01-02 03:04:05.678 UTC),
            event_source: "kms.amazonaws.com",
            event_name: "Encrypt",
            region: "us-east-1",
            source_ip: "10.0.0.1",
            user_agent: "ua",
            caller: Caller::Principal {
                principal: &root,
                session: &session,
            },
            request_parameters: json!({"KeyId": "k1"}),
            response_elements: Value::Null,
            error: Some(("AccessDeniedException", "no")),
            request_id: "r",
            event_id: "e",
            read_only: false,
            resources: &resources,
            recipient_account: Some("123456789012"),
            tls: Some(&tls),
        };
        // The typed record serializes to the same JSON, and its index metadata is the JSON's.
        let typed = ApiCallRecord::new(call.clone());
        let meta = crate::index::EventMeta::of_api_call(&typed, "999999999999");
        let bytes = serde_json::to_vec(&typed).unwrap();
        let e = api_call_event(call);
        assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), e);
        let mut from_json = crate::index::EventMeta::of(&e, "999999999999");
        from_json.attributes.retain(|(a, _)| *a != "EventId");
        assert_eq!(meta, from_json);
        assert!(
            meta.attributes
                .iter()
                .any(|(a, v)| *a == "Username" && v == "root")
        );
        assert!(
            meta.attributes
                .iter()
                .any(|(a, v)| *a == "ResourceName" && v == "k1")
        );
        assert_eq!(meta.seconds, 1_704_164_645);
        assert_eq!(e["eventTime"], "2024-01-02T03:04:05Z");
        assert_eq!(e["errorCode"], "AccessDeniedException");
        assert_eq!(e["resources"][0]["type"], "AWS::KMS::Key");
        assert_eq!(e["resources"][0]["accountId"], "123456789012");
        assert_eq!(e["tlsDetails"]["tlsVersion"], "TLSv1.3");
        assert_eq!(e["managementEvent"], true);
        assert_eq!(e["eventCategory"], "Management");
        assert_eq!(e["eventType"], "AwsApiCall");
    }

    #[test]
    fn service_events_name_the_service() {
        let ev = ServiceEvent {
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            event_source: "kms.amazonaws.com".into(),
            event_name: "DeleteKey".into(),
            time: datetime!(2024-01-02 03:04:05 UTC),
            details: Some(json!({"keyId": "k"})),
            resources: vec![],
        };
        let e = service_event(&ev, "id");
        assert_eq!(e["eventType"], "AwsServiceEvent");
        assert_eq!(e["userIdentity"]["type"], "AWSService");
        assert_eq!(e["userIdentity"]["invokedBy"], "kms.amazonaws.com");
        assert_eq!(e["recipientAccountId"], "123456789012");
        assert_eq!(e["serviceEventDetails"]["keyId"], "k");
    }
}
