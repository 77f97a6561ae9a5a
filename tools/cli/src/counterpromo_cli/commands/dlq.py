"""``counterpromo dlq``: the jobs dead-letter queue."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

import typer

from counterpromo_cli.apps import command_group
from counterpromo_cli.database import transaction
from counterpromo_cli.environment import aws_errors
from counterpromo_cli.errors import fail
from counterpromo_cli.options import EnvOption, JsonOption, YesOption
from counterpromo_cli.output import console, print_json, print_table, progress_console
from counterpromo_cli.queues import env_queue

if TYPE_CHECKING:
    from counterpromo_storage.queue import ReceivedMessage

app = command_group("The jobs dead-letter queue.")

PEEK_LIMIT = 100


def message_json(message: ReceivedMessage) -> dict[str, Any]:
    body = message.body
    return {
        "message_id": message.message_id,
        "job_id": str(body.job_id) if body else None,
        "type": body.type if body else None,
        "account_id": str(body.account_id) if body else None,
        "attempt": body.attempt if body else None,
        "receive_count": message.receive_count,
        "error": message.error,
        "body": message.raw_body,
    }


@app.command("list")
def list_messages(
    limit: Annotated[int, typer.Option(help="Show at most this many.")] = PEEK_LIMIT,
    env: EnvOption = None,
    json_output: JsonOption = False,
) -> None:
    """Count the messages in the queue and DLQ and list the DLQ's (they stay in it)."""
    target = env_queue(env)
    with aws_errors():
        waiting = target.queue.approximate_depth()
        dead = target.queue.approximate_depth(dlq=True)
        messages = target.queue.dlq_peek(max_messages=limit) if dead else []
    if json_output:
        print_json({"queue": waiting, "dlq": dead, "messages": [message_json(m) for m in messages]})
        return
    console.print(f"jobs queue: {waiting} waiting; dead-letter queue: {dead}")
    print_table(
        "Dead letters",
        ["message", "job", "type", "account", "received", "problem"],
        (
            (m.message_id, j["job_id"], j["type"], j["account_id"], m.receive_count, m.error)
            for m in messages
            for j in [message_json(m)]
        ),
    )


@app.command()
def show(
    message: Annotated[str, typer.Argument(help="DLQ message id or job id.", metavar="ID")],
    env: EnvOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show one dead letter (found by message id or job id) with its raw body."""
    target = env_queue(env)
    with aws_errors():
        found = target.queue.dlq_find(message)
    if found is None:
        raise fail(f"no message {message} in the dead-letter queue")
    if json_output:
        print_json(message_json(found))
        return
    for key, value in message_json(found).items():
        console.print(f"{key}: {value}", highlight=False, soft_wrap=True)


def _redrive_all(env: str | None) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    target = env_queue(env)
    with aws_errors():
        total = target.queue.approximate_depth(dlq=True)
        moved = failed = 0
        with Progress(
            TextColumn("redriving"),
            BarColumn(),
            MofNCompleteColumn(),
            console=progress_console(),
            transient=True,
        ) as progress:
            task = progress.add_task("redrive", total=total)
            while True:
                result = target.queue.dlq_redrive(max_messages=10, wait_seconds=0)
                moved += result.moved + result.already_moved
                failed += result.failed
                progress.update(task, completed=min(moved, total))
                if result.failed or result.moved + result.already_moved == 0:
                    break
    console.print(f"{moved} messages moved back to the jobs queue, {failed} left in the DLQ")
    if failed:
        raise typer.Exit(code=1)


def _redrive_one(env: str | None, wanted: str) -> None:
    target = env_queue(env)
    with aws_errors():
        redriven = target.queue.dlq_redrive_one(wanted)
    if redriven is None:
        raise fail(f"no message {wanted} in the dead-letter queue")
    message = redriven.message
    what = f"job {message.body.job_id}" if message.body else f"not a job message: {message.error}"
    console.print(f"message {message.message_id} ({what}) moved back", highlight=False)


@app.command()
def redrive(
    message: Annotated[
        str | None, typer.Argument(help="DLQ message id or job id.", metavar="[ID]")
    ] = None,
    all_messages: Annotated[bool, typer.Option("--all", help="Every DLQ message.")] = False,
    env: EnvOption = None,
) -> None:
    """Move dead letters back to the jobs queue (receive, send, delete): one ID or --all."""
    if message is not None and not all_messages:
        _redrive_one(env, message)
    elif message is None and all_messages:
        _redrive_all(env)
    else:
        raise fail("give one message or job ID, or --all")


@app.command()
def purge(env: EnvOption = None, yes: YesOption = False) -> None:
    """Delete every dead letter and mark its job dead."""
    target = env_queue(env)
    with aws_errors():
        count = target.queue.approximate_depth(dlq=True)
        if count == 0:
            console.print("the dead-letter queue is empty")
            return
        if not yes:
            typer.confirm(f"Delete {count} messages from the dead-letter queue?", abort=True)
        # Read what is there first, so the jobs of what is purged can be marked dead.
        letters = target.queue.dlq_peek(max_messages=max(count, 10))
        purged = target.queue.dlq_purge()
    job_ids = {m.body.job_id for m in letters if m.body is not None}
    _mark_dead(job_ids, env)
    console.print(f"purged {purged} messages; {len(job_ids)} jobs marked dead")


def _mark_dead(job_ids: set[uuid.UUID], env: str | None) -> None:
    if not job_ids:
        return
    from counterpromo_core import jobs

    with transaction(env) as session:
        for job_id in job_ids:
            jobs.mark_dead(session, job_id, "its message was purged from the dead-letter queue")
