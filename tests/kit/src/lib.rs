//! Helpers shared by unit and integration tests (real services, no mocks). Not part of
//! the product API.

pub mod postgres;
pub mod garage;
