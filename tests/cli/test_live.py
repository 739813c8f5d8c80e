"""`kosh cases --live` builds its visibility query from checked values only."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from cli.live import visibility_query
from cli.main import app


def test_the_query_names_each_filter() -> None:
    query = visibility_query(
        stage="monitoring",
        region="Pavlodar",
        policy="2026.1",
        waiting_for="interview",
        due_before=date(2027, 1, 31),
    )
    assert query == (
        "ExecutionStatus = 'Running' AND WorkflowType = 'ApplicantWorkflow' "
        "AND KoshStage = 'monitoring' AND KoshRegion = 'Pavlodar' "
        "AND KoshPolicyVersion = '2026.1' AND KoshWaitingFor = 'interview' "
        "AND KoshNextDeadline < '2027-01-31T00:00:00Z'"
    )
    with pytest.raises(ValueError, match="quote"):
        visibility_query(stage="x' OR 'a' = 'a")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--waiting-for", "tea"], "--waiting-for"),
        (["--due-before", "next week"], "--due-before"),
        (["--policy", "1999.1"], "--policy"),
    ],
)
def test_bad_filters_exit_2_naming_the_option(args: list[str], named: str) -> None:
    result = CliRunner().invoke(app, ["cases", *args])
    assert result.exit_code == 2
    assert named in result.output
