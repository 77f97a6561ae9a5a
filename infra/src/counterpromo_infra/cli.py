"""``counterpromo-infra synth --env dev``: write the environment's CloudFormation template."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    account = args.account or (DEV_ACCOUNT if args.env == "dev" else None)
    if account is None:
        print("counterpromo-infra: --account is required for prod", file=sys.stderr)
        return 2
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
