#!/usr/bin/env python3
"""Fills llava_insight_zh_CN.ts from zh_CN.py after lupdate, and lists sources still missing.

Usage (from the repository root):
  /usr/lib/qt6/bin/lupdate -recursive app/gui -source-language en -target-language zh_CN \
      -locations none -ts translations/llava_insight_zh_CN.ts
  python3 translations/fill_ts.py        # exit 1 when a source has no translation

No -no-obsolete: strings that vanished from the sources stay in the catalogue, translated and marked
finished again here, so the embedded catalogue also covers the code one commit either side.
"""
import pathlib
import sys
import xml.etree.ElementTree as ET

here = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(here))
from zh_CN import ZH  # noqa: E402
from zh_CN_reliability import ZH_RELIABILITY  # noqa: E402

ZH = {**ZH_RELIABILITY, **ZH}  # the main worksheet wins where both have a source

ts = here / "llava_insight_zh_CN.ts"
tree = ET.parse(ts)
missing = []
for message in tree.getroot().iter("message"):
    source = message.find("source").text
    translation = message.find("translation")
    if source in ZH:
        translation.text = ZH[source]
        translation.attrib.pop("type", None)
    elif translation.get("type") == "unfinished" or not translation.text:
        missing.append(source)
body = ET.tostring(tree.getroot(), encoding="unicode")
ts.write_text('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + body + "\n", encoding="utf-8")
for source in missing:
    print("missing:", repr(source))
sys.exit(1 if missing else 0)
