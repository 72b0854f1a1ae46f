"""A cron's schedule: cron syntax read in an IANA time zone, and the due
time after a given instant (croniter, as the Agent Server reads it)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

from app.services.crons.errors import EndTimeInPast, InvalidSchedule, InvalidTimezone


@dataclass(frozen=True)
class Schedule:
    expression: str
    timezone: str | None = None
    end_time: datetime | None = None

    def __post_init__(self) -> None:
        if not croniter.is_valid(self.expression):
            raise InvalidSchedule(self.expression, "is not cron syntax (such as '*/5 * * * *')")
        self.zone()  # InvalidTimezone now, not at its first firing
        if self.end_time is not None and self.end_time.tzinfo is None:
            # A time with no zone is read in the schedule's, as the schedule is.
            object.__setattr__(self, "end_time", self.end_time.replace(tzinfo=self.zone()))

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone or "UTC")
        # OSError: a name that is a folder of the zone database ("America").
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise InvalidTimezone(str(self.timezone)) from None

    def next_after(self, instant: datetime) -> datetime | None:
        """The first due time after `instant`, in UTC; None past the end time."""
        try:
            due: datetime = croniter(self.expression, instant.astimezone(self.zone())).get_next(datetime)
        except CroniterBadDateError:
            raise InvalidSchedule(self.expression, "never falls on a date") from None
        due = due.astimezone(UTC)
        return None if self.end_time is not None and due > self.end_time else due

    def first_after(self, now: datetime) -> datetime | None:
        """`next_after`, for a schedule a client gives: refused if it has ended."""
        if self.end_time is not None and self.end_time <= now:
            raise EndTimeInPast
        return self.next_after(now)
