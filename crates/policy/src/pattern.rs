//! Wildcard patterns (`*`, `?`) with policy variables, compiled once into the cheapest matcher.
//!
//! A pattern is a list of tokens: literal text, `*`, `?` and variables (`${aws:username}`,
//! `${aws:PrincipalTag/team, 'none'}`). `${*}`, `${?}` and `${$}` become literal characters at
//! compile time. A variable's value is always literal: a `*` inside a tag value is not a wildcard.

use crate::hash::key_hash;

/// Looks up the single value of a condition key for variable substitution.
pub(crate) trait Resolve {
    /// `key` is lower-case; returns `None` when the key is absent or multi-valued.
    fn resolve(&self, key: &str, hash: u64) -> Option<&str>;
}

/// A policy variable.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Var {
    pub(crate) key: Box<str>,
    pub(crate) hash: u64,
    pub(crate) default: Option<Box<str>>,
}

impl Var {
    fn value<'a, R: Resolve + ?Sized>(&'a self, r: &'a R) -> Option<&'a str> {
        r.resolve(&self.key, self.hash).or(self.default.as_deref())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Lit(Box<str>),
    Star,
    Quest,
    Var(Var),
}

/// How a pattern treats `*` and `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wild {
    /// `*` and `?` are wildcards (Action, Resource, StringLike, ArnLike).
    Yes,
    /// Every character is literal (StringEquals); variables still substitute.
    No,
}

/// Splits a policy string into tokens. `vars` is false for 2008-10-17 documents, where `${...}`
/// is plain text.
pub(crate) fn tokenize(s: &str, wild: Wild, vars: bool) -> Vec<Tok> {
    let mut toks: Vec<Tok> = Vec::new();
    let mut lit = String::new();
    let flush = |lit: &mut String, toks: &mut Vec<Tok>| {
        if !lit.is_empty() {
            toks.push(Tok::Lit(std::mem::take(lit).into_boxed_str()));
        }
    };
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if vars && rest.starts_with("${") {
            if let Some((var, used)) = parse_var(rest) {
                match var {
                    VarOrLit::Lit(l) => lit.push(l),
                    VarOrLit::Var(v) => {
                        flush(&mut lit, &mut toks);
                        toks.push(Tok::Var(v));
                    }
                }
                rest = rest.get(used..).unwrap_or("");
                continue;
            }
        }
        match (c, wild) {
            ('*', Wild::Yes) => {
                flush(&mut lit, &mut toks);
                // Consecutive stars are one star.
                if toks.last() != Some(&Tok::Star) {
                    toks.push(Tok::Star);
                }
            }
            ('?', Wild::Yes) => {
                flush(&mut lit, &mut toks);
                toks.push(Tok::Quest);
            }
            _ => lit.push(c),
        }
        rest = rest.get(c.len_utf8()..).unwrap_or("");
    }
    flush(&mut lit, &mut toks);
    toks
}

enum VarOrLit {
    Var(Var),
    Lit(char),
}

/// Parses `${...}` at the start of `s`; returns the variable and the bytes consumed, or `None`
/// when it is not a well-formed variable (then the text is literal).
fn parse_var(s: &str) -> Option<(VarOrLit, usize)> {
    let body_start = 2;
    let bytes = s.as_bytes();
    // Find the closing brace, skipping quoted defaults ('' is an escaped quote).
    let mut i = body_start;
    let mut in_quote = false;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'\'') => {
                if in_quote && bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                in_quote = !in_quote;
            }
            Some(b'}') if !in_quote => break,
            _ => {}
        }
        i += 1;
    }
    if i >= bytes.len() {
        return None;
    }
    let body = s.get(body_start..i)?;
    let used = i + 1;
    match body {
        "*" => return Some((VarOrLit::Lit('*'), used)),
        "?" => return Some((VarOrLit::Lit('?'), used)),
        "$" => return Some((VarOrLit::Lit('$'), used)),
        _ => {}
    }
    let (key, default) = match body.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let inner = d.strip_prefix('\'')?.strip_suffix('\'')?;
            (k.trim(), Some(inner.replace("''", "'").into_boxed_str()))
        }
        None => (body.trim(), None),
    };
    if key.is_empty() || key.contains(char::is_whitespace) {
        return None;
    }
    let key = key.to_ascii_lowercase();
    let hash = key_hash(&key);
    Some((
        VarOrLit::Var(Var {
            key: key.into_boxed_str(),
            hash,
            default,
        }),
        used,
    ))
}

/// A compiled pattern, specialised by shape.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Matcher {
    Any,
    Exact(Box<str>),
    Prefix(Box<str>),
    Suffix(Box<str>),
    Glob(Box<[Tok]>),
}

impl Matcher {
    pub(crate) fn new(s: &str, wild: Wild, vars: bool) -> Matcher {
        Matcher::from_tokens(tokenize(s, wild, vars))
    }

    pub(crate) fn from_tokens(toks: Vec<Tok>) -> Matcher {
        match toks.as_slice() {
            [] => Matcher::Exact("".into()),
            [Tok::Star] => Matcher::Any,
            [Tok::Lit(l)] => Matcher::Exact(l.clone()),
            [Tok::Lit(l), Tok::Star] => Matcher::Prefix(l.clone()),
            [Tok::Star, Tok::Lit(l)] => Matcher::Suffix(l.clone()),
            _ => Matcher::Glob(toks.into_boxed_slice()),
        }
    }

    /// Lower-cases literal text (for case-insensitive action names).
    pub(crate) fn lowercase(s: &str) -> Matcher {
        Matcher::new(&s.to_lowercase(), Wild::Yes, false)
    }

    /// Whether the pattern has policy variables.
    pub(crate) fn has_vars(&self) -> bool {
        matches!(self, Matcher::Glob(t) if t.iter().any(|t| matches!(t, Tok::Var(_))))
    }

    /// Whether every variable of the pattern resolves in `r`.
    pub(crate) fn vars_resolve<R: Resolve + ?Sized>(&self, r: &R) -> bool {
        match self {
            Matcher::Glob(toks) => toks.iter().all(|t| match t {
                Tok::Var(v) => v.value(r).is_some(),
                _ => true,
            }),
            _ => true,
        }
    }

    /// Whether `s` matches. `None` when a variable could not be resolved (AWS then treats the
    /// element as not matching).
    #[inline]
    pub(crate) fn matches<R: Resolve + ?Sized>(&self, s: &str, r: &R) -> Option<bool> {
        Some(match self {
            Matcher::Any => true,
            Matcher::Exact(l) => s == &**l,
            Matcher::Prefix(p) => s.starts_with(&**p),
            Matcher::Suffix(p) => s.ends_with(&**p),
            Matcher::Glob(toks) => return glob(toks, s, r),
        })
    }

    /// Case-insensitive equality for `StringEqualsIgnoreCase` (no wildcards).
    pub(crate) fn eq_ignore_case<R: Resolve + ?Sized>(&self, s: &str, r: &R) -> Option<bool> {
        match self {
            Matcher::Exact(l) => Some(eq_ic(l, s)),
            Matcher::Glob(toks) => {
                let mut parts: Vec<&str> = Vec::with_capacity(toks.len());
                for t in toks.iter() {
                    match t {
                        Tok::Lit(l) => parts.push(l),
                        Tok::Var(v) => parts.push(v.value(r)?),
                        Tok::Star => parts.push("*"),
                        Tok::Quest => parts.push("?"),
                    }
                }
                let a = parts
                    .iter()
                    .flat_map(|p| p.chars())
                    .flat_map(char::to_lowercase);
                Some(a.eq(s.chars().flat_map(char::to_lowercase)))
            }
            Matcher::Any => Some(s == "*"),
            Matcher::Prefix(p) => Some(eq_ic(&format!("{p}*"), s)),
            Matcher::Suffix(p) => Some(eq_ic(&format!("*{p}"), s)),
        }
    }
}

fn eq_ic(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

fn next_char_len(s: &str, at: usize) -> usize {
    s.get(at..)
        .and_then(|r| r.chars().next())
        .map_or(1, char::len_utf8)
}

/// Wildcard matching over tokens with single-star backtracking (linear in practice, never
/// exponential: only the most recent star is retried).
fn glob<R: Resolve + ?Sized>(toks: &[Tok], s: &str, r: &R) -> Option<bool> {
    // Every variable must resolve, whether or not matching would reach it.
    for t in toks {
        if let Tok::Var(v) = t {
            v.value(r)?;
        }
    }
    let mut ti = 0usize;
    let mut si = 0usize;
    let mut star: Option<(usize, usize)> = None;
    loop {
        let progressed = match toks.get(ti) {
            Some(Tok::Star) => {
                star = Some((ti + 1, si));
                ti += 1;
                continue;
            }
            Some(Tok::Quest) => {
                if si < s.len() {
                    si += next_char_len(s, si);
                    ti += 1;
                    true
                } else {
                    false
                }
            }
            Some(Tok::Lit(l)) => {
                if s.get(si..).is_some_and(|rest| rest.starts_with(&**l)) {
                    si += l.len();
                    ti += 1;
                    true
                } else {
                    false
                }
            }
            Some(Tok::Var(v)) => {
                let val = v.value(r)?;
                if s.get(si..).is_some_and(|rest| rest.starts_with(val)) {
                    si += val.len();
                    ti += 1;
                    true
                } else {
                    false
                }
            }
            None => {
                if si == s.len() {
                    return Some(true);
                }
                false
            }
        };
        if progressed {
            continue;
        }
        match star {
            Some((sti, ssi)) if ssi < s.len() => {
                let nssi = ssi + next_char_len(s, ssi);
                star = Some((sti, nssi));
                ti = sti;
                si = nssi;
            }
            _ => return Some(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Ctx;
    impl Resolve for Ctx {
        fn resolve(&self, key: &str, _: u64) -> Option<&str> {
            match key {
                "aws:username" => Some("bob"),
                "aws:principaltag/team" => Some("a*b"),
                _ => None,
            }
        }
    }

    fn m(p: &str, s: &str) -> Option<bool> {
        Matcher::new(p, Wild::Yes, true).matches(s, &Ctx)
    }

    #[test]
    fn shapes() {
        assert_eq!(Matcher::new("*", Wild::Yes, true), Matcher::Any);
        assert_eq!(
            Matcher::new("a**", Wild::Yes, true),
            Matcher::Prefix("a".into())
        );
        assert_eq!(
            Matcher::new("*a", Wild::Yes, true),
            Matcher::Suffix("a".into())
        );
        assert_eq!(
            Matcher::new("a*", Wild::No, true),
            Matcher::Exact("a*".into())
        );
    }

    #[test]
    fn globbing() {
        assert_eq!(m("a*c", "abbbc"), Some(true));
        assert_eq!(m("a*c", "abbb"), Some(false));
        assert_eq!(m("a?c", "abc"), Some(true));
        assert_eq!(m("a?c", "ac"), Some(false));
        assert_eq!(m("*a*b*c*", "xxaxxbxxcxx"), Some(true));
        assert_eq!(m("h?llo*", "héllo"), Some(true));
        assert_eq!(m("home/${aws:username}/*", "home/bob/x"), Some(true));
        assert_eq!(m("home/${aws:username}/*", "home/alice/x"), Some(false));
        assert_eq!(m("home/${aws:userid}/*", "home/bob/x"), None);
        assert_eq!(m("home/${aws:userid, 'bob'}/*", "home/bob/x"), Some(true));
        assert_eq!(m("t/${aws:PrincipalTag/team}", "t/a*b"), Some(true));
        assert_eq!(m("t/${aws:PrincipalTag/team}", "t/axxb"), Some(false));
        assert_eq!(m("a${*}b", "a*b"), Some(true));
        assert_eq!(m("a${*}b", "axb"), Some(false));
        assert_eq!(m("a${$}b", "a$b"), Some(true));
        assert_eq!(m("${x, 'it''s'}", "it's"), Some(true));
    }
}
