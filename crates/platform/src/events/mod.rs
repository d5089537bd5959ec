//! Session events: `POST/GET /v1/sessions/{id}/events`, the SSE stream
//! `GET /v1/sessions/{id}/events/stream`, the primary thread's endpoints
//! (`/v1/sessions/{id}/threads…`), and the crate-internal API the session engine writes
//! events with.
//!
//! # For the engine
//!
//! * [`Emitter`] appends events inside a write transaction (fresh `sevt_` IDs, `processed_at`
//!   set to now); after the commit, [`EventHub::publish`] streams them. Events are stored
//!   before they are streamed, and nothing is streamed for a rolled-back transaction.
//! * [`set_status`] updates a session's status; [`mark_processed`] sets an echo's
//!   `processed_at` once the engine has consumed it.
//! * [`pending_tool_uses`] lists the calls that wait for client input (what a `requires_action`
//!   idle lists); the send endpoint refuses answers to anything else with the same rules.
//! * [`EventHub::take_wakeups`] yields the IDs of sessions with new input: the send endpoint
//!   wakes a session after every accepted request, and session creation after every create
//!   (a session without initial events has nothing to do; the engine ignores the wakeup).
//!   [`EventHub::turn_signal`] gives a token that [`EventHub::interrupt`] cancels when a
//!   `user.interrupt` is accepted.
//!
//! # Decisions where the SDK is silent
//!
//! * **Event IDs** are `sevt_` + 24 base62 characters.
//! * **`processed_at` of echoes.** Every client echo but `user.define_outcome` is stored and
//!   echoed with `processed_at: null`: the engine sets it ([`mark_processed`]) when it has
//!   consumed the input, so "not processed" means "not yet seen by the agent". A
//!   `user.define_outcome` echo has it set when accepted (the SDK types it as required), gets a
//!   new `outc_` ID, and adds a `pending` entry to the session's `outcome_evaluations`. A file
//!   rubric is echoed as sent (the platform has no Files API to resolve it).
//! * **Sending.** A request is one transaction: every event is accepted or none (a 400 naming
//!   `events[i]` changes nothing). Refused: an empty list; unknown types; anything a static
//!   check finds (empty message content, blocks a message or result cannot hold, an `allow`
//!   with a `deny_message`, `max_iterations` outside 1–20, …); a `system.message` that is not
//!   the last event or does not directly follow a `user.message`, `user.tool_result` or
//!   `user.custom_tool_result` of the same request; `user.tool_result` outside a `self_hosted`
//!   environment; a result or confirmation for a tool use that does not wait for it (unknown,
//!   already answered, or of the other kind: results pair strictly with their tool-use kind);
//!   a `user.interrupt` naming a thread other than the primary one; any event for an archived
//!   or terminated session. An unknown session is a 404. Events are accepted while the session
//!   runs (they queue). There is no limit on the number of events per request beyond the body
//!   size limit. Answers to tool uses are routed by ID and echoed without `session_thread_id`
//!   (there are no child threads).
//! * **Listing.** Events are listed in storage order (`seq`), ascending by default, which is
//!   `processed_at` order for every event stored processed; a `user.message` keeps its place
//!   when it is processed later. The `created_at[gt|gte|lt|lte]` bounds compare `processed_at`,
//!   or, for an event not processed yet, the time it was stored. `limit` defaults to 20 and is
//!   clamped to 1000. `types[]` accepts every stored type; `event_start`/`event_delta` (which are
//!   never stored) and unknown types are a 400.
//! * **Streaming.** A stream carries the events stored after it opened (no replay), in storage
//!   order, each once: clients attach, then list, and de-duplicate by ID (a stream may repeat
//!   an event stored while it was opening, which the list also returns; see [`hub`] for how
//!   order is kept). Messages are `event: <type>` + one-line
//!   `data:`; keep-alives are `event: ping` every 15 s by default
//!   ([`EventHub::set_ping_interval`]). `event_deltas[]` is accepted (unknown values are a 400)
//!   but no previews are produced: the buffered events are the only content. A stream ends on
//!   `session.deleted` (sent by [`EventHub::session_deleted`] when the session is deleted; not
//!   stored, since the history is deleted with the session), when it falls more than
//!   [`hub::CHANNEL_CAPACITY`] events behind (the client reconnects and reads the gap from the
//!   list), and at shutdown. It stays open after `session.status_terminated`.
//! * **Threads.** Only the primary thread exists (see [`threads`]): its ID is the session ID
//!   with `sthr_` in place of `sesn_` ([`primary_thread_id`]); it mirrors the session; thread
//!   archiving is not offered.

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

mod emit;
mod handlers;
pub mod hub;
mod sse;
mod store;
pub mod threads;
mod validate;

pub use emit::{Emitter, mark_processed, set_status};
pub use hub::EventHub;
pub use store::{
    Awaiting, EVENT_LIMITS, PendingToolUse, ToolUseKind, is_self_hosted, pending_tool_uses,
    primary_thread_id,
};
pub use validate::{MAX_OUTCOME_ITERATIONS, MAX_RUBRIC_CHARS};
pub(crate) use validate::{define_outcome, user_message_content};

/// The event, stream and thread routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/sessions/{session_id}/events",
            get(handlers::list).post(handlers::send),
        )
        .route(
            "/v1/sessions/{session_id}/events/stream",
            get(handlers::stream),
        )
        .route("/v1/sessions/{session_id}/threads", get(threads::list))
        .route(
            "/v1/sessions/{session_id}/threads/{thread_id}",
            get(threads::retrieve),
        )
        .route(
            "/v1/sessions/{session_id}/threads/{thread_id}/events",
            get(threads::events),
        )
        .route(
            "/v1/sessions/{session_id}/threads/{thread_id}/stream",
            get(threads::stream),
        )
}
