"""`containment registry add HOST --policy FILE --stage S [--secret S] [--plain-http] --data DIR`:
watch and gate a Distribution registry (server/registry_gate.py).

The entry goes to the server's database (--data DIR: its SQLite; --database URL: PostgreSQL),
the secret only as its SHA-256, audited `registry.add`; a running server and every `containment
worker` read it on the next notification or job. The command prints the `notifications:` block
to put in the registry's config, and the shared secret alone on the last line of stdout
(generated unless --secret gives one). `containment registry list` shows what is configured,
`containment registry remove HOST` stops gating HOST, and `containment registry key set
cosign.key` stores the key the gate attests with (encrypted, as the file holds it).

`registry add` also queues a sync (unless --no-sync): the server lists what the registry already
holds (catalog + tags) and gates every tagged image as if it had just been pushed
(server/registry_sync.py). `containment registry sync HOST` queues one again. Both write the job
to the server's database (--data, or --database for PostgreSQL); a running server picks it up.

Registered by the lead in cli/main.py:
    from containment.cli import registry
    app.add_typer(registry.app, name="registry")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from containment.cli.common import user_errors

if TYPE_CHECKING:
    from containment.server.store import Store

app = typer.Typer(
    rich_markup_mode=None, help="Watch and gate container registries (server).", no_args_is_help=True
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
        help="the server's database URL (postgresql://...) when it is not the SQLite in --data",
    ),
]


def _open(data: Path | None, database: str | None) -> Store:
    from containment.server.store import Store

    return Store.open(data_dir=data, url=database or None)


def _queue_sync(store: Store, host: str) -> None:
    from containment.server.registry_sync import request_sync

    jid, new = request_sync(store, host, "cli")
    state = "queued" if new else "already queued"
    typer.echo(f"sync of {host} {state} (job {jid}): every image it already holds will be gated", err=True)


def _data(data: Path | None) -> Path:
    if data is not None:
        return data
    from containment.server.db import default_data_dir

    return default_data_dir()


@app.command("add")
def add(
    host: Annotated[str, typer.Argument(help="the registry, HOST or HOST:PORT (as pushed to)")],
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="policy file whose --stage each push must pass", dir_okay=False),
    ] = None,
    stage: Annotated[
        str, typer.Option("--stage", help="the policy's stage to gate pushes with (default: its last stage)")
    ] = "",
    secret: Annotated[
        str | None,
        typer.Option("--secret", help="shared secret the registry sends (default: a new random one)"),
    ] = None,
    plain_http: Annotated[
        bool, typer.Option("--plain-http", help="the registry speaks HTTP, not HTTPS")
    ] = False,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="do not verify the registry's TLS certificate")
    ] = False,
    quarantine: Annotated[
        str, typer.Option("--quarantine", help="repository prefix failing images are moved under")
    ] = "quarantine",
    db: Annotated[Path | None, typer.Option("--db", help="advisory DB the gate's scans use")] = None,
    server_url: Annotated[
        str,
        typer.Option("--server-url", help="the server's URL as the registry reaches it (for the snippet)"),
    ] = "http://127.0.0.1:8080",
    no_sync: Annotated[
        bool, typer.Option("--no-sync", help="do not gate the images the registry already holds")
    ] = False,
    data: DataOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Gate every push to HOST: scan it, attest what passes, quarantine what fails."""
    from containment.server import registry_gate as rg

    with user_errors(host), _open(data, database) as store:
        cfg, plain = rg.add_registry(
            store,
            host,
            policy_file=str(policy) if policy is not None else None,
            stage=stage,
            secret=secret,
            plain_http=plain_http,
            tls_verify=not insecure,
            quarantine=quarantine,
            db=str(db) if db is not None else None,
        )
        if not no_sync:
            _queue_sync(store, cfg.host)
    gated = f"stage {cfg.stage} of {cfg.policy_source}" if cfg.policy else "no policy (scan and record)"
    typer.echo(
        f"registry {cfg.host}: every pushed tag is scanned; {gated}; failing images go under {cfg.host}/{cfg.quarantine}/"
    )
    typer.echo("add to the registry's config (and restart it):")
    typer.echo(
        "notifications:\n  endpoints:\n    - name: containment\n"
        f"      url: {server_url.rstrip('/')}/api/v1/registry/events\n"
        f"      headers: {{{rg.SECRET_HEADER.title()}: [{plain}]}}\n"
        "      timeout: 5s\n      threshold: 5\n      backoff: 2s\n"
        "storage:\n  delete:\n    enabled: true"
    )
    typer.echo(plain)


@app.command("sync")
def sync(
    host: Annotated[str, typer.Argument(help="a registry added with `registry add`, HOST or HOST:PORT")],
    data: DataOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Gate every tagged image HOST already holds (catalog + tags); images already gated are skipped."""
    from containment.cli.common import fail
    from containment.server import registry_gate as rg

    with user_errors(host), _open(data, database) as store:
        regs = rg.load_registries(store)
        if host not in regs:
            known = ", ".join(sorted(regs)) or "none"
            fail(
                f"registry {host!r} is not configured (configured: {known}); run `containment registry add {host}` first"
            )
        _queue_sync(store, host)


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
    data: DataOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """The registries this server gates."""
    from dataclasses import asdict

    from containment.server import registry_gate as rg

    with user_errors(), _open(data, database) as store:
        regs = rg.load_registries(store)
    rows = [
        {k: v for k, v in asdict(c).items() if k not in ("secret_sha256", "policy")} for c in regs.values()
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        typer.echo(
            f"{r['host']}\tstage={r['stage'] or '-'}\tquarantine={r['quarantine']}\tpolicy={r['policy_source'] or '-'}"
        )


@app.command("remove")
def remove(
    host: Annotated[str, typer.Argument(help="a registry added with `registry add`")],
    data: DataOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Stop gating HOST (its notifications are refused from now on; decisions made stay)."""
    from containment.cli.common import fail
    from containment.server import registry_gate as rg

    with user_errors(host), _open(data, database) as store:
        gone = rg.remove_registry(store, host)
    if not gone:
        fail(f"registry {host!r} is not configured (containment registry list)")
    typer.echo(f"registry {host}: removed; remove the notifications endpoint from its config too", err=True)


key_app = typer.Typer(
    rich_markup_mode=None,
    help="The key the registry gate attests passing images with (kept in the server's database).",
    no_args_is_help=True,
)
app.add_typer(key_app, name="key")


@key_app.command("set")
def key_set(
    key: Annotated[
        Path, typer.Argument(help="cosign.key (encrypted; `containment key generate`)", dir_okay=False)
    ],
    pub: Annotated[
        Path | None, typer.Option("--pub", help="its cosign.pub, checked against the key", dir_okay=False)
    ] = None,
    data: DataOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Store the gate's signing key as the file holds it (encrypted). Its password must be in
    CONTAINMENT_KEY_PASSWORD / COSIGN_PASSWORD here, as for the server and every worker."""
    from containment.server import config
    from containment.supplychain import keys

    with user_errors(str(key)):
        private = keys._read(str(key))
        public = keys._read(str(pub)) if pub is not None else None
        with _open(data, database) as store:
            got = config.set_signing_key(store, private, keys.password_from_env(), public, where=str(key))
    typer.echo(f"the gate attests with key {got.key_id} from now on", err=True)
    typer.echo(got.public_pem.decode("ascii"), nl=False)


@key_app.command("show")
def key_show(data: DataOpt = None, database: DatabaseOpt = None) -> None:
    """The gate's public key (PEM, as cosign.pub: verify attestations with it) and its id on stderr."""
    from containment.cli.common import fail
    from containment.server import config

    with user_errors(), _open(data, database) as store:
        got = config.signing_key(store)
    if got is None:
        fail(
            "no signing key: the gate records decisions without attesting (containment registry key set cosign.key)"
        )
    typer.echo(f"key id {got.key_id}", err=True)
    typer.echo(got.public_pem.decode("ascii"), nl=False)


@key_app.command("remove")
def key_remove(data: DataOpt = None, database: DatabaseOpt = None) -> None:
    """Stop attesting: passing images are recorded with action `none`."""
    from containment.cli.common import fail
    from containment.server import config

    with user_errors(), _open(data, database) as store:
        gone = config.remove_signing_key(store)
    if not gone:
        fail("no signing key to remove (containment registry key show)")
    typer.echo("removed", err=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
