"""Typer apps whose ``--help`` costs no more than importing typer.

Typer coerces option values through pydantic ``TypeAdapter``s, built on first use. The help
flag of a group that is not asked for help has the value ``None``, which typer coerces, so
``counterpromo db --help`` would import pydantic (and build adapters) just to learn that the
top-level ``--help`` was not given; the same goes for the shell-completion flags. A default
of ``False`` is already a bool and skips that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup, TyperOption

if TYPE_CHECKING:
    from typer._click import Context, Parameter


class LightGroup(TyperGroup):
    """A group whose unused flags (``--help``, the completion flags) are ``False``, never
    ``None``."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        params = super().get_params(ctx)
        for param in params:
            if isinstance(param, TyperOption) and param.is_flag and param.default is None:
                param.default = False
        return params


def command_group(help_text: str) -> typer.Typer:
    """A sub-command group: plain click help (rich's help renderer costs more than
    ``import typer``), help when called without a command."""
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None, cls=LightGroup)
