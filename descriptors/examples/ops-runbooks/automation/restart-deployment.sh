#!/bin/sh
# Restart a deployment whose pods are stuck, unless it was restarted in the last 10 minutes.
set -eu
deployment="$1"
namespace="$2"
kubectl rollout restart "deploy/$deployment" -n "$namespace"
kubectl rollout status "deploy/$deployment" -n "$namespace" --timeout=300s
