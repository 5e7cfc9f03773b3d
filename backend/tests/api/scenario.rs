//! A scripted day at a small contact center, with numbers worked out by hand.
//!
//! Day D = 2026-11-27, events from 08:00Z; "now" is 18:00Z.
//!
//! Sales workflow:
//! - T1 voice p10: created 0 s, entered 0 s, R1 created 5 s, R1 accepted 20 s (wait exactly
//!   20 s), wrapup 320 s, completed 400 s. Its events arrive in reverse order.
//! - T2 voice p0: created 60 s, R2 created 65, rejected 70, R3 created 75, timeout 95,
//!   canceled 150 s (wait 90 s). The cancel arrives twice (same Sid).
//! - T3 chat p5: created 120 s, R4 created 121 s, accepted 130.5 s (wait 10.5 s) → assigned.
//! - T4 chat p5: created 3600 s, moved 3610, R5 created 3620, canceled 3630 → pending.
//! - T5 sms p1 (channel known by name only): created 7200 s, workflow.timeout 7500 s,
//!   canceled 7500.4 s (wait 300.4 s).
//! - T6 voice p0: created 9000 s, R6 created 9001, rescinded 9002, R7 created 9003 → reserved.
//! - T7 voice p0: task.created only (no workflow.entered) 10000 s, deleted 10010 s.
//! - T8 voice p2: created 30000 s → pending.
//!
//! Support workflow: S1 voice p0: created 100 s, R8 created 110, accepted 140 (wait 40 s),
//! wrapup 200 s → wrapping.
//!
//! Also a worker event (stored, changes no number).

use super::helpers::{Form, TestApp};

pub const WS: &str = "WS00000000000000000000000000000001";
pub const SALES: &str = "WW000000000000000000000000000000a1";
pub const SUPPORT: &str = "WW000000000000000000000000000000a2";
pub const VOICE: &str = "TC000000000000000000000000000000c1";
pub const CHAT: &str = "TC000000000000000000000000000000c2";

/// 2026-11-27T08:00:00Z
pub const D: i64 = 1_795_766_400_000;
/// 2026-11-27T18:00:00Z
pub const NOW: i64 = D + 36_000_000;

pub fn task_sid(n: u32) -> String {
    format!("WT{n:032x}")
}

fn res_sid(n: u32) -> String {
    format!("WR{n:032x}")
}

struct Script {
    seq: u32,
    forms: Vec<Form>,
}

impl Script {
    #[allow(clippy::too_many_arguments)]
    fn ev(
        &mut self,
        event_type: &str,
        at_s: f64,
        task: u32,
        wf: &str,
        channel: &str,
        priority: u32,
        reservation: Option<u32>,
    ) {
        self.seq += 1;
        let mut f = Form::new(event_type, self.seq, D + (at_s * 1000.0).round() as i64, WS)
            .with("TaskSid", task_sid(task))
            .with("WorkflowSid", wf)
            .with("WorkflowName", if wf == SALES { "Sales" } else { "Support" })
            .with("TaskPriority", priority)
            .with("TaskAttributes", r#"{"type":"support"}"#)
            .with("TaskAssignmentStatus", "pending")
            .with("TaskDateCreated", 0) // wrong on purpose: events carry the true creation
            .with("TaskQueueSid", "WQ00000000000000000000000000000001");
        f = match channel {
            "voice" => f.with("TaskChannelSid", VOICE).with("TaskChannelUniqueName", "voice"),
            "chat" => f.with("TaskChannelSid", CHAT).with("TaskChannelUniqueName", "chat"),
            other => f.with("TaskChannelUniqueName", other),
        };
        if let Some(r) = reservation {
            f = f.with("ReservationSid", res_sid(r)).with("WorkerSid", "WK00000000000000000000000000000001");
        }
        self.forms.push(f.without("TaskDateCreated"));
    }
}

/// The day's events in the order they are sent (not time order).
/// Events of [`events`] sent twice (stored once).
pub const DUPLICATES: usize = 1;

pub fn events() -> Vec<Form> {
    let mut s = Script { seq: 0, forms: Vec::new() };
    // T1, sent in reverse below.
    let t1_start = s.forms.len();
    s.ev("task.created", 0.0, 1, SALES, "voice", 10, None);
    s.ev("workflow.entered", 0.0, 1, SALES, "voice", 10, None);
    s.ev("reservation.created", 5.0, 1, SALES, "voice", 10, Some(1));
    s.ev("reservation.accepted", 20.0, 1, SALES, "voice", 10, Some(1));
    s.ev("task.wrapup", 320.0, 1, SALES, "voice", 10, None);
    s.ev("task.completed", 400.0, 1, SALES, "voice", 10, None);
    s.forms[t1_start..].reverse();

    s.ev("task.created", 60.0, 2, SALES, "voice", 0, None);
    s.ev("workflow.entered", 60.0, 2, SALES, "voice", 0, None);
    s.ev("reservation.created", 65.0, 2, SALES, "voice", 0, Some(2));
    s.ev("reservation.rejected", 70.0, 2, SALES, "voice", 0, Some(2));
    s.ev("reservation.created", 75.0, 2, SALES, "voice", 0, Some(3));
    s.ev("reservation.timeout", 95.0, 2, SALES, "voice", 0, Some(3));
    s.ev("task.canceled", 150.0, 2, SALES, "voice", 0, None);
    let dup = s.forms.last().expect("just pushed").clone();
    s.forms.push(dup);

    s.ev("task.created", 120.0, 3, SALES, "chat", 5, None);
    s.ev("workflow.entered", 120.0, 3, SALES, "chat", 5, None);
    s.ev("reservation.created", 121.0, 3, SALES, "chat", 5, Some(4));
    s.ev("reservation.accepted", 130.5, 3, SALES, "chat", 5, Some(4));

    s.ev("task.created", 3600.0, 4, SALES, "chat", 5, None);
    s.ev("workflow.entered", 3600.0, 4, SALES, "chat", 5, None);
    s.ev("task-queue.moved", 3610.0, 4, SALES, "chat", 5, None);
    s.ev("reservation.created", 3620.0, 4, SALES, "chat", 5, Some(5));
    s.ev("reservation.canceled", 3630.0, 4, SALES, "chat", 5, Some(5));

    s.ev("task.created", 7200.0, 5, SALES, "sms", 1, None);
    s.ev("workflow.entered", 7200.0, 5, SALES, "sms", 1, None);
    s.ev("workflow.timeout", 7500.0, 5, SALES, "sms", 1, None);
    s.ev("task.canceled", 7500.4, 5, SALES, "sms", 1, None);

    s.ev("task.created", 9000.0, 6, SALES, "voice", 0, None);
    s.ev("workflow.entered", 9000.0, 6, SALES, "voice", 0, None);
    s.ev("reservation.created", 9001.0, 6, SALES, "voice", 0, Some(6));
    s.ev("reservation.rescinded", 9002.0, 6, SALES, "voice", 0, Some(6));
    s.ev("reservation.created", 9003.0, 6, SALES, "voice", 0, Some(7));

    s.ev("task.created", 10000.0, 7, SALES, "voice", 0, None);
    s.ev("task.deleted", 10010.0, 7, SALES, "voice", 0, None);

    s.ev("task.created", 30000.0, 8, SALES, "voice", 2, None);
    s.ev("workflow.entered", 30000.0, 8, SALES, "voice", 2, None);

    s.ev("task.created", 100.0, 101, SUPPORT, "voice", 0, None);
    s.ev("workflow.entered", 100.0, 101, SUPPORT, "voice", 0, None);
    s.ev("reservation.created", 110.0, 101, SUPPORT, "voice", 0, Some(8));
    s.ev("reservation.accepted", 140.0, 101, SUPPORT, "voice", 0, Some(8));
    s.ev("task.wrapup", 200.0, 101, SUPPORT, "voice", 0, None);

    s.seq += 1;
    s.forms.push(
        Form::new("worker.activity.update", s.seq, D + 50_000, WS)
            .with("WorkerSid", "WK00000000000000000000000000000001")
            .with("WorkerActivityName", "Available"),
    );
    s.forms
}

/// Posts the whole day; every callback must be accepted.
pub async fn load(app: &TestApp) {
    for f in events() {
        let status = app.post_event(&f.0).await;
        assert_eq!(status, reqwest::StatusCode::NO_CONTENT, "event {:?}", f.0);
    }
}

pub fn sales(resource: &str) -> String {
    format!("/v1/Workspaces/{WS}/Workflows/{SALES}/{resource}")
}

pub fn support(resource: &str) -> String {
    format!("/v1/Workspaces/{WS}/Workflows/{SUPPORT}/{resource}")
}
