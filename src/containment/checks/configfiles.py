"""The walk's config analyzer: finds Dockerfiles, Kubernetes manifests and Compose files in a
source tree or an image layer and parses them into ConfigDocs (cached with the layer); the
rules judge the documents after squashing (checks/registry.py), so a new rule re-reads nothing.

Which files: Dockerfiles and Compose files by name (checks/dockerfile.py, checks/compose.py);
Kubernetes manifests are `.yaml`/`.yml`/`.json` files that mention both `apiVersion` and `kind`
(a bytes test before any parsing), outside the trees where packages keep their own data files
(usr/share, usr/lib, node_modules, site-packages, ...), which are not deployment manifests.
"""

from __future__ import annotations

from collections.abc import Iterable

from containment.analyzers import LayerAnalyzer
from containment.catalog.base import FileTree
from containment.checks import compose, dockerfile, kubernetes
from containment.model import ConfigDoc, ConfigError

MAX_CONFIG_BYTES = 2 * 1024 * 1024
_MANIFEST_EXT = (".yaml", ".yml", ".json")
_NOT_MANIFESTS = (
    "usr/share/",
    "usr/lib/",
    "usr/lib64/",
    "usr/include/",
    "lib/",
    "proc/",
    "sys/",
    "var/lib/dpkg/",
    "var/lib/apt/",
)
_NOT_MANIFEST_PARTS = ("/node_modules/", "/site-packages/", "/dist-packages/", "/.git/", "/vendor/")


def _manifest_candidate(path: str) -> bool:
    if not path.endswith(_MANIFEST_EXT) or path.startswith(_NOT_MANIFESTS):
        return False
    p = "/" + path
    return not any(part in p for part in _NOT_MANIFEST_PARTS)


def parse_config_file(path: str, data: bytes, explicit: bool = False) -> ConfigDoc | None:
    """The document a config file holds; None when it is no config file we read (never, when
    `explicit`: the user named the file, so what it is not is said in `error`). A file that is a
    Dockerfile / Compose file / manifest but cannot be read comes back with `error` set."""
    kind = "dockerfile" if dockerfile.is_dockerfile(path) else "compose" if compose.is_compose(path) else ""
    try:
        if kind == "dockerfile":
            return dockerfile.parse(path, data)
        if kind == "compose":
            doc = compose.parse(path, data)
            if doc is not None:
                return doc
            return (
                ConfigDoc(path, "compose", (), error="no services: not a Compose file") if explicit else None
            )
        if explicit or (b"apiVersion" in data and b"kind" in data):
            kind = "kubernetes"
            doc = kubernetes.parse(path, data)
            if doc is not None:
                return doc
    except ConfigError as e:
        text = str(e)
        return ConfigDoc(
            path, kind or "unknown", (), error=text[len(path) + 2 :] if text.startswith(f"{path}: ") else text
        )
    if explicit:
        return ConfigDoc(
            path,
            "unknown",
            (),
            error="not a Dockerfile, Kubernetes manifest or Compose file; name Dockerfiles Dockerfile or "
            "*.Dockerfile and Compose files compose.yaml or docker-compose.yml",
        )
    return None


class ConfigFileAnalyzer(LayerAnalyzer):
    name = "config-files"
    version = 1
    group = "config"
    immediate = True  # parsed as the file streams by; the document is kept, the bytes are not
    max_size = MAX_CONFIG_BYTES

    def wants(self, path: str, mode: int, size: int) -> bool:
        return dockerfile.is_dockerfile(path) or compose.is_compose(path) or _manifest_candidate(path)

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[ConfigDoc]:
        doc = parse_config_file(path, data)
        return [doc] if doc is not None else []


ANALYZERS = (ConfigFileAnalyzer(),)

__all__ = ["ANALYZERS", "ConfigFileAnalyzer", "parse_config_file"]
