# A nats-server image built from its Go module (the version in go.mod), for
# machines that cannot pull the official image. The peon binary rides along
# for the health check (peon health), as the image has no shell.
FROM scratch
COPY bin/nats-server /nats-server
COPY bin/peon /peon
EXPOSE 4222 6222 8222
ENTRYPOINT ["/nats-server"]
