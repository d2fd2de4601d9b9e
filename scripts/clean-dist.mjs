// Before `npm run build`: start from an empty dist/, so a file whose source
// was removed or renamed (and its source map) never ends up in the package.
import { rmSync } from 'node:fs';

rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
