#!/usr/bin/env node
// Removes the package's dist/ before tsc writes it again (tsc never deletes outputs whose sources
// are gone, so a renamed or deleted module would otherwise stay in dist and ship in the package).
import { rmSync } from 'node:fs';
import { join } from 'node:path';

rmSync(join(process.cwd(), 'dist'), { recursive: true, force: true });
