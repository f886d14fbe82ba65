/** The toolkit's version, recorded in the files it writes. */
export const TOOL_VERSION = '0.1.0';
