//! Generation of new object IDs and secrets.
//!
//! An ID is the resource's prefix followed by 24 random base62 characters, the shape of the
//! API's own IDs (`agent_011CZkZAtmR3yMPDzynEDxu7`). IDs carry no meaning: lists sort by
//! `created_at` and break ties by ID.

use rand::Rng;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Length of the random part of an ID.
pub const ID_RANDOM_LEN: usize = 24;

/// `len` random base62 characters from the thread-local CSPRNG.
pub fn random_base62(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(BASE62[rng.random_range(0..BASE62.len())]))
        .collect()
}

/// A fresh ID with the given prefix, such as `new_id::<AgentId>(AgentId::PREFIX)`.
pub fn new_id<I: From<String>>(prefix: &str) -> I {
    I::from(format!("{prefix}{}", random_base62(ID_RANDOM_LEN)))
}

#[cfg(test)]
mod tests {
    use steward_core::AgentId;

    use super::*;

    #[test]
    fn ids_have_the_prefix_and_24_base62_chars() {
        let id: AgentId = new_id(AgentId::PREFIX);
        let rest = id.as_str().strip_prefix("agent_").unwrap();
        assert_eq!(rest.len(), ID_RANDOM_LEN);
        assert!(rest.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(id, new_id::<AgentId>(AgentId::PREFIX));
    }
}
