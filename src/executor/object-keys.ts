/** Everything stored for one model version lives under this prefix, keyed by its uid, never its name. */
export const objectPrefix = (uid: string) => `models/${uid}/`;
export const archiveKey = (uid: string) => `${objectPrefix(uid)}archive`;
export const manifestKey = (uid: string) => `${objectPrefix(uid)}manifest.json`;
