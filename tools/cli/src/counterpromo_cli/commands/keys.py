"""``counterpromo keys``: an account's API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from counterpromo_cli.apps import command_group
from counterpromo_cli.database import transaction
from counterpromo_cli.options import AccountArg, JsonOption, YesOption, parse_id
from counterpromo_cli.output import console, print_json, print_table

if TYPE_CHECKING:
    from counterpromo_core.db.models import ApiKey

app = command_group("API keys of an account.")


def key_json(key: ApiKey) -> dict[str, Any]:
    return {
        "id": str(key.id),
        "name": key.name,
        "role": key.role,
        "prefix": key.prefix,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }


@app.command()
def create(
    account: AccountArg,
    name: Annotated[str, typer.Option(help="What the key is for.")],
    role: Annotated[str, typer.Option(help="owner, admin or member.")] = "member",
    json_output: JsonOption = False,
) -> None:
    """Create a key; it is printed once and never stored in plain text."""
    from counterpromo_core import api_keys
    from counterpromo_core.roles import parse_role

    account_id = parse_id(account, "account")
    with transaction() as session:
        created = api_keys.create_api_key(session, account_id, name=name, role=parse_role(role))
    if json_output:
        print_json({**key_json(created.api_key), "key": created.plaintext})
        return
    console.print(f"created key {created.api_key.id} ({created.api_key.role})")
    console.print("The key is shown this once; store it now:")
    console.print(created.plaintext, highlight=False, soft_wrap=True)


@app.command("list")
def list_keys(account: AccountArg, json_output: JsonOption = False) -> None:
    """List an account's keys (prefixes only)."""
    from counterpromo_core import api_keys

    account_id = parse_id(account, "account")
    with transaction() as session:
        keys = api_keys.list_api_keys(session, account_id)
    if json_output:
        print_json([key_json(k) for k in keys])
        return
    print_table(
        "API keys",
        ["id", "name", "role", "prefix", "last used", "revoked"],
        ((k.id, k.name, k.role, k.prefix, k.last_used_at, k.revoked_at) for k in keys),
    )


@app.command()
def revoke(
    account: AccountArg,
    key: Annotated[str, typer.Argument(help="Key id (UUID).", metavar="KEY_ID")],
    yes: YesOption = False,
) -> None:
    """Revoke a key: requests using it are refused from now on."""
    from counterpromo_core import api_keys

    account_id = parse_id(account, "account")
    key_id = parse_id(key, "key")
    if not yes:
        typer.confirm(f"Revoke key {key_id}? Clients using it stop working", abort=True)
    with transaction() as session:
        revoked = api_keys.revoke_api_key(session, account_id, key_id)
    console.print(f"key {revoked.id} revoked at {revoked.revoked_at}")
