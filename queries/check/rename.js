#!/usr/bin/env node
'use strict';
// Rewrites a query for the `dependencies` table of an Application Insights resource into the
// `AppDependencies` form of a Log Analytics workspace (queries/README.md, "Where the envelopes
// land"). Only names in the query's code are renamed: comments, string literals and members
// after a dot (`customDimensions.name`) are left as they are.
//
//   node rename.js FILE...      prints each renamed file to stdout (no FILE: stdin)

const fs = require('node:fs');

// The README's rename table, in the same order.
const RENAMES = {
  dependencies: 'AppDependencies',
  timestamp: 'TimeGenerated',
  name: 'Name',
  success: 'Success',
  duration: 'DurationMs',
  customDimensions: 'Properties',
  itemCount: 'ItemCount',
  client_CountryOrRegion: 'ClientCountryOrRegion',
};

// A comment, a string literal (plain, verbatim @"..", or a ``` block), a range `..`, a dot, or a
// name: comments and literals are skipped whole, and a name right after a single dot is a member.
const TOKEN = /\/\/[^\n]*|```[\s\S]*?```|@?"(?:[^"\\\n]|\\.)*"|@?'(?:[^'\\\n]|\\.)*'|\.\.|\.|[A-Za-z_][A-Za-z0-9_]*/g;

function toAppDependencies(text) {
  let afterDot = false;
  return text.replace(TOKEN, (token) => {
    if (token.startsWith('//')) return token; // a comment neither is nor ends a member access
    const member = afterDot;
    afterDot = token === '.';
    if (member || !Object.prototype.hasOwnProperty.call(RENAMES, token)) return token;
    return RENAMES[token];
  });
}

module.exports = { RENAMES, toAppDependencies };

if (require.main === module) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stdout.write(toAppDependencies(fs.readFileSync(0, 'utf8')));
  } else {
    for (const file of files) process.stdout.write(toAppDependencies(fs.readFileSync(file, 'utf8')));
  }
}
