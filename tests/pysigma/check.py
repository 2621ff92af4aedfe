#!/usr/bin/env python3
"""Check Sigma YAML with pySigma: load each file (a collection of one or more
documents) with SigmaCollection.from_yaml, then run pySigma's core validators
and the offline validators of pysigma-validators-sigmahq.

Usage: check.py [PATH ...]   (folders are searched for *.yml / *.yaml; no
path or `-`: one collection from stdin)

Prints one JSON object per file:
  {"path", "documents", "errors": [...], "warnings": [...]}
and a last line {"summary": {...}} with the validators run and skipped.
Errors: the file does not load (pySigma's own parse/structure errors), or a
validator reports a HIGH-severity issue, except the validators listed in
LAYOUT (they judge where a file sits in the SigmaHQ repository, which says
nothing about a single rule) and CONVENTION (SigmaHQ repository rules that
are stricter than the Sigma specification). Everything else is a warning.

"Offline" validators: some validators download reference data (taxonomy,
Windows event ids and providers, MITRE ATT&CK) from GitHub. Downloads are
blocked here (and the data cache pointed at an empty folder), so such a
validator fails to load its data and is skipped, by name, in the summary.
Exit status: 1 when any file has errors, else 0.
"""
import json
import os
import sys
import tempfile
import urllib.error
from pathlib import Path

os.environ.setdefault("HOME", tempfile.mkdtemp())


def _offline(*_a, **_k):
    raise urllib.error.URLError("siemc check.py: downloads are disabled (offline validators only)")


from sigma.collection import SigmaCollection  # noqa: E402
from sigma.validators.base import SigmaValidationIssueSeverity  # noqa: E402
from sigma.validators.core import validators as core_validators  # noqa: E402
from sigma.validators.sigmahq import validators as sigmahq_validators  # noqa: E402
import sigma.validators.sigmahq.data.base as _dbase  # noqa: E402

_dbase.urlopen = _offline
_dbase._DEFAULT_CACHE_DIR = Path(tempfile.mkdtemp()) / "cache"
for _mod in ("sigma.data.mitre_attack", "sigma.data.mitre_d3fend"):
    try:
        _m = __import__(_mod, fromlist=["x"])
        _m.urlopen = _offline
        if hasattr(_m, "_get_cache"):
            _cache_dir = Path(tempfile.mkdtemp())
            import diskcache

            _m._get_cache = lambda d=_cache_dir: diskcache.Cache(str(d))
    except ImportError:
        pass

# Validators about a file's place in the SigmaHQ repository, not its content.
LAYOUT = {
    "sigmahq_status",  # deprecated/unsupported rules must live in their folders
    "sigmahq_tags_detection",  # rules-dfir/ etc. need matching tags
    "sigmahq_filename_convention",
    "sigmahq_filename_prefix",
    "sigmahq_correlation_filename_prefix",
    "duplicate_filename",
    "filename_length",
}
# SigmaHQ repository conventions stricter than the Sigma specification.
CONVENTION = {
    # The specification makes `group-by` optional (a correlation over all
    # events of the window); SigmaHQ's repository requires one.
    "sigmahq_correlation_group_by_existence",
}

PROBE = """
title: Probe rule for data-loading validators
id: 5d2c4a2e-1c3b-4c8e-9a55-1f3f6a6e9b10
status: test
description: A rule whose only use is to find out which validators need downloaded data.
author: siemc
date: 2024-01-01
tags:
    - attack.execution
    - attack.t1059.001
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\\\\x.exe'
        EventID: 1
    condition: selection
level: low
"""


def _needs_data(exc):
    text = f"{type(exc).__name__}: {exc}"
    return "Failed to load" in text or "URLError" in text or "downloads are disabled" in text


def load_validators():
    active, skipped = {}, {}
    probe = SigmaCollection.from_yaml(PROBE, collect_errors=True)
    for name, cls in sorted({**core_validators, **sigmahq_validators}.items()):
        try:
            v = cls()
            for rule in probe:
                v.validate(rule)
            v.finalize()
        except Exception as e:  # noqa: BLE001
            skipped[name] = f"{type(e).__name__}: {str(e)[:120]}" if not _needs_data(e) else "needs downloaded data"
            continue
        active[name] = cls
    return active, skipped


def check_text(text, path, validators, skipped):
    result = {"path": path, "documents": 0, "errors": [], "warnings": []}
    try:
        coll = SigmaCollection.from_yaml(text, collect_errors=True)
    except Exception as e:  # noqa: BLE001
        result["errors"].append({"source": "load", "message": f"{type(e).__name__}: {e}"})
        return result
    rules = list(coll)
    result["documents"] = len(rules)
    for err in getattr(coll, "errors", []) or []:
        result["errors"].append({"source": "load", "message": f"{type(err).__name__}: {err}"})
    for rule in rules:
        for err in rule.errors:
            result["errors"].append(
                {"source": "load", "rule": str(rule.title), "message": f"{type(err).__name__}: {err}"}
            )
    for name, cls in validators.items():
        try:
            v = cls()
            issues = []
            for rule in rules:
                issues.extend(v.validate(rule))
            issues.extend(v.finalize())
        except Exception as e:  # noqa: BLE001
            if _needs_data(e):
                skipped[name] = "needs downloaded data"
            else:
                result["errors"].append({"source": name, "message": f"validator crashed: {type(e).__name__}: {e}"})
            continue
        for issue in issues:
            sev = issue.severity.name
            entry = {
                "source": name,
                "severity": sev,
                "rule": ", ".join(str(r.title) for r in issue.rules),
                "message": issue.description,
            }
            extra = {k: str(v) for k, v in issue.__dict__.items() if k not in ("rules", "severity", "description")}
            if extra:
                entry["detail"] = extra
            if issue.severity == SigmaValidationIssueSeverity.HIGH and name not in LAYOUT | CONVENTION:
                result["errors"].append(entry)
            else:
                result["warnings"].append(entry)
    return result


def inputs(args):
    if not args or args == ["-"]:
        yield "-", sys.stdin.read()
        return
    for a in args:
        p = Path(a)
        files = sorted(list(p.rglob("*.yml")) + list(p.rglob("*.yaml"))) if p.is_dir() else [p]
        for f in files:
            yield str(f), f.read_text(encoding="utf-8")


def main():
    validators, skipped = load_validators()
    failed = 0
    n = 0
    for path, text in inputs(sys.argv[1:]):
        validators = {k: v for k, v in validators.items() if k not in skipped}
        r = check_text(text, path, validators, skipped)
        n += 1
        failed += bool(r["errors"])
        print(json.dumps(r, ensure_ascii=False))
    summary = {
        "files": n,
        "with_errors": failed,
        "validators": sorted(k for k in validators if k not in skipped),
        "skipped": skipped,
        "layout_only": sorted(LAYOUT),
        "convention_only": sorted(CONVENTION),
    }
    print(json.dumps({"summary": summary}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
