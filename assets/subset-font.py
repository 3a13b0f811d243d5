#!/usr/bin/env python3
"""Rebuild assets/NotoSansSC-subset.otf: Noto Sans CJK SC (SIL OFL 1.1, Debian fonts-noto-cjk)
cut down to the CJK characters the UI, the lessons and their metric labels use plus the 3755 common characters of GB2312 level 1.
Run from the repository root:  python3 assets/subset-font.py"""
import glob, subprocess

SRC = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
chars = set()
paths = glob.glob("src/**/*.rs", recursive=True) + glob.glob("sessions/**/*.json", recursive=True)
for path in paths:
    chars |= {c for c in open(path, encoding="utf-8").read() if ord(c) > 0x2000}
for hi in range(0xB0, 0xD8):  # GB2312 level 1
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
chars |= {chr(c) for c in range(0x3000, 0x3040)} | {chr(c) for c in range(0xFF00, 0xFF70)}
text = "".join(sorted(chars))
open("/tmp/nnlab-font-chars.txt", "w", encoding="utf-8").write(text)
# Face 2 of the collection is Simplified Chinese.
subprocess.run(["pyftsubset", SRC, "--font-number=2", "--text-file=/tmp/nnlab-font-chars.txt",
                "--output-file=assets/NotoSansSC-subset.otf", "--no-hinting",
                "--layout-features=", "--name-IDs=*"], check=True)
print(len(text), "characters")
