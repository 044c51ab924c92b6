// Test doubles for the Cassandra images, which cannot be had on this machine: the server
// container (cassandra-standin), its system logger and its config-builder init container. A
// module of its own, so nothing of it can be linked into the product; never in the payload or a
// bundle. See README.md "Cassandra stand-ins".
module github.com/datastax/mission-control/e2e/standin

go 1.26.5

require software.sslmate.com/src/go-pkcs12 v0.7.4

require golang.org/x/crypto v0.55.0 // indirect
