"""The console's tests drive real cases: the workflow tests' rig (one worker per test)."""

from tests.workflows.conftest import case_rig

__all__ = ["case_rig"]
