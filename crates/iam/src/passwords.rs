//! Console passwords: hashing (argon2id, salt from aws-lc-rs) and the account password policy's
//! rules. The plain password only ever lives in the request; it is never stored or logged.
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rampart_aws_types::{AwsError, ids};

use crate::errors;
use crate::model::PasswordPolicy;

/// argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
fn hasher() -> Result<Argon2<'static>, AwsError> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|_| AwsError::internal("bad argon2 parameters"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string (`$argon2id$v=19$m=...$salt$hash`) of `password`.
pub fn hash(password: &str) -> Result<String, AwsError> {
    let salt_bytes = ids::random_bytes::<16>()?;
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|_| AwsError::internal("cannot encode a salt"))?;
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| AwsError::internal("cannot hash the password"))
}

/// Whether `password` matches the stored PHC string (constant-time comparison inside argon2).
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    hasher().is_ok_and(|h| h.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// [`hash`] off the async executor: argon2 is deliberately slow and memory-hard.
pub async fn hash_off_thread(password: String) -> Result<String, AwsError> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|_| AwsError::internal("password hashing failed"))?
}

/// [`verify`] off the async executor.
pub async fn verify_off_thread(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || verify(&password, &phc))
        .await
        .unwrap_or(false)
}

/// The symbols IAM's policy counts (`RequireSymbols`).
const SYMBOLS: &str = "!@#$%^&*()_+-=[]{}|'";

/// Checks `password` against the account's policy (or AWS's default rules when the account has
/// none: at least 8 characters and three of the four character classes).
pub fn check(password: &str, policy: Option<&PasswordPolicy>) -> Result<(), AwsError> {
    let upper = password.chars().any(|c| c.is_ascii_uppercase());
    let lower = password.chars().any(|c| c.is_ascii_lowercase());
    let digit = password.chars().any(|c| c.is_ascii_digit());
    let symbol = password.chars().any(|c| SYMBOLS.contains(c));
    let len = password.chars().count();
    let mut problems: Vec<String> = Vec::new();
    match policy {
        Some(p) => {
            if i64::try_from(len).unwrap_or(i64::MAX) < p.minimum_password_length {
                problems.push(format!(
                    "Password should have a minimum length of {}",
                    p.minimum_password_length
                ));
            }
            if p.require_uppercase_characters && !upper {
                problems.push("Password should have at least one uppercase letter".into());
            }
            if p.require_lowercase_characters && !lower {
                problems.push("Password should have at least one lowercase letter".into());
            }
            if p.require_numbers && !digit {
                problems.push("Password should have at least one number".into());
            }
            if p.require_symbols && !symbol {
                problems.push("Password should have at least one symbol".into());
            }
        }
        None => {
            if len < 8 {
                problems.push("Password should have a minimum length of 8".into());
            }
            let classes = [upper, lower, digit, symbol].iter().filter(|b| **b).count();
            if classes < 3 {
                problems.push(
                    "Password should include a minimum of three of the following mix of character types: uppercase, lowercase, numbers, and symbols"
                        .into(),
                );
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(errors::password_policy_violation(problems.join("\n")))
    }
}

/// `PasswordReusePrevention`: the new password may not match any of the last N.
pub fn check_reuse(
    password: &str,
    current: &str,
    previous: &[String],
    policy: Option<&PasswordPolicy>,
) -> Result<(), AwsError> {
    let Some(n) = policy.and_then(|p| p.password_reuse_prevention) else {
        return Ok(());
    };
    let n = usize::try_from(n).unwrap_or(0);
    let reused = std::iter::once(current)
        .chain(previous.iter().map(String::as_str))
        .take(n)
        .any(|h| verify(password, h));
    if reused {
        return Err(errors::password_policy_violation(format!(
            "Password should not be one of your previous {n} passwords"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("Correct-Horse-1").unwrap();
        let b = hash("Correct-Horse-1").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(a, b, "salts differ");
        assert!(!a.contains("Correct-Horse-1"));
        assert!(verify("Correct-Horse-1", &a));
        assert!(!verify("correct-horse-1", &a));
        assert!(!verify("x", "not a phc string"));
    }

    #[test]
    fn policy_rules() {
        assert!(check("Abcdefg1", None).is_ok());
        assert_eq!(
            check("abcdefgh", None).unwrap_err().code,
            "PasswordPolicyViolation"
        );
        assert!(check("Ab1", None).is_err());
        let p = PasswordPolicy {
            minimum_password_length: 12,
            require_symbols: true,
            require_numbers: true,
            require_uppercase_characters: true,
            require_lowercase_characters: true,
            allow_users_to_change_password: true,
            max_password_age: None,
            password_reuse_prevention: Some(2),
            hard_expiry: false,
        };
        let e = check("Short1!", Some(&p)).unwrap_err();
        assert!(e.message.contains("minimum length of 12"));
        let e = check("longenoughpassword", Some(&p)).unwrap_err();
        assert!(e.message.contains("uppercase") && e.message.contains("symbol"));
        assert!(check("Long-Enough-Pass1", Some(&p)).is_ok());
        let h1 = hash("First-Password-1").unwrap();
        let h0 = hash("Zeroth-Password-1").unwrap();
        assert!(check_reuse("First-Password-1", &h1, &[], Some(&p)).is_err());
        assert!(
            check_reuse(
                "Zeroth-Password-1",
                &h1,
                std::slice::from_ref(&h0),
                Some(&p)
            )
            .is_err()
        );
        assert!(check_reuse("Brand-New-Pass-1", &h1, &[h0], Some(&p)).is_ok());
    }
}
