//! Parameter Store's own parsing of caller input: names, selectors, labels, policies,
//! AllowedPattern regexes, data types. None may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rampart_ssm::{names, ops, policies};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = names::check_new_name(text, "us-east-1", "111122223333");
    let (name, _, _) = names::split_selector(text);
    let _ = names::arn("us-east-1", "1", &name);
    let _ = names::valid_label(text);
    let _ = names::depth(text);
    if let Ok((list, _)) = policies::parse(text) {
        let _ = policies::due_actions(&list, 0);
    }
    let (pattern, value) = text.split_once('\n').unwrap_or((text, ""));
    let _ = ops::put::check_pattern(pattern, value);
    let _ = ops::put::check_data_type(pattern, value);
});
