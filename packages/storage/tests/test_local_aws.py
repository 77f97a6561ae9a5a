"""moto's server answers boto3 over HTTP, and is emptied between tests."""

import boto3


def test_bucket_round_trip(aws_endpoint: str) -> None:
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="eu-west-2")
    s3.create_bucket(Bucket="probe", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    s3.put_object(Bucket="probe", Key="a", Body=b"hello")
    assert s3.get_object(Bucket="probe", Key="a")["Body"].read() == b"hello"


def test_state_is_reset_between_tests(aws_endpoint: str) -> None:
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="eu-west-2")
    assert s3.list_buckets()["Buckets"] == []
