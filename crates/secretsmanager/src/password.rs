//! `GetRandomPassword`: characters drawn uniformly (rejection sampling over aws-lc-rs's CSPRNG)
//! from the classes the caller keeps, with at least one of each class when
//! `RequireEachIncludedType` (the default) holds.
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use rampart_aws_types::AwsError;

use crate::error;

pub const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
pub const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
pub const DIGITS: &str = "0123456789";
pub const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

#[derive(Debug, Clone)]
pub struct PasswordSpec {
    pub length: usize,
    pub exclude_characters: String,
    pub exclude_numbers: bool,
    pub exclude_punctuation: bool,
    pub exclude_uppercase: bool,
    pub exclude_lowercase: bool,
    pub include_space: bool,
    pub require_each_included_type: bool,
}

impl Default for PasswordSpec {
    fn default() -> Self {
        PasswordSpec {
            length: 32,
            exclude_characters: String::new(),
            exclude_numbers: false,
            exclude_punctuation: false,
            exclude_uppercase: false,
            exclude_lowercase: false,
            include_space: false,
            require_each_included_type: true,
        }
    }
}

/// A uniform index below `n` (n ≤ 256) from the CSPRNG, without modulo bias.
fn uniform(rng: &SystemRandom, n: usize) -> Result<usize, AwsError> {
    if n == 0 || n > 256 {
        return Err(error::internal());
    }
    // Largest multiple of n that fits in a byte: bytes at or above it are redrawn.
    let limit = 256 - (256 % n);
    loop {
        let mut b = [0u8; 1];
        rng.fill(&mut b).map_err(|_| error::internal())?;
        let v = usize::from(b[0]);
        if v < limit {
            return Ok(v % n);
        }
    }
}

pub fn generate(spec: &PasswordSpec) -> Result<String, AwsError> {
    if spec.length == 0 || spec.length > 4096 {
        return Err(error::invalid_parameter(
            "Password length must be between 1 and 4096.",
        ));
    }
    let keep = |set: &str| -> Vec<char> {
        set.chars()
            .filter(|c| !spec.exclude_characters.contains(*c))
            .collect()
    };
    let mut classes: Vec<Vec<char>> = Vec::new();
    if !spec.exclude_lowercase {
        classes.push(keep(LOWER));
    }
    if !spec.exclude_uppercase {
        classes.push(keep(UPPER));
    }
    if !spec.exclude_numbers {
        classes.push(keep(DIGITS));
    }
    if !spec.exclude_punctuation {
        classes.push(keep(PUNCTUATION));
    }
    if spec.include_space {
        classes.push(keep(" "));
    }
    classes.retain(|c| !c.is_empty());
    let all: Vec<char> = classes.iter().flatten().copied().collect();
    if all.is_empty() {
        return Err(error::invalid_parameter(
            "The password can't be generated because all characters are excluded.",
        ));
    }
    if spec.require_each_included_type && classes.len() > spec.length {
        return Err(error::invalid_parameter(
            "The password length is too short to include a character of each required type.",
        ));
    }
    let rng = SystemRandom::new();
    let mut out: Vec<char> = Vec::with_capacity(spec.length);
    if spec.require_each_included_type {
        for class in &classes {
            let i = uniform(&rng, class.len())?;
            out.push(class.get(i).copied().ok_or_else(error::internal)?);
        }
    }
    while out.len() < spec.length {
        let i = uniform(&rng, all.len())?;
        out.push(all.get(i).copied().ok_or_else(error::internal)?);
    }
    // Fisher–Yates, so the required characters are not always at the front.
    for i in (1..out.len()).rev() {
        let j = uniform_wide(&rng, i + 1)?;
        out.swap(i, j);
    }
    Ok(out.into_iter().collect())
}

/// A uniform index below `n` for n up to 4096 (two bytes, rejection sampled).
fn uniform_wide(rng: &SystemRandom, n: usize) -> Result<usize, AwsError> {
    if n == 0 || n > 65536 {
        return Err(error::internal());
    }
    let limit = 65536 - (65536 % n);
    loop {
        let mut b = [0u8; 2];
        rng.fill(&mut b).map_err(|_| error::internal())?;
        let v = usize::from(u16::from_be_bytes(b));
        if v < limit {
            return Ok(v % n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_has_every_class() {
        for _ in 0..50 {
            let p = generate(&PasswordSpec::default()).unwrap();
            assert_eq!(p.chars().count(), 32);
            assert!(p.chars().any(|c| LOWER.contains(c)));
            assert!(p.chars().any(|c| UPPER.contains(c)));
            assert!(p.chars().any(|c| DIGITS.contains(c)));
            assert!(p.chars().any(|c| PUNCTUATION.contains(c)));
            assert!(!p.contains(' '));
        }
    }

    #[test]
    fn exclusions_hold() {
        let spec = PasswordSpec {
            length: 200,
            exclude_characters: "abc012".into(),
            exclude_punctuation: true,
            exclude_uppercase: true,
            include_space: true,
            ..PasswordSpec::default()
        };
        let p = generate(&spec).unwrap();
        assert_eq!(p.len(), 200);
        assert!(p.contains(' '));
        assert!(
            p.chars()
                .all(|c| c == ' ' || (c.is_ascii_lowercase() || c.is_ascii_digit()))
        );
        assert!(!p.chars().any(|c| "abc012".contains(c)));
    }

    #[test]
    fn impossible_requests_fail() {
        let none = PasswordSpec {
            exclude_lowercase: true,
            exclude_uppercase: true,
            exclude_numbers: true,
            exclude_punctuation: true,
            ..PasswordSpec::default()
        };
        assert_eq!(
            generate(&none).unwrap_err().code,
            "InvalidParameterException"
        );
        let short = PasswordSpec {
            length: 3,
            ..PasswordSpec::default()
        };
        assert!(generate(&short).is_err());
        let short_ok = PasswordSpec {
            length: 3,
            require_each_included_type: false,
            ..PasswordSpec::default()
        };
        assert_eq!(generate(&short_ok).unwrap().len(), 3);
    }

    #[test]
    fn roughly_uniform() {
        let spec = PasswordSpec {
            length: 4096,
            exclude_uppercase: true,
            exclude_punctuation: true,
            exclude_lowercase: true,
            require_each_included_type: false,
            ..PasswordSpec::default()
        };
        let p = generate(&spec).unwrap();
        for d in DIGITS.chars() {
            let n = p.chars().filter(|c| *c == d).count();
            // Expected 409.6 each; 6 sigma is about ±115.
            assert!((290..530).contains(&n), "{d}: {n}");
        }
    }
}
