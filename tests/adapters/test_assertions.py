"""Staff assertions on their own: signed, verified, refused for every reason a forger or a
replayer could give, key files read and rotated like the payload keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.assertions import (
    AssertionKeyError,
    Issuer,
    SigningKeys,
    UnauthenticatedError,
    Verifier,
    VerifyKeys,
)
from adapters.ports import peek_assertion

NOW = 1_800_000_000.0
STAFF = SigningKeys.generate("staff", "s1")
FEEDS = SigningKeys.generate("feed", "f1")


def issuer(keys: SigningKeys = STAFF, at: float = NOW) -> Issuer:
    return Issuer(keys, clock=lambda: at)


def verifier(*keys: SigningKeys, at: float = NOW) -> Verifier:
    public = VerifyKeys().merged(*(k.public() for k in keys or (STAFF, FEEDS)))
    return Verifier(public, clock=lambda: at)


def token(**over: str) -> str:
    fields = {"staff_id": "staff-7", "workflow_id": "case-c-1", "request_id": "r-1"} | over
    return issuer().issue(**fields)


def test_an_assertion_names_the_member_the_workflow_and_the_request() -> None:
    proved = verifier().verify(token(), workflow_id="case-c-1", request_id="r-1")
    assert (proved.staff_id, proved.scope) == ("staff-7", "staff")
    claims = peek_assertion(token())
    assert claims is not None and (claims.exp - claims.iat) == 300


@pytest.mark.parametrize(
    ("sent", "workflow", "request_id", "why"),
    [
        (token(), "case-c-2", "r-1", "issued for case-c-1"),
        (token(), "case-c-1", "r-2", "issued for request 'r-1', not 'r-2'"),
        (token()[:-4] + "AAAA", "case-c-1", "r-1", "signature does not verify"),
        ("ka1.not-json.sig", "case-c-1", "r-1", "not one kosh issues"),
        ("a bearer token", "case-c-1", "r-1", "not one kosh issues"),
        (
            Issuer(SigningKeys.generate("staff", "other")).issue(
                staff_id="staff-7", workflow_id="case-c-1", request_id="r-1"
            ),
            "case-c-1",
            "r-1",
            "unknown key 'other'",
        ),
    ],
)
def test_what_does_not_prove_the_sender_is_refused_saying_why(
    sent: str, workflow: str, request_id: str, why: str
) -> None:
    with pytest.raises(UnauthenticatedError, match=why):
        verifier().verify(sent, workflow_id=workflow, request_id=request_id)


def test_an_assertion_expires_and_one_from_the_future_is_refused() -> None:
    sent = token()
    verifier(at=NOW + 300 + 29).verify(sent, workflow_id="case-c-1", request_id="r-1")
    with pytest.raises(UnauthenticatedError, match="expired"):
        verifier(at=NOW + 300 + 31).verify(sent, workflow_id="case-c-1", request_id="r-1")
    with pytest.raises(UnauthenticatedError, match="in the future"):
        verifier(at=NOW - 120).verify(sent, workflow_id="case-c-1", request_id="r-1")


def test_the_claims_cannot_be_changed_under_the_signature() -> None:
    prefix, _, signature = token().split(".")
    other = issuer().issue(staff_id="staff-1", workflow_id="case-c-1", request_id="r-1")
    swapped = f"{prefix}.{other.split('.')[1]}.{signature}"
    with pytest.raises(UnauthenticatedError, match="signature does not verify"):
        verifier().verify(swapped, workflow_id="case-c-1", request_id="r-1")


def test_a_feed_key_says_it_is_a_feeds() -> None:
    sent = issuer(FEEDS).issue(staff_id="feed.treasury", workflow_id="case-c-1", request_id="t")
    assert verifier().verify(sent, workflow_id="case-c-1", request_id="t").scope == "feed"


def test_rotation_signs_with_the_new_key_and_the_old_still_verify(tmp_path: Path) -> None:
    path = tmp_path / "staff.json"
    STAFF.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    rotated = SigningKeys.load(path).with_new_active("s2")
    old = token()
    new = Issuer(rotated, clock=lambda: NOW).issue(
        staff_id="staff-7", workflow_id="case-c-1", request_id="r-1"
    )
    assert peek_assertion(new).kid == "s2"  # type: ignore[union-attr]
    check = Verifier(rotated.public(), clock=lambda: NOW)
    for sent in (old, new):
        assert check.verify(sent, workflow_id="case-c-1", request_id="r-1").staff_id == "staff-7"
    with pytest.raises(AssertionKeyError, match="already"):
        rotated.with_new_active("s2")
    public = VerifyKeys.from_json(rotated.public().to_json(), source="p")
    assert set(public.keys) == {"s1", "s2"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{}", "expected"),
        (json.dumps({"scope": "root", "active": "a", "keys": {"a": "AA=="}}), "scope"),
        (json.dumps({"scope": "staff", "active": "b", "keys": {}}), "active key 'b'"),
    ],
)
def test_a_bad_key_file_is_refused_naming_it(text: str, says: str) -> None:
    with pytest.raises(AssertionKeyError, match=says) as refused:
        SigningKeys.from_json(text, source="keys.json")
    assert str(refused.value).startswith("keys.json: ")


def test_a_key_id_in_two_files_is_refused() -> None:
    twin = SigningKeys.generate("feed", "s1")
    with pytest.raises(AssertionKeyError, match="two key files"):
        STAFF.public().merged(twin.public())
