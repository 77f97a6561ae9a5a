"""The alerts topic and the alarms: the five of the environment facts plus JobsFailed."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from counterpromo_infra.data import Database, JobQueues
from counterpromo_infra.names import Names
from counterpromo_infra.services import Services

FREE_STORAGE_BYTES = 2 * 1024**3


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: Names,
        services: Services,
        database: Database,
        queues: JobQueues,
    ) -> None:
        super().__init__(scope, construct_id)
        self.names = names
        self.topic = sns.Topic(self, "Alerts", topic_name=names.alerts_topic, enforce_ssl=True)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
            )
        )
        minute = Duration.minutes(1)
        alb = services.alb.metrics
        self.alarm(
            "Alb5xx",
            alb.http_code_elb(code=elbv2.HttpCodeElb.ELB_5XX_COUNT, period=minute, statistic="Sum"),
            threshold=5,
            description="the ALB answered 5XX itself (no healthy target, timeouts)",
        )
        self.alarm(
            "ApiUnhealthyHosts",
            services.api_target_group.metrics.unhealthy_host_count(
                period=minute, statistic="Maximum"
            ),
            threshold=0,
            description="an API task fails the target group's /health check",
        )
        for label, service_name in (
            ("Api", names.api_service),
            ("Worker", names.worker_service),
        ):
            self.alarm(
                f"{label}TasksMissing",
                cloudwatch.MathExpression(
                    expression="desired - running",
                    using_metrics={
                        key: cloudwatch.Metric(
                            namespace="ECS/ContainerInsights",
                            metric_name=metric,
                            dimensions_map={
                                "ClusterName": names.cluster,
                                "ServiceName": service_name,
                            },
                            period=minute,
                            statistic="Average",
                        )
                        for key, metric in (
                            ("desired", "DesiredTaskCount"),
                            ("running", "RunningTaskCount"),
                        )
                    },
                    period=minute,
                ),
                threshold=0,
                periods=5,
                description=f"{service_name} runs fewer tasks than desired for 5 minutes",
            )
        self.alarm(
            "DatabaseFreeStorageLow",
            database.instance.metric_free_storage_space(period=Duration.minutes(5)),
            threshold=FREE_STORAGE_BYTES,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            description="RDS has less than 2 GiB free storage",
        )
        self.alarm(
            "DeadLettersPresent",
            queues.dlq.metric_approximate_number_of_messages_visible(
                period=minute, statistic="Maximum"
            ),
            threshold=0,
            description="jobs are in the dead-letter queue (counterpromo jobs dlq)",
        )
        self.alarm(
            "JobsFailed",
            cloudwatch.Metric(
                namespace="CounterPromo",
                metric_name="JobsFailed",
                dimensions_map={"Env": names.env},
                period=Duration.minutes(5),
                statistic="Sum",
            ),
            threshold=0,
            description="the worker reported failed jobs (CounterPromo/JobsFailed)",
        )

    def alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        periods: int = 1,
        comparison: cloudwatch.ComparisonOperator = (
            cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
        ),
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=f"counterpromo-{self.names.env}-{_kebab(construct_id)}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=comparison,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        return alarm


def _kebab(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")
