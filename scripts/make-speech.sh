#!/usr/bin/env bash
# Synthesises a spoken-word dataset with Debian's espeak-ng and sox (both installed by
# scripts/install-data.sh): the ten digits and ten command words, spoken by espeak-ng's English
# voices (8) with voice variants (its !v files), each clip at its own speed and pitch, resampled
# to 16 kHz, mixed with white, pink or brown noise at a random level and cut to one second.
# The split is by voice variant: the test variants are never heard in training, in any accent.
#
#   scripts/make-speech.sh [OUT] [--variants N] [--words "w1 w2 ..."]
#
# OUT defaults to ~/.cache/nabla/speech; --variants takes the first N variants in name order
# (default 50: 8000 clips, two minutes on two cores); a reduced set (--variants 5 --words "yes no")
# takes seconds. Writes OUT/train/<word>/*.wav and OUT/test/<word>/*.wav. Deterministic: the
# same arguments give the same files.
set -euo pipefail
out="${HOME}/.cache/nabla/speech"
variants=50
words="zero one two three four five six seven eight nine yes no up down left right on off stop go"
while [ $# -gt 0 ]; do
  case "$1" in
    --variants) variants="$2"; shift 2 ;;
    --words) words="$2"; shift 2 ;;
    -*) echo "make-speech: unknown option $1" >&2; exit 2 ;;
    *) out="$1"; shift ;;
  esac
done
command -v espeak-ng >/dev/null && command -v sox >/dev/null || { echo "make-speech: needs espeak-ng and sox (apt-get install espeak-ng sox)" >&2; exit 1; }
data="$(dirname "$(espeak-ng --version | sed -n 's/.*Data at: //p')")/espeak-ng-data"
[ -d "$data/voices/!v" ] || data=/usr/lib/x86_64-linux-gnu/espeak-ng-data
bases="en-gb en-us en-gb-scotland en-gb-x-gbclan en-gb-x-rp en-gb-x-gbcwmd en-029 en-us-nyc"
# Whispered variants carry no pitch, and a name with a space cannot be passed on; they are left out.
mapfile -t all < <(ls "$data/voices/!v" | grep -v -i whisper | grep -v ' ' | LC_ALL=C sort | head -n "$variants")
rm -rf "$out/train" "$out/test"
jobs="$(mktemp)"
trap 'rm -f "$jobs"' EXIT
n=0
for v in "${!all[@]}"; do
  variant="${all[$v]}"
  # Every fifth variant is a test voice.
  split=train; [ $((v % 5)) = 4 ] && split=test
  for base in $bases; do
    for word in $words; do
      n=$((n + 1))
      # Speed 140-219 words a minute, pitch 25-74, noise type and level: all from the clip's number.
      speed=$((140 + (n * 37) % 80)); pitch=$((25 + (n * 53) % 50))
      noise=$(echo "white pink brown" | cut -d' ' -f $((n % 3 + 1))); level="0.$((2 + (n * 7) % 6))"
      mkdir -p "$out/$split/$word"
      echo "$base+$variant $speed $pitch $noise $level $word $out/$split/$word/${base}_${variant}.wav" >> "$jobs"
    done
  done
done
# One second of each noise, made once (deterministic: sox -R), mixed into every clip at its level.
for kind in white pink brown; do sox -R -n -r 16000 -c 1 -b 16 "$out/.noise-$kind.wav" synth 1 "${kind}noise" vol 0.1; done
export out
clip() {
  read -r voice speed pitch noise level word file <<< "$1"
  local speech="$file.tmp.wav"
  espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$speech.22k.wav" "$word"
  # 16 kHz, a little silence first, then exactly one second.
  sox -V1 -R "$speech.22k.wav" -r 16000 -c 1 -b 16 "$speech" pad 0.05 1 trim 0 1
  sox -V1 -R -m -v 1 "$speech" -v "$level" "$out/.noise-$noise.wav" -b 16 "$file"
  rm -f "$speech" "$speech.22k.wav"
}
export -f clip
tr '\n' '\0' < "$jobs" | xargs -0 -P "$(nproc)" -I{} bash -c 'clip "$@"' _ {}
rm -f "$out"/.noise-*.wav
echo "make-speech: $(find "$out/train" -name '*.wav' | wc -l) training and $(find "$out/test" -name '*.wav' | wc -l) test clips of $(echo $words | wc -w) words in $out (${#all[@]} variants, every fifth held out for test)"
