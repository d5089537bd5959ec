// Overhead and memory of the official TypeScript SDK's SessionToolRunner (@anthropic-ai/sdk
// 1.10.0), measured the way `crates/runtime/benches/runner.rs` measures the steward runner, against
// the same platform in the same run.
//
// Usage: node runner.mjs <base-url> <session-id> <trips> <warmup> <idle-session-ids,comma-separated>
//
// Overhead per round trip = (tool `run` start − arrival of the `agent.custom_tool_use` bytes) +
// (result POST handed to `fetch` − tool `run` end), in µs. The arrival is taken on the runner's own
// stream (the client's `fetch` passes the event-stream body through a stamping TransformStream)
// and on a parallel raw SSE reader on the same event loop; `trips_us` holds, per round trip,
// [own arrival → start, raw arrival → start, end → POST].
// Memory: RSS and anonymous RSS (`RssAnon`) before/after 1,000 `toolRunner` iterations (on a client without the stamping
// wrapper), each on a session waiting on a call of `other` (a tool this runner does not have).
// Prints one JSON line.
import { readFileSync } from 'node:fs';
import Anthropic from '../../conformance/ts/node_modules/@anthropic-ai/sdk/index.mjs';

const [baseURL, sessionId, tripsArg, warmupArg, idleArg] = process.argv.slice(2);
const trips = Number(tripsArg);
const warmup = Number(warmupArg);
const idleIds = idleArg ? idleArg.split(',') : [];
const apiKey = process.env.STEWARD_API_KEY || 'sk-bench';

const arrivals = new Map();
const ownArrivals = new Map();
const starts = new Map();
const ends = new Map();
const posts = new Map();
const once = (map, id, t) => {
  if (!map.has(id)) map.set(id, t);
};

// Notes when each `agent.custom_tool_use` frame of an SSE byte stream is complete.
const frameStamper = (map) => {
  const decoder = new TextDecoder();
  let buf = '';
  return (chunk, at) => {
    buf += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, end);
      buf = buf.slice(end + 2);
      if (!frame.includes('agent.custom_tool_use')) continue;
      for (const line of frame.split('\n')) {
        if (!line.startsWith('data:')) continue;
        try {
          const v = JSON.parse(line.slice(5).trim());
          if (v.type === 'agent.custom_tool_use') once(map, v.id, at);
        } catch {}
      }
    }
  };
};

// The client's fetch, wrapped to stamp each result POST as it leaves and each tool use as it
// comes out of `fetch` on the runner's event stream.
const stampingFetch = async (url, init) => {
  const t = performance.now();
  if (init?.method === 'POST' && String(url).endsWith('/events') && typeof init.body === 'string') {
    const m = /"custom_tool_use_id":"([^"]+)"/.exec(init.body);
    if (m) once(posts, m[1], t);
  }
  const res = await fetch(url, init);
  if (!String(url).includes('/events/stream') || !res.body) return res;
  const stamp = frameStamper(ownArrivals);
  const body = res.body.pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        stamp(chunk, performance.now());
        controller.enqueue(chunk);
      },
    }),
  );
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
};
const client = new Anthropic({ baseURL, apiKey, fetch: stampingFetch });
const plain = new Anthropic({ baseURL, apiKey });

const noop = {
  type: 'custom',
  name: 'noop',
  description: 'Does nothing',
  input_schema: { type: 'object', properties: {} },
  parse: (x) => x,
  run: async (_input, ctx) => {
    const id = ctx?.toolUse?.id;
    once(starts, id, performance.now());
    const out = 'ok';
    once(ends, id, performance.now());
    return out;
  },
};

// Parallel raw SSE reader (its own connection).
async function rawReader(session, ready) {
  const res = await fetch(`${baseURL}/v1/sessions/${session}/events/stream`, {
    headers: {
      'x-api-key': apiKey,
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'managed-agents-2026-04-01',
      accept: 'text/event-stream',
    },
  });
  ready();
  const stamp = frameStamper(arrivals);
  for await (const chunk of res.body) stamp(chunk, performance.now());
}

const message = (text) => ({ events: [{ type: 'user.message', content: [{ type: 'text', text }] }] });

// --- Overhead.
await new Promise((ready) => rawReader(sessionId, ready));
let waiter;
const yielded = [];
const runner = client.beta.sessions.events.toolRunner(sessionId, { tools: [noop], maxIdleMs: 0 });
(async () => {
  for await (const call of runner) {
    yielded.push(call);
    if (waiter) waiter();
  }
})();
await new Promise((r) => setTimeout(r, 200));
const tripsUs = [];
for (let i = 0; i < trips + warmup; i++) {
  const before = yielded.length;
  await client.beta.sessions.events.send(sessionId, message('Call noop with {}'));
  while (yielded.length === before) await new Promise((r) => (waiter = r));
  const call = yielded[yielded.length - 1];
  if (!call.posted) throw new Error('result not posted');
  // Let the session finish its turn (end_turn) before the next message, as the Rust side does.
  await new Promise((r) => setTimeout(r, 5));
  if (i < warmup) continue;
  const id = call.toolUseId;
  const a = arrivals.get(id), o = ownArrivals.get(id), s = starts.get(id), e = ends.get(id), p = posts.get(id);
  if ([a, o, s, e, p].some((x) => x === undefined)) throw new Error(`missing stamp for ${id}`);
  tripsUs.push([Math.max(0, s - o) * 1000, Math.max(0, s - a) * 1000, Math.max(0, p - e) * 1000]);
}

// --- Memory.
// Anonymous resident memory in bytes (`RssAnon` of /proc/self/status): the heap, V8's included,
// without the executable's and libraries' file-backed pages that running new code pulls in.
function rssAnon() {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('RssAnon:'));
  return Number(line.split(/\s+/)[1]) * 1024;
}

globalThis.gc?.();
await new Promise((r) => setTimeout(r, 200));
const rssBefore = process.memoryUsage().rss;
const anonBefore = rssAnon();
let skipped = 0;
const done = new Promise((resolve) => {
  if (idleIds.length === 0) resolve();
  for (const id of idleIds) {
    const r = plain.beta.sessions.events.toolRunner(id, { tools: [noop], maxIdleMs: 0 });
    (async () => {
      for await (const call of r) {
        if (!call.posted && ++skipped === idleIds.length) resolve();
      }
    })();
  }
});
await new Promise((r) => setTimeout(r, 500));
for (const id of idleIds) await plain.beta.sessions.events.send(id, message('Call other with {}'));
await done;
await new Promise((r) => setTimeout(r, 500));
const rssAfter = process.memoryUsage().rss;
const anonAfter = rssAnon();
console.log(
  JSON.stringify({
    trips_us: tripsUs,
    rss_before: rssBefore,
    rss_after: rssAfter,
    anon_before: anonBefore,
    anon_after: anonAfter,
  }),
);
process.exit(0);
