/**
 * Error classes with messages a user can act on. Every error the toolkit raises on bad input is a
 * `PersonaError`; the CLI prints its message (no stack) and exits non-zero.
 */
export class PersonaError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A model file (safetensors, config, tokenizer) is missing, truncated or malformed. */
export class ModelFileError extends PersonaError {}

/** The model's `model_type` or a config feature is not supported. */
export class UnsupportedModelError extends PersonaError {}

/** Downloading from or resolving against the Hugging Face hub failed. */
export class HubError extends PersonaError {}

/** A persona file is malformed, or made for another model. */
export class PersonaFileError extends PersonaError {}

/** A caller passed an invalid option (alpha not a number, layer out of range, ...). */
export class InvalidArgumentError extends PersonaError {}

/** An output cannot be written where asked (a folder, FIFO, device or link; read-only, full, missing folder, busy). */
export class OutputFileError extends PersonaError {}
