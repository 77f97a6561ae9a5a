"""``counterpromo-infra synth --env dev``: write the environment's CloudFormation template.
``counterpromo-infra import-map --env dev``: the ``--resources-to-import`` JSON that adopts
the existing environment's stateful resources (README, "Adopting the DEV that exists")."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from counterpromo_infra.import_map import Target, resources_to_import, unnamed
from counterpromo_infra.settings import DEFAULT_REGION, DEV_ACCOUNT, EnvSettings


def _bool(value: str) -> bool:
    if value.lower() in {"true", "1", "yes"}:
        return True
    if value.lower() in {"false", "0", "no"}:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="counterpromo-infra", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    synth = sub.add_parser("synth", help="synthesize one environment's template (offline)")
    synth.add_argument("--env", required=True, choices=["dev", "prod"])
    synth.add_argument("--account", default=None, help="12-digit account (dev: the seed's)")
    synth.add_argument("--region", default=DEFAULT_REGION)
    synth.add_argument("--certificate-arn", default=None)
    synth.add_argument("--domain", default="")
    synth.add_argument(
        "--services-running",
        type=_bool,
        default=True,
        help="false holds both services at 0 tasks (first deploy, before images exist)",
    )
    synth.add_argument(
        "--source-account", default=DEV_ACCOUNT, help="prod: the account of DEV's images"
    )
    synth.add_argument(
        "--promote-account", default=DEV_ACCOUNT, help="dev: the account PROD runs in"
    )
    synth.add_argument("--out", type=Path, default=Path("cdk.out"))
    adopt = sub.add_parser(
        "import-map", help="the --resources-to-import JSON for the stateful resources"
    )
    adopt.add_argument("--env", required=True, choices=["dev", "prod"])
    adopt.add_argument("--account", default=None, help="12-digit account (dev: the seed's)")
    adopt.add_argument("--region", default=DEFAULT_REGION)
    adopt.add_argument(
        "--template", type=Path, default=None, help="a synthesized template (else synthesize)"
    )
    adopt.add_argument(
        "--secret-arn",
        action="append",
        default=[],
        metavar="NAME=ARN",
        help="the ARN of an existing secret (repeat for each)",
    )
    adopt.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="NAME",
        help="a resource (by name) that does not exist yet: created, not imported (repeat)",
    )
    return p


def _secret_arns(pairs: list[str]) -> dict[str, str]:
    arns: dict[str, str] = {}
    for pair in pairs:
        name, sep, arn = pair.partition("=")
        if not sep or not arn.startswith("arn:aws:secretsmanager:"):
            raise ValueError(f"--secret-arn wants NAME=arn:aws:secretsmanager:..., got {pair!r}")
        arns[name] = arn
    return arns


def _template(settings: EnvSettings, given: Path | None) -> dict[str, Any]:
    if given is None:
        from counterpromo_infra.app import synth  # noqa: PLC0415 - jsii starts Node.js

        with tempfile.TemporaryDirectory() as out:
            given = synth(settings, Path(out))
            loaded: dict[str, Any] = json.loads(given.read_text())
            return loaded
    try:
        loaded = json.loads(given.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read the template {given}: {error}") from error
    return loaded


def _import_map(args: argparse.Namespace, account: str) -> int:
    try:
        settings = EnvSettings(
            env=args.env, account=account, region=args.region, services_running=False
        )
        target = Target(account, args.region, _secret_arns(args.secret_arn))
        template = _template(settings, args.template)
        mapping = resources_to_import(template, target, exclude=frozenset(args.exclude))
    except ValueError as error:
        print(f"counterpromo-infra: {error}", file=sys.stderr)
        return 2
    for created in unnamed(template):
        print(
            f"counterpromo-infra: not mapped (no fixed name, created new): {created}",
            file=sys.stderr,
        )
    print(json.dumps(mapping, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    account = args.account or (DEV_ACCOUNT if args.env == "dev" else None)
    if account is None:
        print("counterpromo-infra: --account is required for prod", file=sys.stderr)
        return 2
    if args.command == "import-map":
        return _import_map(args, account)
    try:
        settings = EnvSettings(
            env=args.env,
            account=account,
            region=args.region,
            domain=args.domain,
            certificate_arn=args.certificate_arn,
            services_running=args.services_running,
            source_account=args.source_account,
            promote_account=args.promote_account,
        )
    except ValueError as error:
        print(f"counterpromo-infra: {error}", file=sys.stderr)
        return 2
    from counterpromo_infra.app import synth  # noqa: PLC0415 - jsii starts Node.js on import

    template = synth(settings, args.out)
    print(template)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
