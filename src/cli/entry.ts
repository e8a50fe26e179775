// Runs the CLI from source: `node --import tsx src/cli/entry.ts <command>` (tests and development; the
// published bin/ferry.js runs the compiled dist/cli/main.js the same way).
import { main } from './main.js';

process.exitCode = await main(process.argv, undefined, { entry: true });
