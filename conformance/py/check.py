"""Drives steward-platform with the official Python SDK, changed only in its base URL.

Prints one line per check and a closing "N passed, N failed" line; exits 1 on any failure.
"""

import json
import os
import sys
import traceback

import anthropic

BASE_URL = os.environ.get("STEWARD_BASE_URL")
API_KEY = os.environ.get("STEWARD_API_KEY")
if not BASE_URL or not API_KEY:
    print("set STEWARD_BASE_URL and STEWARD_API_KEY", file=sys.stderr)
    sys.exit(2)

client = anthropic.Anthropic(base_url=BASE_URL, api_key=API_KEY, max_retries=2, timeout=20.0)
beta = client.beta
ONLY = sys.argv[1] if len(sys.argv) > 1 else None
passed = 0
failed = 0


def check(name):
    def run(fn):
        global passed, failed
        if ONLY and ONLY not in name:
            return fn
        try:
            fn()
            passed += 1
            print(f"ok   {name}", flush=True)
        except anthropic.APIStatusError as err:
            failed += 1
            print(f"FAIL {name}: {err.status_code} {json.dumps(err.body)}", flush=True)
        except Exception:  # noqa: BLE001 - any failure is reported, not raised
            failed += 1
            print(f"FAIL {name}: {traceback.format_exc()}", flush=True)
        return fn

    return run


def expect_status(status, fn):
    try:
        fn()
    except anthropic.APIStatusError as err:
        if err.status_code == status:
            return err
        raise
    raise AssertionError(f"expected HTTP {status}, the call succeeded")


def error_type(err):
    body = err.body if isinstance(err.body, dict) else {}
    return (body.get("error") or {}).get("type")


state = {}


@check("auth: a wrong key is refused with 401 authentication_error")
def _():
    bad = anthropic.Anthropic(base_url=BASE_URL, api_key="sk-wrong", max_retries=0)
    err = expect_status(401, lambda: bad.beta.agents.list())
    assert isinstance(err, anthropic.AuthenticationError)
    assert error_type(err) == "authentication_error"


@check("agents: create, retrieve, update with versions")
def _():
    agent = beta.agents.create(
        name="conformance-py",
        model="claude-sonnet-4-6",
        system="You are terse.",
        tools=[
            {"type": "agent_toolset_20260401"},
            {
                "type": "custom",
                "name": "get_weather",
                "description": "Weather for a city",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        ],
    )
    assert agent.id.startswith("agent_") and agent.version == 1 and agent.model.id == "claude-sonnet-4-6"
    assert beta.agents.retrieve(agent.id).system == "You are terse."
    updated = beta.agents.update(agent.id, version=1, system="You are kind.")
    assert updated.version == 2
    assert beta.agents.retrieve(agent.id, version=1).system == "You are terse."
    assert sorted(v.version for v in beta.agents.versions.list(agent.id)) == [1, 2]
    state["agent"] = agent


@check("agents: a stale version lock is a 409")
def _():
    err = expect_status(409, lambda: beta.agents.update(state["agent"].id, version=1, name="x"))
    assert isinstance(err, anthropic.ConflictError)


@check("agents: list walks every page; archive; 404")
def _():
    for i in range(3):
        beta.agents.create(name=f"py-page-{i}", model="claude-haiku-4-5")
    ids = [a.id for a in beta.agents.list(limit=2)]
    assert len(ids) >= 4 and len(set(ids)) == len(ids)
    archived = beta.agents.archive(state["agent"].id)
    assert archived.archived_at is not None
    assert state["agent"].id not in [a.id for a in beta.agents.list()]
    expect_status(404, lambda: beta.agents.retrieve("agent_doesnotexist"))


@check("environments: create, update, list, archive, delete")
def _():
    env = beta.environments.create(name="py-env", config={"type": "cloud", "networking": {"type": "unrestricted"}})
    assert env.id.startswith("env_") and env.config.type == "cloud"
    assert beta.environments.update(env.id, description="d").description == "d"
    assert env.id in [e.id for e in beta.environments.list(limit=1)]
    expect_status(400, lambda: beta.environments.update(env.id, config={"type": "self_hosted"}))
    other = beta.environments.create(name="gone", config={"type": "self_hosted"})
    assert beta.environments.archive(other.id).archived_at is not None
    receipt = beta.environments.delete(other.id)
    assert receipt.id == other.id and receipt.type == "environment_deleted"
    state["env"] = env


@check("memory: stores, memories, preconditions, versions, redaction")
def _():
    store = beta.memory_stores.create(name="py store", description="prefs")
    assert store.id.startswith("memstore_")
    mem = beta.memory_stores.memories.create(store.id, path="/prefs/units.md", content="Reports use metric units.")
    assert mem.content_size_bytes == 25 and len(mem.content_sha256) == 64
    full = beta.memory_stores.memories.retrieve(mem.id, memory_store_id=store.id)
    assert full.content == "Reports use metric units."
    err = expect_status(
        409,
        lambda: beta.memory_stores.memories.update(
            mem.id,
            memory_store_id=store.id,
            content="x",
            precondition={"type": "content_sha256", "content_sha256": "0" * 64},
        ),
    )
    assert error_type(err) == "memory_precondition_failed_error"
    updated = beta.memory_stores.memories.update(
        mem.id,
        memory_store_id=store.id,
        content="Reports use metric units!",
        precondition={"type": "content_sha256", "content_sha256": mem.content_sha256},
    )
    assert updated.memory_version_id != mem.memory_version_id
    err = expect_status(409, lambda: beta.memory_stores.memories.create(store.id, path="/prefs", content="x"))
    assert error_type(err) == "memory_path_conflict_error"
    expect_status(400, lambda: beta.memory_stores.memories.create(store.id, path="/a/../b", content="x"))
    versions = list(beta.memory_stores.memory_versions.list(store.id, memory_id=mem.id))
    assert sorted(v.operation for v in versions) == ["created", "modified"]
    first = next(v for v in versions if v.operation == "created")
    redacted = beta.memory_stores.memory_versions.redact(first.id, memory_store_id=store.id)
    assert redacted.content is None and redacted.path is None and redacted.redacted_at is not None
    receipt = beta.memory_stores.memories.delete(mem.id, memory_store_id=store.id)
    assert receipt.type == "memory_deleted"
    listed = list(beta.memory_stores.memories.list(store.id))
    assert mem.id not in [m.id for m in listed if m.type == "memory"]
    state["store"] = store


@check("sessions: create, retrieve, update, list, resources, archive, delete")
def _():
    env = state.get("env") or beta.environments.create(name="py-session-env")
    agent = beta.agents.create(name="py-session-agent", model="claude-sonnet-4-6")
    store = beta.memory_stores.create(name="user-bob")
    session = beta.sessions.create(
        agent=agent.id,
        environment_id=env.id,
        resources=[{"type": "memory_store", "memory_store_id": store.id, "access": "read_only"}],
    )
    assert session.id.startswith("sesn_") and session.status == "idle" and session.agent.version == 1
    assert session.resources[0].mount_path == "/mnt/memory/user-bob"
    assert beta.sessions.update(session.id, title="t").title == "t"
    beta.sessions.create(agent={"type": "agent", "id": agent.id}, environment_id=env.id)
    assert len(list(beta.sessions.list(limit=1, agent_id=agent.id))) == 2
    assert len(list(beta.sessions.resources.list(session.id))) == 1
    assert beta.sessions.archive(session.id).archived_at is not None
    receipt = beta.sessions.delete(session.id)
    assert receipt.type == "session_deleted"
    expect_status(404, lambda: beta.sessions.retrieve(session.id))


@check("vaults: vaults and credentials; secrets never returned")
def _():
    canary = "canary-secret-5d2a91"
    vault = beta.vaults.create(display_name="bob")
    assert vault.id.startswith("vlt_")
    cred = beta.vaults.credentials.create(
        vault.id,
        display_name="tracker",
        auth={"type": "static_bearer", "mcp_server_url": "https://mcp.example.test/mcp", "token": canary},
    )
    assert cred.id.startswith("vcrd_") and cred.auth.type == "static_bearer"
    got = beta.vaults.credentials.retrieve(cred.id, vault_id=vault.id)
    listed = list(beta.vaults.credentials.list(vault.id))
    for body in (cred, got, *listed):
        assert canary not in body.model_dump_json()
    assert beta.vaults.credentials.update(cred.id, vault_id=vault.id, display_name="T").display_name == "T"
    assert beta.vaults.credentials.delete(cred.id, vault_id=vault.id).type == "vault_credential_deleted"
    assert beta.vaults.delete(vault.id).type == "vault_deleted"


def turn(session_id, text):
    seen = []
    with beta.sessions.events.stream(session_id) as stream:
        beta.sessions.events.send(session_id, events=[{"type": "user.message", "content": [{"type": "text", "text": text}]}])
        for event in stream:
            seen.append(event)
            if event.type == "session.status_idle" and event.stop_reason.type != "requires_action":
                break
            if event.type == "session.status_terminated":
                break
    return seen


def reply_text(events):
    return "\n".join(b.text for e in events if e.type == "agent.message" for b in e.content if b.type == "text")


@check("flow: stream first then send; a second session recalls the first one's fact")
def _():
    agent = beta.agents.create(name="flow-py", model="claude-sonnet-4-6", tools=[{"type": "agent_toolset_20260401"}])
    env = beta.environments.create(name="flow-py-env")
    user = beta.memory_stores.create(name="user-dave-py", description="Dave's preferences")
    shared = beta.memory_stores.create(name="shared-py", description="Company policies")
    beta.memory_stores.memories.create(user.id, path="/units.md", content="Reports use metric units.")
    resources = [
        {"type": "memory_store", "memory_store_id": user.id, "access": "read_write"},
        {"type": "memory_store", "memory_store_id": shared.id, "access": "read_only"},
    ]
    first = beta.sessions.create(agent=agent.id, environment_id=env.id, resources=resources)
    events = turn(first.id, "Remember that my timezone is Europe/Lisbon")
    assert events[-1].type == "session.status_idle" and events[-1].stop_reason.type == "end_turn"
    contents = [m.content or "" for m in beta.memory_stores.memories.list(user.id, view="full")]
    assert any("Europe/Lisbon" in c for c in contents), contents
    second = beta.sessions.create(agent=agent.id, environment_id=env.id, resources=resources)
    reply = reply_text(turn(second.id, "What timezone am I in?"))
    assert "Lisbon" in reply, reply


print(f"python-sdk: {passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
