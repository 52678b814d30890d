//! Who is calling: the identity SigV4 authentication resolved the access key to.
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PrincipalKind {
    /// The root user of `account`.
    Root,
    /// An IAM user.
    IamUser { name: String },
    /// A role session (from AssumeRole and friends).
    AssumedRole {
        role_name: String,
        session_name: String,
    },
    /// A federated user (GetFederationToken).
    FederatedUser { name: String },
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The account the principal belongs to.
    pub account: String,
    /// The principal's ARN (`arn:aws:iam::123456789012:root`, `...:user/alice`, ...).
    pub arn: String,
    /// AWS's `UserId` / `principalId` (the account id for root, AIDA... for users).
    pub user_id: String,
    /// The access key the request was signed with.
    pub access_key_id: String,
}

impl Principal {
    pub fn root(account: &str, access_key_id: &str) -> Principal {
        Principal {
            kind: PrincipalKind::Root,
            account: account.to_string(),
            arn: format!("arn:{}:iam::{account}:root", rampart_aws_types::PARTITION),
            user_id: account.to_string(),
            access_key_id: access_key_id.to_string(),
        }
    }

    /// CloudTrail's `userIdentity.type`.
    pub fn identity_type(&self) -> &'static str {
        match self.kind {
            PrincipalKind::Root => "Root",
            PrincipalKind::IamUser { .. } => "IAMUser",
            PrincipalKind::AssumedRole { .. } => "AssumedRole",
            PrincipalKind::FederatedUser { .. } => "FederatedUser",
        }
    }
}
