'use strict';
// Kusto.Language (Microsoft's parser and semantic analyzer for KQL, built for JavaScript) run on
// one query against one table: its diagnostics and the columns of its result.

require('@kusto/language-service-next/bridge.min.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');

const Kusto = globalThis.Kusto.Language;
const { DatabaseSymbol, TableSymbol } = Kusto.Symbols;
const SCHEMAS = require('./schemas.js');

const globalsByTable = new Map();
function globalsFor(table) {
  if (!globalsByTable.has(table)) {
    if (!Object.prototype.hasOwnProperty.call(SCHEMAS, table)) throw new Error(`no schema for table ${table}`);
    const symbol = TableSymbol.From(SCHEMAS[table]).WithName(table);
    const db = new DatabaseSymbol.ctor('telemetry', [symbol]);
    globalsByTable.set(table, { globals: Kusto.GlobalState.Default.WithDatabase(db), symbol });
  }
  return globalsByTable.get(table);
}

// Names the analyzer makes up for a column the query did not name: `print 1` gives print_0,
// `project ingestion_time()` gives $IngestionTime, and similar.
const GENERATED = /^(print_\d+|Column_?\d+|\$.*)$/;

function lineAndColumn(text, position) {
  const before = text.slice(0, position).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

// Analyses `text` with `table` (a key of schemas.js) as the one table of the database.
// Returns { errors, warnings, columns, unnamed }: diagnostics as { severity, code, message,
// line, column }, the result's columns as { name, type }, and the result columns whose name
// nobody chose (neither written in the query nor a column of the table).
function analyze(text, table) {
  const { globals, symbol } = globalsFor(table);
  const code = Kusto.KustoCode.ParseAndAnalyze(text, globals);
  const diagnostics = Bridge.toArray(code.GetDiagnostics()).map((d) => ({
    severity: d.Severity,
    code: d.Code,
    message: d.Message,
    ...lineAndColumn(text, d.Start),
  }));
  const errors = diagnostics.filter((d) => d.severity === Kusto.DiagnosticSeverity.Error);
  const warnings = diagnostics.filter((d) => d.severity !== Kusto.DiagnosticSeverity.Error);

  const result = code.ResultType;
  if (!result || result.IsError || !result.Columns) {
    errors.push({ severity: 'Error', code: 'CHECK', message: 'the query has no tabular result', line: 1, column: 1 });
    return { errors, warnings, columns: [], unnamed: [] };
  }
  const columns = Bridge.toArray(result.Columns).map((c) => ({ name: c.Name, type: c.Type.Name }));
  // Every name the query's code spells out (comments are not tokens).
  const written = new Set(Bridge.toArray(code.GetLexicalTokens()).map((t) => t.Text));
  const tableColumns = new Set(Bridge.toArray(symbol.Columns).map((c) => c.Name));
  const unnamed = columns.filter(
    (c) => GENERATED.test(c.name) || !(written.has(c.name) || tableColumns.has(c.name)),
  );
  return { errors, warnings, columns, unnamed };
}

module.exports = { analyze, Kusto };
