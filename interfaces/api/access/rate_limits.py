"""Rate limits, per `serve` process: each token's requests, and each client address's authentication failures.

Token buckets held in memory. Several processes (`serve --workers N`, or several hosts) each keep their own, so a
client spread over them gets at most N times the limit: a shared counter would cost a database write per request
(on SQLite, one writer at a time for the whole service), for limits whose purpose (keep one client from starving
the others, make guessing tokens slow and noisy) N times the rate still serves. The README says how to size them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from infrastructure.settings import Settings

MAX_KEYS = 100_000  # past this, the least recently seen key is dropped (it starts again with a full bucket)


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float  # 0: no limit
    burst: int

    @property
    def unlimited(self) -> bool:
        return self.per_second <= 0


class RateLimited(Exception):
    """429: the client sent more than its rate; it may try again in `retry_after` seconds."""

    def __init__(self, retry_after: int, detail: str) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Buckets:
    """One token bucket per key: `burst` tokens at most, refilled at `per_second`; a request takes one."""

    def __init__(self, rate: Rate, clock: Callable[[], float] | None = None) -> None:
        self._rate = rate
        self._now = clock or time.monotonic
        self._levels: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key → (tokens, at)
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Seconds before `key` may spend again (0: it may now); spends nothing."""
        with self._lock:
            tokens = self._level(key)
        return 0.0 if tokens >= 1 else (1 - tokens) / self._rate.per_second

    def spend(self, key: str) -> float:
        """Take one token if there is one and answer 0; else the seconds before there is one, taking nothing."""
        if self._rate.unlimited:
            return 0.0
        with self._lock:
            tokens = self._level(key)
            if tokens < 1:
                return (1 - tokens) / self._rate.per_second
            self._levels[key] = (tokens - 1, self._now())
            return 0.0

    def _level(self, key: str) -> float:
        now = self._now()
        tokens, at = self._levels.get(key, (float(self._rate.burst), now))
        tokens = min(float(self._rate.burst), tokens + (now - at) * self._rate.per_second)
        self._levels[key] = (tokens, now)
        self._levels.move_to_end(key)
        if len(self._levels) > MAX_KEYS:
            self._levels.popitem(last=False)
        return tokens


class RateLimits:
    """The two limits the API applies (settings: CONVERGENCE_RATE_LIMIT_*, CONVERGENCE_AUTH_FAILURES_*)."""

    def __init__(self, per_token: Rate, auth_failures: Rate, clock: Callable[[], float] | None = None) -> None:
        self.per_token = Buckets(per_token, clock)
        self.auth_failures = Buckets(auth_failures, clock)
        self._failures_limited = not auth_failures.unlimited

    def check_address(self, address: str) -> None:
        """Refuse an address that spent its authentication failures, before its token is even looked up."""
        if self._failures_limited and (wait := self.auth_failures.wait(address)) > 0:
            raise RateLimited(
                _seconds(wait), "too many authentication failures from this address: wait before trying again"
            )

    def failed(self, address: str) -> None:
        self.auth_failures.spend(address)

    def charge(self, actor: str) -> None:
        if (wait := self.per_token.spend(actor)) > 0:
            raise RateLimited(_seconds(wait), "this token sent more requests than its rate: slow down")


def _seconds(wait: float) -> int:
    return max(1, math.ceil(wait))


def rate_limits(settings: Settings) -> RateLimits:
    per_token = Rate(settings.rate_limit_per_second, settings.rate_limit_burst)
    failures = Rate(settings.auth_failures_per_minute / 60, settings.auth_failures_burst)
    return RateLimits(per_token, failures)
