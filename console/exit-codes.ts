/** Exit statuses of the `mlmodel` command (DESIGN §7); scripts rely on them. */
export const EXIT_OK = 0;
/** A query was valid but failed while running. */
export const EXIT_QUERY_FAILED = 1;
/** Bad flags, an unreadable input file, or a parse error. */
export const EXIT_USAGE = 2;
