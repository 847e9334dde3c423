#!/bin/sh
# Renew a certificate through cert-manager and wait until the new one is served.
set -eu
host="$1"
cmctl renew --namespace ingress "$host"
