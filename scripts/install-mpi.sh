#!/usr/bin/env bash
# Installs the two MPI implementations the distributed tests run on, from Debian's packages:
# Open MPI (mpirun, libmpi.so.40) and MPICH (mpiexec.mpich, libmpich.so.12). Needs root, or sudo.
set -euo pipefail
sudo=""
if [ "$(id -u)" != "0" ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
if [ ! -x /usr/bin/mpirun.openmpi ] || [ ! -x /usr/bin/mpiexec.mpich ]; then
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq openmpi-bin mpich
fi
