import { PersonaFileError } from '../../../errors.js';

/**
 * A `.pt` file could not be read safely: not a PyTorch zip archive, damaged, or its pickle asks
 * for something other than plain tensors (an opcode or a global outside the allow-list).
 *
 * @example try { await readTorchPt(f); } catch (e) { if (e instanceof TorchPtError) console.error(e.message); }
 */
export class TorchPtError extends PersonaFileError {}
