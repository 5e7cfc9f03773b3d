//! Twilio SIDs: two-letter prefix plus 32 hexadecimal digits, checked on construction.
//!
//! Each resource kind has its own newtype so a workflow SID can never be passed where a
//! workspace SID is expected. Parsing is the only way in, so a value of these types is
//! always well-formed; serde goes through the same check.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a SID of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidError {
    pub prefix: &'static str,
    pub value: String,
}

impl fmt::Display for SidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'{}' is not a valid {}… sid (expected {} followed by 32 hexadecimal digits)",
            self.value, self.prefix, self.prefix
        )
    }
}

impl std::error::Error for SidError {}

/// True when `value` is `prefix` followed by exactly 32 hexadecimal digits.
pub fn is_sid(prefix: &str, value: &str) -> bool {
    value.len() == 34 && value.starts_with(prefix) && value.as_bytes()[2..].iter().all(u8::is_ascii_hexdigit)
}

/// The 128-bit number of a SID with `prefix`, without allocating; `None` when malformed.
pub fn sid_number(prefix: &str, value: &str) -> Option<u128> {
    if is_sid(prefix, value) { u128::from_str_radix(&value[2..], 16).ok() } else { None }
}

macro_rules! sid_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The two-letter prefix every SID of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// Checks and wraps `value`.
            pub fn parse(value: &str) -> Result<Self, SidError> {
                if is_sid($prefix, value) {
                    Ok(Self(value.to_owned()))
                } else {
                    Err(SidError { prefix: $prefix, value: value.chars().take(64).collect() })
                }
            }

            /// Builds a SID from a 128-bit number (lowercase hex, as Twilio emits them).
            pub fn from_u128(n: u128) -> Self {
                Self(format!("{}{:032x}", $prefix, n))
            }

            /// The 128-bit number behind the hex digits: a compact key for hash maps.
            pub fn to_u128(&self) -> u128 {
                u128::from_str_radix(&self.0[2..], 16).expect("checked to be 32 hex digits on construction")
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = SidError;
            fn from_str(s: &str) -> Result<Self, SidError> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

sid_type!(
    /// An account (`AC…`): the owner of every resource and the user name of HTTP Basic auth.
    AccountSid, "AC"
);
sid_type!(
    /// A TaskRouter workspace (`WS…`).
    WorkspaceSid, "WS"
);
sid_type!(
    /// A workflow inside a workspace (`WW…`).
    WorkflowSid, "WW"
);
sid_type!(
    /// A task (`WT…`).
    TaskSid, "WT"
);
sid_type!(
    /// A reservation of a task for a worker (`WR…`).
    ReservationSid, "WR"
);
sid_type!(
    /// A task channel (`TC…`): voice, chat, sms, …
    TaskChannelSid, "TC"
);
sid_type!(
    /// A TaskRouter event (`EV…`).
    EventSid, "EV"
);
sid_type!(
    /// A task queue (`WQ…`).
    TaskQueueSid, "WQ"
);
sid_type!(
    /// A worker (`WK…`).
    WorkerSid, "WK"
);
sid_type!(
    /// A worker activity (`WA…`): Available, Offline, Break, …
    ActivitySid, "WA"
);
sid_type!(
    /// One channel of one worker (`WC…`): its capacity on a task channel.
    WorkerChannelSid, "WC"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_prefix_and_32_hex_digits() {
        let sid = WorkflowSid::parse("WW0123456789abcdefABCDEF0123456789").expect("valid");
        assert_eq!(sid.as_str(), "WW0123456789abcdefABCDEF0123456789");
    }

    #[test]
    fn rejects_wrong_prefix_length_and_digits() {
        assert!(WorkflowSid::parse("WS0123456789abcdef0123456789abcdef").is_err());
        assert!(WorkflowSid::parse("WW0123456789abcdef0123456789abcde").is_err());
        assert!(WorkflowSid::parse("WW0123456789abcdef0123456789abcdef0").is_err());
        assert!(WorkflowSid::parse("WW0123456789abcdef0123456789abcdeg").is_err());
        assert!(WorkflowSid::parse("").is_err());
        // Multi-byte characters must not make slicing panic.
        assert!(WorkflowSid::parse("WWééééééééééééééééé").is_err());
    }

    #[test]
    fn queue_worker_activity_and_channel_prefixes() {
        assert_eq!(TaskQueueSid::from_u128(1).as_str(), "WQ00000000000000000000000000000001");
        assert_eq!(WorkerSid::from_u128(2).as_str(), "WK00000000000000000000000000000002");
        assert_eq!(ActivitySid::from_u128(3).as_str(), "WA00000000000000000000000000000003");
        assert_eq!(WorkerChannelSid::from_u128(4).as_str(), "WC00000000000000000000000000000004");
        assert!(TaskQueueSid::parse("WK00000000000000000000000000000001").is_err());
        assert!(WorkerSid::parse("WQ00000000000000000000000000000001").is_err());
        assert!(ActivitySid::parse("WC00000000000000000000000000000001").is_err());
        assert!(WorkerChannelSid::parse("WA00000000000000000000000000000001").is_err());
    }

    #[test]
    fn serde_round_trip_and_rejection() {
        let sid = TaskSid::from_u128(0xabc);
        let json = serde_json::to_string(&sid).expect("serialize");
        assert_eq!(json, "\"WT00000000000000000000000000000abc\"");
        let back: TaskSid = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, sid);
        assert_eq!(back.to_u128(), 0xabc);
        assert!(serde_json::from_str::<TaskSid>("\"WW00000000000000000000000000000abc\"").is_err());
    }
}
