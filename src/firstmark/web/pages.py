"""The few HTML pages the redirect path shows: not found, gone, and the password form."""

from __future__ import annotations

from importlib import resources

import jinja2


def _load(name: str) -> str:
    return resources.files("firstmark.templates").joinpath(name).read_text()


class Pages:
    def __init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FunctionLoader(_load), autoescape=True, auto_reload=False
        )

    def render(self, name: str, **context: object) -> bytes:
        return self.env.get_template(name).render(**context).encode()
