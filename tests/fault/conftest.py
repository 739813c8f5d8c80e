"""The fault tests on the time-skipping server use the workflow tests' rig."""

from tests.workflows.conftest import case_rig

__all__ = ["case_rig"]
