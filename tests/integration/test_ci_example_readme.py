"""example_suites/ci/README.md lists exactly the artifacts release-gate.yml uploads."""

from __future__ import annotations

import re
from pathlib import Path

CI = Path(__file__).resolve().parents[2] / "example_suites" / "ci"


def test_the_readme_lists_every_uploaded_artifact():
    import yaml  # pyyaml is in the test extra

    workflow = yaml.safe_load((CI / "release-gate.yml").read_text())
    (upload,) = [step for job in workflow["jobs"].values() for step in job["steps"]
                 if step.get("uses", "").startswith("actions/upload-artifact")]
    uploaded = set(upload["with"]["path"].split())
    assert uploaded == {"reports/junit.xml", "reports/trust-report.json", "reports/trust-card.html"}
    paragraph = next(p for p in (CI / "README.md").read_text().split("\n\n") if p.startswith("Every run uploads"))
    assert set(re.findall(r"`(reports/[^`]+)`", paragraph)) == uploaded
