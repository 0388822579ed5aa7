"""The home page "My work" is made of sections that each app contributes with a
`my_work(user) -> list[WorkSection]` function in its selectors module."""

from dataclasses import dataclass, field

from django.utils.module_loading import import_string

PROVIDERS = (
    "complaints.selectors.my_work",
    "capa.selectors.my_work",
    "documents.selectors.my_work",
    "training.selectors.my_work",
    "metrics.selectors.my_work",
    "service_quality.selectors.my_work",
)


@dataclass
class WorkSection:
    title: str
    template: str  # renders `section.items` as rows
    items: list = field(default_factory=list)
    empty_text: str = "Nothing here."
    more_url: str = ""
    count: int | None = None


def sections_for(user) -> list[WorkSection]:
    sections: list[WorkSection] = []
    for dotted in PROVIDERS:
        try:
            provider = import_string(dotted)
        except ImportError:
            continue  # the app has not contributed a section yet
        sections.extend(provider(user))
    return sections
