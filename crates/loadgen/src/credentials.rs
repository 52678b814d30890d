//! AWS credentials: given on the command line, or read from an AWS CLI credentials file
//! (`~/.aws/credentials` INI format: `[profile]` sections of `key = value` lines).

use std::fmt;

use zeroize::Zeroize;

/// An access key, its secret and an optional session token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `AKIA...` / `ASIA...`.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// Session token of temporary credentials.
    pub session_token: Option<String>,
}

impl Drop for Credentials {
    fn drop(&mut self) {
        self.secret_access_key.zeroize();
        if let Some(t) = &mut self.session_token {
            t.zeroize();
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Why credentials could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialsError {
    /// The profile is not in the file.
    #[error("profile '{0}' not found in the credentials file")]
    NoProfile(String),
    /// The profile lacks a required key.
    #[error("profile '{profile}' has no {key}")]
    MissingKey {
        /// Profile name.
        profile: String,
        /// `aws_access_key_id` or `aws_secret_access_key`.
        key: &'static str,
    },
}

/// Reads one profile from the text of an AWS CLI credentials file.
pub fn from_ini(text: &str, profile: &str) -> Result<Credentials, CredentialsError> {
    let mut in_profile = false;
    let mut found = false;
    let mut access_key_id = None;
    let mut secret = None;
    let mut token = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = section.trim();
            // The config file spells it `[profile name]`; accept that too.
            let name = name.strip_prefix("profile ").map_or(name, str::trim);
            in_profile = name == profile;
            found |= in_profile;
            continue;
        }
        if !in_profile {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().to_owned();
        match key.trim().to_ascii_lowercase().as_str() {
            "aws_access_key_id" => access_key_id = Some(value),
            "aws_secret_access_key" => secret = Some(value),
            "aws_session_token" | "aws_security_token" => token = Some(value),
            _ => {}
        }
    }
    if !found {
        return Err(CredentialsError::NoProfile(profile.to_owned()));
    }
    let missing = |key| CredentialsError::MissingKey {
        profile: profile.to_owned(),
        key,
    };
    Ok(Credentials {
        access_key_id: access_key_id.ok_or_else(|| missing("aws_access_key_id"))?,
        secret_access_key: secret.ok_or_else(|| missing("aws_secret_access_key"))?,
        session_token: token.filter(|t| !t.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# comment
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = defaultsecret

[profile dev]
aws_access_key_id=ASIADEV
aws_secret_access_key=devsecret
aws_session_token = tok==
";

    #[test]
    fn reads_profiles() {
        let d = from_ini(FILE, "default").unwrap();
        assert_eq!(d.access_key_id, "AKIADEFAULT");
        assert_eq!(d.secret_access_key, "defaultsecret");
        assert_eq!(d.session_token, None);
        let dev = from_ini(FILE, "dev").unwrap();
        assert_eq!(dev.access_key_id, "ASIADEV");
        assert_eq!(dev.session_token.as_deref(), Some("tok=="));
        assert!(!format!("{dev:?}").contains("devsecret"));
    }

    #[test]
    fn reports_missing_profile_and_keys() {
        assert_eq!(
            from_ini(FILE, "prod"),
            Err(CredentialsError::NoProfile("prod".into()))
        );
        assert_eq!(
            from_ini("[x]\naws_access_key_id=A\n", "x"),
            Err(CredentialsError::MissingKey {
                profile: "x".into(),
                key: "aws_secret_access_key"
            })
        );
    }
}
