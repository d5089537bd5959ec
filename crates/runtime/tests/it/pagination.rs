//! Walking cursor lists.

use futures::{StreamExt, TryStreamExt};
use http::{Method, StatusCode};
use pretty_assertions::assert_eq;
use serde_json::json;
use steward_core::Page;

use crate::support::{json, serve};

#[tokio::test]
async fn walks_every_page_including_an_empty_one_until_a_null_cursor() {
    let server = serve(|request, _| async move {
        let body = match request.query.as_deref() {
            Some("limit=2&order=asc") => r#"{"data":[1,2],"next_page":"c1"}"#,
            Some("limit=2&order=asc&page=c1") => r#"{"data":[],"next_page":"c2"}"#,
            Some("limit=2&order=asc&page=c2") => r#"{"data":[3],"next_page":null}"#,
            other => panic!("unexpected query {other:?}"),
        };
        json(200, body, &[])
    })
    .await;
    let items: Vec<u32> = server
        .client()
        .list::<u32, _>("/v1/agents", &json!({"limit": 2, "order": "asc"}))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items, [1, 2, 3]);
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn a_caller_page_is_replaced_by_the_next_cursor() {
    let server = serve(|request, _| async move {
        let body = match request.query.as_deref() {
            Some("page=start&limit=1") => r#"{"data":["a"],"next_page":"n1"}"#,
            Some("page=n1&limit=1") => r#"{"data":["b"],"next_page":""}"#,
            other => panic!("unexpected query {other:?}"),
        };
        json(200, body, &[])
    })
    .await;
    let items: Vec<String> = server
        .client()
        .list::<String, _>("/v1/vaults", &json!({"page": "start", "limit": 1}))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items, ["a", "b"], "an empty cursor ends the list like null");
}

#[tokio::test]
async fn bidirectional_pages_walk_forward() {
    let server = serve(|request, _| async move {
        let body = match request.query.as_deref() {
            None => r#"{"data":[{"id":"sesn_1"}],"next_page":"p2","prev_page":null}"#,
            Some("page=p2") => r#"{"data":[{"id":"sesn_2"}],"next_page":null,"prev_page":"p1"}"#,
            other => panic!("unexpected query {other:?}"),
        };
        json(200, body, &[])
    })
    .await;
    let items: Vec<serde_json::Value> = server
        .client()
        .request(Method::GET, "/v1/sessions")
        .list_bidirectional()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items, [json!({"id": "sesn_1"}), json!({"id": "sesn_2"})]);
}

#[tokio::test]
async fn pages_are_fetched_lazily_and_an_error_ends_the_stream() {
    let server = serve(|_, i| async move {
        match i {
            0 => json(200, r#"{"data":[1,2],"next_page":"c1"}"#, &[]),
            _ => json(
                404,
                r#"{"type":"error","error":{"type":"not_found_error","message":"gone"}}"#,
                &[],
            ),
        }
    })
    .await;
    let client = server.client();
    let mut items = client.list::<u32, _>("/v1/agents", &());
    assert_eq!(
        server.hits(),
        0,
        "nothing is fetched before the stream is read"
    );
    assert_eq!(items.next().await.unwrap().unwrap(), 1);
    assert_eq!(items.next().await.unwrap().unwrap(), 2);
    assert_eq!(server.hits(), 1);
    let error = items.next().await.unwrap().unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    assert!(items.next().await.is_none());
}

#[tokio::test]
async fn whole_pages_can_be_read() {
    let server = serve(|request, _| async move {
        match request.query.as_deref() {
            None => json(200, r#"{"data":[1],"next_page":"x"}"#, &[]),
            _ => json(200, r#"{"data":[2,3],"next_page":null}"#, &[]),
        }
    })
    .await;
    let pages: Vec<Page<u32>> = server
        .client()
        .request(Method::GET, "/v1/agents/agent_1/versions")
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1].data, [2, 3]);
}
