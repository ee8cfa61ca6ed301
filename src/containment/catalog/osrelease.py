"""Which distribution an image is: os-release first, then the distro-specific release files."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping

from containment.model import OSInfo

OS_RELEASE = ("etc/os-release", "usr/lib/os-release")
OS_FILES = frozenset(
    {
        *OS_RELEASE,
        "etc/alpine-release",
        "etc/debian_version",
        "etc/lsb-release",
        "etc/redhat-release",
        "etc/centos-release",
        "etc/fedora-release",
        "etc/rocky-release",
        "etc/almalinux-release",
        "etc/oracle-release",
        "etc/system-release",
        "etc/SuSE-release",
        "etc/photon-release",
        "etc/mariner-release",
        "etc/azurelinux-release",
        "usr/lib/system-release",
    }
)
MAX_OS_FILE = 64 * 1024


def parse_os_release(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        k, _, v = line.partition("=")
        try:
            parts = shlex.split(v, comments=False, posix=True)
            v = " ".join(parts)
        except ValueError:
            v = v.strip().strip("\"'")
        out[k.strip()] = v
    return out


def _debian_version(text: str) -> OSInfo | None:
    v = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not v:
        return None
    m = re.match(r"(\d+)", v)
    if m:
        return OSInfo("debian", m.group(1), "Debian GNU/Linux")
    # testing/unstable write "trixie/sid"
    return OSInfo("debian", "", "Debian GNU/Linux", v.split("/")[0])


def _redhat_like(text: str) -> OSInfo | None:
    line = text.strip().splitlines()[0] if text.strip() else ""
    m = re.match(r"(.+?) (?:Linux )?release ([\d.]+)", line)
    if not m:
        return None
    name = m.group(1).lower()
    ids = [
        ("centos", "centos"),
        ("rocky", "rocky"),
        ("alma", "almalinux"),
        ("fedora", "fedora"),
        ("oracle", "ol"),
        ("red hat", "rhel"),
        ("amazon", "amzn"),
        ("photon", "photon"),
        ("mariner", "mariner"),
        ("azure", "azurelinux"),
    ]
    for needle, osid in ids:
        if needle in name:
            return OSInfo(osid, m.group(2), m.group(1))
    return OSInfo(name.split()[0], m.group(2), m.group(1))


def detect(files: Mapping[str, bytes]) -> OSInfo | None:
    """OS identity from the (already link-resolved) release files of the final filesystem."""
    for path in OS_RELEASE:
        data = files.get(path)
        if data:
            kv = parse_os_release(data[:MAX_OS_FILE].decode("utf-8", "replace"))
            osid = kv.get("ID", "").lower()
            if osid:
                version = kv.get("VERSION_ID", "")
                if osid == "alpine" and files.get("etc/alpine-release"):
                    version = files["etc/alpine-release"].decode("utf-8", "replace").strip() or version
                if osid == "debian" and not version and files.get("etc/debian_version"):
                    dv = _debian_version(files["etc/debian_version"].decode("utf-8", "replace"))
                    version = dv.version_id if dv else ""
                return OSInfo(
                    id=osid,
                    version_id=version,
                    name=kv.get("PRETTY_NAME") or kv.get("NAME", ""),
                    version_codename=kv.get("VERSION_CODENAME", ""),
                    id_like=tuple(kv.get("ID_LIKE", "").split()),
                )
    fallbacks: list[tuple[str, Callable[[str], OSInfo | None]]] = [
        ("etc/alpine-release", lambda t: OSInfo("alpine", t.strip(), "Alpine Linux") if t.strip() else None),
        ("etc/debian_version", _debian_version),
        *[
            (p, _redhat_like)
            for p in sorted(OS_FILES)
            if p.endswith("-release") and "alpine" not in p and "lsb" not in p
        ],
    ]
    for path, fn in fallbacks:
        data = files.get(path)
        if data:
            info = fn(data[:MAX_OS_FILE].decode("utf-8", "replace"))
            if info:
                return info
    data = files.get("etc/lsb-release")
    if data:
        kv = parse_os_release(data[:MAX_OS_FILE].decode("utf-8", "replace"))
        if kv.get("DISTRIB_ID"):
            return OSInfo(
                kv["DISTRIB_ID"].lower(),
                kv.get("DISTRIB_RELEASE", ""),
                kv.get("DISTRIB_DESCRIPTION", ""),
                kv.get("DISTRIB_CODENAME", ""),
            )
    return None
