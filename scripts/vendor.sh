#!/usr/bin/env bash
# Vendor the browser libraries listed in static/vendor/package.json: npm installs the pinned
# versions, then each listed dist file is copied to static/vendor/<name>-<version>.js with the
# package's licence as static/vendor/<package>-<version>.LICENSE. The copies are committed, so a
# clone works offline; run this only to add or upgrade a library (edit package.json first).
set -euo pipefail
cd "$(dirname "$0")/../static/vendor"

npm install --no-audit --no-fund --ignore-scripts --no-package-lock --silent
node - <<'JS'
const fs = require("fs");
const path = require("path");
const manifest = JSON.parse(fs.readFileSync("package.json", "utf8"));
for (const [pkg, files] of Object.entries(manifest.vendor)) {
  const root = path.join("node_modules", pkg);
  const { version } = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  if (version !== manifest.dependencies[pkg]) throw new Error(`${pkg}: got ${version}, pinned ${manifest.dependencies[pkg]}`);
  for (const [source, name] of Object.entries(files)) {
    const target = `${name}-${version}.js`;
    fs.copyFileSync(path.join(root, source), target);
    console.log(`static/vendor/${target}`);
  }
  const licence = fs.readdirSync(root).find((f) => /^licen[cs]e/i.test(f));
  if (!licence) throw new Error(`${pkg} ships no licence file`);
  fs.copyFileSync(path.join(root, licence), `${pkg}-${version}.LICENSE`);
  console.log(`static/vendor/${pkg}-${version}.LICENSE`);
}
JS
