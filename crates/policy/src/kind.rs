//! Where a policy document is attached: decides which elements it may hold and how big it may be.

/// The kind of a policy document. It decides which elements are required or prohibited
/// (`Principal`, `Resource`) and the size limit IAM enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// A customer managed policy (also used as a permissions boundary): 6,144 characters.
    Managed,
    /// An AWS managed policy: same rules as `Managed`, without the size quota (AWS's own
    /// policies, such as ReadOnlyAccess, are far larger than customers may write).
    AwsManaged,
    /// An inline policy on a user (2,048 characters for all of the user's inline policies).
    InlineUser,
    /// An inline policy on a group (5,120 characters).
    InlineGroup,
    /// An inline policy on a role (10,240 characters).
    InlineRole,
    /// A role's trust policy (`AssumeRolePolicyDocument`): Principal required, Resource prohibited.
    RoleTrust,
    /// A session policy passed to AssumeRole / GetFederationToken (2,048 characters packed).
    Session,
    /// A resource-based policy (S3 bucket policy, SQS queue policy, Secrets Manager, ...).
    Resource,
    /// A KMS key policy: a resource policy that must itself allow or delegate to the account.
    KeyPolicy,
    /// An AWS Organizations service control policy.
    ServiceControl,
    /// An AWS Organizations resource control policy.
    ResourceControl,
}

impl PolicyKind {
    /// Whether statements must name a `Principal`/`NotPrincipal` (resource-side policies).
    pub fn requires_principal(self) -> bool {
        matches!(
            self,
            PolicyKind::RoleTrust
                | PolicyKind::Resource
                | PolicyKind::KeyPolicy
                | PolicyKind::ResourceControl
        )
    }

    /// Whether a statement may omit `Resource`/`NotResource`.
    pub(crate) fn resource_optional(self) -> bool {
        matches!(self, PolicyKind::RoleTrust)
    }

    /// Whether `Resource` is prohibited (trust policies describe the role itself).
    pub(crate) fn resource_prohibited(self) -> bool {
        matches!(self, PolicyKind::RoleTrust)
    }

    /// Whether IAM restricts `Sid` to `[0-9A-Za-z]*` (IAM-stored documents; resource policies of
    /// other services accept any string).
    pub(crate) fn sid_alphanumeric(self) -> bool {
        matches!(
            self,
            PolicyKind::Managed
                | PolicyKind::AwsManaged
                | PolicyKind::InlineUser
                | PolicyKind::InlineGroup
                | PolicyKind::InlineRole
        )
    }

    /// Whether IAM itself stores the document (its messages differ from other services').
    pub(crate) fn iam_stored(self) -> bool {
        matches!(
            self,
            PolicyKind::Managed
                | PolicyKind::AwsManaged
                | PolicyKind::InlineUser
                | PolicyKind::InlineGroup
                | PolicyKind::InlineRole
                | PolicyKind::RoleTrust
        )
    }

    /// The size limit in characters (IAM counts characters without whitespace for managed,
    /// inline and trust policies) and the message IAM returns when it is exceeded.
    pub(crate) fn size_limit(self) -> (usize, &'static str) {
        match self {
            PolicyKind::Managed => (6_144, "Cannot exceed quota for PolicySize: 6144"),
            PolicyKind::AwsManaged => (usize::MAX, ""),
            PolicyKind::InlineUser => {
                (2_048, "Maximum policy size of 2048 bytes exceeded for user")
            }
            PolicyKind::InlineGroup => (
                5_120,
                "Maximum policy size of 5120 bytes exceeded for group",
            ),
            PolicyKind::InlineRole => (
                10_240,
                "Maximum policy size of 10240 bytes exceeded for role",
            ),
            PolicyKind::RoleTrust => (2_048, "Cannot exceed quota for ACLSizePerRole: 2048"),
            PolicyKind::Session => (
                2_048,
                "Packed policy consumes more than 2048 characters of the allowed limit",
            ),
            PolicyKind::Resource => (20_480, "Policies must be less than 20 KB"),
            PolicyKind::KeyPolicy => (32_768, "Key policy must be less than 32 KB"),
            PolicyKind::ServiceControl | PolicyKind::ResourceControl => (
                5_120,
                "The provided policy document exceeds the maximum size of 5120 characters",
            ),
        }
    }

    /// Whether whitespace counts toward the size limit (IAM ignores it; the other services count
    /// the document as sent).
    pub(crate) fn size_counts_whitespace(self) -> bool {
        matches!(
            self,
            PolicyKind::Resource
                | PolicyKind::KeyPolicy
                | PolicyKind::ServiceControl
                | PolicyKind::ResourceControl
        )
    }
}
