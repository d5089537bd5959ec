//! The session endpoints: create, retrieve, update, list, delete, archive.

use axum::extract::{Path, State};
use rusqlite::Connection;
use steward_core::event::{SessionEvent, UserDefineOutcome, UserEvent, UserMessage};
use steward_core::session::{
    Budget, OutcomeEvaluation, OutcomeEvaluationResult, OutcomeEvaluationType, Session,
    SessionCreate, SessionListOrder, SessionListParams, SessionStats, SessionStatus, SessionType,
    SessionUpdate,
};
use steward_core::usage::SessionUsage;
use steward_core::{
    BidirectionalPage, Deleted, DeletedType, EventId, Nullable, OutcomeId, SessionId, Timestamp,
};

use super::resources::build_initial;
use super::store::{self, NewResource};
use super::{agent, links};
use crate::clock::{Rounding, filter_bound};
use crate::error::{Error, Result};
use crate::extract::{Json, Query};
use crate::metadata::{self, EmptyString};
use crate::pagination::{Filter, Limits, Listing, Order, PageRequest};
use crate::state::AppState;

pub(super) async fn create(
    State(state): State<AppState>,
    Json(body): Json<SessionCreate>,
) -> Result<Json<Session>> {
    state
        .db
        .write(move |tx| create_in(tx, body))
        .await
        .inspect(|session| state.events.wake(&session.id))
        .map(Json)
}

fn create_in(tx: &Connection, body: SessionCreate) -> Result<Session> {
    links::environment(tx, &body.environment_id)?;
    let agent = agent::resolve(tx, body.agent)?;
    let vault_ids = body.vault_ids.unwrap_or_default();
    for (i, id) in vault_ids.iter().enumerate() {
        links::vault(tx, &format!("vault_ids[{i}]"), id)?;
    }
    let resources = build_initial(tx, body.resources.unwrap_or_default())?;
    let now = crate::clock::now();
    let id: SessionId = crate::ids::new_id(SessionId::PREFIX);

    // Initial events become stored echoes; each outcome starts a pending evaluation.
    let mut events = Vec::new();
    let mut outcome_evaluations = Vec::new();
    for event in body.initial_events.unwrap_or_default() {
        let event_id: EventId = crate::ids::new_id(EventId::PREFIX);
        match event {
            UserEvent::Message(message) => events.push(SessionEvent::UserMessage(UserMessage {
                id: event_id,
                content: message.content,
                processed_at: Nullable::Null,
            })),
            UserEvent::DefineOutcome(outcome) => {
                let outcome_id: OutcomeId = crate::ids::new_id(OutcomeId::PREFIX);
                outcome_evaluations.push(OutcomeEvaluation {
                    kind: OutcomeEvaluationType::OutcomeEvaluation,
                    outcome_id: outcome_id.clone(),
                    description: outcome.description.clone(),
                    iteration: 0,
                    result: OutcomeEvaluationResult::Pending,
                    explanation: None,
                    completed_at: None,
                });
                events.push(SessionEvent::UserDefineOutcome(UserDefineOutcome {
                    id: event_id,
                    description: outcome.description,
                    max_iterations: outcome.max_iterations.into_option(),
                    outcome_id,
                    processed_at: crate::clock::now(),
                    rubric: outcome.rubric,
                }));
            }
            // Validation admits no other type.
            other => {
                return Err(Error::invalid_request(format!(
                    "`initial_events`: `{}` cannot be an initial event",
                    other.type_name()
                )));
            }
        }
    }

    let session = Session {
        id,
        kind: SessionType::Session,
        agent,
        environment_id: body.environment_id,
        status: SessionStatus::Idle,
        title: body.title.into_option(),
        metadata: body.metadata.unwrap_or_default(),
        resources: Vec::new(),
        vault_ids,
        budget: body.budget,
        usage: SessionUsage::default(),
        stats: SessionStats {
            active_seconds: Some(0.0),
            duration_seconds: Some(0.0),
        },
        outcome_evaluations,
        created_at: now.clone(),
        updated_at: now,
        archived_at: None,
        deployment_id: Nullable::Absent,
    };
    store::save(tx, &session)?;
    for resource in &resources {
        store::insert_resource(tx, &session.id, resource)?;
    }
    for event in &events {
        store::append_event(tx, &session.id, event)?;
    }
    Ok(Session {
        resources: resources
            .into_iter()
            .map(|r: NewResource| r.resource)
            .collect(),
        ..session
    })
}

pub(super) async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<SessionId>,
) -> Result<Json<Session>> {
    state
        .db
        .read(move |conn| store::require(conn, &id))
        .await
        .map(Json)
}

/// Refuses changes to an archived session.
pub(super) fn check_not_archived(session: &Session) -> Result<()> {
    if session.is_archived() {
        return Err(Error::invalid_request(format!(
            "session `{}` is archived and cannot be changed",
            session.id
        )));
    }
    Ok(())
}

pub(super) async fn update(
    State(state): State<AppState>,
    Path(id): Path<SessionId>,
    Json(body): Json<SessionUpdate>,
) -> Result<Json<Session>> {
    state
        .db
        .write(move |tx| {
            let stored = store::require(tx, &id)?;
            check_not_archived(&stored)?;
            let mut next = stored.clone();
            if !body.title.is_absent() {
                next.title = body.title.into_option();
            }
            if let Nullable::Value(patch) = &body.metadata {
                metadata::apply_patch(&mut next.metadata, patch, EmptyString::IsValue)?;
            }
            if !body.budget.is_absent() {
                next.budget = updated_budget(&stored, body.budget)?;
            }
            if let Some(update) = body.agent {
                match stored.status {
                    SessionStatus::Running => {
                        return Err(Error::invalid_request(
                            "`agent`: the session is running; wait until it is idle to change its agent",
                        ));
                    }
                    SessionStatus::Terminated => {
                        return Err(Error::invalid_request(
                            "`agent`: the session has terminated",
                        ));
                    }
                    _ => {}
                }
                agent::apply_update(&mut next.agent, update)?;
            }
            if next == stored {
                return Ok(stored);
            }
            next.updated_at = crate::clock::now();
            store::save(tx, &next)?;
            Ok(next)
        })
        .await
        .map(Json)
}

/// The budget after an update's `budget` (`null` removes, an object replaces), by the SDK's
/// rules.
fn updated_budget(stored: &Session, requested: Nullable<Budget>) -> Result<Option<Budget>> {
    if stored.status == SessionStatus::Terminated {
        return Err(Error::invalid_request(
            "`budget`: the session has terminated; its budget cannot change",
        ));
    }
    let Nullable::Value(budget) = requested else {
        return Ok(None);
    };
    if stored.budget.is_none() {
        return Err(Error::invalid_request(
            "`budget`: a budget can only be set when the session is created, and cannot be re-added once removed",
        )
        .with_code("budget_create_only"));
    }
    let consumed = stored
        .usage
        .list_cost
        .value()
        .and_then(steward_core::Money::minor_units)
        .unwrap_or(0);
    let requested_units = budget
        .max_list_cost()
        .and_then(steward_core::Money::minor_units);
    if requested_units.is_none_or(|units| units <= consumed) {
        return Err(Error::invalid_request(format!(
            "`budget.max_list_cost`: must be above the session's consumed list cost ({consumed})"
        ))
        .with_code("budget_not_raised"));
    }
    Ok(Some(budget))
}

pub(super) async fn list(
    State(state): State<AppState>,
    Query(params): Query<SessionListParams>,
) -> Result<Json<BidirectionalPage<Session>>> {
    let request = PageRequest::new(params.limit, params.page.as_deref(), Limits::STANDARD)?;
    let order = match params.order {
        Some(SessionListOrder::Asc) => Order::Asc,
        _ => Order::Desc,
    };
    let filter = list_filter(&params)?;
    state
        .db
        .read(move |conn| {
            Listing::new("sessions", "body", &filter)
                .order(order)
                .bidirectional_page(conn, &request, |row| {
                    store::decode(conn, &row.get::<_, String>(0)?)
                })
        })
        .await
        .map(Json)
}

fn list_filter(params: &SessionListParams) -> Result<Filter> {
    let mut filter = Filter::new();
    if !params.include_archived.unwrap_or(false) {
        filter.and("archived_at IS NULL");
    }
    if let Some(agent_id) = &params.agent_id {
        filter.and_with("agent_id = ?", [agent_id.as_str().to_owned()]);
    }
    if let Some(version) = params.agent_version {
        filter.and_with("agent_version = ?", [i64::from(version)]);
    }
    let bounds: [(&str, &Option<Timestamp>, &str, Rounding); 4] = [
        (
            "created_at[gt]",
            &params.created_at_gt,
            ">",
            Rounding::Floor,
        ),
        (
            "created_at[gte]",
            &params.created_at_gte,
            ">=",
            Rounding::Ceil,
        ),
        ("created_at[lt]", &params.created_at_lt, "<", Rounding::Ceil),
        (
            "created_at[lte]",
            &params.created_at_lte,
            "<=",
            Rounding::Floor,
        ),
    ];
    for (field, value, op, rounding) in bounds {
        if let Some(value) = value {
            filter.and_with(
                format!("created_at {op} ?"),
                [filter_bound(field, value, rounding)?],
            );
        }
    }
    if let Some(deployment) = &params.deployment_id {
        filter.and_with(
            "json_extract(body, '$.deployment_id') = ?",
            [deployment.clone()],
        );
    }
    if let Some(store_id) = &params.memory_store_id {
        filter.and_with(
            "id IN (SELECT session_id FROM session_memory_stores WHERE memory_store_id = ?)",
            [store_id.as_str().to_owned()],
        );
    }
    if !params.statuses.is_empty() {
        let placeholders = vec!["?"; params.statuses.len()].join(", ");
        filter.and_with(
            format!("status IN ({placeholders})"),
            params.statuses.iter().map(|s| s.as_str().to_owned()),
        );
    }
    Ok(filter)
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<SessionId>,
) -> Result<Json<Deleted<SessionId>>> {
    state
        .db
        .write(move |tx| {
            if !store::delete(tx, &id)? {
                return Err(store::not_found(&id));
            }
            Ok(Deleted {
                id,
                kind: DeletedType::Session,
            })
        })
        .await
        .inspect(|deleted| state.events.session_deleted(&deleted.id))
        .map(Json)
}

pub(super) async fn archive(
    State(state): State<AppState>,
    Path(id): Path<SessionId>,
) -> Result<Json<Session>> {
    state
        .db
        .write(move |tx| {
            let mut session = store::require(tx, &id)?;
            if session.archived_at.is_none() {
                let now = crate::clock::now();
                // Freeze the duration as of now: an archived session has terminated.
                session.stats.duration_seconds = Some(store::seconds_since(&session.created_at));
                session.status = SessionStatus::Terminated;
                session.archived_at = Some(now.clone());
                session.updated_at = now;
                store::save(tx, &session)?;
            }
            Ok(session)
        })
        .await
        .map(Json)
}
