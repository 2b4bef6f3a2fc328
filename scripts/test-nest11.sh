#!/usr/bin/env bash
# Nest 11 pass: the same tests against Nest 11 / @nestjs/schedule 6, the
# oldest majors in the library's peerDependencies.
#
#   npm run test:nest11 [-- <jest args>]
#
# 1. Builds the library with the locked toolchain (Nest 12 types), as it
#    is published.
# 2. Swaps Nest 11 into node_modules with `npm install --no-save`:
#    package.json and package-lock.json stay untouched.
# 3. Checks that only Nest 11 is installed, type-checks the library
#    source against the Nest 11 typings, runs the whole Jest suite and the
#    consumer smoke test (packed tarball, CJS and ESM hosts).
# 4. Restores node_modules to package-lock.json (Nest 12) with
#    `npm install`, even when a step fails or the run is interrupted, and
#    checks that the tree matches the lockfile again.
#    NEST11_NO_RESTORE=1 skips that, e.g. in a throwaway CI workspace.
#
# The swap changes this checkout's node_modules: no other test run may
# use the same checkout while this runs.
#
# Why --legacy-peer-deps: with a plain `npm install --no-save` npm 11
# fails with ERESOLVE. It checks each new Nest 11 package against the
# peers of the Nest 12 packages still in the tree (for example
# @nestjs/testing@12 peers @nestjs/core@^12), although they are being
# replaced in the same command. The lockfile has no peer-only packages
# ("peer": true), so skipping automatic peer installation removes
# nothing. The script verifies the resulting tree itself (step 3).
set -euo pipefail
cd "$(dirname "$0")/.."

NEST11_PACKAGES=(
  '@nestjs/common@^11'
  '@nestjs/core@^11'
  '@nestjs/testing@^11'
  '@nestjs/websockets@^11'
  '@nestjs/platform-socket.io@^11'
  '@nestjs/platform-express@^11'
  '@nestjs/schedule@^6'
)
NPM_QUIET=(--no-audit --no-fund)

log() { printf '\n==> %s\n' "$*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

[[ -d node_modules/@nestjs/core ]] || { echo "test:nest11: node_modules is missing; run npm ci first" >&2; exit 1; }

# Versions of the Nest packages in node_modules (every copy, nested ones too).
nest_versions() {
  node -e '
    const fs = require("fs"), path = require("path");
    const out = [];
    (function walk(dir, depth) {
      let names; try { names = fs.readdirSync(dir); } catch { return; }
      for (const n of names) {
        if (n === ".bin" || n.startsWith(".")) continue;
        const p = path.join(dir, n);
        if (n.startsWith("@")) { walk(p, depth); continue; }
        if (path.basename(dir) === "@nestjs" && fs.existsSync(path.join(p, "package.json")))
          out.push(`${path.relative(".", p)} ${require(path.resolve(p, "package.json")).version}`);
        if (depth < 4) walk(path.join(p, "node_modules"), depth + 1);
      }
    })("node_modules", 0);
    console.log(out.sort().join("\n"));'
}

# Every package of package-lock.json installed at its locked version.
check_tree_matches_lockfile() {
  node -e '
    const fs = require("fs");
    const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
    const bad = [];
    for (const [key, entry] of Object.entries(lock.packages)) {
      if (!key.startsWith("node_modules/") || entry.link) continue;
      let version;
      try { version = JSON.parse(fs.readFileSync(`${key}/package.json`, "utf8")).version; } catch {}
      if (version === undefined) { if (!entry.optional) bad.push(`${key}: missing`); }
      else if (version !== entry.version) bad.push(`${key}: ${version}, locked ${entry.version}`);
    }
    if (bad.length) { console.error(bad.join("\n")); process.exit(1); }'
  npm ls --all >/dev/null
}

restore() {
  local rc=$?
  trap - EXIT
  if [[ "${NEST11_NO_RESTORE:-}" == 1 ]]; then
    log "NEST11_NO_RESTORE=1: node_modules keeps Nest 11 (npm ci restores it)"
    exit "$rc"
  fi
  log "restoring node_modules to package-lock.json (Nest 12)"
  local t0; t0=$(now)
  if npm install "${NPM_QUIET[@]}" && check_tree_matches_lockfile; then
    echo "restored in $(elapsed "$t0"): @nestjs/core $(node -p 'require("@nestjs/core/package.json").version')"
  else
    echo "test:nest11: RESTORE FAILED: node_modules does not match package-lock.json; run \`npm ci\`" >&2
    exit 1
  fi
  exit "$rc"
}

started=$(now)
failures=()

log "building the library with the locked toolchain (as published)"
t0=$(now)
npm run build:lib
echo "build: $(elapsed "$t0")"

lock_sum=$(cksum package-lock.json package.json libs/pty-session/package.json)
trap restore EXIT
trap 'exit 130' INT TERM

log "swapping in Nest 11: npm install --no-save --legacy-peer-deps ${NEST11_PACKAGES[*]}"
t0=$(now)
npm install --no-save --legacy-peer-deps "${NPM_QUIET[@]}" "${NEST11_PACKAGES[@]}"
echo "swap: $(elapsed "$t0")"
[[ "$(cksum package-lock.json package.json libs/pty-session/package.json)" == "$lock_sum" ]] ||
  { echo "test:nest11: npm changed package.json or package-lock.json" >&2; exit 1; }

log "installed versions"
npm ls @nestjs/core @nestjs/schedule 2>/dev/null || true
echo "(npm ls calls them \"invalid\" against the ^12 ranges of package.json: expected while swapped)"
echo "require('@nestjs/core/package.json').version = $(node -p 'require("@nestjs/core/package.json").version')"
versions=$(nest_versions)
echo "$versions"
# Every copy of a swapped package must be on the Nest 11 line (@nestjs/schedule: 6).
wrong=$(awk '
  $1 ~ /@nestjs\/schedule$/ { if ($2 !~ /^6\./) print; next }
  $1 ~ /@nestjs\/(common|core|testing|websockets|platform-socket\.io|platform-express)$/ { if ($2 !~ /^11\./) print }
' <<<"$versions")
if [[ -n "$wrong" ]]; then
  echo "test:nest11: not a Nest 11 tree:" >&2
  echo "$wrong" >&2
  exit 1
fi

log "type-checking the library source against the Nest 11 typings"
t0=$(now)
if node node_modules/typescript/bin/tsc -p libs/pty-session/tsconfig.esm.json --noEmit; then
  echo "typecheck: ok ($(elapsed "$t0"))"
else
  failures+=("library typecheck against Nest 11")
fi

log "jest suite on Nest 11"
t0=$(now)
if npm run test:jest -- "$@"; then
  echo "jest: ok ($(elapsed "$t0"))"
else
  failures+=("jest suite")
fi

log "consumer smoke test on Nest 11"
t0=$(now)
if npm run test:consumer; then
  echo "consumer: ok ($(elapsed "$t0"))"
else
  failures+=("consumer smoke test")
fi

log "Nest 11 pass finished in $(elapsed "$started")"
if ((${#failures[@]})); then
  msg=$(printf '%s, ' "${failures[@]}")
  echo "test:nest11: FAILED on Nest 11: ${msg%, }" >&2
  exit 1
fi
echo "test:nest11: all passed on Nest 11"
