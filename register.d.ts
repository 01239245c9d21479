// Types of child-process-rs/register (register.js). Loading the module registers the hook.
import * as childProcess from "node:child_process";

/** Routes child_process (every way of loading it) to child-process-rs; returns the names routed. */
export function register(): string[];
/** Gives child_process back to Node. Returns false when nothing was registered. */
export function unregister(): boolean;
/** Whether the hook is active in this thread. */
export function isRegistered(): boolean;
/** Node's own child_process functions, whether or not the hook is active. */
export function originals(): typeof childProcess;
