#!/bin/bash
# The etcd client over TLS with client certificates (etcd --client-cert-auth):
# right CA + client cert works; no client cert, or an untrusted server, is a
# clear error and a retry with backoff.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/etcd.sh"
PROBE=${ETCD_PROBE:-$BIN/test/tools/etcd-probe}
[ -x "$PROBE" ] || { not_ok "probe binary $PROBE missing (make tools)"; done_testing; }
command -v openssl >/dev/null || { ok "# SKIP openssl not installed"; done_testing; }
q() { "$@" >/dev/null 2>&1; }

# A CA, a server cert for 127.0.0.1, a client cert, and an unrelated CA.
mkcerts() ( # a subshell: the cd stays inside
  cd "$T" || return 1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=lf-test-ca -keyout ca.key -out ca.pem &&
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other.key -out other.pem &&
  openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr &&
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' > server.ext &&
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.pem &&
  openssl req -newkey rsa:2048 -nodes -subj /CN=root -keyout client.key -out client.csr &&
  printf 'extendedKeyUsage=clientAuth\n' > client.ext &&
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile client.ext -out client.pem
)
check "test certificates" q mkcerts

# etcd_start serves http; here the client URLs are https.
ETCD_CLIENT_PORT=$(free_port); ETCD_PEER_PORT=$(free_port)
ETCD_ENDPOINT="https://127.0.0.1:$ETCD_CLIENT_PORT"
bg_start "$T/etcd.log" /usr/bin/etcd --name tls --data-dir "$T/etcd-data" \
  --listen-client-urls "$ETCD_ENDPOINT" --advertise-client-urls "$ETCD_ENDPOINT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "tls=http://127.0.0.1:$ETCD_PEER_PORT" \
  --cert-file "$T/server.pem" --key-file "$T/server.key" \
  --client-cert-auth --trusted-ca-file "$T/ca.pem"
ETCD_PID=$LAST_PID
ctl() { ETCDCTL_API=3 etcdctl --endpoints="$ETCD_ENDPOINT" --cacert "$T/ca.pem" \
          --cert "$T/client.pem" --key "$T/client.key" "$@"; }
check "etcd with TLS and client-cert-auth healthy" wait_for 30 ctl endpoint health
q ctl put /tls/a one

L=$T/p-good.log
bg_start "$L" "$PROBE" --endpoint "$ETCD_ENDPOINT" --prefix /tls/ --cacert "$T/ca.pem" \
  --cert "$T/client.pem" --key "$T/client.key" --backoff-min 100 --backoff-max 1000
check "TLS: watching with CA and client cert" wait_for 10 grep -q '^state WATCHING' "$L"
check "TLS: snapshot" grep -qx 'kv /tls/a one' "$L"
q ctl put /tls/b two
check "TLS: events" wait_for 5 grep -q '^event put /tls/b two' "$L"
kill_pid "$LAST_PID"

L2=$T/p-nocert.log
bg_start "$L2" "$PROBE" --endpoint "$ETCD_ENDPOINT" --prefix /tls/ --cacert "$T/ca.pem" \
  --backoff-min 100 --backoff-max 1000
check "TLS: no client cert is refused, reported" wait_for 10 grep -q '^state BACKOFF' "$L2"
check "TLS: no snapshot without a client cert" bash -c "! grep -q '^snapshot' '$L2'"
kill_pid "$LAST_PID"

L3=$T/p-badca.log
bg_start "$L3" "$PROBE" --endpoint "$ETCD_ENDPOINT" --prefix /tls/ --cacert "$T/other.pem" \
  --cert "$T/client.pem" --key "$T/client.key" --backoff-min 100 --backoff-max 1000
check "TLS: untrusted server certificate is an error" \
  wait_for 10 grep -qi '^state BACKOFF .*\(certificate\|SSL\)' "$L3"
check "TLS: no snapshot from an untrusted server" bash -c "! grep -q '^snapshot' '$L3'"
kill_pid "$LAST_PID"
for f in "$L2" "$L3"; do grep -m1 "^state BACKOFF" "$f" | sed "s/^/# /"; done
kill_pid "$ETCD_PID"
done_testing
