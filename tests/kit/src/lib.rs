//! Helpers shared by unit and integration tests (real services, no mocks; hostile inputs). Not part of
//! the product API.

pub mod postgres;
pub mod garage;
pub mod hostile;
pub mod http;
