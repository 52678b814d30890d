//! Temporary credentials. A session token is self-contained: the session's identity, its facts
//! and its secret, sealed under the node's master key. Any node can authenticate a session
//! without a store lookup, nothing is written per AssumeRole, and a token cannot be forged or
//! altered without the master key. Whether the issuing role or user still exists is checked
//! where the session's policies are loaded.
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_aws_types::AwsError;
use rampart_crypto::MasterKey;
use rampart_services::principal::{Principal, PrincipalKind, Session};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Seal context of session tokens.
const TOKEN_CONTEXT: &str = "sts/session-token/v1";
/// Tokens start with this so they are recognisable in support cases (not secret).
const TOKEN_PREFIX: &str = "RmpSTS1";

/// Everything a session token carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionClaims {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account: String,
    pub kind: PrincipalKind,
    pub arn: String,
    pub user_id: String,
    pub session: Session,
}

impl SessionClaims {
    pub fn principal(&self) -> Principal {
        Principal {
            kind: self.kind.clone(),
            account: self.account.clone(),
            arn: self.arn.clone(),
            user_id: self.user_id.clone(),
            access_key_id: self.access_key_id.clone(),
            session: Some(std::sync::Arc::new(self.session.clone())),
        }
    }
}

impl Drop for SessionClaims {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret_access_key);
    }
}

/// Why a presented session token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token this node issued, or not for this access key.
    Invalid,
    /// Valid but past its expiry.
    Expired,
}

/// Seals claims into a session token.
pub fn issue(master_key: &MasterKey, claims: &SessionClaims) -> Result<String, AwsError> {
    let json = Zeroizing::new(
        serde_json::to_vec(claims).map_err(|_| AwsError::internal("cannot encode a session"))?,
    );
    let sealed = master_key
        .seal(TOKEN_CONTEXT, &json)
        .map_err(|_| AwsError::internal("cannot seal a session"))?;
    Ok(format!("{TOKEN_PREFIX}{}", STANDARD.encode(sealed)))
}

/// Opens a token presented with `access_key_id` at `now` (epoch seconds).
pub fn open(
    master_key: &MasterKey,
    access_key_id: &str,
    token: &str,
    now: i64,
) -> Result<SessionClaims, TokenError> {
    let body = token
        .strip_prefix(TOKEN_PREFIX)
        .ok_or(TokenError::Invalid)?;
    if body.len() > 64 * 1024 {
        return Err(TokenError::Invalid);
    }
    let sealed = STANDARD
        .decode(body.as_bytes())
        .map_err(|_| TokenError::Invalid)?;
    let json = master_key
        .open(TOKEN_CONTEXT, &sealed)
        .map_err(|_| TokenError::Invalid)?;
    let claims: SessionClaims = serde_json::from_slice(&json).map_err(|_| TokenError::Invalid)?;
    // Constant time is not needed here: the id is not secret, the token was authenticated.
    if claims.access_key_id != access_key_id {
        return Err(TokenError::Invalid);
    }
    if now >= claims.session.expires_at {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(expires_at: i64) -> SessionClaims {
        SessionClaims {
            access_key_id: "ASIAEXAMPLE000000000".into(),
            secret_access_key: "s".repeat(40),
            account: "123456789012".into(),
            kind: PrincipalKind::AssumedRole {
                role_name: "r".into(),
                session_name: "s".into(),
            },
            arn: "arn:aws:sts::123456789012:assumed-role/r/s".into(),
            user_id: "AROAEXAMPLE:s".into(),
            session: Session {
                issued_at: 100,
                expires_at,
                ..Default::default()
            },
        }
    }

    #[test]
    fn round_trip_expiry_and_binding() {
        let mk = MasterKey::from_bytes(&[9u8; 32]).unwrap();
        let token = issue(&mk, &claims(1000)).unwrap();
        assert!(
            !token.contains(&"s".repeat(40)),
            "the secret is not readable from the token"
        );
        let opened = open(&mk, "ASIAEXAMPLE000000000", &token, 999).unwrap();
        assert_eq!(opened.arn, "arn:aws:sts::123456789012:assumed-role/r/s");
        assert_eq!(
            open(&mk, "ASIAEXAMPLE000000000", &token, 1000).unwrap_err(),
            TokenError::Expired
        );
        assert_eq!(
            open(&mk, "ASIAOTHER00000000000", &token, 10).unwrap_err(),
            TokenError::Invalid
        );
        let other = MasterKey::from_bytes(&[8u8; 32]).unwrap();
        assert_eq!(
            open(&other, "ASIAEXAMPLE000000000", &token, 10).unwrap_err(),
            TokenError::Invalid
        );
        let mut bytes = token.clone().into_bytes();
        let i = bytes.len() / 2;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            open(
                &mk,
                "ASIAEXAMPLE000000000",
                &String::from_utf8(bytes).unwrap(),
                10
            )
            .unwrap_err(),
            TokenError::Invalid
        );
        for junk in ["", "RmpSTS1", "RmpSTS1!!!!", "FwoGZXIvYXdzE"] {
            assert_eq!(
                open(&mk, "ASIAEXAMPLE000000000", junk, 10).unwrap_err(),
                TokenError::Invalid
            );
        }
    }
}
