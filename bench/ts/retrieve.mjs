// Per-request overhead of the official TypeScript SDK (@anthropic-ai/sdk 1.10.0): retrieves one
// agent (`client.beta.agents.retrieve(id)`) over and over against a loopback server, from
// `concurrency` loops at once, and prints one JSON line with the latency of every measured request
// in microseconds, sorted (the Rust bench computes rates and percentiles the same way for both),
// and the CPU time the process used during the measurement window.
//
// Usage: node retrieve.mjs <base-url> <agent-id> <concurrency> <warmup-ms> <measure-ms>
//
// Started by `crates/runtime/benches/client.rs` against the same server, in the same run, as the
// Rust client, and measured the same way: a request counts when it completes inside the
// measurement window (after the warm-up); its latency is its own wall time.
// The SDK is the one `cargo xtask conformance` installs into conformance/ts/node_modules (no
// second install, no lockfile).
import Anthropic from '../../conformance/ts/node_modules/@anthropic-ai/sdk/index.mjs';

const [baseURL, agentId, concurrencyArg, warmupArg, measureArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const warmupMs = Number(warmupArg);
const measureMs = Number(measureArg);
if (!baseURL || !agentId || !(concurrency > 0) || !(warmupMs >= 0) || !(measureMs > 0)) {
  console.error('usage: node retrieve.mjs <base-url> <agent-id> <concurrency> <warmup-ms> <measure-ms>');
  process.exit(2);
}

// The SDK's defaults (2 retries, 10-minute timeout); only the base URL and the key are set
// (`STEWARD_API_KEY` when the server checks keys; the fixed-agent server does not).
const client = new Anthropic({ baseURL, apiKey: process.env.STEWARD_API_KEY || 'sk-bench' });

// A first call outside the clock, so that a wrong URL fails loudly instead of measuring errors.
const first = await client.beta.agents.retrieve(agentId);
if (first.id !== agentId) {
  console.error(`retrieved ${first.id}, expected ${agentId}`);
  process.exit(1);
}

const start = performance.now();
const windowStart = start + warmupMs;
const windowEnd = windowStart + measureMs;
const latencies = [];

// CPU time of this process (every thread: the SDK's whole cost) over the window, in µs.
let cpuAtStart;
let cpuUs;
setTimeout(() => {
  cpuAtStart = process.cpuUsage();
}, Math.max(0, windowStart - performance.now()));
setTimeout(() => {
  const used = process.cpuUsage(cpuAtStart);
  cpuUs = used.user + used.system;
}, Math.max(0, windowEnd - performance.now()));

async function loop() {
  for (;;) {
    const began = performance.now();
    if (began >= windowEnd) return;
    const agent = await client.beta.agents.retrieve(agentId);
    const ended = performance.now();
    if (agent.id !== agentId) throw new Error(`retrieved ${agent.id}`);
    if (ended >= windowStart && ended <= windowEnd) latencies.push(ended - began);
  }
}

await Promise.all(Array.from({ length: concurrency }, loop));
while (cpuUs === undefined) await new Promise((resolve) => setTimeout(resolve, 1));

latencies.sort((a, b) => a - b);
console.log(JSON.stringify({ latencies_us: latencies.map((ms) => Math.round(ms * 1000)), cpu_us: cpuUs }));
