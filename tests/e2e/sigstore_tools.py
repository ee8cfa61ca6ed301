"""Real cosign 2.5, skopeo 1.18 and podman 5.4 (Debian trixie's) for signature interop tests.

They are unpacked at test time by ../shared/tools/trixie-sigstore.sh under a cache dir
(CONTAINMENT_TOOLS_DIR, default ~/.cache/containment-tools; never committed); a test skips with
the reason when they cannot be had. Bookworm's skopeo/podman have sigstore support patched out.
Each verifier runs with HOME in a tmp dir holding its `policy.json` (a sigstoreSigned requirement
for our public key, signedIdentity matchRepository) and `registries.d` (use-sigstore-attachments).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

from tests.conftest import ROOT

SCRIPT = ROOT.parent / "shared" / "tools" / "trixie-sigstore.sh"
DEB_SCRIPT = ROOT.parent / "shared" / "tools" / "trixie-deb.sh"
PASSWORD = "correct horse battery staple"


def tools_dir() -> Path:
    base = os.environ.get("CONTAINMENT_TOOLS_DIR") or os.path.expanduser("~/.cache/containment-tools")
    return Path(base) / "sigstore"


@cache
def sigstore_tools() -> tuple[dict[str, str], str]:
    """({cosign, skopeo, podman: path}, "") or ({}, why they cannot be had)."""
    from tests.tools import missing

    d = tools_dir() / "bin"
    paths = {t: str(d / t) for t in ("cosign", "skopeo", "podman")}
    # podman 5 looks for its network helper even to pull: trixie's netavark, on trixie's glibc too
    paths["netavark"] = str(tools_dir() / "netavark" / "usr" / "lib" / "podman" / "netavark")

    def runnable() -> bool:
        try:
            return (
                all(
                    subprocess.run([p, "--version"], capture_output=True, timeout=60).returncode == 0
                    for t, p in paths.items()
                    if t != "cosign"
                )
                and subprocess.run([paths["cosign"], "version"], capture_output=True, timeout=60).returncode
                == 0
            )
        except OSError:
            return False

    if runnable():
        return paths, ""
    if not SCRIPT.exists():
        return {}, f"{SCRIPT} is missing: cannot fetch trixie's cosign/skopeo/podman"
    why = missing("patchelf", "patchelf") or missing("dpkg-deb", "dpkg")
    if why:
        return {}, why
    r = subprocess.run(["bash", str(SCRIPT), str(tools_dir())], capture_output=True, text=True, timeout=900)
    if not r.returncode:
        r = subprocess.run(
            ["bash", str(DEB_SCRIPT), str(tools_dir() / "netavark"), "netavark"],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if Path(paths["netavark"]).is_file():
            # the script ends by listing DEST/usr/bin, which netavark's package lacks: exit 2
            # although the binary was unpacked
            r = subprocess.CompletedProcess(r.args, 0, r.stdout, r.stderr)
    if not r.returncode:
        lib = tools_dir() / "root" / "usr" / "lib" / "x86_64-linux-gnu"
        r = subprocess.run(
            [
                "patchelf",
                "--set-interpreter",
                str(lib / "ld-linux-x86-64.so.2"),
                "--force-rpath",
                "--set-rpath",
                str(lib),
                paths["netavark"],
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    if r.returncode or not runnable():
        tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["no output"]
        return {}, f"trixie's cosign/skopeo/podman could not be installed ({tail[0]}); offline?"
    return paths, ""


def containment(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run containment with the key password set (the signing commands need it)."""
    e = {**os.environ, "CONTAINMENT_KEY_PASSWORD": PASSWORD, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "containment", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=e,
    )


def cosign(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    paths, _ = sigstore_tools()
    env = {**os.environ, "COSIGN_PASSWORD": PASSWORD, "HOME": str(cwd or Path.cwd())}
    flags = ["--allow-http-registry", "--allow-insecure-registry"] if args[0] != "generate-key-pair" else []
    return subprocess.run(
        [paths["cosign"], *args, *flags], capture_output=True, text=True, timeout=300, env=env, cwd=cwd
    )


def cosign_verify(ref: str, pub: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    return cosign("verify", "--key", str(pub), "--insecure-ignore-tlog", ref, cwd=workdir)


def cosign_verify_attestation(
    ref: str, pub: Path, workdir: Path, kind: str = "vuln"
) -> subprocess.CompletedProcess[str]:
    return cosign(
        "verify-attestation", "--key", str(pub), "--insecure-ignore-tlog", "--type", kind, ref, cwd=workdir
    )


def verifier_home(workdir: Path, host: str, pub: Path) -> Path:
    """A HOME whose containers policy admits only images of `host` signed by `pub` (sigstore,
    matchRepository) and whose registries.d makes skopeo/podman read cosign's .sig tags."""
    home = workdir / "home"
    conf = home / ".config" / "containers"
    (conf / "registries.d").mkdir(parents=True, exist_ok=True)
    policy = {
        "default": [{"type": "reject"}],
        "transports": {
            "docker": {
                host: [
                    {
                        "type": "sigstoreSigned",
                        "keyPath": str(pub),
                        "signedIdentity": {"type": "matchRepository"},
                    }
                ]
            }
        },
    }
    (conf / "policy.json").write_text(json.dumps(policy))
    (conf / "registries.d" / "containment-test.yaml").write_text(
        f"docker:\n  {host}:\n    use-sigstore-attachments: true\n"
    )
    (conf / "containers.conf").write_text(
        '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n\n'
        f'[engine]\nruntime = "runc"\nevents_logger = "none"\ntmp_dir = "{workdir}/tmp"\n'
        f'helper_binaries_dir = ["{Path(sigstore_tools()[0]["netavark"]).parent}"]\n'
        f'static_dir = "{workdir}/libpod"\nvolume_path = "{workdir}/volumes"\n'
    )
    (conf / "storage.conf").write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{workdir}/graph"\nrunroot = "{workdir}/run"\n'
    )
    (workdir / "tmp").mkdir(exist_ok=True)
    return home


def _env(home: Path) -> dict[str, str]:
    conf = home / ".config" / "containers"
    return {
        **os.environ,
        "HOME": str(home),
        "CONTAINERS_CONF": str(conf / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(conf / "storage.conf"),
        "CONTAINERS_POLICY": str(conf / "policy.json"),
        "TMPDIR": str(home.parent / "tmp"),
    }


def skopeo_pull(ref: str, home: Path) -> subprocess.CompletedProcess[str]:
    """skopeo copy from the registry under the policy (to an OCI dir, discarded)."""
    paths, _ = sigstore_tools()
    conf = home / ".config" / "containers"
    out = home.parent / f"skopeo-out-{abs(hash(ref))}"
    return subprocess.run(
        [
            paths["skopeo"],
            "--policy",
            str(conf / "policy.json"),
            "--registries.d",
            str(conf / "registries.d"),
            "copy",
            "--quiet",
            "--remove-signatures",
            "--src-tls-verify=false",
            f"docker://{ref}",
            f"oci:{out}:x",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(home),
    )


def podman_pull(ref: str, home: Path) -> subprocess.CompletedProcess[str]:
    paths, _ = sigstore_tools()
    conf = home / ".config" / "containers"
    return subprocess.run(
        [
            paths["podman"],
            "pull",
            "--quiet",
            "--tls-verify=false",
            "--signature-policy",
            str(conf / "policy.json"),
            ref,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(home),
    )


def rewrite_attached(ref: str, digest: str, kind: str, change) -> None:  # noqa: ANN001
    """Replace the .sig/.att manifest of `digest` in `ref`'s repository by `change(layers)`, where
    layers is a list of [media_type, data, annotations] (an attacker with push rights)."""
    from containment.image.registry import RegistryClient, parse_reference
    from containment.image.source import OCI_MANIFEST
    from containment.supplychain import oci

    client = RegistryClient(parse_reference(ref), plain_http=True)
    try:
        items = [[a.media_type, a.data, dict(a.annotations)] for a in oci.read(client, digest, kind)]
        layers = []
        for mt, data, ann in change(items):
            layers.append(
                {"mediaType": mt, "size": len(data), "digest": client.push_bytes(data), "annotations": ann}
            )
        config = oci.config_for([d["digest"] for d in layers])
        client.push_bytes(config)
        client.put_manifest(oci.tag_for(digest, kind), oci.manifest_for(layers, config), OCI_MANIFEST)
    finally:
        client.close()


def copy_attached(src_ref: str, src_digest: str, dst_digest: str, kind: str = "sig") -> None:
    """Put the .sig of one image, unchanged, under another image's .sig tag (same repository)."""
    from containment.image.registry import RegistryClient, parse_reference
    from containment.supplychain import oci

    client = RegistryClient(parse_reference(src_ref), plain_http=True)
    try:
        body, mt, _ = client.get_manifest(oci.tag_for(src_digest, kind))
        client.put_manifest(oci.tag_for(dst_digest, kind), body, mt)
    finally:
        client.close()
