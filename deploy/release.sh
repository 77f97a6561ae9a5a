#!/usr/bin/env bash
# Release one environment: render and register the task definitions for the given
# images, run the migrations once as a one-off task of the new api revision (stop on
# failure), point both services at the new revisions and wait until they are stable.
#
# Run by .github/workflows/deploy-dev.yml and promote-prod.yml after the images exist.
# Needs: the AWS CLI with credentials, python3, and these variables:
#   DEPLOY_ENV      dev | prod
#   AWS_REGION      e.g. eu-west-2
#   AWS_ACCOUNT_ID  12 digits (a repository variable, never written in the repo)
#   API_IMAGE       full image URI of the api image (tagged with the commit SHA)
#   WORKER_IMAGE    full image URI of the worker image
# Every name comes from the environment's stack (infra/), which publishes them under
# /counterpromo/$DEPLOY_ENV/deploy/: cluster, api_service, worker_service, vpc_cidr,
# private_subnet_ids (comma-separated) and migrate_security_group_id.
set -euo pipefail

: "${DEPLOY_ENV:?}" "${AWS_REGION:?}" "${AWS_ACCOUNT_ID:?}" "${API_IMAGE:?}" "${WORKER_IMAGE:?}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$(mktemp -d)"
export AWS_DEFAULT_REGION="$AWS_REGION" AWS_PAGER=""

log() { printf '::notice::%s\n' "$*"; }
die() { printf '::error::%s\n' "$*"; exit 1; }

parameter() {
  aws ssm get-parameter --name "/counterpromo/$DEPLOY_ENV/deploy/$1" \
    --query 'Parameter.Value' --output text
}

CLUSTER="$(parameter cluster)"
API_SERVICE="$(parameter api_service)"
WORKER_SERVICE="$(parameter worker_service)"
VPC_CIDR="$(parameter vpc_cidr)"
[[ "$VPC_CIDR" =~ ^[0-9.]+/[0-9]+$ ]] || die "SSM deploy/vpc_cidr is not a CIDR: $VPC_CIDR"

render_and_register() {
  local service="$1" image="$2"
  python3 "$HERE/render_template.py" "$HERE/taskdefs/$service.json" \
    --env "$DEPLOY_ENV" --account-id "$AWS_ACCOUNT_ID" --region "$AWS_REGION" \
    --image "$image" --vpc-cidr "$VPC_CIDR" --output "$OUT/$service.json"
  aws ecs register-task-definition --cli-input-json "file://$OUT/$service.json" \
    --query 'taskDefinition.taskDefinitionArn' --output text
}

run_migrations() {
  local task_definition="$1" subnets security_group task exit_code
  subnets="$(parameter private_subnet_ids)"
  security_group="$(parameter migrate_security_group_id)"
  [[ "$subnets" =~ ^subnet-[0-9a-f]+(,subnet-[0-9a-f]+)*$ ]] \
    || die "SSM deploy/private_subnet_ids is not a comma-separated list of subnet ids"
  [[ "$security_group" =~ ^sg-[0-9a-f]+$ ]] \
    || die "SSM deploy/migrate_security_group_id is not a security group id"

  task="$(aws ecs run-task --cluster "$CLUSTER" --task-definition "$task_definition" \
    --launch-type FARGATE --count 1 --started-by "migrate-${API_IMAGE##*:}" \
    --network-configuration "awsvpcConfiguration={subnets=[$subnets],securityGroups=[$security_group],assignPublicIp=DISABLED}" \
    --overrides '{"containerOverrides":[{"name":"api","command":["counterpromo","db","upgrade"]}]}' \
    --query 'tasks[0].taskArn' --output text)"
  [[ "$task" == arn:aws:ecs:* ]] || die "the migration task did not start: $task"
  log "migrations running in $task"

  aws ecs wait tasks-stopped --cluster "$CLUSTER" --tasks "$task"
  exit_code="$(aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$task" \
    --query "tasks[0].containers[?name=='api'].exitCode | [0]" --output text)"
  if [[ "$exit_code" != "0" ]]; then
    aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$task" \
      --query 'tasks[0].{stoppedReason: stoppedReason, container: containers[0].reason}'
    die "migrations failed (exit code $exit_code): see the api log stream of $task in /ecs/counterpromo-$DEPLOY_ENV; services were not updated"
  fi
  log "migrations applied"
}

api_td="$(render_and_register api "$API_IMAGE")"
worker_td="$(render_and_register worker "$WORKER_IMAGE")"
log "registered $api_td and $worker_td"

run_migrations "$api_td"

aws ecs update-service --cluster "$CLUSTER" --service "$API_SERVICE" \
  --task-definition "$api_td" --query 'service.taskDefinition' --output text
aws ecs update-service --cluster "$CLUSTER" --service "$WORKER_SERVICE" \
  --task-definition "$worker_td" --query 'service.taskDefinition' --output text
log "waiting for $API_SERVICE and $WORKER_SERVICE to be stable"
aws ecs wait services-stable --cluster "$CLUSTER" --services "$API_SERVICE" "$WORKER_SERVICE"

deployed="$(aws ecs describe-services --cluster "$CLUSTER" \
  --services "$API_SERVICE" "$WORKER_SERVICE" \
  --query 'services[].[serviceName, taskDefinition]' --output text)"
printf 'Deployed to %s:\n%s\n' "$DEPLOY_ENV" "$deployed"
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  {
    printf '### Deployed to %s\n\n| service | task definition |\n|---|---|\n' "$DEPLOY_ENV"
    printf '%s\n' "$deployed" | awk '{ printf "| %s | `%s` |\n", $1, $2 }'
  } >>"$GITHUB_STEP_SUMMARY"
fi
