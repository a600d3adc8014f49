#!/usr/bin/env bash
# Installs the datasets the tests and examples read from Debian's packages (needs root, or sudo).
# Fashion-MNIST: the Debian package dataset-fashion-mnist puts it in /usr/share/datasets/fashion-mnist.
set -euo pipefail
if [ -f /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" != "0" ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq dataset-fashion-mnist
