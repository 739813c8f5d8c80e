"""The reconciliation's event-by-event comparison of a stream with its workflow's account."""

from __future__ import annotations

from cli.reconcile import differing_events


def test_equal_streams_differ_in_nothing() -> None:
    assert differing_events("aaaaaaaabbbbbbbb", "aaaaaaaabbbbbbbb") == 0


def test_each_changed_or_missing_event_counts() -> None:
    assert differing_events("aaaaaaaabbbbbbbb", "aaaaaaaacccccccc") == 1
    assert differing_events("aaaaaaaabbbbbbbb", "aaaaaaaa") == 1  # the record lacks one
    assert differing_events("aaaaaaaa", "aaaaaaaabbbbbbbbcccccccc") == 2  # the workflow lacks two
    assert differing_events("", "aaaaaaaa") == 1
