"""A retry budget: retries may be at most a share of the calls of the last few seconds.

So a backend that fails for everyone gets at most that much extra load from retries, instead of
double (Envoy's retry budget, simplified to a rolling window).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 10.0
MINIMUM_RETRIES = 3


class RetryBudget:
    def __init__(self, ratio: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ratio = ratio
        self._clock = clock
        self._calls: deque[float] = deque()
        self._retries: deque[float] = deque()

    def _trim(self, now: float) -> None:
        for events in (self._calls, self._retries):
            while events and now - events[0] > WINDOW_SECONDS:
                events.popleft()

    def called(self) -> None:
        self._calls.append(self._clock())

    def try_spend(self) -> bool:
        """Take one retry from the budget, if there is one left."""
        now = self._clock()
        self._trim(now)
        allowed = max(MINIMUM_RETRIES, int(self._ratio * len(self._calls)))
        if self._ratio <= 0 or len(self._retries) >= allowed:
            return False
        self._retries.append(now)
        return True
