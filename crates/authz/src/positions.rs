//! Where a statement sits in a policy document's text, as IAM's simulator reports it
//! (`StartPosition`/`EndPosition`, 1-based line and column).

/// The span of the `index`-th statement (0-based) of `text`: the statement object inside the
/// `Statement` array, or the `Statement` object itself when it is a single object. Falls back
/// to the whole document when the text cannot be scanned.
pub fn statement_span(text: &str, index: usize) -> ((usize, usize), (usize, usize)) {
    let whole = (
        position(text, 0),
        position(text, text.len().saturating_sub(1)),
    );
    let Some(range) = find_statement(text, index) else {
        return whole;
    };
    (position(text, range.0), position(text, range.1))
}

fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Byte offsets of the statement's `{` and `}`.
fn find_statement(text: &str, index: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    // Find the "Statement" key at depth 1.
    let mut depth = 0i32;
    let mut i = 0usize;
    let mut in_string = false;
    let mut string_start = 0usize;
    let mut value_start = None;
    while i < bytes.len() {
        let b = *bytes.get(i)?;
        if in_string {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == b'"' {
                in_string = false;
                if depth == 1 && text.get(string_start + 1..i) == Some("Statement") {
                    // Skip to the value after ':'.
                    let rest = text.get(i + 1..)?;
                    let colon = rest.find(':')?;
                    let after = rest.get(colon + 1..)?;
                    let skip = after.len() - after.trim_start().len();
                    value_start = Some(i + 1 + colon + 1 + skip);
                    break;
                }
            }
        } else {
            match b {
                b'"' => {
                    in_string = true;
                    string_start = i;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth -= 1,
                _ => {}
            }
        }
        i += 1;
    }
    let start = value_start?;
    match bytes.get(start)? {
        b'{' if index == 0 => Some((start, matching(bytes, start)?)),
        b'[' => {
            let mut j = start + 1;
            let mut n = 0usize;
            while j < bytes.len() {
                match bytes.get(j)? {
                    b'{' => {
                        let end = matching(bytes, j)?;
                        if n == index {
                            return Some((j, end));
                        }
                        n += 1;
                        j = end + 1;
                    }
                    b']' => return None,
                    _ => j += 1,
                }
            }
            None
        }
        _ => None,
    }
}

/// The offset of the bracket closing the one at `open`, skipping strings.
fn matching(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut i = open;
    let mut in_string = false;
    while i < bytes.len() {
        let b = *bytes.get(i)?;
        if in_string {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == b'"' {
                in_string = false;
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_of_statements() {
        let doc = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"a:b\", \"Resource\": \"*\"},\n    {\"Effect\": \"Deny\", \"Action\": \"}\", \"Resource\": \"*\"}\n  ]\n}";
        assert_eq!(statement_span(doc, 0), ((4, 5), (4, 57)));
        assert_eq!(statement_span(doc, 1).0, (5, 5));
        let single = r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#;
        assert_eq!(statement_span(single, 0).0, (1, 15));
        assert_eq!(statement_span("not json", 3), ((1, 1), (1, 8)));
    }
}
