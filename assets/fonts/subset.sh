#!/usr/bin/env bash
# Reproduces the embedded Chinese font subsets in this folder from Debian's Noto CJK packages.
#
#   apt-get install -y fonts-noto-cjk fonts-noto-cjk-extra   # 1:20220127+repack1-1 (Debian 12)
#   pip install fonttools                                     # 4.68.0 was used
#   assets/fonts/subset.sh                                    # run from anywhere
#
# Coverage: ASCII, Latin-1 punctuation and signs, general punctuation (U+2000-206F),
# CJK symbols and punctuation (U+3000-303F), half-/full-width forms (U+FF00-FFEF),
# every character of GB 2312, and every non-ASCII character found in programmes/**/*.toml
# and programmes/**/*.typ (so re-run this script after adding a programme or template that
# uses a character outside GB 2312).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
src_dir="${NOTO_CJK_DIR:-/usr/share/fonts/opentype/noto}"
work="$(mktemp -d)"
# Same bytes on every run (checked with fontTools 4.68: pyftsubset keeps the upstream head.modified).
# SOURCE_DATE_EPOCH pins the date should a fontTools version stamp it (2022-01-27, the upstream release).
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1643241600}"
trap 'rm -rf "$work"' EXIT

# 1. The character list (one UTF-8 text file).
python3 - "$root" "$work/chars.txt" <<'PY'
import pathlib, sys
root, out = pathlib.Path(sys.argv[1]), sys.argv[2]
chars = set()
add_range = lambda a, b: chars.update(chr(c) for c in range(a, b + 1))
add_range(0x20, 0x7E)        # ASCII
add_range(0xA0, 0xFF)        # Latin-1 punctuation, signs and letters (·, ×, ÷, §, ¥ ...)
add_range(0x2000, 0x206F)    # general punctuation (— … ‘ ’ “ ” ‰ ※)
add_range(0x3000, 0x303F)    # CJK symbols and punctuation (、。〈〉《》「」【】〔〕)
add_range(0xFF00, 0xFFEF)    # half-width and full-width forms (，：；（）＿ ...)
# Every valid two-byte GB 2312 code: rows 0xA1-0xF7, cells 0xA1-0xFE.
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.update(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
for pattern in ("programmes/**/*.toml", "programmes/**/*.typ"):
    for path in sorted(root.glob(pattern)):
        chars.update(c for c in path.read_text(encoding="utf-8") if ord(c) > 0x7E and c.isprintable())
pathlib.Path(out).write_text("".join(sorted(chars)), encoding="utf-8")
print(f"{len(chars)} characters", file=sys.stderr)
PY

# 2. OpenType layout features kept: kerning, ligatures/composition, marks, and the CJK punctuation
#    features (halt/palt proportional and half-width punctuation, vert/vrt2 vertical forms and their
#    vertical metrics). Not kept: locl (it pulls in the Japanese/Korean/Traditional glyph variants,
#    +6,000 glyphs, +2 MB per file), aalt, fwid/hwid/pwid, ruby, hist, dlig and the hangul jamo features.
features='kern,palt,halt,vert,vrt2,vkrn,vpal,vhal,liga,ccmp,calt,mark'

# 3. Pick the Simplified Chinese face of each .ttc collection by its PostScript name and subset it.
subset() { # $1 = collection file, $2 = PostScript name of the face, $3 = output file
  local index
  index="$(python3 -c '
import sys
from fontTools.ttLib import TTCollection
for i, font in enumerate(TTCollection(sys.argv[1]).fonts):
    if font["name"].getDebugName(6) == sys.argv[2]:
        print(i); break
else:
    sys.exit("face " + sys.argv[2] + " not found in " + sys.argv[1])
' "$1" "$2")"
  pyftsubset "$1" --font-number="$index" \
    --text-file="$work/chars.txt" \
    --layout-features="$features" \
    --name-IDs='*' --name-languages='*' \
    --notdef-outline \
    --output-file="$3"
  echo "$3: $(stat -c %s "$3") bytes (face $index of $(basename "$1"))" >&2
}

subset "$src_dir/NotoSerifCJK-Regular.ttc" NotoSerifCJKsc-Regular "$here/NotoSerifCJKsc-Regular-subset.otf"
subset "$src_dir/NotoSerifCJK-Bold.ttc" NotoSerifCJKsc-Bold "$here/NotoSerifCJKsc-Bold-subset.otf"
