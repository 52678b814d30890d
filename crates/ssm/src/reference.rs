//! `/aws/reference/secretsmanager/NAME[:version-or-label]`: a Secrets Manager secret read
//! through Parameter Store, as AWS does it (only with `WithDecryption`; `SourceResult` carries
//! the secret's description).
use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use serde_json::{Value, json};

use crate::error::{self, ssm};
use crate::names::REFERENCE_PREFIX;

pub fn is_reference(name: &str) -> bool {
    name.starts_with(REFERENCE_PREFIX)
}

pub async fn get(ctx: &Ctx, given: &str, with_decryption: bool) -> Result<Value, AwsError> {
    let arn = format!(
        "arn:aws:ssm:{}:{}:parameter{}",
        ctx.region(),
        ctx.account(),
        given.split(':').next().unwrap_or(given)
    );
    ctx.authorize("ssm:GetParameter", &arn, &[])?;
    if !with_decryption {
        return Err(error::validation(
            "WithDecryption flag must be True for retrieving a Secret Manager secret.",
        ));
    }
    let rest = given.strip_prefix(REFERENCE_PREFIX).unwrap_or_default();
    let (secret_id, selector) = match rest.rsplit_once(':') {
        Some((id, sel)) => (id, Some(sel)),
        None => (rest, None),
    };
    if secret_id.is_empty() {
        return Err(error::validation(
            "A secret name is required after /aws/reference/secretsmanager/.",
        ));
    }
    // A selector is a version id (a UUID) or a staging label.
    let (version_id, stage) = match selector {
        Some(s) if s.len() == 36 && s.matches('-').count() == 4 => (Some(s), None),
        Some(s) => (None, Some(s)),
        None => (None, None),
    };
    let v = rampart_secretsmanager::read_secret_value(ctx, secret_id, version_id, stage)
        .await
        .map_err(|e| {
            if e.code == "ResourceNotFoundException" {
                ssm(
                    "ParameterNotFound",
                    format!("Secret {secret_id} not found."),
                )
            } else {
                e
            }
        })?;
    let value = if v.binary {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&*v.value)
    } else {
        String::from_utf8_lossy(&v.value).into_owned()
    };
    let source = json!({
        "ARN": v.arn,
        "Name": v.name,
        "VersionId": v.version_id,
        "VersionStages": v.stages,
        "CreatedDate": v.created,
    });
    let mut out = json!({
        "Name": given,
        "Type": "SecureString",
        "Value": value,
        "Version": 0,
        "SourceResult": source.to_string(),
        "LastModifiedDate": v.created,
        "ARN": v.arn,
        "DataType": "text",
    });
    if let Some(s) = selector
        && let Some(m) = out.as_object_mut()
    {
        m.insert("Selector".into(), json!(format!(":{s}")));
    }
    Ok(out)
}
