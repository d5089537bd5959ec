//! Approximate list prices of Claude models, which turn a session's tokens into its
//! `usage.list_cost` (and so let budgets stop a session).
//!
//! **The prices are approximate.** They are Anthropic's public list prices per million tokens
//! as published on the pricing page (<https://platform.claude.com/docs/en/about-claude/pricing>)
//! when this table was written (early 2026): base input and output prices per model, with
//! 5-minute cache writes at 1.25 times and cache reads at 0.1 times the input price. They are
//! not read from any API, ignore discounts, batch and priority tiers, long-context and
//! fast-mode premiums, and data-residency multipliers, and they go stale when prices change.
//! Treat a session's `list_cost` as an estimate, not a bill. Models not in the table (and
//! every model of the `openai` provider) have no price: their sessions track tokens only.
//!
//! Amounts are kept in hundredths of a cent per million tokens, so every price in the table
//! is an integer and no floating point is involved. [`Price::cost_cents`] rounds a total to
//! the nearest cent; the loop adds to a session the difference between the rounded cost of its
//! token totals after and before each call, so per-call rounding never accumulates.

use steward_core::usage::SessionUsage;

/// Prices of one model, in hundredths of a cent (1/10 000 USD) per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    /// Uncached input tokens.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Input tokens written to the 5-minute prompt cache.
    pub cache_write: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read: u64,
}

impl Price {
    /// The price of a model whose input costs `input` and output `output` dollars per
    /// million tokens, given in hundredths of a cent; cache writes cost 1.25 and cache reads
    /// 0.1 times the input price.
    pub const fn from_base(input: u64, output: u64) -> Self {
        Self {
            input,
            output,
            cache_write: input * 5 / 4,
            cache_read: input / 10,
        }
    }

    /// The cost of a session's token totals, in hundredths of a cent times a million (exact).
    fn units(&self, usage: &SessionUsage) -> u128 {
        let tokens = |field: Option<u64>| u128::from(field.unwrap_or(0));
        let written = usage.cache_creation.as_ref().map_or(0, |cache| {
            tokens(cache.ephemeral_5m_input_tokens) + tokens(cache.ephemeral_1h_input_tokens)
        });
        tokens(usage.input_tokens) * u128::from(self.input)
            + tokens(usage.output_tokens) * u128::from(self.output)
            + written * u128::from(self.cache_write)
            + tokens(usage.cache_read_input_tokens) * u128::from(self.cache_read)
    }

    /// The cost of a session's token totals, rounded to the nearest cent.
    pub fn cost_cents(&self, usage: &SessionUsage) -> u64 {
        const PER_CENT: u128 = 100 * 1_000_000;
        let cents = (self.units(usage) + PER_CENT / 2) / PER_CENT;
        u64::try_from(cents).unwrap_or(u64::MAX)
    }
}

/// Dollars per million tokens, in the table's unit.
const fn usd(dollars: u64, hundredths: u64) -> u64 {
    dollars * 10_000 + hundredths * 100
}

/// Model ID prefixes and their prices; the first matching prefix wins.
const TABLE: &[(&str, Price)] = &[
    ("claude-opus-4-6", Price::from_base(usd(5, 0), usd(25, 0))),
    ("claude-opus-4-5", Price::from_base(usd(5, 0), usd(25, 0))),
    ("claude-opus-4-1", Price::from_base(usd(15, 0), usd(75, 0))),
    ("claude-opus-4-0", Price::from_base(usd(15, 0), usd(75, 0))),
    (
        "claude-opus-4-2025",
        Price::from_base(usd(15, 0), usd(75, 0)),
    ),
    ("claude-3-opus", Price::from_base(usd(15, 0), usd(75, 0))),
    ("claude-sonnet-4", Price::from_base(usd(3, 0), usd(15, 0))),
    ("claude-3-7-sonnet", Price::from_base(usd(3, 0), usd(15, 0))),
    ("claude-3-5-sonnet", Price::from_base(usd(3, 0), usd(15, 0))),
    ("claude-haiku-4-5", Price::from_base(usd(1, 0), usd(5, 0))),
    ("claude-3-5-haiku", Price::from_base(usd(0, 80), usd(4, 0))),
    ("claude-3-haiku", Price::from_base(usd(0, 25), usd(1, 25))),
];

/// The approximate list price of a Claude model, by its ID (`claude-sonnet-4-6`, a dated ID
/// such as `claude-sonnet-4-5-20250929`, or an alias ending in `-latest`).
pub fn claude_price(model: &str) -> Option<Price> {
    TABLE
        .iter()
        .find(|(prefix, _)| model.starts_with(prefix))
        .map(|(_, price)| *price)
}

#[cfg(test)]
mod tests {
    use steward_core::usage::CacheCreationUsage;

    use super::*;

    #[test]
    fn prices_follow_the_table_and_round_only_the_total() {
        let sonnet = claude_price("claude-sonnet-4-6").unwrap();
        assert_eq!(
            sonnet,
            Price {
                input: 30_000,
                output: 150_000,
                cache_write: 37_500,
                cache_read: 3_000
            }
        );
        assert_eq!(
            claude_price("claude-opus-4-20250514").unwrap().input,
            150_000
        );
        assert_eq!(
            claude_price("claude-opus-4-5-20251101").unwrap().input,
            50_000
        );
        assert_eq!(
            claude_price("claude-3-haiku-20240307").unwrap().cache_write,
            3_125
        );
        assert_eq!(claude_price("llama3.1:8b"), None);

        // 1M input ($3) + 100k output ($1.50) + 200k written ($0.75) + 1M read ($0.30).
        let usage = SessionUsage {
            input_tokens: Some(1_000_000),
            output_tokens: Some(100_000),
            cache_read_input_tokens: Some(1_000_000),
            cache_creation: Some(CacheCreationUsage {
                ephemeral_5m_input_tokens: Some(200_000),
                ephemeral_1h_input_tokens: None,
            }),
            ..SessionUsage::default()
        };
        assert_eq!(sonnet.cost_cents(&usage), 555);
        // 1 000 input tokens are 0.3 cents: nothing yet; 2 000 are 0.6: one cent.
        let small = |n| SessionUsage {
            input_tokens: Some(n),
            ..SessionUsage::default()
        };
        assert_eq!(sonnet.cost_cents(&small(1_000)), 0);
        assert_eq!(sonnet.cost_cents(&small(2_000)), 1);
        assert_eq!(sonnet.cost_cents(&SessionUsage::default()), 0);
    }
}
