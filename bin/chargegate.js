#!/usr/bin/env node
import { register } from 'tsx/esm/api';

// The sources are TypeScript run as they are; tsx compiles each module as it is loaded.
register();
await import('../src/cli/main.ts');
