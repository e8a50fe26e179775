#!/usr/bin/env node
/* global process, console */
// The model-based delta test at its large size (docs/development.md): 3,000 histories of up to 30 steps,
// with a seed of the day unless FERRY_MODEL_SEED is set, printed so a failure can be replayed.
import { spawnSync } from 'node:child_process';

const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');
const env = {
  ...process.env,
  FERRY_MODEL_RUNS: process.env.FERRY_MODEL_RUNS ?? '3000',
  FERRY_MODEL_STEPS: process.env.FERRY_MODEL_STEPS ?? '30',
  FERRY_MODEL_SEED: process.env.FERRY_MODEL_SEED ?? today,
};
console.log(`model-based test: ${env.FERRY_MODEL_RUNS} histories, seed ${env.FERRY_MODEL_SEED}, backend ${env.FERRY_MODEL_BACKEND ?? 'sqlite'}`);
const result = spawnSync('npx', ['vitest', 'run', 'test/model/delta-model.test.ts'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
