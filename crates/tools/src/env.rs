//! [`Env`]: how tools read the host's environment (credentials, regions, endpoints).
//!
//! Tools never call `std::env::var` themselves; they are given an [`Env`], which is the process
//! environment in production ([`Env::process`]) and a fixed map in tests ([`Env::from_pairs`]),
//! so tests never change process environment variables.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use secrecy::SecretString;

/// The function behind an [`Env`].
type Lookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// A read-only view of environment variables, cheap to clone.
///
/// `Debug` prints no names and no values.
#[derive(Clone)]
pub struct Env {
    lookup: Arc<Lookup>,
}

impl Env {
    /// The process environment (`std::env::var`; a variable that is not valid Unicode counts as
    /// unset).
    pub fn process() -> Self {
        Self::from_fn(|name| std::env::var(name).ok())
    }

    /// An environment with no variables.
    pub fn empty() -> Self {
        Self::from_fn(|_| None)
    }

    /// An environment answered by a function.
    pub fn from_fn(lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        Self {
            lookup: Arc::new(lookup),
        }
    }

    /// An environment holding exactly these variables.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let vars: HashMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self::from_fn(move |name| vars.get(name).cloned())
    }

    /// The value of a variable; `None` when it is unset or empty.
    pub fn var(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|value| !value.is_empty())
    }

    /// The value of a variable that holds a secret, wrapped so that it cannot be printed by
    /// accident; `None` when it is unset or empty.
    pub fn secret(&self, name: &str) -> Option<SecretString> {
        self.var(name).map(SecretString::from)
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Env(..)")
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    #[test]
    fn pairs_answer_and_empty_values_count_as_unset() {
        let env = Env::from_pairs([("A", "1"), ("EMPTY", "")]);
        assert_eq!(env.var("A").as_deref(), Some("1"));
        assert_eq!(env.var("EMPTY"), None);
        assert_eq!(env.var("MISSING"), None);
        assert_eq!(
            env.secret("A").map(|s| s.expose_secret().to_owned()),
            Some("1".to_owned())
        );
        assert_eq!(format!("{env:?}"), "Env(..)");
    }
}
