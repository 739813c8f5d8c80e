"""Activity timeouts and retry policies, in one place."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

NON_RETRYABLE = [
    "RejectedRequest",
    "QuotaExhausted",
    "ConcurrencyConflict",
    "StoreRefused",
    "LabourQuotaExhausted",
    "EmployerSuspended",
]
# The record refused an append for a reason retrying cannot cure (a bug, or a record
# changed behind the workflow's back): the case pauses (its workflow task fails, visible in
# the UI) until the code or the record is mended; it never fails and is never lost.
PAUSE_CASE_ON = ("ConcurrencyConflict", "StoreRefused")

# Transient failures retry with backoff for as long as it takes: a case is never lost to an
# outage. Invalid requests and business refusals are not retried.
ADAPTER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=NON_RETRYABLE,
)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=NON_RETRYABLE,
)
# The record and the staff registry (docs/decisions/022: ordinary activities, retried with
# STORE_RETRY for as long as it takes; an outage adds no history events while it lasts).
ADAPTER_TIMEOUT = timedelta(seconds=30)
STORE_TIMEOUT = timedelta(seconds=15)
# On a compressed demo clock (seconds per case year), no attempt may run longer than this.
DEMO_TIMEOUT = timedelta(seconds=5)
