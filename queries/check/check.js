#!/usr/bin/env node
'use strict';
// Checks Kusto queries with Kusto.Language: each one as written against the `dependencies`
// schema, and after rename.js against the `AppDependencies` schema. A query fails on any error
// diagnostic (syntax, unknown column, table or function, wrong types) and on any result column
// it did not name (`print_2`, `count_`, `sum_itemCount`, ...).
//
//   node check.js [FILE_OR_DIR...]     default: every .kql file in queries/
// Exit code 0 when every query passes, 1 otherwise.

const fs = require('node:fs');
const path = require('node:path');
const { analyze } = require('./kql.js');
const { toAppDependencies } = require('./rename.js');

const FORMS = [
  { table: 'dependencies', rewrite: (text) => text },
  { table: 'AppDependencies', rewrite: toAppDependencies },
];

// Every problem of one query, in both forms, as { at, message, warning }: `at` is "line:column"
// (in the text as checked; the rename keeps lines) or "" for the result as a whole. Warnings and
// suggestions are shown but do not fail the query.
function checkQuery(text) {
  const problems = [];
  for (const form of FORMS) {
    const { errors, warnings, unnamed } = analyze(form.rewrite(text), form.table);
    for (const w of warnings) {
      problems.push({ at: `${w.line}:${w.column}`, message: `${w.severity.toLowerCase()} ${w.code}: ${w.message} [${form.table}]`, warning: true });
    }
    for (const e of errors) {
      problems.push({ at: `${e.line}:${e.column}`, message: `${e.code}: ${e.message} [${form.table}]` });
    }
    for (const c of unnamed) {
      problems.push({
        at: '',
        message: `unnamed result column '${c.name}' (${c.type}): give it a name (\`Name = expression\`) [${form.table}]`,
      });
    }
  }
  return problems;
}

function kqlFiles(args) {
  const targets = args.length > 0 ? args : [path.join(__dirname, '..')];
  const files = [];
  for (const target of targets) {
    if (fs.statSync(target).isDirectory()) {
      for (const entry of fs.readdirSync(target).sort()) {
        if (entry.endsWith('.kql')) files.push(path.join(target, entry));
      }
    } else {
      files.push(target);
    }
  }
  return files;
}

function main(args) {
  const files = kqlFiles(args);
  if (files.length === 0) {
    console.error('check: no .kql file found');
    return 1;
  }
  let failed = 0;
  for (const file of files) {
    const all = checkQuery(fs.readFileSync(file, 'utf8'));
    const problems = all.filter((p) => !p.warning);
    const relative = path.relative(process.cwd(), file);
    const shown = relative.startsWith(`..${path.sep}..`) ? path.resolve(file) : relative;
    if (problems.length === 0) {
      console.log(`ok    ${shown}`);
    } else {
      failed += 1;
      console.log(`FAIL  ${shown}`);
    }
    for (const p of all) console.log(`  ${shown}:${p.at ? `${p.at}:` : ''} ${p.message}`);
  }
  console.log(`kql check: ${files.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

module.exports = { checkQuery, kqlFiles };

if (require.main === module) process.exitCode = main(process.argv.slice(2));
