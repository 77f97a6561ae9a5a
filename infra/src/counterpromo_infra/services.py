"""ECR repositories, the log group, the cluster, the ALB and the api and worker services.

The task definitions here are the first revision of each family; ``deploy/release.sh``
registers later revisions of the same families (with the commit's images) from the
stack's published names (``/counterpromo/{env}/deploy/*``).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnParameter, Duration, RemovalPolicy
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from counterpromo_infra.configuration import Configuration
from counterpromo_infra.data import Buckets, Database, JobQueues
from counterpromo_infra.names import Names
from counterpromo_infra.network import API_PORT, WEB_PORT, Network
from counterpromo_infra.settings import EnvSettings, Scaling

# uvicorn's graceful shutdown is 25 s, the worker's SIGTERM grace 25 s: 5 s of margin each.
STOP_TIMEOUT = Duration.seconds(30)
USER = "10001:10001"
API_PATHS = ("/api/*", "/webhooks/*")
REQUESTS_PER_TARGET = 200
BACKLOG_PER_TASK = 20
# Fargate sizes (as deploy/taskdefs): the worker renders PDFs and needs more.
SIZES = {"api": (512, 1024), "worker": (1024, 2048)}
# On the task's writable /tmp volume (the root filesystem is read-only).
LIVENESS_FILE = "/tmp/counterpromo-worker.alive"  # noqa: S108


@dataclass(frozen=True)
class ServiceInputs:
    settings: EnvSettings
    network: Network
    database: Database
    buckets: Buckets
    queues: JobQueues
    configuration: Configuration


class Services(Construct):
    """Everything that runs the application's containers, and the ALB in front of them."""

    def __init__(self, scope: Construct, construct_id: str, *, inputs: ServiceInputs) -> None:
        super().__init__(scope, construct_id)
        settings = inputs.settings
        self.names = names = Names(settings.env, settings.account)
        self.inputs = inputs
        self.repositories = {
            service: ecr.Repository(
                self,
                f"{service.title()}Repository",
                repository_name=names.repository(service),
                image_tag_mutability=ecr.TagMutability.IMMUTABLE,
                image_scan_on_push=True,
                lifecycle_rules=[ecr.LifecycleRule(max_image_count=100)],
                removal_policy=RemovalPolicy.RETAIN,
            )
            for service in ("api", "worker")
        }
        self.image_tag = CfnParameter(
            scope,
            "ImageTag",
            type="String",
            default="bootstrap",
            description="Tag of the images the first task definition revisions run",
        ).value_as_string
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=names.log_group,
            retention=logs.RetentionDays.THREE_MONTHS
            if settings.is_prod
            else logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=names.cluster,
            vpc=inputs.network.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        self.execution_role = iam.Role(
            self,
            "ExecutionRole",
            role_name=names.execution_role,
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="Pull images, write logs, inject the secrets and parameters at start",
        )
        self.api_role = self._task_role("ApiTaskRole", names.task_role, "the API")
        self.worker_role = self._task_role("WorkerTaskRole", names.worker_task_role, "the worker")
        self._grant_application_access()
        self.alb, self.api_target_group, self.web_target_group = self._load_balancer()
        self.api_service = self._api_service()
        self.worker_service = self._worker_service()

    # --- roles -------------------------------------------------------------------------

    def _task_role(self, construct_id: str, name: str, what: str) -> iam.Role:
        return iam.Role(
            self,
            construct_id,
            role_name=name,
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=f"What {what} may do in AWS",
        )

    def _grant_application_access(self) -> None:
        i = self.inputs
        namespace = f"arn:aws:ssm:{i.settings.region}:{i.settings.account}:parameter" + (
            self.names.path("").rstrip("/")
        )
        buckets = [bucket.bucket_arn for bucket in i.buckets.buckets.values()]
        for role in (self.api_role, self.worker_role):
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="ListOwnBuckets", actions=["s3:ListBucket"], resources=buckets
                )
            )
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="ObjectsInOwnBuckets",
                    actions=[
                        "s3:GetObject",
                        "s3:PutObject",
                        "s3:DeleteObject",
                        "s3:GetObjectAttributes",
                    ],
                    resources=[f"{arn}/*" for arn in buckets],
                )
            )
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="ReadEnvParameters",
                    actions=["ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter"],
                    resources=[namespace, f"{namespace}/*"],
                )
            )
        # The database secret is injected (PG* variables) by the execution role; the task
        # roles never read it. Only the API reads the Stripe secrets.
        # The API enqueues and inspects the dead letters; only it talks to Stripe.
        i.queues.queue.grant_send_messages(self.api_role)
        i.queues.dlq.grant(self.api_role, "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
        i.configuration.stripe_secret_key.grant_read(self.api_role)
        i.configuration.stripe_webhook_secret.grant_read(self.api_role)
        # The worker consumes jobs, redrives dead letters and publishes JobsFailed.
        i.queues.queue.grant_consume_messages(self.worker_role)
        i.queues.queue.grant_send_messages(self.worker_role)
        i.queues.dlq.grant_consume_messages(self.worker_role)
        self.worker_role.add_to_policy(
            iam.PolicyStatement(
                sid="PublishJobMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "CounterPromo"}},
            )
        )

    # --- load balancer -----------------------------------------------------------------

    def _certificate(self) -> acm.ICertificate:
        arn = self.inputs.settings.certificate_arn or (
            CfnParameter(
                self,
                "CertificateArn",
                type="String",
                allowed_pattern=r"^arn:aws:acm:.+$",
                description="ACM certificate of the environment's host name",
            ).value_as_string
        )
        return acm.Certificate.from_certificate_arn(self, "Certificate", arn)

    def _load_balancer(
        self,
    ) -> tuple[
        elbv2.ApplicationLoadBalancer, elbv2.ApplicationTargetGroup, elbv2.ApplicationTargetGroup
    ]:
        network = self.inputs.network
        alb = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            load_balancer_name=self.names.alb,
            vpc=network.vpc,
            internet_facing=True,
            security_group=network.groups.alb,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            drop_invalid_header_fields=True,
            deletion_protection=self.inputs.settings.is_prod,
        )
        alb.log_access_logs(self.inputs.buckets.access_logs, prefix="alb")
        api = elbv2.ApplicationTargetGroup(
            self,
            "ApiTargetGroup",
            target_group_name=self.names.api_target_group,
            vpc=network.vpc,
            target_type=elbv2.TargetType.IP,
            protocol=elbv2.ApplicationProtocol.HTTP,
            port=API_PORT,
            deregistration_delay=Duration.seconds(20),
            health_check=elbv2.HealthCheck(path="/health", healthy_http_codes="200"),
        )
        web = elbv2.ApplicationTargetGroup(
            self,
            "WebTargetGroup",
            target_group_name=self.names.web_target_group,
            vpc=network.vpc,
            target_type=elbv2.TargetType.IP,
            protocol=elbv2.ApplicationProtocol.HTTP,
            port=WEB_PORT,
            health_check=elbv2.HealthCheck(path="/"),
        )
        alb.add_redirect(source_port=80, target_port=443)
        https = alb.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_certificate_manager(self._certificate())],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            default_action=elbv2.ListenerAction.forward([web]),
            open=False,
        )
        for priority, path in enumerate(API_PATHS, start=1):
            https.add_action(
                f"Api{priority}",
                priority=priority * 10,
                conditions=[elbv2.ListenerCondition.path_patterns([path])],
                action=elbv2.ListenerAction.forward([api]),
            )
        self.https_listener = https
        return alb, api, web

    # --- services ----------------------------------------------------------------------

    def _task_definition(
        self, construct_id: str, family: str, role: iam.Role, service: str
    ) -> ecs.FargateTaskDefinition:
        task = ecs.FargateTaskDefinition(
            self,
            construct_id,
            family=family,
            cpu=SIZES[service][0],
            memory_limit_mib=SIZES[service][1],
            execution_role=self.execution_role,
            task_role=role,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        task.add_volume(name="tmp")
        return task

    def _container(
        self, task: ecs.FargateTaskDefinition, service: str, *, stripe: bool
    ) -> ecs.ContainerDefinition:
        i = self.inputs
        secret = i.database.secret
        secrets = {
            "PGHOST": ecs.Secret.from_secrets_manager(secret, "host"),
            "PGPORT": ecs.Secret.from_secrets_manager(secret, "port"),
            "PGDATABASE": ecs.Secret.from_secrets_manager(secret, "dbname"),
            "PGUSER": ecs.Secret.from_secrets_manager(secret, "username"),
            "PGPASSWORD": ecs.Secret.from_secrets_manager(secret, "password"),
        }
        for variable, parameter in i.configuration.injected.items():
            secrets[variable] = ecs.Secret.from_ssm_parameter(parameter)
        if stripe:
            c = i.configuration
            secrets["STRIPE_SECRET_KEY"] = ecs.Secret.from_secrets_manager(c.stripe_secret_key)
            secrets["STRIPE_WEBHOOK_SECRET"] = ecs.Secret.from_secrets_manager(
                c.stripe_webhook_secret
            )
        environment = {
            "COUNTERPROMO_ENV": i.settings.env,
            "AWS_REGION": i.settings.region,
            "DATABASE_URL": "postgresql://",
            "PGSSLMODE": "require",
        }
        if service == "api":
            # Only the ALB (in the VPC) is believed about X-Forwarded-*; the env's own CIDR.
            environment["FORWARDED_ALLOW_IPS"] = i.settings.vpc_cidr
            environment["COUNTERPROMO_API_PREFIX"] = "/api"
        else:
            # The renderer's font cache, on the writable /tmp volume.
            environment["XDG_CACHE_HOME"] = "/tmp/.cache"  # noqa: S108
        container = task.add_container(
            service,
            container_name=service,
            image=ecs.ContainerImage.from_ecr_repository(
                self.repositories[service], self.image_tag
            ),
            user=USER,
            readonly_root_filesystem=True,
            stop_timeout=STOP_TIMEOUT,
            environment=environment,
            secrets=secrets,
            logging=ecs.LogDrivers.aws_logs(stream_prefix=service, log_group=self.log_group),
            port_mappings=[ecs.PortMapping(container_port=API_PORT, name="http")]
            if service == "api"
            else None,
            command=None
            if service == "api"
            else ["counterpromo-worker", "--liveness-file", LIVENESS_FILE],
            health_check=self._health_check(service),
        )
        container.add_mount_points(
            ecs.MountPoint(container_path="/tmp", source_volume="tmp", read_only=False)  # noqa: S108
        )
        return container

    @staticmethod
    def _health_check(service: str) -> ecs.HealthCheck:
        probe = (
            "import urllib.request; "
            f"urllib.request.urlopen('http://127.0.0.1:{API_PORT}/health', timeout=4)"
            if service == "api"
            else "import os, sys, time; "
            f"sys.exit(time.time() - os.path.getmtime('{LIVENESS_FILE}') > 90)"
        )
        return ecs.HealthCheck(
            command=["CMD", "python", "-c", probe],
            interval=Duration.seconds(30),
            timeout=Duration.seconds(5),
            retries=3,
            start_period=Duration.seconds(30),
        )

    def _service(
        self,
        construct_id: str,
        name: str,
        task: ecs.FargateTaskDefinition,
        group: ec2.SecurityGroup,
        limits: Scaling,
    ) -> ecs.FargateService:
        running = self.inputs.settings.services_running
        return ecs.FargateService(
            self,
            construct_id,
            service_name=name,
            cluster=self.cluster,
            task_definition=task,
            desired_count=limits.minimum if running else 0,
            min_healthy_percent=100,
            max_healthy_percent=200,
            security_groups=[group],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            enable_execute_command=False,
            platform_version=ecs.FargatePlatformVersion.LATEST,
        )

    def _api_service(self) -> ecs.FargateService:
        task = self._task_definition("ApiTask", self.names.api_family, self.api_role, "api")
        self._container(task, "api", stripe=True)
        service = self._service(
            "ApiService",
            self.names.api_service,
            task,
            self.inputs.network.groups.api,
            self.inputs.settings.api_scaling,
        )
        service.attach_to_application_target_group(self.api_target_group)
        scaling = self._scaling(service, self.inputs.settings.api_scaling)
        if scaling is not None:
            scaling.scale_on_request_count(
                "RequestsPerTarget",
                requests_per_target=REQUESTS_PER_TARGET,
                target_group=self.api_target_group,
            )
        return service

    def _worker_service(self) -> ecs.FargateService:
        task = self._task_definition(
            "WorkerTask", self.names.worker_family, self.worker_role, "worker"
        )
        self._container(task, "worker", stripe=False)
        service = self._service(
            "WorkerService",
            self.names.worker_service,
            task,
            self.inputs.network.groups.worker,
            self.inputs.settings.worker_scaling,
        )
        if self.inputs.settings.services_running:
            self._scale_on_backlog(service, self.inputs.settings.worker_scaling)
        return service

    def _scale_on_backlog(self, service: ecs.FargateService, limits: Scaling) -> None:
        """Target tracking on the jobs backlog per running task (metric math, so L1:
        the L2 accepts only a single metric)."""
        target = appscaling.ScalableTarget(
            self,
            "WorkerScalingTarget",
            service_namespace=appscaling.ServiceNamespace.ECS,
            resource_id=f"service/{self.cluster.cluster_name}/{service.service_name}",
            scalable_dimension="ecs:service:DesiredCount",
            min_capacity=limits.minimum,
            max_capacity=limits.maximum,
        )

        def metric(
            metric_id: str, namespace: str, name: str, dimensions: dict[str, str], stat: str
        ) -> appscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty:
            return appscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty(
                id=metric_id,
                return_data=False,
                metric_stat=appscaling.CfnScalingPolicy.TargetTrackingMetricStatProperty(
                    metric=appscaling.CfnScalingPolicy.TargetTrackingMetricProperty(
                        namespace=namespace,
                        metric_name=name,
                        dimensions=[
                            appscaling.CfnScalingPolicy.TargetTrackingMetricDimensionProperty(
                                name=key, value=value
                            )
                            for key, value in dimensions.items()
                        ],
                    ),
                    stat=stat,
                ),
            )

        backlog = appscaling.CfnScalingPolicy.CustomizedMetricSpecificationProperty(
            metrics=[
                metric(
                    "visible",
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    {"QueueName": self.inputs.queues.queue.queue_name},
                    "Maximum",
                ),
                metric(
                    "running",
                    "ECS/ContainerInsights",
                    "RunningTaskCount",
                    {"ClusterName": self.names.cluster, "ServiceName": self.names.worker_service},
                    "Average",
                ),
                appscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty(
                    id="backlog_per_task",
                    expression="visible / IF(running > 0, running, 1)",
                    label="jobs backlog per worker task",
                    return_data=True,
                ),
            ]
        )
        appscaling.CfnScalingPolicy(
            self,
            "WorkerBacklogPerTask",
            policy_name=f"{self.names.worker_service}-backlog-per-task",
            policy_type="TargetTrackingScaling",
            scaling_target_id=target.scalable_target_id,
            target_tracking_scaling_policy_configuration=appscaling.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty(
                target_value=BACKLOG_PER_TASK,
                customized_metric_specification=backlog,
                scale_in_cooldown=120,
                scale_out_cooldown=60,
            ),
        )

    def _scaling(
        self, service: ecs.FargateService, limits: Scaling
    ) -> ecs.ScalableTaskCount | None:
        """Floors and ceilings of the env; none while the services are held at 0 tasks."""
        if not self.inputs.settings.services_running:
            return None
        return service.auto_scale_task_count(
            min_capacity=limits.minimum, max_capacity=limits.maximum
        )
