"""Operations as code: what operators apply to an AWS environment (CloudWatch alarms)."""
