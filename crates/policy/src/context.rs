//! The request context: who asks, for what action, on which resource, with which condition keys.
//!
//! Building a context allocates (keys are lower-cased, the action is lower-cased, the resource
//! ARN is split); deciding against it does not.

use std::borrow::Cow;
use std::net::IpAddr;

use crate::arn::ArnParts;
use crate::hash::key_hash;
use crate::pattern::Resolve;
use crate::value::{format_epoch, parse_date, parse_ip, parse_number};

/// What kind of principal makes the request (`aws:PrincipalType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// The account root user (`arn:aws:iam::ACCOUNT:root`, principal type `Account`).
    Root,
    /// An IAM user.
    User,
    /// A role session (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
    AssumedRole,
    /// A federated user session from GetFederationToken (`arn:aws:sts::ACCOUNT:federated-user/N`).
    FederatedUser,
    /// A web-identity or SAML caller, before it holds a role session (trust policy evaluation).
    WebIdentity,
    /// An AWS service principal such as `ec2.amazonaws.com`.
    Service,
    /// An unauthenticated caller.
    Anonymous,
}

impl PrincipalKind {
    /// The value of `aws:PrincipalType`.
    pub fn as_principal_type(self) -> &'static str {
        match self {
            PrincipalKind::Root => "Account",
            PrincipalKind::User => "User",
            PrincipalKind::AssumedRole => "AssumedRole",
            PrincipalKind::FederatedUser => "FederatedUser",
            PrincipalKind::WebIdentity => "WebIdentity",
            PrincipalKind::Service => "Service",
            PrincipalKind::Anonymous => "Anonymous",
        }
    }
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The caller's own ARN: user ARN, role *session* ARN, federated-user ARN, root ARN; the
    /// service name for services; the provider for web identities; empty when anonymous.
    pub arn: String,
    /// The 12-digit account of the caller (empty for services and anonymous callers).
    pub account: String,
    /// `aws:userid` (`AIDA...`, `AROA...:session`, the account id for root).
    pub user_id: Option<String>,
    /// `aws:username` (IAM users only).
    pub username: Option<String>,
    /// For role sessions the role's IAM ARN (with its path); for federated users the IAM user
    /// that called GetFederationToken. `aws:PrincipalArn` of a role session is this ARN.
    pub session_issuer_arn: Option<String>,
    /// Principal tags (`aws:PrincipalTag/k`): the user's or role's tags plus session tags.
    pub tags: Vec<(String, String)>,
    /// A service-linked role session: exempt from SCPs and RCPs.
    pub service_linked_role: bool,
    /// The S3 canonical user id, if the caller has one.
    pub canonical_user: Option<String>,
}

impl Principal {
    fn base(kind: PrincipalKind, arn: &str, account: &str) -> Principal {
        Principal {
            kind,
            arn: arn.to_string(),
            account: account.to_string(),
            user_id: None,
            username: None,
            session_issuer_arn: None,
            tags: Vec::new(),
            service_linked_role: false,
            canonical_user: None,
        }
    }

    /// The root user of `account`.
    pub fn root(account: &str) -> Principal {
        let mut p = Principal::base(
            PrincipalKind::Root,
            &format!("arn:aws:iam::{account}:root"),
            account,
        );
        p.user_id = Some(account.to_string());
        p
    }

    /// An IAM user; `arn` is `arn:aws:iam::ACCOUNT:user/path/name`.
    pub fn user(arn: &str, account: &str, name: &str, user_id: &str) -> Principal {
        let mut p = Principal::base(PrincipalKind::User, arn, account);
        p.username = Some(name.to_string());
        p.user_id = Some(user_id.to_string());
        p
    }

    /// A role session. `session_arn` is `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`,
    /// `role_arn` is the role's IAM ARN and `user_id` is `ROLEID:SESSION`.
    pub fn role_session(
        session_arn: &str,
        account: &str,
        role_arn: &str,
        user_id: &str,
    ) -> Principal {
        let mut p = Principal::base(PrincipalKind::AssumedRole, session_arn, account);
        p.session_issuer_arn = Some(role_arn.to_string());
        p.user_id = Some(user_id.to_string());
        p
    }

    /// A federated user session from GetFederationToken called by `user_arn`.
    pub fn federated_user(arn: &str, account: &str, user_arn: &str, user_id: &str) -> Principal {
        let mut p = Principal::base(PrincipalKind::FederatedUser, arn, account);
        p.session_issuer_arn = Some(user_arn.to_string());
        p.user_id = Some(user_id.to_string());
        p
    }

    /// An AWS service principal such as `ec2.amazonaws.com`.
    pub fn service(name: &str) -> Principal {
        Principal::base(PrincipalKind::Service, name, "")
    }

    /// A web-identity or SAML caller identified by its provider (`accounts.google.com`,
    /// `arn:aws:iam::ACCOUNT:saml-provider/NAME`).
    pub fn web_identity(provider: &str) -> Principal {
        Principal::base(PrincipalKind::WebIdentity, provider, "")
    }

    /// An unauthenticated caller.
    pub fn anonymous() -> Principal {
        Principal::base(PrincipalKind::Anonymous, "", "")
    }

    /// Adds a principal tag.
    pub fn with_tag(mut self, key: &str, value: &str) -> Principal {
        self.tags.push((key.to_string(), value.to_string()));
        self
    }

    /// The ARN `aws:PrincipalArn` reports: the role ARN for role sessions, otherwise `arn`.
    pub fn principal_arn(&self) -> &str {
        match self.kind {
            PrincipalKind::AssumedRole => self.session_issuer_arn.as_deref().unwrap_or(&self.arn),
            _ => &self.arn,
        }
    }
}

/// Parsed reading of a context value, filled in when the caller gives a typed value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Typed {
    None,
    Number(f64),
    Date(i64),
    Ip(IpAddr),
}

/// One value of a condition key. Every value has its text form (what string and ARN operators
/// and policy variables see); typed constructors also keep the parsed form so numeric, date and
/// IP operators need not parse it again.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextValue {
    text: Box<str>,
    typed: Typed,
}

impl ContextValue {
    /// A string value.
    pub fn string(s: &str) -> ContextValue {
        ContextValue {
            text: s.into(),
            typed: Typed::None,
        }
    }

    /// A boolean (`true`/`false`).
    pub fn bool(b: bool) -> ContextValue {
        ContextValue::string(if b { "true" } else { "false" })
    }

    /// A number.
    pub fn number(n: i64) -> ContextValue {
        ContextValue {
            text: n.to_string().into(),
            typed: Typed::Number(n as f64),
        }
    }

    /// A point in time, in epoch seconds; its text is ISO 8601 (`2026-01-01T00:00:00Z`).
    pub fn date(epoch_secs: i64) -> ContextValue {
        ContextValue {
            text: format_epoch(epoch_secs).into(),
            typed: Typed::Date(epoch_secs.saturating_mul(1000)),
        }
    }

    /// An IP address.
    pub fn ip(ip: IpAddr) -> ContextValue {
        ContextValue {
            text: ip.to_string().into(),
            typed: Typed::Ip(ip),
        }
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn number_value(&self) -> Option<f64> {
        match self.typed {
            Typed::Number(n) => Some(n),
            _ => parse_number(&self.text),
        }
    }

    pub(crate) fn date_value(&self) -> Option<i64> {
        match self.typed {
            Typed::Date(d) => Some(d),
            _ => parse_date(&self.text),
        }
    }

    pub(crate) fn ip_value(&self) -> Option<IpAddr> {
        match self.typed {
            Typed::Ip(ip) => Some(ip),
            _ => parse_ip(&self.text),
        }
    }
}

impl From<&str> for ContextValue {
    fn from(s: &str) -> Self {
        ContextValue::string(s)
    }
}

/// The values of one condition key: single-valued keys hold one, multivalued keys (such as
/// `aws:TagKeys`) any number, possibly zero.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextEntry {
    Single(ContextValue),
    Multi(Vec<ContextValue>),
}

impl ContextEntry {
    pub(crate) fn values(&self) -> &[ContextValue] {
        match self {
            ContextEntry::Single(v) => std::slice::from_ref(v),
            ContextEntry::Multi(v) => v,
        }
    }
}

/// Everything a decision needs to know about one request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub(crate) principal: Principal,
    /// `service:action`, lower-cased.
    pub(crate) action_lc: Box<str>,
    /// The action as the caller spelled it (for messages).
    action_name: Box<str>,
    pub(crate) service_hash: u64,
    pub(crate) service_len: usize,
    pub(crate) resource: Box<str>,
    pub(crate) resource_parts: Option<ArnParts>,
    pub(crate) resource_account: Option<Box<str>>,
    /// Condition keys sorted by hash of the lower-cased name.
    keys: Vec<(u64, Box<str>, ContextEntry)>,
}

impl RequestContext {
    /// A request by `principal` for `action` (`s3:GetObject`, any case) on `resource` (an ARN,
    /// or `*` for actions without resource-level permissions). The principal's global keys
    /// (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:userid`,
    /// `aws:username`, `aws:PrincipalTag/*`, `aws:PrincipalIsAWSService`,
    /// `aws:PrincipalServiceName`) are filled in from it.
    pub fn new(principal: Principal, action: &str, resource: &str) -> RequestContext {
        let action_name: Box<str> = action.into();
        let action = action.to_lowercase();
        let service_len = action.find(':').unwrap_or(action.len());
        let service_hash = key_hash(action.get(..service_len).unwrap_or(""));
        let mut ctx = RequestContext {
            action_lc: action.into_boxed_str(),
            action_name,
            service_hash,
            service_len,
            resource: resource.into(),
            resource_parts: ArnParts::split(resource),
            resource_account: None,
            // Room for the usual keys (principal, time, source, the operation's own): no regrowth.
            keys: Vec::with_capacity(24),
            principal,
        };
        ctx.add_principal_keys();
        ctx
    }

    fn add_principal_keys(&mut self) {
        // Gathered first (borrowing the principal), then inserted: no copy of the principal.
        let p = &self.principal;
        let mut keys: Vec<(Cow<'static, str>, ContextValue)> = Vec::with_capacity(8);
        let is_service = p.kind == PrincipalKind::Service;
        keys.push((
            "aws:PrincipalIsAWSService".into(),
            ContextValue::bool(is_service),
        ));
        if is_service {
            keys.push((
                "aws:PrincipalServiceName".into(),
                ContextValue::string(&p.arn),
            ));
        }
        if !matches!(p.kind, PrincipalKind::Service | PrincipalKind::WebIdentity) {
            keys.push((
                "aws:PrincipalType".into(),
                ContextValue::string(p.kind.as_principal_type()),
            ));
            if p.kind != PrincipalKind::Anonymous {
                keys.push((
                    "aws:PrincipalArn".into(),
                    ContextValue::string(p.principal_arn()),
                ));
                keys.push((
                    "aws:PrincipalAccount".into(),
                    ContextValue::string(&p.account),
                ));
                if let Some(id) = &p.user_id {
                    keys.push(("aws:userid".into(), ContextValue::string(id)));
                }
                if let Some(name) = &p.username {
                    keys.push(("aws:username".into(), ContextValue::string(name)));
                }
                for (k, v) in &p.tags {
                    keys.push((
                        format!("aws:PrincipalTag/{k}").into(),
                        ContextValue::string(v),
                    ));
                }
            }
        }
        for (key, value) in keys {
            self.set(&key, value);
        }
    }

    /// The account that owns the resource (`aws:ResourceAccount`). When it differs from the
    /// principal's account the request is cross-account. Unset means the principal's account.
    pub fn with_resource_account(mut self, account: &str) -> RequestContext {
        self.resource_account = Some(account.into());
        self.set("aws:ResourceAccount", ContextValue::string(account));
        self
    }

    /// Sets `aws:CurrentTime` and `aws:EpochTime` (time always comes from the caller).
    pub fn with_time(mut self, epoch_secs: i64) -> RequestContext {
        self.set("aws:CurrentTime", ContextValue::date(epoch_secs));
        self.set("aws:EpochTime", ContextValue::number(epoch_secs));
        self
    }

    /// Sets `aws:SourceIp`.
    pub fn with_source_ip(mut self, ip: IpAddr) -> RequestContext {
        self.set("aws:SourceIp", ContextValue::ip(ip));
        self
    }

    /// Sets a single-valued key (names are case-insensitive), replacing any earlier value.
    pub fn set(&mut self, key: &str, value: ContextValue) {
        self.insert(key, ContextEntry::Single(value));
    }

    /// Sets a multivalued key (`aws:TagKeys`, `aws:CalledVia`, ...).
    pub fn set_multi(&mut self, key: &str, values: Vec<ContextValue>) {
        self.insert(key, ContextEntry::Multi(values));
    }

    /// Builder form of [`RequestContext::set`] for string values.
    pub fn with(mut self, key: &str, value: &str) -> RequestContext {
        self.set(key, ContextValue::string(value));
        self
    }

    /// Removes a key.
    pub fn remove(&mut self, key: &str) {
        let key = key.to_lowercase();
        let h = key_hash(&key);
        self.keys.retain(|(kh, k, _)| !(*kh == h && **k == *key));
    }

    fn insert(&mut self, key: &str, entry: ContextEntry) {
        let key = key.to_lowercase();
        let h = key_hash(&key);
        if let Some(slot) = self.find_mut(h, &key) {
            *slot = entry;
            return;
        }
        let pos = self.keys.partition_point(|(kh, _, _)| *kh < h);
        self.keys.insert(pos, (h, key.into_boxed_str(), entry));
    }

    fn find_mut(&mut self, h: u64, key: &str) -> Option<&mut ContextEntry> {
        let start = self.keys.partition_point(|(kh, _, _)| *kh < h);
        self.keys
            .get_mut(start..)?
            .iter_mut()
            .take_while(|(kh, _, _)| *kh == h)
            .find(|(_, k, _)| **k == *key)
            .map(|(_, _, e)| e)
    }

    /// Looks up a key by its lower-cased name and hash.
    #[inline]
    pub(crate) fn get(&self, key: &str, h: u64) -> Option<&ContextEntry> {
        let start = self.keys.partition_point(|(kh, _, _)| *kh < h);
        self.keys
            .get(start..)?
            .iter()
            .take_while(|(kh, _, _)| *kh == h)
            .find(|(_, k, _)| **k == *key)
            .map(|(_, _, e)| e)
    }

    /// Looks up a key by name (any case).
    pub fn value(&self, key: &str) -> Option<&ContextEntry> {
        let key = key.to_lowercase();
        self.get(&key, key_hash(&key))
    }

    /// The principal.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The action as given to [`RequestContext::new`].
    pub fn action(&self) -> &str {
        &self.action_name
    }

    /// The resource.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The service prefix of the action (`s3`).
    pub(crate) fn service(&self) -> &str {
        self.action_lc.get(..self.service_len).unwrap_or("")
    }

    /// Whether the resource belongs to another account than the principal.
    pub fn is_cross_account(&self) -> bool {
        match &self.resource_account {
            Some(ra) => !self.principal.account.is_empty() && **ra != *self.principal.account,
            None => false,
        }
    }
}

impl Resolve for RequestContext {
    #[inline]
    fn resolve(&self, key: &str, hash: u64) -> Option<&str> {
        match self.get(key, hash)? {
            ContextEntry::Single(v) => Some(v.as_str()),
            // Multivalued keys cannot be policy variables.
            ContextEntry::Multi(_) => None,
        }
    }
}
