"""No import circles in the product (issue 21): no module of ours imports, directly or through
others, a module that imports it back, counting the imports inside functions too. The rule that
keeps it so is in qms/workflow.py: a workflow names its side effects as hooks and the services
register them; a service names the Celery task it queues by its dotted path; and a lower layer
reads the kernel's registries (qms/extensions.py) instead of importing an upper app.

The check is a function over an import graph, tried here on the product and on a small bad
graph, so that a check which could no longer fail would be seen. Tests and migrations are left
out (migrations name models by string and tests import everything)."""

from __future__ import annotations

import grimp
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from qms.workflow import WORKFLOWS, Action, Workflow

PACKAGES = ("qms", "complaints", "capa", "documents", "training", "metrics", "service_quality", "bench")


def import_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False, cache_dir=None)
    ours = {m for m in graph.modules if ".migrations" not in m}
    return {m: {i for i in graph.find_modules_directly_imported_by(m) if i in ours} for m in ours}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_check_finds_a_circle():
    bad = {"a.workflow": {"a.services"}, "a.services": {"a.models", "a.workflow"}, "a.models": set(), "b": {"a.models"}}
    assert circles(bad) == [["a.services", "a.workflow"]]
    assert circles({"x": {"y"}, "y": {"z"}, "z": {"x"}, "w": {"x"}}) == [["x", "y", "z"]]
    assert circles({"x": {"y"}, "y": set()}) == []


def test_no_module_of_the_product_is_in_an_import_circle():
    assert circles(import_graph()) == []


def test_every_hook_a_workflow_names_is_registered():
    # The apps' AppConfig.ready imported their services, which registered the hooks.
    missing = {f"{w.states.__module__}.{w.states.__name__}": sorted(w.missing_hooks()) for w in WORKFLOWS if w.missing_hooks()}
    assert missing == {}
    assert len(WORKFLOWS) >= 12


class _State(models.TextChoices):
    A = "a", "A"
    B = "b", "B"


def test_a_hook_must_be_named_by_the_workflow_and_registered_once():
    workflow = Workflow(states=_State, actions=[Action("go", sources=["a"], target="b", roles={"x"}, apply="go")])
    try:
        with pytest.raises(ImproperlyConfigured, match="'go' is not registered"):
            workflow.resolve("go")
        with pytest.raises(ValueError, match="names the hook 'other'"):
            workflow.hook("other")(lambda ctx: None)

        def go(ctx):
            return None

        workflow.hook("go")(go)
        assert workflow.resolve("go") is go and workflow.missing_hooks() == set()
        with pytest.raises(ValueError, match="registered twice"):
            workflow.hook("go")(lambda ctx: None)
    finally:
        WORKFLOWS.remove(workflow)


# Template tag libraries by the app that defines them, and the apps below each (docs/architecture.md
# "The apps and their layers"): a page of a lower app shows an upper app's marks through the
# kernel's {% record_badges %} (qms/extensions.py), never by loading its library.
TAG_LIBRARIES_ABOVE = {"training_tags": ("complaints", "documents")}


def templates_loading(library: str, apps, root) -> list[str]:
    found = []
    for app in apps:
        for path in sorted((root / app / "templates").rglob("*.html")):
            for line in path.read_text().splitlines():
                if "{% load" in line and library in line.split("%}")[0].split():
                    found.append(str(path.relative_to(root)))
    return found


def test_lower_apps_load_no_template_library_of_an_upper_app(tmp_path):
    from pathlib import Path

    bad = tmp_path / "complaints" / "templates" / "complaints"
    bad.mkdir(parents=True)
    (bad / "x.html").write_text("{% load qms_tags training_tags %}")
    assert templates_loading("training_tags", ["complaints"], tmp_path) == ["complaints/templates/complaints/x.html"]
    root = Path(__file__).resolve().parents[2]
    for library, apps in TAG_LIBRARIES_ABOVE.items():
        assert templates_loading(library, apps, root) == []
