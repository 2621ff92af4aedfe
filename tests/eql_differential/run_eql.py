"""The `eql` PyPI package (1.0.1, Endgame/Elastic EQL) as a differential
oracle for siemc's matcher: run each query over its events with eql's
PythonEngine and report which events it matches.

Queries are parsed with `elasticsearch_syntax` (`:`, `like~`, `?field`) but
without `ignore_missing_functions`: a query the package cannot evaluate is
reported as an error, not run with a function missing.

Input (stdin): a JSON list of {"query": str, "events": [object, ...]}; each
event carries `event_type` and `timestamp`, the keys the engine wants.
Output (stdout): a JSON list, one item per query: {"matched": [event
indexes, sorted]} or {"error": "message"}.
"""

import json
import sys

import eql


def run(query, events):
    with eql.parser.elasticsearch_syntax:
        parsed = eql.parse_query(query)
    engine = eql.PythonEngine()
    hits = []
    engine.add_output_hook(lambda result: hits.extend(result.events))
    engine.add_query(parsed)
    stream = []
    for i, e in enumerate(events):
        data = dict(e)
        data["_siemc_i"] = i
        stream.append(eql.Event.from_data(data))
    engine.stream_events(stream)
    return sorted({ev.data["_siemc_i"] for ev in hits})


def main():
    out = []
    for item in json.load(sys.stdin):
        try:
            out.append({"matched": run(item["query"], item["events"])})
        except Exception as exc:  # noqa: BLE001 - reported per query
            out.append({"error": f"{type(exc).__name__}: {exc}".splitlines()[0]})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
