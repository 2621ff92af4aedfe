// Check KQL with Microsoft's own parser and analyzer (Kusto.Language, the
// engine of Azure Data Explorer / Sentinel editors, via the npm bridge).
//
// stdin: JSON lines {"id": ..., "query": "..."}; stdout: one JSON line per
// query {"id", "diagnostics": [{code, severity, message, start, length}]}.
// Tables and ASIM parsers are declared from the schema file given as the
// first argument (siemc's src/mapping/data/kusto-schema.json), so unknown
// columns (KS142), tables (KS204), functions and type errors are reported.
"use strict";
// Bridge.NET runtime first: it defines the globals the Kusto bundle uses.
require("@kusto/language-service-next/bridge.js");
require("@kusto/language-service-next/Kusto.Language.Bridge.js");
const fs = require("fs");
const readline = require("readline");

const K = Kusto.Language;
const S = K.Symbols;
const schemaPath = process.argv[2];
const schema = JSON.parse(fs.readFileSync(schemaPath, "utf8"));

const q = (name) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `['${name}']`);
const cols = (columns) =>
  Object.entries(columns)
    .map(([n, t]) => `${q(n)}:${t}`)
    .join(", ");

const members = [];
for (const [name, columns] of Object.entries(schema.tables)) {
  members.push(new S.TableSymbol.$ctor7(name, `(${cols(columns)})`, null));
}
for (const [name, f] of Object.entries(schema.functions)) {
  const body = `{ datatable(${cols(f.columns)})[] }`;
  members.push(new S.FunctionSymbol.$ctor16(name, f.params || "()", body, null));
}
const db = new S.DatabaseSymbol.$ctor2("siemc", null, members);
const globals = K.GlobalState.Default.WithDatabase(db);

function check(text) {
  const code = K.KustoCode.ParseAndAnalyze(text, globals);
  const diags = code.GetDiagnostics();
  const out = [];
  for (let i = 0; i < diags.Count; i++) {
    const d = diags.getItem(i);
    out.push({
      code: d.Code,
      severity: d.Severity,
      message: d.Message,
      start: d.Start,
      length: d.Length,
    });
  }
  return out;
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  if (!line.trim()) return;
  let item;
  try {
    item = JSON.parse(line);
  } catch (e) {
    process.stdout.write(JSON.stringify({ id: null, error: String(e) }) + "\n");
    return;
  }
  let diagnostics;
  try {
    diagnostics = check(item.query);
  } catch (e) {
    diagnostics = [{ code: "CHECKER", severity: "Error", message: String(e), start: 0, length: 0 }];
  }
  process.stdout.write(JSON.stringify({ id: item.id, diagnostics }) + "\n");
});
