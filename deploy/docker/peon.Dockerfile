# The Peon image: one static binary on an empty base, built without pulling
# anything (build-images.sh compiles the binary first).
FROM scratch
COPY bin/peon /peon
USER 65534:65534
ENTRYPOINT ["/peon"]
