'use strict';
// The check's own tests: it passes on queries/, and fails on queries broken on purpose
// (test/fixtures/, outside queries/ so the real check never sees them).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const { checkQuery, kqlFiles } = require('../check.js');
const { RENAMES, toAppDependencies } = require('../rename.js');

const CHECK = path.join(__dirname, '..', 'check.js');
const QUERIES = path.join(__dirname, '..', '..');
const fixture = (name) => path.join(__dirname, 'fixtures', name);
const read = (file) => fs.readFileSync(file, 'utf8');
// The failures (not warnings) of one query, as "message" strings.
const failures = (file) => checkQuery(read(file)).filter((p) => !p.warning).map((p) => p.message);

function runCheck(...args) {
  return spawnSync(process.execPath, [CHECK, ...args], { encoding: 'utf8' });
}

test('every query in queries/ passes in both forms', () => {
  const files = kqlFiles([QUERIES]);
  assert.ok(files.length >= 24, `only ${files.length} queries found`);
  for (const file of files) assert.deepEqual(failures(file), [], path.basename(file));
  const run = runCheck();
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, new RegExp(`^kql check: ${files.length} passed, 0 failed$`, 'm'));
});

test('a syntax error fails, in both forms', () => {
  const found = failures(fixture('syntax-error.kql'));
  assert.ok(found.some((m) => /^KS006: Missing expression \[dependencies\]$/.test(m)), found.join('\n'));
  assert.ok(found.some((m) => /^KS005: .*\[AppDependencies\]$/.test(m)), found.join('\n'));
  const run = runCheck(fixture('syntax-error.kql'));
  assert.equal(run.status, 1);
  assert.match(run.stdout, /syntax-error\.kql:3:8: KS006/);
  assert.match(run.stdout, /^kql check: 0 passed, 1 failed$/m);
});

test('an unknown column fails, in both forms', () => {
  const found = failures(fixture('unknown-column.kql'));
  for (const table of ['dependencies', 'AppDependencies']) {
    assert.ok(found.includes(`KS142: The name 'durationMs' does not refer to any known column, table, variable or function. [${table}]`), found.join('\n'));
  }
  assert.equal(runCheck(fixture('unknown-column.kql')).status, 1);
});

test('a column the rename does not cover fails in the AppDependencies form only', () => {
  const found = failures(fixture('column-not-renamed.kql'));
  assert.deepEqual(found, [
    "KS142: The name 'operation_Id' does not refer to any known column, table, variable or function. [AppDependencies]",
  ]);
});

test('an unnamed result column fails', () => {
  assert.ok(failures(fixture('unnamed-column.kql')).some((m) => m.startsWith("unnamed result column 'count_' (long)")));
  assert.ok(failures(fixture('unnamed-print.kql')).some((m) => m.startsWith("unnamed result column 'print_1' (long)")));
});

test('one bad file among good ones fails the run, and the good ones still pass', () => {
  const run = runCheck(path.join(QUERIES, '03-sdk-generation-success-latency.kql'), fixture('unknown-column.kql'));
  assert.equal(run.status, 1);
  assert.match(run.stdout, /^ok {4}.*03-sdk-generation-success-latency\.kql$/m);
  assert.match(run.stdout, /^kql check: 1 passed, 1 failed$/m);
});

test('rename: names in code, not in comments, strings or members', () => {
  const before = [
    '// the dependencies table: name, duration',
    'dependencies',
    '| where timestamp between (ago(1d) .. timestamp) and name == "name"',
    "| extend n = customDimensions.name, t = customDimensions . timestamp, s = 'success'",
    '| summarize Calls = sum(itemCount), Ms = avg(duration) by success, client_CountryOrRegion',
  ].join('\n');
  const after = [
    '// the dependencies table: name, duration',
    'AppDependencies',
    '| where TimeGenerated between (ago(1d) .. TimeGenerated) and Name == "name"',
    "| extend n = Properties.name, t = Properties . timestamp, s = 'success'",
    '| summarize Calls = sum(ItemCount), Ms = avg(DurationMs) by Success, ClientCountryOrRegion',
  ].join('\n');
  assert.equal(toAppDependencies(before), after);
});

test('rename: the command prints the renamed files', () => {
  const file = path.join(QUERIES, '20-geography.kql');
  const run = spawnSync(process.execPath, [path.join(__dirname, '..', 'rename.js'), file], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, toAppDependencies(read(file)));
  assert.match(run.stdout, /^AppDependencies$/m);
  assert.match(run.stdout, /ClientCountryOrRegion/);
});

test("rename: the same table as queries/README.md's", () => {
  const readme = read(path.join(QUERIES, 'README.md'));
  const rows = [...readme.matchAll(/^\| `(\w+)` (?:\(used here\) )?\| `(\w+)` \|$/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(rows, Object.entries(RENAMES));
});
