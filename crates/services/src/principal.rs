//! Who is calling: the identity SigV4 authentication resolved the access key to.
use std::sync::Arc;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum PrincipalKind {
    /// The root user of `account`.
    Root,
    /// An IAM user.
    IamUser { name: String },
    /// A role session (from AssumeRole and friends).
    #[serde(rename_all = "camelCase")]
    AssumedRole {
        role_name: String,
        session_name: String,
    },
    /// A federated user (GetFederationToken).
    FederatedUser { name: String },
    /// A caller that did not sign its request; only operations AWS serves unsigned
    /// (AssumeRoleWithWebIdentity, AssumeRoleWithSAML) reach a handler with it.
    Anonymous,
    /// The holder of a verified web-identity token or SAML assertion, as a role's trust policy
    /// sees it (`Principal: {"Federated": provider}`).
    WebIdentity { provider: String },
}

/// What temporary credentials carry besides the identity (STS sessions).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Epoch seconds (`aws:TokenIssueTime`).
    pub issued_at: i64,
    /// Epoch seconds; the credentials stop working then (`ExpiredToken`).
    pub expires_at: i64,
    /// The role or user the session was issued from (CloudTrail's `sessionIssuer`).
    pub issuer_arn: String,
    /// Unique id of the issuer (`AROA...` / `AIDA...`, or the account for root).
    pub issuer_id: String,
    /// `aws:MultiFactorAuthPresent`.
    pub mfa_authenticated: bool,
    /// When MFA was presented (epoch seconds), for `aws:MultiFactorAuthAge`.
    pub mfa_auth_time: Option<i64>,
    pub source_identity: Option<String>,
    /// Inline session policy (AssumeRole `Policy`, GetFederationToken `Policy`).
    pub policy: Option<String>,
    /// Managed session policies (`PolicyArns`).
    pub policy_arns: Vec<String>,
    /// Session tags (`aws:PrincipalTag/*` for the session).
    pub tags: Vec<(String, String)>,
    pub transitive_tag_keys: Vec<String>,
    /// Assumed with role-chaining credentials (limits the duration to one hour).
    pub chained: bool,
    /// The session came from GetFederationToken (its policy is required to grant anything).
    pub federated: bool,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The account the principal belongs to.
    pub account: String,
    /// The principal's ARN (`arn:aws:iam::123456789012:root`, `...:user/alice`,
    /// `arn:aws:sts::123456789012:assumed-role/R/s`, ...).
    pub arn: String,
    /// AWS's `UserId` / `principalId` (the account id for root, AIDA... for users,
    /// `AROA...:session` for role sessions).
    pub user_id: String,
    /// The access key the request was signed with.
    pub access_key_id: String,
    /// Present for temporary credentials.
    pub session: Option<Arc<Session>>,
}

impl Principal {
    pub fn root(account: &str, access_key_id: &str) -> Principal {
        Principal {
            kind: PrincipalKind::Root,
            account: account.to_string(),
            arn: format!("arn:{}:iam::{account}:root", rampart_aws_types::PARTITION),
            user_id: account.to_string(),
            access_key_id: access_key_id.to_string(),
            session: None,
        }
    }

    pub fn user(
        account: &str,
        name: &str,
        path: &str,
        user_id: &str,
        access_key_id: &str,
    ) -> Principal {
        Principal {
            kind: PrincipalKind::IamUser {
                name: name.to_string(),
            },
            account: account.to_string(),
            arn: format!(
                "arn:{}:iam::{account}:user{path}{name}",
                rampart_aws_types::PARTITION
            ),
            user_id: user_id.to_string(),
            access_key_id: access_key_id.to_string(),
            session: None,
        }
    }

    /// CloudTrail's `userIdentity.type`.
    pub fn identity_type(&self) -> &'static str {
        match self.kind {
            PrincipalKind::Root => "Root",
            PrincipalKind::IamUser { .. } => "IAMUser",
            PrincipalKind::AssumedRole { .. } => "AssumedRole",
            PrincipalKind::FederatedUser { .. } => "FederatedUser",
            PrincipalKind::Anonymous => "Unknown",
            PrincipalKind::WebIdentity { .. } => "WebIdentityUser",
        }
    }

    /// The caller of an unsigned request.
    pub fn anonymous(account: &str) -> Principal {
        Principal {
            kind: PrincipalKind::Anonymous,
            account: account.to_string(),
            arn: String::new(),
            user_id: "anonymous".to_string(),
            access_key_id: String::new(),
            session: None,
        }
    }

    pub fn is_root(&self) -> bool {
        matches!(self.kind, PrincipalKind::Root)
    }

    /// Long-term credentials (AKIA keys) rather than an STS session.
    pub fn is_long_term(&self) -> bool {
        self.session.is_none()
    }
}
