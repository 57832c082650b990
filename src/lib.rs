//! virtplan: a declarative plan compiler for server virtualization projects.
//!
//! The pipeline (see ARCHITECTURE.md): `load` (files, includes) → `syntax`
//! (KDL → checked tree) → `lower` (→ [`model::Model`]) → `measure` → `assess`
//! → `place` → `cost` → `migrate`, all gathered in a [`plan::Plan`] that
//! `emit` renders as Markdown, JSON and Ansible. Only the CLI does I/O.

#![deny(clippy::unwrap_used, clippy::todo, clippy::unimplemented, clippy::dbg_macro)]
#![forbid(unsafe_code)]

pub mod diag;
pub mod load;
pub mod lower;
pub mod model;
pub mod schema;
pub mod source;
pub mod syntax;
pub mod units;
