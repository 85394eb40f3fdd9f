/** `node dist/bench/lib/seed-main.js 10000 100000 1000000`: seeds (and caches) our bench registries. */
import { seedTo } from './seed.js';

for (const n of process.argv.slice(2).map(Number)) await seedTo(n);
