from app.errors import InvalidRequest, NotFound


class CronNotFound(NotFound):
    def __init__(self, cron_id: object) -> None:
        super().__init__(f"Cron {cron_id} was not found.")


class InvalidSchedule(InvalidRequest):
    def __init__(self, schedule: str, reason: str) -> None:
        super().__init__(f"The schedule {schedule!r} {reason}.")


class InvalidTimezone(InvalidRequest):
    def __init__(self, timezone: str) -> None:
        super().__init__(f"The timezone {timezone!r} is not an IANA time zone (such as 'Europe/Paris').")


class EndTimeInPast(InvalidRequest):
    def __init__(self) -> None:
        super().__init__("The cron's end_time is in the past: it would never fire.")


class InvalidCronChange(InvalidRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
