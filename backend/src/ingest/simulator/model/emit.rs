//! Event emission: TaskRouter events with the fields of real callbacks, built from what
//! the model knows of a task at the moment something happens to it, and the tasks'
//! attributes JSON.
//!
//! The model hands over plain facts ([`TaskFacts`]), so this file does not know the
//! model's state and the model does not know the events' field names.

use wallboard_shared::sid::{EventSid, ReservationSid, TaskSid};

use super::super::random::{IdKind, Random, mix};
use super::params::{Activity, Channel, Params, Queue, Worker, Workflow};
use crate::event::{Event, EventBuilder};

const TOPICS: [&str; 4] = ["new_order", "account", "technical", "billing"];
const LANGUAGES: [(&str, f64); 3] = [("en", 0.85), ("es", 0.10), ("fr", 0.05)];

/// A task as its events describe it.
#[derive(Debug, Clone, Copy)]
pub(super) struct TaskFacts<'a> {
    pub(super) sid: &'a TaskSid,
    pub(super) attributes: &'a str,
    pub(super) priority: i64,
    pub(super) created_ms: i64,
    /// `TaskAssignmentStatus` before the event (the event's own type may override it).
    pub(super) status: &'static str,
    pub(super) workflow: &'a Workflow,
    /// The task queue that holds the task now.
    pub(super) queue: &'a Queue,
    pub(super) channel: &'a Channel,
}

/// Numbers the events and the calls of one run, in the order they are emitted.
#[derive(Debug, Clone)]
pub(super) struct Emitter {
    seed: u64,
    next_event: u64,
    next_call: u64,
}

impl Emitter {
    pub(super) fn new(seed: u64) -> Self {
        Self { seed, next_event: 0, next_call: 0 }
    }

    fn next_event_sid(&mut self) -> EventSid {
        let n = self.next_event;
        self.next_event += 1;
        EventSid::from_u128(mix(self.seed, IdKind::Event, n))
    }

    /// A task, workflow or task-queue event of type `ty` at `t`; `extra` adds the fields
    /// of this type only.
    pub(super) fn task(
        &mut self,
        params: &Params,
        ty: &str,
        t: i64,
        task: &TaskFacts<'_>,
        extra: impl FnOnce(EventBuilder) -> EventBuilder,
    ) -> Event {
        let sid = self.next_event_sid();
        let (resource_type, resource_sid) = match ty {
            "workflow.entered" | "workflow.timeout" => ("workflow", task.workflow.sid.to_string()),
            "task-queue.entered" | "task-queue.moved" | "task-queue.timeout" => ("taskqueue", task.queue.sid.clone()),
            _ => ("task", task.sid.to_string()),
        };
        let b = task_builder(params, &sid, ty, t, task)
            .field("event_description", describe(ty, task.sid.as_str()))
            .field("resource_type", resource_type)
            .field("resource_sid", resource_sid);
        extra(b).build().expect("the simulator builds valid events")
    }

    /// A reservation event of type `ty` at `t`: `reservation` offers the task to `worker`,
    /// now in `activity` with `attributes` (the Worker fields of the callback).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn reservation(
        &mut self,
        params: &Params,
        ty: &str,
        t: i64,
        task: &TaskFacts<'_>,
        reservation: &ReservationSid,
        worker: &Worker,
        attributes: &str,
        activity: &Activity,
    ) -> Event {
        let sid = self.next_event_sid();
        task_builder(params, &sid, ty, t, task)
            .field("event_description", describe(ty, reservation.as_str()))
            .field("resource_type", "reservation")
            .field("resource_sid", reservation)
            .field("reservation_sid", reservation)
            .field("worker_sid", &worker.sid)
            .field("worker_name", &worker.name)
            .field("worker_attributes", attributes)
            .field("worker_activity_sid", &activity.sid)
            .field("worker_activity_name", &activity.name)
            .build()
            .expect("the simulator builds valid events")
    }

    /// `activity.created` for `activity`.
    pub(super) fn activity_created(&mut self, params: &Params, t: i64, activity: &Activity) -> Event {
        let sid = self.next_event_sid();
        base_builder(params, &sid, "activity.created", t)
            .field("event_description", format!("Activity {} created", activity.sid))
            .field("resource_type", "activity")
            .field("resource_sid", &activity.sid)
            .field("activity_sid", &activity.sid)
            .field("activity_name", &activity.name)
            .field("activity_available", activity.available)
            .build()
            .expect("the simulator builds valid events")
    }

    /// `task-queue.created` or `task-queue.expression.updated` for `queue`, whose
    /// `TargetWorkers` is `expression`.
    pub(super) fn queue(&mut self, params: &Params, ty: &str, t: i64, queue: &Queue, expression: &str) -> Event {
        let sid = self.next_event_sid();
        let what = if ty == "task-queue.created" { "created" } else { "changed its TargetWorkers" };
        base_builder(params, &sid, ty, t)
            .field("event_description", format!("TaskQueue {} {what}", queue.sid))
            .field("resource_type", "taskqueue")
            .field("resource_sid", &queue.sid)
            .field("task_queue_sid", &queue.sid)
            .field("task_queue_name", &queue.name)
            .field("task_queue_target_expression", expression)
            .build()
            .expect("the simulator builds valid events")
    }

    /// A worker event of type `ty` at `t` (the Worker fields: its current `attributes`
    /// and `activity`); `extra` adds the fields of this type only.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn worker(
        &mut self,
        params: &Params,
        ty: &str,
        t: i64,
        worker: &Worker,
        attributes: &str,
        activity: &Activity,
        extra: impl FnOnce(EventBuilder) -> EventBuilder,
    ) -> Event {
        let sid = self.next_event_sid();
        let what = match ty {
            "worker.created" => "created",
            "worker.activity.update" => "updated its activity",
            "worker.capacity.update" => "updated a channel's capacity",
            "worker.channel.availability.update" => "updated a channel's availability",
            "worker.attributes.update" => "updated its attributes",
            _ => "changed",
        };
        let b = base_builder(params, &sid, ty, t)
            .field("event_description", format!("Worker {} {what}", worker.sid))
            .field("resource_type", "worker")
            .field("resource_sid", &worker.sid)
            .field("worker_sid", &worker.sid)
            .field("worker_name", &worker.name)
            .field("worker_attributes", attributes)
            .field("worker_activity_sid", &activity.sid)
            .field("worker_activity_name", &activity.name);
        extra(b).build().expect("the simulator builds valid events")
    }

    /// Small, realistic TaskAttributes JSON for a new task (draws from `rng`).
    pub(super) fn attributes(
        &mut self,
        rng: &mut Random,
        workflow: &Workflow,
        channel: &Channel,
        voice_like: bool,
    ) -> String {
        let u = rng.uniform();
        let mut acc = 0.0;
        let language = LANGUAGES
            .iter()
            .find(|(_, p)| {
                acc += p;
                u < acc
            })
            .map_or("en", |l| l.0);
        let topic = TOPICS[rng.below(TOPICS.len())];
        let customer = 100_000 + rng.below(900_000);
        let department = workflow.name.to_lowercase();
        let channel = channel.name.clone();
        let attributes = if voice_like {
            let call = mix(self.seed, IdKind::Call, self.next_call);
            self.next_call += 1;
            serde_json::json!({
                "type": "inbound",
                "channel": channel,
                "call_sid": format!("CA{call:032x}"),
                "from": format!("+1555{customer:07}"),
                "to": "+18005550100",
                "department": department,
                "topic": topic,
                "language": language,
            })
        } else {
            serde_json::json!({
                "type": "inbound",
                "channel": channel,
                "customer_id": format!("C{customer}"),
                "name": format!("Customer {customer}"),
                "department": department,
                "topic": topic,
                "language": language,
            })
        };
        attributes.to_string()
    }
}

/// The fields every event carries.
fn base_builder(params: &Params, sid: &EventSid, ty: &str, t: i64) -> EventBuilder {
    EventBuilder::new(ty, sid, t, &params.workspace_sid)
        .field("timestamp_ms", t)
        .field("timestamp", t.div_euclid(1000))
        .field("workspace_name", &params.workspace_name)
}

/// The fields every task event carries, as in TaskRouter's callbacks.
fn task_builder(params: &Params, sid: &EventSid, ty: &str, t: i64, task: &TaskFacts<'_>) -> EventBuilder {
    let status = match ty {
        "task.completed" => "completed",
        "task.canceled" => "canceled",
        _ => task.status,
    };
    base_builder(params, sid, ty, t)
        .field("task_sid", task.sid)
        .field("task_attributes", task.attributes)
        .field("task_age", (t - task.created_ms) / 1000)
        .field("task_priority", task.priority)
        .field("task_assignment_status", status)
        .field("task_date_created", task.created_ms.div_euclid(1000))
        .field("task_channel_sid", &task.channel.sid)
        .field("task_channel_unique_name", &task.channel.name)
        .field("task_queue_sid", &task.queue.sid)
        .field("task_queue_name", &task.queue.name)
        .field("workflow_sid", &task.workflow.sid)
        .field("workflow_name", &task.workflow.name)
}

fn describe(ty: &str, sid: &str) -> String {
    let what = match ty {
        "task.created" => "created",
        "task.wrapup" => "wrapping up",
        "task.completed" => "completed",
        "task.canceled" => "canceled",
        "task.deleted" => "deleted",
        "workflow.entered" => "entered the workflow",
        "workflow.timeout" => "timed out in the workflow",
        "task-queue.entered" => "entered a task queue",
        "task-queue.moved" => "moved to another task queue",
        "task-queue.timeout" => "timed out of its task queue",
        "reservation.created" => "created",
        "reservation.accepted" => "accepted",
        "reservation.rejected" => "rejected",
        "reservation.timeout" => "timed out",
        "reservation.canceled" => "canceled",
        _ => "changed",
    };
    if ty.starts_with("reservation.") { format!("Reservation {sid} {what}") } else { format!("Task {sid} {what}") }
}
