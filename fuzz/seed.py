"""Seed fuzz corpora with the queries of the rule corpora (one file per query)."""
import hashlib, os, pathlib, sys, tomllib

root, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])

def put(target, text):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(text.encode()).hexdigest()).write_text(text)

for f in (root / "elastic").rglob("*.toml"):
    rule = tomllib.loads(f.read_text()).get("rule", {})
    lang, q = rule.get("language"), rule.get("query")
    if lang and q:
        put(lang, q)
for f in (root / "splunk" / "detections").rglob("*.yml"):
    for line in f.read_text().splitlines():
        if line.startswith("search:"):
            put("spl", line[7:].strip().strip("'\""))
for i, f in enumerate(sorted((root / "sigma").rglob("*.yml"))):
    if i % 10 == 0:
        put("sigma", f.read_text())
