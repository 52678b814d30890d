//! GetRandomPassword.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use serde_json::{Value, json};

use super::str_field;
use crate::password::{PasswordSpec, generate};

pub async fn get_random_password(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    ctx.authorize("secretsmanager:GetRandomPassword", "*", &[])?;
    let flag =
        |name: &str, default: bool| input.get(name).and_then(Value::as_bool).unwrap_or(default);
    let spec = PasswordSpec {
        length: input
            .get("PasswordLength")
            .and_then(Value::as_u64)
            .map_or(32, |l| usize::try_from(l).unwrap_or(usize::MAX)),
        exclude_characters: str_field(&input, "ExcludeCharacters")
            .unwrap_or_default()
            .to_string(),
        exclude_numbers: flag("ExcludeNumbers", false),
        exclude_punctuation: flag("ExcludePunctuation", false),
        exclude_uppercase: flag("ExcludeUppercase", false),
        exclude_lowercase: flag("ExcludeLowercase", false),
        include_space: flag("IncludeSpace", false),
        require_each_included_type: flag("RequireEachIncludedType", true),
    };
    let password = generate(&spec)?;
    Ok(json!({ "RandomPassword": password }))
}
