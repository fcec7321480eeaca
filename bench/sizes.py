"""How big the benchmark organization is and how much work each section does."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    name: str
    runs: int
    enrollments: int  # spread evenly over the runs, one participant each
    mentors: int  # each with goals; every enrollment gets one of them
    goals_per_mentor: int
    milestones_per_run: int  # reminders plan one message per enrollment and milestone due
    import_rows: int  # participants imported from CSV (files of at most programs.imports.MAX_ROWS)
    api_requests: int  # per endpoint, server and round
    api_rounds: int  # best round counts (the machine is shared)
    api_pages: int  # distinct pages the load cycles through
    report_repeats: int
    send_messages: int  # reminders relayed to the SMTP sink by one worker
    noop_tasks: int
    admin_repeats: int
    windows: int = 3  # pre, mid, post: a self and a mentor assessment of every enrollment in each

    @property
    def due_items(self) -> int:
        return self.enrollments * self.milestones_per_run


SIZES = {
    "large": Size(
        name="large",
        runs=50,
        enrollments=10_000,
        mentors=500,
        goals_per_mentor=2,
        milestones_per_run=10,
        import_rows=10_000,
        api_requests=300,
        api_rounds=2,
        api_pages=20,
        report_repeats=3,
        send_messages=2_000,
        noop_tasks=2_000,
        admin_repeats=3,
    ),
    # For iterating on the API: big enough pages and loads to compare, a minute or two.
    "medium": Size(
        name="medium",
        runs=10,
        enrollments=2_000,
        mentors=100,
        goals_per_mentor=1,
        milestones_per_run=3,
        import_rows=2_000,
        api_requests=200,
        api_rounds=2,
        api_pages=10,
        report_repeats=2,
        send_messages=200,
        noop_tasks=200,
        admin_repeats=1,
    ),
    "smoke": Size(
        name="smoke",
        runs=2,
        enrollments=40,
        mentors=4,
        goals_per_mentor=1,
        milestones_per_run=3,
        import_rows=30,
        api_requests=20,
        api_rounds=1,
        api_pages=2,
        report_repeats=1,
        send_messages=10,
        noop_tasks=20,
        admin_repeats=1,
    ),
}
