"""What every decision shares: the state, the policy, case time, and how events are made."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain import events as ev
from domain.case import CaseState, Stage
from domain.errors import InvalidCommandError, WrongStageError
from domain.policy import Policy


def require(state: CaseState, *stages: Stage, rule: str) -> None:
    if state.stage not in stages:
        raise WrongStageError(
            rule, f"not accepted in stage {state.stage!r} (accepted in: {', '.join(stages)})"
        )


class Decision:
    """One command's decision on one state, under one policy, at one case time. The phases'
    classes (scoring, relocation, contract, exit) add a method per command they decide."""

    def __init__(self, state: CaseState, policy: Policy, now: datetime) -> None:
        self.s, self.p, self.now = state, policy, now
        self.today: date = now.date()

    def _e(self, cls: type[Any], **fields: Any) -> Any:
        return cls(policy_id=self.p.id, at=self.now, **fields)

    def _close(self, reason: ev.CloseReason, detail: str) -> ev.Event:
        out: ev.Event = self._e(ev.CaseClosed, reason=reason, detail=detail)
        return out

    def _not_future(self, on: date | None) -> date:
        """A reported date, today when none is given; a date after today is refused."""
        if on is None:
            return self.today
        if on > self.today:
            raise InvalidCommandError(
                "date_in_future", f"{on.isoformat()} is after today ({self.today.isoformat()})"
            )
        return on

    def _kandas_relocation(self) -> None:
        require(self.s, "relocation", rule="relocation_stage")

    def _release(self, reason: str) -> list[ev.Event]:
        if self.s.region is None or self.s.quota_year is None or self.s.stage != "relocation":
            return []
        return [
            self._e(
                ev.QuotaPlaceReleased, region=self.s.region, year=self.s.quota_year, reason=reason
            )
        ]
