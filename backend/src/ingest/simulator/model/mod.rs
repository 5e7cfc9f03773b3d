//! The contact center itself: a discrete-event simulation that emits TaskRouter events.
//!
//! Every future happening is an action in a heap keyed by (time, sequence number). An
//! action runs at its time, may emit events stamped with that time, and may schedule
//! further actions at the same time or later. [`Simulator::advance`] runs every action
//! up to a time, so the stream of events depends only on the configuration, the seed and
//! the start time, never on how the simulation is stepped.
//!
//! The model, per task: arrivals are a Poisson process per (workflow, channel) whose
//! rate follows the time-of-day and day-of-week profiles (thinning of a peak-rate
//! process). A task is created (`task.created`, `workflow.entered`, `task-queue.entered`,
//! all at one millisecond) and waits in its workflow's queue. Pending tasks are offered,
//! highest priority first and then oldest first, to an available eligible agent with free
//! capacity on the task's channel: exclusive work (voice) to the agent idle longest, other
//! work packed onto agents already busy with it. The reservation is accepted, rejected or
//! times out; a rejected or timed-out task is pending again and offered to someone else
//! (an agent who lets a reservation time out pauses). An accepted task is handled, wraps
//! up and completes. A task not yet assigned may be abandoned when the customer's
//! patience runs out or time out of its workflow (an open reservation is canceled
//! first), be moved to another queue, or be deleted.
//!
//! The floor: the run opens (at its start time, before anything else) with the
//! workspace's activities, its task queues with their `TargetWorkers`, and its workers
//! with their attributes, current activity and per-channel capacity and availability.
//! Every turn (`shifts.slot_minutes`) each agent gets the activity its shift plan wants
//! (`Params::planned_activity`: the staffing share of its group available, a few more
//! logged in taking breaks, lunch and training in turns, the rest offline). An agent
//! moves into an available activity at once and out of one only once it holds no task,
//! taking no new task meanwhile; one that lets a reservation time out goes to the
//! timeout activity at once, for `timeout_pause_seconds`. A task is offered only to an
//! agent in an available activity whose attributes match the task queue's
//! `TargetWorkers` (evaluated with the engine's expression language when the agent's
//! attributes or the queue's expression change). A task still pending in its workflow's
//! queue after `overflow.after_seconds` times out of it and enters the overflow queue a
//! millisecond later. The shift plan draws no random number.
//!
//! During the day: at the daily peak (`[peak]`) agents take more tasks at once on some
//! channels (`worker.capacity.update`; the model's own capacity follows) and some queues
//! take a wider `TargetWorkers` (`task-queue.expression.updated`), both set back when
//! the peak ends; a supervisor changes a few agents' skills or level a day
//! (`worker.attributes.update`, a Poisson process within `[skill_changes]` hours; an
//! agent that differs from its group is set back first), and their queues follow.
//!
//! Randomness comes from one ChaCha8 stream (`super::random`), consumed in action order,
//! so the events of a stored seed never change.
//!
//! - `params`: what the configuration becomes before the first step;
//! - `center`: the contact center's state and its step ([`Simulator`]);
//! - `emit`: the TaskRouter events, with the fields of real callbacks.
//!
//! `center` imports `emit` and `params`, `emit` imports `params`; none imports back.

mod center;
mod emit;
mod params;

pub use center::{LiveCounts, Simulator};
