//! Minting temporary credentials: an ASIA key id, a fresh secret, and the sealed session token.
use rampart_aws_types::{AwsError, ids};
use rampart_crypto::MasterKey;
use rampart_services::principal::{PrincipalKind, Session};
use serde_json::{Value, json};

use crate::session::{SessionClaims, issue};

/// A freshly minted session, ready to return to the caller.
pub struct Minted {
    pub claims: SessionClaims,
    pub token: String,
}

impl Minted {
    /// The `Credentials` member of STS's responses (Expiration as epoch seconds; the wire
    /// renders it as ISO 8601).
    pub fn credentials_output(&self) -> Result<Value, AwsError> {
        Ok(json!({
            "AccessKeyId": self.claims.access_key_id,
            "SecretAccessKey": self.claims.secret_access_key,
            "SessionToken": self.token,
            "Expiration": self.claims.session.expires_at,
        }))
    }
}

/// Mints credentials for an identity in `account`.
pub fn mint(
    master_key: &MasterKey,
    account: &str,
    kind: PrincipalKind,
    arn: String,
    user_id: String,
    session: Session,
) -> Result<Minted, AwsError> {
    let claims = SessionClaims {
        access_key_id: ids::temporary_access_key_id(account)?,
        secret_access_key: ids::secret_access_key()?,
        account: account.to_string(),
        kind,
        arn,
        user_id,
        session,
    };
    let token = issue(master_key, &claims)?;
    Ok(Minted { claims, token })
}
