// Drives steward-platform with the official TypeScript SDK, changed only in its base URL.
// Prints one line per check and a closing "N passed, N failed" line; exits 1 on any failure.
import Anthropic from '@anthropic-ai/sdk';

const baseURL = process.env.STEWARD_BASE_URL;
const apiKey = process.env.STEWARD_API_KEY;
if (!baseURL || !apiKey) {
  console.error('set STEWARD_BASE_URL and STEWARD_API_KEY');
  process.exit(2);
}
const client = new Anthropic({ baseURL, apiKey, maxRetries: 2, timeout: 20_000 });
const only = process.argv[2]; // optional: run only the groups whose name contains this

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (err) {
    failed++;
    const detail = err instanceof Anthropic.APIError ? `${err.status} ${JSON.stringify(err.error)}` : String(err?.stack ?? err);
    console.log(`FAIL ${name}: ${detail}`);
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}
function eq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}
async function expectStatus(status, fn) {
  try {
    await fn();
  } catch (err) {
    if (err instanceof Anthropic.APIError && err.status === status) return err;
    throw err;
  }
  throw new Error(`expected HTTP ${status}, the call succeeded`);
}
async function collect(iterable) {
  const out = [];
  for await (const item of iterable) out.push(item);
  return out;
}
const group = (name) => !only || name.includes(only);
const beta = client.beta;

if (group('auth')) {
  await check('auth: a wrong key is refused with 401 authentication_error', async () => {
    const bad = new Anthropic({ baseURL, apiKey: 'sk-wrong', maxRetries: 0 });
    const err = await expectStatus(401, () => bad.beta.agents.list());
    assert(err instanceof Anthropic.AuthenticationError, 'AuthenticationError class');
    eq(err.error?.error?.type, 'authentication_error', 'error type');
  });
}

if (group('agents')) {
  let agent;
  await check('agents: create', async () => {
    agent = await beta.agents.create({
      name: 'conformance-ts',
      model: 'claude-sonnet-4-6',
      system: 'You are terse.',
      tools: [
        { type: 'agent_toolset_20260401' },
        { type: 'custom', name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      ],
      metadata: { team: 'qa' },
    });
    assert(agent.id.startsWith('agent_'), 'agent_ prefix');
    eq(agent.type, 'agent', 'type');
    eq(agent.version, 1, 'version');
    eq(agent.model.id, 'claude-sonnet-4-6', 'model.id');
    eq(agent.tools.length, 2, 'tools');
  });
  await check('agents: retrieve', async () => {
    const got = await beta.agents.retrieve(agent.id);
    eq(got.id, agent.id, 'id');
    eq(got.system, 'You are terse.', 'system');
  });
  await check('agents: update makes a new version; versions lists both', async () => {
    const updated = await beta.agents.update(agent.id, { version: agent.version, system: 'You are kind.', metadata: { team: null, owner: 'me' } });
    eq(updated.version, 2, 'version');
    eq(updated.metadata, { owner: 'me' }, 'metadata patch');
    const v1 = await beta.agents.retrieve(agent.id, { version: 1 });
    eq(v1.system, 'You are terse.', 'v1 system');
    const versions = await collect(beta.agents.versions.list(agent.id));
    eq(versions.map((v) => v.version).sort(), [1, 2], 'versions');
  });
  await check('agents: a stale version lock is a 409 (not retried)', async () => {
    const err = await expectStatus(409, () => beta.agents.update(agent.id, { version: 1, name: 'x' }));
    assert(err instanceof Anthropic.ConflictError, 'ConflictError class');
  });
  await check('agents: list walks every page', async () => {
    for (let i = 0; i < 3; i++) await beta.agents.create({ name: `page-${i}`, model: 'claude-haiku-4-5' });
    const all = await collect(beta.agents.list({ limit: 2 }));
    assert(all.length >= 4, `at least 4 agents, got ${all.length}`);
    eq(new Set(all.map((a) => a.id)).size, all.length, 'no duplicates');
  });
  await check('agents: archive hides from list unless include_archived', async () => {
    const archived = await beta.agents.archive(agent.id);
    assert(archived.archived_at, 'archived_at set');
    const visible = await collect(beta.agents.list());
    assert(!visible.some((a) => a.id === agent.id), 'hidden');
    const all = await collect(beta.agents.list({ include_archived: true }));
    assert(all.some((a) => a.id === agent.id), 'shown with include_archived');
  });
  await check('agents: unknown id is a 404', async () => {
    const err = await expectStatus(404, () => beta.agents.retrieve('agent_doesnotexist'));
    assert(err instanceof Anthropic.NotFoundError, 'NotFoundError class');
  });
  await check('agents: a malformed body is a 400', async () => {
    await expectStatus(400, () => beta.agents.create({ name: 'x' }));
  });
}

let env;
if (group('environments') || group('sessions')) {
  await check('environments: create, retrieve, update, list', async () => {
    env = await beta.environments.create({ name: 'conformance-env', config: { type: 'cloud', networking: { type: 'unrestricted' } } });
    assert(env.id.startsWith('env_'), 'env_ prefix');
    eq(env.config.type, 'cloud', 'config type');
    const got = await beta.environments.retrieve(env.id);
    eq(got.name, 'conformance-env', 'name');
    const updated = await beta.environments.update(env.id, { description: 'for tests', metadata: { a: '1' } });
    eq(updated.description, 'for tests', 'description');
    const all = await collect(beta.environments.list({ limit: 1 }));
    assert(all.some((e) => e.id === env.id), 'listed');
  });
  await check('environments: config type cannot change', async () => {
    await expectStatus(400, () => beta.environments.update(env.id, { config: { type: 'self_hosted' } }));
  });
  await check('environments: archive and delete', async () => {
    const other = await beta.environments.create({ name: 'to-delete', config: { type: 'self_hosted' } });
    const archived = await beta.environments.archive(other.id);
    assert(archived.archived_at, 'archived_at');
    const deleted = await beta.environments.delete(other.id);
    eq(deleted, { id: other.id, type: 'environment_deleted' }, 'receipt');
    await expectStatus(404, () => beta.environments.retrieve(other.id));
  });
}

let store;
if (group('memory')) {
  let memory;
  await check('memory stores: create, retrieve, update, list', async () => {
    store = await beta.memoryStores.create({ name: 'User Preferences', description: 'What the user likes' });
    assert(store.id.startsWith('memstore_'), 'memstore_ prefix');
    const got = await beta.memoryStores.retrieve(store.id);
    eq(got.name, 'User Preferences', 'name');
    const updated = await beta.memoryStores.update(store.id, { metadata: { k: 'v' } });
    eq(updated.metadata, { k: 'v' }, 'metadata');
    const all = await collect(beta.memoryStores.list());
    assert(all.some((s) => s.id === store.id), 'listed');
  });
  await check('memories: create returns sha256 and size; retrieve has content', async () => {
    memory = await beta.memoryStores.memories.create(store.id, { path: '/prefs/units.md', content: 'Reports use metric units.' });
    assert(memory.id.startsWith('mem_'), 'mem_ prefix');
    eq(memory.content_size_bytes, 25, 'size');
    eq(memory.content_sha256.length, 64, 'sha256 length');
    const full = await beta.memoryStores.memories.retrieve(memory.id, { memory_store_id: store.id });
    eq(full.content, 'Reports use metric units.', 'content');
  });
  await check('memories: update with a stale precondition is a 409 memory_precondition_failed_error', async () => {
    const err = await expectStatus(409, () =>
      beta.memoryStores.memories.update(memory.id, { memory_store_id: store.id, content: 'x', precondition: { type: 'content_sha256', content_sha256: '0'.repeat(64) } }),
    );
    eq(err.error?.error?.type, 'memory_precondition_failed_error', 'error type');
  });
  await check('memories: update with the right precondition writes a version', async () => {
    const updated = await beta.memoryStores.memories.update(memory.id, {
      memory_store_id: store.id,
      content: 'Reports use metric units. Dates are ISO 8601.',
      precondition: { type: 'content_sha256', content_sha256: memory.content_sha256 },
    });
    assert(updated.memory_version_id !== memory.memory_version_id, 'new version id');
    memory = updated;
  });
  await check('memories: a conflicting path is a 409 memory_path_conflict_error', async () => {
    const err = await expectStatus(409, () => beta.memoryStores.memories.create(store.id, { path: '/prefs/units.md/deeper', content: 'x' }));
    eq(err.error?.error?.type, 'memory_path_conflict_error', 'error type');
  });
  await check('memories: a traversal path is a 400', async () => {
    await expectStatus(400, () => beta.memoryStores.memories.create(store.id, { path: '/prefs/../etc/passwd', content: 'x' }));
  });
  await check('memories: content over 100 kB is refused', async () => {
    await expectStatus(400, () => beta.memoryStores.memories.create(store.id, { path: '/big.md', content: 'x'.repeat(102_401) }));
  });
  await check('memories: list with path_prefix and depth', async () => {
    await beta.memoryStores.memories.create(store.id, { path: '/prefs/tz.md', content: 'Europe/Lisbon' });
    await beta.memoryStores.memories.create(store.id, { path: '/notes/a/b.md', content: 'deep' });
    const prefs = await collect(beta.memoryStores.memories.list(store.id, { path_prefix: '/prefs/' }));
    eq(prefs.map((m) => m.path).sort(), ['/prefs/tz.md', '/prefs/units.md'], 'prefix listing');
    const top = await collect(beta.memoryStores.memories.list(store.id, { depth: 1 }));
    assert(top.some((m) => m.type === 'memory_prefix' && m.path === '/notes/'), 'memory_prefix rollup');
    const paged = await collect(beta.memoryStores.memories.list(store.id, { limit: 1 }));
    eq(paged.length, 3, 'paged walk');
  });
  await check('memory versions: list, retrieve, redact', async () => {
    const versions = await collect(beta.memoryStores.memoryVersions.list(store.id, { memory_id: memory.id }));
    eq(versions.map((v) => v.operation).sort(), ['created', 'modified'], 'operations');
    const first = versions.find((v) => v.operation === 'created');
    const got = await beta.memoryStores.memoryVersions.retrieve(first.id, { memory_store_id: store.id });
    eq(got.content, 'Reports use metric units.', 'version content');
    const redacted = await beta.memoryStores.memoryVersions.redact(first.id, { memory_store_id: store.id });
    eq(redacted.content ?? null, null, 'content cleared');
    eq(redacted.path ?? null, null, 'path cleared');
    assert(redacted.redacted_at, 'redacted_at');
    assert(redacted.created_by, 'created_by kept');
  });
  await check('memories: delete with a stale expected_content_sha256 is a 409, then delete works', async () => {
    await expectStatus(409, () => beta.memoryStores.memories.delete(memory.id, { memory_store_id: store.id, expected_content_sha256: '0'.repeat(64) }));
    const receipt = await beta.memoryStores.memories.delete(memory.id, { memory_store_id: store.id, expected_content_sha256: memory.content_sha256 });
    eq(receipt, { id: memory.id, type: 'memory_deleted' }, 'receipt');
    const versions = await collect(beta.memoryStores.memoryVersions.list(store.id, { memory_id: memory.id }));
    assert(versions.some((v) => v.operation === 'deleted'), 'deleted version');
  });
}

if (group('sessions')) {
  let agent;
  let session;
  let userStore;
  await check('sessions: create pins the agent version, with a memory store resource', async () => {
    agent = await beta.agents.create({ name: 'session-agent', model: 'claude-sonnet-4-6' });
    userStore = await beta.memoryStores.create({ name: 'user-alice' });
    session = await beta.sessions.create({
      agent: agent.id,
      environment_id: env.id,
      title: 'first',
      resources: [{ type: 'memory_store', memory_store_id: userStore.id, access: 'read_write' }],
    });
    assert(session.id.startsWith('sesn_'), 'sesn_ prefix');
    eq(session.status, 'idle', 'status');
    eq(session.agent.version, 1, 'agent version');
    eq(session.resources[0].type, 'memory_store', 'resource type');
    eq(session.resources[0].mount_path, '/mnt/memory/user-alice', 'mount path');
    await beta.agents.update(agent.id, { version: 1, system: 'changed' });
    const again = await beta.sessions.retrieve(session.id);
    eq(again.agent.version, 1, 'still pinned');
  });
  await check('sessions: update and list (bidirectional pages)', async () => {
    const updated = await beta.sessions.update(session.id, { title: 'renamed', metadata: { k: 'v' } });
    eq(updated.title, 'renamed', 'title');
    await beta.sessions.create({ agent: { type: 'agent', id: agent.id, version: 2 }, environment_id: env.id });
    const all = await collect(beta.sessions.list({ limit: 1, agent_id: agent.id }));
    eq(all.length, 2, 'walked two pages');
    const idle = await collect(beta.sessions.list({ statuses: ['idle'], agent_id: agent.id }));
    eq(idle.length, 2, 'status filter');
  });
  await check('sessions: resources list and retrieve', async () => {
    const resources = await collect(beta.sessions.resources.list(session.id));
    eq(resources.length, 1, 'one resource');
  });
  await check('sessions: archive and delete', async () => {
    const archived = await beta.sessions.archive(session.id);
    assert(archived.archived_at, 'archived_at');
    const receipt = await beta.sessions.delete(session.id);
    eq(receipt, { id: session.id, type: 'session_deleted' }, 'receipt');
    await expectStatus(404, () => beta.sessions.retrieve(session.id));
  });
}

if (group('vaults')) {
  const canary = 'canary-secret-8c1f0e';
  let vault;
  let credential;
  await check('vaults: create, retrieve, update, list', async () => {
    vault = await beta.vaults.create({ display_name: 'alice', metadata: { user: 'alice' } });
    assert(vault.id.startsWith('vlt_'), 'vlt_ prefix');
    const got = await beta.vaults.retrieve(vault.id);
    eq(got.display_name, 'alice', 'display_name');
    const updated = await beta.vaults.update(vault.id, { display_name: 'Alice' });
    eq(updated.display_name, 'Alice', 'renamed');
    const all = await collect(beta.vaults.list());
    assert(all.some((v) => v.id === vault.id), 'listed');
  });
  await check('credentials: create mcp_oauth; secrets never returned', async () => {
    credential = await beta.vaults.credentials.create(vault.id, {
      display_name: 'linear',
      auth: {
        type: 'mcp_oauth',
        mcp_server_url: 'https://mcp.example.test/mcp',
        access_token: canary,
        expires_at: '2099-01-01T00:00:00Z',
        refresh: { client_id: 'cid', token_endpoint: 'https://auth.example.test/token', refresh_token: canary, token_endpoint_auth: { type: 'client_secret_post', client_secret: canary } },
      },
    });
    assert(credential.id.startsWith('vcrd_'), 'vcrd_ prefix');
    eq(credential.auth.type, 'mcp_oauth', 'auth type');
    const got = await beta.vaults.credentials.retrieve(credential.id, { vault_id: vault.id });
    const listed = await collect(beta.vaults.credentials.list(vault.id));
    for (const body of [credential, got, listed]) assert(!JSON.stringify(body).includes(canary), 'no secret in response');
  });
  await check('credentials: update, archive, delete', async () => {
    const updated = await beta.vaults.credentials.update(credential.id, { vault_id: vault.id, display_name: 'Linear' });
    eq(updated.display_name, 'Linear', 'display_name');
    const archived = await beta.vaults.credentials.archive(credential.id, { vault_id: vault.id });
    assert(archived.archived_at, 'archived_at');
    const receipt = await beta.vaults.credentials.delete(credential.id, { vault_id: vault.id });
    eq(receipt, { id: credential.id, type: 'vault_credential_deleted' }, 'receipt');
  });
  await check('vaults: archive and delete', async () => {
    const archived = await beta.vaults.archive(vault.id);
    assert(archived.archived_at, 'archived_at');
    const receipt = await beta.vaults.delete(vault.id);
    eq(receipt, { id: vault.id, type: 'vault_deleted' }, 'receipt');
  });
}

if (group('flow')) {
  // The assistant's flow on the offline model: create once, stream first then send, stop on a
  // terminal idle; a second session recalls what the first one wrote.
  let agent;
  let flowEnv;
  let userStore;
  let sharedStore;
  async function turn(sessionId, text) {
    const stream = await beta.sessions.events.stream(sessionId);
    await beta.sessions.events.send(sessionId, { events: [{ type: 'user.message', content: [{ type: 'text', text }] }] });
    const seen = [];
    for await (const event of stream) {
      seen.push(event);
      if (event.type === 'session.status_idle' && event.stop_reason?.type !== 'requires_action') break;
      if (event.type === 'session.status_terminated') break;
    }
    stream.controller.abort();
    return seen;
  }
  const replyText = (events) =>
    events.filter((e) => e.type === 'agent.message').flatMap((e) => e.content.filter((b) => b.type === 'text').map((b) => b.text)).join('\n');
  await check('flow: agent, environment and stores created once; store seeded with a preference', async () => {
    agent = await beta.agents.create({ name: 'flow-ts', model: 'claude-sonnet-4-6', system: 'Check your memory first.', tools: [{ type: 'agent_toolset_20260401' }] });
    flowEnv = await beta.environments.create({ name: 'flow-ts-env' });
    userStore = await beta.memoryStores.create({ name: 'user-carol-ts', description: "Carol's preferences" });
    sharedStore = await beta.memoryStores.create({ name: 'shared-ts', description: 'Company policies' });
    await beta.memoryStores.memories.create(userStore.id, { path: '/units.md', content: 'Reports use metric units.' });
    await beta.memoryStores.memories.create(sharedStore.id, { path: '/policy.md', content: 'Reports are due on Fridays.' });
  });
  const resources = () => [
    { type: 'memory_store', memory_store_id: userStore.id, access: 'read_write' },
    { type: 'memory_store', memory_store_id: sharedStore.id, access: 'read_only' },
  ];
  await check('flow: first session records a durable fact and ends on a terminal idle', async () => {
    const session = await beta.sessions.create({ agent: agent.id, environment_id: flowEnv.id, resources: resources() });
    const events = await turn(session.id, 'Remember that my timezone is Europe/Lisbon');
    const last = events[events.length - 1];
    eq(last.type, 'session.status_idle', 'last event');
    eq(last.stop_reason.type, 'end_turn', 'stop reason');
    assert(events.some((e) => e.type === 'session.status_running'), 'running seen');
    assert(events.some((e) => e.type === 'agent.tool_use' && e.name === 'write'), 'write tool used');
    const history = await collect(beta.sessions.events.list(session.id));
    eq(new Set(history.map((e) => e.id)).size, history.length, 'history ids unique');
    const memories = await collect(beta.memoryStores.memories.list(userStore.id, { view: 'full' }));
    assert(memories.some((m) => (m.content ?? '').includes('Europe/Lisbon')), 'fact written to the user store');
  });
  await check('flow: a second session recalls what the first one wrote', async () => {
    const session = await beta.sessions.create({ agent: agent.id, environment_id: flowEnv.id, resources: resources() });
    const events = await turn(session.id, 'What timezone am I in?');
    assert(replyText(events).includes('Lisbon'), `reply mentions Lisbon: ${replyText(events)}`);
  });
}

if (group('mcp')) {
  // A local MCP server requiring a bearer token, with a token endpoint: `cargo xtask
  // conformance` starts it (the `mcp-fixture` binary of steward-test-support) and passes its
  // URLs and the tokens it accepts in STEWARD_MCP_*.
  const mcpUrl = process.env.STEWARD_MCP_URL;
  const tokenUrl = process.env.STEWARD_MCP_TOKEN_URL;
  const accessToken = process.env.STEWARD_MCP_ACCESS_TOKEN;
  const refreshToken = process.env.STEWARD_MCP_REFRESH_TOKEN;
  await check('mcp: a session with vault_ids calls a tool of a local MCP server', async () => {
    assert(mcpUrl && tokenUrl && accessToken && refreshToken, 'STEWARD_MCP_* set (cargo xtask conformance starts the MCP fixture)');
    const vault = await beta.vaults.create({ display_name: 'mcp-ts' });
    const credential = await beta.vaults.credentials.create(vault.id, {
      display_name: 'fixture',
      auth: {
        type: 'mcp_oauth',
        mcp_server_url: mcpUrl,
        access_token: accessToken,
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
        refresh: { client_id: 'conformance-ts', token_endpoint: tokenUrl, refresh_token: refreshToken, token_endpoint_auth: { type: 'none' } },
      },
    });
    eq(credential.auth.type, 'mcp_oauth', 'auth type');
    const agent = await beta.agents.create({
      name: 'mcp-ts',
      model: 'claude-sonnet-4-6',
      mcp_servers: [{ type: 'url', name: 'fixture', url: mcpUrl }],
      tools: [{ type: 'mcp_toolset', mcp_server_name: 'fixture', default_config: { permission_policy: { type: 'always_allow' } } }],
    });
    const mcpEnv = await beta.environments.create({ name: 'mcp-ts-env' });
    const session = await beta.sessions.create({ agent: agent.id, environment_id: mcpEnv.id, vault_ids: [vault.id] });
    eq(session.vault_ids, [vault.id], 'vault_ids');
    const stream = await beta.sessions.events.stream(session.id);
    const text = 'Please call mcp__fixture__echo with {"text": "from the TypeScript SDK"}';
    await beta.sessions.events.send(session.id, { events: [{ type: 'user.message', content: [{ type: 'text', text }] }] });
    const seen = [];
    for await (const event of stream) {
      seen.push(event);
      if (event.type === 'session.status_idle' && event.stop_reason?.type !== 'requires_action') break;
      if (event.type === 'session.status_terminated') break;
    }
    stream.controller.abort();
    const use = seen.find((e) => e.type === 'agent.mcp_tool_use');
    assert(use, `agent.mcp_tool_use seen: ${JSON.stringify(seen.map((e) => e.type))}`);
    eq([use.mcp_server_name, use.name, use.input], ['fixture', 'echo', { text: 'from the TypeScript SDK' }], 'tool use');
    eq(use.evaluated_permission, 'allow', 'evaluated_permission');
    const result = seen.find((e) => e.type === 'agent.mcp_tool_result');
    assert(result, 'agent.mcp_tool_result seen');
    eq(result.mcp_tool_use_id, use.id, 'mcp_tool_use_id');
    assert(result.is_error !== true, `not is_error: ${JSON.stringify(result)}`);
    eq(result.content, [{ type: 'text', text: 'echo: from the TypeScript SDK' }], 'content');
    eq(seen[seen.length - 1].stop_reason?.type, 'end_turn', 'stop reason');
    const history = await collect(beta.sessions.events.list(session.id));
    for (const body of [seen, history, credential]) {
      const json = JSON.stringify(body);
      assert(!json.includes(accessToken) && !json.includes(refreshToken), 'no token in events or responses');
    }
  });
}

console.log(`typescript-sdk: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
