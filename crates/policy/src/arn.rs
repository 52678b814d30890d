//! ARN-aware matching: the six colon-separated parts are compared one by one, so a wildcard in
//! the region never swallows the account, while the resource part keeps its own colons.

use crate::pattern::{Matcher, Resolve, Tok, Wild, tokenize};

/// A request ARN split once into its six parts (by byte offsets, no copies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ArnParts {
    /// Offsets of the five separating colons.
    colons: [usize; 5],
}

impl ArnParts {
    /// Splits an ARN; `None` when it is not `arn:partition:service:region:account:resource`.
    pub(crate) fn split(s: &str) -> Option<ArnParts> {
        if !s.starts_with("arn:") {
            return None;
        }
        let mut colons = [0usize; 5];
        let mut n = 0;
        for (i, b) in s.bytes().enumerate() {
            if b == b':' {
                if let Some(slot) = colons.get_mut(n) {
                    *slot = i;
                }
                n += 1;
                if n == 5 {
                    return Some(ArnParts { colons });
                }
            }
        }
        None
    }

    /// Part `i` (0 = "arn", 5 = resource) of `s`, which must be the string this was split from.
    #[inline]
    pub(crate) fn part<'a>(&self, s: &'a str, i: usize) -> &'a str {
        let start = if i == 0 {
            0
        } else {
            self.colons.get(i - 1).map_or(s.len(), |c| c + 1)
        };
        let end = self.colons.get(i).copied().unwrap_or(s.len());
        s.get(start..end).unwrap_or("")
    }
}

/// A compiled ARN pattern from `Resource`, `NotResource` or an `Arn*` condition value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ArnPattern {
    /// `*`
    Any,
    /// Six per-part matchers, and whether any holds a policy variable.
    Parts(Box<[Matcher; 6]>, bool),
    /// Fewer than six parts (for example `arn:aws:s3:*`). AWS compares "each of the six
    /// colon-delimited components of the ARN separately", so such a pattern matches no ARN.
    Short,
}

impl ArnPattern {
    pub(crate) fn new(s: &str, vars: bool) -> ArnPattern {
        let toks = tokenize(s, Wild::Yes, vars);
        if toks.as_slice() == [Tok::Star] {
            return ArnPattern::Any;
        }
        match split_tokens(&toks) {
            Some(parts) => {
                let ms = parts.map(Matcher::from_tokens);
                let vars = ms.iter().any(Matcher::has_vars);
                ArnPattern::Parts(Box::new(ms), vars)
            }
            None => ArnPattern::Short,
        }
    }

    /// Matches a request ARN (`parts` is its split, `None` when it is not an ARN).
    #[inline]
    pub(crate) fn matches<R: Resolve + ?Sized>(
        &self,
        s: &str,
        parts: Option<&ArnParts>,
        r: &R,
    ) -> Option<bool> {
        match self {
            ArnPattern::Any => Some(true),
            ArnPattern::Short => Some(false),
            ArnPattern::Parts(ms, vars) => {
                // An unresolvable variable anywhere makes the whole pattern unresolvable.
                if *vars && !ms.iter().all(|m| m.vars_resolve(r)) {
                    return None;
                }
                let Some(p) = parts else {
                    return Some(false);
                };
                // The resource part is the most selective, then service and account.
                for i in [5, 2, 4, 3, 1, 0] {
                    let Some(m) = ms.get(i) else {
                        return Some(false);
                    };
                    if !m.matches(p.part(s, i), r)? {
                        return Some(false);
                    }
                }
                Some(true)
            }
        }
    }
}

/// Splits tokens at the first five literal colons; `None` if there are fewer than five.
fn split_tokens(toks: &[Tok]) -> Option<[Vec<Tok>; 6]> {
    let mut out: [Vec<Tok>; 6] = Default::default();
    let mut idx = 0usize;
    for t in toks {
        match t {
            Tok::Lit(l) if idx < 5 => {
                let mut rest: &str = l;
                while idx < 5 {
                    match rest.split_once(':') {
                        Some((a, b)) => {
                            if !a.is_empty() {
                                out.get_mut(idx)?.push(Tok::Lit(a.into()));
                            }
                            idx += 1;
                            rest = b;
                        }
                        None => break,
                    }
                }
                if !rest.is_empty() {
                    out.get_mut(idx)?.push(Tok::Lit(rest.into()));
                }
            }
            other => out.get_mut(idx)?.push(other.clone()),
        }
    }
    (idx == 5).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoVars;
    impl Resolve for NoVars {
        fn resolve(&self, _: &str, _: u64) -> Option<&str> {
            None
        }
    }

    fn m(p: &str, s: &str) -> bool {
        ArnPattern::new(p, true)
            .matches(s, ArnParts::split(s).as_ref(), &NoVars)
            .unwrap()
    }

    #[test]
    fn parts() {
        let s = "arn:aws:s3:::bucket/a:b";
        let p = ArnParts::split(s).unwrap();
        assert_eq!(p.part(s, 0), "arn");
        assert_eq!(p.part(s, 2), "s3");
        assert_eq!(p.part(s, 3), "");
        assert_eq!(p.part(s, 5), "bucket/a:b");
        assert!(ArnParts::split("arn:aws:s3").is_none());
    }

    #[test]
    fn matching() {
        assert!(m("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a:b"));
        assert!(!m("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket"));
        assert!(m(
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::123456789012:role/x"
        ));
        assert!(!m(
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::123456789012:user/x"
        ));
        // A wildcard in the region does not reach into the account.
        assert!(!m(
            "arn:aws:ec2:us-*:111122223333:*",
            "arn:aws:ec2:us-east-1:444455556666:x"
        ));
        assert!(m(
            "arn:aws:ec2:*:*:instance/*",
            "arn:aws:ec2:eu-west-1:1:instance/i-1"
        ));
        assert!(m("*", "anything"));
        assert!(!m("arn:aws:s3:::*", "*"));
        assert!(!m("arn:aws:s3:*", "arn:aws:s3:::b/k"));
    }
}
