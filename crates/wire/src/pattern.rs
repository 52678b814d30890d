//! botocore `pattern`s are Java regular expressions matched against the whole value (Java's
//! `Matcher.matches`). This translates the parts whose meaning differs in the `regex` crate and
//! compiles once per shape. Patterns the crate cannot express (lookaround, back-references) are
//! skipped: the check is left out rather than guessed.
use regex::Regex;

use crate::model::Shape;

/// Upper bound for a compiled pattern; botocore's patterns are small.
const SIZE_LIMIT: usize = 1 << 20;

/// A compiled pattern: a regex plus the side conditions that stand in for Java features the
/// `regex` crate lacks (see [`EQUIVALENTS`]).
#[derive(Debug)]
pub struct Pattern {
    re: Regex,
    forbid: Option<&'static str>,
    max_chars: Option<usize>,
}

impl Pattern {
    pub fn is_match(&self, text: &str) -> bool {
        self.max_chars.is_none_or(|max| text.chars().count() <= max)
            && self.forbid.is_none_or(|f| !text.contains(f))
            && self.re.is_match(text)
    }
}

/// Hand-checked rewrites of botocore patterns that use lookaround or huge repetitions:
/// (Java pattern, equivalent `regex` pattern, forbidden substring, maximum length in chars).
const EQUIVALENTS: &[(&str, &str, Option<&str>, Option<usize>)] = &[
    // "not blank": at least one non-whitespace character, no line break.
    (r"^(?!\s*$).+", r".*[^\t\n\x0B\x0C\r ].*", None, None),
    // IAM account alias: no two hyphens in a row.
    (
        r"^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$",
        r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]",
        Some("--"),
        None,
    ),
    (r"^.{1,100000}$", r".+", None, Some(100_000)),
];

/// The compiled pattern of a string shape, or `None` if it cannot be compiled.
pub(crate) fn compiled<'a>(shape: &'a Shape, pattern: &str) -> Option<&'a Pattern> {
    shape.compiled.get_or_init(|| compile(pattern)).as_ref()
}

/// Compiles a Java pattern with full-match semantics.
pub fn compile(java: &str) -> Option<Pattern> {
    if let Some((_, rust, forbid, max_chars)) = EQUIVALENTS.iter().find(|e| e.0 == java) {
        return Some(Pattern {
            re: build(rust)?,
            forbid: *forbid,
            max_chars: *max_chars,
        });
    }
    Some(Pattern {
        re: build(&translate(java))?,
        forbid: None,
        max_chars: None,
    })
}

fn build(pattern: &str) -> Option<Regex> {
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(SIZE_LIMIT)
        .build()
        .ok()
}

/// Whether the `regex` crate can check this pattern (used by tests and the report).
pub fn is_supported(java: &str) -> bool {
    compile(java).is_some()
}

/// Java and `regex` differ in three ways that matter for botocore's patterns:
/// - `\w`, `\d`, `\s` are ASCII in Java but Unicode in `regex`; IAM names (`[\w+=,.@-]+`) must
///   not start accepting non-ASCII letters.
/// - Java spells supplementary code points as UTF-16 surrogate pairs (`\uD800\uDC00-\uDBFF\uDFFF`);
///   `regex` works on scalar values.
/// - `.` excludes every line terminator in Java (`\r`, U+0085, U+2028, U+2029 too).
/// - `\uXXXX` is the same in both (exactly four hex digits), so `\u10000` keeps Java's meaning.
fn translate(java: &str) -> String {
    let java = java.replace(r"\uD800\uDC00-\uDBFF\uDFFF", r"\x{10000}-\x{10FFFF}");
    let mut out = String::with_capacity(java.len() + 16);
    let mut in_class = false;
    let dot_all = java.contains("(?s)");
    let mut chars = java.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let ascii = match next {
                    'w' => Some("a-zA-Z0-9_"),
                    'd' => Some("0-9"),
                    's' => Some(r"\t\n\x0B\x0C\r "),
                    _ => None,
                };
                match ascii {
                    Some(set) if in_class => out.push_str(set),
                    Some(set) => {
                        out.push('[');
                        out.push_str(set);
                        out.push(']');
                    }
                    None => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A leading `]` or `^]` is literal; copy it so it does not close the class.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str(r"\]");
                    chars.next();
                }
            }
            '[' => out.push_str(r"\["),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            // Java's `.` stops at every line terminator, not only `\n`.
            '.' if !in_class && !dot_all => out.push_str(r"[^\n\r\x{85}\x{2028}\x{2029}]"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_class_is_ascii_like_java() {
        let re = compile(r"[\w+=,.@-]+").unwrap();
        assert!(re.is_match("alice+ops@example.com"));
        assert!(!re.is_match("élodie"));
        assert!(!re.is_match("a b"));
        let re = compile(r"\w{3}").unwrap();
        assert!(re.is_match("ab_"));
        assert!(!re.is_match("abé"));
    }

    #[test]
    fn dot_stops_at_java_line_terminators() {
        let re = compile("arn:aws:iam::[0-9]{12}:role/.+").unwrap();
        assert!(re.is_match("arn:aws:iam::123456789012:role/r"));
        assert!(!re.is_match("arn:aws:iam::123456789012:role/r\rx"));
        assert!(!re.is_match("arn:aws:iam::123456789012:role/r\u{2028}"));
        assert!(compile("(?s).*").unwrap().is_match("a\nb"));
        assert!(compile("[.]").unwrap().is_match("."));
        assert!(!compile("[.]").unwrap().is_match("a"));
    }

    #[test]
    fn whole_value_must_match() {
        let re = compile("[0-9]{12}").unwrap();
        assert!(re.is_match("123456789012"));
        assert!(!re.is_match("1234567890123"));
        let re = compile("(?i)all|[0-9]{12}").unwrap();
        assert!(re.is_match("ALL"));
        assert!(!re.is_match("allx"));
    }

    #[test]
    fn surrogate_pairs_become_supplementary_ranges() {
        let re = compile(r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*").unwrap();
        assert!(re.is_match("hello 😀\t"));
        assert!(!re.is_match("\u{1}"));
    }

    #[test]
    fn lookaround_is_rewritten_or_reported_unsupported() {
        let not_blank = compile(r"^(?!\s*$).+").unwrap();
        assert!(not_blank.is_match(" a "));
        assert!(!not_blank.is_match("   "));
        assert!(!not_blank.is_match(""));
        let alias = compile(r"^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$").unwrap();
        assert!(alias.is_match("my-alias-1"));
        assert!(!alias.is_match("my--alias"));
        assert!(!alias.is_match("-alias"));
        assert!(!alias.is_match("ab"));
        assert!(!is_supported(r"(a)(?!b)\1"));
        assert!(is_supported(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+"));
    }
}
