"""`kosh policy diff`: a draft file (YAML or JSON) checked and compared with a version in
force, refused with exit 2 naming each figure and rule; nothing needs a server."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import flat, run

YAML_DRAFT = """\
id: "2027.1"
effective_from: 2027-03-01
note: West Kazakhstan's quota doubled; the questionnaire's minimum raised
base: "2026.1"
changes:
  kandas_quota.2027.West Kazakhstan:
    value: 60
    provenance: {kind: illustrative, reason: "a draft for the regions' consultation"}
  questionnaire.min_points:
    value: 450
    provenance: {kind: illustrative, reason: "a draft for the regions' consultation"}
"""


def test_a_yaml_draft_lists_each_changed_figure_with_both_values(tmp_path: Path) -> None:
    path = tmp_path / "wk.yaml"
    path.write_text(YAML_DRAFT)
    result = run("policy", "diff", str(path))
    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert "against 2026.1: 2 figures change" in text
    assert "questionnaire.min_points 400 450 ILLUSTRATIVE" in text


def test_the_json_diff_is_machine_readable(tmp_path: Path) -> None:
    path = tmp_path / "wk.yaml"
    path.write_text(YAML_DRAFT)
    result = run("policy", "diff", str(path), "--against", "2026.1", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert (record["draft"], record["against"]) == ("2027.1", "2026.1")
    assert {(c["figure"], c["before"], c["after"]) for c in record["changes"]} == {
        ("questionnaire.min_points", 400, 450),
        ("kandas_quota.2027.West Kazakhstan", 30, 60),
    }


def test_a_bad_draft_is_refused_naming_every_figure_and_rule(tmp_path: Path) -> None:
    changes = {
        "questionnaire.min_points": -5,
        "kandas_quota.2027.Almaty": 10,
        "contract.clawback": "half",
    }
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "id": "2027.2",
                "effective_from": "2027-03-01",
                "note": "bad",
                "changes": {
                    k: {"value": v, "provenance": {"kind": "illustrative", "reason": "x"}}
                    for k, v in changes.items()
                },
            }
        )
    )
    result = run("policy", "diff", str(path))
    assert result.exit_code == 2
    text = flat(result.stderr)
    assert "changes.questionnaire.min_points: must be 0 or more" in text
    assert "changes.kandas_quota.2027.Almaty: no figure of version 2026.1" in text
    assert "changes.contract.clawback: Input should be 'full' or 'pro_rata'" in text


def test_a_file_that_is_not_yaml_or_json_is_refused_with_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "2027.1",\n "note": }')
    result = run("policy", "diff", str(broken))
    assert result.exit_code == 2
    assert "is not JSON: line 2" in flat(result.stderr)
    missing = run("policy", "diff", str(tmp_path / "none.yaml"))
    assert missing.exit_code == 2 and "cannot read the draft" in flat(missing.stderr)
