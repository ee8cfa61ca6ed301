FROM alpine:3.20 AS base
COPY --from=base /etc/os-release /tmp/
CMD ["sh"]
CMD ["sh", "-c", "true"]
ENTRYPOINT ["/bin/sh"]
ENTRYPOINT ["/bin/ash"]
HEALTHCHECK CMD ["true"]
HEALTHCHECK CMD ["false"]
EXPOSE 80 70000 8000-8010 22
COPY a b c /dst
COPY a b /dst/
FROM base
CMD ["x"]
EXPOSE 65536/udp
