"""One environment's stack: the whole Phase 1 environment of the seed, for dev or prod."""

from __future__ import annotations

from aws_cdk import CfnOutput, DefaultStackSynthesizer, Environment, Stack, Tags
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from counterpromo_infra.cicd import GithubDeployer
from counterpromo_infra.configuration import Configuration
from counterpromo_infra.data import Buckets, Database, JobQueues
from counterpromo_infra.monitoring import Monitoring
from counterpromo_infra.names import DEPLOY_PREFIX, Names
from counterpromo_infra.network import Network
from counterpromo_infra.services import ServiceInputs, Services
from counterpromo_infra.settings import DEV_ACCOUNT, EnvSettings


class CounterPromoStack(Stack):
    def __init__(self, scope: Construct, *, settings: EnvSettings) -> None:
        names = Names(settings.env, settings.account)
        super().__init__(
            scope,
            names.stack,
            stack_name=names.stack,
            env=Environment(account=settings.account, region=settings.region),
            description=f"Counter Promo {settings.env}: network, data, services, CI/CD, alarms",
            # Offline synthesis: no bootstrap-version rule reading SSM at deploy time.
            synthesizer=DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
            termination_protection=settings.is_prod,
        )
        Tags.of(self).add("project", "counterpromo")
        Tags.of(self).add("env", settings.env)
        self.settings = settings
        self.names = names
        self.network = Network(self, "Network", settings=settings)
        self.database = Database(self, "Database", settings=settings, network=self.network)
        self.buckets = Buckets(
            self, "Buckets", settings=settings, cors_origin=f"https://{settings.host}"
        )
        self.queues = JobQueues(self, "Queues", names=names, env=settings.env)
        # DEV also holds the queue pair a developer's laptop uses, so it never competes
        # with the DEV worker.
        self.devlocal = (
            None
            if settings.is_prod
            else JobQueues(self, "DevLocalQueues", names=names, env="devlocal")
        )
        self.configuration = Configuration(
            self,
            "Configuration",
            settings=settings,
            database=self.database,
            buckets=self.buckets,
            queues=self.queues,
            devlocal=self.devlocal,
        )
        self.services = Services(
            self,
            "Services",
            inputs=ServiceInputs(
                settings=settings,
                network=self.network,
                database=self.database,
                buckets=self.buckets,
                queues=self.queues,
                configuration=self.configuration,
            ),
        )
        # The account has one GitHub OIDC provider: a PROD stack in DEV's account uses DEV's.
        self.deployer = GithubDeployer(
            self,
            "Github",
            settings=settings,
            services=self.services,
            create_provider=not (settings.is_prod and settings.account == DEV_ACCOUNT),
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            names=names,
            services=self.services,
            database=self.database,
            queues=self.queues,
        )
        self._publish_deploy_names()

    def _publish_deploy_names(self) -> None:
        """The one list of names release.sh and the workflows read (SSM and outputs)."""
        s = self.services
        published = {
            "cluster": s.cluster.cluster_name,
            "api_service": s.api_service.service_name,
            "worker_service": s.worker_service.service_name,
            "api_family": self.names.api_family,
            "worker_family": self.names.worker_family,
            "api_repository_uri": s.repositories["api"].repository_uri,
            "worker_repository_uri": s.repositories["worker"].repository_uri,
            "execution_role_arn": s.execution_role.role_arn,
            "api_task_role_arn": s.api_role.role_arn,
            "worker_task_role_arn": s.worker_role.role_arn,
            "log_group": s.log_group.log_group_name,
            "private_subnet_ids": ",".join(self.network.private_subnets.subnet_ids),
            "migrate_security_group_id": self.network.groups.api.security_group_id,
            "deployer_role_arn": self.deployer.role.role_arn,
            "vpc_cidr": self.network.vpc.vpc_cidr_block,
        }
        for key, value in published.items():
            ssm.StringParameter(
                self,
                f"Deploy-{key}",
                parameter_name=self.names.path(DEPLOY_PREFIX + key),
                string_value=value,
            )
            CfnOutput(self, key.title().replace("_", ""), value=value)
        CfnOutput(self, "AlbDnsName", value=s.alb.load_balancer_dns_name)
