// `--name value` flags for the peer servers, with defaults.
'use strict';
exports.flag = (name, def) => {
  const i = process.argv.indexOf('--' + name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
};
