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
# The record and the staff registry asked from the worker itself (local activities, from the
# 2026-11-local-record rule change): a few quick attempts inside the workflow task, then, if
# the database is still away, the same call as an ordinary activity that retries with
# STORE_RETRY for as long as it takes (an outage adds no history events while it lasts, where
# local retries would add a workflow task or a timer per attempt).
LOCAL_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=100),
    backoff_coefficient=2.0,
    maximum_attempts=3,
    non_retryable_error_types=NON_RETRYABLE,
)
LOCAL_TIMEOUT = timedelta(seconds=5)
ADAPTER_TIMEOUT = timedelta(seconds=30)
STORE_TIMEOUT = timedelta(seconds=15)
# On a compressed demo clock (seconds per case year), no attempt may run longer than this.
DEMO_TIMEOUT = timedelta(seconds=5)
