/** Everything stored for one model version lives under this prefix, keyed by its uid, never its name. */
export const objectPrefix = (uid: string) => `models/${uid}/`;
export const archiveKey = (uid: string) => `${objectPrefix(uid)}archive`;
export const manifestKey = (uid: string) => `${objectPrefix(uid)}manifest.json`;
/**
 * The deployments of version `uid` in the registry a bundle came from
 * (exchange/): history, kept beside the archive so a later bundle carries it
 * on, and removed with the version.
 */
export const servingHistoryKey = (uid: string) => `${objectPrefix(uid)}serving-history.json`;
