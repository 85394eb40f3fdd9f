/**
 * The size of libuv's thread pool for a console process, unless the person
 * set UV_THREADPOOL_SIZE. Node's default is 4, and every fsync runs there: a
 * batch of imports (src/executor/import-batch.ts) stores 16 archives at a
 * time, and with 4 threads no more than 4 of their flushes were ever in
 * flight, though concurrent flushes share the file system's journal commits.
 * libuv reads the variable when the pool first starts, so this must run
 * before anything uses the pool; later it changes nothing.
 */
export const CONSOLE_THREAD_POOL = 16;

export function widenThreadPool(env: NodeJS.ProcessEnv): void {
  if (env.UV_THREADPOOL_SIZE === undefined || env.UV_THREADPOOL_SIZE === '') env.UV_THREADPOOL_SIZE = String(CONSOLE_THREAD_POOL);
}
