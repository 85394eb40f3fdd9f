/**
 * Resolves once a writable that reported itself full (`write()` returned
 * false) can take more, or has closed: a writer waits on a slow reader
 * instead of piling chunks up in memory, and a reader that went away never
 * leaves it waiting. Both listeners go when either fires.
 */
export function drainedOrClosed(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise<void>((resolve) => {
    const go = () => {
      stream.off('drain', go);
      stream.off('close', go);
      resolve();
    };
    stream.once('drain', go);
    stream.once('close', go);
  });
}
