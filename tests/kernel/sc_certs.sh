#!/bin/sh
# sc_certs.sh DIR: make the certificates the secured-channel tests use, with
# `openssl req`, into DIR (EC P-256, valid one day):
#   ca.pem            the trusted CA
#   server.pem/.key   CN=ias-sc-server, SAN DNS:localhost, signed by ca
#   client.pem/.key   CN=client-a,O=IAS test, signed by ca
#   rogue-ca.pem      a CA nobody trusts
#   rogue.pem/.key    CN=intruder, signed by rogue-ca
set -eu
d=$1
mkdir -p "$d"
cd "$d"
ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
ca() { # name subject
	openssl req -x509 $ec -keyout "$1.key" -out "$1.pem" -days 1 -subj "$2" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign 2>/dev/null
}
leaf() { # name subject ca ext
	openssl req $ec -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
	printf '%s\n' "$4" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
		-out "$1.pem" -days 1 -extfile "$1.ext" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}
ca ca "/CN=IAS test CA"
ca rogue-ca "/CN=Rogue CA"
leaf server "/CN=ias-sc-server" ca "subjectAltName=DNS:localhost,DNS:ias-sc-server"
leaf client "/O=IAS test/CN=client-a" ca "extendedKeyUsage=clientAuth"
leaf rogue "/CN=intruder" rogue-ca "extendedKeyUsage=clientAuth"
chmod 600 ./*.key
