// Loads the addon. Exports { addon } when it was built, else { error } saying why not.
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

function buildReason() {
  try {
    const s = JSON.parse(readFileSync(join(__dirname, 'build-status.json'), 'utf8'));
    return s.ok ? null : s.reason;
  } catch {
    return null;
  }
}

try {
  module.exports = { addon: require('./build/Release/contrastive_native.node'), error: null };
} catch (e) {
  const why = buildReason() ?? `the addon failed to load: ${String(e.message).split('\n')[0]}`;
  module.exports = { addon: null, error: why };
}
