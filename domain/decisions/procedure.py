"""The scoring pilot's limit from submission to the decision: flagged, never passed silently."""

from __future__ import annotations

from domain import commands as cmd
from domain import events as ev
from domain.decisions.base import Decision, require
from domain.errors import WrongStageError
from domain.pilot import PROCEDURE_STAGES, procedure_flag_due, procedure_flag_on, procedure_limit_on


class Procedure(Decision):
    def FlagProcedureLimit(self, c: cmd.FlagProcedureLimit) -> list[ev.Event]:
        require(self.s, *PROCEDURE_STAGES, rule="procedure_limit_stage")
        limit = procedure_limit_on(self.s)
        assert limit is not None
        level = procedure_flag_due(self.s, self.today)
        if level is None:
            nxt = procedure_flag_on(self.s)
            if nxt is None:
                return []  # both flags raised already
            raise WrongStageError(
                "procedure_limit_not_due",
                f"the decision is due by {limit.isoformat()}; {nxt[0]} from {nxt[1].isoformat()}",
            )
        return [self._e(ev.ProcedureLimitFlagged, level=level, limit_on=limit)]
