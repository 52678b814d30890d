//! Requests serialized by botocore itself (boto3 / AWS CLI) decode to exactly the canonical input,
//! and outputs of a purpose-built model (flattened lists and maps, `locationName`s) are read back
//! by botocore's parser. Together with `botocore.rs` this covers both directions.
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use rampart_wire::ServiceModel;

fn python(script: &str, input: &Value) -> String {
    let path = format!("{}/tests/wire/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new("python3")
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with botocore is required for this test (pip install botocore)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{script} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Serializes each (name, operation, params) with botocore and decodes it with our decoder.
fn assert_round_trip(svc: &ServiceModel, model: Option<&Value>, cases: &[(&str, &str, Value)]) {
    let input: Vec<Value> = cases
        .iter()
        .map(|(name, op, params)| {
            let mut case = json!({"name": name, "operation": op, "params": params});
            match model {
                Some(m) => case["model"] = m.clone(),
                None => case["service"] = json!(svc.name),
            }
            case
        })
        .collect();
    let serialized: Vec<Value> =
        serde_json::from_str(&python("botocore_serialize.py", &json!(input))).unwrap();
    assert_eq!(serialized.len(), cases.len());
    for ((name, op_name, canonical), wire) in cases.iter().zip(&serialized) {
        let op = svc.operation(op_name).unwrap();
        let decoded = if let Some(pairs) = wire["params"].as_array() {
            let params: Vec<(String, String)> = pairs
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().to_owned(),
                        p[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            // Through the form encoding, as the server receives it.
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&params)
                .finish();
            rampart_wire::decode_query(svc, op, &rampart_wire::parse_form(body.as_bytes()))
        } else {
            rampart_wire::decode_json(svc, op, wire["body"].as_str().unwrap().as_bytes())
        };
        let decoded = decoded.unwrap_or_else(|e| panic!("{name}: {e}\nwire: {wire}"));
        assert!(
            same(&decoded, canonical),
            "{name}:\n decoded {decoded}\n expected {canonical}\n wire {wire}"
        );
    }
}

/// Equality with numbers compared by value (an epoch of `5` and `5.0` are the same instant).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-6
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn botocore_query_requests_decode_to_the_canonical_input() {
    let iam = rampart_wire::service("iam").unwrap();
    assert_round_trip(
        iam,
        None,
        &[
            (
                "create-user",
                "CreateUser",
                json!({"Path":"/ops/","UserName":"alice+ops@example.com","Tags":[{"Key":"team","Value":"a b:c=d+é"},{"Key":"env","Value":""}]}),
            ),
            (
                "create-user-empty-tags",
                "CreateUser",
                json!({"UserName":"bob","Tags":[]}),
            ),
            (
                "oidc",
                "CreateOpenIDConnectProvider",
                json!({"Url":"https://idp.example.com","ClientIDList":["c1","c2","c3"],"ThumbprintList":["0123456789012345678901234567890123456789"]}),
            ),
            (
                "password-policy",
                "UpdateAccountPasswordPolicy",
                json!({"MinimumPasswordLength":12,"RequireSymbols":true,"RequireNumbers":false,"MaxPasswordAge":90,"HardExpiry":false}),
            ),
            (
                "put-user-policy",
                "PutUserPolicy",
                json!({"UserName":"alice","PolicyName":"p","PolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/é\"}]}"}),
            ),
            (
                "simulate",
                "SimulatePrincipalPolicy",
                json!({"PolicySourceArn":"arn:aws:iam::123456789012:user/alice","ActionNames":["s3:GetObject","iam:ListUsers"],"ResourceArns":["*"],"ContextEntries":[{"ContextKeyName":"aws:SourceIp","ContextKeyValues":["10.0.0.1","10.0.0.2"],"ContextKeyType":"ipList"}],"MaxItems":5}),
            ),
            (
                "list-users",
                "ListUsers",
                json!({"PathPrefix":"/","MaxItems":100,"Marker":"bWFya2Vy"}),
            ),
        ],
    );
    let sts = rampart_wire::service("sts").unwrap();
    assert_round_trip(
        sts,
        None,
        &[
            (
                "assume-role",
                "AssumeRole",
                json!({
                    "RoleArn":"arn:aws:iam::123456789012:role/r","RoleSessionName":"session-1","DurationSeconds":3600,
                    "PolicyArns":[{"arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}],
                    "Tags":[{"Key":"k","Value":"v"}],"TransitiveTagKeys":["k"],"ExternalId":"x-1",
                    "ProvidedContexts":[{"ProviderArn":"arn:aws:iam::aws:contextProvider/IdentityCenter","ContextAssertion":"abcd"}]
                }),
            ),
            ("caller-identity", "GetCallerIdentity", json!({})),
        ],
    );
}

#[test]
fn botocore_json_requests_decode_to_the_canonical_input() {
    let kms = rampart_wire::service("kms").unwrap();
    assert_round_trip(
        kms,
        None,
        &[
            (
                "encrypt",
                "Encrypt",
                json!({"KeyId":"alias/app","Plaintext":"aGVsbG8gd29ybGQ=","EncryptionContext":{"a":"b","c":"d"},"GrantTokens":["t1"],"EncryptionAlgorithm":"SYMMETRIC_DEFAULT","DryRun":false}),
            ),
            (
                "create-key",
                "CreateKey",
                json!({"Description":"d","KeyUsage":"ENCRYPT_DECRYPT","KeySpec":"SYMMETRIC_DEFAULT","Tags":[{"TagKey":"k","TagValue":"v"}],"MultiRegion":false,"BypassPolicyLockoutSafetyCheck":true}),
            ),
            (
                "create-grant",
                "CreateGrant",
                json!({"KeyId":"k","GranteePrincipal":"arn:aws:iam::123456789012:role/r","Operations":["Encrypt","Decrypt"],"Constraints":{"EncryptionContextSubset":{"x":"y"}},"Name":"g"}),
            ),
        ],
    );
    let sm = rampart_wire::service("secretsmanager").unwrap();
    assert_round_trip(
        sm,
        None,
        &[(
            "create-secret",
            "CreateSecret",
            json!({"Name":"app/db","ClientRequestToken":"0123456789abcdef0123456789abcdef","SecretBinary":"AAECAw==","Tags":[{"Key":"k","Value":"v"}],"AddReplicaRegions":[{"Region":"eu-west-1"}]}),
        )],
    );
    let ssm = rampart_wire::service("ssm").unwrap();
    assert_round_trip(
        ssm,
        None,
        &[
            (
                "put-parameter",
                "PutParameter",
                json!({"Name":"/app/x","Value":"v","Type":"SecureString","Overwrite":true,"Tags":[{"Key":"k","Value":"v"}]}),
            ),
            (
                "automation",
                "StartAutomationExecution",
                json!({"DocumentName":"doc","Parameters":{"InstanceId":["i-1","i-2"]},"TargetMaps":[{"k":["v"]}]}),
            ),
        ],
    );
    let ct = rampart_wire::service("cloudtrail").unwrap();
    assert_round_trip(
        ct,
        None,
        &[(
            "lookup-events",
            "LookupEvents",
            json!({"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"CreateUser"}],"StartTime":1767323045,"EndTime":1767326645,"MaxResults":50}),
        )],
    );
}

/// A query-protocol model with every serialization trait the embedded models do not use.
fn custom_model() -> Value {
    let members = json!({
        "Flat": {"shape": "FlatList"},
        "FlatNamed": {"shape": "FlatNamedList"},
        "Named": {"shape": "NamedList"},
        "Renamed": {"shape": "Str", "locationName": "OtherName"},
        "Dict": {"shape": "StrMap"},
        "FlatDict": {"shape": "FlatMap"},
        "NamedDict": {"shape": "NamedMap"},
        "Nested": {"shape": "Nested"},
        "Items": {"shape": "NestedList"},
        "When": {"shape": "Time"},
        "Data": {"shape": "Bytes"},
        "Count": {"shape": "Long"},
        "Ratio": {"shape": "Double"},
        "On": {"shape": "Bool"}
    });
    json!({
        "version": "2.0",
        "metadata": {"apiVersion": "2020-01-01", "endpointPrefix": "custom", "protocol": "query", "protocols": ["query"],
                     "serviceId": "Custom", "signatureVersion": "v4", "xmlNamespace": "https://custom.amazonaws.com/doc/2020-01-01/", "uid": "custom-2020-01-01"},
        "operations": {"Echo": {"name": "Echo", "http": {"method": "POST", "requestUri": "/"},
                                "input": {"shape": "EchoRequest"}, "output": {"shape": "EchoResponse", "resultWrapper": "EchoResult"}}},
        "shapes": {
            "EchoRequest": {"type": "structure", "members": members},
            "EchoResponse": {"type": "structure", "members": members},
            "Str": {"type": "string"},
            "Time": {"type": "timestamp"},
            "Bytes": {"type": "blob"},
            "Long": {"type": "long"},
            "Double": {"type": "double"},
            "Bool": {"type": "boolean"},
            "FlatList": {"type": "list", "member": {"shape": "Str"}, "flattened": true},
            "FlatNamedList": {"type": "list", "member": {"shape": "Str", "locationName": "Item"}, "flattened": true},
            "NamedList": {"type": "list", "member": {"shape": "Str", "locationName": "Entry"}},
            "StrMap": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Str"}},
            "FlatMap": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Str"}, "flattened": true},
            "NamedMap": {"type": "map", "key": {"shape": "Str", "locationName": "K"}, "value": {"shape": "Nested", "locationName": "V"}},
            "Nested": {"type": "structure", "members": {"A": {"shape": "Str"}, "B": {"shape": "FlatList"}, "C": {"shape": "Long"}}},
            "NestedList": {"type": "list", "member": {"shape": "Nested"}}
        }
    })
}

fn custom_value() -> Value {
    json!({
        "Flat": ["a", "b"],
        "FlatNamed": ["c"],
        "Named": ["d", "e"],
        "Renamed": "r&<>",
        "Dict": {"k1": "v1", "k2": "v2"},
        "FlatDict": {"f": "g"},
        "NamedDict": {"x": {"A": "ax", "C": 3}},
        "Nested": {"A": "a", "B": ["b1", "b2"], "C": 7},
        "Items": [{"A": "i1"}, {"B": ["z"], "C": -1}],
        "When": 1767323045.25,
        "Data": "AAEC",
        "Count": 9007199254740993i64,
        "Ratio": 0.5,
        "On": true
    })
}

#[test]
fn custom_model_requests_decode_with_flattened_and_renamed_members() {
    let model = custom_model();
    let svc = ServiceModel::from_json("custom", model.to_string().as_bytes(), false).unwrap();
    assert_round_trip(
        &svc,
        Some(&model),
        &[
            ("echo", "Echo", custom_value()),
            ("echo-empty-list", "Echo", json!({"Flat": [], "Named": []})),
        ],
    );
}

#[test]
fn custom_model_outputs_parse_with_botocore() {
    let model = custom_model();
    let svc = ServiceModel::from_json("custom", model.to_string().as_bytes(), false).unwrap();
    let op = svc.operation("Echo").unwrap();
    let value = custom_value();
    let body = rampart_wire::encode_query(&svc, op, &value, "req-custom");
    let case = json!({
        "name": "custom-echo",
        "model": model,
        "operation": "Echo",
        "status": 200,
        "headers": [],
        "body": String::from_utf8(body).unwrap(),
        "expected": value,
        "error": null,
        "request_id": "req-custom",
    });
    let out = python("botocore_check.py", &json!([case]));
    assert!(out.contains("1 cases, 0 failed"), "{out}");
}
