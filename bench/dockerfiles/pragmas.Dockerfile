# hadolint global ignore=DL3006
FROM ubuntu
# hadolint ignore=DL3008,DL3015
RUN apt-get update && apt-get install -y curl \
    && rm -rf /var/lib/apt/lists/*
RUN apt-get install -y wget
USER 1000
