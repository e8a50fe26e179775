#!/usr/bin/env node
// The published entry point: runs the compiled CLI (npm install runs `prepare`, which builds dist/).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv, undefined, { entry: true });
