//! Where statistics come from. The local engine is fed by event callbacks and imports
//! (`--source events`) or, in the embedded default, by the built-in contact center
//! ([`simulated`], `--source simulator`), through the same ingest path. With
//! `--source twilio` the numbers come from an upstream TaskRouter API instead ([`mirror`],
//! through [`upstream`]).

pub mod mirror;
pub mod simulated;
pub mod upstream;
