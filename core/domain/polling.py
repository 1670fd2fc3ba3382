"""How often the reconciliation poll asks Salesforce for new files.

Events bring each new file within a second; the poll is there to catch what an event missed. While it
finds nothing new and events flow, each quiet poll doubles the wait up to a ceiling, so an idle org
costs a handful of API calls an hour instead of thousands. A find (an event went missing) or a
subscription that is down brings the poll back to its fast interval at once."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PollCadence:
    fast_s: float
    idle_max_s: float
    interval_s: float = field(init=False)

    def __post_init__(self) -> None:
        if not 0 < self.fast_s <= self.idle_max_s:
            raise ValueError("the fast interval must be positive and at most the idle ceiling")
        self.interval_s = self.fast_s

    def after_poll(self, *, found_new: bool, events_flowing: bool) -> float:
        """The wait before the next poll, given what this one found and whether events are flowing."""
        if found_new or not events_flowing:
            self.interval_s = self.fast_s
        else:
            self.interval_s = min(self.idle_max_s, self.interval_s * 2)
        return self.interval_s
