#!/usr/bin/env python3
"""Points Twilio's official Python helper library (`twilio`) at a running Wallboard and
fetches every task queue, worker, activity and workspace resource of one workspace,
failing on anything the library cannot parse.

The library is installed by `scripts/setup.sh test`; this script installs nothing.

    scripts/twilio-client-check.py BASE_URL ACCOUNT_SID AUTH_TOKEN WORKSPACE_SID

BASE_URL is the server's base (e.g. http://127.0.0.1:8080). Exit status 0 when every
resource parsed, 1 with the failures listed otherwise, 2 when `twilio` is not installed.
"""

import datetime
import sys

try:
    from twilio.rest import Client
except ImportError:
    print("twilio-client-check: the twilio library is not installed (scripts/setup.sh test)", file=sys.stderr)
    sys.exit(2)

DATE_FIELDS = ("date_created", "date_updated", "date_status_changed", "start_time", "end_time")

failures = []


def check(what, instance, expect=None):
    """The instance parsed: its dates are datetimes (the library leaves an unparsable date
    as its string), its counters integers, and the fields `expect` names have those values."""
    if instance is None:
        failures.append(f"{what}: no instance")
        return
    for name in DATE_FIELDS:
        value = getattr(instance, name, None)
        if value is not None and not isinstance(value, datetime.datetime):
            failures.append(f"{what}.{name} did not parse as a date: {value!r}")
    for name, value in vars(instance).items():
        if name.startswith(("total_", "tasks_", "reservations_", "assigned_", "configured_")) and name != "tasks_by_status" \
                and name != "tasks_by_priority" and value is not None and not isinstance(value, int):
            failures.append(f"{what}.{name} did not parse as an integer: {value!r}")
    for name, value in (expect or {}).items():
        got = getattr(instance, name, None)
        if got != value:
            failures.append(f"{what}.{name} = {got!r}, expected {value!r}")


def attempt(what, fn):
    try:
        return fn()
    except Exception as e:  # the library's own error, or a parse failure
        failures.append(f"{what}: {type(e).__name__}: {e}")
        return None


class Bulk:
    """The body of the bulk realtime POST, in the shape the library sends (`to_dict`)."""

    def __init__(self, sids):
        self.sids = sids

    def to_dict(self):
        return {"QueueSids": self.sids}


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 64
    base, account, token, ws_sid = sys.argv[1:]
    client = Client(account, token)
    client.taskrouter.base_url = base.rstrip("/")
    ws = client.taskrouter.v1.workspaces(ws_sid)

    queues = attempt("TaskQueues list", lambda: ws.task_queues.list(page_size=2)) or []
    if not queues:
        failures.append("TaskQueues list is empty")
    for q in queues:
        check(f"TaskQueue {q.sid}", q, {"workspace_sid": ws_sid})
        check(f"TaskQueue {q.sid} fetch", attempt("TaskQueue fetch", lambda: ws.task_queues(q.sid).fetch()), {"sid": q.sid})
        qc = ws.task_queues(q.sid)
        check(f"TaskQueue {q.sid} Statistics",
              attempt("TaskQueue Statistics", lambda: qc.statistics().fetch(minutes=600)), {"task_queue_sid": q.sid})
        check(f"TaskQueue {q.sid} RealTimeStatistics",
              attempt("TaskQueue RealTimeStatistics", lambda: qc.real_time_statistics().fetch()), {"task_queue_sid": q.sid})
        check(f"TaskQueue {q.sid} CumulativeStatistics",
              attempt("TaskQueue CumulativeStatistics",
                      lambda: qc.cumulative_statistics().fetch(split_by_wait_time="30")), {"task_queue_sid": q.sid})
    listed = attempt("TaskQueues/Statistics list", lambda: ws.task_queues.statistics.list(page_size=2)) or []
    if len(listed) != len(queues):
        failures.append(f"TaskQueues/Statistics listed {len(listed)} queues, TaskQueues {len(queues)}")
    for s in listed:
        check(f"TaskQueues/Statistics {s.task_queue_sid}", s, {"workspace_sid": ws_sid})
    sids = [q.sid for q in queues[:50]]
    bulk = attempt("TaskQueues bulk RealTimeStatistics",
                   lambda: ws.task_queues.bulk_real_time_statistics.create(body=Bulk(sids)))
    check("TaskQueues bulk RealTimeStatistics", bulk, {"task_queue_response_count": len(sids)})

    workers = attempt("Workers list", lambda: ws.workers.list(page_size=2)) or []
    if not workers:
        failures.append("Workers list is empty")
    for w in workers:
        check(f"Worker {w.sid}", w, {"workspace_sid": ws_sid})
        wc = ws.workers(w.sid)
        check(f"Worker {w.sid} fetch", attempt("Worker fetch", lambda: wc.fetch()), {"sid": w.sid})
        check(f"Worker {w.sid} Statistics",
              attempt("Worker Statistics", lambda: wc.statistics().fetch(minutes=60)), {"worker_sid": w.sid})
        for c in attempt("Worker Channels list", lambda: wc.worker_channels.list()) or []:
            check(f"WorkerChannel {c.sid}", c, {"worker_sid": w.sid})
            check(f"WorkerChannel {c.sid} fetch",
                  attempt("WorkerChannel fetch", lambda: wc.worker_channels(c.sid).fetch()), {"sid": c.sid})
    check("Workers/Statistics", attempt("Workers/Statistics", lambda: ws.workers.statistics().fetch()),
          {"workspace_sid": ws_sid})
    check("Workers/RealTimeStatistics",
          attempt("Workers/RealTimeStatistics", lambda: ws.workers.real_time_statistics().fetch()),
          {"workspace_sid": ws_sid})
    check("Workers/CumulativeStatistics",
          attempt("Workers/CumulativeStatistics", lambda: ws.workers.cumulative_statistics().fetch(minutes=600)),
          {"workspace_sid": ws_sid})

    activities = attempt("Activities list", lambda: ws.activities.list()) or []
    if not activities:
        failures.append("Activities list is empty")
    for a in activities:
        check(f"Activity {a.sid}", a, {"workspace_sid": ws_sid})
        check(f"Activity {a.sid} fetch", attempt("Activity fetch", lambda: ws.activities(a.sid).fetch()), {"sid": a.sid})

    check("Workspace Statistics", attempt("Workspace Statistics", lambda: ws.statistics().fetch(minutes=600)),
          {"workspace_sid": ws_sid})
    check("Workspace RealTimeStatistics",
          attempt("Workspace RealTimeStatistics", lambda: ws.real_time_statistics().fetch()), {"workspace_sid": ws_sid})
    check("Workspace CumulativeStatistics",
          attempt("Workspace CumulativeStatistics",
                  lambda: ws.cumulative_statistics().fetch(split_by_wait_time="60")), {"workspace_sid": ws_sid})

    if failures:
        print("twilio-client-check: the twilio library could not use every resource:", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    print(f"twilio-client-check: {len(queues)} queues, {len(workers)} workers, {len(activities)} activities parsed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
