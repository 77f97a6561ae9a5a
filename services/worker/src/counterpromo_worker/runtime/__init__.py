"""The SQS consumer runtime: polling, job slots, retries, heartbeats, shutdown."""
