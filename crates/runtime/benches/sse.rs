//! SSE parse throughput on a generated, realistic ~10 MB session event stream.
//!
//! Run with `cargo bench -p steward-runtime --bench sse`; criterion reports the throughput
//! (target: at least 500 MB/s for the parser with network-sized chunks).

#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use steward_runtime::sse::SseParser;

/// About 10 MB of `event: <type>\ndata: <json>\n\n` messages, shaped like a session stream:
/// agent messages with text, tool uses with JSON input, tool results, status changes, span
/// events and keep-alive pings, some with CRLF line ends.
fn generate_stream(target: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(target + 4096);
    let mut n: u64 = 0;
    let words = [
        "the",
        "agent",
        "reads",
        "file",
        "src/main.rs",
        "and",
        "writes",
        "a",
        "patch",
        "for",
        "naïve",
        "unicode",
        "✓",
        "tests",
        "pass",
        "🦀",
    ];
    while out.len() < target {
        n += 1;
        let text: Vec<&str> = (0..(20 + n % 180))
            .map(|i| words[((n * 7 + i) % words.len() as u64) as usize])
            .collect();
        let text = text.join(" ");
        let id = format!("sevt_{n:020}");
        let at = "2026-04-01T12:00:00.000000Z";
        let (kind, data) = match n % 8 {
            0..=2 => (
                "agent.message",
                json!({"id": id, "type": "agent.message", "processed_at": at,
                       "content": [{"type": "text", "text": text}]}),
            ),
            3 => (
                "agent.tool_use",
                json!({"id": id, "type": "agent.tool_use", "processed_at": at, "name": "bash",
                       "input": {"command": format!("grep -rn '{}' src/", text.chars().take(40).collect::<String>())}}),
            ),
            4 => (
                "agent.tool_result",
                json!({"id": id, "type": "agent.tool_result", "processed_at": at,
                       "tool_use_id": format!("toolu_{n}"), "is_error": false,
                       "content": [{"type": "text", "text": format!("{text}\n{text}")}]}),
            ),
            5 => (
                "span.model_request_end",
                json!({"id": id, "type": "span.model_request_end", "processed_at": at,
                       "model_usage": {"input_tokens": n * 13, "output_tokens": n % 977,
                       "cache_read_input_tokens": 1024, "cache_creation_input_tokens": 0}}),
            ),
            6 => (
                "session.status_running",
                json!({"id": id, "type": "session.status_running", "processed_at": at}),
            ),
            _ => ("ping", json!({"type": "ping"})),
        };
        let line_end: &[u8] = if n % 5 == 0 { b"\r\n" } else { b"\n" };
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(line_end);
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(data.to_string().as_bytes());
        out.extend_from_slice(line_end);
        out.extend_from_slice(line_end);
        if n % 50 == 0 {
            out.extend_from_slice(b": keep-alive\n\n");
        }
    }
    out
}

fn parse(input: &[u8], chunk: usize) -> usize {
    let mut parser = SseParser::new();
    let mut out = Vec::new();
    let mut count = 0;
    for piece in input.chunks(chunk) {
        parser.feed(piece, &mut out);
        count += out.len();
        for message in out.drain(..) {
            black_box(message);
        }
    }
    parser.finish();
    count
}

fn bench(c: &mut Criterion) {
    let input = generate_stream(10 * 1024 * 1024);
    let expected = parse(&input, input.len());
    assert!(expected > 10_000, "generated {expected} messages");
    let mut group = c.benchmark_group("sse_parse");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.sample_size(20);
    for chunk in [16 * 1024, 1460, 64] {
        group.bench_function(format!("chunks_of_{chunk}"), |b| {
            b.iter(|| {
                let count = parse(black_box(&input), chunk);
                assert_eq!(count, expected);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
