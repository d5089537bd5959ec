//! Integration tests of the protocol types: fixtures round-trip, unknown values survive, bad input
//! gives errors that name the field.

mod support;

mod agents;
mod environments;
mod events;
mod memory;
mod sessions;
mod vaults;
