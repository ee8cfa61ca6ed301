FROM debian:12.6
USER root
RUN sudo -E apt-get install -y --no-install-recommends curl=7.88.1-10 && rm -rf /var/lib/apt/lists/*
RUN apt-get update && apt-get upgrade -y && apt-get install -qq wget && rm -rf /tmp/*
RUN curl -fsSL https://example.invalid/install.sh | bash -s -- --yes
RUN wget -qO- https://example.invalid/x.tgz | tar xz && chmod -R 777 /opt/x
RUN pip install flask requests==2.31.0 && npm install -g left-pad && gem install rails
ONBUILD RUN apt-get install foo
ARG API_TOKEN=abc123def456
ENV DB_PASSWORD=hunter2 TOKEN_FILE=/run/secrets/token
WORKDIR app
ADD https://example.invalid/app.tar.gz /opt/
ADD config.yml /etc/app/
MAINTAINER someone@example.invalid
RUN apt update && apt install -y vim
RUN yum install httpd && dnf install nginx
