/** Arguments for `chromium.launch({ args })`: headless, sandbox off, nothing that reaches past loopback. */
export declare const CHROMIUM_ARGS: readonly string[];
