/**
 * A fixed, mixed corpus of typical queries for benchmarks: the same 10,000
 * lines on every run (a seeded generator, no files), weighted the way a
 * console session looks — mostly list pipelines and summaries, some imports,
 * deploys and the rest.
 */
export const CORPUS_SIZE = 10_000;

function prng(seed: number): () => number {
  // mulberry32: tiny, fast, and the same everywhere.
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['mnist_v1', 'tf_clothes', 'multi_in_out', 'sklearn_test', 'churn_lr', '모델_분류', 'fraud-xgb', 'bert_base.v2'];
const TYPES = ['tf', 'sklearn', 'spark', 'r', 'onnx'];
const CATEGORIES = ['classification', 'regression', 'clustering'];
const FIELDS = ['id', 'user', 'name', 'type', 'category', 'algorithm', 'serving', 'create', 'modified'];

export function corpus(size = CORPUS_SIZE, seed = 20191119): string[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const lines: string[] = [];
  while (lines.length < size) {
    const r = rnd();
    if (r < 0.35) {
      const stages: string[] = [];
      if (rnd() < 0.8) {
        const c = [`type = ${pick(TYPES)}`];
        if (rnd() < 0.5) c.push(`category = ${pick(CATEGORIES)}`);
        if (rnd() < 0.3) c.push(`modified > 2019${String(Math.floor(rnd() * 12) + 1).padStart(2, '0')}00000000`);
        if (rnd() < 0.2) c.push(`name like '${pick(NAMES).slice(0, 3)}%'`);
        stages.push(`where ${c.join(rnd() < 0.8 ? ' and ' : ' or ')}`);
      }
      if (rnd() < 0.6) stages.push(`sort -${pick(['modified', 'create', 'id'])}${rnd() < 0.3 ? `, ${pick(FIELDS)}` : ''}`);
      if (rnd() < 0.3) stages.push(`fields ${pick(FIELDS)}, ${pick(FIELDS)}, ${pick(FIELDS)}`);
      if (rnd() < 0.7) stages.push(`head ${Math.floor(rnd() * 50) + 1}`);
      lines.push(['mlmodel list', ...stages].join(' | '));
    } else if (r < 0.55) {
      lines.push(`mlmodel summary ${pick(NAMES)}${rnd() < 0.4 ? ' id,name,type,serving,cdate' : ''}`);
    } else if (r < 0.65) {
      const name = pick(NAMES);
      lines.push(
        `mlmodel import name=${name} type=${pick(TYPES)} category=${pick(CATEGORIES)} algorithm=deep format=saved_model path=OBJECTSTORAGE.MIN_AI:USERS/root/${name}/model.tar`,
      );
    } else if (r < 0.75) {
      lines.push(`mlmodel deploy ${pick(NAMES)} label='${pick(['stable', 'unstable', 'canary run 2'])}'`);
    } else if (r < 0.82) {
      lines.push(`mlmodel export name=${pick(NAMES)} path=OBJECTSTORAGE.MIN_AI:USERS/root/export.tar`);
    } else if (r < 0.88) {
      lines.push(`serving status ${pick(NAMES)}`);
    } else if (r < 0.93) {
      lines.push(`mlmodel stop ${pick(NAMES)}`);
    } else if (r < 0.97) {
      lines.push(`mlmodel rename ${pick(NAMES)} as ${pick(NAMES)}_old`);
    } else {
      lines.push(`mlmodel delete ${pick(NAMES)}`);
    }
  }
  return lines;
}
