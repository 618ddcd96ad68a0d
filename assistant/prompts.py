"""Prompt templates as files in `prompts/`, with named `$variables`, loaded and checked.

    >>> load_prompt("intent_user").render(message="red lipstick", context="", grounding="")

A template names its variables with `$name` or `${name}` (`$$` is a literal dollar sign, so JSON
braces need no escaping). Rendering with a variable missing raises PromptError
"Missing variables: one, two"; passing a variable the template does not use is also an error, so a
renamed placeholder cannot silently drop text.
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


class PromptError(ValueError):
    """A template is missing, or was rendered with missing / unexpected variables."""


@dataclass(frozen=True)
class Prompt:
    name: str
    text: str

    @property
    def variables(self) -> tuple[str, ...]:
        """Variable names in order of first appearance."""
        seen: list[str] = []
        for match in string.Template.pattern.finditer(self.text):
            if match.group("invalid") is not None:
                line = self.text[: match.start()].count("\n") + 1
                raise PromptError(f"Prompt {self.name!r} has an invalid '$' on line {line}; write $$ for a dollar sign")
            name = match.group("named") or match.group("braced")
            if name and name not in seen:
                seen.append(name)
        return tuple(seen)

    def render(self, **values: object) -> str:
        expected = self.variables
        missing = [v for v in expected if v not in values]
        if missing:
            raise PromptError(f"Prompt {self.name!r}: Missing variables: {', '.join(missing)}")
        unexpected = sorted(set(values) - set(expected))
        if unexpected:
            raise PromptError(f"Prompt {self.name!r}: Unexpected variables: {', '.join(unexpected)} "
                              f"(it uses: {', '.join(expected) or 'none'})")
        return string.Template(self.text).substitute({k: str(v) for k, v in values.items()})


@lru_cache(maxsize=None)
def _load(path: Path) -> Prompt:
    return Prompt(name=path.stem, text=path.read_text(encoding="utf-8"))


def load_prompt(name: str, directory: Path | None = None) -> Prompt:
    """Load `prompts/<name>.txt`; PromptError lists the templates that exist when it is not found."""
    directory = Path(directory) if directory is not None else PROMPTS_DIR
    path = directory / f"{name}.txt"
    if not path.is_file():
        available = sorted(p.stem for p in directory.glob("*.txt"))
        raise PromptError(f"Expected a prompt template named one of {', '.join(available) or '(none)'}; "
                          f"got {name!r} (no file {path})")
    prompt = _load(path)
    prompt.variables  # validate the '$' syntax once, at load
    return prompt


def render(name: str, **values: object) -> str:
    return load_prompt(name).render(**values)
