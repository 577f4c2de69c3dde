//! An example backend service that tracks events with the spoor crate.
//!
//! A tiny shop API: `POST /signup` and `POST /orders` do their (pretend)
//! work and record what happened with `spoor`. Tracking never blocks or fails
//! a request: the call is handed to spoor's background task, which batches,
//! retries while the relay is away, and keeps unsent events in an SQLite
//! queue across restarts.
//!
//! ```text
//! spoor up --data-dir /tmp/spoor --listen 127.0.0.1:8080      # a relay (prints a write key)
//! SPOOR_WRITE_KEY=... cargo run -p spoor-example-backend      # this service on :3000
//! curl -XPOST localhost:3000/signup -H 'content-type: application/json' \
//!      -d '{"userId":"u1","email":"a@example.com","plan":"pro"}'
//! curl -XPOST localhost:3000/orders -H 'content-type: application/json' \
//!      -d '{"userId":"u1","orderId":"o-1","revenue":42.5,"currency":"EUR","items":2}'
//! ```
//!
//! Settings (environment): `SPOOR_ENDPOINT` (default `http://127.0.0.1:8080`),
//! `SPOOR_WRITE_KEY` (required), `SPOOR_QUEUE` (default `spoor-queue.db`),
//! `LISTEN` (default `127.0.0.1:3000`), `SPOOR_SHUTDOWN_SECS` (how long to
//! keep sending at exit, default 5).
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use spoor::{EventOptions, Identify, Options, Spoor, Track};

/// A signup request.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Signup {
    user_id: String,
    email: String,
    plan: String,
}

/// An order request.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    user_id: String,
    order_id: String,
    revenue: f64,
    currency: String,
    items: u32,
}

/// Creates the account (pretend) and records who signed up.
async fn signup(State(spoor): State<Spoor>, Json(signup): Json<Signup>) -> StatusCode {
    // A backend serves many users: name the user per event, so the client's
    // own identity is never changed by a request.
    let options = EventOptions {
        user_id: Some(signup.user_id.clone()),
        ..EventOptions::default()
    };
    let mut traits = spoor::Properties::new();
    traits.insert("email".into(), signup.email.clone().into());
    traits.insert("plan".into(), signup.plan.clone().into());
    let identify = Identify {
        user_id: None,
        traits,
        options: options.clone(),
    };
    let mut signed_up = Track::new("signed_up")
        .property("method", "email")
        .property("plan", signup.plan);
    signed_up.options = options;
    // Tracking is best effort: a full channel or a shut-down client must not fail the request.
    let _ = spoor.identify(identify);
    let _ = spoor.track(signed_up);
    StatusCode::CREATED
}

/// Takes the order (pretend) and records the purchase.
async fn order(State(spoor): State<Spoor>, Json(order): Json<Order>) -> StatusCode {
    let purchase = Track::new("purchase_completed")
        .user_id(order.user_id)
        .property("orderId", order.order_id)
        .property("revenue", order.revenue)
        .property("currency", order.currency)
        .property("items", order.items);
    let _ = spoor.track(purchase);
    StatusCode::CREATED
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let endpoint = env_or("SPOOR_ENDPOINT", "http://127.0.0.1:8080");
    let write_key =
        std::env::var("SPOOR_WRITE_KEY").context("set SPOOR_WRITE_KEY to the relay's write key")?;
    let queue = env_or("SPOOR_QUEUE", "spoor-queue.db");
    let listen = env_or("LISTEN", "127.0.0.1:3000");
    let shutdown_secs: u64 = env_or("SPOOR_SHUTDOWN_SECS", "5")
        .parse()
        .context("SPOOR_SHUTDOWN_SECS must be a number of seconds")?;

    let options = Options::new(endpoint.clone(), write_key).queue_path(&queue);
    let spoor =
        Spoor::start(options).with_context(|| format!("cannot open the queue at {queue}"))?;

    let app = Router::new()
        .route("/signup", post(signup))
        .route("/orders", post(order))
        .with_state(spoor.clone());
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    println!("shop on http://{listen}, tracking to {endpoint}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("server failed")?;

    // Send what is queued for a while; the rest stays in the queue for the next start.
    let stats = spoor
        .shutdown(Duration::from_secs(shutdown_secs))
        .await
        .context("spoor shutdown")?;
    println!(
        "delivered {} events, {} left queued for the next start",
        stats.core.delivered, stats.core.queued
    );
    Ok(())
}
