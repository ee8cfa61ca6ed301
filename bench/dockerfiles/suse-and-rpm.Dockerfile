# Package managers real Dockerfiles rarely combine: zypper, dnf/microdnf, yum, plus useradd and ln
FROM opensuse/leap:15.6 AS suse
RUN zypper refresh && zypper install curl wget=1.21 && zypper clean
RUN zypper --non-interactive in 'vim>=9' && zypper dup -y
RUN zypper -n install git-2.43.0.rpm
RUN --mount=type=cache,target=/var/cache/zypp zypper in -y gzip
RUN zypper rm tar && zypper si -y bash

FROM fedora:40 AS fedora
ARG NODE_V=20
ENV PY_V=3.12
RUN dnf install -y python3-${PY_V} nodejs-${NODE_V} gcc && dnf clean all
RUN microdnf install -y jq-1.7 && microdnf clean all && dnf upgrade -y
RUN dnf module install -y nodejs:20 perl && dnf group install -y "Development Tools"
RUN --mount=type=cache,target=/var/cache/libdnf5 dnf install -y make-4.4
RUN dnf install -y "bash-$PY_V" && rm -rf /var/cache/libdnf5*

FROM fedora AS fedora2
RUN dnf install -y zsh-${PY_V} && dnf clean all

FROM centos:7
RUN yum install -y httpd-2.4.6-99.el7 mod_ssl && yum clean all
RUN yum module install -y nodejs:18 && yum install -y $PKG-1.0 && yum clean all
RUN useradd -u 123456789 app && useradd -l -u 123456789 app2 && useradd --uid 123456789 app3
RUN ln -sf /bin/bash /bin/sh && ps aux && service nginx start || kill -9 1
RUN wget https://example.invalid/a && wget -nv https://example.invalid/b && busybox wget https://example.invalid/c
RUN go install golang.org/x/tools/gopls@latest && go install github.com/x/y@v1.2.3 ./... && go get example.com/z
RUN go run main.go --flag && go install example.com/unpinned
USER app
HEALTHCHECK CMD ["true"]
