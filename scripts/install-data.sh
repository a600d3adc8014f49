#!/usr/bin/env bash
# Installs the datasets the tests and examples read from Debian's packages (needs root, or sudo).
# - Fashion-MNIST: the package dataset-fashion-mnist puts it in /usr/share/datasets/fashion-mnist.
# - scikit-learn's bundled tables (wine, breast cancer, digits, iris): when python3-sklearn is not
#   installed, its .deb (2 MB) is downloaded and only its data folder is unpacked, into
#   ~/.cache/nabla/sklearn-data, without installing Python or NumPy.
set -euo pipefail
sudo=""
if [ "$(id -u)" != "0" ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
updated=0
update() { if [ "$updated" = 0 ]; then $sudo apt-get update -qq; updated=1; fi; }

if [ ! -f /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ]; then
  update
  $sudo apt-get install -y -qq dataset-fashion-mnist
fi

# Debian's fortunes (BSD licence, 2.8 MB of text) for `nabla example fortunes`.
if [ ! -d /usr/share/games/fortunes ]; then
  update
  $sudo apt-get install -y -qq fortunes || echo "fortunes not installed: the fortunes example's test will skip"
fi

# Debian's libonnx-testdata (Apache-2.0): the ONNX backend conformance node tests the importer runs.
if [ ! -d /usr/share/libonnx-testdata/data/node ]; then
  update
  $sudo apt-get install -y -qq libonnx-testdata || echo "libonnx-testdata not installed: the ONNX conformance test will skip"
fi

# espeak-ng and sox (GPL-3 and GPL-2 programs, run as tools): scripts/make-speech.sh synthesises the speech dataset with them.
if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null; then
  update
  $sudo apt-get install -y -qq espeak-ng sox || echo "espeak-ng/sox not installed: the speech dataset test will skip"
fi

rel=usr/lib/python3/dist-packages/sklearn/datasets/data
sklearn_data="${NABLA_SKLEARN_DATA:-/$rel}"
cache="${HOME}/.cache/nabla/sklearn-data"
if [ ! -f "$sklearn_data/wine_data.csv" ] && [ ! -f "$cache/wine_data.csv" ]; then
  update
  work="$(mktemp -d)"
  chmod 755 "$work"
  # Optional: without these tables the tests that read them skip with a message.
  if (cd "$work" && apt-get download python3-sklearn >/dev/null && dpkg-deb -x python3-sklearn_*.deb unpacked); then
    mkdir -p "$cache"
    cp "$work/unpacked/$rel"/* "$cache"/
  else
    echo "install-data: could not fetch python3-sklearn; the scikit-learn table tests will skip" >&2
  fi
  rm -rf "$work"
fi
