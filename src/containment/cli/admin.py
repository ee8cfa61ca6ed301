"""`containment user add|list` and `containment token create|list|revoke`: the server's people.

They open the server's store directly (SQLite in --data, or --database URL), so they work while
the server runs: SQLite in WAL mode lets both write, one transaction at a time. SQLAlchemy and
argon2 load only when one of these commands runs.

Registered by the lead in cli/main.py:
    app.add_typer(admin.user_app, name="user")
    app.add_typer(admin.token_app, name="token")
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from containment.cli.common import fail, user_errors

if TYPE_CHECKING:
    from containment.server.store import Store

user_app = typer.Typer(rich_markup_mode=None, help="Manage the server's users.", no_args_is_help=True)
token_app = typer.Typer(
    rich_markup_mode=None, help="Manage API tokens (for CI and scripts).", no_args_is_help=True
)

DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data",
        envvar="CONTAINMENT_DATA",
        help="the server's data directory (default $CONTAINMENT_DATA, else ~/.local/share/containment)",
        file_okay=False,
    ),
]
DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        envvar="CONTAINMENT_DATABASE",
        help="database URL (postgresql://...) instead of the embedded SQLite in --data",
    ),
]


def _open(data: Path | None, database: str | None) -> Store:
    from containment.server.store import Store

    return Store.open(data_dir=data, url=database or None)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="the user's name")],
    role: Annotated[str, typer.Option("--role", help="developer, security, operations, auditor or admin")],
    data: DataOpt = None,
    database: DatabaseOpt = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="read a password for dashboard login from stdin (one line)"),
    ] = False,
) -> None:
    """Add a user with a role. Without --password-stdin the user signs in with API tokens only."""
    from containment.server.store import ROLES

    with user_errors():
        if role not in ROLES:
            fail(f"role {role!r} unknown; use one of {', '.join(ROLES)}")
        password = None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                fail("--password-stdin: no password on stdin (one line expected)")
        with _open(data, database) as store:
            store.add_user(name, role, password)
        print(f"added user {name} ({role})", file=sys.stderr)


@user_app.command("list")
def user_list(
    data: DataOpt = None,
    database: DatabaseOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list")] = False,
) -> None:
    """List the users, their roles and how many live tokens they hold."""
    from containment.escape import one_line

    with user_errors():
        with _open(data, database) as store:
            users = store.users()
        if as_json:
            typer.echo(json.dumps(users, indent=2, ensure_ascii=False))
            return
        typer.echo(f"{'NAME':<24} {'ROLE':<11} {'TOKENS':>6}  {'PASSWORD':<8}  CREATED")
        for u in users:
            typer.echo(
                f"{one_line(u['name']):<24} {u['role']:<11} {u['tokens']:>6}  "
                f"{'yes' if u['password'] else 'no':<8}  {u['created']}"
            )


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="the user the token acts as")],
    data: DataOpt = None,
    database: DatabaseOpt = None,
    expires: Annotated[int, typer.Option("--expires", help="days until it expires", min=1, max=3650)] = 90,
    no_expiry: Annotated[bool, typer.Option("--no-expiry", help="a token that never expires")] = False,
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="limit the token (repeatable), e.g. images:write")
    ] = None,
) -> None:
    """Create an API token for a user; the token is printed once, alone on the last line of stdout."""
    with user_errors():
        with _open(data, database) as store:
            token = store.create_token(name, tuple(scope or ()), None if no_expiry else expires)
        when = "never expires" if no_expiry else f"expires in {expires} days"
        print(f"token for {name} ({when}); it is shown only now:", file=sys.stderr)
        typer.echo(token)


@token_app.command("list")
def token_list(
    name: Annotated[str | None, typer.Argument(help="only this user's tokens")] = None,
    data: DataOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """List tokens (ids, never the tokens themselves)."""
    from containment.escape import one_line

    with user_errors():
        with _open(data, database) as store:
            tokens = store.tokens(name)
        typer.echo(f"{'ID':<16}  {'USER':<24} {'STATE':<7}  {'EXPIRES':<27}  SCOPES")
        for t in tokens:
            state = "revoked" if t["revoked"] else "active"
            typer.echo(
                f"{t['id']:<16}  {one_line(t['user']):<24} {state:<7}  {t['expires'] or 'never':<27}  "
                f"{','.join(t['scopes']) or '-'}"
            )


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="the token's id (token list)")],
    data: DataOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Revoke a token: it stops working at once."""
    with user_errors():
        with _open(data, database) as store:
            if not store.revoke_token(token_id):
                fail(f"no token with id {token_id!r} (containment token list shows them)")
        print(f"revoked token {token_id}", file=sys.stderr)
