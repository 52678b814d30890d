//! Machinery every service shares: typed input/output, store keys and JSON records, pagination
//! tokens and tag rules. Services use these instead of writing their own.
pub mod input;
pub mod keys;
pub mod pagination;
pub mod records;
pub mod tags;
