"""The project carries its own copies of the contracts (docs/KPI.md, docs/DATA.md) and samples."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.mark.parametrize("name", ["KPI.md", "DATA.md"])
def test_contract_copies_equal_the_shared_spec(name):
    shared = SHARED / "spec" / name
    if not shared.is_file():
        pytest.skip("no ../shared beside this clone: nothing to compare with")
    assert (ROOT / "docs" / name).read_text(encoding="utf-8") == shared.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "name", ["lapor_export_2026-01-15.xlsx", "lapor_export_2026-01-16.xlsx", "open311_chicago.json"]
)
def test_samples_ship_with_the_project(name):
    assert (ROOT / "tests" / "data" / name).is_file()


def test_no_link_or_test_path_points_outside_the_repository():
    offenders = []
    for path in [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("tests/**/*.py")]:
        if path.name in {"KPI.md", "DATA.md", "test_docs_contracts.py"}:
            continue
        text = path.read_text(encoding="utf-8")
        if "../shared" in text or '"shared" / "samples"' in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
