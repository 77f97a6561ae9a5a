"""Fill the ``${NAME}`` placeholders of a deploy template (task definition or IAM document).

Placeholders are replaced inside JSON string values only, after parsing, so a value
can never break the document's structure. Every placeholder must get a value and
every value must be well formed, or nothing is written::

    python3 deploy/render_template.py deploy/taskdefs/api.json \\
        --env dev --account-id "$AWS_ACCOUNT_ID" --region eu-west-2 \\
        --image "$REGISTRY/counterpromo-api:$GITHUB_SHA" --output api.json

Standard library only: the deploy workflow runs it with the runner's python3.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TypeAlias

PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")

# What a well-formed value of each placeholder looks like.
VALUE_PATTERNS: dict[str, re.Pattern[str]] = {
    "ENV": re.compile(r"[a-z][a-z0-9-]{0,30}"),
    "ACCOUNT_ID": re.compile(r"\d{12}"),
    "REGION": re.compile(r"[a-z]{2}(-[a-z]+)+-\d"),
    "IMAGE": re.compile(
        r"[a-z0-9.\-]+(:\d+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]{1,128}|@sha256:[0-9a-f]{64})"
    ),
    # The environment's VPC CIDR (the stack publishes it as /counterpromo/{env}/deploy/vpc_cidr).
    "VPC_CIDR": re.compile(r"\d{1,3}(\.\d{1,3}){3}/\d{1,2}"),
}

Json: TypeAlias = bool | int | float | str | list["Json"] | dict[str, "Json"] | None


class TemplateError(ValueError):
    """A template or a value that cannot make a valid document."""


def check_values(values: Mapping[str, str]) -> None:
    for name, value in values.items():
        pattern = VALUE_PATTERNS.get(name)
        if pattern is None:
            raise TemplateError(f"unknown placeholder {name}")
        if not pattern.fullmatch(value):
            raise TemplateError(f"{name}={value!r} is not a valid {name.lower().replace('_', ' ')}")


def placeholders(document: Json) -> set[str]:
    """Every placeholder name used in ``document``."""
    if isinstance(document, str):
        return set(PLACEHOLDER.findall(document))
    if isinstance(document, list):
        return set().union(*(placeholders(item) for item in document))
    if isinstance(document, dict):
        return set().union(*(placeholders(item) for item in document.values()))
    return set()


def _fill(document: Json, values: Mapping[str, str]) -> Json:
    if isinstance(document, str):
        return PLACEHOLDER.sub(lambda match: values[match.group(1)], document)
    if isinstance(document, list):
        return [_fill(item, values) for item in document]
    if isinstance(document, dict):
        return {key: _fill(item, values) for key, item in document.items()}
    return document


def render(document: Json, values: Mapping[str, str]) -> Json:
    """``document`` with every placeholder replaced; TemplateError if one has no value."""
    check_values(values)
    missing = sorted(placeholders(document) - values.keys())
    if missing:
        raise TemplateError(f"no value for {', '.join(missing)}")
    return _fill(document, values)


def load(path: Path) -> Json:
    try:
        document: Json = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TemplateError(f"{path}: {exc}") from None
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", type=Path)
    parser.add_argument("--env", required=True)
    parser.add_argument("--account-id", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--image", help="Image URI (task definitions only).")
    parser.add_argument("--vpc-cidr", help="The env's VPC CIDR (task definitions only).")
    parser.add_argument("--output", type=Path, help="Write here instead of stdout.")
    args = parser.parse_args(argv)
    values = {"ENV": args.env, "ACCOUNT_ID": args.account_id, "REGION": args.region}
    if args.image is not None:
        values["IMAGE"] = args.image
    if args.vpc_cidr is not None:
        values["VPC_CIDR"] = args.vpc_cidr
    try:
        rendered = render(load(args.template), values)
    except TemplateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(rendered, indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
