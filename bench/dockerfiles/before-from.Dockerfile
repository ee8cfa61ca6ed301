LABEL early=1
RUN echo before-from
ARG V=3.20
FROM alpine:$V
RUN echo after
EXPOSE 80
