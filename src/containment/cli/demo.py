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
    write_oci(str(root), spec, tag="demo")
    return f"oci:{root}:demo"


def demo(
    workdir: str = typer.Option(
        "", "--workdir", help="where to build the demo image (default: the cache dir)"
    ),
) -> None:
    """Build a small image from this machine's own files, inventory it, and write its SBOM."""
    from containment.analyze import Analyzer, scan_target
    from containment.cache import cache_dir
    from containment.report.cyclonedx import to_cyclonedx
    from containment.report.inventory import to_table

    with user_errors():
        base = Path(workdir) if workdir else cache_dir() / "demo"
        img = base / "image"
        ref = build_demo_image(img)
        print(f"built {ref} from this machine's package databases (3 layers; the top one removes packages)\n")
        inv = scan_target(ref, Analyzer())
        sys.stdout.write(to_table(inv))
        from containment.cli.common import dump_json, write_output

        sbom = base / "sbom.cdx.json"
        write_output(dump_json(to_cyclonedx(inv)), str(sbom))
        print(f"\n{len(inv.packages)} packages; CycloneDX 1.6 SBOM written to {sbom}")
        import shutil

        exe = "containment" if shutil.which("containment") == os.path.abspath(sys.argv[0]) else sys.argv[0]
        if exe.endswith("__main__.py"):
            exe = "python -m containment"
        print(
            "\nnext:\n"
            f"  {exe} inventory {ref} --format json     # the same, as JSON\n"
            f"  {exe} sbom {ref} --format spdx          # SPDX 2.3\n"
            f"  {exe} sbom docker-archive:./img.tar     # a `docker save` archive\n"
            f"  {exe} sbom 127.0.0.1:5000/team/app:1.4 --plain-http   # straight from a registry\n"
            f"  {exe} db import ../shared/corpus/advisories && {exe} scan image {ref}   # vulnerabilities\n"
            f"  {exe} cache info                        # the layer cache (rescans read no known layer)"
        )
