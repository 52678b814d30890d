//! The trail operations: CreateTrail, GetTrail, DescribeTrails, ListTrails, UpdateTrail,
//! DeleteTrail, StartLogging, StopLogging, GetTrailStatus, Put/GetEventSelectors and tags.
//! Each resolves the trail, asks for a decision on its ARN (in the trail's own account, so a
//! foreign trail is denied), then works in one store transaction.
use std::collections::BTreeMap;
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::common::{input, records, tags};
use rampart_services::{Ctx, HandlerFuture};
use rampart_store::{Expect, ReadTxn, Txn};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::errors::{error, trail_not_found};
use crate::record::format_time;
use crate::selectors::{self, AdvancedSelector, EventSelector, Selection};
use crate::stored::{HEAD_KEY, Head};
use crate::trail::{
    self, DeliveryState, MAX_TRAILS_PER_REGION, REGISTRY_PREFIX, TrailConfig, TrailRef,
};

pub const RESOURCE_TYPE: &str = "AWS::CloudTrail::Trail";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct TrailInput {
    name: String,
    s3_bucket_name: Option<String>,
    s3_key_prefix: Option<String>,
    sns_topic_name: Option<String>,
    include_global_service_events: Option<bool>,
    is_multi_region_trail: Option<bool>,
    enable_log_file_validation: Option<bool>,
    cloud_watch_logs_log_group_arn: Option<String>,
    cloud_watch_logs_role_arn: Option<String>,
    kms_key_id: Option<String>,
    is_organization_trail: Option<bool>,
    tags_list: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NameInput {
    name: String,
}

fn tag_error(v: &tags::TagViolation) -> AwsError {
    match v {
        tags::TagViolation::TooMany { .. } => error("TagsLimitExceededException", v.message()),
        _ => error("InvalidTagParameterException", v.message()),
    }
}

fn head_seq(tx: &mut (impl ReadTxn + ?Sized)) -> Result<u64, AwsError> {
    Ok(match tx.get(HEAD_KEY)? {
        Some(r) => serde_json::from_slice::<Head>(&r.value).map_or(0, |h| h.seq),
        None => 0,
    })
}

/// The Trail shape.
pub fn trail_json(t: &TrailConfig) -> Value {
    let mut m = Map::new();
    m.insert("Name".into(), t.name.clone().into());
    m.insert("S3BucketName".into(), t.s3_bucket_name.clone().into());
    if let Some(p) = &t.s3_key_prefix {
        m.insert("S3KeyPrefix".into(), p.clone().into());
    }
    if let Some(s) = &t.sns_topic_name {
        m.insert("SnsTopicName".into(), s.clone().into());
        m.insert(
            "SnsTopicARN".into(),
            format!("arn:aws:sns:{}:{}:{s}", t.home_region, t.account).into(),
        );
    }
    m.insert(
        "IncludeGlobalServiceEvents".into(),
        t.include_global_service_events.into(),
    );
    m.insert("IsMultiRegionTrail".into(), t.is_multi_region_trail.into());
    m.insert("HomeRegion".into(), t.home_region.clone().into());
    m.insert("TrailARN".into(), t.arn.clone().into());
    m.insert(
        "LogFileValidationEnabled".into(),
        t.log_file_validation_enabled.into(),
    );
    if let Some(a) = &t.cloud_watch_logs_log_group_arn {
        m.insert("CloudWatchLogsLogGroupArn".into(), a.clone().into());
    }
    if let Some(a) = &t.cloud_watch_logs_role_arn {
        m.insert("CloudWatchLogsRoleArn".into(), a.clone().into());
    }
    if let Some(k) = &t.kms_key_id {
        m.insert("KmsKeyId".into(), k.clone().into());
    }
    m.insert(
        "HasCustomEventSelectors".into(),
        t.has_custom_event_selectors.into(),
    );
    m.insert("HasInsightSelectors".into(), false.into());
    m.insert("IsOrganizationTrail".into(), false.into());
    Value::Object(m)
}

/// CreateTrail's and UpdateTrail's answer: the trail without HomeRegion and selector flags.
fn trail_summary(t: &TrailConfig) -> Value {
    let mut v = trail_json(t);
    if let Some(m) = v.as_object_mut() {
        m.remove("HomeRegion");
        m.remove("HasCustomEventSelectors");
        m.remove("HasInsightSelectors");
    }
    v
}

fn check_common(i: &TrailInput) -> Result<(), AwsError> {
    if let Some(b) = &i.s3_bucket_name {
        trail::check_bucket(b)?;
    }
    if let Some(p) = i.s3_key_prefix.as_deref().filter(|p| !p.is_empty()) {
        trail::check_prefix(p)?;
    }
    if i.is_organization_trail == Some(true) {
        return Err(error(
            "OrganizationsNotInUseException",
            "This account is not a member of an organization.",
        ));
    }
    if i.cloud_watch_logs_log_group_arn.is_some() != i.cloud_watch_logs_role_arn.is_some() {
        return Err(error(
            "InvalidParameterCombinationException",
            "You must specify a log group and a role ARN together.",
        ));
    }
    Ok(())
}

pub fn create_trail(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: TrailInput = input::parse(input)?;
        trail::check_name(&i.name)?;
        let r = TrailRef {
            account: ctx.account().to_string(),
            region: ctx.region().to_string(),
            name: i.name.clone(),
        };
        let arn = r.arn();
        ctx.record_resource(&arn, RESOURCE_TYPE);
        ctx.authorize("cloudtrail:CreateTrail", &arn, &[])?;
        check_common(&i)?;
        let pairs: Vec<(String, String)> = i
            .tags_list
            .iter()
            .map(|t| (t.key.clone(), t.value.clone().unwrap_or_default()))
            .collect();
        let tag_map =
            tags::merge(&BTreeMap::new(), &pairs, tags::MAX_TAGS).map_err(|v| tag_error(&v))?;
        let config = TrailConfig {
            name: i.name.clone(),
            account: r.account.clone(),
            home_region: r.region.clone(),
            arn,
            s3_bucket_name: i.s3_bucket_name.clone().unwrap_or_default(),
            s3_key_prefix: i.s3_key_prefix.clone().filter(|p| !p.is_empty()),
            sns_topic_name: i.sns_topic_name.clone(),
            include_global_service_events: i.include_global_service_events.unwrap_or(true),
            is_multi_region_trail: i.is_multi_region_trail.unwrap_or(false),
            log_file_validation_enabled: i.enable_log_file_validation.unwrap_or(false),
            kms_key_id: i.kms_key_id.clone(),
            cloud_watch_logs_log_group_arn: i.cloud_watch_logs_log_group_arn.clone(),
            cloud_watch_logs_role_arn: i.cloud_watch_logs_role_arn.clone(),
            selection: Selection::default(),
            has_custom_event_selectors: false,
            tags: tag_map,
            is_logging: false,
            start_logging_time: None,
            stop_logging_time: None,
        };
        let stored = config.clone();
        ctx.store()
            .write(move |tx| {
                let key = trail::config_key(&r.account, &r.region, &r.name);
                if tx.get(&key)?.is_some() {
                    return Err(error(
                        "TrailAlreadyExistsException",
                        format!(
                            "Trail {} already exists for customer: {}",
                            r.name, r.account
                        ),
                    ));
                }
                let in_region =
                    tx.count(&format!("{REGISTRY_PREFIX}{}/{}/", r.account, r.region))?;
                if in_region >= MAX_TRAILS_PER_REGION as u64 {
                    return Err(error(
                        "MaximumNumberOfTrailsExceededException",
                        format!(
                            "User: {} already has {MAX_TRAILS_PER_REGION} trails in {}.",
                            r.account, r.region
                        ),
                    ));
                }
                records::put(tx, &key, &stored, Expect::Absent)?;
                records::put(
                    tx,
                    &trail::state_key(&r.account, &r.region, &r.name),
                    &DeliveryState::default(),
                    Expect::Any,
                )?;
                tx.put(
                    &trail::registry_key(&r.account, &r.region, &r.name),
                    b"",
                    Expect::Any,
                )?;
                Ok(())
            })
            .await?;
        Ok(trail_summary(&config))
    })
}

/// Resolves, authorizes and loads a trail. Changes must be made in the trail's home region.
async fn load(
    ctx: &Ctx,
    name_or_arn: &str,
    action: &str,
    change: bool,
) -> Result<(TrailRef, TrailConfig, u64), AwsError> {
    let r = trail::resolve(name_or_arn, ctx.account(), ctx.region())?;
    let arn = r.arn();
    // Recorded first, so a denied call's event names the resource too.
    ctx.record_resource(&arn, RESOURCE_TYPE);
    ctx.authorize_on(action, &arn, &r.account, &[], None)?;
    let key = trail::config_key(&r.account, &r.region, &r.name);
    let found = ctx
        .store()
        .read(move |tx| records::get::<TrailConfig>(tx, &key))
        .await?;
    let Some((config, version)) = found else {
        return Err(trail_not_found(&arn, ctx.account()));
    };
    if change && r.region != ctx.region() {
        return Err(error(
            "InvalidHomeRegionException",
            format!(
                "This operation must be called from the trail's home region, {}.",
                r.region
            ),
        ));
    }
    Ok((r, config, version))
}

/// Writes a changed config if nobody changed it meanwhile (else the caller sees a conflict).
async fn save(
    ctx: &Ctx,
    r: &TrailRef,
    config: TrailConfig,
    version: u64,
    state: impl FnOnce(&mut dyn Txn) -> Result<(), AwsError> + Clone + Send + 'static,
) -> Result<(), AwsError> {
    let key = trail::config_key(&r.account, &r.region, &r.name);
    ctx.store()
        .write(move |tx| {
            records::put(tx, &key, &config, Expect::Version(version)).map_err(|e| {
                if e.code == "Conflict" || e.status == 409 {
                    error(
                        "ConflictException",
                        "The trail was changed by another request; retry.",
                    )
                } else {
                    e
                }
            })?;
            (state.clone())(tx)
        })
        .await
}

pub fn get_trail(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: NameInput = input::parse(input)?;
        let (_, config, _) = load(&ctx, &i.name, "cloudtrail:GetTrail", false).await?;
        Ok(json!({ "Trail": trail_json(&config) }))
    })
}

/// Every trail of an account (all regions).
async fn account_trails(ctx: &Ctx) -> Result<Vec<TrailConfig>, AwsError> {
    let account = ctx.account().to_string();
    ctx.store()
        .read(move |tx| {
            let mut out = Vec::new();
            for (key, _) in tx.scan_all(&format!("{REGISTRY_PREFIX}{account}/"))? {
                let rest = key
                    .strip_prefix(&format!("{REGISTRY_PREFIX}{account}/"))
                    .unwrap_or_default();
                let Some((region, name)) = rest.split_once('/') else {
                    continue;
                };
                let name = rampart_services::common::keys::unescape(name);
                if let Some((c, _)) =
                    records::get::<TrailConfig>(tx, &trail::config_key(&account, region, &name))?
                {
                    out.push(c);
                }
            }
            Ok::<_, AwsError>(out)
        })
        .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct DescribeTrailsInput {
    trail_name_list: Vec<String>,
    include_shadow_trails: Option<bool>,
}

pub fn describe_trails(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        ctx.authorize("cloudtrail:DescribeTrails", "*", &[])?;
        let i: DescribeTrailsInput = input::parse(input)?;
        let shadows = i.include_shadow_trails.unwrap_or(true);
        let region = ctx.region().to_string();
        let visible =
            |t: &TrailConfig| t.home_region == region || (shadows && t.is_multi_region_trail);
        let all = account_trails(&ctx).await?;
        let mut wanted = Vec::new();
        for name in &i.trail_name_list {
            wanted.push(trail::resolve(name, ctx.account(), ctx.region())?);
        }
        let list: Vec<Value> = all
            .iter()
            .filter(|t| visible(t))
            .filter(|t| {
                wanted.is_empty()
                    || wanted.iter().any(|w| {
                        w.name == t.name && (w.region == t.home_region || t.is_multi_region_trail)
                    })
            })
            .map(trail_json)
            .collect();
        Ok(json!({ "trailList": list }))
    })
}

pub fn list_trails(ctx: Arc<Ctx>, _input: Value) -> HandlerFuture {
    Box::pin(async move {
        ctx.authorize("cloudtrail:ListTrails", "*", &[])?;
        let all = account_trails(&ctx).await?;
        let list: Vec<Value> = all
            .iter()
            .map(|t| json!({ "TrailARN": t.arn, "Name": t.name, "HomeRegion": t.home_region }))
            .collect();
        Ok(json!({ "Trails": list }))
    })
}

pub fn update_trail(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: TrailInput = input::parse(input)?;
        let (r, mut c, version) = load(&ctx, &i.name, "cloudtrail:UpdateTrail", true).await?;
        check_common(&i)?;
        if let Some(b) = &i.s3_bucket_name {
            c.s3_bucket_name.clone_from(b);
        }
        if let Some(p) = &i.s3_key_prefix {
            c.s3_key_prefix = Some(p.clone()).filter(|p| !p.is_empty());
        }
        if let Some(s) = &i.sns_topic_name {
            c.sns_topic_name = Some(s.clone()).filter(|s| !s.is_empty());
        }
        if let Some(v) = i.include_global_service_events {
            c.include_global_service_events = v;
        }
        if let Some(v) = i.is_multi_region_trail {
            c.is_multi_region_trail = v;
        }
        if let Some(v) = i.enable_log_file_validation {
            c.log_file_validation_enabled = v;
        }
        if let Some(k) = &i.kms_key_id {
            c.kms_key_id = Some(k.clone()).filter(|k| !k.is_empty());
        }
        if i.cloud_watch_logs_log_group_arn.is_some() {
            c.cloud_watch_logs_log_group_arn = i.cloud_watch_logs_log_group_arn.clone();
            c.cloud_watch_logs_role_arn = i.cloud_watch_logs_role_arn.clone();
        }
        let answer = trail_summary(&c);
        save(&ctx, &r, c, version, |_| Ok(())).await?;
        Ok(answer)
    })
}

pub fn delete_trail(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: NameInput = input::parse(input)?;
        let (r, _, version) = load(&ctx, &i.name, "cloudtrail:DeleteTrail", true).await?;
        ctx.store()
            .write(move |tx| {
                let key = trail::config_key(&r.account, &r.region, &r.name);
                tx.delete(&key, Expect::Version(version))?;
                tx.delete(
                    &trail::state_key(&r.account, &r.region, &r.name),
                    Expect::Any,
                )?;
                tx.delete(
                    &trail::registry_key(&r.account, &r.region, &r.name),
                    Expect::Any,
                )?;
                Ok::<_, AwsError>(())
            })
            .await?;
        Ok(json!({}))
    })
}

fn update_state(
    tx: &mut dyn Txn,
    r: &TrailRef,
    f: impl FnOnce(&mut DeliveryState, u64),
) -> Result<(), AwsError> {
    let key = trail::state_key(&r.account, &r.region, &r.name);
    let mut state = records::get::<DeliveryState>(tx.as_read(), &key)?
        .map(|(s, _)| s)
        .unwrap_or_default();
    let head = head_seq(tx.as_read())?;
    f(&mut state, head);
    records::put(tx, &key, &state, Expect::Any)?;
    Ok(())
}

pub fn start_logging(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: NameInput = input::parse(input)?;
        let (r, mut c, version) = load(&ctx, &i.name, "cloudtrail:StartLogging", true).await?;
        if c.is_logging {
            return Ok(json!({}));
        }
        c.is_logging = true;
        c.start_logging_time = Some(ctx.now().unix_timestamp());
        // The trail's cursor is the audit head: every event answered before now is in it.
        ctx.node.service_events.flush().await;
        let r2 = r.clone();
        save(&ctx, &r, c, version, move |tx| {
            update_state(tx, &r2, |s, head| {
                // Events from now on; a stopped trail's undelivered events are still delivered.
                if s.stop_seq.is_none_or(|stop| s.cursor_seq >= stop) {
                    s.cursor_seq = head;
                }
                s.stop_seq = None;
            })
        })
        .await?;
        Ok(json!({}))
    })
}

pub fn stop_logging(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: NameInput = input::parse(input)?;
        let (r, mut c, version) = load(&ctx, &i.name, "cloudtrail:StopLogging", true).await?;
        if !c.is_logging {
            return Ok(json!({}));
        }
        c.is_logging = false;
        c.stop_logging_time = Some(ctx.now().unix_timestamp());
        // The trail delivers up to the audit head: every event answered before now is in it.
        ctx.node.service_events.flush().await;
        let r2 = r.clone();
        save(&ctx, &r, c, version, move |tx| {
            update_state(tx, &r2, |s, head| s.stop_seq = Some(head))
        })
        .await?;
        Ok(json!({}))
    })
}

fn time_text(t: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .map(format_time)
}

pub fn get_trail_status(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: NameInput = input::parse(input)?;
        let (r, c, _) = load(&ctx, &i.name, "cloudtrail:GetTrailStatus", false).await?;
        let key = trail::state_key(&r.account, &r.region, &r.name);
        let s = ctx
            .store()
            .read(move |tx| records::get::<DeliveryState>(tx, &key))
            .await?
            .map(|(s, _)| s)
            .unwrap_or_default();
        let mut m = Map::new();
        m.insert("IsLogging".into(), c.is_logging.into());
        let mut put_time = |name: &str, t: Option<i64>| {
            if let Some(t) = t {
                m.insert(name.into(), t.into());
            }
        };
        put_time("StartLoggingTime", c.start_logging_time);
        put_time("StopLoggingTime", c.stop_logging_time);
        put_time("LatestDeliveryTime", s.latest_delivery_time);
        put_time("LatestDigestDeliveryTime", s.latest_digest_delivery_time);
        let mut put_text = |name: &str, t: Option<String>| {
            if let Some(t) = t {
                m.insert(name.into(), t.into());
            }
        };
        put_text(
            "TimeLoggingStarted",
            c.start_logging_time.and_then(time_text),
        );
        put_text(
            "TimeLoggingStopped",
            c.stop_logging_time.and_then(time_text),
        );
        put_text(
            "LatestDeliveryAttemptTime",
            s.latest_delivery_attempt_time.and_then(time_text),
        );
        put_text(
            "LatestDeliveryAttemptSucceeded",
            s.latest_delivery_attempt_succeeded.map(|ok| {
                if ok {
                    s.latest_delivery_attempt_time
                        .and_then(time_text)
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            }),
        );
        put_text("LatestDeliveryError", s.latest_delivery_error);
        put_text("LatestDigestDeliveryError", s.latest_digest_delivery_error);
        Ok(Value::Object(m))
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct PutSelectorsInput {
    trail_name: String,
    event_selectors: Option<Vec<EventSelector>>,
    advanced_event_selectors: Option<Vec<AdvancedSelector>>,
}

fn selectors_json(c: &TrailConfig) -> Value {
    let mut m = Map::new();
    m.insert("TrailARN".into(), c.arn.clone().into());
    match &c.selection {
        Selection::Basic(b) => {
            m.insert(
                "EventSelectors".into(),
                serde_json::to_value(b).unwrap_or_default(),
            );
        }
        Selection::Advanced(a) => {
            m.insert(
                "AdvancedEventSelectors".into(),
                serde_json::to_value(a).unwrap_or_default(),
            );
        }
    }
    Value::Object(m)
}

pub fn put_event_selectors(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: PutSelectorsInput = input::parse(input)?;
        let (r, mut c, version) =
            load(&ctx, &i.trail_name, "cloudtrail:PutEventSelectors", true).await?;
        let selection = match (i.event_selectors, i.advanced_event_selectors) {
            (Some(b), None) => Selection::Basic(b),
            (None, Some(a)) => Selection::Advanced(a),
            _ => {
                return Err(error(
                    "InvalidParameterCombinationException",
                    "Specify either EventSelectors or AdvancedEventSelectors, not both.",
                ));
            }
        };
        selectors::validate(&selection)?;
        c.selection = selection;
        c.has_custom_event_selectors = true;
        let answer = selectors_json(&c);
        save(&ctx, &r, c, version, |_| Ok(())).await?;
        Ok(answer)
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetSelectorsInput {
    trail_name: String,
}

pub fn get_event_selectors(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: GetSelectorsInput = input::parse(input)?;
        let (_, c, _) = load(&ctx, &i.trail_name, "cloudtrail:GetEventSelectors", false).await?;
        Ok(selectors_json(&c))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagsInput {
    resource_id: String,
    #[serde(default)]
    tags_list: Vec<Tag>,
}

/// A trail named by ARN for the tag operations (`ResourceNotFoundException` when absent).
async fn tag_target(
    ctx: &Ctx,
    arn: &str,
    action: &str,
) -> Result<(TrailRef, TrailConfig, u64), AwsError> {
    if !arn.starts_with("arn:") {
        return Err(error(
            "CloudTrailARNInvalidException",
            format!("Invalid trail ARN: {arn}"),
        ));
    }
    load(ctx, arn, action, false).await.map_err(|e| {
        if e.code == "TrailNotFoundException" {
            error(
                "ResourceNotFoundException",
                format!("Resource {arn} not found."),
            )
        } else {
            e
        }
    })
}

pub fn add_tags(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: TagsInput = input::parse(input)?;
        let (r, mut c, version) = tag_target(&ctx, &i.resource_id, "cloudtrail:AddTags").await?;
        let pairs: Vec<(String, String)> = i
            .tags_list
            .iter()
            .map(|t| (t.key.clone(), t.value.clone().unwrap_or_default()))
            .collect();
        c.tags = tags::merge(&c.tags, &pairs, tags::MAX_TAGS).map_err(|v| tag_error(&v))?;
        save(&ctx, &r, c, version, |_| Ok(())).await?;
        Ok(json!({}))
    })
}

pub fn remove_tags(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: TagsInput = input::parse(input)?;
        let (r, mut c, version) = tag_target(&ctx, &i.resource_id, "cloudtrail:RemoveTags").await?;
        for t in &i.tags_list {
            c.tags.remove(&t.key);
        }
        save(&ctx, &r, c, version, |_| Ok(())).await?;
        Ok(json!({}))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsInput {
    resource_id_list: Vec<String>,
}

pub fn list_tags(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: ListTagsInput = input::parse(input)?;
        if i.resource_id_list.is_empty() {
            ctx.authorize("cloudtrail:ListTags", "*", &[])?;
        }
        let mut out = Vec::new();
        for arn in &i.resource_id_list {
            let (_, c, _) = tag_target(&ctx, arn, "cloudtrail:ListTags").await?;
            let tags: Vec<Value> = c
                .tags
                .iter()
                .map(|(k, v)| json!({ "Key": k, "Value": v }))
                .collect();
            out.push(json!({ "ResourceId": c.arn, "TagsList": tags }));
        }
        Ok(json!({ "ResourceTagList": out }))
    })
}
