/** The path of a usable wrk, installing Debian's package first (apt-get, as root) if it is missing. */
export function ensureWrk(log?: (message: string) => void): string;
