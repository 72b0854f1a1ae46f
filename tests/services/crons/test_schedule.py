"""A cron's schedule read in its time zone: the due time after an instant,
across a change of clocks, up to its end; and what is refused."""

from datetime import UTC, datetime, timedelta

import pytest

from app.errors import InvalidRequest
from app.services.crons.errors import EndTimeInPast, InvalidSchedule, InvalidTimezone
from app.services.crons.schedule import Schedule

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)


class TestDueTimes:
    def test_read_in_its_zone_across_a_change_of_clocks(self) -> None:
        # 9:00 in Paris is 8:00 UTC before the clocks go forward on March 29th, 7:00 after.
        paris = Schedule("0 9 * * *", "Europe/Paris")
        first = paris.next_after(NOW)
        assert first == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
        assert paris.next_after(NOW - timedelta(days=1)) == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)

    def test_utc_without_a_zone(self) -> None:
        assert Schedule("*/15 * * * *").next_after(NOW) == NOW + timedelta(minutes=15)

    def test_none_past_its_end(self) -> None:
        ends = NOW + timedelta(minutes=10)
        assert Schedule("*/15 * * * *", None, ends).next_after(NOW) is None

    def test_an_end_with_no_zone_is_read_in_the_schedules(self) -> None:
        ends = Schedule("0 * * * *", "Asia/Tokyo", datetime(2026, 3, 28, 22, 30)).end_time
        assert ends == datetime(2026, 3, 28, 13, 30, tzinfo=UTC)


class TestRefused:
    @pytest.mark.parametrize("expression", ["every day", "60 * * * *", "*/0 * * * *", "@reboot", ""])
    def test_not_cron_syntax(self, expression: str) -> None:
        with pytest.raises(InvalidSchedule):
            Schedule(expression)

    def test_a_date_that_never_comes(self) -> None:
        with pytest.raises(InvalidSchedule):
            Schedule("0 0 30 2 *").first_after(NOW)

    @pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "America", "../etc/passwd", "/UTC", "UTC/"])
    def test_not_an_iana_zone(self, zone: str) -> None:
        with pytest.raises(InvalidTimezone):
            Schedule("* * * * *", zone)

    def test_an_end_in_the_past(self) -> None:
        with pytest.raises(EndTimeInPast):
            Schedule("* * * * *", None, NOW - timedelta(seconds=1)).first_after(NOW)

    def test_each_refusal_is_a_422(self) -> None:
        assert issubclass(InvalidSchedule, InvalidRequest)
        assert issubclass(InvalidTimezone, InvalidRequest)
        assert issubclass(EndTimeInPast, InvalidRequest)
