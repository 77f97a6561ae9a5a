"""Build the CDK app of one environment and synthesize it (offline)."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, Aspects
from cdk_nag import AwsSolutionsChecks

from counterpromo_infra.checkov_skips import skip_justified_checks
from counterpromo_infra.nag import suppress_justified_findings
from counterpromo_infra.settings import EnvSettings
from counterpromo_infra.stack import CounterPromoStack

# Fixed context: no lookups, no asset metadata; S3 server access logs granted by bucket
# policy (not the legacy LogDeliveryWrite ACL).
CONTEXT = {
    "aws:cdk:enable-path-metadata": False,
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


# Fixed context: no lookups, no asset metadata; S3 server access logs granted by bucket
# policy (not the legacy LogDeliveryWrite ACL).
CONTEXT = {
    "aws:cdk:enable-path-metadata": False,
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


def build(
    settings: EnvSettings, *, outdir: Path | None = None, nag: bool = True
) -> CounterPromoStack:
    """The app holding the environment's stack, with the cdk-nag AwsSolutions pack applied."""
    app = App(outdir=str(outdir) if outdir else None, context=CONTEXT)
    stack = CounterPromoStack(app, settings=settings)
    skip_justified_checks(stack, is_prod=settings.is_prod)
    if nag:
        suppress_justified_findings(stack)
        Aspects.of(app).add(AwsSolutionsChecks(reports=True, verbose=True))
    return stack


def synth(settings: EnvSettings, outdir: Path) -> Path:
    """Write the CloudFormation template (and cdk-nag's report); return the template's path."""
    stack = build(settings, outdir=outdir)
    assembly = stack.node.root.synth()  # type: ignore[attr-defined]
    return Path(assembly.get_stack_by_name(stack.stack_name).template_full_path)
