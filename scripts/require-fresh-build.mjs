// Loaded by `npm run start:prod` before dist/main.js: refuses to run a missing or stale build.
import { staleBuild } from './build.mjs';

const problem = staleBuild();
if (problem) {
  console.error(`[customer-gateway] cannot start: ${problem}; run npm run build first`);
  process.exit(1);
}
