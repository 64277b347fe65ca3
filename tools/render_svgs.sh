#!/usr/bin/env bash
# Renders every SVG in a directory with headless Chromium (Debian package "chromium") to a PNG
# beside it, so that a person can check the figures oblivio wrote display as intended:
#   tools/render_svgs.sh DIR        -> DIR/<name>.svg.png for each DIR/<name>.svg
# The window is the SVG's own width x height (read from its <svg> element). Prints one line per
# file with the PNG's size; exit status 1 if Chromium failed on any file, 2 on usage errors.
set -uo pipefail
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: tools/render_svgs.sh DIR   (a directory holding .svg files)" >&2
  exit 2
fi
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "tools/render_svgs.sh: chromium not found (apt-get install chromium)" >&2
  exit 2
fi
dir=$(cd "$1" && pwd)
status=0
shopt -s nullglob
for svg in "$dir"/*.svg; do
  w=$(grep -o '<svg[^>]*' "$svg" | head -1 | sed -n 's/.* width="\([0-9]*\)".*/\1/p')
  h=$(grep -o '<svg[^>]*' "$svg" | head -1 | sed -n 's/.* height="\([0-9]*\)".*/\1/p')
  png="$svg.png"
  rm -f "$png"
  if timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
      --window-size="${w:-800},${h:-600}" --screenshot="$png" "file://$svg" > /dev/null 2>&1 &&
     [ -s "$png" ]; then
    echo "$(basename "$svg"): ${w:-800}x${h:-600} -> $(basename "$png") ($(stat -c %s "$png") bytes)"
  else
    echo "$(basename "$svg"): chromium could not render it" >&2
    status=1
  fi
done
exit $status
