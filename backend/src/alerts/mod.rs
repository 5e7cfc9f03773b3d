//! Alert rules at work: their evaluation on every change of the numbers, the alerts they
//! raise (stored, acknowledged, shown on every wall) and the notifications sent to webhooks.

pub mod notify;
