#!/bin/sh
# Compiles src/ into build/ when build/ is missing or older than a source file, so that
# `npm start`, `npm run worker` and the bench never run stale code; when it is fresh this costs
# one `find`. `npm ci` and `npm test` build unconditionally.
[ -e build/main.js ] &&
  [ -z "$(find src -path src/console -prune -o -newer build/main.js -print -quit)" ] ||
  exec npm run build:server --silent
