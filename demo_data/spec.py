"""What the demo generator makes: how many weeks and rows, the seed, and the demo's clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoSpec:
    """What to generate. `end_date` is the last day with data (inclusive)."""

    weeks: int = 12
    rows_per_day: int = 500
    seed: int = 1
    end_date: dt.date | None = None
    # Inject a score drop for one model version in the last week: "model:delta".
    regression: str | None = None
    # Share of responses that get a reaction (0.35); the benchmark raises it to match the
    # number of evaluations.
    feedback_share: float = 0.35
    # False: no improvement trend, no difference between model versions and no weekend
    # dip, so any week-over-week change, of the service or of a segment, is noise (for
    # checking that tests do not raise false alarms). With the dip, a version rolled out
    # on a Saturday has a first week of weekend traffic only: a real change of its mix.
    trend: bool = True
    # The demo's clock (UTC): no row is dated after it. Default: now, or the end of
    # `end_date` when that is given.
    now: dt.datetime | None = None

    def clock(self) -> dt.datetime:
        """The latest time a row may carry, as a naive UTC timestamp like the raw tables'."""
        if self.now is not None:
            now = self.now
        elif self.end_date is not None:
            now = dt.datetime.combine(self.end_date, dt.time(23, 59, 59))
        else:
            now = dt.datetime.now(dt.timezone.utc)
        if now.tzinfo is not None:
            now = now.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return now.replace(microsecond=0)

    def last_day(self) -> dt.date:
        return self.end_date or self.clock().date()

    def first_day(self) -> dt.date:
        """Monday of the first of `weeks` ISO weeks; the last one holds `last_day`."""
        last = self.last_day()
        return last - dt.timedelta(days=last.weekday() + 7 * (self.weeks - 1))

    @property
    def days(self) -> int:
        return (self.last_day() - self.first_day()).days + 1
