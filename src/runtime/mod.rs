//! The durable runtime above the page stages: where objects and records live and how jobs
//! run.
//!
//! `store` keeps content-addressed objects (object_store: local folder or S3), verified
//! after every write; `catalog` records batches, pages, dossiers and documents and holds
//! the job queue (sqlx: SQLite or PostgreSQL); `pipeline` composes the page stages for one
//! batch with bounded concurrency; `worker` claims jobs, heartbeats and commits results;
//! `signing` signs stored documents, certifies copies and verifies signatures, with `tsa`
//! the RFC 3161 client.
//! Uses `crate::stages` and `crate::model`, never the interfaces above (`crate::cli`).

pub mod catalog;
pub mod config;
pub mod dossiers;
pub mod error;
pub mod pipeline;
pub mod signing;
pub mod store;
pub mod tsa;
pub mod views;
pub mod watch;
pub mod worker;
