#!/bin/sh
# gen.sh: the PKI in this directory, made with openssl only (never by ferry),
# for crypt/openssl_test.go: ferry must load CAs and server certificates
# that users make with the tools they already have. Rerun it to refresh the
# files (openssl 3; the certificates are valid for 100 years).
#
#   ca-ec.{pem,key}   ECDSA P-256 CA, key in SEC 1 form (EC PRIVATE KEY)
#   ca-rsa.{pem,key}  RSA-2048 CA, key in PKCS#1 form (RSA PRIVATE KEY)
#   ca-ed.{pem,key}   Ed25519 CA, key in PKCS#8 form (PRIVATE KEY)
#   server.{pem,key}  ECDSA P-256 server certificate for localhost and
#                     127.0.0.1, issued by ca-rsa (an intermediate-free chain)
set -eu
cd "$(dirname "$0")"
days=36500
ca() { # ca NAME: a self-signed CA over the key in NAME.key
	openssl req -x509 -new -key "$1.key" -out "$1.pem" -days $days -subj "/CN=openssl $1" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}
openssl ecparam -name prime256v1 -genkey -noout -out ca-ec.key
ca ca-ec
openssl genrsa -traditional -out ca-rsa.key 2048
ca ca-rsa
openssl genpkey -algorithm ed25519 -out ca-ed.key
ca ca-ed
openssl ecparam -name prime256v1 -genkey -noout -out server.key
openssl req -new -key server.key -subj "/CN=localhost" -out server.csr
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' > server.ext
openssl x509 -req -in server.csr -CA ca-rsa.pem -CAkey ca-rsa.key -CAcreateserial -days $days -extfile server.ext -out server.pem
rm -f server.csr server.ext ca-rsa.srl
