//! From a request's `KeyId` (key id, key ARN, alias name or alias ARN) to the key record.
//!
//! AWS accepts aliases only in some operations (the cryptographic ones and `DescribeKey`); the
//! others take a key id or key ARN only. Keys of other accounts are reachable by ARN only.
use rampart_aws_types::{AwsError, PARTITION};
use rampart_services::common::records;
use rampart_store::ReadTxn;

use crate::error;
use crate::record::{AliasRecord, KeyRecord, alias_store_key, get_key};

/// A parsed `KeyId` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    Key {
        account: String,
        region: String,
        key_id: String,
    },
    Alias {
        account: String,
        region: String,
        /// `alias/...`
        name: String,
    },
}

/// Whether the operation accepts alias names and alias ARNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aliases {
    Accepted,
    Refused,
}

pub fn key_arn(region: &str, account: &str, key_id: &str) -> String {
    format!("arn:{PARTITION}:kms:{region}:{account}:key/{key_id}")
}

pub fn alias_arn(region: &str, account: &str, alias_name: &str) -> String {
    format!("arn:{PARTITION}:kms:{region}:{account}:{alias_name}")
}

/// UUID-shaped key ids (`mrk-` ids too, though this server makes no multi-Region keys).
pub fn is_key_id(s: &str) -> bool {
    rampart_crypto::kms::KeyId::parse(s).is_ok()
}

pub fn parse(
    given: &str,
    account: &str,
    region: &str,
    aliases: Aliases,
) -> Result<KeyRef, AwsError> {
    if let Some(rest) = given.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, arn_region, arn_account, resource] = parts.as_slice() else {
            return Err(error::invalid_arn(given));
        };
        if *partition != PARTITION
            || *service != "kms"
            || !rampart_aws_types::is_account_id(arn_account)
        {
            return Err(error::invalid_arn(given));
        }
        if let Some(id) = resource.strip_prefix("key/") {
            if !is_key_id(id) {
                return Err(error::invalid_arn(given));
            }
            return Ok(KeyRef::Key {
                account: arn_account.to_string(),
                region: arn_region.to_string(),
                key_id: id.to_string(),
            });
        }
        if resource.starts_with("alias/") && aliases == Aliases::Accepted {
            return Ok(KeyRef::Alias {
                account: arn_account.to_string(),
                region: arn_region.to_string(),
                name: resource.to_string(),
            });
        }
        return Err(error::invalid_arn(given));
    }
    if given.starts_with("alias/") {
        if aliases == Aliases::Refused {
            return Err(error::invalid_key_id(given));
        }
        return Ok(KeyRef::Alias {
            account: account.to_string(),
            region: region.to_string(),
            name: given.to_string(),
        });
    }
    if is_key_id(given) {
        return Ok(KeyRef::Key {
            account: account.to_string(),
            region: region.to_string(),
            key_id: given.to_string(),
        });
    }
    Err(error::invalid_key_id(given))
}

/// The key a reference names, with its record version; `NotFoundException` as AWS words it.
pub fn load(
    tx: &mut (impl ReadTxn + ?Sized),
    key_ref: &KeyRef,
) -> Result<(KeyRecord, u64), AwsError> {
    match key_ref {
        KeyRef::Key {
            account,
            region,
            key_id,
        } => get_key(tx, account, region, key_id)?
            .ok_or_else(|| error::key_not_found(&key_arn(region, account, key_id))),
        KeyRef::Alias {
            account,
            region,
            name,
        } => {
            let not_found = || error::alias_not_found(&alias_arn(region, account, name));
            let (alias, _) =
                records::get::<AliasRecord>(tx, &alias_store_key(account, region, name))?
                    .ok_or_else(not_found)?;
            get_key(tx, account, region, &alias.target_key_id)?.ok_or_else(not_found)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn every_form_parses() {
        let a = "111122223333";
        let r = "us-east-1";
        assert_eq!(
            parse(ID, a, r, Aliases::Refused).unwrap(),
            KeyRef::Key {
                account: a.into(),
                region: r.into(),
                key_id: ID.into()
            }
        );
        let arn = key_arn("eu-west-1", "444455556666", ID);
        assert_eq!(
            parse(&arn, a, r, Aliases::Refused).unwrap(),
            KeyRef::Key {
                account: "444455556666".into(),
                region: "eu-west-1".into(),
                key_id: ID.into()
            }
        );
        assert_eq!(
            parse("alias/app", a, r, Aliases::Accepted).unwrap(),
            KeyRef::Alias {
                account: a.into(),
                region: r.into(),
                name: "alias/app".into()
            }
        );
        let alias = alias_arn(r, "444455556666", "alias/x");
        assert!(matches!(
            parse(&alias, a, r, Aliases::Accepted).unwrap(),
            KeyRef::Alias { .. }
        ));
        assert_eq!(
            parse("alias/app", a, r, Aliases::Refused).unwrap_err().code,
            "NotFoundException"
        );
        assert_eq!(
            parse(&alias, a, r, Aliases::Refused).unwrap_err().code,
            "InvalidArnException"
        );
        assert_eq!(
            parse("nope", a, r, Aliases::Accepted).unwrap_err().code,
            "NotFoundException"
        );
        assert_eq!(
            parse("arn:aws:kms:x", a, r, Aliases::Accepted)
                .unwrap_err()
                .code,
            "InvalidArnException"
        );
        assert_eq!(
            parse(
                "arn:aws:s3:us-east-1:111122223333:key/x",
                a,
                r,
                Aliases::Accepted
            )
            .unwrap_err()
            .code,
            "InvalidArnException"
        );
    }
}
