"""checks.dockerfile: detection, Conftest-shaped parse, every rule failing and passing (line asserted)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.checks.dockerfile import RULES, check, is_dockerfile, parse
from containment.model import SEVERITIES, ConfigError

OK_TAIL = "USER 1000\nHEALTHCHECK CMD [\"true\"]\n"


def lines_of(text: str, rule_id: str) -> list[int]:
    doc = parse("Dockerfile", text.encode())
    return [m.location.start_line for m in check(doc) if m.rule.id == rule_id]


@pytest.mark.parametrize(
    "name",
    ["Dockerfile", "Containerfile", "dockerfile", "Dockerfile.prod", "Containerfile.dev", "api.Dockerfile",
     "web.dockerfile", "sub/dir/Dockerfile"],
)
def test_is_dockerfile(name: str) -> None:
    assert is_dockerfile(name)


@pytest.mark.parametrize("name", ["Dockerfile.dockerignore", "Dockerfilex", ".dockerfile", "docker-compose.yml",
                                  "Dockerfile/", "README.md", "pkg/dockerfile.go", "dockerfile.json",
                                  "Dockerfile.md", "dockerfile.png", "Dockerfile.j2", "Dockerfile."])
def test_is_not_dockerfile(name: str) -> None:
    assert not is_dockerfile(name)


def test_parse_is_conftest_shape_with_lines_and_comments() -> None:
    text = "# syntax=docker/dockerfile:1\nFROM golang:1.22 AS build\nRUN go build \\\n  -o /app\n\nFROM scratch\n" \
           "COPY --from=build /app /app\nONBUILD RUN echo hi\n"
    doc = parse("Dockerfile", text.encode())
    assert doc.kind == "dockerfile" and len(doc.inputs) == 1
    cmds = doc.inputs[0]
    assert [c["Cmd"] for c in cmds] == ["comment", "from", "run", "from", "copy", "onbuild"]
    assert set(cmds[1]) >= {"Cmd", "SubCmd", "JSON", "Flags", "Value", "Stage", "Original", "StartLine", "EndLine"}
    assert cmds[0]["Value"] == ["syntax=docker/dockerfile:1"]
    assert cmds[1]["Value"] == ["golang:1.22", "AS", "build"] and cmds[1]["Stage"] == 0
    assert (cmds[2]["StartLine"], cmds[2]["EndLine"]) == (3, 4)
    assert cmds[4]["Flags"] == ["--from=build"] and cmds[4]["Stage"] == 1
    assert cmds[5]["SubCmd"] == "run" and cmds[5]["Value"] == ["echo hi"]


@pytest.mark.parametrize(
    "data",
    [b"\x00\x01\x02binary", b"\xff\xfe not utf8", b"", b"   \n# only a comment\n", b"RUN echo no from\n",
     b"FROM x\nRUN \"\n" + b"\x00", b"A" * (1024 * 1024 + 1)],
)
def test_parse_rejects_with_one_line_config_error(data: bytes) -> None:
    with pytest.raises(ConfigError) as e:
        parse("sub/Dockerfile", data)
    msg = str(e.value)
    assert msg.startswith("sub/Dockerfile: ") and "\n" not in msg


def test_rules_table() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids)) and len(ids) >= 40
    for r in RULES:
        assert r.kind == "dockerfile" and r.severity in SEVERITIES and r.rationale and r.remediation
        assert r.id.startswith("CTM-DF-")
        for a in r.aliases:
            assert a.startswith(("DL", "CIS Docker 4.", "CKV_DOCKER_")), a


# (rule, failing Dockerfile, line expected, passing Dockerfile)
CASES = [
    ("CTM-DF-001", "FROM a:1\nUSER 1000\nUSER root\n", 3, "FROM a:1\nUSER root\nRUN x\nUSER app\n"),
    ("CTM-DF-002", "FROM a:1 AS b\nUSER app\nFROM a:1\nRUN x\n", 3, "FROM a:1 AS b\nUSER app\nFROM b\nRUN x\n"),
    ("CTM-DF-003", "FROM a:1 AS b\nFROM nginx:latest\n", 2, "FROM nginx:latest@sha256:" + "a" * 64 + "\n"),
    ("CTM-DF-004", "FROM a:1\nFROM ubuntu\n", 2, "FROM ubuntu:24.04 AS u\nFROM u\nFROM $BASE\nFROM scratch\n"),
    ("CTM-DF-005", "FROM a:1\n", 1, "FROM a:1@sha256:" + "b" * 64 + "\nFROM scratch\n"),
    ("CTM-DF-006", "FROM a:1\nADD https://x.invalid/a.tgz /a\n", 2,
     "FROM a:1\nADD --checksum=sha256:" + "c" * 64 + " https://x.invalid/a.tgz /a\n"),
    ("CTM-DF-007", "FROM a:1\nADD conf.yml /etc/\n", 2, "FROM a:1\nADD app.tar.gz /opt/\nCOPY conf.yml /etc/\n"),
    ("CTM-DF-008", "FROM a:1\nRUN apt-get install -y curl\n", 2,
     "FROM a:1\nRUN apt-get install -y curl=7.1 ./x.deb -t bookworm-backports foo/bookworm\n"),
    ("CTM-DF-009", "FROM a:1\nRUN apk add --no-cache curl\n", 2,
     "FROM a:1\nRUN apk add --no-cache --virtual .deps curl=8.5-r0 'tar>1'\n"),
    ("CTM-DF-010", "FROM a:1\nRUN pip install --no-cache-dir flask\n", 2,
     "FROM a:1\nRUN pip install --no-cache-dir flask==3.0 -r req.txt && pip install --no-cache-dir .\n"),
    ("CTM-DF-011", "FROM a:1\nRUN npm install -g left-pad\n", 2,
     "FROM a:1\nRUN npm install left-pad@1.3.0 @scope/x@2 && npm install && npm ci\n"),
    ("CTM-DF-012", "FROM a:1\nRUN gem install rails\n", 2, "FROM a:1\nRUN gem install rails:7.1 && gem install -v 1 x\n"),
    ("CTM-DF-013", "FROM a:1\nRUN apt-get install -y x=1\n", 2,
     "FROM a:1\nRUN apt-get install -y --no-install-recommends x=1\n"),
    ("CTM-DF-014", "FROM a:1\nRUN apt-get update && apt-get install -y x=1\n", 2,
     "FROM a:1\nRUN apt-get update && apt-get install -y x=1 && rm -rf /var/lib/apt/lists/*\n"
     "RUN --mount=type=cache,target=/var/lib/apt/lists apt-get update\n"
     "RUN apt-get update && apt-get install -y y=1 && apt-get dist-clean\n"),
    ("CTM-DF-015", "FROM a:1\nRUN apk add x=1\n", 2, "FROM a:1\nRUN apk add --no-cache x=1\n"),
    ("CTM-DF-016", "FROM a:1\nRUN pip install x==1\n", 2,
     "FROM a:1\nENV PIP_NO_CACHE_DIR=1\nRUN pip install x==1\nFROM a:1\nRUN pip install --no-cache-dir x==1\n"),
    ("CTM-DF-017", "FROM a:1\nRUN apt-get update && apt-get dist-upgrade -y\n", 2,
     "FROM a:1\nRUN apt-get update && apt-get install -y x=1\n"),
    ("CTM-DF-018", "FROM a:1\nRUN echo && curl -fsSL https://x.invalid/i.sh | sh -s -- -y\n", 2,
     "FROM a:1\nRUN curl -fsSLo i.sh https://x.invalid/i.sh && sha256sum -c i.sum && sh i.sh\n"),
    ("CTM-DF-019", "FROM a:1\nRUN sudo make install\n", 2, "FROM a:1\nRUN make install\n"),
    ("CTM-DF-020", "FROM a:1\nRUN mkdir /d && chmod -R 777 /d\n", 2,
     "FROM a:1\nRUN chmod 755 /d && chmod 1777 /tmp && chmod o-w /x && chmod u+w /y\n"),
    ("CTM-DF-021", "FROM a:1\nENV A=1 DB_PASSWORD=hunter2\n", 2,
     "FROM a:1\nARG GITHUB_TOKEN\nENV DB_PASSWORD=$DB_PASSWORD PASSWORD_FILE=/run/secrets/p\n"),
    ("CTM-DF-022", "FROM a:1\nUSER 1\n", 1, "FROM a:1 AS b\nHEALTHCHECK CMD [\"true\"]\nFROM b\n"),
    ("CTM-DF-023", "FROM a:1\nEXPOSE 80 22/tcp\n", 2, "FROM a:1\nEXPOSE 80 2222\n"),
    ("CTM-DF-024", "FROM a:1\nCMD [\"a\"]\nCMD [\"b\"]\n", 3, "FROM a:1\nCMD [\"a\"]\nFROM a:1\nCMD [\"b\"]\n"),
    ("CTM-DF-025", "FROM a:1\nENTRYPOINT [\"a\"]\nENTRYPOINT [\"b\"]\n", 3, "FROM a:1\nENTRYPOINT [\"a\"]\n"),
    ("CTM-DF-026", "FROM a:1\nHEALTHCHECK NONE\nHEALTHCHECK CMD [\"b\"]\n", 3, "FROM a:1\nHEALTHCHECK CMD [\"b\"]\n"),
    ("CTM-DF-027", "FROM a:1\nRUN cd /src && make\n", 2, "FROM a:1\nWORKDIR /src\nRUN make\n"),
    ("CTM-DF-028", "FROM a:1\nWORKDIR app\n", 2, "FROM a:1\nWORKDIR /app\nWORKDIR $HOME\nWORKDIR C:\\\\app\n"),
    ("CTM-DF-029", "FROM a:1\nMAINTAINER me\n", 2, "FROM a:1\nLABEL maintainer=me\n"),
    ("CTM-DF-030", "FROM a:1\nRUN apt install -y x\n", 2, "FROM a:1\nRUN apt-get install -y x\n"),
    ("CTM-DF-031", "FROM a:1\nCOPY --from=builder /a /a\n", 2,
     "FROM a:1 AS builder\nFROM a:1\nCOPY --from=builder /a /a\nCOPY --from=0 /b /b\nCOPY --from=nginx:1 /c /c\n"),
    ("CTM-DF-032", "FROM a:1 AS app\nCOPY --from=app /a /b\n", 2, "FROM a:1 AS b\nFROM a:1 AS app\nCOPY --from=b /a /b\n"),
    ("CTM-DF-033", "FROM a:1\nCMD python app.py\n", 2, "FROM a:1\nCMD [\"python\", \"app.py\"]\n"),
    ("CTM-DF-034", "FROM a:1\nRUN yum install -y x\n", 2, "FROM a:1\nRUN yum install -y x && yum clean all\n"),
    ("CTM-DF-035", "FROM a:1\nRUN yum install x && yum clean all\n", 2, "FROM a:1\nRUN yum install -y x && yum clean all\n"),
    ("CTM-DF-036", "FROM a:1\nRUN curl -o a u\nRUN wget u\n", 3, "FROM a:1\nRUN curl -o a u\nFROM a:1\nRUN wget u\n"),
    ("CTM-DF-037", "FROM a:1\nRUN wget -O- u | tar xz\n", 2,
     "FROM a:1\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN wget -O- u | tar xz\n"
     "RUN set -o pipefail && wget -O- u | tar xz\n"),
    ("CTM-DF-038", "FROM a:1\nEXPOSE 80 70000/udp\n", 2, "FROM a:1\nEXPOSE 65535 8000-8010 ${PORT}\n"),
    ("CTM-DF-039", "FROM a:1\nRUN apt-get install x\n", 2, "FROM a:1\nRUN apt-get install -qq x && apt-get -y install y\n"),
    ("CTM-DF-040", "FROM a:1\nRUN apt-get update\n", 2, "FROM a:1\nRUN apt-get update && apt-get install -y x\n"),
    ("CTM-DF-041", "FROM a:1\nRUN dnf install x\n", 2, "FROM a:1\nRUN dnf install -y x && microdnf install --assumeyes y\n"),
    ("CTM-DF-042", "FROM a:1\nCOPY a b /dst\n", 2, "FROM a:1\nCOPY a b /dst/\nCOPY a /dst\n"),
    ("CTM-DF-043", "FROM a:1\nRUN apt-get update && service nginx start\n", 2, "FROM a:1\nRUN echo ps top\n"),
    ("CTM-DF-044", "FROM a:1\nRUN yum install -y httpd && yum clean all\n", 2,
     "FROM a:1\nARG V=1\nRUN yum install -y httpd-2.4.6 x-${V} y-1.0.rpm && yum module install -y nodejs:18\n"),
    ("CTM-DF-045", "FROM a:1\nRUN zypper install curl\n", 2,
     "FROM a:1\nRUN zypper -n install curl && zypper --non-interactive rm x\n"),
    ("CTM-DF-046", "FROM a:1\nRUN zypper dup -y\n", 2, "FROM a:1\nRUN zypper refresh\n"),
    ("CTM-DF-047", "FROM a:1\nRUN zypper install -y curl=8\n", 2,
     "FROM a:1\nRUN zypper install -y curl=8 && zypper clean -a\n"
     "RUN --mount=type=cache,target=/var/cache/zypp zypper in -y x=1\n"),
    ("CTM-DF-048", "FROM a:1\nRUN zypper install -y curl && zypper clean\n", 2,
     "FROM a:1\nRUN zypper install -y 'curl>=8' x=1 y.rpm && zypper clean\n"),
    ("CTM-DF-049", "FROM a:1\nRUN dnf install -y x-1.0\n", 2,
     "FROM a:1\nRUN dnf install -y x-1.0 && dnf clean all\nRUN microdnf install -y y-2 && microdnf clean all\n"),
    ("CTM-DF-050", "FROM a:1\nRUN dnf install -y httpd && dnf clean all\n", 2,
     "FROM a:1\nENV V=2\nRUN dnf install -y httpd-2.4 z-${V} && dnf group install -y tools && dnf clean all\n"),
    ("CTM-DF-051", "FROM golang:1\nRUN go install github.com/x/y@latest\n", 2,
     "FROM golang:1\nRUN go install github.com/x/y@v1.2.3 ./cmd/... && go get . && go run ./tool arg\n"),
    ("CTM-DF-052", "FROM node:20\nRUN yarn install\n", 2,
     "FROM node:20 AS b\nRUN yarn install\nFROM node:20-slim\nRUN yarn install && yarn cache clean\n"),
    ("CTM-DF-053", "FROM a:1\nRUN ln -sf /bin/bash /bin/sh\n", 2, "FROM a:1\nRUN ln -s /usr/bin/python3 /usr/bin/python\n"),
    ("CTM-DF-054", "FROM a:1\nRUN useradd -u 1000000 app\n", 2,
     "FROM a:1\nRUN useradd -l -u 1000000 app && useradd -u 1000 b\n"),
    ("CTM-DF-055", "FROM a:1\nRUN wget https://x.invalid/a\n", 2,
     "FROM a:1\nRUN wget -q u && wget -nv u && wget --progress=dot:giga u && wget -qO- u\n"),
    ("CTM-DF-056", "FROM a:1 AS b\nFROM a:1 AS b\n", 2, "FROM a:1 AS b\nFROM a:1 AS c\n"),
    ("CTM-DF-057", "FROM --platform=linux/amd64 a:1\n", 1, "FROM --platform=$BUILDPLATFORM a:1\nFROM a:1\n"),
    ("CTM-DF-058", "FROM --platform=$TARGETPLATFORM a:1\n", 1, "FROM --platform=$BUILDPLATFORM a:1\n"),
    ("CTM-DF-059", "FROM a:1 AS scratch\n", 1, "FROM a:1 AS base\n"),
    ("CTM-DF-060", "FROM a:1\nONBUILD FROM b\n", 2, "FROM a:1\nONBUILD RUN x\n"),
    ("CTM-DF-061", "FROM a:1\nENV A=1 B=$A/x\n", 2, "FROM a:1\nENV A=1\nENV A=2 B=$A/x C=$AB\n"),
    ("CTM-DF-062", "FROM a:1\nCOPY app.py app/\n", 2,
     "FROM a:1\nCOPY a /app/\nCOPY b $HOME/\nWORKDIR /srv\nCOPY c app/\n"),
    ("CTM-DF-063", "FROM a:1\nLABEL Maintainer=me\n", 2, "FROM a:1\nLABEL org.opencontainers.image.title=x maintainer=me\n"),
    ("CTM-DF-064", "FROM a:1\nRUN a\n# why\nRUN b\n", 4,
     "FROM a:1\nRUN a\nUSER 1\nRUN b\nRUN --mount=type=cache,target=/c c\nRUN d && e && f\nRUN g\n"),
    ("CTM-DF-065", "RUN x\nFROM a:1\n", 1, "ARG V=1\nFROM a:$V\n"),
    ("CTM-DF-066", "FROM a:1\nUSER app\n", 2, "FROM a:1\nARG UID=1000\nUSER 1000:1000\nUSER ${UID}\nUSER $UID:$UID\n"),
    ("CTM-DF-067", "FROM a:1 AS b\nFROM scratch\nCOPY --from=b / /\n", 3,
     "FROM a:1 AS b\nFROM scratch\nCOPY --from=b /app /\nCOPY / /x/\n"),
    ("CTM-DF-068", "FROM a:1\nCOPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz -C /opt\n", 2,
     "FROM a:1\nCOPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz\nFROM b:1\nCOPY x.zip /\nRUN sha256sum /x.zip\n"),
    ("CTM-DF-069", "FROM a:1\nARG GITHUB_TOKEN\n", 2, "FROM a:1\nARG VERSION=1\nENV PATH=/x\n"),
]


def test_every_rule_has_a_case() -> None:
    assert {c[0] for c in CASES} == {r.id for r in RULES}


@pytest.mark.parametrize(("rule_id", "bad", "line", "good"), CASES, ids=[c[0] for c in CASES])
def test_rule_fails_and_passes(rule_id: str, bad: str, line: int, good: str) -> None:
    assert line in lines_of(bad, rule_id)
    assert lines_of(good, rule_id) == []


def test_finding_fields() -> None:
    doc = parse("app/Dockerfile", b"FROM a:1 AS build\nRUN sudo x\nFROM scratch\n")
    doc = type(doc)(doc.path, doc.kind, doc.inputs, doc.meta, layer="sha256:abc")
    m = next(m for m in check(doc) if m.rule.id == "CTM-DF-019")
    assert m.location.path == "app/Dockerfile" and m.location.layer == "sha256:abc"
    assert (m.location.start_line, m.location.end_line) == (2, 2)
    assert m.resource == "stage build"
    final = next(m for m in check(doc) if m.rule.id == "CTM-DF-002")
    assert final.resource == "stage 1" and final.location.start_line == 3


def test_first_line_of_a_continued_instruction() -> None:
    text = "FROM a:1\nRUN echo start \\\n  && apt-get install -y \\\n     curl\n"
    doc = parse("Dockerfile", text.encode())
    m = next(m for m in check(doc) if m.rule.id == "CTM-DF-008")
    assert (m.location.start_line, m.location.end_line) == (2, 4)


def test_heredoc_run_is_checked_as_shell() -> None:
    text = "FROM a:1\nRUN <<EOF\nset -e\napt-get update\napt-get install -y curl\nEOF\nRUN python3 <<EOF\nprint(1)\nEOF\n"
    assert lines_of(text, "CTM-DF-008") == [2]
    assert lines_of(text, "CTM-DF-014") == [2]
    py = "FROM a:1\nRUN <<EOF\n#!/usr/bin/env python3\nimport os; os.system('sudo x')\nEOF\n"
    assert lines_of(py, "CTM-DF-019") == []


def test_multi_stage_only_final_and_used_stages_for_apt_lists() -> None:
    text = (
        "FROM debian:12 AS tools\nRUN apt-get update && apt-get install -y a=1\n"
        "FROM debian:12 AS base\nRUN apt-get update && apt-get install -y b=1\n"
        "FROM base\nRUN apt-get update && apt-get install -y c=1\nUSER 1\n"
    )
    assert lines_of(text, "CTM-DF-014") == [4, 6]
    assert lines_of(text, "CTM-DF-002") == []  # USER in the final stage


def test_onbuild_run_is_checked() -> None:
    assert lines_of("FROM a:1\nONBUILD RUN apt-get install -y curl\n", "CTM-DF-008") == [2]


def test_hadolint_pragmas() -> None:
    text = "# hadolint global ignore=DL3006\nFROM ubuntu\n# hadolint ignore=DL3008,DL3015\n" \
           "RUN apt-get install -y curl\nRUN apt-get install -y wget\n"
    assert lines_of(text, "CTM-DF-004") == []
    assert lines_of(text, "CTM-DF-008") == [5]
    assert lines_of(text, "CTM-DF-013") == [5]


def test_unparseable_shell_never_breaks_check() -> None:
    text = "FROM a:1\nRUN case \"$(uname -m)\" in x86_64) apt-get install -y a ;; esac; [[ -f x ]] && echo $((1+2))\n"
    assert lines_of(text, "CTM-DF-008") == [2]


def test_check_tolerates_a_hand_made_document() -> None:
    from containment.model import ConfigDoc

    assert check(ConfigDoc("Dockerfile", "dockerfile", ())) == []
    assert check(ConfigDoc("Dockerfile", "dockerfile", ([{"Cmd": "run", "Value": ["x"]}, "junk"],))) == []


_LINES = st.sampled_from([
    "FROM ubuntu", "FROM a:1 AS b", "FROM b", "RUN apt-get update && apt-get install curl | tee x", "USER root",
    "USER 1000", "COPY --from=b /a /b", "ADD http://x /y", "EXPOSE 22 99999", "CMD x", "ENTRYPOINT [\"y\"]",
    "HEALTHCHECK CMD z", "ENV TOKEN=abc", "ARG PASSWORD=x", "WORKDIR rel", "RUN <<EOF", "EOF", "RUN \\", "  echo",
    "# hadolint ignore=DL3008", "ONBUILD RUN sudo x", "SHELL [\"bash\", \"-o\", \"pipefail\", \"-c\"]", "MAINTAINER m",
    "RUN case x in a) b;; esac", "RUN \"unclosed", "LABEL a=b", "", "#",
    "ONBUILD FROM x", "ONBUILD ONBUILD RUN y", "LABEL Bad..Key=1 \"q\"=2", "FROM --platform=linux/amd64 a AS scratch",
    "ENV A=1 B=$A C=${A}", "USER $UID:${GID}", "COPY --from=b / /", "COPY x.tgz rel/", "RUN tar -xf x.tgz",
    "# hadolint stage ignore=DL3059", "RUN yum install a-$V && dnf install b-1 && zypper in c", "ARG GH_TOKEN",
    "RUN exec gosu app $(uname -m) `id` $((1+2)) && busybox wget u", "WORKDIR /w",
])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_LINES, max_size=25))
def test_fuzz_dockerfile_like_lines(lines: list[str]) -> None:
    data = "\n".join(lines).encode()
    try:
        doc = parse("Dockerfile", data)
    except ConfigError as e:
        assert "\n" not in str(e)
        return
    for m in check(doc):
        assert m.location.start_line >= 1 and m.rule.id.startswith("CTM-DF-")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_any_bytes(data: bytes) -> None:
    try:
        doc = parse("Dockerfile", data)
    except ConfigError:
        return
    check(doc)
