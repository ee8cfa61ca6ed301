"""Ctrl-C and SIGTERM through the real command line, in the middle of long work.

Each long command (db import of a large feed, into a new and into an existing database; db
update from a slow local HTTP server; sbom and scan of a big image; demo) is started in its own
session, and a signal is sent once it is at work, judged by what it has open or written (a
layer blob open, the temp database, a download's .part file), not by a sleep. Then:

- it exits with 128 + the signal (130 SIGINT, 143 SIGTERM) within a generous timeout (no
  figure is asserted: only that it ended);
- stderr is one line (`containment: interrupted (SIGINT)`), no traceback from it or a worker;
- no process of its session, and no child of it, is left;
- no temp file, no partial database or report is left, and an existing database is untouched
  (byte for byte).

SIGINT goes to the whole process group, as a terminal's Ctrl-C does (worker processes get it
too); SIGTERM to the main process only, as `kill PID` does; both the other way round as well
for the import, whose worker processes matter most.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from containment.image.build import ImageSpec, write_oci
from tests.conftest import base_layer

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs Linux /proc")

SIGNALS = {
    "SIGINT-group": (signal.SIGINT, True),
    "SIGTERM-process": (signal.SIGTERM, False),
}
BOTH_WAYS = {**SIGNALS, "SIGINT-process": (signal.SIGINT, False), "SIGTERM-group": (signal.SIGTERM, True)}
ENDED = 60  # seconds: generous; the point is that it ends, not how fast


# ----------------------------------------------------------------------------- fixtures


def _osv_zip(path: Path, n: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for i in range(n):
            rec = {
                "id": f"GHSA-test-{i:06d}",
                "modified": "2024-01-01T00:00:00Z",
                "summary": "s" * 100,
                "details": "d" * 1000,
                "aliases": [f"CVE-2024-{i}"],
                "affected": [
                    {
                        "package": {"ecosystem": "npm", "name": f"pkg{i % 3000}"},
                        "ranges": [
                            {"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": f"1.{i}.0"}]}
                        ],
                    }
                ],
            }
            z.writestr(f"GHSA-test-{i:06d}.json", json.dumps(rec))
    return path


def _small_db(db: Path) -> Path:
    """An existing advisory database (50 records)."""
    from containment.advisories.importer import import_paths

    import_paths([_osv_zip(db.parent.parent / f"{db.stem}-feed.zip", 50)], db)
    return db


@pytest.fixture(scope="module")
def big_feed(tmp_path_factory) -> Path:
    """An OSV zip that takes several seconds to import."""
    return _osv_zip(tmp_path_factory.mktemp("feed") / "all.zip", 40_000)


def _node_layer(tag: int, n: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for i in range(n):
            data = json.dumps({"name": f"p{tag}-{i}", "version": f"1.0.{i}"}).encode()
            ti = tarfile.TarInfo(f"app{tag}/node_modules/p{tag}-{i}/package.json")
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture(scope="module")
def big_image(tmp_path_factory) -> Path:
    """An OCI layout whose layers hold tens of thousands of packages (seconds of work)."""
    root = tmp_path_factory.mktemp("image") / "img"
    write_oci(str(root), ImageSpec(layers=[base_layer()] + [_node_layer(t, 8000) for t in range(3)]))
    return root


# ----------------------------------------------------------------------------- helpers


class Run:
    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.out = cwd / "stdout.txt"
        self.err = cwd / "stderr.txt"
        with open(self.out, "wb") as o, open(self.err, "wb") as e:
            self.p = subprocess.Popen(
                [sys.executable, "-m", "containment", *args],
                stdout=o,
                stderr=e,
                cwd=cwd,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        self.pid = self.p.pid

    def open_files(self) -> list[str]:
        out = []
        try:
            names = os.listdir(f"/proc/{self.pid}/fd")
        except OSError:
            return out
        for fd in names:
            try:
                out.append(os.readlink(f"/proc/{self.pid}/fd/{fd}"))
            except OSError:
                pass
        return out

    def wait_for(self, what: str, ready: Callable[[], bool], timeout: float = ENDED) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.p.poll() is not None:
                pytest.fail(f"ended before {what}: {self.p.returncode} {self.err.read_text()[-2000:]}")
            if ready():
                return
            time.sleep(0.005)
        self.kill()
        pytest.fail(f"never {what}")

    def signal(self, signum: int, group: bool) -> None:
        if group:
            os.killpg(self.pid, signum)
        else:
            os.kill(self.pid, signum)

    def ended(self) -> int:
        try:
            return self.p.wait(timeout=ENDED)
        except subprocess.TimeoutExpired:
            left = session_processes(self.pid)
            self.kill()
            pytest.fail(f"still running {ENDED} s after the signal (session: {left})")

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.p.wait()

    @property
    def stderr(self) -> str:
        return self.err.read_text(errors="replace")


def session_processes(pid: int) -> list[str]:
    """Processes of the run's session or whose parent is the run: none may outlive it."""
    left = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == pid:
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state, ppid, sid = fields[0], int(fields[1]), int(fields[3])
        if ppid == pid or sid == pid:
            left.append(f"{d} {state} {cmd[:120]}")
    return left


def assert_stopped(run: Run, signum: int) -> None:
    code = run.ended()
    err = run.stderr
    assert code == 128 + signum, (code, err[-3000:])
    word = "interrupted" if signum == signal.SIGINT else "terminated"
    assert err == f"containment: {word} ({signal.Signals(signum).name})\n", err[-3000:]
    assert session_processes(run.pid) == []


def temp_files(*dirs: Path) -> list[Path]:
    out = []
    for d in dirs:
        if d.exists():
            out += [
                p
                for p in d.rglob("*")
                if p.name.startswith(".") or p.name.endswith((".tmp", ".part", "-journal", "-wal"))
            ]
    return out


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- db import


@pytest.mark.parametrize("later", [0.2, 1.5])
@pytest.mark.parametrize("how", sorted(BOTH_WAYS))
def test_db_import_into_a_new_database(tmp_path, big_feed, how, later):
    signum, group = BOTH_WAYS[how]
    db = tmp_path / "db" / "advisories.db"
    run = Run(["db", "import", str(big_feed), "--db", str(db)], tmp_path)
    # the temp database exists once the files are listed and parsing has begun
    run.wait_for("building the database", lambda: any(p.endswith(".tmp") for p in run.open_files()))
    time.sleep(later)  # into the parsing, workers busy (a Ctrl-C there used to hang for minutes)
    run.signal(signum, group)
    assert_stopped(run, signum)
    assert not db.exists()
    assert temp_files(db.parent) == []


@pytest.mark.parametrize("how", sorted(BOTH_WAYS))
def test_db_import_into_an_existing_database_leaves_it_as_it_was(tmp_path, big_feed, how):
    signum, group = BOTH_WAYS[how]
    db = tmp_path / "db" / "advisories.db"
    before = digest(_small_db(db))
    run = Run(["db", "import", str(big_feed), "--db", str(db)], tmp_path)
    journal = db.with_name(db.name + "-journal")
    run.wait_for("writing into the database", journal.exists)  # the first rows are being written
    run.signal(signum, group)
    assert_stopped(run, signum)
    assert digest(db) == before
    assert temp_files(db.parent) == []


# ----------------------------------------------------------------------------- db update


class _SlowMirror(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        try:
            for i in range(0, len(self.body), 1 << 14):
                self.wfile.write(self.body[i : i + (1 << 14)])
                time.sleep(0.05)
        except OSError:
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_mirror(big_feed) -> Iterator[str]:
    handler = type("Handler", (_SlowMirror,), {"body": big_feed.read_bytes()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("how", sorted(SIGNALS))
def test_db_update_during_a_slow_download(tmp_path, slow_mirror, how):
    signum, group = SIGNALS[how]
    db = tmp_path / "db" / "advisories.db"
    before = digest(_small_db(db))
    cache = Path(os.environ["CONTAINMENT_CACHE_DIR"])
    run = Run(["db", "update", "--source", slow_mirror, "-e", "npm", "--db", str(db)], tmp_path)
    run.wait_for("downloading", lambda: any("/.part-" in p for p in run.open_files()))
    time.sleep(0.2)
    run.signal(signum, group)
    assert_stopped(run, signum)
    assert digest(db) == before
    assert temp_files(db.parent, cache) == []


@pytest.mark.parametrize("how", sorted(SIGNALS))
def test_db_update_during_the_import(tmp_path, big_feed, how):
    """A local mirror downloads at once: the signal lands while the new database is built."""
    signum, group = SIGNALS[how]
    db = tmp_path / "db" / "advisories.db"
    before = digest(_small_db(db))
    (tmp_path / "mirror" / "npm").mkdir(parents=True)
    os.symlink(big_feed, tmp_path / "mirror" / "npm" / "all.zip")
    run = Run(["db", "update", "--source", str(tmp_path / "mirror"), "-e", "npm", "--db", str(db)], tmp_path)
    run.wait_for("building the new database", lambda: any(p.endswith(".tmp") for p in run.open_files()))
    time.sleep(0.5)
    run.signal(signum, group)
    assert_stopped(run, signum)
    assert digest(db) == before
    assert temp_files(db.parent) == []


# ----------------------------------------------------------------------------- scan, sbom, demo


def _reading_a_layer(run: Run, image: Path) -> Callable[[], bool]:
    blobs = str(image / "blobs")
    return lambda: any(p.startswith(blobs) for p in run.open_files())


@pytest.mark.parametrize("how", sorted(SIGNALS))
@pytest.mark.parametrize("command", ["sbom", "scan"])
def test_sbom_and_scan_of_a_big_image(tmp_path, big_image, command, how):
    signum, group = SIGNALS[how]
    out = tmp_path / "out" / "report.json"
    out.parent.mkdir()
    out.write_text("previous report")
    args = ["sbom", f"oci:{big_image}"] if command == "sbom" else ["scan", "image", f"oci:{big_image}"]
    if command == "scan":
        db = _small_db(tmp_path / "advisories.db")
        args += ["--db", str(db), "--format", "json"]
    run = Run([*args, "-o", str(out)], tmp_path)
    run.wait_for("reading a layer", _reading_a_layer(run, big_image))
    time.sleep(0.2)
    run.signal(signum, group)
    assert_stopped(run, signum)
    assert out.read_text() == "previous report"
    assert temp_files(out.parent, Path(os.environ["CONTAINMENT_CACHE_DIR"])) == []


@pytest.mark.parametrize("how", sorted(SIGNALS))
def test_demo(tmp_path, how):
    signum, group = SIGNALS[how]
    work = tmp_path / "demo"
    run = Run(["demo", "--workdir", str(work)], tmp_path)
    # the demo image is being written (a temp directory next to where it goes)
    run.wait_for("building the demo image", lambda: work.is_dir() and any(work.iterdir()))
    run.signal(signum, group)
    assert_stopped(run, signum)
    assert temp_files(work) == []
    assert not (work / "sbom.cdx.json").exists()  # it was never complete


HAND_OVER = """
import os, signal, sys, time
from containment import interrupt
interrupt.install()
if sys.argv[1] == "hand-over":
    interrupt.hand_over()
    signal.signal(signal.SIGTERM, lambda *_: print("own handler", flush=True))
try:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(interrupt.GRACE * 2.5)
    print("finished its shutdown", flush=True)
except BaseException as e:
    print(type(e).__name__, flush=True)
    time.sleep(interrupt.GRACE * 2.5)
    print("outlived the deadline", flush=True)
"""


@pytest.mark.parametrize("mode", ["install-only", "hand-over"])
def test_a_command_that_stops_itself_gets_the_signals_and_no_deadline(mode: str) -> None:
    """serve and worker hand the signals over: their graceful shutdown is longer than GRACE."""
    r = subprocess.run([sys.executable, "-c", HAND_OVER, mode], capture_output=True, text=True, timeout=60)
    if mode == "hand-over":
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines() == ["own handler", "finished its shutdown"]
    else:  # the default: Interrupted at once, and the deadline ends the process whatever it does
        assert r.returncode == 128 + signal.SIGTERM
        assert r.stdout.splitlines() == ["Interrupted"]
