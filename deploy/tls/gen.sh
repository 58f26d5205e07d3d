#!/usr/bin/env bash
# Generates TLS material for a Peon NATS cluster into ./out (or $1):
# a CA, one certificate for the servers (names nats-1..3, localhost,
# 127.0.0.1) and one client certificate for mutual TLS. Development use:
# in production use your own CA and keep the keys out of the repository.
set -euo pipefail
out=${1:-out}
mkdir -p "$out"
cd "$out"
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=Peon dev CA" -keyout ca-key.pem -out ca.pem 2>/dev/null
cat > server.ext <<EXT
subjectAltName = DNS:nats-1, DNS:nats-2, DNS:nats-3, DNS:localhost, IP:127.0.0.1
extendedKeyUsage = serverAuth, clientAuth
EXT
openssl req -newkey rsa:2048 -nodes -subj "/CN=nats" -keyout server-key.pem -out server.csr 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 365 -extfile server.ext -out server.pem 2>/dev/null
printf 'extendedKeyUsage = clientAuth\n' > client.ext
openssl req -newkey rsa:2048 -nodes -subj "/CN=peon" -keyout client-key.pem -out client.csr 2>/dev/null
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 365 -extfile client.ext -out client.pem 2>/dev/null
rm -f ./*.csr ./*.ext ./*.srl
echo "wrote ca.pem, server.pem/server-key.pem, client.pem/client-key.pem to $(pwd)"
