"""The stateful resources: RDS PostgreSQL and its secret, the buckets, the job queues.

Every one of them is retained when the stack (or the resource) is deleted, so a stack
deletion or a replacement never deletes data, and the existing DEV resources can be
imported into the stack (see the README).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from counterpromo_infra.names import DATABASE_SECRET, Names
from counterpromo_infra.network import POSTGRES_PORT, Network
from counterpromo_infra.settings import EnvSettings

BUCKET_KINDS = ("uploads", "assets", "exports")
# Uploads are parsed within minutes and exports re-made on demand: keep neither long.
EXPIRE_DAYS = {"uploads": 30, "exports": 30}
NONCURRENT_DAYS = 7
ABORT_MULTIPART_DAYS = 1
# The worker's longest job is well under this; a message that is not deleted in time
# becomes visible again for another worker.
VISIBILITY_TIMEOUT = Duration.seconds(60)
MAX_RECEIVE_COUNT = 5
RETAIN = RemovalPolicy.RETAIN


class Database(Construct):
    """The private, encrypted PostgreSQL instance and its RDS-style JSON secret."""

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: EnvSettings, network: Network
    ) -> None:
        super().__init__(scope, construct_id)
        names = Names(settings.env, settings.account)
        self.secret = rds.DatabaseSecret(
            self,
            "Secret",
            username="counterpromo",
            secret_name=names.path(DATABASE_SECRET),
        )
        self.secret.apply_removal_policy(RETAIN)
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            instance_identifier=names.database,
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16_13),
            instance_type=ec2.InstanceType.of(
                ec2.InstanceClass.T4G,
                ec2.InstanceSize.SMALL if settings.is_prod else ec2.InstanceSize.MICRO,
            ),
            vpc=network.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[network.groups.database],
            port=POSTGRES_PORT,
            credentials=rds.Credentials.from_secret(self.secret),
            database_name="counterpromo",
            publicly_accessible=False,
            storage_encrypted=True,
            allocated_storage=20,
            max_allocated_storage=100,
            multi_az=settings.is_prod,
            backup_retention=Duration.days(14 if settings.is_prod else 7),
            deletion_protection=settings.is_prod,
            auto_minor_version_upgrade=True,
            iam_authentication=True,
            enable_performance_insights=settings.is_prod,
            cloudwatch_logs_exports=["postgresql"],
            removal_policy=RETAIN,
        )


class Buckets(Construct):
    """Uploads, assets and exports: private, versioned, encrypted, TLS only, lifecycled."""

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: EnvSettings, cors_origin: str
    ) -> None:
        super().__init__(scope, construct_id)
        names = Names(settings.env, settings.account)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            bucket_name=names.bucket("access-logs"),
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=Duration.days(90),
                    abort_incomplete_multipart_upload_after=Duration.days(ABORT_MULTIPART_DAYS),
                )
            ],
            removal_policy=RETAIN,
        )
        self.buckets = {kind: self._bucket(names, kind, cors_origin) for kind in BUCKET_KINDS}

    def _bucket(self, names: Names, kind: str, cors_origin: str) -> s3.Bucket:
        rules = [
            s3.LifecycleRule(
                id="expire-noncurrent-versions",
                noncurrent_version_expiration=Duration.days(NONCURRENT_DAYS),
                abort_incomplete_multipart_upload_after=Duration.days(ABORT_MULTIPART_DAYS),
            )
        ]
        if kind in EXPIRE_DAYS:
            rules.append(
                s3.LifecycleRule(id=f"expire-{kind}", expiration=Duration.days(EXPIRE_DAYS[kind]))
            )
        # Browsers post uploads straight to S3 (presigned POST) from the app's own origin.
        cors = (
            [
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
                    allowed_origins=[cors_origin],
                    allowed_headers=["*"],
                    exposed_headers=["ETag"],
                    max_age=3000,
                )
            ]
            if kind == "uploads"
            else None
        )
        return s3.Bucket(
            self,
            kind.title(),
            bucket_name=names.bucket(kind),
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            versioned=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            lifecycle_rules=rules,
            cors=cors,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{kind}/",
            removal_policy=RETAIN,
        )


class JobQueues(Construct):
    """A jobs queue and its dead-letter queue, for one environment name."""

    def __init__(self, scope: Construct, construct_id: str, *, names: Names, env: str) -> None:
        super().__init__(scope, construct_id)
        self.dlq = sqs.Queue(
            self,
            "DeadLetters",
            queue_name=names.dlq(env),
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=RETAIN,
        )
        self.queue = sqs.Queue(
            self,
            "Jobs",
            queue_name=names.queue(env),
            visibility_timeout=VISIBILITY_TIMEOUT,
            receive_message_wait_time=Duration.seconds(20),
            retention_period=Duration.days(4),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dlq, max_receive_count=MAX_RECEIVE_COUNT
            ),
            removal_policy=RETAIN,
        )
