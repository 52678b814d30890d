//! awsQuery decoding (form parameters) and XML encoding.
use serde_json::json;

use crate::{lookup, params};

fn decode(
    operation: &str,
    pairs: &[(&str, &str)],
) -> Result<serde_json::Value, rampart_aws_types::AwsError> {
    let (svc, op) = lookup("iam", operation);
    rampart_wire::decode_query(svc, op, &params(pairs))
}

#[test]
fn lists_of_structures_and_scalars_numbers_and_booleans() {
    let v = decode(
        "CreateUser",
        &[
            ("Action", "CreateUser"),
            ("Version", "2010-05-08"),
            ("UserName", "alice"),
            ("Path", "/ops/"),
            ("Tags.member.2.Key", "b"),
            ("Tags.member.2.Value", "2"),
            ("Tags.member.1.Key", "a"),
            ("Tags.member.1.Value", "1"),
            ("Unknown", "x"),
        ],
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"Path":"/ops/","UserName":"alice","Tags":[{"Key":"a","Value":"1"},{"Key":"b","Value":"2"}]})
    );

    let v = decode(
        "CreateOpenIDConnectProvider",
        &[
            ("Url", "https://idp.example.com"),
            ("ClientIDList.member.1", "c1"),
            ("ClientIDList.member.2", "c2"),
        ],
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"Url":"https://idp.example.com","ClientIDList":["c1","c2"]})
    );

    let v = decode("ListUsers", &[("MaxItems", "10"), ("Marker", "m")]).unwrap();
    assert_eq!(v, json!({"Marker":"m","MaxItems":10}));

    let v = decode(
        "UpdateAccountPasswordPolicy",
        &[
            ("RequireSymbols", "true"),
            ("HardExpiry", "false"),
            ("MinimumPasswordLength", "12"),
        ],
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"MinimumPasswordLength":12,"RequireSymbols":true,"HardExpiry":false})
    );
}

#[test]
fn empty_list_is_the_bare_name() {
    let v = decode("CreateUser", &[("UserName", "alice"), ("Tags", "")]).unwrap();
    assert_eq!(v, json!({"UserName":"alice","Tags":[]}));
    let e = decode("CreateUser", &[("UserName", "alice"), ("Tags", "x")]).unwrap_err();
    assert_eq!(e.code, "MalformedInput");
}

#[test]
fn validation_errors_use_query_code_and_aws_paths() {
    let e = decode(
        "CreateUser",
        &[
            ("UserName", "al ice"),
            ("Tags.member.1.Key", "k"),
            ("Tags.member.1.Value", "x".repeat(257).as_str()),
        ],
    )
    .unwrap_err();
    assert_eq!(e.code, "ValidationError");
    assert_eq!(e.status, 400);
    assert_eq!(
        e.message,
        format!(
            "2 validation errors detected: Value 'al ice' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+; Value '{}' at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256",
            "x".repeat(257)
        )
    );
    let e = decode("ListUsers", &[("MaxItems", "0")]).unwrap_err();
    assert_eq!(
        e.message,
        "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    let e = decode("GetUserPolicy", &[]).unwrap_err();
    assert_eq!(
        e.message,
        "2 validation errors detected: Value null at 'userName' failed to satisfy constraint: Member must not be null; Value null at 'policyName' failed to satisfy constraint: Member must not be null"
    );
    // Non-ASCII letters are not `\w` for AWS (Java), so they fail IAM's name pattern.
    assert!(decode("CreateUser", &[("UserName", "élodie")]).is_err());
}

#[test]
fn sensitive_query_values_are_not_echoed() {
    let (svc, op) = lookup("iam", "CreateLoginProfile");
    let e =
        rampart_wire::decode_query(svc, op, &params(&[("UserName", "alice"), ("Password", "")]))
            .unwrap_err();
    assert_eq!(
        e.message,
        "2 validation errors detected: Value at 'password' failed to satisfy constraint: Member must have length greater than or equal to 1; Value at 'password' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"
    );
    let (svc, op) = lookup("sts", "AssumeRoleWithSAML");
    let e = rampart_wire::decode_query(
        svc,
        op,
        &params(&[
            ("RoleArn", "arn:aws:iam::123456789012:role/r"),
            ("PrincipalArn", "arn:aws:iam::123456789012:saml-provider/p"),
            ("SAMLAssertion", "abc"),
        ]),
    )
    .unwrap_err();
    assert!(
        e.message.contains("Value at 'sAMLAssertion'"),
        "{}",
        e.message
    );
    assert!(!e.message.contains("'abc'"), "{}", e.message);
}

#[test]
fn malformed_scalars_are_malformed_input() {
    for (op_name, pairs) in [
        ("ListUsers", vec![("MaxItems", "ten")]),
        ("ListUsers", vec![("MaxItems", "99999999999999999999")]),
        ("ListUsers", vec![("MaxItems", "1.5")]),
        (
            "UpdateAccountPasswordPolicy",
            vec![("RequireSymbols", "yes")],
        ),
    ] {
        let e = decode(op_name, &pairs).unwrap_err();
        assert_eq!(e.code, "MalformedInput", "{pairs:?}");
        assert_eq!(e.status, 400);
    }
    let e = decode("UpdateAccountPasswordPolicy", &[("RequireSymbols", "yes")]).unwrap_err();
    assert_eq!(
        e.message,
        "Invalid value 'yes' for parameter RequireSymbols: boolean must follow xsd1.1 definition"
    );
}

#[test]
fn list_indices_must_be_one_to_n() {
    for pairs in [
        vec![
            ("UserName", "a"),
            ("Tags.member.1.Key", "k"),
            ("Tags.member.1.Value", "v"),
            ("Tags.member.3.Key", "k"),
            ("Tags.member.3.Value", "v"),
        ],
        vec![("UserName", "a"), ("Tags.member.0.Key", "k")],
        vec![("UserName", "a"), ("Tags.member.01.Key", "k")],
        vec![("UserName", "a"), ("Tags.member.x.Key", "k")],
        vec![("UserName", "a"), ("Tags.member..Key", "k")],
        vec![("UserName", "a"), ("Tags.member.-1.Key", "k")],
        vec![("UserName", "a"), ("Tags.member.99999999999.Key", "k")],
        vec![("UserName", "a"), ("Tags.member.2.Key", "k")],
    ] {
        let e = decode("CreateUser", &pairs).unwrap_err();
        assert_eq!(e.code, "MalformedInput", "{pairs:?}");
    }
}

#[test]
fn repeated_parameters_keep_the_first_value() {
    let v = decode("GetUser", &[("UserName", "first"), ("UserName", "second")]).unwrap();
    assert_eq!(v, json!({"UserName":"first"}));
}

#[test]
fn encode_query_matches_aws_layout_exactly() {
    let (svc, op) = lookup("sts", "GetCallerIdentity");
    let xml = rampart_wire::encode_query(
        svc,
        op,
        &json!({"UserId":"AIDA1","Account":"123456789012","Arn":"arn:aws:iam::123456789012:user/a&b"}),
        "rid-1",
    );
    assert_eq!(
        String::from_utf8(xml).unwrap(),
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><UserId>AIDA1</UserId><Account>123456789012</Account><Arn>arn:aws:iam::123456789012:user/a&amp;b</Arn></GetCallerIdentityResult><ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
    );
    let (svc, op) = lookup("iam", "DeleteUser");
    let xml = rampart_wire::encode_query(svc, op, &json!({}), "rid-2");
    assert_eq!(
        String::from_utf8(xml).unwrap(),
        "<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata><RequestId>rid-2</RequestId></ResponseMetadata></DeleteUserResponse>"
    );
    let (svc, op) = lookup("iam", "GetAccountSummary");
    let xml = rampart_wire::encode_query(svc, op, &json!({"SummaryMap":{"Users":1}}), "r");
    assert!(String::from_utf8(xml).unwrap().contains("<GetAccountSummaryResult><SummaryMap><entry><key>Users</key><value>1</value></entry></SummaryMap></GetAccountSummaryResult>"));
}

#[test]
fn encoded_xml_is_well_formed_even_with_control_characters() {
    let (svc, op) = lookup("iam", "GetUser");
    let xml = rampart_wire::encode_query(
        svc,
        op,
        &json!({"User":{"UserName":"a\u{1}b\r\n<>&\"'","Path":"/","UserId":"i","Arn":"a","CreateDate":0}}),
        "r",
    );
    let mut reader = quick_xml::Reader::from_reader(xml.as_slice());
    let mut buf = Vec::new();
    let mut events = 0;
    loop {
        match reader.read_event_into(&mut buf).unwrap() {
            quick_xml::events::Event::Eof => break,
            _ => events += 1,
        }
        buf.clear();
    }
    assert!(events > 10);
    let text = String::from_utf8(xml).unwrap();
    assert!(
        text.contains("<UserName>a\u{FFFD}b&#xD;\n&lt;&gt;&amp;&quot;&apos;</UserName>"),
        "{text}"
    );
}
