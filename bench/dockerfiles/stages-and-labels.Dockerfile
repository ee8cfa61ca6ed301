# hadolint global ignore=DL3007
# Instruction-level rules real files rarely trigger: platforms, reserved and duplicate stage names,
# ONBUILD of FROM, ENV self references, label keys, archives copied then extracted, stage pragmas.
ARG BASE=alpine:3.20
FROM --platform=linux/arm64 $BASE AS context
FROM --platform=$TARGETPLATFORM alpine:latest AS scratch
FROM --platform=${BUILDPLATFORM} alpine:3.20 AS build
ONBUILD FROM alpine:3.20
ONBUILD MAINTAINER someone
ONBUILD ENV NPM_TOKEN=x
ENV A=1 B=${A}/bin C=$Ax
ENV PATH=/opt/bin:$PATH HOME_DIR=$HOME
ENV D=1
ENV D=2 E=$D
LABEL Vendor=acme "com.docker.extension"=1 org.example..x=1 ok.label-1=yes -bad=1 good/slash_=x
ARG GITHUB_TOKEN
ARG DB_PASSWORD_FILE=/run/secrets/db
ENV AWS_SECRET_ACCESS_KEY="" MY_USERNAME=me
COPY app.tar.gz /tmp/
COPY docs.zip sub/
RUN tar -xzf /tmp/app.tar.gz -C /opt && unzip sub/docs.zip

# hadolint stage ignore=DL3059,DL3045
FROM alpine:3.20 AS build
COPY x.tgz rel/
RUN echo one
RUN echo two
RUN --mount=type=cache,target=/root/.cache echo three
USER nobody
USER ${UID}
ARG UID=1000
USER ${UID}:${UID}
USER $UID
COPY --from=build / /

FROM build
COPY pkg.tar.xz /srv/
RUN echo a
# a comment between RUNs does not separate them
RUN tar --extract -f /srv/pkg.tar.xz && gunzip nothing.gz
COPY --from=build "/" "/"
COPY --from=context /a /b
