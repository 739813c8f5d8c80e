"""The reconciliation's event-by-event comparison of a stream with its workflow's account."""

from __future__ import annotations

from cli.reconcile import by_measure, differing_events, wrong_payees


def test_equal_streams_differ_in_nothing() -> None:
    assert differing_events("aaaaaaaabbbbbbbb", "aaaaaaaabbbbbbbb") == 0


def test_each_changed_or_missing_event_counts() -> None:
    assert differing_events("aaaaaaaabbbbbbbb", "aaaaaaaacccccccc") == 1
    assert differing_events("aaaaaaaabbbbbbbb", "aaaaaaaa") == 1  # the record lacks one
    assert differing_events("aaaaaaaa", "aaaaaaaabbbbbbbbcccccccc") == 2  # the workflow lacks two
    assert differing_events("", "aaaaaaaa") == 1


def test_the_books_split_what_they_paid_by_measure() -> None:
    paid = [("rent", 100), ("employer_subsidy", 5000), ("rent", 100), ("housing_certificate", 7)]
    assert by_measure(paid) == {"employer_subsidy": 5000, "housing_certificate": 7, "rent": 200}
    assert by_measure([]) == {}


def test_an_employer_subsidy_paid_to_the_family_is_a_wrong_payee() -> None:
    orders = {
        "c:support:rent:2026-04": ("rent", "family"),
        "c:support:employer_subsidy:member-1": ("employer_subsidy", "BIN-1"),
        "d:support:employer_subsidy:member-2": ("employer_subsidy", "family"),
        "d:support:housing_certificate:once": ("housing_certificate", "BIN-1"),
    }
    assert wrong_payees(orders) == [
        "d:support:employer_subsidy:member-2",
        "d:support:housing_certificate:once",
    ]
