"""Policy versions in the record (issue #22, item 3): publishing a draft as a version is a
policy officer's act, recorded in the one event log as its own stream (`policy-versions`:
the same append, hash chain and checkpoints as a case's) with the whole version, who
published it and when. A published version is never changed: a new one takes a new id."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from domain.event_base import EventBase
from domain.policy import Policy

# The one stream of published versions; stream ids that start with "policy-" are reserved.
POLICY_STREAM_PREFIX = "policy-"
POLICY_STREAM = f"{POLICY_STREAM_PREFIX}versions"


class PolicyVersionPublished(EventBase):
    """A version published: from then on a new case applying in a region takes it from the
    date it takes effect there (`Policy.starts_in`). `at` is the wall time of publication;
    `policy_id` is the version's own id."""

    type: Literal["PolicyVersionPublished"] = "PolicyVersionPublished"
    version: Policy
    published_by: str = Field(min_length=1, max_length=100, description="the policy officer")
    basis: str = Field(
        min_length=1, max_length=1000, description="why: the decree or order it carries out"
    )
