//! `steward usage [--user U]`: tokens per session and per user, and an estimated cost where
//! the config file has a price table for the session's model.

use std::collections::BTreeMap;

use anyhow::Context as _;
use futures::TryStreamExt as _;
use serde::Serialize;
use steward_core::session::{Session, SessionListParams};
use steward_core::usage::SessionUsage;

use crate::app::{App, USER_KEY, validate_user};
use crate::config::Price;
use crate::output::table;

/// Token counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Tokens {
    /// Input tokens.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Tokens read from the prompt cache.
    pub cache_read: u64,
    /// Tokens written to the prompt cache.
    pub cache_write: u64,
}

impl Tokens {
    /// The counts of a session's cumulative usage.
    pub fn of(usage: &SessionUsage) -> Self {
        let cache = usage.cache_creation.as_ref();
        Self {
            input: usage.input_tokens.unwrap_or(0),
            output: usage.output_tokens.unwrap_or(0),
            cache_read: usage.cache_read_input_tokens.unwrap_or(0),
            cache_write: cache.and_then(|c| c.ephemeral_5m_input_tokens).unwrap_or(0)
                + cache.and_then(|c| c.ephemeral_1h_input_tokens).unwrap_or(0),
        }
    }

    fn add(&mut self, other: Self) {
        self.input += other.input;
        self.output += other.output;
        self.cache_read += other.cache_read;
        self.cache_write += other.cache_write;
    }

    /// The cost at these prices, in USD.
    pub fn cost(&self, price: &Price) -> f64 {
        (self.input as f64 * price.input
            + self.output as f64 * price.output
            + self.cache_read as f64 * price.cache_read
            + self.cache_write as f64 * price.cache_write)
            / 1_000_000.0
    }
}

#[derive(Debug, Serialize)]
struct SessionRow {
    session_id: String,
    user: Option<String>,
    model: String,
    created_at: String,
    tokens: Tokens,
    estimated_cost_usd: Option<f64>,
}

#[derive(Debug, Serialize)]
struct UserRow {
    user: String,
    sessions: usize,
    tokens: Tokens,
    estimated_cost_usd: Option<f64>,
}

#[derive(Debug, Serialize)]
struct Usage {
    sessions: Vec<SessionRow>,
    users: Vec<UserRow>,
    total: Tokens,
    estimated_cost_usd: Option<f64>,
    /// Why there is no cost estimate, when there is none.
    cost_note: Option<String>,
}

fn fmt_cost(cost: Option<f64>) -> String {
    cost.map_or_else(|| "-".to_owned(), |c| format!("${c:.4}"))
}

/// `steward usage [--user U]`.
pub async fn run(app: &mut App, user: Option<&str>) -> anyhow::Result<()> {
    if let Some(user) = user {
        validate_user(user)?;
        app.user_store(user).await?;
    }
    let sessions: Vec<Session> = match app.ids().agent_id.clone() {
        Some(agent_id) => app
            .client()
            .sessions()
            .list(&SessionListParams {
                agent_id: Some(agent_id),
                include_archived: Some(true),
                ..SessionListParams::default()
            })
            .try_collect()
            .await
            .context("failed to list sessions")?,
        None => Vec::new(),
    };
    let prices = &app.config.prices;
    let mut missing_prices = std::collections::BTreeSet::new();
    let mut rows = Vec::new();
    for session in &sessions {
        let owner = session.metadata.get(USER_KEY).cloned();
        if user.is_some() && owner.as_deref() != user {
            continue;
        }
        let model = session.agent.model.id.to_string();
        let tokens = Tokens::of(&session.usage);
        let cost = prices.get(&model).map(|p| tokens.cost(p));
        if cost.is_none() {
            missing_prices.insert(model.clone());
        }
        rows.push(SessionRow {
            session_id: session.id.to_string(),
            user: owner,
            model,
            created_at: session.created_at.to_string(),
            tokens,
            estimated_cost_usd: cost,
        });
    }
    let mut users: BTreeMap<String, UserRow> = BTreeMap::new();
    let mut total = Tokens::default();
    let all_priced = missing_prices.is_empty();
    for row in &rows {
        total.add(row.tokens);
        let name = row.user.clone().unwrap_or_else(|| "-".to_owned());
        let entry = users.entry(name.clone()).or_insert(UserRow {
            user: name,
            sessions: 0,
            tokens: Tokens::default(),
            estimated_cost_usd: all_priced.then_some(0.0),
        });
        entry.sessions += 1;
        entry.tokens.add(row.tokens);
        if let (Some(sum), Some(cost)) = (entry.estimated_cost_usd.as_mut(), row.estimated_cost_usd)
        {
            *sum += cost;
        }
    }
    let cost_note = if prices.is_empty() {
        Some("no price table in the config file, so no cost is estimated".to_owned())
    } else if !all_priced {
        Some(format!(
            "no price for {}, so no total cost is estimated",
            missing_prices
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    } else {
        None
    };
    let estimated = (all_priced && !prices.is_empty())
        .then(|| rows.iter().filter_map(|r| r.estimated_cost_usd).sum());
    let usage = Usage {
        sessions: rows,
        users: users.into_values().collect(),
        total,
        estimated_cost_usd: estimated,
        cost_note,
    };
    if app.printer.json {
        app.printer.json(&usage)?;
        return Ok(());
    }
    if usage.sessions.is_empty() {
        app.printer.note(match user {
            Some(user) => format!("`{user}` has no sessions yet"),
            None => "no sessions yet".to_owned(),
        });
        return Ok(());
    }
    let session_rows: Vec<Vec<String>> = usage
        .sessions
        .iter()
        .map(|r| {
            vec![
                r.session_id.clone(),
                r.user.clone().unwrap_or_else(|| "-".into()),
                crate::output::short_time(&r.created_at),
                r.tokens.input.to_string(),
                r.tokens.output.to_string(),
                r.tokens.cache_read.to_string(),
                r.tokens.cache_write.to_string(),
                fmt_cost(r.estimated_cost_usd),
            ]
        })
        .collect();
    let header = [
        "SESSION",
        "USER",
        "CREATED",
        "INPUT",
        "OUTPUT",
        "CACHE READ",
        "CACHE WRITE",
        "COST",
    ];
    let mut text = table(&header, &session_rows);
    text.push('\n');
    let user_rows: Vec<Vec<String>> = usage
        .users
        .iter()
        .map(|u| {
            vec![
                u.user.clone(),
                u.sessions.to_string(),
                u.tokens.input.to_string(),
                u.tokens.output.to_string(),
                u.tokens.cache_read.to_string(),
                u.tokens.cache_write.to_string(),
                fmt_cost(u.estimated_cost_usd),
            ]
        })
        .collect();
    text.push_str(&table(
        &[
            "USER",
            "SESSIONS",
            "INPUT",
            "OUTPUT",
            "CACHE READ",
            "CACHE WRITE",
            "COST",
        ],
        &user_rows,
    ));
    app.printer.data(&text)?;
    if let Some(note) = &usage.cost_note {
        app.printer.note(note);
        if prices.is_empty() && !app.printer.quiet {
            app.printer.hint(
                "add `[prices.\"<model>\"]` with `input`, `output`, `cache_read` and `cache_write` (USD per million tokens) to the config file",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_per_million_tokens() {
        let tokens = Tokens {
            input: 1_000_000,
            output: 500_000,
            cache_read: 0,
            cache_write: 2_000_000,
        };
        let price = Price {
            input: 3.0,
            output: 15.0,
            cache_read: 0.3,
            cache_write: 3.75,
        };
        assert!((tokens.cost(&price) - (3.0 + 7.5 + 7.5)).abs() < 1e-9);
    }
}
