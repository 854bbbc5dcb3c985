#!/usr/bin/env node
// The compiled sources (`npm run build:server`, run by `npm ci`, `npm start` and `npm test`).
await import('../build/cli/main.js');
