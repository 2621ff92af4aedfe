"""Oracle for siemc's EQL front-end: the field names the `eql` PyPI package
(version 1.0.1, Endgame/Elastic EQL) extracts from each query, the way
elastic/detection-rules does it (rule_validators.EQLValidator.unique_fields):
parse with `elasticsearch_syntax` and `ignore_missing_functions` (plus
runs / sample / missing events, which detection-rules enables through its
stack-version config), then collect every `eql.ast.Field` node as `str(f)`.

`str(f)` back-quotes a segment that is not a plain identifier
(`` `a.b-c`.d ``); siemc's IR keeps names with quoting removed (`a.b-c.d`), so
each name is printed from the Field's parts instead: segments joined by `.`,
array indexes as `[n]`. Otherwise it is the same set detection-rules computes.

Input (stdin): a JSON list of query strings.
Output (stdout): a JSON list, one item per query: {"fields": [sorted, unique]}
or {"error": "message"}.
"""

import json
import sys

import eql


def field_name(f):
    """The dotted name of an `eql.ast.Field`, quoting removed."""
    out = f.base
    for part in f.path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def fields_of(query):
    with eql.parser.elasticsearch_syntax, eql.parser.ignore_missing_functions, \
            eql.parser.skip_optimizations, eql.parser.allow_runs, \
            eql.parser.allow_sample, eql.parser.allow_negation:
        parsed = eql.parse_query(query)
    return sorted(set(field_name(f) for f in parsed if isinstance(f, eql.ast.Field)))


def main():
    queries = json.load(sys.stdin)
    out = []
    for q in queries:
        try:
            out.append({"fields": fields_of(q)})
        except Exception as exc:  # noqa: BLE001 - reported per query
            out.append({"error": f"{type(exc).__name__}: {exc}".splitlines()[0]})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
