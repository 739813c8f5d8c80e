"""Staff notices outside `kosh dev`: one structured log line per notice, for the staff task
system that reads the worker's logs (no personal data: case id, kind, dates)."""

from __future__ import annotations

import structlog

from adapters.ports import StaffNotice


class LogNotifier:
    def __init__(self) -> None:
        self.log = structlog.get_logger("kosh.staff")

    async def notify(self, notice: StaffNotice) -> None:
        self.log.info(
            "staff_notice", case_id=notice.case_id, kind=notice.kind, message=notice.message
        )
