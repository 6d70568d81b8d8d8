"""Time profiles of deck rows (all, business, non_business, weekends) and business hours."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, time

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Profile(enum.Enum):
    """The time profile a deck row applies to; lower `rank` is more specific."""

    WEEKENDS = "weekends"
    BUSINESS = "business"
    NON_BUSINESS = "non_business"
    ALL = "all"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Profile.WEEKENDS: 0, Profile.BUSINESS: 1, Profile.NON_BUSINESS: 1, Profile.ALL: 2}


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Business time: the given weekdays (0 = Monday) between `start` and `end` local time."""

    days: frozenset[int] = frozenset(range(5))
    start: time = time(8, 0)
    end: time = time(18, 0)

    def contains(self, local: datetime) -> bool:
        if local.weekday() not in self.days:
            return False
        now = local.time()
        return self.start <= now < self.end


DEFAULT_HOURS = BusinessHours()


def matches(profile: Profile, local: datetime, hours: BusinessHours) -> bool:
    """Whether a local start time falls in a profile."""
    if profile is Profile.ALL:
        return True
    if profile is Profile.WEEKENDS:
        return local.weekday() >= 5
    business = hours.contains(local)
    return business if profile is Profile.BUSINESS else not business
