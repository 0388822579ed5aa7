"""The design documents live in the repository and stay linked and complete (issue 21 item 1;
docs/decisions/0044): README and CONTRIBUTING link docs/architecture.md, docs/api.md and
docs/style.md; the three files exist; nothing outside bench/ points to ../shared for how the
product works; docs/architecture.md has a section for every app of ours in INSTALLED_APPS and
indexes every decision record in docs/decisions/.

Each check is a function over a directory or a text, tried here on the repository and on a
small bad sample, so that a check which could no longer fail would be seen."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from qms import settings as product_settings

ROOT = Path(__file__).resolve().parent.parent
DESIGN_DOCUMENTS = ("docs/architecture.md", "docs/api.md", "docs/style.md")

# Directories that are not the project's own text: tools, caches, local data, generated artefacts.
SKIPPED_DIRS = {
    ".git",
    ".venv",
    "venv",
    "var",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
}
SKIPPED_PATHS = ("tests/e2e/artifacts/",)
# bench/ runs the peer benchmark from ../shared/peers (a machine path to a program, not a design
# document; bench/run.sh says so), so it is not searched.
EXEMPT_PREFIXES = ("bench/",)
# The shared folder may be named as the place where new guidance arrives, without a path into
# it, only where the rule of folding it into docs/ is written down.
MAY_NAME_THE_INBOX = {
    "CONTRIBUTING.md",
    "docs/decisions/0044-design-documents-in-the-repository.md",
}

SHARED_PATH = re.compile(r"(?:\.\./|/work/)shared\b(/(?:[\w./-]*[\w/-])?)?")
# The shared design files' names (ours are lower case, under docs/).
SHARED_NAMES = re.compile(r"\b(?:ARCHITECTURE|API|STYLE|SERVICES)\.md\b")


def markdown_links(text: str) -> set[str]:
    return set(re.findall(r"\]\(([^)\s]+)\)", text))


def missing_design_links(text: str) -> list[str]:
    links = markdown_links(text)
    return [doc for doc in DESIGN_DOCUMENTS if doc not in links]


def project_text_files(root: Path):
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if not path.is_file() or SKIPPED_DIRS & set(path.relative_to(root).parts[:-1]):
            continue
        if relative.startswith(SKIPPED_PATHS) or relative.startswith(EXEMPT_PREFIXES):
            continue
        if path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # images, fonts, databases
        yield relative, text


def shared_design_references(root: Path, *, skip: frozenset[str] = frozenset()) -> list[str]:
    """Lines outside bench/ that point to ../shared (or the shared design files) for design.
    Allowed: the peer benchmark's machine path (../shared/peers/...), and the bare folder name
    where CONTRIBUTING and decision 0044 say that new guidance arriving there is folded into docs/."""
    found = []
    for relative, text in project_text_files(root):
        if relative in skip:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            bad = [m.group(0) for m in SHARED_NAMES.finditer(line)]
            for match in SHARED_PATH.finditer(line):
                rest = match.group(1) or ""
                if rest.startswith("/peers/") or rest == "/peers":
                    continue
                if rest in ("", "/") and relative in MAY_NAME_THE_INBOX:
                    continue
                bad.append(match.group(0))
            if bad:
                found.append(f"{relative}:{number}: {', '.join(bad)}")
    return found


def our_apps(installed_apps) -> list[str]:
    """The apps of INSTALLED_APPS whose code is in this repository (not an installed library)."""
    ours = []
    for name in installed_apps:
        spec = importlib.util.find_spec(name.split(".")[0])
        origin = Path(spec.origin or "").resolve() if spec else None
        if origin and ROOT in origin.parents and "site-packages" not in origin.parts:
            ours.append(name)
    return ours


def section(text: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    return match.group(1) if match else ""


def apps_without_section(architecture: str, apps) -> list[str]:
    described = set(
        re.findall(
            r"^- \*\*(\w+)\*\*", section(architecture, "The apps and their layers"), flags=re.M
        )
    )
    return [app for app in apps if app not in described]


def decision_index_problems(architecture: str, decisions_dir: Path) -> list[str]:
    index = section(architecture, "Decision records (docs/decisions/)")
    linked = {
        link.removeprefix("decisions/")
        for link in markdown_links(index)
        if link.startswith("decisions/")
    }
    files = {path.name for path in decisions_dir.glob("*.md")}
    problems = [f"not in the index: docs/decisions/{name}" for name in sorted(files - linked)]
    problems += [
        f"in the index but no such file: docs/decisions/{name}" for name in sorted(linked - files)
    ]
    return problems


THIS_FILE = frozenset({Path(__file__).resolve().relative_to(ROOT).as_posix()})


# --- the repository --------------------------------------------------------------------------


def test_the_three_design_documents_are_in_docs():
    for doc in DESIGN_DOCUMENTS:
        path = ROOT / doc
        assert path.is_file(), f"{doc} is missing"
        assert path.read_text(encoding="utf-8").startswith("# "), f"{doc} has no title"


def test_readme_and_contributing_link_the_design_documents():
    for name in ("README.md", "CONTRIBUTING.md"):
        missing = missing_design_links((ROOT / name).read_text(encoding="utf-8"))
        assert not missing, f"{name} does not link {', '.join(missing)}"


def test_contributing_says_to_keep_the_documents_current_and_fold_in_new_guidance():
    text = " ".join((ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8").split())
    assert "in the same commit" in text
    assert "New guidance in `../shared/`" in text and "is folded into docs/" in text


def test_nothing_outside_bench_points_to_the_shared_folder_for_design():
    found = shared_design_references(ROOT, skip=THIS_FILE)
    assert not found, "point these at docs/ (architecture.md, api.md, style.md):\n" + "\n".join(
        found
    )


def test_architecture_describes_every_app_of_ours():
    apps = our_apps(product_settings.INSTALLED_APPS)
    # Not vacuous: the kernel and the apps at both ends of the layers are found.
    assert {"qms", "complaints", "service_quality"} <= set(apps), apps
    missing = apps_without_section(
        (ROOT / "docs/architecture.md").read_text(encoding="utf-8"), apps
    )
    assert not missing, (
        f"docs/architecture.md 'The apps and their layers' has no '- **app**' entry for {missing}"
    )


def test_architecture_indexes_every_decision_record():
    problems = decision_index_problems(
        (ROOT / "docs/architecture.md").read_text(encoding="utf-8"), ROOT / "docs/decisions"
    )
    assert not problems, "\n".join(problems)


# --- the checks themselves fail on bad input --------------------------------------------------


def test_a_lost_link_is_found():
    assert missing_design_links("See [docs/api.md](docs/api.md) and docs/style.md.") == [
        "docs/architecture.md",
        "docs/style.md",
    ]


def test_references_to_the_shared_folder_are_found_and_the_peer_benchmark_is_not(tmp_path):
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "run.sh").write_text(
        'PEER_DIR="../shared/peers/helpdesk"\n# see ../shared/STYLE.md\n'
    )
    (tmp_path / "qms").mkdir()
    (tmp_path / "qms" / "models.py").write_text(
        '"""History (ARCHITECTURE.md rule 2)."""\n# docs/architecture.md rule 2\n'
    )
    (tmp_path / "README.md").write_text(
        "Read ../shared/API.md.\nThe peer in `../shared/peers/helpdesk/`.\n"
    )
    (tmp_path / "CONTRIBUTING.md").write_text(
        "New guidance in `../shared/` is folded into docs/.\nSee ../shared/hooks.\n"
    )
    (tmp_path / "notes.txt").write_text("kept in /work/shared\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "x.md").write_text("../shared/API.md\n")
    assert shared_design_references(tmp_path) == [
        "CONTRIBUTING.md:2: ../shared/hooks",
        "README.md:1: API.md, ../shared/API.md",
        "notes.txt:1: /work/shared",
        "qms/models.py:1: ARCHITECTURE.md",
    ]


def test_an_app_without_a_section_and_an_unindexed_record_are_found(tmp_path):
    architecture = (
        "# A\n\n## The apps and their layers\n\n- **qms** (kernel)\n- **complaints**: intake\n\n"
        "## Decision records (docs/decisions/)\n\n| [0001](decisions/0001-a.md) | A |\n| [0009](decisions/0009-gone.md) | B |\n"
    )
    assert apps_without_section(architecture, ["qms", "complaints", "capa"]) == ["capa"]
    (tmp_path / "0001-a.md").write_text("# 1\n")
    (tmp_path / "0002-b.md").write_text("# 2\n")
    assert decision_index_problems(architecture, tmp_path) == [
        "not in the index: docs/decisions/0002-b.md",
        "in the index but no such file: docs/decisions/0009-gone.md",
    ]


def test_only_our_apps_count_as_ours():
    assert our_apps(
        ["django.contrib.admin", "rest_framework", "whitenoise.runserver_nostatic", "qms", "capa"]
    ) == [
        "qms",
        "capa",
    ]
