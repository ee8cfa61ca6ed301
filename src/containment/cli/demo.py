"""`containment demo`: the product on something every machine has.

Assembles a three-layer OCI image from this machine's own package databases (os-release,
dpkg or apk status, the running Python's installed distributions), with a top layer that
removes a package the way `apt-get remove` in a Dockerfile would, then inventories it and
writes a CycloneDX SBOM. Needs no network and nothing outside this repository.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

import typer

from containment.cli.common import user_errors


def _read(path: str, limit: int = 64 << 20) -> bytes | None:
    try:
        real = os.path.realpath(path)
        with open(real, "rb") as f:
            return f.read(limit)
    except OSError:
        return None


def _python_layer(entries: list) -> list[str]:  # type: ignore[type-arg]
    from containment.image.build import TarEntry

    site = sysconfig.get_paths()["purelib"]
    names = []
    for d in sorted(os.listdir(site)):
        if not d.endswith(".dist-info"):
            continue
        meta = _read(os.path.join(site, d, "METADATA"), 1 << 20)
        if not meta:
            continue
        rel = f"usr/local/lib/python3/site-packages/{d}/METADATA"
        entries.append(TarEntry(rel, meta))
        names.append(d)
    return names


def build_demo_image(root: Path) -> str:
    from containment.image.build import ImageSpec, TarEntry, layer_tar, write_oci

    base: list[TarEntry] = []
    osr = _read("/etc/os-release") or _read("/usr/lib/os-release") or b"ID=linux\n"
    base.append(TarEntry("usr/lib/os-release", osr))
    base.append(TarEntry("etc/os-release", kind="symlink", link="../usr/lib/os-release"))
    removed_status = None
    status = _read("/var/lib/dpkg/status")
    if status:
        base.append(TarEntry("var/lib/dpkg/status", status))
        stanzas = status.split(b"\n\n")
        keep = [s for s in stanzas if not s.startswith(b"Package: hostname\n")]
        if len(keep) == len(stanzas) and len(stanzas) > 1:
            keep = stanzas[:-2] + stanzas[-1:]
        removed_status = b"\n\n".join(keep)
    apk = _read("/lib/apk/db/installed")
    if apk:
        base.append(TarEntry("lib/apk/db/installed", apk))
    for rel in ("etc/debian_version", "etc/alpine-release"):
        data = _read("/" + rel)
        if data:
            base.append(TarEntry(rel, data))
    app: list[TarEntry] = []
    dists = _python_layer(app)
    top: list[TarEntry] = []
    if removed_status is not None:
        top.append(TarEntry("var/lib/dpkg/status", removed_status))
    if dists:
        top.append(TarEntry(f"usr/local/lib/python3/site-packages/.wh.{dists[0]}"))
    spec = ImageSpec(
        layers=[layer_tar(base), layer_tar(app), layer_tar(top)],
        history=[
            "ADD rootfs: this machine's OS package database",
            "RUN pip install ... (this machine's Python distributions)",
            "RUN apt-get remove -y hostname && pip uninstall -y ...",
        ],
        config={"Cmd": ["/bin/sh"], "User": "1000"},
    )
    _write_atomically(root, lambda tmp: write_oci(str(tmp), spec, tag="demo"))
    return f"oci:{root}:demo"


def _write_atomically(root: Path, write: Callable[[Path], object]) -> None:
    """Build a directory next to `root` and swap it in: an interrupted or failed demo leaves the
    previous image (or none), never a half-written layout."""
    import shutil
    import tempfile

    from containment import interrupt

    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}-", suffix=".tmp"))
    old = tmp.with_name(tmp.name[: -len(".tmp")] + ".old")
    try:
        with interrupt.temp_file(str(tmp)), interrupt.temp_file(str(old)):
            write(tmp)
            if root.exists():
                os.replace(root, old)
            os.replace(tmp, root)
    finally:
        for leftover in (tmp, old):
            shutil.rmtree(leftover, ignore_errors=True)


def demo(
    workdir: str = typer.Option(
        "", "--workdir", help="where to build the demo image (default: the cache dir)"
    ),
    db: str | None = typer.Option(
        None, "--db", help="advisory database (default: $CONTAINMENT_DB or the cache dir); used when present"
    ),
) -> None:
    """Build a small image from this machine's own files, inventory it, write its SBOM, summarize."""
    from containment.cache import cache_dir
    from containment.cli.common import dump_json, progress_printer, write_output
    from containment.escape import one_line
    from containment.layers import Analyzer, scan_target
    from containment.report.cyclonedx import to_cyclonedx
    from containment.report.summary import to_summary

    with user_errors():
        base = Path(workdir) if workdir else cache_dir() / "demo"
        img = base / "image"
        ref = build_demo_image(img)
        print(
            one_line(f"built {ref} from this machine's package databases")
            + "\n  3 layers: the OS package database, this Python's distributions, and a top layer that"
            "\n  removes a package the way `apt-get remove` / `pip uninstall` in a Dockerfile would\n"
        )
        inv = scan_target(ref, Analyzer(progress=progress_printer()))
        findings, db_note, notes, gaps = _findings(inv, db)
        _warn_some([*inv.warnings, *notes])
        sbom = base / "sbom.cdx.json"
        write_output(dump_json(to_cyclonedx(inv)), str(sbom))
        sys.stdout.write(to_summary(inv, findings, db_note, gaps))
        print()
        print(one_line(f"CycloneDX 1.6 SBOM: {sbom}"))
        print(_next_steps(ref, findings is not None))


def _findings(inv, db: str | None):  # type: ignore[no-untyped-def]
    """The inventory's findings and a note naming the database, or (None, what to do) without one."""
    from containment.advisories.store import AdvisoryStore, default_path
    from containment.escape import one_line
    from containment.model import FeedError

    path = default_path(db)
    if not path.is_file():
        return None, f"no advisory database at {one_line(str(path))} yet (next: db update)", [], []
    from containment.service import ScanOptions, scan

    try:
        report = scan(
            inv.target,
            ScanOptions(db=db, default_ignorefiles=False),  # the demo image is ours: no ignore file
            open_store=lambda _: AdvisoryStore.open(str(path)),
            inv=inv,
        )
    except FeedError as e:
        return None, one_line(str(e)), [], []
    updated = report.db.get("updated_at") or "unknown"
    notes = [w for w in report.warnings if w not in inv.warnings]
    return list(report.findings), one_line(f"{path}, updated {updated}"), notes, list(report.gaps)


def _warn_some(warnings: list[str], limit: int = 5) -> None:
    from containment.cli.common import warn

    for w in warnings[:limit]:
        warn(w)
    if len(warnings) > limit:
        warn(f"... and {len(warnings) - limit} more (containment inventory shows them all)")


def _next_steps(ref: str, have_db: bool) -> str:
    import shlex
    import shutil

    exe = "containment" if shutil.which("containment") == os.path.abspath(sys.argv[0]) else sys.argv[0]
    if exe.endswith("__main__.py"):
        exe = "python -m containment"
    r = shlex.quote(ref)
    steps = [
        (f"{exe} inventory {r}", "every package, layer by layer"),
        (f"{exe} inventory {r} --format json", "the same, as JSON"),
        (f"{exe} sbom {r} --format spdx", "an SPDX 2.3 SBOM"),
    ]
    if have_db:
        steps.append((f"{exe} scan image {r}", "each vulnerability: fixed version, layer"))
    else:
        steps.append((f"{exe} db update", "download the advisory database (OSV)"))
        steps.append((f"{exe} scan image {r}", "then: each vulnerability, fixed version, layer"))
    steps += [
        (f"{exe} scan image {r} --scanners secret,config", "secrets in every layer, image config and hygiene"),
        (f"{exe} score {r}", "one 0-100 risk score and the fixes that lower it most"),
        (f"{exe} scan config .", "Dockerfiles, Kubernetes manifests, Compose files"),
        (f"{exe} scan fs .", "a source tree: lockfiles and installed packages"),
        (f"{exe} sbom docker-archive:./img.tar", "a `docker save` archive (or oci:DIR, a registry ref)"),
    ]
    w = max(len(c) for c, _ in steps)
    return "\nnext:\n" + "\n".join(f"  {c.ljust(w)}  # {why}" for c, why in steps)
