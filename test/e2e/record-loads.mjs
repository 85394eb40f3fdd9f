// node --import ./record-loads.mjs …: appends the URL of every module the
// program loads through the ESM loader (its own files, packages it imports,
// node: builtins) to the file named by MLMODEL_TEST_LOADS, one a line.
import { register } from 'node:module';

register('./record-loads-hooks.mjs', import.meta.url, { data: { file: process.env.MLMODEL_TEST_LOADS } });
