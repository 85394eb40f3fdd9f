import { writeFileSync } from 'node:fs';
import { renderCstDts } from '../grammar/cst-dts.js';
import { language } from '../src/language.js';

/** Regenerates grammar/cst.d.ts from the parser's grammar (`npm run gen:cst`). */
writeFileSync(new URL('../../grammar/cst.d.ts', import.meta.url), renderCstDts(language.parser));
