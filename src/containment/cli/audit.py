"""`containment audit export|verify|public-key`: the server's tamper-evident audit trail.

Thin: parse, call containment.audit, print. `export` opens the server's database read only (SQLite
`DIR/containment.db`, or `--database postgresql://…`) and may run while the server writes; it signs
the file's header with the audit key in the data directory when there is one. `verify` exits 0 when
the file is intact, 1 naming the first bad line and why, 2 when the file is no audit trail."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from containment.cli.common import EXIT_BAD_INPUT, EXIT_FINDINGS, fail, user_errors

app = typer.Typer(
    rich_markup_mode=None,
    help="The server's audit trail: export it as hash-chained JSONL, verify an exported file.",
    no_args_is_help=True,
)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data",
        envvar="CONTAINMENT_DATA",
        help="the server's data directory (its containment.db and audit key) [env: CONTAINMENT_DATA]",
    ),
]


def _data_dir(data: Path | None) -> Path:
    if data is None:
        from containment.server.db import default_data_dir

        data = default_data_dir()
    return data.expanduser()


def _engine(data: Path, database: str | None) -> Any:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from containment.model import ContainmentError

    if database:
        try:
            u = make_url(database)
        except sa.exc.ArgumentError:
            raise ContainmentError(
                f"{database!r}: not a database URL (postgresql://… or sqlite:///PATH)"
            ) from None
        if u.get_backend_name() == "postgresql":
            u = u.set(drivername="postgresql+psycopg")
            return sa.create_engine(u, connect_args={"options": "-c default_transaction_read_only=on"})
        if u.get_backend_name() != "sqlite" or not u.database:
            raise ContainmentError(
                f"{u.drivername}: unsupported database; use sqlite:///PATH or postgresql://…"
            )
        path = Path(u.database).expanduser()
    else:
        path = data / "containment.db"
    if not path.is_file():
        raise ContainmentError(
            f"{path}: no server database here; give the server's --data DIR (or --database)"
        )
    # read only: an export never writes, and so never waits for nor blocks the running server
    return sa.create_engine(f"sqlite:///file:{path.resolve()}?mode=ro&uri=true", connect_args={"timeout": 30})


@app.command()
def export(
    output: Annotated[str, typer.Option("--output", "-o", help="the JSONL file to write ('-': stdout)")],
    data: DataDir = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            envvar="CONTAINMENT_DATABASE",
            help="the server's database URL when it is not SQLite in --data (postgresql://…)",
        ),
    ] = None,
) -> None:
    """Write the audit trail as JSONL: a header line (signed with the data directory's audit key),
    then one hash-chained record per line in chain order. Safe while the server runs."""
    from containment import audit

    with user_errors("audit export"):
        import sqlalchemy as sa

        d = _data_dir(data)
        key = audit.load_key(d, create=False) if (d / audit.KEY_FILE).exists() else None
        engine = _engine(d, database)
        try:
            if output == "-":
                n = audit.export(engine, sys.stdout.buffer, key=key)
                sys.stdout.buffer.flush()
            else:
                n = audit.export(engine, output, key=key)
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as e:
            raise audit.AuditError(
                f"cannot read the audit trail from {engine.url!r}: {str(e.orig).strip().splitlines()[0]}"
            ) from None
        finally:
            engine.dispose()
        signed = f"signed by key {key.key_id[:16]}" if key else "unsigned: no audit key in the data directory"
        print(f"containment: {n} audit records exported ({signed})", file=sys.stderr)


@app.command()
def verify(
    file: Annotated[str, typer.Argument(help="an exported audit trail (JSONL)")],
    key: Annotated[
        Path | None,
        typer.Option("--key", help="the audit public key (PEM) its signatures must verify with"),
    ] = None,
) -> None:
    """Check an exported audit trail: every hash, every link, every signature. Exit 0 intact,
    1 tampered (the first bad line is named), 2 not an audit trail."""
    from containment import audit

    with user_errors(file):
        pem = key.read_bytes() if key else None
        outcome = audit.verify_file(file, pem)
    if outcome.not_a_trail:
        fail(f"{file}: {outcome.reason}", EXIT_BAD_INPUT)
    if not outcome.ok:
        print(f"{file}:{outcome.line}: TAMPERED: {outcome.reason}")
        raise typer.Exit(EXIT_FINDINGS)
    signer = f"signed by key {outcome.key_id[:16]}" if outcome.key_id else "no signature"
    print(
        f"{file}: intact: {outcome.records} records, {outcome.checkpoints} signed checkpoints, "
        f"{signer}, head {outcome.head_hash}"
    )


@app.command("public-key")
def public_key(data: DataDir = None) -> None:
    """Print the audit public key (PEM) of a data directory, to pin with `audit verify --key`."""
    from containment import audit

    with user_errors("audit public-key"):
        d = _data_dir(data)
        k = audit.load_key(d, create=False)
        if k is None:
            fail(f"{d / audit.KEY_FILE}: no audit key yet (the server creates it on first checkpoint)")
        sys.stdout.write(k.public_pem)
