"""What Trivy and Grype users expect of the command line, as they meet it (`python -m containment`):
every flag also from CONTAINMENT_* and from a config file (flag > env > file > default), the README's
settings table, --version and -h everywhere, shell completion, --list-all-pkgs, --skip-dirs and
--skip-files, --timeout, --no-progress and --quiet, --only-fixed, --fail-on, and usage errors in one
line like every other error."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from containment.image.build import TarEntry, layer_tar
from tests.conftest import base_layer
from tests.unit.ux_helpers import Run, cli_on_tty, osv_db, pypi_advisory

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    """The test's environment without settings leaking in from the developer's shell."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CONTAINMENT_") or k == "CONTAINMENT_CACHE_DIR"
    }
    env.update(extra)
    return env


def run(*args: str, cwd: Path, **env: str) -> Run:
    p = subprocess.run(
        [sys.executable, "-m", "containment", *args],
        capture_output=True,
        encoding="utf-8",
        cwd=cwd,
        env=_env(**env),
        timeout=120,
    )
    return Run(p.returncode, p.stdout, p.stderr)


def one_error_line(r: Run) -> str:
    """The run failed as bad input: exit 2, one `containment: error:` line, nothing on stdout."""
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("containment: error: "), lines[0]
    assert "Usage:" not in r.stderr and "Try " not in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""
    return lines[0]


def unfixed_advisory(vid: str, name: str, severity: str = "MEDIUM") -> dict:
    rec = pypi_advisory(vid, name, "0", severity)
    rec["affected"][0]["ranges"][0]["events"] = [{"introduced": "0"}]
    return rec


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    """A source tree (requests: HIGH, fixed; flask: MEDIUM, no fix; six: clean; sub/urllib3: LOW,
    fixed) and an advisory database; the working directory is `tmp_path/work`."""
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "requirements.txt").write_text("requests==2.31.0\nflask==1.0\nsix==1.16.0\n")
    (tree / "sub" / "requirements.txt").write_text("urllib3==1.0\n")
    db = osv_db(
        tmp_path,
        pypi_advisory("PYSEC-1", "requests", "2.32.0", "HIGH"),
        unfixed_advisory("PYSEC-2", "flask", "MEDIUM"),
        pypi_advisory("PYSEC-3", "urllib3", "2.0", "LOW"),
    )
    (tmp_path / "work").mkdir()
    return tree, db


def scan(project: tuple[Path, Path], *args: str, cwd: Path | None = None, **env: str) -> Run:
    tree, db = project
    return run("scan", "fs", str(tree), "--db", str(db), *args, cwd=cwd or tree.parent / "work", **env)


def ids(r: Run) -> list[str]:
    assert r.returncode in (0, 1, 3, 4, 5, 6), r.stderr
    return sorted(f["id"] for f in json.loads(r.stdout)["findings"])


def names(r: Run) -> list[str]:
    return sorted(p["name"] for p in json.loads(r.stdout).get("packages", []))


# ------------------------------------------------------------------- flag > env > file > default


def test_int_setting_flag_beats_env_beats_file(project):
    work = project[0].parent / "work"
    assert scan(project, "-q").returncode == 0  # default: 0 with findings
    (work / "containment.yaml").write_text("exit-code: 3\n")
    assert scan(project, "-q").returncode == 3
    assert scan(project, "-q", CONTAINMENT_EXIT_CODE="4").returncode == 4
    assert scan(project, "-q", "--exit-code", "5", CONTAINMENT_EXIT_CODE="4").returncode == 5


def test_bool_setting_flag_beats_env_beats_file(project):
    work = project[0].parent / "work"
    fmt = ("-f", "json", "-q")
    assert names(scan(project, *fmt)) == []
    (work / "containment.yaml").write_text("list-all-pkgs: true\n")
    assert names(scan(project, *fmt)) == ["flask", "requests", "six", "urllib3"]
    assert names(scan(project, *fmt, CONTAINMENT_LIST_ALL_PKGS="false")) == []
    assert names(scan(project, *fmt, "--list-all-pkgs", CONTAINMENT_LIST_ALL_PKGS="false")) == [
        "flask",
        "requests",
        "six",
        "urllib3",
    ]


def test_list_setting_flag_beats_env_beats_file(project):
    work = project[0].parent / "work"
    fmt = ("-f", "json", "-q", "--list-all-pkgs")
    (work / "containment.yaml").write_text("skip-dirs:\n  - sub\n  - nothing\n")
    assert names(scan(project, *fmt)) == ["flask", "requests", "six"]
    # the variable replaces the file's list (it does not add to it); commas and spaces separate
    assert names(scan(project, *fmt, CONTAINMENT_SKIP_DIRS="nothing,other")) == [
        "flask",
        "requests",
        "six",
        "urllib3",
    ]
    assert names(scan(project, *fmt, "--skip-files", "requirements.txt", CONTAINMENT_SKIP_DIRS="sub")) == []
    assert names(scan(project, *fmt, "--skip-dirs", "x", CONTAINMENT_SKIP_DIRS="sub")) == [
        "flask",
        "requests",
        "six",
        "urllib3",
    ]


def test_enum_setting_flag_beats_env_beats_file(project):
    work = project[0].parent / "work"
    assert "Total:" in scan(project, "-q").stdout  # table
    (work / "containment.yaml").write_text("format: json\n")
    assert json.loads(scan(project, "-q").stdout)["schema_version"] == 1
    assert json.loads(scan(project, "-q", CONTAINMENT_FORMAT="sarif").stdout)["version"] == "2.1.0"
    doc = json.loads(scan(project, "-q", "-f", "cyclonedx", CONTAINMENT_FORMAT="sarif").stdout)
    assert doc["bomFormat"] == "CycloneDX"


def test_a_list_for_a_comma_separated_option_and_the_alias_keys(project):
    work = project[0].parent / "work"
    (work / "containment.yaml").write_text("severity: [HIGH, MEDIUM]\nformat: json\nquiet: yes\n")
    assert ids(scan(project)) == ["PYSEC-1", "PYSEC-2"]
    (work / "containment.yaml").write_text("only-fixed: true\nformat: json\n")
    assert ids(scan(project)) == ["PYSEC-1", "PYSEC-3"]
    assert ids(scan(project, CONTAINMENT_ONLY_FIXED="0")) == ["PYSEC-1", "PYSEC-2", "PYSEC-3"]
    assert ids(scan(project, CONTAINMENT_IGNORE_UNFIXED="0")) == ["PYSEC-1", "PYSEC-2", "PYSEC-3"]


def test_which_config_file(project, tmp_path):
    work = tmp_path / "work"
    (work / "containment.yaml").write_text("exit-code: 3\n")
    other = tmp_path / "ci.yaml"
    other.write_text("exit-code: 7\n")
    assert scan(project, "-q").returncode == 3  # ./containment.yaml
    assert scan(project, "-q", CONTAINMENT_CONFIG=str(other)).returncode == 7
    assert scan(project, "-q", "--config", str(other)).returncode == 7
    tree, db = project
    # --config before the command, as Trivy users write it
    r = run("--config", str(other), "scan", "fs", str(tree), "--db", str(db), "-q", cwd=work)
    assert r.returncode == 7
    # a setting another command has is no error for this one
    other.write_text("exit-code: 7\nplatform: linux/arm64\nsource: /mirror\n")
    assert scan(project, "-q", "--config", str(other)).returncode == 7
    line = one_error_line(scan(project, "--config", str(tmp_path / "missing.yaml")))
    assert "missing.yaml: config file not found" in line
    line = one_error_line(scan(project, CONTAINMENT_CONFIG=str(tmp_path / "gone.yaml")))
    assert "gone.yaml: config file not found (from CONTAINMENT_CONFIG)" in line


@pytest.mark.parametrize(
    "text, says",
    [
        ("severity: HIGH\nexit-code: [1\n", "containment.yaml:3: not valid YAML"),
        ("format: json\n  bad: indent\n", "containment.yaml:2: not valid YAML"),
        (
            "severity: HIGH\nseverty: HIGH\n",
            "containment.yaml:2: unknown key 'severty' (did you mean 'severity'?)",
        ),
        (
            "quiet: true\nexit-code: lots\n",
            "containment.yaml:2: exit-code: 'lots' is not a valid int; fix the value or remove the key",
        ),
        ("format: xml\n", "containment.yaml:1: format: 'xml' is not one of"),
        ("list-all-pkgs: maybe\n", "containment.yaml:1: list-all-pkgs: 'maybe' is not a valid boolean"),
        ("timeout: soon\n", "containment.yaml:1: timeout: 'soon' is not a duration"),
        ("exit-code:\n", "containment.yaml:1: exit-code: no value"),
        ("skip-dirs: {a: b}\n", "containment.yaml:1: skip-dirs: expected a value, not a mapping"),
        ("- severity\n", "containment.yaml:1: expected a mapping of flag names"),
        ("exit-code: 1\nexit-code: 2\n", "containment.yaml:2: exit-code: given twice"),
    ],
)
def test_bad_config_file_is_one_line_with_file_line_and_key(project, text, says):
    work = project[0].parent / "work"
    (work / "containment.yaml").write_text(text)
    line = one_error_line(scan(project))
    assert says in line, line


def test_a_bad_value_from_the_environment_names_the_variable(project):
    line = one_error_line(scan(project, CONTAINMENT_EXIT_CODE="lots"))
    assert "CONTAINMENT_EXIT_CODE=lots: 'lots' is not a valid int" in line
    line = one_error_line(scan(project, CONTAINMENT_FORMAT="xml"))
    assert "CONTAINMENT_FORMAT=xml: 'xml' is not one of" in line and "see containment scan fs --help" in line


def test_other_commands_take_their_settings_from_the_same_places(tmp_path, make_oci):
    img = "oci:" + make_oci([base_layer(("bash", "5.2"))])
    (tmp_path / "containment.yaml").write_text("format: spdx\n")
    assert json.loads(run("sbom", img, cwd=tmp_path).stdout)["spdxVersion"] == "SPDX-2.3"
    out = run("sbom", img, cwd=tmp_path, CONTAINMENT_FORMAT="cyclonedx").stdout
    assert json.loads(out)["bomFormat"] == "CycloneDX"
    (tmp_path / "containment.yaml").write_text("json: true\n")
    r = run("db", "status", "--db", str(osv_db(tmp_path, pypi_advisory("PYSEC-9", "x", "1"))), cwd=tmp_path)
    assert json.loads(r.stdout)["advisories"] == 1


# ------------------------------------------------------------------- the README's table


def test_readme_settings_table_is_the_real_option_list():
    import typer

    from containment.cli.main import app
    from containment.cli.settings import env_name, flag_names, is_setting, prepare, settings_table, walk

    root = prepare(typer.main.get_command(app))
    table = settings_table(root)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert table in readme, (
        "the README's settings table is out of date: run "
        "`.venv/bin/python -m containment.cli.settings README.md`"
    )
    every = {n for _, cmd in walk(root) for p in cmd.params if is_setting(p) for n in flag_names(p)}
    assert {"severity", "exit-code", "format", "skip-dirs", "timeout", "fail-on", "only-fixed"} <= every
    for n in every:  # every flag of every command has its row: variable and key
        assert f"`{env_name(n)}`" in table and f"`--{n}`" in table


# ------------------------------------------------------------------- --version, -h, completion


def _commands() -> list[tuple[str, ...]]:
    import typer

    from containment.cli.main import app
    from containment.cli.settings import walk

    return [path for path, _ in walk(typer.main.get_command(app))]


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "containment")
def test_dash_h_and_version_everywhere(path, tmp_path):
    r = run(*path, "-h", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("Usage: containment") and r.stderr == ""
    v = run(*path, "--version", cwd=tmp_path)
    assert (v.returncode, v.stdout, v.stderr) == (0, "containment 0.1.0\n", "")


def test_version_in_root_help_only(tmp_path):
    assert "--version" in run("-h", cwd=tmp_path).stdout
    assert "--version" not in run("scan", "image", "-h", cwd=tmp_path).stdout


@pytest.mark.parametrize(
    "shell, says",
    [
        ("bash", "complete -o default -F _containment_completion containment"),
        ("zsh", "compdef _containment_completion containment"),
        ("fish", "complete --command containment"),
    ],
)
def test_completion_scripts(shell, says, tmp_path):
    r = run("completion", shell, cwd=tmp_path)
    assert r.returncode == 0 and says in r.stdout and "_CONTAINMENT_COMPLETE=complete_" + shell in r.stdout


def test_completion_answers_from_the_command_tree(tmp_path):
    r = run(
        cwd=tmp_path, _CONTAINMENT_COMPLETE="complete_bash", COMP_WORDS="containment scan im", COMP_CWORD="2"
    )
    assert r.stdout.split() == ["image"]
    r = run(
        cwd=tmp_path,
        _CONTAINMENT_COMPLETE="complete_zsh",
        _TYPER_COMPLETE_ARGS="containment scan image --sev",
    )
    assert "--severity" in r.stdout
    # a broken config file never breaks completion
    (tmp_path / "containment.yaml").write_text("[[[")
    r = run(
        cwd=tmp_path, _CONTAINMENT_COMPLETE="complete_zsh", _TYPER_COMPLETE_ARGS="containment scan fs --only"
    )
    assert "--only-fixed" in r.stdout and r.returncode == 0


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_bash_completes_with_the_script(tmp_path):
    exe = Path(sys.executable).parent / "containment"
    if not exe.exists():
        pytest.skip(f"{exe} not installed (pip install -e .)")
    script = run("completion", "bash", cwd=tmp_path).stdout
    (tmp_path / "c.bash").write_text(script)
    r = subprocess.run(
        [
            "bash",
            "-c",
            "source c.bash; COMP_WORDS=(containment sca); COMP_CWORD=1; "
            '_containment_completion containment; echo "${COMPREPLY[@]}"',
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(PATH=f"{exe.parent}:{os.environ['PATH']}"),
        timeout=60,
    )
    assert r.stdout.split() == ["scan"], r.stderr


# ------------------------------------------------------------------- usage errors: one line


@pytest.mark.parametrize(
    "args, says",
    [
        (
            ["scan", "image", "oci:x", "--severty", "HIGH"],
            "containment: error: scan image: no such option --severty (did you mean --severity?); "
            "see containment scan image --help",
        ),
        (
            ["sbom", "oci:x", "--formt", "spdx"],
            "sbom: no such option --formt (did you mean --format?)",
        ),
        (
            ["sacn", "image"],
            "containment: error: no such command 'sacn' (did you mean 'scan'?); see containment --help",
        ),
        (["db", "stats"], "db: no such command 'stats' (did you mean 'status'?); see containment db --help"),
        (["scan", "image"], "scan image: missing argument TARGET; see containment scan image --help"),
        (["scan", "fs", ".", "--exit-code"], "scan fs: --exit-code needs a value"),
        (["scan", "fs", ".", "--exit-code", "x"], "scan fs: --exit-code: 'x' is not a valid int"),
        (["scan", "fs", ".", "-f", "xml"], "scan fs: --format: 'xml' is not one of 'table', 'json'"),
        (["scan", "fs", ".", "--fail-on", "SEVERE"], "scan fs: --fail-on: 'SEVERE' is not one of"),
        (
            ["scan", "fs", ".", "--timeout", "5x"],
            "scan fs: --timeout: '5x' is not a duration; write e.g. 30s, 5m",
        ),
        (["inventory", "oci:x", "extra"], "inventory: unexpected argument extra"),
        (["cache", "info", "--quiet"], "cache info: no such option --quiet"),
        (
            ["sbom", "oci:x", "--fail-on", "high"],
            "sbom: no such option --fail-on (scan config, scan fs, scan image take it)",
        ),
        (["scan", "fs", ".", "--workdir", "x"], "scan fs: no such option --workdir (demo takes it)"),
    ],
)
def test_usage_errors_are_one_line(args, says, tmp_path):
    line = one_error_line(run(*args, cwd=tmp_path))
    assert says in line, line


# ------------------------------------------------------------------- the scan flags


def test_list_all_pkgs_json_is_valid_and_table_lists_every_package(project):
    import jsonschema

    from containment.report.findings_json import schema_path

    schema = json.loads(schema_path().read_text())
    doc = json.loads(scan(project, "-f", "json", "--list-all-pkgs").stdout)
    jsonschema.validate(doc, schema)
    assert {p["name"]: p["version"] for p in doc["packages"]} == {
        "flask": "1.0",
        "requests": "2.31.0",
        "six": "1.16.0",
        "urllib3": "1.0",
    }
    plain = json.loads(scan(project, "-f", "json").stdout)
    jsonschema.validate(plain, schema)
    assert "packages" not in plain
    table = scan(project, "--list-all-pkgs").stdout
    assert "six" in table and "1.16.0" in table
    assert "six" not in scan(project).stdout


def test_only_fixed_is_ignore_unfixed(project):
    assert ids(scan(project, "-f", "json")) == ["PYSEC-1", "PYSEC-2", "PYSEC-3"]
    assert ids(scan(project, "-f", "json", "--only-fixed")) == ["PYSEC-1", "PYSEC-3"]
    assert ids(scan(project, "-f", "json", "--ignore-unfixed")) == ["PYSEC-1", "PYSEC-3"]


@pytest.mark.parametrize(
    "args, code",
    [
        (["--fail-on", "critical"], 0),  # nothing that bad
        (["--fail-on", "HIGH"], 1),
        (["--fail-on", "low"], 1),
        (["--fail-on", "high", "--severity", "MEDIUM,LOW"], 0),  # the HIGH one is filtered out
        (["--fail-on", "high", "--skip-files", "requirements.txt"], 0),  # only sub/: a LOW one
        (["--fail-on", "medium", "--exit-code", "4"], 4),
        (["--fail-on", "critical", "--exit-code", "4"], 0),
    ],
)
def test_fail_on(project, args, code):
    assert scan(project, "-q", *args).returncode == code


def test_skip_dirs_and_files_in_image_layers_and_rootfs(tmp_path, make_oci):
    meta = b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n"
    jar_free = layer_tar(
        [
            TarEntry("usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA", meta),
            TarEntry("app/node_modules/left-pad/package.json", b'{"name": "left-pad", "version": "1.0.0"}'),
            TarEntry("srv/web/node_modules/jquery/package.json", b'{"name": "jquery", "version": "3.3.9"}'),
        ]
    )
    img = "oci:" + make_oci([base_layer(("bash", "5.2")), jar_free])

    def pkgs(target: str, *args: str) -> list[str]:
        r = run("inventory", target, "-f", "json", *args, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        return sorted(p["name"] for p in json.loads(r.stdout)["packages"])

    everything = ["bash", "jquery", "left-pad", "requests"]
    assert pkgs(img) == everything
    assert pkgs(img, "--skip-dirs", "**/node_modules") == ["bash", "requests"]
    assert pkgs(img, "--skip-dirs", "/app/node_modules") == ["bash", "jquery", "requests"]
    assert pkgs(img, "--skip-dirs", "./srv/**") == ["bash", "left-pad", "requests"]
    assert pkgs(img, "--skip-dirs", "usr/lib/python3*,var/lib/dpkg") == ["jquery", "left-pad"]
    assert pkgs(img, "--skip-files", "**/package.json", "--skip-files", "var/lib/dpkg/status") == ["requests"]
    assert pkgs(img, "--skip-files", "*/package.json") == everything  # * stays within one name
    assert pkgs(img) == everything  # the layer cache keeps what was read with other rules apart
    # the same rules on a root filesystem (dir:) and in sbom
    root = tmp_path / "rootfs"
    (root / "app" / "node_modules" / "left-pad").mkdir(parents=True)
    (root / "app" / "node_modules" / "left-pad" / "package.json").write_text(
        '{"name": "left-pad", "version": "1"}'
    )
    assert pkgs(f"dir:{root}") == ["left-pad"]
    assert pkgs(f"dir:{root}", "--skip-dirs", "app") == []
    r = run("sbom", img, "--skip-dirs", "**/node_modules", cwd=tmp_path)
    libs = [c["name"] for c in json.loads(r.stdout)["components"] if c["type"] == "library"]
    assert sorted(libs) == ["bash", "requests"]


def test_bad_skip_glob_is_one_line(project):
    line = one_error_line(scan(project, "--skip-dirs", "a/[b"))
    assert "--skip-dirs 'a/[b': '[' has no closing ']'" in line


@pytest.fixture
def silent_registry():
    """A registry that accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"127.0.0.1:{srv.getsockname()[1]}"
    stop.set()
    t.join()
    for c in conns:
        c.close()
    srv.close()


@pytest.mark.parametrize("command", [["sbom"], ["inventory"], ["scan", "image"]])
def test_timeout_stops_a_scan_that_cannot_finish(command, silent_registry, tmp_path):
    ref = f"{silent_registry}/team/app:1"
    line = one_error_line(run(*command, ref, "--plain-http", "--timeout", "1s", cwd=tmp_path))
    assert line == (
        f"containment: error: {ref}: timed out after 1s (--timeout 1s); raise --timeout (0: no limit) or scan less"
    )
    line = one_error_line(run(*command, ref, "--plain-http", cwd=tmp_path, CONTAINMENT_TIMEOUT="1500ms"))
    assert "timed out after 1.5s" in line


def test_timeout_that_is_not_reached_changes_nothing(project):
    assert ids(scan(project, "-f", "json", "--timeout", "10m")) == ids(scan(project, "-f", "json"))


def test_quiet_hides_warnings_no_progress_keeps_them(project, tmp_path):
    (tmp_path / "work" / ".containmentignore").write_text("PYSEC-3 exp:2020-01-01\n")
    shown = scan(project)
    assert "containment: warning:" in shown.stderr and "PYSEC-3 expired on 2020-01-01" in shown.stderr
    assert "containment: warning:" in scan(project, "--no-progress").stderr
    assert scan(project, "--quiet").stderr == ""
    assert scan(project, "--quiet", "--fail-on", "high").returncode == 1  # quiet is not silent on the result


def test_no_progress_on_a_terminal(tmp_path, make_oci):
    img = "oci:" + make_oci([base_layer(("bash", "5.2"))])
    shown = cli_on_tty("inventory", img, "-f", "json", "--no-cache", cwd=tmp_path)
    assert shown.returncode == 0 and "package record" in shown.stderr
    hidden = cli_on_tty("inventory", img, "-f", "json", "--no-cache", "--no-progress", cwd=tmp_path)
    assert hidden.returncode == 0 and "package record" not in hidden.stderr and "\x1b" not in hidden.stderr


# ------------------------------------------------------------------- start-up stays small


def test_yaml_is_imported_only_for_a_config_file(tmp_path, make_oci):
    """The warm path (every layer cached) imports no YAML parser unless there is a file to read."""
    img = "oci:" + make_oci([base_layer(("bash", "5.2"))])
    assert run("inventory", img, "-f", "json", cwd=tmp_path).returncode == 0

    def imported() -> set[str]:
        p = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "containment", "inventory", img, "-f", "json"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=_env(),
            timeout=120,
        )
        assert p.returncode == 0, p.stderr[-2000:]
        return {ln.split("|")[-1].strip() for ln in p.stderr.splitlines() if ln.startswith("import time:")}

    without = imported()
    assert "typer" in without  # the measurement works
    assert "yaml" not in without
    (tmp_path / "containment.yaml").write_text("quiet: true\n")
    assert "yaml" in imported()


# ------------------------------------------------------------------- a flag added later


def test_a_flag_added_later_gets_its_variable_key_and_row(tmp_path, monkeypatch, capsys):
    """The mechanism knows no flag by name: a new command's new option is settable from the
    environment and the config file, keeps a variable it declares itself, and has its row."""
    import typer

    from containment.cli.entry import ContainmentTyper, run
    from containment.cli.settings import prepare, settings_table

    app = ContainmentTyper(rich_markup_mode=None, add_completion=False)

    @app.command()
    def later(
        retries: int = typer.Option(1, "--max-retries", help="how often"),
        mirror: str = typer.Option("", "--mirror", envvar="OLD_MIRROR", help="where"),
    ) -> None:
        print(f"retries={retries} mirror={mirror}")

    @app.command()
    def other() -> None:
        pass

    monkeypatch.chdir(tmp_path)
    for k in [k for k in os.environ if k.startswith("CONTAINMENT_")]:
        monkeypatch.delenv(k)
    (tmp_path / "containment.yaml").write_text("max-retries: 3\nmirror: from-file\n")
    assert run(app, ["later"]) == 0
    assert capsys.readouterr().out == "retries=3 mirror=from-file\n"
    monkeypatch.setenv("CONTAINMENT_MAX_RETRIES", "4")
    monkeypatch.setenv("OLD_MIRROR", "from-old-variable")
    assert run(app, ["later"]) == 0
    assert capsys.readouterr().out == "retries=4 mirror=from-old-variable\n"
    assert run(app, ["later", "--max-retries", "5", "--mirror", "flag"]) == 0
    assert capsys.readouterr().out == "retries=5 mirror=flag\n"
    table = settings_table(prepare(typer.main.get_command(app)))
    assert "| `--max-retries` | `CONTAINMENT_MAX_RETRIES` | `max-retries` | later | how often |" in table
    assert "| `--mirror` | `OLD_MIRROR`, `CONTAINMENT_MIRROR` | `mirror` | later | where |" in table
